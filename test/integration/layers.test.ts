// Image layers on the real kernel (issue #15): three OCI layer tars (written here with GNU tar)
// that add, change, delete (a whiteout) and hide a directory's lower contents (an opaque
// marker) are unpacked by unpackLayer and stacked by overlayfs as lower directories, in a
// mount namespace of the test's own: the merged tree is exactly the final one. A hostile layer
// whose whiteout goes through a symlink is refused and touches nothing outside. Nothing is left.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MinidockError } from '../../src/core/errors.js';
import { unpackLayer } from '../../src/image/unpack.js';
import { native } from '../../src/native/binding.js';
import { layerTar } from '../helpers/image-layout.js';

if (process.getuid?.() !== 0) {
  console.log('layers: skipped (needs root)');
  process.exit(0);
}
const work = mkdtempSync(join(tmpdir(), 'mdk-layers-'));
const L = suite('layers');
const mark = (root: string, rel: string, kind: 'whiteout' | 'opaque'): void => native().layerMark(root, rel, kind);

const layer = (name: string, files: Record<string, string | null>, gzip = false): string => layerTar(work, name, files, gzip);

L.after(() => {
  rmSync(work, { recursive: true, force: true });
  assert.not.ok(readFileSync('/proc/self/mountinfo', 'utf8').includes(work), 'no mount of the test is left');
});

L('three layers: added, changed, deleted and opaque paths merge to exactly the final tree', async () => {
  const l1 = layer('l1', { 'etc/a': 'one\n', 'etc/b': 'b\n', 'srv/old/x': 'x\n', 'srv/keep': 'keep\n', 'opt/gone/deep/f': 'f\n' });
  const l2 = layer('l2', { 'etc/a': 'two\n', 'etc/.wh.b': '', 'srv/old/.wh..wh..opq': '', 'srv/old/y': 'y\n', '.wh.opt': '' });
  const l3 = layer('l3', { 'new/file': 'new\n', 'srv/.wh.keep': '' }, true);
  const dirs = [l1, l2, l3].map((_, i) => join(work, `unpacked-${i + 1}`));
  for (const d of dirs) mkdirSync(d);
  const got = [];
  for (const [i, t] of [l1, l2, l3].entries()) got.push(await unpackLayer(t, dirs[i]!, mark));
  assert.equal(got.map((g) => [g.whiteouts, g.opaque]), [[0, 0], [2, 1], [1, 0]]);
  // overlay's forms, as a kernel reads them: a 0:0 character device, the opaque xattr.
  const st = spawnSync('stat', ['-c', '%F %t:%T', join(dirs[1]!, 'etc/b')]).stdout.toString().trim();
  assert.is(st, 'character special file 0:0');
  assert.not.ok(existsSync(join(dirs[1]!, 'etc/.wh.b')), 'the .wh. member itself is not extracted');
  // (The opaque xattr is proven by the merge below: srv/old/x, from the layer under it, is gone.)
  // Stacked in a mount namespace of our own (gone when the shell exits): top layer first.
  const mnt = join(work, 'merged');
  mkdirSync(mnt);
  const script = `mount -t overlay overlay -o userxattr,lowerdir=${dirs[2]}:${dirs[1]}:${dirs[0]} ${mnt} && cd ${mnt} && find . -mindepth 1 | sort && cat etc/a srv/old/y new/file`;
  const r = spawnSync('unshare', ['-m', '--propagation', 'private', 'sh', '-c', script]);
  assert.is(r.status, 0, r.stderr.toString());
  // etc/b deleted, etc/a changed, srv/old's x hidden (opaque) and y added, srv/keep deleted by
  // the top layer, the whole opt/ tree deleted, new/ added.
  assert.equal(r.stdout.toString().trim().split('\n'), [
    './etc', './etc/a', './new', './new/file', './srv', './srv/old', './srv/old/y',
    'two', 'y', 'new',
  ]);
});

L('a whiteout through a symlink in the layer is refused, and nothing outside the layer changes', async () => {
  const outside = join(work, 'outside');
  mkdirSync(outside);
  writeFileSync(join(outside, 'target'), 'precious\n');
  const src = join(work, 'evil.src');
  mkdirSync(src);
  symlinkSync(outside, join(src, 'link'));
  const tar = join(work, 'evil.tar');
  // The symlink, then a member below it: tar records both (it does not follow the link).
  writeFileSync(join(work, 'wh'), '');
  assert.is(spawnSync('tar', ['-c', '-f', tar, '-C', src, 'link']).status, 0);
  assert.is(spawnSync('tar', ['-r', '-f', tar, '--transform', 's,^wh$,link/.wh.target,', '-C', work, 'wh']).status, 0);
  const dest = join(work, 'evil-unpacked');
  mkdirSync(dest);
  try {
    await unpackLayer(tar, dest, mark);
    assert.unreachable('a whiteout through a symlink must be refused');
  } catch (err) {
    assert.instance(err, MinidockError);
    assert.match((err as Error).message, /whiteout of link\/target failed: (ELOOP|ENOTDIR)/);
  }
  assert.is(readFileSync(join(outside, 'target'), 'utf8'), 'precious\n', 'the file outside is untouched');
});

L.run();
