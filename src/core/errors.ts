// Typed errors that name the failing step, and docker's exit codes. Pure.
//
// Every error the user can see is a MinidockError: `step` names where it happened
// (`child.pivot_root`, `image.import`), `errno` carries the kernel's code when a syscall
// failed, `hint` is the one thing the user can do about it. Outer layers wrap with
// `cause` so the message reads `outer: inner: innermost`.

/** docker's exit codes for failures that are not the container command's own. */
export const EXIT = {
  /** minidock itself failed before the command ran (bad flag, missing image, setup error). */
  RUNTIME: 125,
  /** the command exists but cannot be invoked (permission denied, not executable). */
  CANNOT_INVOKE: 126,
  /** the command was not found. */
  NOT_FOUND: 127,
} as const;

export interface ErrorDetails {
  step?: string;
  errno?: string;
  hint?: string;
  exitCode?: number;
  cause?: unknown;
}

export class MinidockError extends Error {
  readonly step: string | undefined;
  readonly errno: string | undefined;
  readonly hint: string | undefined;
  readonly exitCode: number;

  constructor(message: string, details: ErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'MinidockError';
    this.step = details.step;
    this.errno = details.errno;
    this.hint = details.hint;
    this.exitCode = details.exitCode ?? EXIT.RUNTIME;
  }
}

/** The same error with another exit code: a failure of `import` or `pull` (docker's 1) met on
 *  the way of `run` is run's (125). Other errors pass unchanged. */
export function withExitCode(err: unknown, exitCode: number): unknown {
  if (!(err instanceof MinidockError) || err.exitCode === exitCode) return err;
  return new MinidockError(err.message, { step: err.step, ...(err.errno ? { errno: err.errno } : {}), ...(err.hint ? { hint: err.hint } : {}), cause: err, exitCode });
}

/** A bad flag value or argument: always exit 125, never anything created. */
export function usageError(message: string, hint?: string): MinidockError {
  return new MinidockError(message, { step: 'cli.args', hint, exitCode: EXIT.RUNTIME });
}

/** A flag's value that does not parse as its type (`-n x`, `-t x`, `--rm=maybe`): docker's flag
 *  errors, which exit 125 in every command. */
export function flagError(message: string, hint?: string): MinidockError {
  return new MinidockError(message, { step: 'cli.flag', hint, exitCode: EXIT.RUNTIME });
}

/**
 * docker's exit status for a failure of `command`: run and create (whose failures come before
 * the container's command runs) keep 125; every other command uses 125 only for flag errors
 * and 1 for everything else (a missing container, a bad filter, a validation error).
 */
export function exitStatusFor(command: string | undefined, err: unknown): number {
  const code = err instanceof MinidockError ? err.exitCode : EXIT.RUNTIME;
  if (code !== EXIT.RUNTIME || command === 'run' || command === 'create') return code;
  return err instanceof MinidockError && err.step === 'cli.flag' ? EXIT.RUNTIME : 1;
}

/** Wraps a lower-level error with context, keeping its errno, hint and exit code. */
export function wrapError(message: string, cause: unknown, step?: string): MinidockError {
  const inner = cause instanceof MinidockError ? cause : undefined;
  return new MinidockError(`${message}: ${describeError(cause)}`, {
    step: step ?? inner?.step,
    errno: inner?.errno ?? errnoOf(cause),
    hint: inner?.hint,
    exitCode: inner?.exitCode ?? EXIT.RUNTIME,
    cause,
  });
}

/** The errno name of a Node system error (`ENOENT`), if it is one. */
export function errnoOf(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^E[A-Z0-9]+$/.test(code) ? code : undefined;
}

/** One line for the user: the message, and the hint in parentheses when there is one. */
export function describeError(err: unknown): string {
  if (err instanceof MinidockError) return err.message;
  if (err instanceof Error) return err.message;
  return String(err);
}

/** The full line printed on stderr: `minidock: message (hint)`. */
export function formatForUser(err: unknown): string {
  const msg = describeError(err);
  const hint = err instanceof MinidockError ? err.hint : undefined;
  return hint ? `minidock: ${msg} (${hint})` : `minidock: ${msg}`;
}
