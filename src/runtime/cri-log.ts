// The container's log in the CRI format, written by the CLI for a container it runs in the
// foreground (a detached one's shim writes the same format: native/src/shim.c). One line per
// line of output: `2026-12-03T23:06:07.123456789Z stdout F text`, with P for a partial line (a
// line longer than the buffer, or the last one before end of file without a newline).
// `cutLines` is pure; `ForegroundLog` is the thin side-effecting edge around it.
import { closeSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';

/** The shim's buffer: a longer line is logged in P pieces of this size. */
export const MAX_LINE = 16384;

export interface Cut {
  /** [text, tag] per line to log: F for a full line, P for a partial one. */
  lines: Array<[string, 'F' | 'P']>;
  /** What is kept for the next chunk (a line not yet ended). */
  rest: Buffer;
}

/** Splits what arrived after `pending` into log lines, as the shim's pump does: a trailing \r is
 *  dropped (a pty turns \n into \r\n), a line that reaches MAX_LINE goes out as P, and `flush`
 *  (end of file) sends what is left as P. */
export function cutLines(pending: Buffer, chunk: Buffer, flush: boolean): Cut {
  const buf = pending.length ? Buffer.concat([pending, chunk]) : chunk;
  const lines: Array<[string, 'F' | 'P']> = [];
  let start = 0;
  for (;;) {
    const nl = buf.indexOf(10, start);
    if (nl >= 0 && nl - start < MAX_LINE) {
      const end = nl > start && buf[nl - 1] === 13 ? nl - 1 : nl;
      lines.push([buf.toString('utf8', start, end), 'F']);
      start = nl + 1;
    } else if (buf.length - start >= MAX_LINE) {
      lines.push([buf.toString('utf8', start, start + MAX_LINE), 'P']);
      start += MAX_LINE;
    } else {
      break;
    }
  }
  if (flush && start < buf.length) {
    lines.push([buf.toString('utf8', start), 'P']);
    start = buf.length;
  }
  return { lines, rest: Buffer.from(buf.subarray(start)) };
}

/** The CRI time stamp: RFC 3339 in UTC with nine fractional digits (ours carry milliseconds). */
export function criTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000000Z');
}

export function criLine(time: string, stream: 'stdout' | 'stderr', text: string, tag: 'F' | 'P'): string {
  return `${time} ${stream} ${tag} ${text}\n`;
}

/** Writes all of `buf` to `fd`, waiting out EAGAIN (a non-blocking terminal or pipe that is full). */
export function writeAll(fd: number, buf: Buffer): void {
  let off = 0;
  while (off < buf.length) {
    try {
      off += writeSync(fd, buf, off);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EAGAIN') { Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 2); continue; }
      if (code === 'EPIPE') return; // the reader went away: the log still gets the output
      throw err;
    }
  }
}

/** The log of one foreground run: appended to DIR/container.log, as a detached run's shim does. */
export class ForegroundLog {
  private fd: number;
  private pending: Record<'stdout' | 'stderr', Buffer> = { stdout: Buffer.alloc(0), stderr: Buffer.alloc(0) };

  constructor(dir: string) {
    this.fd = openSync(join(dir, 'container.log'), 'a', 0o600);
  }

  /** Logs a chunk of output; `flush` at the stream's end. */
  write(stream: 'stdout' | 'stderr', chunk: Buffer, flush = false): void {
    const { lines, rest } = cutLines(this.pending[stream], chunk, flush);
    this.pending[stream] = rest;
    if (!lines.length) return;
    const t = criTime(Date.now());
    // One write for all the lines (O_APPEND): a reader never sees half of one.
    const text = lines.map(([l, tag]) => criLine(t, stream, l, tag)).join('');
    try {
      writeAll(this.fd, Buffer.from(text));
    } catch {
      // A full disk loses log lines, not the container's output.
    }
  }

  close(): void {
    this.write('stdout', Buffer.alloc(0), true);
    this.write('stderr', Buffer.alloc(0), true);
    closeSync(this.fd);
  }
}
