#!/usr/bin/env node
// The layered image store (issue #15) by the three figures the issue asks for:
//
//   1. `load -i` of a docker-archive of the python3 sample split into 3 layers, minidock against
//      `podman load` of the same file, each run into an empty store (all 3 layers unpacked);
//   2. the disk 10 images sharing the python3 base layer take, against 10 flat imports;
//   3. `run --rm --network none IMAGE true` of busybox as 1, 3 and 121 layers (the aim: layers
//      cost under 5 ms a run).
//
//   node bench/images.mjs [--runs N]            as root; NODE_EXTRA_CA_CERTS is unset for all
//
// Every archive is written here, from images/*/out/*.tar, with GNU tar (--numeric-owner
// --sort=name, ustar): no network, nothing pulled. Fairness: every timed command gets CLEAN_ENV
// (NODE_EXTRA_CA_CERTS unset: Node would otherwise read the CA file at every start) and private
// state under one temporary directory, a MINIDOCK_ROOT for minidock and --root/--runroot/--tmpdir
// for podman (with --cgroup-manager cgroupfs --events-backend file, as oci-podman.mjs); the
// contenders alternate run by run after one untimed warm-up each; only the spawnSync of the
// timed command is inside the clock (making and removing the empty stores is not). Figures:
// median (min–max) in ms; sizes by `du -sb` in MB (10^6 bytes).
import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, existsSync, linkSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CLEAN_ENV, lastLine, sh, timeSpawn, which } from './lib/proc.mjs';
import { fmt, markdownTable, summarize } from './lib/stats.mjs';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const RUNS = Number(args[args.indexOf('--runs') + 1]) || (args.includes('--runs') ? NaN : 10);
if (!Number.isInteger(RUNS) || RUNS < 1) { console.error('usage: node bench/images.mjs [--runs N]'); process.exit(2); }
if (process.getuid() !== 0) { console.error('images: run it as root'); process.exit(2); }
if (!/GNU tar/.test(sh('tar', ['--version']).stdout)) { console.error('images: needs GNU tar (for --sort=name)'); process.exit(2); }
const PYTHON3 = join(REPO, 'images/python3/out/python3.tar');
const BUSYBOX = join(REPO, 'images/busybox/out/busybox.tar');
for (const f of [PYTHON3, BUSYBOX]) if (!existsSync(f)) { console.error(`images: ${f} is missing (bin/setup builds the sample images)`); process.exit(2); }

// mkdtemp makes 0700, which the remapped container root (uid 100000) cannot pass on its way to
// the image layers under MINIDOCK_ROOT: 0755, as the suite does.
const work = mkdtempSync(join(tmpdir(), 'mdk-bench-images-'));
chmodSync(work, 0o755);
const MINIDOCK = join(REPO, 'bin/minidock');
const minidockEnv = (root) => { const env = { ...CLEAN_ENV, MINIDOCK_ROOT: root }; delete env.MINIDOCK_TRACE; return env; };
const podmanGlobal = (dir) => ['--root', join(dir, 'storage'), '--runroot', join(dir, 'run'), '--tmpdir', join(dir, 'tmp'), '--cgroup-manager', 'cgroupfs', '--events-backend', 'file'];
// A fixed date, so that the configs (and so the image ids) of one input are the same every time.
const CREATED = '2026-01-01T00:00:00Z';
const MB = (bytes) => bytes / 1e6;

const sha256 = (bytes) => createHash('sha256').update(bytes).digest('hex');

/** A set-up or check command (never timed); throws with its telling line on failure. */
function must(cmd, argv, opts = {}) {
  const r = sh(cmd, argv, { timeout: 600_000, ...opts });
  if (!r.ok) throw new Error(`${[cmd, ...argv].join(' ')}: exit ${r.status}${r.signal ? ` (${r.signal})` : ''}: ${lastLine(r.stderr) || lastLine(r.stdout)}`);
  return r.stdout;
}
const minidock = (root, argv) => must(MINIDOCK, argv, { env: minidockEnv(root) });
const duBytes = (dir) => Number(must('du', ['-sb', dir]).split('\t')[0]);

/** One timed command (timeSpawn: the spawnSync alone inside the clock, stdout discarded, and a
 *  failure is never a sample), named when it fails. */
function timed(cmd, argv, env) {
  try { return timeSpawn(cmd, argv, { env, timeout: 600_000 }); } catch (e) { throw new Error(`${[cmd, ...argv].join(' ')}: ${e.message}`); }
}

/** Unmounts what podman left under `dir` (containers/storage bind-mounts its overlay directory
 *  onto itself, private) and then anything else still mounted there, deepest first; best effort. */
function unmountUnder(dir) {
  sh('umount', ['-R', join(dir, 'storage', 'overlay')]);
  const mounts = readFileSync('/proc/self/mountinfo', 'utf8').split('\n').map((l) => l.split(' ')[4]).filter((m) => m && (m === dir || m.startsWith(`${dir}/`)));
  for (const m of mounts.reverse()) sh('umount', ['-l', m]);
}
const removeStore = (dir) => { unmountUnder(dir); rmSync(dir, { recursive: true, force: true }); };

/** A layer tar of `members` (paths relative to `tree`, recursed into), without the paths taken
 *  by `excluded` (anchored: `usr/lib` is usr/lib and what is under it, never usr/lib64). */
function layerTar(out, tree, members, { excluded = [], mtime, recurse = true } = {}) {
  must('tar', ['-c', '-f', out, '--format=ustar', '--numeric-owner', '--sort=name', ...(mtime ? [`--mtime=${mtime}`] : []),
    '--anchored', ...excluded.map((p) => `--exclude=${p}`), ...(recurse ? [] : ['--no-recursion']), '-C', tree, '--', ...members]);
  return out;
}

/**
 * A flat rootfs tar as layer tars, one per entry of `groups` (a path and everything under it,
 * less what earlier groups took) and a last one of everything else; deterministic: GNU tar's
 * name order, the members' own owners, modes and times. A parent directory a group does not
 * contain (usr/ for usr/lib) is left to the layer that has it, as docker's layers do.
 */
function splitRootfs(tarball, groups, dir) {
  const tree = join(dir, 'tree');
  mkdirSync(tree, { recursive: true });
  must('tar', ['-x', '-f', tarball, '-C', tree, '--numeric-owner']);
  const layers = groups.map((g, i) => layerTar(join(dir, `layer${i + 1}.tar`), tree, [g], { excluded: groups.slice(0, i) }));
  layers.push(layerTar(join(dir, `layer${groups.length + 1}.tar`), tree, readdirSync(tree).sort(), { excluded: groups }));
  // Every member of the input in exactly one layer, or the comparison is not of the same image.
  const count = (t) => must('tar', ['-t', '-f', t]).split('\n').filter(Boolean).length;
  const split = layers.map(count);
  if (split.reduce((a, b) => a + b, 0) !== count(tarball) || split.includes(0)) throw new Error(`splitting ${tarball}: ${split.join(' + ')} members, not ${count(tarball)} in ${split.length} non-empty layers`);
  rmSync(tree, { recursive: true, force: true });
  return layers;
}

/** A tiny layer of the given files (path -> content), at a fixed mtime so its digest is stable. */
function tinyLayer(out, files) {
  const tree = `${out}.tree`;
  for (const [p, content] of Object.entries(files)) {
    mkdirSync(dirname(join(tree, p)), { recursive: true });
    writeFileSync(join(tree, p), content);
  }
  // The directories too (deep/ in every deep layer, as a docker build's layer has it).
  const members = [...new Set(Object.keys(files).flatMap((p) => p.split('/').map((_, i, a) => a.slice(0, i + 1).join('/'))))].sort();
  layerTar(out, tree, members, { mtime: '@1767225600', recurse: false });
  rmSync(tree, { recursive: true, force: true });
  return out;
}

/**
 * A docker-archive (what `docker save` writes) of one image made of `layers` (uncompressed
 * tars, bottom first): <diff id>/layer.tar per layer, the config as <its sha256>.json (so the
 * image id is that name), manifest.json naming both; tarred as plain ustar. Returns its id.
 */
function writeDockerArchive(out, layers, { tag, cmd }) {
  const dir = `${out}.d`;
  mkdirSync(dir, { recursive: true });
  const diffIds = layers.map((file) => {
    const hex = sha256(readFileSync(file));
    mkdirSync(join(dir, hex), { recursive: true });
    // A hard link: the python3 layers are 50 MB, no need to copy them only to tar them again.
    try { linkSync(file, join(dir, hex, 'layer.tar')); } catch { copyFileSync(file, join(dir, hex, 'layer.tar')); }
    return hex;
  });
  const config = JSON.stringify({
    architecture: 'amd64', os: 'linux', created: CREATED,
    config: { Cmd: cmd },
    rootfs: { type: 'layers', diff_ids: diffIds.map((h) => `sha256:${h}`) },
    history: layers.map((_, i) => ({ created: CREATED, created_by: `bench/images.mjs: layer ${i + 1} of ${layers.length}` })),
  });
  const id = sha256(config);
  writeFileSync(join(dir, `${id}.json`), config);
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify([{ Config: `${id}.json`, RepoTags: [tag], Layers: diffIds.map((h) => `${h}/layer.tar`) }]));
  must('tar', ['-c', '-f', out, '--format=ustar', '--numeric-owner', '--sort=name', '-C', dir, 'manifest.json', `${id}.json`, ...[...new Set(diffIds)].sort()]);
  rmSync(dir, { recursive: true, force: true });
  return id;
}

const cell = (samples) => { const s = summarize(samples); return s ? `${fmt(s.median)} (${fmt(s.min)}–${fmt(s.max)})` : '-'; };
const rows = [];
const notes = [];

try {
  console.log(`images: ${RUNS} timed runs each, alternated after an untimed warm-up; NODE_EXTRA_CA_CERTS unset for every command; private stores under ${work}`);

  // ---------------------------------------------------------------- 1. load, against podman
  const py = join(work, 'python3');
  mkdirSync(py);
  const pyLayers = splitRootfs(PYTHON3, ['usr/lib', 'usr'], py);
  const pyArchive = join(work, 'python3-3layers.tar');
  const pyId = writeDockerArchive(pyArchive, pyLayers, { tag: 'bench/python3:3layers', cmd: ['python3'] });
  for (const f of pyLayers) rmSync(f);
  console.log(`load: ${pyArchive} (${fmt(MB(duBytes(pyArchive)))} MB, layers: usr/lib, the rest of usr/, everything else), image id sha256:${pyId}`);

  let round = 0;
  const fresh = () => join(work, `store-${round++}`);
  const loaders = [
    {
      name: 'minidock',
      load(store) { return timed(MINIDOCK, ['load', '-q', '-i', pyArchive], minidockEnv(store)); },
      id: (store) => minidock(store, ['images', '-q', '--no-trunc']).trim(),
      size: (store) => duBytes(join(store, 'images')),
    },
    ...(which('podman') ? [{
      name: 'podman',
      load(store) { return timed('podman', [...podmanGlobal(store), 'load', '-q', '-i', pyArchive], CLEAN_ENV); },
      id: (store) => must('podman', [...podmanGlobal(store), 'images', '-q', '--no-trunc']).trim(),
      size: (store) => duBytes(join(store, 'storage')),
    }] : []),
  ].map((c) => ({ ...c, samples: [] }));
  if (loaders.length === 1) notes.push('podman skipped: podman is not installed (bin/setup installs it)');

  // The warm-up, kept to check the ids and sizes (untimed); a podman that cannot load is
  // reported and left out rather than failing minidock's figures.
  const ids = {};
  const sizes = {};
  for (const c of [...loaders]) {
    const store = fresh();
    try {
      c.load(store);
      ids[c.name] = c.id(store);
      sizes[c.name] = c.size(store);
      if (c.name === 'podman') notes.push(`${lastLine(must('podman', ['--version']))}, storage driver ${must('podman', [...podmanGlobal(store), 'info', '--format', '{{.Store.GraphDriverName}}']).trim()}`);
    } catch (e) {
      if (c.name !== 'podman') throw e;
      loaders.splice(loaders.indexOf(c), 1);
      delete ids.podman;
      delete sizes.podman;
      notes.push(`podman skipped: its load failed: ${e.message}`);
    } finally {
      removeStore(store);
    }
  }
  if (ids.podman !== undefined) {
    const same = ids.minidock === ids.podman && ids.minidock === `sha256:${pyId}`;
    notes.push(`image id after load: minidock ${ids.minidock}, podman ${ids.podman}: ${same ? 'the same, and the config\'s digest' : 'DIFFERENT'}`);
  } else notes.push(`image id after load: minidock ${ids.minidock}`);

  for (let i = 0; i < RUNS; i++) {
    for (const c of loaders) {
      const store = fresh();
      try { c.samples.push(c.load(store)); } finally { removeStore(store); }
    }
  }
  const byName = (n) => loaders.find((c) => c.name === n);
  rows.push(['load -i python3 docker-archive, 3 layers, into an empty store', 'ms', cell(byName('minidock').samples), byName('podman') ? cell(byName('podman').samples) : 'skipped']);
  rows.push(['  store size after that load (images/; podman: its --root)', 'MB', fmt(MB(sizes.minidock)), sizes.podman !== undefined ? fmt(MB(sizes.podman)) : '']);
  rmSync(pyArchive);

  // ---------------------------------------------------------------- 2. disk: shared base layer
  // One archive at a time (each holds the 50 MB base), loaded and then removed.
  const shared = join(work, 'shared-root');
  for (let i = 1; i <= 10; i++) {
    const top = tinyLayer(join(work, `id-${i}.tar`), { id: `${i}\n` });
    const archive = join(work, `shared-${i}.tar`);
    writeDockerArchive(archive, [PYTHON3, top], { tag: `bench/shared:${i}`, cmd: ['python3'] });
    minidock(shared, ['load', '-q', '-i', archive]);
    rmSync(archive);
    rmSync(top);
  }
  // The same ten trees as flat tarballs: python3.tar with its /id appended, imported one by one.
  const flat = join(work, 'flat-root');
  const idDir = join(work, 'flat-id');
  mkdirSync(idDir);
  for (let i = 1; i <= 10; i++) {
    const tarball = join(work, `flat-${i}.tar`);
    copyFileSync(PYTHON3, tarball);
    writeFileSync(join(idDir, 'id'), `${i}\n`);
    must('tar', ['-r', '-f', tarball, '--format=ustar', '--numeric-owner', '--owner=0', '--group=0', '-C', idDir, 'id']);
    minidock(flat, ['import', '-c', 'CMD ["python3"]', tarball, `bench/flat:${i}`]);
    rmSync(tarball);
  }
  const sharedBytes = duBytes(join(shared, 'images'));
  const flatBytes = duBytes(join(flat, 'images'));
  const imageCount = (root) => minidock(root, ['images', '-q']).split('\n').filter(Boolean).length;
  if (imageCount(shared) !== 10 || imageCount(flat) !== 10) throw new Error(`expected 10 images in each store, found ${imageCount(shared)} and ${imageCount(flat)}`);
  rows.push(['10 images sharing the python3 base layer (du -sb images/)', 'MB', fmt(MB(sharedBytes)), '']);
  rows.push(['10 flat imports of the same trees (du -sb images/)', 'MB', fmt(MB(flatBytes)), '']);
  notes.push(`disk: the 10 flat copies take ${fmt(flatBytes / sharedBytes)}x the shared ones (${fmt(MB(flatBytes))} MB / ${fmt(MB(sharedBytes))} MB; each store keeps a layer's blob and its unpacked tree)`);
  rmSync(shared, { recursive: true, force: true });
  rmSync(flat, { recursive: true, force: true });

  // ---------------------------------------------------------------- 3. run over 1, 3, 121 layers
  const runRoot = join(work, 'run-root');
  minidock(runRoot, ['import', BUSYBOX, 'bench/busybox1']);
  const bb = join(work, 'busybox');
  mkdirSync(bb);
  // busybox has no usr/lib: its 3 layers are bin/ (the binary and its links), usr/, the rest.
  const bbLayers = splitRootfs(BUSYBOX, ['bin', 'usr'], bb);
  writeDockerArchive(join(bb, 'busybox3.tar'), bbLayers, { tag: 'bench/busybox3:latest', cmd: ['sh'] });
  minidock(runRoot, ['load', '-q', '-i', join(bb, 'busybox3.tar')]);
  const deep = Array.from({ length: 120 }, (_, i) => tinyLayer(join(bb, `deep-${i + 1}.tar`), { [`deep/${i + 1}`]: `${i + 1}\n` }));
  writeDockerArchive(join(bb, 'deep121.tar'), [BUSYBOX, ...deep], { tag: 'bench/deep121:latest', cmd: ['sh'] });
  minidock(runRoot, ['load', '-q', '-i', join(bb, 'deep121.tar')]);
  rmSync(bb, { recursive: true, force: true });

  const runners = ['bench/busybox1', 'bench/busybox3', 'bench/deep121'].map((image) => {
    const layers = JSON.parse(minidock(runRoot, ['image', 'inspect', image]))[0].RootFS.Layers.length;
    return { image, layers, samples: [] };
  });
  const runOnce = (r) => timed(MINIDOCK, ['run', '--rm', '--network', 'none', r.image, 'true'], minidockEnv(runRoot));
  for (const r of runners) runOnce(r);
  for (let i = 0; i < RUNS; i++) for (const r of runners) r.samples.push(runOnce(r));
  for (const r of runners) rows.push([`run --rm --network none ${r.image} true (${r.layers} layer${r.layers > 1 ? 's' : ''})`, 'ms', cell(r.samples), '']);
  const base = summarize(runners[0].samples).median;
  for (const r of runners.slice(1)) {
    const d = summarize(r.samples).median - base;
    rows.push([`  ${r.layers} layers − 1 layer (medians)`, 'ms', `${d >= 0 ? '+' : ''}${fmt(d)}`, '']);
  }
  const shown = minidock(runRoot, ['run', '--rm', '--network', 'none', 'bench/deep121', 'sh', '-c', 'ls /deep | wc -l']).trim();
  notes.push(`run --rm --network none bench/deep121 sh -c 'ls /deep | wc -l': ${shown}${shown === '120' ? ' (every tiny layer\'s file is there)' : ' (EXPECTED 120)'}`);

  console.log(markdownTable(['measurement', 'unit', 'minidock', 'podman'], rows));
  for (const n of notes) console.log(n);
} finally {
  // Containers were all --rm; what can be left is podman's overlay mount of an interrupted run.
  unmountUnder(work);
  rmSync(work, { recursive: true, force: true });
}
