#!/usr/bin/env node
// Long-run soak: N cycles of `run --rm -p 18000:80 busybox true`; every 10th cycle instead
// `run -d -p 18001:80` -> `exec true` -> `stop -t 1` -> `rm`. Every `--every` cycles it counts
// what could leak (minidock's veths, tagged rules, leases, port leases, host mounts naming the
// state root, container directories, names, the host's open files, SUnreclaim) and at the end
// compares them with the start, and the latency of the last cycles with the first.
//
//   node bench/soak.mjs [--cycles 500] [--every 50] [--json FILE] [--counters-only]
//
// Runs in a network namespace of its own; exits 1 if a counter did not come back or latency
// drifted by more than 20 %. NODE_EXTRA_CA_CERTS is unset.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { inPrivateNetns, options } from './lib/netns.mjs';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const opt = options();
const CYCLES = Number(opt('--cycles', '500'));
const EVERY = Number(opt('--every', '50'));
const JSON_OUT = opt('--json');
// The test suite's short variant judges leaks only: timing belongs to benchmarks, not tests.
const COUNTERS_ONLY = args.includes('--counters-only');
inPrivateNetns(import.meta.url, 'mdksoak');

const root = mkdtempSync(join(tmpdir(), 'minidock-soak-'));
const env = { ...process.env, MINIDOCK_ROOT: root, MINIDOCK_BRIDGE: 'mdksoak0', MINIDOCK_SUBNET: '10.134.0.0/24' };
delete env.NODE_EXTRA_CA_CERTS;
process.on('exit', () => rmSync(root, { recursive: true, force: true }));
const BIN = join(REPO, 'bin/minidock');
const md = (...a) => {
  const r = spawnSync(BIN, [...a], { env, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`minidock ${a.join(' ')}: exit ${r.status}: ${r.stderr}`);
  return r.stdout;
};
const now = () => Number(process.hrtime.bigint()) / 1e6;
const list = (d) => (existsSync(d) ? readdirSync(d) : []);

function counters() {
  const links = readFileSync('/proc/self/net/dev', 'utf8').split('\n').filter((l) => /^\s*mdk[0-9a-f]{12}:/.test(l)).length;
  const rules = (spawnSync('iptables-save', [], { encoding: 'utf8' }).stdout.match(/minidock:[0-9a-f]{64}/g) ?? []).length;
  const leases = list(join(root, 'networks')).reduce((n, net) => n + list(join(root, 'networks', net, 'leases')).length, 0);
  const mounts = readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => l.includes(root)).length;
  const meminfo = readFileSync('/proc/meminfo', 'utf8');
  return {
    links, rules, leases,
    ports: list(join(root, 'ports')).length,
    mounts,
    containers: list(join(root, 'containers')).length,
    names: list(join(root, 'names')).length,
    openFiles: Number(readFileSync('/proc/sys/fs/file-nr', 'utf8').split('\t')[0]),
    sunreclaimKb: Number(/SUnreclaim:\s+(\d+)/.exec(meminfo)?.[1] ?? 0),
  };
}

md('import', '-c', 'CMD ["sh"]', join(REPO, 'images/busybox/out/busybox.tar'), 'busybox');
md('run', '--rm', 'busybox', 'true'); // the network's bridge and rules exist from here on
const base = counters();
const samples = [];
const latencies = [];
for (let i = 1; i <= CYCLES; i++) {
  const t = now();
  if (i % 10 === 0) {
    md('run', '-d', '--name', 'soak', '-p', '18001:80', 'busybox', 'sleep', '60');
    md('exec', 'soak', 'true');
    md('stop', '-t', '1', 'soak');
    md('rm', 'soak');
  } else {
    md('run', '--rm', '-p', '18000:80', 'busybox', 'true');
  }
  latencies.push(now() - t);
  if (i % EVERY === 0 || i === CYCLES) samples.push({ cycle: i, ...counters() });
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const window = Math.max(5, Math.min(50, Math.floor(CYCLES / 4)));
// Only the run --rm cycles are compared (the every-10th round does more work).
const plain = latencies.filter((_, i) => (i + 1) % 10 !== 0);
const first = median(plain.slice(0, window));
const last = median(plain.slice(-window));
const end = samples[samples.length - 1];
const exact = ['links', 'rules', 'leases', 'ports', 'mounts', 'containers', 'names'];
const leaked = exact.filter((k) => end[k] !== base[k]);
// Host-wide counters: other processes open and close files meanwhile, so only growth can be
// ours (a leak); a drop is someone else finishing.
const within = (k, pct) => end[k] - base[k] <= Math.max(base[k] * pct, k === 'openFiles' ? 64 : 0);
const drift = (last - first) / first;
const result = {
  cycles: CYCLES, base, samples,
  latencyMs: { firstMedian: +first.toFixed(1), lastMedian: +last.toFixed(1), drift: +(drift * 100).toFixed(1) },
  leaked, openFilesOk: within('openFiles', 0.05), sunreclaimOk: within('sunreclaimKb', 0.05),
};
console.log(`soak: ${CYCLES} cycles in netns ${process.env.MDK_BENCH_NETNS}, state root ${root}`);
console.log('cycle  links rules leases ports mounts containers names  openFiles SUnreclaim(kB)');
for (const s of [{ cycle: 0, ...base }, ...samples]) {
  console.log(`${String(s.cycle).padStart(5)}  ${[s.links, s.rules, s.leases, s.ports, s.mounts, s.containers, s.names].map((x) => String(x).padStart(5)).join(' ')}  ${String(s.openFiles).padStart(9)} ${String(s.sunreclaimKb).padStart(14)}`);
}
console.log(`latency of run --rm -p: median of the first ${window} ${first.toFixed(1)} ms, of the last ${window} ${last.toFixed(1)} ms (${(drift * 100).toFixed(1)} %)`);
const ok = leaked.length === 0 && result.openFilesOk && result.sunreclaimOk && (COUNTERS_ONLY || drift <= 0.2);
console.log(ok ? 'soak: every counter is back where it started; no upward drift' : `soak: FAILED (leaked: ${leaked.join(', ') || 'none'}; open files ok: ${result.openFilesOk}; SUnreclaim ok: ${result.sunreclaimOk}; drift ${(drift * 100).toFixed(1)} %)`);
if (JSON_OUT) writeFileSync(JSON_OUT, JSON.stringify(result, null, 2));
process.exit(ok ? 0 : 1);
