// Container environment: docker's `-e` and `--env-file` parsing, the variables docker adds
// itself, and the layering of defaults < image < command line. Pure: the caller's environment
// is passed in, never read from process.env.

import { usageError } from '../core/errors.js';

/** docker's default PATH for Linux containers (moby's system.DefaultPathEnv). */
export const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/**
 * Cap on the whole environment, counted as execve sees it (UTF-8 bytes plus a NUL per entry).
 * The kernel's real limit depends on the stack rlimit; 1 MiB fails early with a clear message
 * instead of an E2BIG from deep inside container start.
 */
export const ENV_MAX_BYTES = 1024 * 1024;

/** The kernel refuses any single argv/envp string longer than this (MAX_ARG_STRLEN = 32 pages). */
export const ENV_ENTRY_MAX_BYTES = 128 * 1024;

/** What docker's env-file parser treats as whitespace inside a variable name. */
const WHITESPACE = /[ \t\n\v\f\r]/;

type CallerEnv = Readonly<Record<string, string | undefined>>;

/** Why `name` cannot be a variable name, or null when it can. */
function nameProblem(name: string): string | null {
  if (name === '') return 'empty name';
  if (WHITESPACE.test(name)) return `variable '${name}' contains whitespaces`;
  if (name.includes('\0')) return 'contains a NUL byte';
  return null;
}

/**
 * Shared by `-e` and `--env-file`: `K=V` keeps V verbatim (it may hold `=` or be empty);
 * a bare `K` is copied from the caller's environment, or dropped when the caller has none,
 * as docker does. Returns the problem text instead of throwing so each caller can say where.
 */
function parseAssignment(
  entry: string,
  callerEnv: CallerEnv,
): { ok: [string, string] | null } | { problem: string } {
  const eq = entry.indexOf('=');
  const name = eq === -1 ? entry : entry.slice(0, eq);
  const problem = nameProblem(name);
  if (problem !== null) return { problem };
  if (eq !== -1) {
    const value = entry.slice(eq + 1);
    // execve's strings are NUL-terminated: a NUL would silently cut the value short.
    if (value.includes('\0')) return { problem: 'contains a NUL byte' };
    return { ok: [name, value] };
  }
  const inherited = callerEnv[name];
  return { ok: inherited === undefined ? null : [name, inherited] };
}

/** docker `-e VALUE`: `[K, V]`, or null when a bare `K` is not set in the caller's env. */
export function parseEnvFlag(value: string, callerEnv: CallerEnv): [string, string] | null {
  const r = parseAssignment(value, callerEnv);
  if ('problem' in r) {
    throw usageError(`invalid environment variable ${JSON.stringify(value)}: ${r.problem}`);
  }
  return r.ok;
}

/**
 * docker `--env-file`: one `K=V` or `K` a line; blank lines and `#` comments are skipped,
 * leading whitespace is dropped, the value is kept as is (no quote removal: docker does none).
 */
export function parseEnvFile(text: string, file: string, callerEnv: CallerEnv): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  // A UTF-8 byte-order mark on the first line is an editor artefact, not part of a name.
  const body = text.startsWith('\uFEFF') ? text.slice(1) : text;
  const lines = body.split('\n');
  // A final newline ends the last line; it does not start an extra empty one.
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  lines.forEach((raw, i) => {
    const lineNo = i + 1;
    const noCr = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    const line = noCr.replace(/^\s+/u, '');
    if (line === '' || line.startsWith('#')) return;
    if (line.includes('\0')) {
      throw usageError(`invalid line ${lineNo} in env file ${file}: contains a NUL byte`);
    }
    const r = parseAssignment(line, callerEnv);
    if ('problem' in r) {
      throw usageError(`invalid line ${lineNo} in env file ${file}: ${r.problem}`);
    }
    if (r.ok !== null) out.push(r.ok);
  });
  return out;
}

/** Splits an image-config entry `K=V` (a bare `K` means an empty value, as the kernel sees it). */
export function splitEnvEntry(entry: string): [string, string] {
  const eq = entry.indexOf('=');
  return eq === -1 ? [entry, ''] : [entry.slice(0, eq), entry.slice(eq + 1)];
}

/**
 * Layers environments: the first layer fixes the order, a later layer replaces an earlier
 * value where it stands and appends new names (moby's ReplaceOrAppendEnvValues).
 */
export function mergeEnv(...layers: Array<ReadonlyArray<readonly [string, string]>>): string[] {
  const values = new Map<string, string>();
  for (const layer of layers) {
    for (const [k, v] of layer) values.set(k, v); // Map keeps first-insertion order
  }
  return [...values].map(([k, v]) => `${k}=${v}`);
}

/** The variables docker itself puts in a container: PATH, HOSTNAME, TERM (with -t), HOME. */
export function defaultEnv(opts: { hostname: string; home: string; tty: boolean }): Array<[string, string]> {
  const env: Array<[string, string]> = [
    ['PATH', DEFAULT_PATH],
    ['HOSTNAME', opts.hostname],
  ];
  if (opts.tty) env.push(['TERM', 'xterm']);
  env.push(['HOME', opts.home]);
  return env;
}

/**
 * The whole container environment in docker's order: PATH, HOSTNAME, TERM first, then the
 * image's and the command line's variables replacing or appending, and HOME last and only when
 * nobody set it (runc adds it from the user's passwd entry after everything else).
 */
export function containerEnv(opts: {
  hostname: string;
  home: string;
  tty: boolean;
  imageEnv: ReadonlyArray<string>;
  cliEnv: ReadonlyArray<readonly [string, string]>;
}): string[] {
  const defaults = defaultEnv(opts).filter(([k]) => k !== 'HOME');
  const image = opts.imageEnv.map(splitEnvEntry);
  const merged = mergeEnv(defaults, image, opts.cliEnv);
  if (!merged.some((e) => e.startsWith('HOME='))) merged.push(`HOME=${opts.home}`);
  return merged;
}

/** Rejects an environment execve would refuse with E2BIG, naming the size and the limit. */
export function checkEnvSize(env: string[]): void {
  let total = 0;
  for (const entry of env) {
    const bytes = Buffer.byteLength(entry, 'utf8') + 1;
    if (bytes > ENV_ENTRY_MAX_BYTES) {
      const name = splitEnvEntry(entry)[0];
      throw usageError(
        `environment variable ${JSON.stringify(name)} too large (${bytes} bytes, max ${ENV_ENTRY_MAX_BYTES})`,
      );
    }
    total += bytes;
  }
  if (total > ENV_MAX_BYTES) {
    throw usageError(`environment too large (${total} bytes, max ${ENV_MAX_BYTES})`);
  }
}
