// Detached containers: `run -d` hands the container to minidock-shim (native/src/shim.c), a
// small C process that stays as its parent, owns its log and records its exit. The CLI talks
// to the shim over two pipes while it creates the child, then leaves. Side-effecting.
import { selfCommand } from '../core/self.js';
import { closeSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { getSystemErrorMap } from 'node:util';
import { join } from 'node:path';
import { MinidockError } from '../core/errors.js';
import { native, shimPath, type ChildFailure } from '../native/binding.js';

/** What the shim wrote when PID 1 exited (DIR/exit.json). */
export interface ExitRecord {
  exitCode: number;
  signal: number | null;
  finishedAt: number;
}

export function readExitRecord(dir: string): ExitRecord | undefined {
  try {
    return JSON.parse(readFileSync(join(dir, 'exit.json'), 'utf8')) as ExitRecord;
  } catch {
    return undefined;
  }
}

export interface ShimSession {
  /** The container's PID 1 (in our PID namespace). */
  pid: number;
  shimPid: number;
  /** Lets the child run; resolves null once it exec'd, or with its failure report. */
  go(): Promise<ChildFailure | null>;
  /** Kills the shim, then PID 1 through its pidfd, and resolves once PID 1 (with everything in
   *  its PID namespace) is gone: a rollback may then release its cgroups and network. */
  abort(): Promise<void>;
  /** The CLI is done: the shim goes on alone. */
  release(): void;
}

function failureFrom(line: string): ChildFailure {
  // "fail STEP ERRNO DETAIL"
  const [, step = 'shim', errnoText = '0', ...rest] = line.split(' ');
  const errno = Number(errnoText);
  const [code, message] = errno ? getSystemErrorMap().get(-errno) ?? ['', ''] : ['', ''];
  return { step, errno, code, message, detail: rest.join(' ') };
}

/**
 * Starts the shim on DIR/plan.bin and waits for the child's pid. The exit command is what the
 * shim runs when PID 1 exits: `minidock cleanup ID`, with this same node and CLI script.
 */
export async function startShim(dir: string, plan: Buffer, id: string): Promise<ShimSession> {
  const { spawn } = createRequire(import.meta.url)('node:child_process') as typeof import('node:child_process');
  writeFileSync(join(dir, 'plan.bin'), plan, { mode: 0o600 });
  // The shim's own complaints (it has no terminal) go to a file beside the container's log.
  const errFd = openSync(join(dir, 'shim.log'), 'a', 0o600);
  const shim = spawn(shimPath(), ['run', dir, '--', ...selfCommand(), 'cleanup', id], {
    detached: true, // its own session: a Ctrl-C for the CLI is not for the shim
    stdio: ['ignore', 'ignore', errFd, 'pipe', 'pipe'],
    env: { ...process.env, MINIDOCK_TRACE: '' },
  });
  closeSync(errFd);
  const fromShim = shim.stdio[3] as NodeJS.ReadableStream;
  const toShim = shim.stdio[4] as NodeJS.WritableStream;
  let buf = '';
  const waiters: Array<(line: string) => void> = [];
  const lines: string[] = [];
  fromShim.on('data', (d: Buffer) => {
    buf += d.toString();
    let nl;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      const w = waiters.shift();
      if (w) w(line); else lines.push(line);
    }
  });
  const closed = new Promise<void>((r) => fromShim.on('end', () => r()));
  const next = (): Promise<string> =>
    lines.length ? Promise.resolve(lines.shift()!) : Promise.race([new Promise<string>((r) => waiters.push(r)), closed.then(() => 'fail shim.exited 0 the shim exited')]);

  const first = await next();
  if (!first.startsWith('pid ')) {
    shim.kill('SIGKILL');
    const f = failureFrom(first);
    throw new MinidockError(`container setup failed at ${f.step}${f.detail ? ` ${f.detail}` : ''}: ${f.message || 'error'}`, { step: f.step, errno: f.code });
  }
  const pid = Number(first.slice(4));
  // Opened now, while the pid is certainly the child: the shim reaps it only after "go" (or when
  // we die), so it cannot have been recycled yet. A rollback kills PID 1 through it.
  const api = native();
  let pidfd = api.pidfdOpen(pid);
  const closePidfd = (): void => {
    if (pidfd !== null) closeSync(pidfd);
    pidfd = null;
  };
  return {
    pid,
    shimPid: shim.pid!,
    async go() {
      toShim.write('go\n');
      const answer = await next();
      return answer === 'ok' ? null : failureFrom(answer);
    },
    async abort() {
      // The shim first: dead, it cannot reap PID 1 and start `minidock cleanup` behind the
      // rollback's back. Then PID 1 itself, whatever it did to its parent-death signal (a
      // started command is past the child's last PR_SET_PDEATHSIG, and may have changed its ids).
      shim.kill('SIGKILL');
      if (pidfd === null) return;
      try {
        api.signal(pidfd, 9);
        if (!(await api.pidfdWait(pidfd, 10_000))) {
          throw new MinidockError(`container process ${pid} did not exit after SIGKILL`, { step: 'run.rollback.kill' });
        }
      } finally {
        closePidfd();
      }
    },
    release() {
      closePidfd();
      (fromShim as unknown as { destroy(): void }).destroy();
      (toShim as unknown as { destroy(): void }).destroy();
      shim.unref();
    },
  };
}
