// OCI hooks run by the runtime's own process (config.md "POSIX-platform Hooks"): prestart and
// createRuntime in `create`, poststart in `start`, poststop in `delete`. createContainer and
// startContainer run inside the container, from the native child (container.c); what they need
// is put into the child plan (plan.ts, the hook keys of plan.c). Each hook gets the container's state JSON on
// stdin, its own argv and environment, and is killed when it runs past its timeout.
// describeHookFailure and runHookList are pure (runHookList over an injected runner); runHook is
// the one edge that spawns.
import { childProcess } from '../core/lazy.js';
import { MinidockError } from '../core/errors.js';
import type { HookName, OciHook } from './config.js';

/** How one hook run ended; undefined fields did not happen. */
export interface HookOutcome {
  /** Exit status, when it exited. */
  status?: number;
  /** The signal that ended it (SIGKILL after a timeout). */
  signal?: string;
  /** It ran past hook.timeout seconds and was killed. */
  timedOut?: boolean;
  /** It never ran: spawn failed (ENOENT, EACCES...). */
  spawnError?: string;
  /** What it wrote, each cut to its last 4 KiB: runc puts both in its error. */
  stdout: string;
  stderr: string;
}

export type HookRunner = (hook: OciHook, stdin: string) => Promise<HookOutcome>;

const ok = (o: HookOutcome): boolean => o.status === 0 && !o.timedOut && !o.spawnError;

/** Pure: "error running createRuntime hook #1 (/usr/bin/x): exit status 3, stderr: ..." (runc's
 *  wording, with the path, which runc leaves out). */
export function describeHookFailure(kind: HookName | string, index: number, hook: OciHook, o: HookOutcome): string {
  let why: string;
  if (o.spawnError) why = `cannot run it: ${o.spawnError}`;
  else if (o.timedOut) why = `it ran past its timeout of ${hook.timeout} s and was killed`;
  else if (o.signal) why = `killed by ${o.signal}`;
  else why = `exit status ${o.status}`;
  const out = [o.stdout.trim() && `stdout: ${o.stdout.trim()}`, o.stderr.trim() && `stderr: ${o.stderr.trim()}`].filter(Boolean).join(', ');
  return `error running ${kind} hook #${index} (${hook.path}): ${why}${out ? `, ${out}` : ''}`;
}

/** The error a failed create-phase hook makes: its step names the kind (oci.hook.prestart). */
export function hookError(kind: HookName, index: number, hook: OciHook, o: HookOutcome): MinidockError {
  return new MinidockError(describeHookFailure(kind, index, hook, o), { step: `oci.hook.${kind}`, exitCode: 1 });
}

/**
 * Runs `hooks` in order with `state` on stdin. A failure either stops the list with an error
 * (`onFail` absent: prestart, createRuntime, which must fail the operation), or is handed to
 * `onFail` and the next hook runs (poststart and poststop: runtime.md up to 1.2.1 says "log a
 * warning, the remaining hooks and lifecycle continue as if the hook had succeeded").
 */
export async function runHookList(kind: HookName, hooks: readonly OciHook[] | undefined, state: string,
  run: HookRunner = runHook, onFail?: (message: string) => void): Promise<void> {
  for (const [i, h] of (hooks ?? []).entries()) {
    const o = await run(h, state);
    if (ok(o)) continue;
    if (!onFail) throw hookError(kind, i, h, o);
    onFail(describeHookFailure(kind, i, h, o));
  }
}

const TAIL = 4096;
const tail = (s: string): string => (s.length > TAIL ? s.slice(-TAIL) : s);

/** Spawns one hook: path executed directly (no $PATH search: it is absolute), args[0] as its
 *  argv[0] (the path when args is empty), env as given or, when the config gives none, the
 *  runtime's own (what runc's Go exec.Cmd does with a nil Env). */
export function runHook(hook: OciHook, stdin: string): Promise<HookOutcome> {
  return new Promise((done) => {
    const [argv0, ...rest] = hook.args.length ? hook.args : [hook.path];
    const env = hook.env ? Object.fromEntries(hook.env.map((e) => { const i = e.indexOf('='); return i < 0 ? [e, ''] : [e.slice(0, i), e.slice(i + 1)]; })) : process.env;
    // A process group of its own, so that a timeout ends what the hook started too.
    const child = childProcess().spawn(hook.path, rest, { argv0, env, stdio: ['pipe', 'pipe', 'pipe'], detached: true });
    const o: HookOutcome = { stdout: '', stderr: '' };
    child.stdout.setEncoding('utf8').on('data', (d: string) => (o.stdout = tail(o.stdout + d)));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (o.stderr = tail(o.stderr + d)));
    // A hook that never reads its stdin closes the pipe under us: EPIPE is not its failure
    // (Go's exec ignores it the same way).
    child.stdin.on('error', () => {});
    child.stdin.end(stdin);
    const timer = hook.timeout
      ? setTimeout(() => {
        o.timedOut = true;
        try {
          process.kill(-child.pid!, 'SIGKILL');
        } catch {
          child.kill('SIGKILL'); // the group is gone: the hook alone, if it is still there
        }
      }, hook.timeout * 1000)
      : undefined;
    let settled = false;
    const finish = (): void => {
      if (settled) return;
      settled = true;
      if (timer) clearTimeout(timer);
      child.stdout.destroy();
      child.stderr.destroy();
      done(o);
    };
    // A spawn that fails emits 'error' and, depending on when it failed, maybe no 'close'.
    child.on('error', (err) => { o.spawnError = (err as NodeJS.ErrnoException).code ?? err.message; finish(); });
    // Its exit ends the hook, not the end of its output: a daemon it started may keep the pipes
    // open for good (a network hook's, say). What is still in them is read for 50 ms more.
    child.on('exit', (code, signal) => {
      if (code !== null) o.status = code;
      if (signal) o.signal = signal;
      setTimeout(finish, 50);
    });
    child.on('close', finish);
  });
}
