// User namespace remapping, from inside real containers: container root is host uid 100000,
// the image still reads as root's, files a container writes land as the mapped ids, and a host
// root-only file stays unreadable. Plus the denials that do not depend on the mapping: block
// device nodes and ptrace of a host process.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BUSYBOX_TAR, leakChecked, mdk, newRoot, removeRoot, requireRootAndImages, sh, snapshot } from '../helpers/cli.js';

requireRootAndImages();
const root = newRoot('userns');
const work = mkdtempSync(join(tmpdir(), 'mdk-userns-'));
chmodSync(work, 0o755); // the remapped root must be able to walk to the volumes below
const imp = mdk(root, ['import', '-c', 'CMD ["sh"]', BUSYBOX_TAR, 'busybox']);
if (imp.code !== 0) throw new Error(`import failed: ${imp.stderr}`);
const before = snapshot(root);
const Userns = suite('userns');
Userns.after(() => {
  removeRoot(root);
  rmSync(work, { recursive: true, force: true });
});
const T = leakChecked(Userns, root, before);
const run = (...args: string[]) => mdk(root, ['run', '--rm', '--network', 'none', ...args]);
const mapOf = (text: string): string[][] => text.trim().split('\n').map((l) => l.trim().split(/\s+/));

T('by default container root is host uid 100000: uid_map, gid_map, and the image still owned by root inside', () => {
  const r = run('busybox', 'sh', '-c', 'cat /proc/self/uid_map /proc/self/gid_map; id -u; stat -c "%u:%g" /bin/busybox /etc/passwd /etc/hosts; echo x > /etc/hosts && echo hosts-writable');
  assert.is(r.code, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  assert.equal(mapOf(lines.slice(0, 2).join('\n')), [['0', '100000', '65536'], ['0', '100000', '65536']]);
  assert.equal(lines.slice(2), ['0', '0:0', '0:0', '0:0', 'hosts-writable']);
});

T('a process of the container is uid 100000 on the host, and its writes are owned by 100000', () => {
  assert.is(mdk(root, ['run', '-d', '--network', 'none', '--name', 'owner', 'busybox', 'sh', '-c', 'echo x > /root/made && sleep 30']).code, 0);
  try {
    const top = mdk(root, ['top', 'owner']);
    assert.match(top.stdout, /\s100000\s+sleep 30|\s100000\s+sh -c/, top.stdout);
    const id = readFileSync(join(root, 'names', 'owner'), 'utf8');
    const made = join(root, 'containers', id, 'upper/root/made');
    for (let i = 0; i < 50 && !existsSync(made); i++) sh('sleep 0.1');
    const st = statSync(made);
    assert.equal([st.uid, st.gid], [100000, 100000], 'the upper layer holds the mapped owner');
  } finally {
    mdk(root, ['rm', '-f', 'owner']);
  }
});

T('a bind mount: writes land as the mapped uid (root and -u 1000), a host root-only file is unreadable', () => {
  const vol = join(work, 'vol');
  mkdirSync(join(vol, 'w'), { recursive: true });
  chmodSync(vol, 0o755);
  chmodSync(join(vol, 'w'), 0o777);
  writeFileSync(join(vol, 'secret'), 'host root only\n', { mode: 0o600 });
  const r = run('-v', `${vol}:/v`, 'busybox', 'sh', '-c', 'echo a > /v/w/by-root; cat /v/secret; echo cat=$?');
  assert.is(r.code, 0, r.stderr);
  assert.is(r.stdout, 'cat=1\n', 'container root cannot read a host file only host root may read');
  assert.match(r.stderr, /Permission denied/);
  const st = statSync(join(vol, 'w/by-root'));
  assert.equal([st.uid, st.gid], [100000, 100000]);
  assert.is(run('-u', '1000:1000', '-v', `${vol}:/v`, 'busybox', 'sh', '-c', 'echo b > /v/w/by-1000').code, 0);
  const st2 = statSync(join(vol, 'w/by-1000'));
  assert.equal([st2.uid, st2.gid], [101000, 101000]);
  const ro = run('-v', `${join(vol, 'secret')}:/secret:ro`, 'busybox', 'cat', '/secret');
  assert.is(ro.code, 1, 'read-only or not, the file stays root\'s');
  assert.is(ro.stdout, '');
});

T('--userns=host, --privileged and MINIDOCK_USERNS_REMAP=host keep the identity map; a bad value is an error', () => {
  for (const [args, env] of [[['--userns=host'], {}], [['--privileged'], {}], [[], { MINIDOCK_USERNS_REMAP: 'host' }]] as const) {
    const r = mdk(root, ['run', '--rm', '--network', 'none', ...args, 'busybox', 'cat', '/proc/self/uid_map'], { env });
    assert.is(r.code, 0, r.stderr);
    assert.equal(mapOf(r.stdout), [['0', '0', '4294967295']], `${args.join(' ')} ${JSON.stringify(env)}`);
  }
  // A state root is passable by one remapped range (its group): another range gets a clear
  // error, and a root of its own works.
  const refused = mdk(root, ['run', '--rm', '--network', 'none', 'busybox', 'true'], { env: { MINIDOCK_USERNS_REMAP: '300000:65536' } });
  assert.is(refused.code, 125);
  assert.match(refused.stderr, new RegExp(`^minidock: MINIDOCK_ROOT ${root} is set up for containers remapped to host gid 100000; this container's root is host gid 300000 \\(give this MINIDOCK_USERNS_REMAP range a state root of its own`));
  assert.is(refused.stderr.trim().split('\n').length, 1);
  const otherRoot = newRoot('userns-300000');
  try {
    const other = mdk(otherRoot, ['run', '--rm', '--network', 'none', BUSYBOX_TAR, 'cat', '/proc/self/uid_map'], { env: { MINIDOCK_USERNS_REMAP: '300000:65536' } });
    assert.is(other.code, 0, other.stderr);
    assert.equal(mapOf(other.stdout), [['0', '300000', '65536']]);
    assert.is(statSync(otherRoot).gid, 300000, 'that root is passable by its own range');
  } finally {
    removeRoot(otherRoot);
  }
  const bad = run('--userns', 'private', 'busybox', 'true');
  assert.is(bad.code, 125);
  assert.match(bad.stderr, /^minidock: invalid --userns "private"/);
  const badEnv = mdk(root, ['run', '--rm', '--network', 'none', 'busybox', 'true'], { env: { MINIDOCK_USERNS_REMAP: '0:65536' } });
  assert.is(badEnv.code, 125);
  assert.match(badEnv.stderr, /invalid MINIDOCK_USERNS_REMAP "0:65536"/);
});

T('a MINIDOCK_ROOT the remapped root cannot reach is a clear error, and nothing is made', () => {
  const closed = join(work, 'closed');
  mkdirSync(closed, { mode: 0o700 });
  chmodSync(closed, 0o700);
  const inner = join(closed, 'root');
  try {
    const r = mdk(inner, ['run', '--rm', '--network', 'none', BUSYBOX_TAR, 'true']);
    assert.is(r.code, 125, r.stderr);
    assert.match(r.stderr, new RegExp(`^minidock: the container's root \\(host uid 100000\\) cannot reach MINIDOCK_ROOT: ${closed} is not searchable by other users \\(chmod o\\+x ${closed}`));
    assert.equal(readdirSync(join(inner, 'containers')), [], 'no container directory left');
    assert.is(mdk(inner, ['run', '--rm', '--network', 'none', '--userns=host', BUSYBOX_TAR, 'true']).code, 0, '--userns=host still works there');
  } finally {
    rmSync(closed, { recursive: true, force: true });
  }
});

T('without idmapped mounts (MINIDOCK_IDMAP=shift) the image is copied once with shifted owners, setuid bits kept', () => {
  // An image with a setuid file, to see the bit survive chown.
  const dir = join(work, 'suid-img');
  mkdirSync(dir);
  sh(`tar -xf ${BUSYBOX_TAR} -C ${dir} && cp ${dir}/bin/busybox ${dir}/bin/suid && chmod 4755 ${dir}/bin/suid`);
  const im = mdk(root, ['import', dir, 'suidimg']);
  assert.is(im.code, 0, im.stderr);
  const layer = (JSON.parse(mdk(root, ['image', 'inspect', 'suidimg']).stdout) as Array<{ GraphDriver: { Data: { UpperDir: string } } }>)[0]!.GraphDriver.Data.UpperDir;
  const chain = layer.split('/').slice(-2)[0]!;
  const env = { MINIDOCK_IDMAP: 'shift' };
  const r = mdk(root, ['run', '--rm', '--network', 'none', 'suidimg', 'stat', '-c', '%u:%g %a', '/bin/busybox', '/bin/suid'], { env });
  assert.is(r.code, 0, r.stderr);
  assert.is(r.stdout, '0:0 755\n0:0 4755\n');
  // Apart from images/: the remapped root walks to the copy, and must never reach images/. One
  // copy per layer and mapping.
  const copy = join(root, 'shifted', 'rootfs-100000-65536-100000-65536', chain);
  const st = statSync(join(copy, 'bin/suid'));
  assert.equal([st.uid, st.gid, st.mode & 0o7777], [100000, 100000, 0o4755]);
  assert.is(statSync(join(layer, 'bin/suid')).uid, 0, 'the image itself is untouched');
  const ino = statSync(copy).ino;
  assert.is(mdk(root, ['run', '--rm', '--network', 'none', 'suidimg', 'true'], { env }).code, 0);
  assert.is(statSync(copy).ino, ino, 'the copy is made once and reused');
  assert.is(mdk(root, ['rmi', 'suidimg']).code, 0);
  assert.not.ok(existsSync(copy), 'rmi removes the copies with the image');
  // The default path uses no copy at all.
  assert.is(run('busybox', 'true').code, 0);
  const shiftedMap = join(root, 'shifted', 'rootfs-100000-65536-100000-65536');
  assert.equal(readdirSync(shiftedMap).filter((n) => n !== 'l'), [], 'no layer of busybox was copied');
  assert.equal(readdirSync(join(shiftedMap, 'l')), [], 'and no short link is left of the removed image');
});

T('mknod of a block device is refused, and ptrace cannot reach a host process', async () => {
  const r = run('busybox', 'sh', '-c', 'mknod /tmp/sda b 8 0; echo mknod=$?; mknod /tmp/null c 1 3; echo chr=$?');
  assert.match(r.stdout, /mknod=1\nchr=1\n/);
  assert.match(r.stderr, /Operation not permitted/);
  // A host process the test owns; the container tries to attach to its pid with ptrace.
  const victim = spawn('sleep', ['30'], { stdio: 'ignore' });
  try {
    const pid = victim.pid!;
    const probe = `import ctypes; l = ctypes.CDLL(None, use_errno=True); r = l.ptrace(16, ${pid}, 0, 0); import errno; print(errno.errorcode.get(ctypes.get_errno(), "OK") if r == -1 else "ATTACHED")`;
    const { PYTHON_TAR } = await import('../helpers/cli.js');
    const p = mdk(root, ['run', '--rm', '--network', 'none', PYTHON_TAR, 'python3', '-c', probe]);
    assert.is(p.code, 0, p.stderr);
    assert.is(p.stdout, 'ESRCH\n', 'the host pid does not exist in the container\'s PID namespace');
    assert.match(readFileSync(`/proc/${pid}/status`, 'utf8'), /^State:\s+S/m, 'the host process is not stopped or traced');
    assert.match(readFileSync(`/proc/${pid}/status`, 'utf8'), /^TracerPid:\s+0$/m);
  } finally {
    victim.kill('SIGKILL');
  }
});

Userns.run();
