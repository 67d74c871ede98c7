// Runs the real minidock CLI against a test-private state root, and takes leak snapshots.
// Integration tests need root and the sample images from bin/setup; without them they fail
// with a message saying so, never pass silently.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
export const BIN = join(REPO, 'bin/minidock.js');
export const BUSYBOX_TAR = join(REPO, 'images/busybox/out/busybox.tar');

export interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

export function requireRootAndImages(): void {
  if (process.getuid?.() !== 0) throw new Error('integration tests need root (run them as root, as CI does)');
  if (!existsSync(BUSYBOX_TAR)) throw new Error(`${BUSYBOX_TAR} is missing: run bin/setup first`);
}

/** A fresh MINIDOCK_ROOT for one test file. */
export function newRoot(tag: string): string {
  return mkdtempSync(join(tmpdir(), `mdk-test-${tag}-`));
}

function envFor(root: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, MINIDOCK_ROOT: root, ...extra };
  delete env.NODE_EXTRA_CA_CERTS; // ~100 ms per start on CI machines, irrelevant to behaviour
  return env;
}

export function mdk(root: string, args: string[], opts: { input?: string; env?: NodeJS.ProcessEnv } = {}): Result {
  const r = spawnSync(process.execPath, ['--', BIN, ...args], {
    env: envFor(root, opts.env),
    input: opts.input ?? '',
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { code: r.status ?? 128 + 9, stdout: r.stdout, stderr: r.stderr };
}

/** Starts the CLI without waiting for it. */
export function mdkSpawn(root: string, args: string[]) {
  return spawn(process.execPath, ['--', BIN, ...args], { env: envFor(root), stdio: ['ignore', 'pipe', 'pipe'] });
}

/** What a container could leave behind on the host. */
export interface Snapshot {
  mounts: string[];
  /** Processes in another PID namespace than ours (a container's). */
  nsProcs: string[];
  containers: string[];
  names: string[];
  tmp: string[];
}

const list = (dir: string): string[] => (existsSync(dir) ? readdirSync(dir).sort() : []);

/** Processes of containers made under `root`: their mount table names our overlay layers. Other
 *  processes in other PID namespaces (anyone else's containers) are none of this test's business. */
export function containerProcesses(root: string): string[] {
  const ourPidNs = readlinkSync('/proc/self/ns/pid');
  const found: string[] = [];
  for (const p of readdirSync('/proc')) {
    if (!/^\d+$/.test(p)) continue;
    try {
      if (readlinkSync(`/proc/${p}/ns/pid`) === ourPidNs) continue;
      if (readFileSync(`/proc/${p}/mountinfo`, 'utf8').includes(`upperdir=${root}/`)) found.push(p);
    } catch {
      /* exited meanwhile */
    }
  }
  return found.sort();
}

export function snapshot(root: string): Snapshot {
  return {
    // minidock mounts nothing on the host: every container mount lives in the container's own
    // mount namespace. Any host mount naming this test's root would be a leak. (The rest of the
    // host's table is not compared: other software may mount meanwhile.)
    mounts: readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => l.includes(root)).sort(),
    nsProcs: containerProcesses(root),
    containers: list(join(root, 'containers')),
    names: list(join(root, 'names')),
    tmp: list(join(root, 'tmp')),
  };
}

export function removeRoot(root: string): void {
  rmSync(root, { recursive: true, force: true });
}

export function sh(cmd: string): string {
  const r = spawnSync('sh', ['-c', cmd], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd}: ${r.stderr}`);
  return r.stdout;
}
