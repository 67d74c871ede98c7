// Hostile images: symlinks where minidock mounts, and tarballs that try to write outside the
// image. A victim directory outside must stay untouched, and no host mount may appear.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BUSYBOX_TAR, leakChecked, mdk, newRoot, removeRoot, requireRootAndImages, sh, snapshot } from '../helpers/cli.js';

requireRootAndImages();
const root = newRoot('hostile');
const work = mkdtempSync(join(tmpdir(), 'mdk-hostile-'));
const victim = join(work, 'victim');
mkdirSync(victim);
writeFileSync(join(victim, 'precious'), 'untouched\n');
const victimState = (): string => spawnSync('sh', ['-c', `cd ${victim} && find . -printf '%p %y %s %m\\n' | sort`], { encoding: 'utf8' }).stdout;
const victimBefore = victimState();
/** Host mounts naming the victim or this test's images (other software may mount meanwhile). */
const hostMounts = (): string[] => readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => l.includes(work));
const before = snapshot(root);
const Hostile = suite('hostile');
Hostile.after(() => {
  removeRoot(root);
  rmSync(work, { recursive: true, force: true });
});
const T = leakChecked(Hostile, root, before);

/** A busybox root filesystem with `path` (inside it) replaced by a symlink to `target`. */
function imageWithSymlink(path: string, target: string): string {
  const dir = mkdtempSync(join(work, 'img-'));
  sh(`tar -xf ${BUSYBOX_TAR} -C ${dir}`);
  rmSync(join(dir, path), { recursive: true, force: true });
  mkdirSync(join(dir, path, '..'), { recursive: true });
  symlinkSync(target, join(dir, path));
  return dir;
}

for (const path of ['proc', 'sys', 'dev', 'etc/hosts', 'etc/resolv.conf', 'etc/hostname', 'etc']) {
  T(`an image whose /${path} is a symlink out of it is refused, and nothing is mounted or written outside`, () => {
    const img = imageWithSymlink(path, victim);
    const r = mdk(root, ['run', '--rm', '--network', 'none', img, 'true']);
    assert.is(r.code, 125, r.stderr);
    assert.match(r.stderr, /^minidock: container setup failed at child\.(mount|bind)(\.target)? \/[\w/.]+: .*\((ELOOP|ENOTDIR)\)\n$/);
    assert.is(victimState(), victimBefore, 'the victim is untouched');
    assert.equal(hostMounts(), [], 'no mount appeared on the host');
  });
}

T('a -v whose container path is a symlink in the image is refused: nothing is mounted on the victim', () => {
  const img = imageWithSymlink('data', victim);
  const src = mkdtempSync(join(work, 'src-'));
  const r = mdk(root, ['run', '--rm', '--network', 'none', '-v', `${src}:/data`, img, 'true']);
  assert.is(r.code, 125);
  assert.match(r.stderr, /child\.bind\.target \/data: .*\((ELOOP|ENOTDIR)\)/);
  assert.is(victimState(), victimBefore);
  assert.equal(hostMounts(), []);
});

T('a symlink under /dev in the image is harmless: /dev is a fresh tmpfs on top of it', () => {
  const img = imageWithSymlink('dev/pts', victim);
  const r = mdk(root, ['run', '--rm', '--network', 'none', img, 'sh', '-c', 'test -d /dev/pts && ! test -L /dev/pts && ls /dev/pts']);
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stdout, /ptmx/, "the container's own devpts");
  assert.is(victimState(), victimBefore);
  assert.equal(hostMounts(), []);
});

T('a relative symlink that climbs out (../../..) is refused the same way', () => {
  const img = imageWithSymlink('etc/hosts', '../../../../../../../../' + victim.slice(1) + '/precious');
  const r = mdk(root, ['run', '--rm', '--network', 'none', img, 'true']);
  assert.is(r.code, 125);
  assert.is(victimState(), victimBefore);
});

/** Writes a tarball with python's tarfile, which lets us craft any member. */
function craft(name: string, script: string): string {
  const file = join(work, name);
  const r = spawnSync('python3', ['-c', `import tarfile, io\nt = tarfile.open(${JSON.stringify(file)}, 'w')\n` +
    `def add(name, data=b'x', **kw):\n  i = tarfile.TarInfo(name); i.size = len(data)\n  for k, v in kw.items(): setattr(i, k, v)\n  t.addfile(i, io.BytesIO(data) if i.isreg() else None)\n` +
    `add('ok.txt', b'fine')\n${script}\nt.close()`], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(r.stderr);
  return file;
}

const corpus: Array<[string, string]> = [
  ['dot-dot', `add('../../../../../../../..${victim}/dotdot')`],
  ['absolute', `add('${victim}/absolute')`],
  ['symlink-then-write-through', `add('link', type=tarfile.SYMTYPE, linkname='${victim}')\nadd('link/through')`],
  ['relative-symlink-then-write-through', `add('rel', type=tarfile.SYMTYPE, linkname='../../../../../../../..${victim}')\nadd('rel/through')`],
  ['hardlink-out', `add('hard', type=tarfile.LNKTYPE, linkname='${victim}/precious')`],
  ['device-nodes', `add('dev/sda', type=tarfile.BLKTYPE, devmajor=8, devminor=0)\nadd('dev/mem', type=tarfile.CHRTYPE, devmajor=1, devminor=1)\nadd('fifo', type=tarfile.FIFOTYPE)`],
];

for (const [name, script] of corpus) {
  T(`import of a tarball with ${name}: nothing lands outside, no device node inside`, () => {
    const tar = craft(`${name}.tar`, script);
    const r = mdk(root, ['import', tar, `hostile-${name}`]);
    // Refusing the whole archive, or importing it without the hostile member, are both fine;
    // writing outside or keeping a device node are not.
    assert.ok(r.code === 0 || r.code === 1, r.stderr);
    if (r.code === 1) assert.is(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.is(victimState(), victimBefore, 'the victim is untouched');
    assert.not.ok(existsSync('/ok.txt') || existsSync(join(work, 'ok.txt')));
    if (r.code === 0) {
      // The one layer of the imported image, where image inspect says it is.
      const rootfs = (JSON.parse(mdk(root, ['image', 'inspect', `hostile-${name}`]).stdout) as Array<{ GraphDriver: { Data: { UpperDir: string } } }>)[0]!.GraphDriver.Data.UpperDir;
      const found = spawnSync('find', [rootfs, '(', '-type', 'b', '-o', '-type', 'c', '-o', '-type', 'p', ')'], { encoding: 'utf8' }).stdout.trim();
      assert.is(found, '', 'no device nodes or FIFOs in the image');
      for (const f of readdirSync(rootfs)) {
        const st = lstatSync(join(rootfs, f));
        if (st.isSymbolicLink()) continue; // kept verbatim: resolved inside the container only
      }
      assert.is(mdk(root, ['rmi', `hostile-${name}`]).code, 0);
    }
    assert.equal(readdirSync(join(root, 'tmp')), [], 'no staging left');
  });
}

T('decompression bombs are refused before anything is written: by ratio (gzip) and by size (xz)', () => {
  // 64 MiB of zeros compress to ~64 KiB (gzip) or ~10 KiB (xz).
  sh(`cd ${work} && head -c 67108864 /dev/zero > zeros && tar -czf bomb.tar.gz zeros && tar -cJf bomb.tar.xz zeros && rm zeros`);
  const gz = mdk(root, ['import', join(work, 'bomb.tar.gz'), 'bomb']);
  // docker import's failures exit 1 (125 is run's own code).
  assert.is(gz.code, 1);
  assert.match(gz.stderr, /^minidock: cannot unpack .*bomb\.tar\.gz: it inflates more than 1000 times its size, like a decompression bomb \(.*\)\n$/);
  const xz = mdk(root, ['import', join(work, 'bomb.tar.xz'), 'bomb'], { env: { MINIDOCK_MAX_IMAGE_BYTES: String(16 * 1024 * 1024) } });
  assert.is(xz.code, 1);
  assert.match(xz.stderr, /^minidock: cannot unpack .*bomb\.tar\.xz: it expands to more than 16777216 bytes, like a decompression bomb \(.*\)\n$/);
  assert.equal(readdirSync(join(root, 'tmp')), [], 'no staging left');
  assert.equal(readdirSync(join(root, 'images/layers')), ['l'], 'no layer stored');
});

T("the host's binaries are unchanged after a hostile container writes at every /proc/*/exe, through 50 execs", async () => {
  const { createHash } = await import('node:crypto');
  const { REPO } = await import('../helpers/cli.js');
  const binaries = [process.execPath, join(REPO, 'native/build/Release/minidock.node'), join(REPO, 'native/build/Release/minidock-shim'),
    join(REPO, 'native/build/minidock-init'), '/usr/sbin/ip', '/usr/sbin/xtables-nft-multi'].filter((b) => existsSync(b));
  const hash = () => binaries.map((b) => createHash('sha256').update(readFileSync(b)).digest('hex'));
  const hashes = hash();
  // The attacker: every process it can see, its /proc/PID/exe opened for writing, over and over
  // while execs come and go (CVE-2019-5736 overwrote runc this way).
  const attack = 'while :; do for e in /proc/[0-9]*/exe; do (echo pwned >> $e) 2>/dev/null; done; done';
  assert.is(mdk(root, ['run', '-d', '--init', '--name', 'attacker', BUSYBOX_TAR, 'sh', '-c', attack]).code, 0);
  try {
    for (let i = 0; i < 50; i++) mdk(root, ['exec', 'attacker', 'true']);
  } finally {
    mdk(root, ['rm', '-f', 'attacker']);
  }
  assert.equal(hash(), hashes, binaries.join(', '));
});

Hostile.run();
