// Registry credentials as docker keeps them (issue #16): a config.json whose "auths" map a
// registry to base64("user:password"). minidock writes its own ($MINIDOCK_CONFIG, else
// ~/.minidock/config.json, 0600 in a 0700 directory) and reads docker's (~/.docker/config.json,
// or $DOCKER_CONFIG/config.json) after it, so a docker user's `docker login` works here too.
// Credential helpers are docker's too: a file's "credHelpers" (per registry) or "credsStore"
// (for all) name a program docker-credential-NAME on PATH, asked over stdin and stdout (get:
// the server URL in, {"ServerURL","Username","Secret"} out; store: that JSON in; erase: the
// URL in), so a password kept in pass or a keychain never sits in a file. Docker Hub's key is
// docker's own "https://index.docker.io/v1/".
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { MinidockError } from '../core/errors.js';
import { writeFileAtomic } from '../core/atomic-file.js';
import type { Credentials } from './client.js';
import { DOCKER_HUB } from './reference.js';

const HUB_KEY = 'https://index.docker.io/v1/';

/** The key docker files a registry's credentials under. Pure. */
export function authKey(registry: string): string {
  return registry === DOCKER_HUB || registry === 'index.docker.io' || registry === 'registry-1.docker.io' ? HUB_KEY : registry;
}

export function minidockConfigPath(env: NodeJS.ProcessEnv = process.env): string {
  return env.MINIDOCK_CONFIG ?? join(env.HOME ?? homedir(), '.minidock', 'config.json');
}

export function dockerConfigPath(env: NodeJS.ProcessEnv = process.env): string {
  return join(env.DOCKER_CONFIG ?? join(env.HOME ?? homedir(), '.docker'), 'config.json');
}

type Config = {
  auths?: Record<string, { auth?: string; username?: string; password?: string }>;
  credsStore?: unknown;
  credHelpers?: Record<string, unknown>;
} & Record<string, unknown>;

/** The helper a config names for `key` (credHelpers first, then credsStore), if any. Pure. */
export function helperFor(config: Config, key: string, path: string): string | undefined {
  const name = (config.credHelpers && typeof config.credHelpers === 'object' ? config.credHelpers[key] : undefined) ?? config.credsStore;
  if (name === undefined || name === '') return undefined;
  // A name, not a path: docker-credential-NAME is looked up on PATH only.
  if (typeof name !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(name)) throw new MinidockError(`${path} names the credential helper ${JSON.stringify(name)}, which is no helper name`, { step: 'registry.config', hint: 'give the NAME of docker-credential-NAME (e.g. "pass")', exitCode: 1 });
  return name;
}

/** One call of docker-credential-NAME ACTION with `input` on stdin: its stdout. */
function runHelper(name: string, action: 'get' | 'store' | 'erase', input: string, path: string, env: NodeJS.ProcessEnv): { ok: boolean; out: string } {
  const program = `docker-credential-${name}`;
  const r = spawnSync(program, [action], { input, env, encoding: 'utf8', timeout: 60_000, stdio: ['pipe', 'pipe', 'pipe'] });
  if (r.error) {
    const code = (r.error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new MinidockError(`the credential helper ${program} (named in ${path}) is not on PATH`, { step: 'registry.helper', hint: `install it, or remove it from ${path}`, exitCode: 1 });
    throw new MinidockError(`the credential helper ${program} ${action} failed: ${r.error.message}`, { step: 'registry.helper', exitCode: 1 });
  }
  return { ok: r.status === 0, out: `${r.stdout}`.trim() || `${r.stderr}`.trim() };
}

/** A helper's answer to get: credentials, or none (not found). Pure. */
export function helperCredentials({ ok, out }: { ok: boolean; out: string }, program: string): Credentials | undefined {
  // "credentials not found in native keychain" (exit 1) is no error: not logged in.
  if (!ok) {
    if (/credentials not found/i.test(out)) return undefined;
    throw new MinidockError(`the credential helper ${program} get failed: ${out.split('\n')[0]!.slice(0, 200)}`, { step: 'registry.helper', exitCode: 1 });
  }
  let v: { Username?: unknown; Secret?: unknown };
  try {
    v = JSON.parse(out) as typeof v;
  } catch {
    throw new MinidockError(`the credential helper ${program} get answered no JSON`, { step: 'registry.helper', exitCode: 1 });
  }
  // An empty Secret (pass's helper for an unknown server) is none; a "<token>" user is an
  // identity token for an OAuth flow this client does not speak.
  if (typeof v.Secret !== 'string' || !v.Secret || typeof v.Username !== 'string' || !v.Username) return undefined;
  if (v.Username === '<token>') throw new MinidockError(`the credential helper ${program} holds an identity token, which minidock cannot use`, { step: 'registry.helper', hint: 'minidock login with a user and password', exitCode: 1 });
  return { username: v.Username, password: v.Secret };
}

function readConfig(path: string): Config {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return {};
  }
  try {
    const c = JSON.parse(text) as unknown;
    return typeof c === 'object' && c !== null && !Array.isArray(c) ? (c as Config) : {};
  } catch {
    throw new MinidockError(`${path} is not JSON`, { step: 'registry.config', hint: 'fix or delete that file', exitCode: 1 });
  }
}

/** An "auths" entry's credentials. Pure. */
export function decodeAuth(entry: { auth?: string; username?: string; password?: string } | undefined): Credentials | undefined {
  if (!entry) return undefined;
  if (entry.username && entry.password) return { username: entry.username, password: entry.password };
  if (!entry.auth) return undefined;
  const text = Buffer.from(entry.auth, 'base64').toString('utf8');
  const colon = text.indexOf(':');
  return colon > 0 ? { username: text.slice(0, colon), password: text.slice(colon + 1) } : undefined;
}

/** The credentials for `registry`: minidock's file first, then docker's; in each, its helper
 *  when it names one for the registry (docker's order), else its auths entry. */
export function credentialsFor(registry: string, env: NodeJS.ProcessEnv = process.env): Credentials | undefined {
  const key = authKey(registry);
  for (const path of [minidockConfigPath(env), dockerConfigPath(env)]) {
    const config = readConfig(path);
    const helper = helperFor(config, key, path);
    const c = helper ? helperCredentials(runHelper(helper, 'get', key, path, env), `docker-credential-${helper}`) : decodeAuth(config.auths?.[key]);
    if (c) return c;
  }
  return undefined;
}

/** `login`: stores them with minidock's file's helper when it names one (the file then keeps
 *  an empty auths entry, as docker's does), else in the file (other keys kept). */
export function storeCredentials(registry: string, c: Credentials, env: NodeJS.ProcessEnv = process.env): string {
  const path = minidockConfigPath(env);
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  chmodSync(dirname(path), 0o700);
  const config = readConfig(path);
  const key = authKey(registry);
  const helper = helperFor(config, key, path);
  if (helper) {
    const r = runHelper(helper, 'store', JSON.stringify({ ServerURL: key, Username: c.username, Secret: c.password }), path, env);
    if (!r.ok) throw new MinidockError(`the credential helper docker-credential-${helper} store failed: ${r.out.split('\n')[0]!.slice(0, 200)}`, { step: 'registry.helper', exitCode: 1 });
  }
  config.auths = { ...config.auths, [key]: helper ? {} : { auth: Buffer.from(`${c.username}:${c.password}`).toString('base64') } };
  writeFileAtomic(path, JSON.stringify(config, null, '\t') + '\n', 0o600);
  return path;
}

/** `logout`: erases them from the helper (when minidock's file names one) and the file; false
 *  when there were none. */
export function removeCredentials(registry: string, env: NodeJS.ProcessEnv = process.env): boolean {
  const path = minidockConfigPath(env);
  const config = readConfig(path);
  const key = authKey(registry);
  const helper = helperFor(config, key, path);
  // A helper that has none says so (credentials not found): not an error, as for docker. Any
  // other failure is: the password would stay where the user thinks it is gone.
  let erased = false;
  if (helper) {
    const r = runHelper(helper, 'erase', key, path, env);
    if (!r.ok && !/not found/i.test(r.out)) throw new MinidockError(`the credential helper docker-credential-${helper} erase failed: ${r.out.split('\n')[0]!.slice(0, 200)}`, { step: 'registry.helper', hint: `erase ${key} from it by hand, or try again`, exitCode: 1 });
    erased = r.ok;
  }
  if (!config.auths?.[key]) return erased;
  delete config.auths[key];
  writeFileAtomic(path, JSON.stringify(config, null, '\t') + '\n', 0o600);
  return true;
}
