#!/usr/bin/env node
// `minidock pull` from a local registry, beside `podman pull` and `skopeo copy` of the same
// image (issue #16). The registry is Debian's docker-registry, started here on 127.0.0.1 with a
// private config and storage (nothing leaves the machine); the image is the python3 sample split
// into 3 layers (usr/lib, the rest of usr/, everything else), pushed once by skopeo (which gzips
// the layers, as a registry image is).
//
//   node bench/pull.mjs [--runs N]        as root; NODE_EXTRA_CA_CERTS is unset for every command
//
// Rows: a pull into an empty store (minidock: a fresh MINIDOCK_ROOT; podman: a fresh --root,
// --runroot and --tmpdir; skopeo: a fresh oci: directory), alternated run by run after an untimed
// warm-up each, the making and removing of stores untimed; a repeated pull of an image the store
// has (against `node -e 0`, the aim being under 2x Node's start); the CPU time (user + system, by
// /usr/bin/time) per MB the pull unpacked. Figures: median (min-max).
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CLEAN_ENV, now, which } from './lib/proc.mjs';
import { fmt, summarize } from './lib/stats.mjs';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const RUNS = Number(args[args.indexOf('--runs') + 1]) || (args.includes('--runs') ? NaN : 8);
if (!Number.isInteger(RUNS) || RUNS < 1) { console.error('usage: node bench/pull.mjs [--runs N]'); process.exit(2); }
if (process.getuid() !== 0) { console.error('pull: run it as root'); process.exit(2); }
for (const t of ['docker-registry', 'skopeo']) if (!which(t)) { console.error(`pull: ${t} is not installed (bin/setup installs it)`); process.exit(2); }

const work = mkdtempSync(join(tmpdir(), 'mdk-bench-pull-'));
const PORT = 5900 + (process.pid % 90);
const REG = `127.0.0.1:${PORT}`;
const IMAGE = `${REG}/bench/python3:3layers`;
const sha = (b) => createHash('sha256').update(b).digest('hex');
const must = (cmd, argv, opts = {}) => {
  const r = spawnSync(cmd, argv, { encoding: 'utf8', env: CLEAN_ENV, maxBuffer: 1 << 26, ...opts });
  if (r.status !== 0) throw new Error(`${cmd} ${argv.join(' ')}: exit ${r.status}: ${(r.stderr || '').trim().split('\n').slice(-3).join(' | ')}`);
  return r.stdout;
};
const timed = (cmd, argv, env = CLEAN_ENV) => {
  const t0 = now();
  const r = spawnSync('/usr/bin/time', ['-f', '%U %S', cmd, ...argv], { encoding: 'utf8', env, input: '' });
  const ms = now() - t0;
  if (r.status !== 0) throw new Error(`${cmd} ${argv.join(' ')}: exit ${r.status}: ${r.stderr.trim().split('\n').slice(-4, -1).join(' | ')}`);
  const [u, s] = r.stderr.trim().split('\n').pop().split(' ').map(Number);
  return { ms, cpu: (u + s) * 1000 };
};
const unmountUnder = (dir) => {
  const mps = readFileSync('/proc/self/mountinfo', 'utf8').split('\n').map((l) => l.split(' ')[4]).filter((m) => m && m.startsWith(dir + '/')).sort((a, b) => b.length - a.length);
  for (const m of mps) spawnSync('umount', ['-l', m]);
};
// Short paths: podman refuses a runroot longer than 50 characters.
const fresh = (name) => mkdtempSync(join(tmpdir(), `mdkp-${name.slice(0, 3)}-`));
const drop = (d) => { unmountUnder(d); rmSync(d, { recursive: true, force: true }); };

let registry;
try {
  // The registry: loopback only, its storage here.
  writeFileSync(join(work, 'config.yml'), `version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: ${join(work, 'registry')}\nhttp:\n  addr: ${REG}\nlog:\n  level: error\n`);
  registry = spawn('docker-registry', ['serve', join(work, 'config.yml')], { stdio: 'ignore' });
  for (let i = 0; i < 100 && spawnSync('curl', ['-sf', `http://${REG}/v2/`]).status !== 0; i++) spawnSync('sleep', ['0.1']);

  // The image: python3 in 3 layers, as an OCI layout, pushed by skopeo.
  const tree = join(work, 'tree');
  mkdirSync(tree);
  must('tar', ['-xf', join(REPO, 'images/python3/out/python3.tar'), '-C', tree]);
  const common = ['--numeric-owner', '--sort=name', '--mtime=2026-01-01', '-C', tree];
  const layers = [
    ['usr-lib.tar', ['usr/lib']],
    ['usr-rest.tar', ['--exclude=./usr/lib', './usr']],
    ['rest.tar', ['--exclude=./usr', '.']],
  ].map(([name, what]) => { const f = join(work, name); must('tar', ['-cf', f, ...common, ...what]); return f; });
  const layout = join(work, 'oci');
  mkdirSync(join(layout, 'blobs/sha256'), { recursive: true });
  writeFileSync(join(layout, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
  const descs = layers.map((f) => { const b = readFileSync(f); const d = sha(b); copyFileSync(f, join(layout, 'blobs/sha256', d)); return { mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: `sha256:${d}`, size: b.length }; });
  const config = JSON.stringify({ architecture: 'amd64', os: 'linux', created: '2026-01-01T00:00:00Z', config: { Cmd: ['python3'] }, rootfs: { type: 'layers', diff_ids: descs.map((d) => d.digest) }, history: descs.map((_, i) => ({ created: '2026-01-01T00:00:00Z', created_by: `layer ${i + 1}` })) });
  writeFileSync(join(layout, 'blobs/sha256', sha(config)), config);
  const manifest = JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: `sha256:${sha(config)}`, size: config.length }, layers: descs });
  writeFileSync(join(layout, 'blobs/sha256', sha(manifest)), manifest);
  writeFileSync(join(layout, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: `sha256:${sha(manifest)}`, size: manifest.length, annotations: { 'org.opencontainers.image.ref.name': 'py' } }] }));
  must('skopeo', ['copy', '--quiet', '--dest-tls-verify=false', `oci:${layout}:py`, `docker://${IMAGE}`]);
  const compressed = JSON.parse(must('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${IMAGE}`])).layers.reduce((n, l) => n + l.size, 0);
  const unpacked = layers.reduce((n, f) => n + statSync(f).size, 0);
  rmSync(tree, { recursive: true, force: true });

  const env = (root) => ({ ...CLEAN_ENV, MINIDOCK_ROOT: root });
  const pg = (d) => ['--root', join(d, 'storage'), '--runroot', join(d, 'run'), '--tmpdir', join(d, 'tmp'), '--cgroup-manager', 'cgroupfs', '--events-backend', 'file'];
  const contenders = [
    { name: 'minidock pull', once: () => { const d = fresh('mdk'); try { return timed(join(REPO, 'bin/minidock'), ['pull', '-q', IMAGE], env(d)); } finally { drop(d); } } },
    ...(which('podman') ? [{ name: 'podman pull', once: () => { const d = fresh('podman'); try { return timed('podman', [...pg(d), 'pull', '-q', '--tls-verify=false', IMAGE]); } finally { drop(d); } } }] : []),
    { name: 'skopeo copy docker:// oci:', once: () => { const d = fresh('skopeo'); try { return timed('skopeo', ['copy', '--quiet', '--src-tls-verify=false', `docker://${IMAGE}`, `oci:${join(d, 'oci')}:py`]); } finally { drop(d); } } },
  ].map((c) => ({ ...c, ms: [], cpu: [] }));
  for (const c of contenders) c.once(); // warm-up
  for (let i = 0; i < RUNS; i++) for (const c of contenders) { const r = c.once(); c.ms.push(r.ms); c.cpu.push(r.cpu); }

  // The repeated pull: the image is there; Node's start for scale.
  const kept = fresh('kept');
  must(join(REPO, 'bin/minidock'), ['pull', '-q', IMAGE], { env: env(kept) });
  const again = [];
  const node0 = [];
  for (let i = 0; i < RUNS; i++) {
    again.push(timed(join(REPO, 'bin/minidock'), ['pull', '-q', IMAGE], env(kept)).ms);
    node0.push(timed(process.execPath, ['-e', '0']).ms);
  }
  drop(kept);

  const cell = (xs) => { const s = summarize(xs); return `${fmt(s.median)} (${fmt(s.min)}–${fmt(s.max)})`; };
  const mb = unpacked / 1e6;
  console.log(`pull: ${RUNS} timed runs each, alternated after a warm-up; NODE_EXTRA_CA_CERTS unset; registry ${REG} (docker-registry, loopback)`);
  console.log(`image: python3 in 3 layers, ${fmt(compressed / 1e6)} MB gzipped in the registry, ${fmt(mb)} MB of tar unpacked`);
  console.log('| measurement | unit | figure |');
  console.log('| --- | ---: | ---: |');
  for (const c of contenders) console.log(`| ${c.name}, into an empty store | ms | ${cell(c.ms)} |`);
  for (const c of contenders) console.log(`| ${c.name}: CPU (user+sys) per MB unpacked | ms/MB | ${fmt(summarize(c.cpu).median / mb)} |`);
  console.log(`| minidock pull of an image the store has | ms | ${cell(again)} |`);
  console.log(`| node -e 0 | ms | ${cell(node0)} |`);
  console.log(`repeated pull / Node's start: ${fmt(summarize(again).median / summarize(node0).median)}x (aim: under 2x)`);
} finally {
  if (registry) registry.kill('SIGTERM');
  unmountUnder(work);
  rmSync(work, { recursive: true, force: true });
}
