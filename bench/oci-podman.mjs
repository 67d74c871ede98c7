#!/usr/bin/env node
// `podman run --rm true` with minidock-runc as podman's runtime, beside Debian's runc (issue
// #14): what a podman user pays for choosing minidock's runtime. podman, conmon and the image
// (busybox from images/, run with --rootfs) are the same; only --runtime differs.
//
//   node bench/oci-podman.mjs [--runs N]        as root; NODE_EXTRA_CA_CERTS is unset for all
//
// Fairness: one private podman root, runroot and tmpdir for both contenders, --network none
// (no CNI set-up timed), --cgroup-manager cgroupfs, the host's hard limits as --ulimit (root
// lacks CAP_SYS_RESOURCE here, and podman's defaults ask for more), contenders alternated run by
// run after an untimed warm-up each, every `podman run` timed around its spawnSync only. crun is
// left out: podman hands it the host's cgroup layout, and crun 1.8 refuses hybrid cgroups.
// Figures: median (min-max), ms.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CLEAN_ENV, now, which } from './lib/proc.mjs';
import { fmt, summarize } from './lib/stats.mjs';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const RUNS = Number(args[args.indexOf('--runs') + 1]) || (args.includes('--runs') ? NaN : 10);
if (!Number.isInteger(RUNS) || RUNS < 1) { console.error('usage: node bench/oci-podman.mjs [--runs N]'); process.exit(2); }
if (process.getuid() !== 0) { console.error('oci-podman: run it as root'); process.exit(2); }
if (!which('podman')) { console.error('oci-podman: podman is not installed (bin/setup installs it)'); process.exit(2); }

const hard = (label) => readFileSync('/proc/self/limits', 'utf8').split('\n').find((l) => l.startsWith(label)).slice(26).trim().split(/\s+/)[1];
const pidMax = Number(readFileSync('/proc/sys/kernel/pid_max', 'utf8'));
const nproc = Math.min(Number(hard('Max processes')) || pidMax, pidMax);
const work = mkdtempSync(join(tmpdir(), 'mdk-bench-podman-'));
const rootfs = join(work, 'rootfs');
mkdirSync(rootfs);
spawnSync('tar', ['-xf', join(REPO, 'images/busybox/out/busybox.tar'), '-C', rootfs]);
const global = ['--root', join(work, 'storage'), '--runroot', join(work, 'run'), '--tmpdir', join(work, 'tmp'), '--cgroup-manager', 'cgroupfs', '--events-backend', 'file'];
const runArgs = ['run', '--rm', '--network', 'none', '--ulimit', `nofile=${hard('Max open files')}:${hard('Max open files')}`, '--ulimit', `nproc=${nproc}:${nproc}`,
  '--cgroup-parent', `/mdkbench${process.pid}`, '--rootfs', rootfs, 'true'];
const contenders = [
  { name: 'minidock-runc', runtime: join(REPO, 'bin/minidock-runc.js') },
  ...(which('runc') ? [{ name: 'runc', runtime: which('runc') }] : []),
].map((c) => ({ ...c, samples: [] }));

function once(c) {
  const t0 = now();
  const r = spawnSync('podman', [...global, '--runtime', c.runtime, ...runArgs], { env: CLEAN_ENV, encoding: 'utf8', input: '', timeout: 60_000 });
  const ms = now() - t0;
  if (r.status !== 0) throw new Error(`podman --runtime ${c.name} run --rm true: exit ${r.status}: ${r.stderr.trim()}`);
  return ms;
}

try {
  console.log(`oci-podman: ${RUNS} runs each of podman run --rm true with --runtime ${contenders.map((c) => c.name).join(', ')}, alternated; NODE_EXTRA_CA_CERTS unset`);
  for (const c of contenders) once(c);
  for (let i = 0; i < RUNS; i++) for (const c of contenders) c.samples.push(once(c));
  console.log('| podman run --rm true (ms) | median (min–max) |');
  console.log('| --- | ---: |');
  for (const c of contenders) {
    const s = summarize(c.samples);
    console.log(`| --runtime ${c.name} | ${fmt(s.median)} (${fmt(s.min)}–${fmt(s.max)}) |`);
  }
  if (contenders.length > 1) {
    const [a, b] = contenders.map((c) => summarize(c.samples).median);
    console.log(`minidock-runc − runc: ${fmt(a - b)} ms a container`);
  }
} finally {
  spawnSync('podman', [...global, 'rm', '-af', '-t', '0'], { env: CLEAN_ENV, input: '' });
  spawnSync('podman', [...global, 'system', 'reset', '-f'], { env: CLEAN_ENV, input: '' });
  for (const l of readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((x) => x.includes(work)).reverse()) spawnSync('umount', ['-l', l.split(' ')[4]]);
  for (const m of readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => / - cgroup2? /.test(l)).map((l) => l.split(' ')[4])) {
    spawnSync('rmdir', [join(m, `mdkbench${process.pid}`, 'conmon'), join(m, `mdkbench${process.pid}`)]);
  }
  rmSync(work, { recursive: true, force: true });
}
