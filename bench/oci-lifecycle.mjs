#!/usr/bin/env node
// The OCI lifecycle of one bundle, side by side: `create`, `start`, the container's `true`
// ending, `delete`, for minidock-runc, Debian's runc and crun, in the same run (issue #14).
//
//   node bench/oci-lifecycle.mjs [--runs N]        as root; NODE_EXTRA_CA_CERTS is unset for all
//
// Fairness: the same bundle (busybox from images/, `runc spec`'s config with args ["true"] and
// no terminal), the same private mount namespace for all three (crun 1.8 refuses a hybrid
// cgroup host while /sys/fs/cgroup/unified is mounted, so the bench unmounts it there for every
// contender), contenders alternated run by run after an untimed warm-up, each command spawned
// with spawnSync and timed around that call only. The container's exit is waited for by polling
// its pid (from --pid-file) every 0.2 ms, the same for all. Figures: median (min-max), ms.
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CLEAN_ENV, now, sleep } from './lib/proc.mjs';
import { fmt, summarize } from './lib/stats.mjs';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const RUNS = Number(args[args.indexOf('--runs') + 1]) || (args.includes('--runs') ? NaN : 20);
if (!Number.isInteger(RUNS) || RUNS < 1) { console.error('usage: node bench/oci-lifecycle.mjs [--runs N]'); process.exit(2); }
if (process.getuid() !== 0) { console.error('oci-lifecycle: run it as root'); process.exit(2); }

// Once, into a private mount namespace without /sys/fs/cgroup/unified (see the header).
if (!process.env.MDK_BENCH_PRIVATE_MNT) {
  const r = spawnSync('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', 'umount /sys/fs/cgroup/unified 2>/dev/null; exec "$0" "$@"', process.execPath, fileURLToPath(import.meta.url), ...args],
    { stdio: 'inherit', env: { ...CLEAN_ENV, MDK_BENCH_PRIVATE_MNT: '1' } });
  process.exit(r.status ?? 1);
}

const which = (c) => { const r = spawnSync('sh', ['-c', `command -v ${c}`], { encoding: 'utf8' }); return r.status === 0 ? r.stdout.trim() : undefined; };
const work = mkdtempSync(join(tmpdir(), 'mdk-bench-oci-'));
const contenders = [
  { name: 'minidock-runc', cmd: process.execPath, pre: [join(REPO, 'bin/minidock-runc.js')] },
  ...['runc', 'crun'].filter(which).map((n) => ({ name: n, cmd: which(n), pre: [] })),
].map((c) => ({ ...c, root: join(work, `root-${c.name}`), samples: { create: [], start: [], exit: [], delete: [], total: [] } }));

// The bundle.
const bundle = join(work, 'bundle');
mkdirSync(join(bundle, 'rootfs'), { recursive: true });
spawnSync('tar', ['-xf', join(REPO, 'images/busybox/out/busybox.tar'), '-C', join(bundle, 'rootfs')]);
const specDir = join(work, 'spec');
mkdirSync(specDir);
spawnSync(which('runc') ?? process.execPath, which('runc') ? ['spec'] : [join(REPO, 'bin/minidock-runc.js'), 'spec'], { cwd: specDir });
const spec = JSON.parse(readFileSync(join(specDir, 'config.json'), 'utf8'));
spec.process.args = ['true'];
spec.process.terminal = false;
writeFileSync(join(bundle, 'config.json'), JSON.stringify(spec, null, 2));

const ended = (pid) => {
  try {
    return /^\d+ \(.*\) [ZX] /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return true;
  }
};

/** One timed command. stderr goes to a file, not a pipe: the container inherits create's stdio,
 *  as runc's does, and a pipe would keep spawnSync waiting until the container exits. */
function timedRun(cmd, argv) {
  const errFile = join(work, 'stderr');
  const fd = openSync(errFile, 'w');
  try {
    const t0 = now();
    const r = spawnSync(cmd, argv, { env: CLEAN_ENV, stdio: ['ignore', 'ignore', fd], timeout: 60_000 });
    const ms = now() - t0;
    if (r.status !== 0) throw new Error(`${argv.slice(-2).join(' ')}: exit ${r.status}: ${readFileSync(errFile, 'utf8').trim()}`);
    return ms;
  } finally {
    closeSync(fd);
  }
}

async function cycle(c, id, timed) {
  const run = (verb, more) => timedRun(c.cmd, [...c.pre, '--root', c.root, verb, ...more]);
  const pidFile = join(work, `${c.name}.pid`);
  const create = run('create', ['--bundle', bundle, '--pid-file', pidFile, id]);
  const pid = Number(readFileSync(pidFile, 'utf8'));
  const start = run('start', [id]);
  const t0 = now();
  while (!ended(pid)) { if (now() - t0 > 10_000) throw new Error(`${c.name}: ${id} did not exit`); await sleep(0.2); }
  const exit = now() - t0;
  const del = run('delete', [id]);
  if (timed) {
    Object.entries({ create, start, exit, delete: del, total: create + start + exit + del }).forEach(([k, v]) => c.samples[k].push(v));
  }
}

try {
  console.log(`oci-lifecycle: ${RUNS} runs each of ${contenders.map((c) => c.name).join(', ')}, alternated; NODE_EXTRA_CA_CERTS unset`);
  for (const c of contenders) await cycle(c, `warm-${process.pid}`, false);
  for (let i = 0; i < RUNS; i++) for (const c of contenders) await cycle(c, `b${process.pid}-${i}`, true);
  const cell = (xs) => { const s = summarize(xs); return `${fmt(s.median)} (${fmt(s.min)}–${fmt(s.max)})`; };
  const rows = ['create', 'start', 'exit', 'delete', 'total'];
  const w = 22;
  console.log(`| step (ms) | ${contenders.map((c) => c.name).join(' | ')} |`);
  console.log(`| --- | ${contenders.map(() => '---:').join(' | ')} |`);
  for (const r of rows) console.log(`| ${r === 'exit' ? 'start → exit seen' : r === 'total' ? 'create + start + exit + delete' : r} | ${contenders.map((c) => cell(c.samples[r]).padStart(w)).join(' | ')} |`);
  const mine = summarize(contenders[0].samples.total).median;
  for (const c of contenders.slice(1)) console.log(`minidock-runc / ${c.name}: ${(mine / summarize(c.samples.total).median).toFixed(2)}x`);
} finally {
  for (const c of contenders) {
    const ids = spawnSync(c.cmd, [...c.pre, '--root', c.root, 'list', '-q'], { encoding: 'utf8', env: CLEAN_ENV }).stdout?.split('\n').filter(Boolean) ?? [];
    for (const id of ids) spawnSync(c.cmd, [...c.pre, '--root', c.root, 'delete', '--force', id], { env: CLEAN_ENV });
  }
  if (existsSync(work)) rmSync(work, { recursive: true, force: true });
}
