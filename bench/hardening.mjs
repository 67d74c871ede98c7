#!/usr/bin/env node
// What the hardening costs at start-up: `run --rm --network none busybox true` with each layer of
// it turned off in turn, alternated run by run. Three figures per row: the whole command (Node's
// start included), and from MINIDOCK_TRACE=1 the parent's clone step (clone3, the id maps and,
// remapped, the idmapped clone of the image) and the child's own set-up after "go" (mounts,
// privileges, the seccomp filter, execve). Plus the one-time cost of the fallback for kernels
// without idmapped mounts: copying an image with shifted owners (MINIDOCK_IDMAP=shift).
//
//   node bench/hardening.mjs [--runs 30] [--json FILE]
//
// NODE_EXTRA_CA_CERTS is unset for every run (see bench/README.md).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { options } from './lib/netns.mjs';
import { fmt, markdownTable, summarize } from './lib/stats.mjs';

const opt = options();
const RUNS = Number(opt('--runs', '30'));
const REPO = join(dirname(fileURLToPath(import.meta.url)), '..');
const BIN = join(REPO, 'bin/minidock');
const root = mkdtempSync(join(tmpdir(), 'mdk-bench-hard-'));
const env = { ...process.env, MINIDOCK_ROOT: root, MINIDOCK_TRACE: '1' };
delete env.NODE_EXTRA_CA_CERTS;

function minidock(args, extraEnv = {}) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(BIN, [...args], { env: { ...env, ...extraEnv }, encoding: 'utf8' });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`minidock ${args.join(' ')}: exit ${r.status}: ${r.stderr.trim().split('\n').pop()}`);
  // "trace:   103.0 ms  +  2.8  child set up and exec'd (or failed)"
  const child = Number(/\+\s*([\d.]+)\s+child set up and exec'd/.exec(r.stderr)?.[1]);
  const clone = Number(/\+\s*([\d.]+)\s+run\.child-created/.exec(r.stderr)?.[1]);
  return { ms, child, clone };
}

const contenders = [
  ['default: remapped root, idmapped image, caps, no_new_privs, seccomp', []],
  ['--userns=host: no remap, no idmapped mount', ['--userns=host']],
  ['--userns=host, seccomp=unconfined', ['--userns=host', '--security-opt', 'seccomp=unconfined']],
  ['--privileged: identity map, all caps, no filter', ['--privileged']],
];

try {
  const tar = join(REPO, 'images/busybox/out/busybox.tar');
  spawnSync(BIN, ['import', tar, 'busybox'], { env, stdio: 'ignore' });
  const pyTar = join(REPO, 'images/python3/out/python3.tar');
  spawnSync(BIN, ['import', pyTar, 'python3'], { env, stdio: 'ignore' });
  for (const [, flags] of contenders) minidock(['run', '--rm', '--network', 'none', ...flags, 'busybox', 'true']); // warm caches

  const samples = contenders.map(() => ({ ms: [], child: [], clone: [] }));
  for (let i = 0; i < RUNS; i++) {
    contenders.forEach(([, flags], k) => {
      const r = minidock(['run', '--rm', '--network', 'none', ...flags, 'busybox', 'true']);
      samples[k].ms.push(r.ms);
      samples[k].child.push(r.child);
      samples[k].clone.push(r.clone);
    });
  }
  const rows = contenders.map(([label], k) => {
    const w = summarize(samples[k].ms);
    const c = summarize(samples[k].child);
    return { label, whole: w, clone: summarize(samples[k].clone), child: c };
  });

  // The fallback: the first remapped run of an image copies it with shifted owners.
  const shift = [];
  for (const image of ['busybox', 'python3']) {
    const first = minidock(['run', '--rm', '--network', 'none', image, 'true'], { MINIDOCK_IDMAP: 'shift' }).ms;
    const again = [];
    for (let i = 0; i < 5; i++) again.push(minidock(['run', '--rm', '--network', 'none', image, 'true'], { MINIDOCK_IDMAP: 'shift' }).ms);
    const files = spawnSync('sh', ['-c', `find ${root}/images/*/rootfs-* -maxdepth 0 -print0 | xargs -0 -I{} sh -c 'find {} | wc -l'`], { encoding: 'utf8' }).stdout.trim().split('\n');
    shift.push({ image, first, again: summarize(again), files: files[files.length - 1] });
  }

  const table = markdownTable(
    ['contender (busybox true, --network none)', 'whole run, ms', 'clone + maps (+ idmap), ms', 'child go→exec, ms'],
    rows.map((r) => [r.label, ...[r.whole, r.clone, r.child].map((x) => `${fmt(x.median)} (${fmt(x.min)}–${fmt(x.max)})`)]),
  );
  console.log(`\nHardening at start-up: ${RUNS} runs each, alternated; median (min–max); NODE_EXTRA_CA_CERTS unset\n`);
  console.log(table);
  console.log('\nFallback without idmapped mounts (MINIDOCK_IDMAP=shift): the first run copies the image');
  console.log(markdownTable(
    ['image', 'files', 'first run (copy), ms', 'later runs, ms'],
    shift.map((s) => [s.image, s.files, fmt(s.first), fmt(s.again.median)]),
  ));
  const json = opt('--json', undefined);
  if (json) writeFileSync(json, JSON.stringify({ runs: RUNS, rows, shift }, null, 2) + '\n');
} finally {
  spawnSync('rm', ['-rf', root]);
  rmSync(root, { recursive: true, force: true });
}
