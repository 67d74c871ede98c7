// docker `import -c/--change`: applies Dockerfile instructions (CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, STOPSIGNAL, VOLUME,
// USER, WORKDIR) to an image config, and works out a container's command from it. Pure.
//
// Instruction semantics follow the Dockerfile reference: exec (JSON) or shell form for
// CMD/ENTRYPOINT, `$VAR`/`${VAR:-x}` substitution and quote removal in ENV, EXPOSE, USER and
// WORKDIR, ENTRYPOINT clearing an inherited CMD, relative WORKDIR joining the previous one.

import { posix } from 'node:path';
import { usageError } from '../core/errors.js';
import { parseSignal } from './signal.js';
import { parseUserSpec } from './user.js';
import { normaliseAbsolute } from './workdir.js';

export interface ImageConfig {
  Cmd?: string[];
  Entrypoint?: string[];
  Env?: string[];
  WorkingDir?: string;
  User?: string;
  ExposedPorts?: Record<string, {}>;
  Labels?: Record<string, string>;
  Volumes?: Record<string, {}>;
  StopSignal?: string;
}

export const SUPPORTED_CHANGES = ['CMD', 'ENTRYPOINT', 'ENV', 'EXPOSE', 'LABEL', 'STOPSIGNAL', 'USER', 'VOLUME', 'WORKDIR'] as const;

/** A problem inside one instruction; applyChanges turns it into a usage error naming the change. */
class ChangeProblem extends Error {}

function copyConfig(c: ImageConfig): ImageConfig {
  const out: ImageConfig = {};
  if (c.Cmd !== undefined) out.Cmd = [...c.Cmd];
  if (c.Entrypoint !== undefined) out.Entrypoint = [...c.Entrypoint];
  if (c.Env !== undefined) out.Env = [...c.Env];
  if (c.WorkingDir !== undefined) out.WorkingDir = c.WorkingDir;
  if (c.User !== undefined) out.User = c.User;
  if (c.ExposedPorts !== undefined) out.ExposedPorts = { ...c.ExposedPorts };
  if (c.Labels !== undefined) out.Labels = { ...c.Labels };
  if (c.Volumes !== undefined) out.Volumes = { ...c.Volumes };
  if (c.StopSignal !== undefined) out.StopSignal = c.StopSignal;
  return out;
}

/** Applies each change in order to a copy of `base`; `base` itself is left untouched. */
export function applyChanges(base: ImageConfig, changes: string[]): ImageConfig {
  const cfg = copyConfig(base);
  // Dockerfile rule: ENTRYPOINT drops an inherited CMD, but not one set earlier in this run.
  let cmdSet = false;
  for (const change of changes) {
    // A trailing backslash continues the line, as in a Dockerfile.
    const text = change.replace(/\\\r?\n/g, '').trim();
    if (text === '') continue;
    const m = /^(\S+)(?:\s+([\s\S]*))?$/.exec(text);
    const keyword = (m?.[1] ?? '').toUpperCase();
    const rest = (m?.[2] ?? '').trim();
    if (!(SUPPORTED_CHANGES as readonly string[]).includes(keyword)) {
      throw usageError(
        `unsupported change instruction ${JSON.stringify(keyword)} (${SUPPORTED_CHANGES.join(', ')})`,
      );
    }
    try {
      if (/[\r\n]/.test(rest)) throw new ChangeProblem('one instruction per --change');
      switch (keyword) {
        case 'CMD':
          cfg.Cmd = commandArgs(keyword, rest);
          cmdSet = true;
          break;
        case 'ENTRYPOINT':
          cfg.Entrypoint = commandArgs(keyword, rest);
          if (!cmdSet) delete cfg.Cmd;
          break;
        case 'ENV':
          cfg.Env = applyEnv(cfg.Env ?? [], rest);
          break;
        case 'WORKDIR':
          cfg.WorkingDir = workdir(cfg, rest);
          break;
        case 'USER':
          cfg.User = user(cfg, rest);
          break;
        case 'EXPOSE':
          cfg.ExposedPorts = expose(cfg, rest);
          break;
        case 'LABEL':
          cfg.Labels = labels(cfg, rest);
          break;
        case 'VOLUME':
          cfg.Volumes = volumes(cfg, rest);
          break;
        case 'STOPSIGNAL':
          cfg.StopSignal = stopSignal(cfg, rest);
          break;
      }
    } catch (err) {
      if (err instanceof ChangeProblem) {
        throw usageError(`invalid change ${JSON.stringify(change)}: ${err.message}`);
      }
      throw err;
    }
  }
  return cfg;
}

/**
 * The process a container runs: the entrypoint followed by the CLI's arguments, or by the
 * image's CMD when none were given (docker's rule; CLI args replace CMD, never ENTRYPOINT).
 * `--entrypoint X` replaces the image's ENTRYPOINT with the one word X and drops its CMD
 * ("" drops the entrypoint too), as docker run's reference says.
 */
export function commandFor(config: Pick<ImageConfig, 'Cmd' | 'Entrypoint'>, cliArgs: string[], entrypoint?: string): string[] {
  const cmd = entrypoint !== undefined ? [] : (config.Cmd ?? []);
  const entry = entrypoint === undefined ? (config.Entrypoint ?? []) : entrypoint === '' ? [] : [entrypoint];
  const args = cliArgs.length > 0 ? cliArgs : cmd;
  const argv = [...entry, ...args];
  if (argv.length === 0) {
    throw usageError(
      'no command specified',
      `give a command after the image name, or import the image with --change 'CMD ["/bin/sh"]'`,
    );
  }
  return argv;
}

/** The JSON form `["a","b"]` of an instruction, or undefined: docker then takes the text in its
 *  other form (a shell command, a list of words). */
function jsonForm(rest: string): string[] | undefined {
  if (!rest.startsWith('[')) return undefined;
  try {
    const parsed: unknown = JSON.parse(rest);
    if (Array.isArray(parsed) && parsed.every((x): x is string => typeof x === 'string')) return parsed;
  } catch {
    // Not valid JSON: the other form.
  }
  return undefined;
}

/** Exec form `["a","b"]` when the text is a JSON array of strings, else shell form. */
function commandArgs(keyword: string, rest: string): string[] {
  if (rest === '') throw new ChangeProblem(`${keyword} requires at least one argument`);
  return jsonForm(rest) ?? ['/bin/sh', '-c', rest];
}

function envMap(env: readonly string[]): Map<string, string> {
  const m = new Map<string, string>();
  for (const e of env) {
    const eq = e.indexOf('=');
    if (eq === -1) m.set(e, '');
    else m.set(e.slice(0, eq), e.slice(eq + 1));
  }
  return m;
}

/** The pairs of `KEYWORD K=V [K2="V 2" ...]`, or of the legacy `KEYWORD K the rest of the line`
 *  (ENV and LABEL share the grammar): quotes removed, $VARS expanded from `vars`, which every
 *  value sees as it was before this instruction, as docker's parser does. */
function keyValues(keyword: string, rest: string, vars: Map<string, string>): Array<[string, string]> {
  const words = splitWords(rest);
  const first = words[0];
  if (first === undefined) throw new ChangeProblem(`${keyword} requires at least one argument`);
  const pairs: Array<[string, string]> = [];
  if (!first.includes('=')) {
    const m = /^(\S+)\s+([\s\S]+)$/.exec(rest);
    if (m === null) throw new ChangeProblem(`${keyword} must have two arguments`);
    pairs.push([expandWord(m[1] as string, vars), expandWord(m[2] as string, vars)]);
  } else {
    for (const w of words) {
      const eq = w.indexOf('=');
      if (eq === -1) {
        throw new ChangeProblem(`can't find = in ${JSON.stringify(w)}, must be of the form name=value`);
      }
      pairs.push([expandWord(w.slice(0, eq), vars), expandWord(w.slice(eq + 1), vars)]);
    }
  }
  for (const [k] of pairs) if (k === '') throw new ChangeProblem(`${keyword} names can not be blank`);
  return pairs;
}

/** `ENV K=V [K2=V2 ...]` or the legacy `ENV K the rest of the line`. */
function applyEnv(current: string[], rest: string): string[] {
  const out = [...current];
  for (const [k, v] of keyValues('ENV', rest, envMap(current))) {
    const entry = `${k}=${v}`;
    const i = out.findIndex((e) => e === k || e.startsWith(`${k}=`));
    if (i === -1) out.push(entry);
    else out[i] = entry;
  }
  return out;
}

function workdir(cfg: ImageConfig, rest: string): string {
  if (rest === '') throw new ChangeProblem('WORKDIR requires exactly one argument');
  const dir = expandWord(rest, envMap(cfg.Env ?? []));
  if (dir.includes('\0')) throw new ChangeProblem('WORKDIR contains a NUL byte');
  // A relative WORKDIR continues from the previous one (or from / when there was none).
  const joined = dir.startsWith('/') ? dir : posix.join(cfg.WorkingDir || '/', dir);
  return normaliseAbsolute(joined.startsWith('/') ? joined : `/${joined}`);
}

function user(cfg: ImageConfig, rest: string): string {
  const words = splitWords(rest);
  if (words.length !== 1) throw new ChangeProblem('USER requires exactly one argument');
  const u = expandWord(words[0] as string, envMap(cfg.Env ?? []));
  // Validate now, so a bad USER fails at import and not at every later run.
  try {
    parseUserSpec(u);
  } catch {
    throw new ChangeProblem(`invalid user spec ${JSON.stringify(u)}`);
  }
  return u;
}

const PORT_SPEC = /^([0-9]+)(?:-([0-9]+))?(?:\/([A-Za-z]+))?$/;
const PROTOCOLS = ['tcp', 'udp', 'sctp'];

function port(text: string, spec: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1 || n > 65535) {
    throw new ChangeProblem(`invalid port ${JSON.stringify(spec)}: ports are 1-65535`);
  }
  return n;
}

/** `LABEL k=v [k2="v 2" ...]`, or the legacy `LABEL k the rest of the line`; added to what was
 *  there, a later key replacing an earlier one; quotes removed and $VARS expanded, as ENV's. */
function labels(cfg: ImageConfig, rest: string): Record<string, string> {
  return { ...(cfg.Labels ?? {}), ...Object.fromEntries(keyValues('LABEL', rest, envMap(cfg.Env ?? []))) };
}

/** `VOLUME /data /logs` or `VOLUME ["/data"]`: absolute paths, added to what was there. */
function volumes(cfg: ImageConfig, rest: string): Record<string, {}> {
  const paths = jsonForm(rest) ?? splitWords(rest).map((w) => expandWord(w, envMap(cfg.Env ?? [])));
  if (paths.length === 0) throw new ChangeProblem('VOLUME requires at least one argument');
  const out: Record<string, {}> = { ...(cfg.Volumes ?? {}) };
  for (const p of paths) {
    if (!p.startsWith('/') || p.includes('\0')) throw new ChangeProblem(`VOLUME ${JSON.stringify(p)}: the path must be absolute`);
    out[normaliseAbsolute(p)] = {};
  }
  return out;
}

/** `STOPSIGNAL SIGINT` (or INT, or 2): checked now, kept as written. */
function stopSignal(cfg: ImageConfig, rest: string): string {
  const words = splitWords(rest).map((w) => expandWord(w, envMap(cfg.Env ?? [])));
  if (words.length !== 1) throw new ChangeProblem('STOPSIGNAL requires exactly one argument');
  try {
    parseSignal(words[0]!);
  } catch {
    throw new ChangeProblem(`invalid signal ${JSON.stringify(words[0])}`);
  }
  return words[0]!;
}

/** `EXPOSE 80 443/udp 8000-8002/tcp`: keys `80/tcp`, ranges expanded, added to what was there. */
function expose(cfg: ImageConfig, rest: string): Record<string, {}> {
  const vars = envMap(cfg.Env ?? []);
  const words = splitWords(rest).map((w) => expandWord(w, vars));
  if (words.length === 0) throw new ChangeProblem('EXPOSE requires at least one argument');
  const out: Record<string, {}> = { ...(cfg.ExposedPorts ?? {}) };
  for (const w of words) {
    const m = PORT_SPEC.exec(w);
    if (m === null) {
      throw new ChangeProblem(`invalid port ${JSON.stringify(w)}: use PORT[-PORT][/PROTOCOL]`);
    }
    const start = port(m[1] as string, w);
    const end = m[2] === undefined ? start : port(m[2], w);
    if (end < start) throw new ChangeProblem(`invalid port range ${JSON.stringify(w)}`);
    const proto = (m[3] ?? 'tcp').toLowerCase();
    if (!PROTOCOLS.includes(proto)) {
      throw new ChangeProblem(`invalid protocol ${JSON.stringify(m[3])} in ${JSON.stringify(w)} (tcp, udp, sctp)`);
    }
    for (let p = start; p <= end; p++) out[`${p}/${proto}`] = {};
  }
  return out;
}

/**
 * Splits on whitespace outside quotes, keeping quotes and backslash escapes in the words
 * (they are removed later by expandWord, as docker's parser and shell lexer do in two steps).
 */
export function splitWords(text: string): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  let quote: '"' | "'" | null = null;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i] as string;
    if (quote === null && /\s/.test(ch)) {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
      continue;
    }
    inWord = true;
    word += ch;
    if (ch === '\\' && quote !== "'" && i + 1 < text.length) {
      word += text[++i];
    } else if (quote === null && (ch === '"' || ch === "'")) {
      quote = ch;
    } else if (ch === quote) {
      quote = null;
    }
  }
  if (inWord) words.push(word);
  return words;
}

const NAME_START = /[A-Za-z_]/;
const NAME_CHAR = /[A-Za-z0-9_]/;
const DIGIT = /[0-9]/;

/**
 * One word through docker's shell lexer: quote removal, backslash escapes, and `$VAR`,
 * `${VAR}`, `${VAR:-x}`, `${VAR-x}`, `${VAR:+x}`, `${VAR+x}`, `${VAR:?msg}`, `${VAR?msg}`
 * substitution (unset variables expand to nothing). Single quotes suppress substitution.
 */
export function expandWord(word: string, env: ReadonlyMap<string, string>): string {
  let out = '';
  let i = 0;
  const n = word.length;

  const dollar = (): void => {
    // At word[i] === '$'.
    const next = word[i + 1];
    if (next === '{') {
      const close = matchingBrace(word, i + 2);
      if (close === -1) throw new ChangeProblem(`missing '}' in ${JSON.stringify(word)}`);
      out += substitute(word.slice(i + 2, close), env);
      i = close + 1;
    } else if (next !== undefined && (NAME_START.test(next) || DIGIT.test(next))) {
      // `$1` is a positional parameter (never set here): its name is the digits alone.
      const part = DIGIT.test(next) ? DIGIT : NAME_CHAR;
      let j = i + 1;
      while (j < n && part.test(word[j] as string)) j++;
      out += env.get(word.slice(i + 1, j)) ?? '';
      i = j;
    } else if (next !== undefined && '@*#?-$!'.includes(next)) {
      // Shell special parameters ($$, $#, ...) have no value in an image build: they vanish.
      i += 2;
    } else {
      out += '$';
      i++;
    }
  };

  while (i < n) {
    const ch = word[i] as string;
    if (ch === "'") {
      const end = word.indexOf("'", i + 1);
      if (end === -1) throw new ChangeProblem('unexpected end of statement while looking for matching \'');
      out += word.slice(i + 1, end);
      i = end + 1;
    } else if (ch === '"') {
      i++;
      for (;;) {
        if (i >= n) throw new ChangeProblem('unexpected end of statement while looking for matching "');
        const c = word[i] as string;
        if (c === '"') {
          i++;
          break;
        }
        if (c === '\\' && i + 1 < n && ['"', '\\', '$'].includes(word[i + 1] as string)) {
          out += word[i + 1];
          i += 2;
        } else if (c === '$') {
          dollar();
        } else {
          out += c;
          i++;
        }
      }
    } else if (ch === '\\') {
      // Outside quotes a backslash makes the next character literal; a final one is kept.
      out += i + 1 < n ? word[i + 1] : '\\';
      i += 2;
    } else if (ch === '$') {
      dollar();
    } else {
      out += ch;
      i++;
    }
  }
  return out;
}

/** Index of the '}' closing a `${` whose body starts at `from`, or -1. */
function matchingBrace(word: string, from: number): number {
  let depth = 1;
  for (let i = from; i < word.length; i++) {
    const ch = word[i];
    if (ch === '\\') i++;
    else if (ch === '{' && word[i - 1] === '$') depth++;
    else if (ch === '}' && --depth === 0) return i;
  }
  return -1;
}

/** The body of `${...}`: a name, optionally followed by one of docker's modifiers. */
function substitute(body: string, env: ReadonlyMap<string, string>): string {
  const m = /^([A-Za-z_][A-Za-z0-9_]*)(?:(:?)([-+?])([\s\S]*))?$/.exec(body);
  if (m === null) throw new ChangeProblem(`bad substitution \${${body}}`);
  const name = m[1] as string;
  const value = env.get(name);
  if (m[3] === undefined) return value ?? '';
  // With ':' an empty value counts as unset, as in POSIX sh.
  const set = m[2] === ':' ? value !== undefined && value !== '' : value !== undefined;
  const arg = () => expandWord(m[4] as string, env);
  switch (m[3]) {
    case '-':
      return set ? (value as string) : arg();
    case '+':
      return set ? arg() : '';
    default: {
      if (set) return value as string;
      const msg = arg();
      throw new ChangeProblem(`${name}: ${msg === '' ? 'is not allowed to be unset' : msg}`);
    }
  }
}
