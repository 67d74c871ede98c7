// Crash-safe file writes: a reader sees the old complete file or the new complete file, never
// half of one. Side-effecting (fs).
import { closeSync, fsyncSync, openSync, renameSync, writeSync, unlinkSync } from 'node:fs';
import { dirname, basename, join } from 'node:path';

/** Writes `data` to a temporary name beside `path`, fsyncs it, renames it over `path`, and fsyncs
 *  the directory so the rename itself survives a power cut (rename(2) is atomic, not durable). */
export function writeFileAtomic(path: string, data: string | Buffer, mode = 0o600): void {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  const fd = openSync(tmp, 'w', mode);
  try {
    writeSync(fd, typeof data === 'string' ? Buffer.from(data) : data);
    fsyncSync(fd);
  } catch (err) {
    closeSync(fd);
    try { unlinkSync(tmp); } catch { /* already gone */ }
    throw err;
  }
  closeSync(fd);
  renameSync(tmp, path);
  const dir = openSync(dirname(path), 'r');
  try { fsyncSync(dir); } finally { closeSync(dir); }
}

/** Creates `path` holding `data`, failing with EEXIST if it exists: O_EXCL makes a name, lease
 *  or reservation file a race-free claim between concurrent minidock processes. */
export function createExclusive(path: string, data: string): void {
  const fd = openSync(path, 'wx', 0o600);
  try {
    writeSync(fd, data);
  } finally {
    closeSync(fd);
  }
}
