// Layered images end to end (issue #15), on the real kernel and with the real peers: an OCI
// layout written here whose layers add, change, delete (whiteouts) and replace a directory
// (opaque), loaded and run (idmapped, with the host's ids, and through the shifted-copy
// fallback): the container sees exactly the final tree. skopeo's docker-archive of it loads to
// the same id; minidock's save loads in podman, whose container sees the same tree; rmi counts
// layer references; 121 layers run; a killed load leaves only what gc removes; a hostile layout
// stores nothing; two loads sharing a layer unpack it once. Each test leaves nothing behind.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BIN, BUSYBOX_TAR, TEST_NETNS, cliArgv, envFor, leakChecked, mdk, newRoot, removeRoot, requireRootAndImages, snapshot } from '../helpers/cli.js';
import { layerTar, ociLayout } from '../helpers/image-layout.js';

requireRootAndImages();
for (const tool of ['skopeo', 'podman']) {
  if (spawnSync(tool, ['--version']).status !== 0) throw new Error(`${tool} is missing: run bin/setup (it installs it)`);
}
const root = newRoot('images');
const work = mkdtempSync(join(tmpdir(), 'mdk-images-'));
const before = snapshot(root);
const Images = suite('images');
Images.after(() => {
  removeRoot(root);
  rmSync(work, { recursive: true, force: true });
});
const T = leakChecked(Images, root, before);

const ok = (args: string[], env: NodeJS.ProcessEnv = {}): string => {
  const r = mdk(root, args, { env });
  assert.is(r.code, 0, `minidock ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
};
const layers = (r = root): string[] => (existsSync(join(r, 'images/layers')) ? readdirSync(join(r, 'images/layers')).filter((n) => n !== 'l') : []);
const blobs = (r = root): string[] => (existsSync(join(r, 'images/blobs/sha256')) ? readdirSync(join(r, 'images/blobs/sha256')) : []);

// The image: busybox, then three layers of changes under /t.
const L2 = layerTar(work, 'l2', { 't/a': 'one\n', 't/b': 'b\n', 't/old/x': 'x\n', 't/keep': 'keep\n', 't/gone/deep/f': 'f\n' });
const L3 = layerTar(work, 'l3', { 't/a': 'two\n', 't/.wh.b': '', 't/old/.wh..wh..opq': '', 't/old/y': 'y\n', 't/.wh.gone': '' }, true);
const L4 = layerTar(work, 'l4', { 't/new/file': 'new\n', 't/.wh.keep': '' });
const layout = ociLayout(join(work, 'oci'), [BUSYBOX_TAR, L2, L3, L4], { tag: 'mdk-test/layers:1' });
/** What the container must see: b, keep and gone/ deleted, a changed, old/ replaced, new/ added. */
const PROBE = 'cd /t && find . | sort | tr "\\n" " " && cat a old/y new/file';
const FINAL = '. ./a ./new ./new/file ./old ./old/y two\ny\nnew\n';

T('an OCI layout of four layers loads (Loaded image: NAME:TAG) with the id of its config, and runs the final tree', () => {
  assert.is(ok(['load', '-i', layout.dir]), 'Loaded image: mdk-test/layers:1\n');
  assert.is(ok(['images', '-q', '--no-trunc', 'mdk-test/layers:1']), `sha256:${layout.id}\n`);
  assert.is(layers().length, 4, 'one directory per layer');
  // Remapped (the default), through one idmapped mount of the layer store.
  assert.is(ok(['run', '--rm', '--network', 'none', 'mdk-test/layers:1', 'sh', '-c', PROBE]), FINAL);
  // The host's ids: the store's layers as they are.
  assert.is(ok(['run', '--rm', '--network', 'none', '--userns', 'host', 'mdk-test/layers:1', 'sh', '-c', PROBE]), FINAL);
  // No idmapped mounts: each layer copied once with shifted owners.
  assert.is(ok(['run', '--rm', '--network', 'none', 'mdk-test/layers:1', 'sh', '-c', PROBE], { MINIDOCK_IDMAP: 'shift' }), FINAL);
  assert.is(readdirSync(join(root, 'shifted')).length, 1, 'one shifted tree for the one mapping');
  // The container writes to its own upper layer: a merged directory can be replaced (overlay's
  // opaque marker on the upper layer, which needs userxattr inside a user namespace).
  assert.is(ok(['run', '--rm', '--network', 'none', 'mdk-test/layers:1', 'sh', '-c', 'rm -rf /t/old && mkdir /t/old && ls -A /t/old && echo replaced']), 'replaced\n');
  assert.is(ok(['run', '--rm', '--network', 'none', 'mdk-test/layers:1', 'sh', '-c', PROBE]), FINAL, 'and the image is unchanged');
  // Loading it again unpacks nothing: the layers are there.
  const t0 = layers().join();
  assert.is(ok(['load', '-i', layout.dir]), 'Loaded image: mdk-test/layers:1\n');
  assert.is(layers().join(), t0);
});

T('run --explain shows the layer stack: each layer\'s short name, diff id and the history step that made it', () => {
  const out = ok(['run', '--dry-run', '--explain', '--network', 'none', 'mdk-test/layers:1', 'true']);
  assert.match(out, /── image mdk-test\/layers:1: 4 layers, top first \(overlay's lowerdir order\) ──\n {3}1\. l\/[a-z0-9]{20} {2}sha256:[0-9a-f]{12}… .* layer 4\n/);
  assert.match(out, / {3}4\. l\/[a-z0-9]{20} .* layer 1\n/);
  assert.match(out, /cd \S+ && mount -t overlay overlay -o \\\n\s+nodev,lowerdir=l\/[a-z0-9]{20}:l\//);
});

T('image prune: dangling images only (and their layers), -a every image no container uses; without -f it asks', () => {
  const p1 = ociLayout(join(work, 'oci-p1'), [BUSYBOX_TAR, layerTar(work, 'lp1', { p: '1\n' })], { tag: 'mdk-test/p:1' });
  const p2 = ociLayout(join(work, 'oci-p2'), [BUSYBOX_TAR, layerTar(work, 'lp2', { p: '2\n' })], { tag: 'mdk-test/p:1' });
  ok(['load', '-i', p1.dir]);
  ok(['load', '-i', p2.dir]); // p2 takes the tag: p1 is dangling now
  const ids = (): string[] => ok(['images', '-q', '--no-trunc']).trim().split('\n').filter(Boolean);
  assert.match(ok(['images']), /\n<none>\s+<none>\s+[0-9a-f]{12}\s/);
  const all = ids();
  const asked = mdk(root, ['image', 'prune']);
  assert.is(asked.code, 0);
  assert.is(asked.stdout, 'WARNING! This will remove all dangling images.\nAre you sure you want to continue? [y/N] ');
  assert.equal(ids(), all, 'no answer, nothing removed');
  const pruned = ok(['image', 'prune', '-f']);
  assert.match(pruned, new RegExp(`^Deleted Images:\\ndeleted: sha256:${p1.id}\\ndeleted: sha256:[0-9a-f]{64}\\n\\nTotal reclaimed space: \\S+B\\n$`), pruned);
  assert.equal(ids(), all.filter((i) => i !== `sha256:${p1.id}`));
  assert.is(layers().length, 5, 'layers:1 (4) and p2 top layer; the busybox base is shared');
  ok(['run', '--network', 'none', '--name', 'keeps', 'mdk-test/p:1', 'true']);
  ok(['image', 'prune', '-a', '-f']);
  assert.equal(ids(), [`sha256:${p2.id}`], 'only the image a container uses is left');
  ok(['rm', 'keeps']);
  ok(['rmi', 'mdk-test/p:1']);
  assert.equal(layers(), []);
  ok(['load', '-i', layout.dir]); // for the tests that follow
});

T('image inspect, history and tag show docker\'s fields from the config and the store', () => {
  const [img] = JSON.parse(ok(['image', 'inspect', 'mdk-test/layers:1'])) as Array<Record<string, any>>;
  assert.is(img!.Id, `sha256:${layout.id}`);
  assert.equal(img!.RepoTags, ['mdk-test/layers:1']);
  assert.is(img!.RootFS.Layers.length, 4);
  assert.is(img!.Created, '2026-01-02T03:04:05Z');
  assert.equal(img!.Config.Cmd, ['sh']);
  assert.ok(existsSync(img!.GraphDriver.Data.UpperDir), 'the top layer is where inspect says');
  assert.is(img!.GraphDriver.Data.LowerDir.split(':').length, 3);
  const hist = ok(['history', 'mdk-test/layers:1']).trim().split('\n');
  assert.match(hist[0]!, /^IMAGE\s+CREATED\s+CREATED BY\s+SIZE\s+COMMENT$/);
  assert.is(hist.length, 5);
  assert.match(hist[1]!, new RegExp(`^${layout.id.slice(0, 12)}\\s+.*layer 4`));
  assert.match(hist[4]!, /^<missing>\s+.*layer 1/);
  ok(['tag', 'mdk-test/layers:1', 'other:2']);
  assert.is(ok(['images', '-q', 'other:2']), `${layout.id.slice(0, 12)}\n`);
  const r = mdk(root, ['rmi', layout.id.slice(0, 12)]);
  assert.is(r.code, 1, 'an id with two tags is not removed without -f');
  assert.match(r.stderr, /referenced in multiple repositories/);
  assert.is(ok(['rmi', 'other:2']), 'Untagged: other:2\n');
});

T("skopeo's docker-archive of the layout loads to the same image id", () => {
  const file = join(work, 'skopeo.tar');
  const r = spawnSync('skopeo', ['copy', '--quiet', `oci:${layout.dir}`, `docker-archive:${file}:mdk-test/skopeo:1`], { encoding: 'utf8' });
  assert.is(r.status, 0, r.stderr);
  const other = newRoot('images-skopeo');
  try {
    assert.is(mdk(other, ['load', '-i', file]).stdout, 'Loaded image: mdk-test/skopeo:1\n');
    assert.is(mdk(other, ['images', '-q', '--no-trunc']).stdout, `sha256:${layout.id}\n`);
    assert.is(mdk(other, ['run', '--rm', '--network', 'none', 'mdk-test/skopeo:1', 'sh', '-c', PROBE]).stdout, FINAL);
  } finally {
    removeRoot(other);
  }
});

T('save (docker-archive) loads in podman, whose container sees the same tree; oci-archive and stdin load back to the same id', () => {
  const file = join(work, 'saved.tar');
  ok(['save', '-o', file, 'mdk-test/layers:1']);
  const store = join(work, 'podman');
  const P = ['--root', join(store, 'storage'), '--runroot', join(store, 'run'), '--tmpdir', join(store, 'tmp'), '--cgroup-manager', 'cgroupfs', '--events-backend', 'file', '--runtime', 'runc'];
  const limit = (label: string): string => readFileSync('/proc/self/limits', 'utf8').split('\n').find((l) => l.startsWith(label))!.slice(26).trim().split(/\s+/)[1]!;
  const pidMax = Number(readFileSync('/proc/sys/kernel/pid_max', 'utf8'));
  const nproc = Math.min(Number(limit('Max processes')) || pidMax, pidMax);
  const podman = (args: string[]): ReturnType<typeof spawnSync> =>
    spawnSync('nsenter', [`--net=/run/netns/${TEST_NETNS}`, 'podman', ...P, ...args], { encoding: 'utf8', env: envFor(root), input: '', timeout: 120_000 });
  try {
    const l = podman(['load', '-i', file]);
    assert.is(l.status, 0, String(l.stderr));
    assert.match(String(l.stdout), /Loaded image: (localhost\/)?mdk-test\/layers:1/);
    const id = podman(['images', '-q', '--no-trunc']);
    assert.is(String(id.stdout).trim(), `sha256:${layout.id}`, 'podman computes the same image id');
    const run = podman(['run', '--rm', '--network', 'none', '--ulimit', `nofile=${limit('Max open files')}:${limit('Max open files')}`, '--ulimit', `nproc=${nproc}:${nproc}`, 'mdk-test/layers:1', 'sh', '-c', PROBE]);
    assert.is(run.status, 0, String(run.stderr));
    assert.is(String(run.stdout), FINAL);
  } finally {
    podman(['rmi', '-a', '-f']);
    spawnSync('umount', ['-R', join(store, 'storage', 'overlay')]);
    rmSync(store, { recursive: true, force: true });
  }
  // Two images (three tags) in one archive, OCI form: every one comes back, by its own id.
  ok(['tag', 'mdk-test/layers:1', 'mdk-test/again:2']);
  ok(['import', BUSYBOX_TAR, 'mdk-test/flat:1']);
  const flatId = ok(['images', '-q', '--no-trunc', 'mdk-test/flat:1']).trim();
  const oci = join(work, 'saved-oci.tar');
  ok(['save', '--format', 'oci-archive', '-o', oci, 'mdk-test/layers:1', 'mdk-test/again:2', 'mdk-test/flat:1']);
  ok(['rmi', 'mdk-test/again:2', 'mdk-test/flat:1']);
  const other = newRoot('images-oci');
  try {
    assert.equal(mdk(other, ['load', '-i', oci]).stdout.split('\n').filter(Boolean).sort(), ['Loaded image: mdk-test/again:2', 'Loaded image: mdk-test/flat:1', 'Loaded image: mdk-test/layers:1']);
    assert.equal(mdk(other, ['images', '-q', '--no-trunc']).stdout.split('\n').filter(Boolean).sort(), [`sha256:${layout.id}`, flatId].sort());
    assert.is(mdk(other, ['rmi', 'mdk-test/again:2', 'mdk-test/flat:1']).code, 0);
    // docker's own form on stdin, gzipped as `docker save | gzip` makes it.
    const gz = spawnSync('sh', ['-c', `gzip -c ${file} | nsenter --net=/run/netns/${TEST_NETNS} ${BIN} load`], { encoding: 'utf8', env: envFor(other) });
    assert.is(gz.status, 0, gz.stderr);
    assert.is(gz.stdout, 'Loaded image: mdk-test/layers:1\n');
    assert.equal(readdirSync(join(other, 'tmp')), [], 'the spooled copy is gone');
  } finally {
    removeRoot(other);
  }
});

T('commit: the container\'s changes become a layer (whiteouts and opaque directories back in OCI form) that runs, saves and loads; diff lists them', () => {
  ok(['run', '--network', 'none', '--name', 'cm', 'mdk-test/layers:1', 'sh', '-c', 'echo three > /t/a; rm /t/new/file; rm -rf /t/old; mkdir /t/old; echo z > /t/old/z; echo added > /t/added']);
  assert.is(ok(['diff', 'cm']), ['C /t', 'C /t/a', 'A /t/added', 'C /t/new', 'D /t/new/file', 'C /t/old', 'A /t/old/z'].map((l) => `${l}\n`).join(''));
  const id = ok(['commit', '-m', 'three', '-a', 'Test <t@example.com>', '-c', 'CMD ["cat", "/t/a"]', 'cm', 'mdk-test/committed:1']).trim();
  assert.match(id, /^sha256:[0-9a-f]{64}$/);
  ok(['rm', 'cm']);
  assert.is(ok(['run', '--rm', '--network', 'none', 'mdk-test/committed:1']), 'three\n', "the --change CMD is the image's");
  const tree = 'cd /t && find . | sort | tr "\\n" " "; cat old/z';
  const want = '. ./a ./added ./new ./old ./old/z z\n'; // old/y hidden (opaque), new/file deleted (whiteout)
  assert.is(ok(['run', '--rm', '--network', 'none', 'mdk-test/committed:1', 'sh', '-c', tree]), want);
  assert.is(ok(['run', '--rm', '--network', 'none', '--userns', 'host', 'mdk-test/committed:1', 'sh', '-c', tree]), want);
  const [img] = JSON.parse(ok(['image', 'inspect', 'mdk-test/committed:1'])) as Array<Record<string, any>>;
  assert.is(img!.RootFS.Layers.length, 5);
  assert.is(img!.Author, 'Test <t@example.com>');
  assert.is(img!.Comment, 'three');
  assert.match(ok(['history', 'mdk-test/committed:1']).split('\n')[1]!, /sh -c echo three.*three$/);
  // Out and back in: the same id, the same tree (the committed layer's whiteouts survive a save).
  const file = join(work, 'committed.tar');
  ok(['save', '-o', file, 'mdk-test/committed:1']);
  const other = newRoot('images-commit');
  try {
    assert.is(mdk(other, ['load', '-i', file]).stdout, 'Loaded image: mdk-test/committed:1\n');
    assert.is(mdk(other, ['images', '-q', '--no-trunc']).stdout, `${id}\n`);
    assert.is(mdk(other, ['run', '--rm', '--network', 'none', 'mdk-test/committed:1', 'sh', '-c', tree]).stdout, want);
  } finally {
    removeRoot(other);
  }
  const rmi = ok(['rmi', 'mdk-test/committed:1']).trim().split('\n');
  assert.is(rmi.length, 3, 'untagged, the image, its one own layer: the four below are shared');
});

T('import -c LABEL, VOLUME and STOPSIGNAL land in the image config docker reads', async () => {
  ok(['import', '-c', 'LABEL team=web "tier"="front end"', '-c', 'VOLUME ["/data"]', '-c', 'STOPSIGNAL SIGUSR1', '-c', 'CMD ["sh"]', BUSYBOX_TAR, 'mdk-test/changed:1']);
  const [img] = JSON.parse(ok(['image', 'inspect', 'mdk-test/changed:1'])) as Array<Record<string, any>>;
  assert.equal(img!.Config.Labels, { team: 'web', tier: 'front end' });
  assert.equal(img!.Config.Volumes, { '/data': {} });
  assert.is(img!.Config.StopSignal, 'SIGUSR1');
  const bad = mdk(root, ['import', '-c', 'STOPSIGNAL SIGNOPE', BUSYBOX_TAR, 'mdk-test/bad:1']);
  assert.is(bad.code, 1, "docker: a failed import (its daemon refused the change) exits 1");
  assert.match(bad.stderr, /invalid change "STOPSIGNAL SIGNOPE": invalid signal "SIGNOPE"/);
  ok(['rmi', 'mdk-test/changed:1']);
});

T("the image's config: VOLUME paths get anonymous volumes filled from the image (rm -v, run --rm and gc remove them), StopSignal is what stop sends, Labels merge with --label", async () => {
  const LV = layerTar(work, 'lv', { 'data/seed': 'from the image\n' });
  const cfg = ociLayout(join(work, 'oci-cfg'), [BUSYBOX_TAR, LV], { tag: 'mdk-test/cfg:1', config: { Volumes: { '/data': {} }, StopSignal: 'SIGUSR1', Labels: { a: '1' } } });
  ok(['load', '-i', cfg.dir]);
  const volumes = (): string[] => (existsSync(join(root, 'volumes')) ? readdirSync(join(root, 'volumes')) : []);
  // StopSignal: PID 1 (sh) has a handler for USR1 only; stop ends it at once through it.
  ok(['run', '-d', '--network', 'none', '--name', 'vol', '--label', 'b=2', 'mdk-test/cfg:1', 'sh', '-c', 'trap "echo stopped by usr1 > /data/sig; exit 0" USR1; while :; do sleep 0.1; done']);
  const [c] = JSON.parse(ok(['inspect', 'vol'])) as Array<Record<string, any>>;
  assert.equal(c!.Config.Labels, { a: '1', b: '2' });
  assert.is(c!.Config.StopSignal, 'SIGUSR1');
  assert.is(c!.Mounts.length, 1);
  assert.is(c!.Mounts[0].Type, 'volume');
  assert.is(c!.Mounts[0].Destination, '/data');
  const src = c!.Mounts[0].Source as string;
  assert.is(readFileSync(join(src, 'seed'), 'utf8'), 'from the image\n', 'copied up from the image');
  const t0 = Date.now();
  ok(['stop', '-t', '20', 'vol']);
  assert.ok(Date.now() - t0 < 10_000, 'stopped by its stop signal, not by SIGKILL after the grace period');
  assert.is(readFileSync(join(src, 'sig'), 'utf8'), 'stopped by usr1\n');
  ok(['rm', 'vol']);
  assert.is(volumes().length, 1, 'rm alone leaves the volume, as docker does');
  ok(['gc']);
  assert.equal(volumes(), [], 'gc removes an anonymous volume no container names');
  // rm -v and run --rm take it with the container.
  ok(['run', '--network', 'none', '--name', 'vol2', 'mdk-test/cfg:1', 'true']);
  assert.is(volumes().length, 1);
  ok(['rm', '-v', 'vol2']);
  assert.equal(volumes(), []);
  assert.is(ok(['run', '--rm', '--network', 'none', 'mdk-test/cfg:1', 'sh', '-c', 'cat /data/seed; stat -c %u /data/seed; echo w > /data/w']), 'from the image\n0\n');
  assert.equal(volumes(), [], 'run --rm removed it');
  // -v over the VOLUME path: no anonymous volume.
  const host = mkdtempSync(join(work, 'hostdata-'));
  assert.is(ok(['run', '--rm', '--network', 'none', '--userns', 'host', '-v', `${host}:/data`, 'mdk-test/cfg:1', 'ls', '/data']), '');
  assert.equal(volumes(), []);
  ok(['rmi', 'mdk-test/cfg:1']);
});

T('rmi removes only the layers no other image uses; refused while a container uses the image', () => {
  const L5 = layerTar(work, 'l5', { 'u/only': 'five\n' });
  const two = ociLayout(join(work, 'oci-two'), [BUSYBOX_TAR, L5], { tag: 'mdk-test/two:1' });
  ok(['load', '-i', two.dir]);
  assert.is(layers().length, 5, 'the busybox layer is shared');
  ok(['run', '--network', 'none', '--name', 'uses-two', 'mdk-test/two:1', 'true']);
  const refused = mdk(root, ['rmi', 'mdk-test/two:1']);
  assert.is(refused.code, 1);
  assert.match(refused.stderr, /container [0-9a-f]{12} is using it/);
  ok(['rm', 'uses-two']);
  const out = ok(['rmi', 'mdk-test/two:1']).trim().split('\n');
  assert.equal(out.slice(0, 2), ['Untagged: mdk-test/two:1', `Deleted: sha256:${two.id}`]);
  assert.is(out.length, 3, 'the image and its one unshared layer');
  assert.is(layers().length, 4, "the shared base stays for the other image");
  const all = ok(['rmi', 'mdk-test/layers:1']).trim().split('\n');
  assert.is(all.length, 6, 'untagged, the image, its four layers');
  assert.equal(layers(), []);
  assert.equal(blobs(), [], 'no blob is left');
  assert.equal(readdirSync(join(root, 'images/layers/l')), [], 'no short link is left');
  assert.equal(readdirSync(join(root, 'shifted', readdirSync(join(root, 'shifted'))[0]!)).filter((n) => n !== 'l'), [], 'nor a shifted copy');
});

T('a zstd layer loads and runs through zstd(1); without zstd on PATH it is a one-line error naming the layer, and nothing is stored', () => {
  const z = ociLayout(join(work, 'oci-zstd'), [BUSYBOX_TAR, layerTar(work, 'lz', { 'z/file': 'zstd\n' }, 'zstd')], { tag: 'mdk-test/zstd:1' });
  // A PATH without zstd (every other tool the load needs is in /usr/bin or /bin), with the node
  // that bin/minidock starts.
  const bin = mkdtempSync(join(work, 'bin-'));
  for (const t of ['tar', 'find', 'gzip', 'nsenter']) symlinkSync(spawnSync('sh', ['-c', `command -v ${t}`], { encoding: 'utf8' }).stdout.trim(), join(bin, t));
  symlinkSync(process.execPath, join(bin, 'node'));
  const r = mdk(root, ['load', '-i', z.dir], { env: { PATH: bin } });
  assert.is(r.code, 1, r.stderr);
  assert.match(r.stderr, new RegExp(`^minidock: image archive: layer sha256:${z.layerDigests[1]} is zstd-compressed, and this host has no zstd \\(apt-get install zstd`));
  assert.equal(layers(), []);
  assert.is(ok(['load', '-i', z.dir]), 'Loaded image: mdk-test/zstd:1\n');
  assert.is(ok(['run', '--rm', '--network', 'none', 'mdk-test/zstd:1', 'cat', '/z/file']), 'zstd\n');
  ok(['rmi', 'mdk-test/zstd:1']);
  assert.equal(layers(), []);
});

T('a flat store an older minidock left is migrated: its images become one-layer images, keep their tags and config, and run', () => {
  const old = newRoot('images-flat');
  try {
    // The flat store's layout: images/<id>/{rootfs,image.json} and the tag index.
    const id = 'ab'.repeat(32);
    const dir = join(old, 'images', id);
    mkdirSync(join(dir, 'rootfs'), { recursive: true });
    spawnSync('tar', ['-xf', BUSYBOX_TAR, '-C', join(dir, 'rootfs')]);
    writeFileSync(join(dir, 'image.json'), JSON.stringify({ id, created: Date.parse('2026-11-01T00:00:00Z'), size: 1, source: BUSYBOX_TAR, config: { Cmd: ['echo', 'migrated'] } }));
    writeFileSync(join(old, 'images', 'repositories.json'), JSON.stringify({ 'oldimg:latest': id }));
    const q = mdk(old, ['images', '--no-trunc', '-q', 'oldimg']);
    assert.is(q.code, 0, q.stderr);
    const newId = q.stdout.trim();
    assert.match(newId, /^sha256:[0-9a-f]{64}$/);
    assert.is.not(newId, `sha256:${id}`, 'the id is now its config digest');
    assert.is(mdk(old, ['run', '--rm', '--network', 'none', 'oldimg']).stdout, 'migrated\n', "the image's CMD came along");
    assert.ok(lstatSync(join(dir, 'rootfs')).isSymbolicLink(), 'the old rootfs path leads to the layer (records naming it still start)');
    assert.is(readdirSync(join(old, 'images/layers')).filter((n) => n !== 'l').length, 1);
    assert.is(mdk(old, ['rmi', 'oldimg']).code, 0);
    assert.not.ok(existsSync(dir), 'rmi takes the old directory too');
  } finally {
    removeRoot(old);
  }
});

T('an image of 121 layers runs: overlay names them by short links in one page of options', () => {
  const many = [BUSYBOX_TAR];
  for (let i = 1; i <= 120; i++) many.push(layerTar(work, `deep${i}`, { [`deep/${i}`]: `${i}\n` }));
  const deep = ociLayout(join(work, 'oci-deep'), many, { tag: 'mdk-test/deep:1' });
  ok(['load', '-i', deep.dir]);
  assert.is(ok(['run', '--rm', '--network', 'none', 'mdk-test/deep:1', 'sh', '-c', 'ls /deep | wc -l; cat /deep/1 /deep/120']).replace(/ +/g, ''), '120\n1\n120\n');
  ok(['rmi', 'mdk-test/deep:1']);
  assert.equal(layers(), []);
});

T('a load killed half-way leaves only what gc removes; the next load completes', () => {
  const r = mdk(root, ['load', '-i', layout.dir], { env: { MINIDOCK_TEST_CRASH_AT: 'load.layer' } });
  assert.is(r.code, 137, 'killed at the first landed layer');
  assert.is(layers().length, 1, 'one layer landed, no image names it');
  assert.is(ok(['images', '-q']), '', 'no image record');
  ok(['gc']);
  assert.equal(layers(), []);
  assert.equal(blobs(), []);
  assert.equal(readdirSync(join(root, 'tmp')), [], 'no scratch file of the dead load');
  assert.is(ok(['load', '-i', layout.dir]), 'Loaded image: mdk-test/layers:1\n');
  ok(['rmi', 'mdk-test/layers:1']);
});

T('a hostile layout stores nothing: a layer that does not match its digest, a symlinked blob', () => {
  const bad = join(work, 'oci-bad');
  const l = ociLayout(bad, [BUSYBOX_TAR, L2], { tag: 'mdk-test/bad:1' });
  const blob = join(bad, 'blobs/sha256', l.layerDigests[1]!);
  const bytes = readFileSync(blob);
  bytes[600] = bytes[600]! ^ 1; // one bit of a file's content
  writeFileSync(blob, bytes);
  const r = mdk(root, ['load', '-i', bad]);
  assert.is(r.code, 1, r.stderr);
  assert.match(r.stderr, /^minidock: blob blobs\/sha256\/[0-9a-f]{64} does not match its digest: .*\n/);
  assert.is(r.stderr.split('\n').filter(Boolean).length, 1, 'one line');
  // The busybox layer landed before the bad one: the failed load took it back itself.
  assert.equal(layers(), []);
  assert.equal(blobs(), []);
  const link = join(work, 'oci-link');
  ociLayout(link, [BUSYBOX_TAR], { tag: 'mdk-test/link:1' });
  const target = join(link, 'blobs/sha256', readdirSync(join(link, 'blobs/sha256'))[0]!);
  rmSync(target);
  symlinkSync('/etc/passwd', target);
  const s = mdk(root, ['load', '-i', link]);
  assert.is(s.code, 1);
  assert.match(s.stderr, /is a symlink/);
  assert.equal(layers(), []);
});

T('two loads at once of images sharing a layer both succeed, and unpack it once', async () => {
  const a = ociLayout(join(work, 'oci-a'), [BUSYBOX_TAR, layerTar(work, 'la', { a: 'a\n' })], { tag: 'mdk-test/a:1' });
  const b = ociLayout(join(work, 'oci-b'), [BUSYBOX_TAR, layerTar(work, 'lb', { b: 'b\n' })], { tag: 'mdk-test/b:1' });
  const go = (dir: string): Promise<number> => new Promise((resolve) => {
    const [cmd, argv] = cliArgv(['load', '-i', dir]);
    spawn(cmd, argv, { env: envFor(root), stdio: 'ignore' }).on('close', (code) => resolve(code ?? 1));
  });
  assert.equal(await Promise.all([go(a.dir), go(b.dir)]), [0, 0]);
  assert.is(layers().length, 3, 'busybox once, and each top layer');
  assert.is(ok(['run', '--rm', '--network', 'none', 'mdk-test/b:1', 'cat', '/b']), 'b\n');
  ok(['rmi', 'mdk-test/a:1', 'mdk-test/b:1']);
  assert.equal(layers(), []);
  assert.equal(blobs(), []);
});

Images.run();
