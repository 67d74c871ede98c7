// The image store's bookkeeping on a temporary directory, no root (issue #15): reference
// counting on rmi (a layer goes with the last image that names it, its blob with it), tags and
// prefixes, docker's refusals; and the archive sources of load: a tar read in place (links
// followed inside it, never out), an OCI layout directory (symlinks refused).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ImageStore } from '../../src/image/store.js';
import { dirSource, tarSource } from '../../src/image/load.js';
import { ustarHeader } from '../../src/image/save.js';

const sha = (s: string): string => createHash('sha256').update(s).digest('hex');

/** A store with images written as the store writes them: blobs, layer records, image records. */
function fixture(images: Record<string, string[]>, tags: Record<string, string>): { root: string; store: ImageStore; ids: Record<string, string> } {
  const root = mkdtempSync(join(tmpdir(), 'mdk-store-'));
  const dir = join(root, 'images');
  for (const d of ['blobs/sha256', 'layers/l', 'image', 'locks']) mkdirSync(join(dir, d), { recursive: true });
  mkdirSync(join(root, 'tmp'));
  const layers = new Set(Object.values(images).flat());
  for (const c of layers) {
    mkdirSync(join(dir, 'layers', c, 'diff'), { recursive: true });
    const blob = sha(`blob ${c}`);
    writeFileSync(join(dir, 'blobs/sha256', blob), 'x');
    writeFileSync(join(dir, 'layers', c, 'layer.json'), JSON.stringify({ chainId: `sha256:${c}`, diffId: `sha256:${c}`, link: `link${c.slice(0, 4)}`, size: 10, blob: { digest: `sha256:${blob}`, size: 1, mediaType: 'x' } }));
    symlinkSync(`../${c}/diff`, join(dir, 'layers/l', `link${c.slice(0, 4)}`));
  }
  const ids: Record<string, string> = {};
  for (const [name, ls] of Object.entries(images)) {
    const config = JSON.stringify({ architecture: 'amd64', os: 'linux', name, rootfs: { type: 'layers', diff_ids: ls.map((c) => `sha256:${c}`) } });
    const id = sha(config);
    ids[name] = id;
    writeFileSync(join(dir, 'blobs/sha256', id), config);
    writeFileSync(join(dir, 'image', `${id}.json`), JSON.stringify({ id, stored: 1, source: 't', layers: ls }));
  }
  writeFileSync(join(dir, 'repositories.json'), JSON.stringify(Object.fromEntries(Object.entries(tags).map(([t, n]) => [t, ids[n]!]))));
  return { root, store: new ImageStore(root), ids };
}

const L = (n: number): string => String(n).repeat(64).slice(0, 64);
const noUser = (): undefined => undefined;

test('rmi: a shared layer stays until the last image that names it goes; blobs and links go with their layer', () => {
  const { root, store, ids } = fixture({ a: [L(1), L(2)], b: [L(1), L(3)] }, { 'a:latest': 'a', 'b:latest': 'b' });
  try {
    const r = store.remove('a', noUser);
    assert.equal(r.untagged, ['a:latest']);
    assert.equal(r.deleted, [`sha256:${ids.a}`, `sha256:${L(2)}`]);
    assert.ok(existsSync(store.layerDir(L(1))), 'the shared base stays');
    assert.not.ok(existsSync(join(store.layersDir, L(2))));
    assert.equal(readdirSync(store.links).sort(), ['link1111', 'link3333']);
    const r2 = store.remove('b:latest', noUser);
    assert.equal(r2.deleted, [`sha256:${ids.b}`, `sha256:${L(3)}`, `sha256:${L(1)}`], 'top layer first');
    assert.equal(readdirSync(store.layersDir), ['l']);
    assert.equal(readdirSync(store.links), []);
    assert.equal(readdirSync(store.blobs), [], 'configs and layer blobs');
    assert.equal(readdirSync(join(root, 'tmp')), [], 'nothing left aside');
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('rmi: a tag of several only untags; an id with several tags needs -f; a user container refuses; -f untags for a stopped one', () => {
  const { root, store, ids } = fixture({ a: [L(1)], b: [L(4)] }, { 'a:latest': 'a', 'a:2': 'a', 'b:latest': 'b' });
  const user = (): { id: string; running: boolean } => ({ id: 'c'.repeat(64), running: false });
  const running = (): { id: string; running: boolean } => ({ id: 'c'.repeat(64), running: true });
  try {
    assert.equal(store.remove('a:2', noUser), { untagged: ['a:2'], deleted: [] });
    store.tag('a:3', ids.a!);
    assert.throws(() => store.remove(ids.a!.slice(0, 12), noUser), /must be forced\) - image is referenced in multiple repositories/);
    assert.is(store.remove(ids.a!.slice(0, 12), noUser, true).deleted[0], `sha256:${ids.a}`, '-f: every tag and the image');
    assert.throws(() => store.remove('b', user), /container cccccccccccc is using it/);
    assert.throws(() => store.remove('b', running, true), /is running from it/);
    assert.equal(store.remove('b', user, true), { untagged: ['b:latest'], deleted: [] }, 'untagged, kept for its container (dangling)');
    assert.ok(store.record(ids.b!), 'the image stays');
    assert.throws(() => store.remove('nope', noUser), /no such image: nope/);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('lookup: NAME[:TAG], a full id, sha256:ID, a unique prefix; an ambiguous prefix finds nothing', () => {
  const { root, store, ids } = fixture({ a: [L(1)], b: [L(2)] }, { 'team/a:1': 'a' });
  try {
    assert.is(store.lookup('team/a:1'), ids.a);
    assert.is(store.lookup(ids.b!), ids.b);
    assert.is(store.lookup(`sha256:${ids.b}`), ids.b);
    assert.is(store.lookup(ids.a!.slice(0, 6)), ids.a);
    assert.is(store.lookup('team/a'), undefined, 'team/a means team/a:latest');
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('gc: layers no image names (unless claimed by a live load), dangling links and orphan blobs go', () => {
  const { root, store } = fixture({ a: [L(1)] }, {});
  try {
    // A layer a dead load landed, and one a live load is still landing.
    for (const c of [L(5), L(6)]) {
      mkdirSync(join(store.layersDir, c, 'diff'), { recursive: true });
      writeFileSync(join(store.layersDir, c, 'layer.json'), JSON.stringify({ chainId: `sha256:${c}`, diffId: 'x', link: `k${c.slice(0, 3)}`, size: 0, blob: { digest: `sha256:${'e'.repeat(64)}`, size: 0, mediaType: 'x' } }));
    }
    symlinkSync('../gone/diff', join(store.links, 'dangling'));
    writeFileSync(join(store.blobs, 'f'.repeat(64)), 'orphan');
    const n = store.gc(new Set([L(6)]));
    assert.is(n, 3, 'the dead load\'s layer, the dangling link, the orphan blob');
    assert.equal(readdirSync(store.layersDir).sort(), [L(1), L(6), 'l'].sort());
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('tarSource: members read in place; a link inside the archive is followed, one out of it refused', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mdk-src-'));
  try {
    const entry = (name: string, data: string, type = '0', link = ''): Buffer => {
      const h = ustarHeader(name, type === '0' ? Buffer.byteLength(data) : 0);
      h[156] = type.charCodeAt(0);
      h.write(link, 157, 100);
      h.fill(0x20, 148, 156);
      let sum = 0;
      for (const b of h) sum += b;
      h.write(`${sum.toString(8).padStart(6, '0')}\0`, 148, 8);
      const body = type === '0' ? Buffer.from(data) : Buffer.alloc(0);
      return Buffer.concat([h, body, Buffer.alloc((512 - (body.length % 512)) % 512)]);
    };
    const file = join(dir, 'a.tar');
    writeFileSync(file, Buffer.concat([entry('./manifest.json', '[1]'), entry('x/layer.tar', 'LAYER'), entry('y/layer.tar', '', '2', '../x/layer.tar'), entry('h', '', '1', 'x/layer.tar'), entry('out', '', '2', '../../etc/passwd'), Buffer.alloc(1024)]));
    const src = tarSource(file);
    assert.is(src.read('manifest.json'), '[1]', '"./" is the same member');
    assert.is(src.read('y/layer.tar'), 'LAYER', 'a symlink to another member');
    assert.is(src.read('h'), 'LAYER', 'a hard link');
    const r = src.locate('x/layer.tar');
    assert.is(r.size, 5);
    assert.throws(() => src.read('out'), /link out of the archive/);
    assert.is(src.has('missing'), false);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('dirSource: an OCI layout directory; a symlinked blob (or a symlink on the way) is refused', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mdk-src-'));
  try {
    mkdirSync(join(dir, 'blobs/sha256'), { recursive: true });
    writeFileSync(join(dir, 'index.json'), '{}');
    symlinkSync('/etc/passwd', join(dir, 'blobs/sha256', 'a'.repeat(64)));
    const src = dirSource(dir);
    assert.is(src.read('index.json'), '{}');
    assert.throws(() => src.has(`blobs/sha256/${'a'.repeat(64)}`), /is a symlink/);
    assert.is(src.has('nothing'), false);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
