#!/usr/bin/env node
// Detached-container figures, side by side in one run: the memory of the process that stays with
// each container (minidock-shim against podman's conmon), `exec NAME true` latency (against
// `podman exec` and the floor, `nsenter -a`), and `ps` with 100 containers.
//
//   node bench/lifecycle.mjs [--runs N] [--containers N]
//
// Runs inside a network namespace of its own (entered with nsenter, which keeps /sys and its
// cgroups for podman); removes every container and image it made. NODE_EXTRA_CA_CERTS is unset.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir, cpus, release } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { inPrivateNetns, options } from './lib/netns.mjs';
import { formatTable, summarize } from './lib/stats.mjs';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const opt = options();
const RUNS = Number(opt('--runs', '20'));
const COUNT = Number(opt('--containers', '100'));
if (process.getuid() !== 0) {
  console.error('bench/lifecycle.mjs: run as root');
  process.exit(1);
}
inPrivateNetns(import.meta.url, 'mdkbench');

const env = { ...process.env };
delete env.NODE_EXTRA_CA_CERTS;
const root = mkdtempSync(join(tmpdir(), 'minidock-lifebench-'));
const mdEnv = { ...env, MINIDOCK_ROOT: root, MINIDOCK_BRIDGE: 'mdkbench1', MINIDOCK_SUBNET: '10.133.0.0/23' };
const BIN = join(REPO, 'bin/minidock.js');
const sh = (cmd, a, e = env) => spawnSync(cmd, a, { env: e, encoding: 'utf8' });
const md = (...a) => sh(process.execPath, ['--', BIN, ...a], mdEnv);
const now = () => Number(process.hrtime.bigint()) / 1e6;
const which = (b) => sh('sh', ['-c', `command -v ${b}`]).stdout.trim();
const rssKb = (pid) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN);
const cleanups = [() => rmSync(root, { recursive: true, force: true })];
process.on('exit', () => { while (cleanups.length) try { cleanups.pop()(); } catch { /* best effort */ } });
process.on('SIGINT', () => process.exit(130));

const imp = md('import', '-c', 'CMD ["sh"]', join(REPO, 'images/busybox/out/busybox.tar'), 'busybox');
if (imp.status !== 0) { console.error(`import failed (run bin/setup): ${imp.stderr}`); process.exit(1); }

console.log(`date:    ${new Date().toISOString()}`);
console.log(`machine: ${cpus().length} cpus, kernel ${release()}, node ${process.version}; NODE_EXTRA_CA_CERTS unset; netns ${process.env.MDK_BENCH_NETNS}\n`);

// --- minidock: COUNT detached containers
const ids = [];
let t0 = now();
for (let i = 0; i < COUNT; i++) {
  const r = md('run', '-d', '--name', `b${i}`, 'busybox', 'sleep', '600');
  if (r.status !== 0) { console.error(r.stderr); process.exit(1); }
  ids.push(r.stdout.trim());
}
const mdStart = now() - t0;
cleanups.push(() => md('rm', '-f', ...ids.map((_, i) => `b${i}`)));
const shimRss = ids.map((id) => rssKb(JSON.parse(readFileSync(join(root, 'containers', id, 'state.json'), 'utf8')).monitorPid));

// --- podman: the same number, to compare conmon and ps
const podman = which('podman');
let pod = null;
if (podman) {
  const pidMax = readFileSync('/proc/sys/kernel/pid_max', 'utf8').trim();
  const flags = ['--runtime', 'runc', '--ulimit', 'nofile=20000:20000', '--ulimit', `nproc=${pidMax}:${pidMax}`, '--network', 'none'];
  const image = `localhost/minidock-lifebench-busybox:p${process.pid}`;
  if (sh(podman, ['import', join(REPO, 'images/busybox/out/busybox.tar'), image]).status === 0) {
    cleanups.push(() => sh(podman, ['rmi', '-f', image]));
    const names = [];
    t0 = now();
    for (let i = 0; i < COUNT; i++) {
      const name = `mdkbench-${process.pid}-${i}`;
      if (sh(podman, ['run', '-d', '--name', name, ...flags, image, 'sleep', '600']).status !== 0) break;
      names.push(name);
    }
    const podStart = now() - t0;
    cleanups.push(() => sh(podman, ['rm', '-f', '-t', '0', ...names]));
    const conmons = sh('pgrep', ['-x', 'conmon']).stdout.trim().split('\n').filter(Boolean).map(Number);
    pod = { names, podStart, conmonRss: conmons.map(rssKb).filter((x) => x > 0) };
  }
}

// --- exec and ps latency, alternated
const contenders = [];
const timed = (label, cmd, a, e) => contenders.push({ label, run: () => {
  const t = now();
  const r = spawnSync(cmd, a, { env: e, stdio: 'ignore' });
  if (r.status !== 0) throw new Error(`${label}: exit ${r.status}`);
  return now() - t;
}, samples: [] });
const pid1 = JSON.parse(readFileSync(join(root, 'containers', ids[0], 'state.json'), 'utf8')).pid;
timed('minidock exec NAME true', process.execPath, ['--', BIN, 'exec', 'b0', 'true'], mdEnv);
timed('floor: nsenter -a -t PID true', 'nsenter', ['-a', '-t', String(pid1), 'true'], env);
if (pod?.names.length) timed('podman exec NAME true', podman, ['exec', pod.names[0], 'true'], env);
timed(`minidock ps (${COUNT} running)`, process.execPath, ['--', BIN, 'ps'], mdEnv);
if (pod?.names.length) timed(`podman ps (${pod.names.length} running)`, podman, ['ps'], env);
for (let round = -1; round < RUNS; round++) {
  for (const c of contenders) {
    const t = c.run();
    if (round >= 0) c.samples.push(t);
  }
}
for (const c of contenders) c.stats = summarize(c.samples);
console.log(formatTable(contenders, contenders[0].stats.median));

const kb = (xs) => { const s = summarize(xs); return s ? `median ${s.median} kB, max ${s.max} kB (n=${s.n})` : '-'; };
console.log(`\nmemory that stays with each detached container (VmRSS):`);
console.log(`  minidock-shim: ${kb(shimRss)}`);
console.log(`  podman conmon: ${pod ? kb(pod.conmonRss) : 'podman not installed'}`);
console.log(`\nstarting ${COUNT} detached containers one after another: minidock ${(mdStart / 1000).toFixed(1)} s` +
  (pod ? `, podman ${(pod.podStart / 1000).toFixed(1)} s (${pod.names.length} started, --network none)` : ''));
