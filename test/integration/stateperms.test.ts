// The state root against other local users (issue #13, findings 1, 8 and 9): each test performs
// an attack a host user, a hostile image or a torn state file could make, with the real CLI.
// The host users are `setpriv`'d processes: nobody (65534), and the remapped containers' own
// root (100000), the one principal the design lets through the gate to its layers.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BUSYBOX_TAR, PYTHON_TAR, inNetns, leakChecked, mdk, mdkSpawn, newRoot, removeRoot, requireRootAndImages, sh, snapshot, testCgroups } from '../helpers/cli.js';

requireRootAndImages();
const root = newRoot('perms');
const work = mkdtempSync(join(tmpdir(), 'mdk-perms-'));
chmodSync(work, 0o755);
const ENV = { MINIDOCK_BRIDGE: 'mdkpbr0', MINIDOCK_SUBNET: '10.213.0.0/24' };
const imp = mdk(root, ['import', '-c', 'CMD ["sh"]', BUSYBOX_TAR, 'busybox']);
if (imp.code !== 0) throw new Error(`import failed: ${imp.stderr}`);
// Make the network exist before the snapshot (its bridge and chains are not a leak).
mdk(root, ['run', '--rm', '--env', 'X=1', 'busybox', 'true'], { env: ENV });
const before = snapshot(root);
const Perms = suite('state permissions');
Perms.after(() => {
  removeRoot(root);
  rmSync(work, { recursive: true, force: true });
});
const T = leakChecked(Perms, root, before);

/** Runs `cmd` as host uid:gid with no supplementary groups. */
function as(uid: number, cmd: string): { code: number; out: string } {
  const r = spawnSync('setpriv', [`--reuid=${uid}`, `--regid=${uid}`, '--clear-groups', 'sh', '-c', cmd], { encoding: 'utf8' });
  return { code: r.status ?? 255, out: r.stdout + r.stderr };
}
const NOBODY = 65534;
const REMAPPED = 100000;

/** Everything under the state root that `uid` (with only its own gid) can reach: a directory it
 *  can enter, or any entry inside one it can enter. Root's own view, by the permission bits. */
function reachableBy(uid: number): string[] {
  const can = (st: { uid: number; gid: number; mode: number }, bit: number): boolean =>
    st.uid === uid ? !!(st.mode & (bit << 6)) : st.gid === uid ? !!(st.mode & (bit << 3)) : !!(st.mode & bit);
  const found: string[] = [];
  const walk = (dir: string): void => {
    for (const e of readdirSync(dir)) {
      const p = join(dir, e);
      found.push(p.slice(root.length + 1));
      const st = lstatSync(p);
      if (st.isDirectory() && can(st, 1)) walk(p);
    }
  };
  if (can(statSync(root), 1)) walk(root);
  return found;
}

const idOf = (name: string): string => readFileSync(join(root, 'names', name), 'utf8').trim();
/** The directory of an image's top layer, where image inspect says it is. */
const layerOf = (tag: string): string => (JSON.parse(mdk(root, ['image', 'inspect', tag]).stdout) as Array<{ GraphDriver: { Data: { UpperDir: string } } }>)[0]!.GraphDriver.Data.UpperDir;

T('audit: after run, run -d, exec and import, other users reach nothing; the remapped root only the way to its layers', () => {
  assert.is(mdk(root, ['run', '-d', '--name', 'audit', '-e', 'DB_PASSWORD=hunter2', '-p', '18801:80', 'busybox', 'sleep', '60'], { env: ENV }).code, 0);
  try {
    assert.is(mdk(root, ['exec', 'audit', 'true']).code, 0);
    assert.is(mdk(root, ['run', '--rm', '--network', 'none', '--userns=host', 'busybox', 'true']).code, 0);
    assert.equal(reachableBy(NOBODY), [], 'nobody reaches anything under the state root');
    const id = idOf('audit');
    const gate = reachableBy(REMAPPED).sort();
    // The way to the layers, and nothing else: the root, containers/ (not listable: 0710), and
    // the container's own directory, whose files are root's and 0600 but its /etc files, layers
    // and mount points.
    // It sees the names at the top (it may pass through $ROOT), and enters containers/ only.
    for (const p of gate.filter((x) => x.includes('/'))) {
      assert.ok(p.startsWith('containers/'), `the remapped root reaches only into containers/: ${p}`);
    }
    assert.not.ok(gate.some((p) => p.startsWith('images/')), 'never into images/');
    const dir = join(root, 'containers', id);
    for (const f of readdirSync(dir)) {
      const st = lstatSync(join(dir, f));
      if (st.isDirectory() || ['hosts', 'hostname', 'resolv.conf'].includes(f)) continue;
      assert.is((st.mode & 0o077).toString(8), '0', `${f} is root's alone (mode ${(st.mode & 0o777).toString(8)})`);
    }
    for (const d of ['images', 'tmp', 'names', 'networks', 'ports']) {
      if (existsSync(join(root, d))) assert.is((statSync(join(root, d)).mode & 0o777).toString(8), '700', d);
    }
    // The secret itself, by the attack: read the spec as nobody and as the remapped root.
    for (const uid of [NOBODY, REMAPPED]) {
      const r = as(uid, `cat ${dir}/config.json ${dir}/state.json`);
      assert.is.not(r.code, 0);
      assert.not.match(r.out, /hunter2/);
    }
  } finally {
    mdk(root, ['rm', '-f', 'audit'], { env: ENV });
  }
});

T('a setuid-root binary from an imported tarball cannot be run by a local user from the store; a 0777 top directory is stored 0755', () => {
  const dir = join(work, 'suid');
  mkdirSync(dir);
  sh(`tar -xf ${BUSYBOX_TAR} -C ${dir}`);
  // A host binary that reports its effective uid, setuid root: the attacker runs it from the store.
  cpSync('/usr/bin/id', join(dir, 'bin/suid-id'));
  chmodSync(join(dir, 'bin/suid-id'), 0o4755);
  chmodSync(dir, 0o777);
  const tar = join(work, 'suid.tar');
  sh(`tar --numeric-owner --owner=0 --group=0 -cf ${tar} -C ${dir} .`);
  assert.is(mdk(root, ['import', tar, 'suid']).code, 0);
  const rootfs = layerOf('suid:latest');
  assert.is((statSync(rootfs).mode & 0o7777).toString(8), '755', 'the image root is 0755 whatever the archive said');
  assert.is((statSync(join(rootfs, 'bin/suid-id')).mode & 0o7777).toString(8), '4755', 'the image itself is kept as it is');
  for (const uid of [NOBODY, REMAPPED]) {
    const r = as(uid, `${rootfs}/bin/suid-id -u`);
    assert.is.not(r.code, 0, `uid ${uid} ran the store's setuid binary: ${r.out}`);
    assert.match(r.out, /Permission denied/);
    const w = as(uid, `echo planted > ${rootfs}/bin/sh`);
    assert.is.not(w.code, 0, `uid ${uid} replaced the image's /bin/sh`);
  }
  assert.ok(lstatSync(join(rootfs, 'bin/sh')).isSymbolicLink(), "the image's /bin/sh is still its symlink to busybox");
  assert.is(mdk(root, ['rmi', 'suid']).code, 0);
});

T('a --userns=host container\'s setuid-root shell in its upper layer is out of other users\' reach (CVE-2021-41091)', () => {
  const r = mdk(root, ['run', '-d', '--name', 'planter', '--network', 'none', '--userns=host', 'busybox', 'sh', '-c', 'cp /bin/busybox /tmp/rootsh && chmod 4755 /tmp/rootsh && sleep 60']);
  assert.is(r.code, 0, r.stderr);
  try {
    const planted = join(root, 'containers', idOf('planter'), 'upper/tmp/rootsh');
    for (let i = 0; i < 50 && !existsSync(planted); i++) sh('sleep 0.1');
    assert.is(statSync(planted).mode & 0o4000, 0o4000, 'the container made it');
    for (const uid of [NOBODY, REMAPPED]) {
      const x = as(uid, `${planted} id -u`);
      assert.is.not(x.code, 0, `uid ${uid} ran it: ${x.out}`);
      assert.match(x.out, /Permission denied/);
    }
  } finally {
    mdk(root, ['rm', '-f', 'planter']);
  }
});

T('a state root an older minidock left open (0711, 0755 below) is closed on the next run', () => {
  const bin = join(layerOf('busybox:latest'), 'bin');
  chmodSync(root, 0o711);
  chmodSync(join(root, 'images'), 0o711);
  chmodSync(join(root, 'containers'), 0o711);
  for (const d of ['../..', '../../..']) chmodSync(join(bin, d), 0o755); // layers/<id>/ and layers/
  assert.is(as(NOBODY, `ls -d ${bin}`).code, 0, 'open, as an older minidock made it');
  assert.is(mdk(root, ['run', '--rm', '--network', 'none', 'busybox', 'true']).code, 0);
  assert.equal(reachableBy(NOBODY), []);
  assert.is.not(as(NOBODY, `ls -d ${bin}`).code, 0);
  assert.is.not(as(REMAPPED, `ls -d ${bin}`).code, 0, 'nor the remapped root: images/ is closed again');
});

T('-u outside the user namespace mapping is a one-line error naming the mapping, and nothing is made', () => {
  const r = mdk(root, ['run', '--rm', '--network', 'none', '-u', '65536', 'busybox', 'true']);
  assert.is(r.code, 125);
  assert.match(r.stderr, /^minidock: invalid -u: uid 65536 is outside the container's user namespace \(its uids 0-65535 are host 100000-165535\) \(use a uid the range holds/);
  assert.is(r.stderr.trim().split('\n').length, 1);
  const g = mdk(root, ['run', '--rm', '--network', 'none', '-u', '0:70000', 'busybox', 'true']);
  assert.is(g.code, 125);
  assert.match(g.stderr, /gid 70000 is outside/);
  assert.is(mdk(root, ['run', '--rm', '--network', 'none', '-u', '65535', 'busybox', 'id', '-u']).stdout, '65535\n', 'the last id of the range works');
  assert.is(mdk(root, ['run', '--rm', '--network', 'none', '--userns=host', '-u', '70000', 'busybox', 'id', '-u']).stdout, '70000\n', 'with the host ids any uid works');
  assert.is(mdk(root, ['run', '-d', '--name', 'uu', '--network', 'none', 'busybox', 'sleep', '30']).code, 0);
  try {
    const e = mdk(root, ['exec', '-u', '65536', 'uu', 'true']);
    assert.is(e.code, 1, 'exec\'s failures outside the command are 1, as docker\'s outside run');
    assert.match(e.stderr, /^minidock: invalid -u: uid 65536 is outside/);
  } finally {
    mdk(root, ['rm', '-f', 'uu']);
  }
});

T('10 concurrent rm -f of one container: exactly one removes it, the others say it is gone or being removed', async () => {
  assert.is(mdk(root, ['run', '-d', '--name', 'race', 'busybox', 'sleep', '60'], { env: ENV }).code, 0);
  const runs = Array.from({ length: 10 }, () => mdkSpawn(root, ['rm', '-f', 'race'], ENV));
  const results = await Promise.all(runs.map((p) => new Promise<{ code: number; out: string; err: string }>((resolve) => {
    let out = '';
    let err = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (err += d));
    p.on('close', (code) => resolve({ code: code ?? 255, out, err }));
  })));
  const won = results.filter((r) => r.out === 'race\n');
  assert.is(won.length, 1, JSON.stringify(results));
  assert.is(won[0]!.code, 0);
  for (const r of results.filter((x) => x.out !== 'race\n')) {
    // docker: rm -f of a container already gone says so and exits 0; one being removed is an error.
    if (r.code === 0) assert.match(r.err, /^minidock: no such container: race/);
    else {
      assert.is(r.code, 1);
      assert.match(r.err, /^minidock: removal of container race is already in progress/);
    }
  }
});

T('a broken state.json of a running container: gc keeps its address and port, and rm -f ends its processes and frees them', () => {
  assert.is(mdk(root, ['run', '-d', '--name', 'torn', '-p', '18802:80', 'busybox', 'sh', '-c', 'sleep 60 & sleep 60'], { env: ENV }).code, 0);
  const id = idOf('torn');
  const state = JSON.parse(readFileSync(join(root, 'containers', id, 'state.json'), 'utf8')) as { pid: number; net: { attachment: { ip: string } } };
  const ip = state.net.attachment.ip;
  writeFileSync(join(root, 'containers', id, 'state.json'), '{"status": "runn');
  assert.match(mdk(root, ['ps', '-a']).stdout, new RegExp(`${id.slice(0, 12)} .*Broken`));
  assert.is(mdk(root, ['gc']).code, 0);
  assert.ok(existsSync(join(root, 'networks', 'bridge', 'leases', ip)), 'gc kept the lease of a container it cannot read');
  assert.match(inNetns('ip -o link show'), new RegExp(`mdk${id.slice(0, 12)}`), 'and its veth');
  // The address and the host port stay taken for the next container.
  assert.is(mdk(root, ['run', '-d', '--name', 'next', '-p', '18802:80', 'busybox', 'sleep', '60'], { env: ENV }).code, 125, 'its port is still in use');
  const next = mdk(root, ['run', '-d', '--name', 'next', 'busybox', 'sleep', '60'], { env: ENV });
  assert.is(next.code, 0, next.stderr);
  const nextIp = (JSON.parse(readFileSync(join(root, 'containers', idOf('next'), 'state.json'), 'utf8')) as typeof state).net.attachment.ip;
  assert.is.not(nextIp, ip, 'never the same address');
  assert.is(mdk(root, ['rm', 'torn']).code, 1, 'rm without -f refuses a broken container');
  const rm = mdk(root, ['rm', '-f', 'torn', 'next'], { env: ENV });
  assert.is(rm.code, 0, rm.stderr);
  assert.not.ok(existsSync(`/proc/${state.pid}`), 'its PID 1 is gone');
  assert.equal(testCgroups().filter((c) => c.endsWith(id)), [], 'and its cgroups');
});

T('a name file torn to garbage does not give a live container\'s name to a second one', () => {
  assert.is(mdk(root, ['run', '-d', '--name', 'named', '--network', 'none', 'busybox', 'sleep', '60']).code, 0);
  try {
    writeFileSync(join(root, 'names', 'named'), 'not an id');
    const r = mdk(root, ['run', '-d', '--name', 'named', '--network', 'none', 'busybox', 'sleep', '60']);
    assert.is(r.code, 125);
    assert.match(r.stderr, /the container name "\/named" is already in use/);
    assert.is(mdk(root, ['ps', '-q', '--filter', 'name=named']).stdout.trim().split('\n').length, 1);
    // gc mends the index rather than deleting it (a deleted one would free the name).
    writeFileSync(join(root, 'names', 'named'), 'torn again');
    assert.is(mdk(root, ['gc']).code, 0);
    assert.match(readFileSync(join(root, 'names', 'named'), 'utf8'), /^[0-9a-f]{64}$/);
    assert.is(mdk(root, ['run', '-d', '--name', 'named', '--network', 'none', 'busybox', 'true']).code, 125);
  } finally {
    mdk(root, ['rm', '-f', 'named']);
  }
});

T('import on a full disk is one line naming the filesystem, and leaves nothing', () => {
  const small = `${root}-small`;
  mkdirSync(small, { recursive: true });
  sh(`mount -t tmpfs -o size=2m minidock-test-full ${small}`);
  try {
    for (const src of [PYTHON_TAR, join(work, 'py')]) {
      if (src !== PYTHON_TAR) { mkdirSync(src); sh(`tar -xf ${PYTHON_TAR} -C ${src}`); }
      const r = mdk(small, ['import', src, 'big']);
      assert.is(r.code, 1, r.stderr); // docker import's failure code
      assert.match(r.stderr, new RegExp(`^minidock: cannot import ${src}: no space left on device under ${small} \\(free space there`));
      assert.is(r.stderr.trim().split('\n').length, 1, r.stderr);
      assert.equal(readdirSync(join(small, 'tmp')), [], 'no staging left');
      assert.equal(readdirSync(join(small, 'images/layers')), ['l'], 'no layer');
      assert.equal(readdirSync(join(small, 'images/image')), [], 'no image');
    }
  } finally {
    sh(`umount ${small} && rmdir ${small}`);
  }
});

Perms.run();
