// Runs the real minidock CLI against a test-private state root, and takes leak snapshots.
// Integration tests need root and the sample images from bin/setup; without them they fail
// with a message saying so, never pass silently.
import { spawn, spawnSync } from 'node:child_process';
import * as assert from 'uvu/assert';
import type { Test } from 'uvu';
import { existsSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
// The command users run: bin/minidock, which starts node from the startup snapshot.
export const BIN = join(REPO, 'bin/minidock');
export const BUSYBOX_TAR = join(REPO, 'images/busybox/out/busybox.tar');
export const PYTHON_TAR = join(REPO, 'images/python3/out/python3.tar');

export interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

export function requireRootAndImages(...extra: string[]): void {
  if (process.getuid?.() !== 0) throw new Error('integration tests need root (run them as root, as CI does)');
  for (const tar of [BUSYBOX_TAR, ...extra]) if (!existsSync(tar)) throw new Error(`${tar} is missing: run bin/setup first`);
}

/** A fresh MINIDOCK_ROOT for one test file. */
export function newRoot(tag: string): string {
  return mkdtempSync(join(tmpdir(), `mdk-test-${tag}-`));
}

/** The cgroup parent of this test process's containers, in every hierarchy: a user's containers
 *  (under "minidock") are never touched, and a leak is easy to see. */
export const CGROUP_PARENT = `mdktest${process.pid}`;

/** The cgroup v1 and v2 mount points of this host. */
export function cgroupMounts(): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .filter((l) => / - cgroup2? /.test(l))
    .map((l) => l.split(' ')[4]!);
}

/** The directories under PARENT (a path below each mount point), in every hierarchy but for the
 *  names in `except`: what a test's containers left under a cgroup parent of its own. */
export function cgroupsUnder(parent: string, except: readonly string[] = []): string[] {
  return cgroupMounts().flatMap((m) => (existsSync(join(m, parent)) ? readdirSync(join(m, parent), { withFileTypes: true }) : [])
    .filter((e) => e.isDirectory() && !except.includes(e.name)).map((e) => `${m}/${parent}/${e.name}`));
}

/** Container cgroups under this test process's parent, in every hierarchy. */
export function testCgroups(): string[] {
  return cgroupMounts().flatMap((m) => list(join(m, CGROUP_PARENT)).filter((n) => /^[0-9a-f]{64}$/.test(n)).map((n) => `${m}/${CGROUP_PARENT}/${n}`)).sort();
}

process.on('exit', () => {
  // The parent directories this test process caused (empty unless a test leaked; then they
  // stay, for a human to see).
  for (const m of cgroupMounts()) {
    try { rmdirSync(join(m, CGROUP_PARENT)); } catch { /* absent, or a leak */ }
  }
});

/** The environment of a CLI call for `root`: its own state root and cgroup parent. */
export function envFor(root: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, MINIDOCK_ROOT: root, MINIDOCK_CGROUP_PARENT: CGROUP_PARENT, ...extra };
  delete env.NODE_EXTRA_CA_CERTS; // ~100 ms per start on CI machines, irrelevant to behaviour
  return env;
}

/**
 * The network namespace every CLI call of this test process runs in: bridges, veths, sysctls
 * and iptables rules are per network namespace, so the tests never touch the host's (or a
 * user's containers). The CLI enters it with `nsenter --net`, not `ip netns exec`: the latter
 * remounts /sys, which hides /sys/fs/cgroup (and minidock reads /proc/net, not /sys/class/net).
 */
export const TEST_NETNS = `mdkt${process.pid}`;
let netnsReady = false;

export function ensureTestNetns(): void {
  if (netnsReady) return;
  sh(`ip netns add ${TEST_NETNS} && ip -n ${TEST_NETNS} link set lo up`);
  netnsReady = true;
  // Deleting the namespace takes its bridge, veths and rules with it, whatever a test left.
  process.on('exit', () => spawnSync('ip', ['netns', 'del', TEST_NETNS]));
}

/** Quotes a string for sh: no expansion of $, `, \ or anything else inside. */
export const shQuote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

/** Runs a command inside the test network namespace. */
export function inNetns(cmd: string): string {
  ensureTestNetns();
  return sh(`ip netns exec ${TEST_NETNS} sh -c ${shQuote(cmd)}`);
}

/** The command line that runs the CLI in the test network namespace (for spawn). */
export function cliArgv(args: string[]): [string, string[]] {
  ensureTestNetns();
  return ['nsenter', [`--net=/run/netns/${TEST_NETNS}`, BIN, ...args]];
}

export function mdk(root: string, args: string[], opts: { input?: string; env?: NodeJS.ProcessEnv } = {}): Result {
  const [cmd, argv] = cliArgv(args);
  const r = spawnSync(cmd, argv, {
    env: envFor(root, opts.env),
    input: opts.input ?? '',
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { code: r.status ?? 128 + 9, stdout: r.stdout, stderr: r.stderr };
}

/** Starts the CLI without waiting for it. */
export function mdkSpawn(root: string, args: string[], env: NodeJS.ProcessEnv = {}) {
  const [cmd, argv] = cliArgv(args);
  return spawn(cmd, argv, { env: envFor(root, env), stdio: ['ignore', 'pipe', 'pipe'] });
}

/** What a container could leave behind on the host. */
export interface Snapshot {
  mounts: string[];
  /** Processes in another PID namespace than ours (a container's). */
  nsProcs: string[];
  containers: string[];
  names: string[];
  tmp: string[];
  /** Host-side veths in the test namespace (mdk + 12 hex of an id). */
  veths: string[];
  /** iptables rules tagged with a container id (network-wide rules carry minidock:net:NAME). */
  containerRules: string[];
  leases: string[];
  ports: string[];
  cgroups: string[];
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

function listLeases(root: string): string[] {
  const dir = join(root, 'networks');
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((n) => list(join(dir, n, 'leases')).map((ip) => `${n}/${ip}`)).sort();
}

function netState(): { veths: string[]; containerRules: string[] } {
  if (!netnsReady) return { veths: [], containerRules: [] };
  const veths = inNetns('ip -o link show').split('\n').map((l) => l.split(': ')[1]?.split('@')[0] ?? '').filter((n) => /^mdk[0-9a-f]{12}$/.test(n));
  const containerRules = inNetns('iptables-save').split('\n').filter((l) => /minidock:[0-9a-f]{64}/.test(l));
  return { veths: veths.sort(), containerRules };
}

/** The kernel destroys a dead container's veth pair with its namespace, a moment after PID 1
 *  exits: give it up to 2 s before calling a veth a leak. */
export function settledNetState(): { veths: string[]; containerRules: string[] } {
  let s = netState();
  for (let i = 0; i < 40 && s.veths.length; i++) {
    spawnSync('sleep', ['0.05']);
    s = netState();
  }
  return s;
}

export function snapshot(root: string): Snapshot {
  return {
    ...settledNetState(),
    leases: listLeases(root),
    ports: list(join(root, 'ports')),
    // minidock mounts nothing on the host: every container mount lives in the container's own
    // mount namespace. Any host mount naming this test's root would be a leak. (The rest of the
    // host's table is not compared: other software may mount meanwhile.)
    mounts: readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => l.includes(root)).sort(),
    nsProcs: containerProcesses(root),
    containers: list(join(root, 'containers')),
    names: list(join(root, 'names')),
    tmp: list(join(root, 'tmp')),
    cgroups: testCgroups(),
  };
}

/** Ends the test's own containers and shims (found by the root in their mount table or command
 *  line: a test that failed half-way skipped its rm -f), then deletes the root. */
export function removeRoot(root: string): void {
  const pids = [...containerProcesses(root)];
  for (const p of readdirSync('/proc')) {
    if (!/^\d+$/.test(p)) continue;
    try {
      if (readFileSync(`/proc/${p}/cmdline`, 'latin1').includes(`${root}/containers/`)) pids.push(p);
    } catch {
      /* gone */
    }
  }
  for (const p of new Set(pids)) {
    try { process.kill(Number(p), 'SIGKILL'); } catch { /* gone */ }
  }
  // Their cgroups too: the records naming them go with the root, and one left would fail the
  // leak check of every later file (they share this process's cgroup parent). Sub-cgroups
  // first; busy (EBUSY) until the processes just killed have exited.
  const ids = list(join(root, 'containers')).filter((n) => /^[0-9a-f]{64}$/.test(n));
  const removeTree = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) if (e.isDirectory()) removeTree(join(d, e.name));
    rmdirSync(d);
  };
  for (const d of cgroupMounts().flatMap((m) => ids.map((id) => join(m, CGROUP_PARENT, id)))) {
    for (let i = 0; i < 40 && existsSync(d); i++) {
      try { removeTree(d); } catch { spawnSync('sleep', ['0.05']); }
    }
  }
  rmSync(root, { recursive: true, force: true, maxRetries: 3 });
}

export function sh(cmd: string): string {
  const r = spawnSync('sh', ['-c', cmd], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd}: ${r.stderr}`);
  return r.stdout;
}

/** Ends a process this test started, by its pid. Refuses anything but a positive integer:
 *  kill(0) or kill(-1) would signal the whole process group or every process. */
export function killPid(pid: string | number, signal: NodeJS.Signals = 'SIGTERM'): void {
  const n = typeof pid === 'number' ? pid : Number(pid.trim());
  if (!Number.isInteger(n) || n <= 1) throw new Error(`refusing to signal pid ${JSON.stringify(pid)}`);
  try {
    process.kill(n, signal);
  } catch {
    /* already gone */
  }
}

/** Registers a test whose last assertion is that it left nothing behind: no host mount, no
 *  container process, state directory, name, lease, veth or tagged rule beyond `before`.
 *  (Checked in the test body, not a hook: uvu swallows a throwing hook.) */
export function leakChecked(suite: Test, root: string, before: Snapshot) {
  return (name: string, fn: () => void | Promise<void>): void => {
    suite(name, async () => {
      await fn();
      assert.equal(snapshot(root), before, 'nothing leaked');
    });
  };
}
