// Registry credentials as docker keeps them (issue #16): a config.json whose "auths" map a
// registry to base64("user:password"). minidock writes its own ($MINIDOCK_CONFIG, else
// ~/.minidock/config.json, 0600 in a 0700 directory) and reads docker's (~/.docker/config.json,
// or $DOCKER_CONFIG/config.json) after it, so a docker user's `docker login` works here too.
// Credential helpers (credsStore) are not run: a registry only they know is reported as not
// logged in. Docker Hub's key is docker's own "https://index.docker.io/v1/".
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

type Config = { auths?: Record<string, { auth?: string; username?: string; password?: string }> } & Record<string, unknown>;

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

/** The credentials for `registry`: minidock's file first, then docker's. */
export function credentialsFor(registry: string, env: NodeJS.ProcessEnv = process.env): Credentials | undefined {
  const key = authKey(registry);
  for (const path of [minidockConfigPath(env), dockerConfigPath(env)]) {
    const c = decodeAuth(readConfig(path).auths?.[key]);
    if (c) return c;
  }
  return undefined;
}

/** `login`: stores them in minidock's file (other keys of the file kept). */
export function storeCredentials(registry: string, c: Credentials, env: NodeJS.ProcessEnv = process.env): string {
  const path = minidockConfigPath(env);
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  chmodSync(dirname(path), 0o700);
  const config = readConfig(path);
  config.auths = { ...config.auths, [authKey(registry)]: { auth: Buffer.from(`${c.username}:${c.password}`).toString('base64') } };
  writeFileAtomic(path, JSON.stringify(config, null, '\t') + '\n', 0o600);
  return path;
}

/** `logout`: removes them from minidock's file; false when there were none. */
export function removeCredentials(registry: string, env: NodeJS.ProcessEnv = process.env): boolean {
  const path = minidockConfigPath(env);
  const config = readConfig(path);
  const key = authKey(registry);
  if (!config.auths?.[key]) return false;
  delete config.auths[key];
  writeFileAtomic(path, JSON.stringify(config, null, '\t') + '\n', 0o600);
  return true;
}
