// minidock-runc carrying out the mount side of issue #14: mount options (propagation, the other
// MS_* flags, the recursive r* forms through mount_setattr), linux.rootfsPropagation,
// linux.devices and linux.sysctl. Real busybox bundles through create/start/delete; each value is
// read back from inside the container (/proc/self/mountinfo, stat of the node, /proc/sys), and
// every test ends with nothing left: no container listed, no process rooted in the bundle, no
// mount naming it, no state.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requireRootAndImages, sh } from '../helpers/cli.js';
import { bundleMarker, ended, ociBundle, processesIn, runcIn } from '../helpers/oci.js';

requireRootAndImages();
const work = mkdtempSync(join(tmpdir(), 'mdk-ocimnt-'));
chmodSync(work, 0o755); // a remapped root (host uid 100000) must reach its bundle
const T = suite('oci mounts, devices, sysctl');
/** Host mounts a test made (a shared bundle root): undone even when the test failed half-way. */
const hostMounts: string[] = [];
const undoHostMounts = (): void => {
  while (hostMounts.length) spawnSync('umount', ['-l', hostMounts.pop()!]);
};
T.after.each(() => {
  for (const id of list()) runc(['delete', '--force', id]);
  undoHostMounts();
});
T.after(() => {
  for (const id of list()) runc(['delete', '--force', id]);
  undoHostMounts();
  rmSync(work, { recursive: true, force: true });
});

const state = join(work, 'state');
const runc = runcIn(work);
const list = runc.list;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const bundle = (name: string, script: string, edit: (c: any) => void = () => {}): string =>
  ociBundle(work, name, script, edit, `touch rootfs/${bundleMarker(name)}`);

/** create, start, wait for the process to end; returns what it wrote. */
async function runToEnd(id: string, dir: string, whileCreated: () => void = () => {}): Promise<string> {
  const cr = runc(['create', '--bundle', dir, id]);
  assert.is(cr.code, 0, cr.stderr);
  const st = JSON.parse(runc(['state', id]).stdout) as { pid: number; status: string };
  assert.is(st.status, 'created');
  whileCreated();
  const go = runc(['start', id]);
  assert.is(go.code, 0, go.stderr);
  assert.ok(await ended(st.pid), `container process ${st.pid} did not exit`);
  return readFileSync(join(dir, 'out/log'), 'utf8');
}

function deleteAndCheck(id: string, dir: string): void {
  if (existsSync(join(state, id))) assert.is(runc(['delete', id]).code, 0);
  assertNothingLeft(id, dir);
}

function assertNothingLeft(id: string, dir: string): void {
  assert.equal(list(), [], 'minidock-runc list is empty');
  assert.equal(processesIn(dir, id), [], 'no process is rooted in the bundle');
  assert.equal(hostMountsUnder(dir), [], 'no mount names the bundle');
  assert.not.ok(existsSync(join(state, id)), 'the state directory is removed');
}

const hostMountsUnder = (dir: string): string[] => readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => l.includes(dir));

interface MountLine {
  point: string;
  /** Per-mount options ("rw,nosuid,noatime"). */
  opts: string[];
  /** Optional fields: "shared:N", "master:N", "unbindable". */
  tags: string[];
  fstype: string;
  /** Superblock options ("rw,size=4k,mode=751"). */
  sb: string[];
}

/** /proc/self/mountinfo (proc(5)) as the container wrote it between BEGIN and END. */
function mountinfo(out: string): MountLine[] {
  const body = out.split('BEGIN\n')[1]?.split('END\n')[0] ?? '';
  return body.split('\n').filter(Boolean).map((l) => {
    const [pre, post] = l.split(' - ');
    const f = pre!.split(' ');
    const p = post!.split(' ');
    return { point: f[4]!, opts: f[5]!.split(','), tags: f.slice(6), fstype: p[0]!, sb: (p[2] ?? '').split(',') };
  });
}
const at = (lines: MountLine[], point: string): MountLine => {
  const l = lines.filter((m) => m.point === point).pop();
  assert.ok(l, `no mount at ${point} in ${lines.map((m) => m.point).join(' ')}`);
  return l!;
};
const MOUNTINFO = 'echo BEGIN; cat /proc/self/mountinfo; echo END';

// ---------------------------------------------------------------- mount options

T('mount options: propagation beside a tmpfs\'s data, the other MS_* flags, and the recursive r* forms on every submount', async () => {
  const id = 'mnt-opts';
  const dir = bundle(id, `${MOUNTINFO}; stat -c 'mode %a' /t1`, (c) => {
    c.mounts.push(
      { destination: '/t1', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=751', 'size=1k', 'shared'] },
      { destination: '/t2', type: 'tmpfs', source: 'tmpfs', options: ['noatime', 'nodiratime', 'nosymfollow', 'mand', 'nomand', 'unbindable'] },
      // The host's /dev has submounts (pts, shm, mqueue): rro and rnosuid reach each of them,
      // which a remount of the top alone would not.
      { destination: '/hostdev', type: 'bind', source: '/dev', options: ['rbind', 'rro', 'rnosuid', 'rnoatime', 'rslave', 'mode=755'] },
    );
  });
  const out = await runToEnd(id, dir);
  const m = mountinfo(out);
  const t1 = at(m, '/t1');
  assert.ok(t1.tags.some((t) => /^shared:\d+$/.test(t)), `shared: ${t1.tags}`);
  assert.ok(t1.opts.includes('nosuid'), String(t1.opts));
  // tmpfs rounds the size up to a page; the mode is the root directory's.
  assert.ok(t1.sb.includes('size=4k') && t1.sb.includes('mode=751'), String(t1.sb));
  assert.match(out, /^mode 751$/m);
  const t2 = at(m, '/t2');
  assert.equal(t2.tags, ['unbindable']);
  for (const o of ['noatime', 'nodiratime', 'nosymfollow']) assert.ok(t2.opts.includes(o), `${o} in ${t2.opts}`);
  const below = m.filter((l) => l.point === '/hostdev' || l.point.startsWith('/hostdev/'));
  assert.ok(below.length >= 3 && below.some((l) => l.point === '/hostdev/pts'), below.map((l) => l.point).join(' '));
  for (const l of below) {
    for (const o of ['ro', 'nosuid', 'noatime']) assert.ok(l.opts.includes(o), `${l.point}: ${o} in ${l.opts}`);
    assert.not.ok(l.tags.some((t) => t.startsWith('shared:')), `${l.point} shares nothing with the host: ${l.tags}`);
  }
  deleteAndCheck(id, dir);
});

T('mount options the runtime cannot carry out are refused by name before anything is made', async () => {
  const id = 'mnt-refused';
  const dir = bundle(id, 'true', (c) => {
    c.mounts.push({ destination: '/t', type: 'tmpfs', source: 'tmpfs', options: ['tmpcopyup', 'rshared'] });
  });
  const r = runc(['create', '--bundle', dir, id]);
  assert.is(r.code, 1);
  assert.match(r.stderr, /mounts\[\d+\]\.options "tmpcopyup" \(copying the image's files into a fresh tmpfs\)/);
  assert.not.match(r.stderr, /rshared/);
  await sleep(100);
  assertNothingLeft(id, dir);
});

// ---------------------------------------------------------------- linux.rootfsPropagation

/** The bundle's rootfs made a shared mount on the host, so that what a slave receives shows. */
function shareRootfs(dir: string): string {
  const root = join(dir, 'rootfs');
  sh(`mount --bind ${root} ${root} && mount --make-shared ${root}`);
  hostMounts.push(root);
  return root;
}

T('rootfsPropagation unset (runc\'s rslave): the container\'s / is a slave of the host\'s mount; a host mount below the rootfs arrives, none of the container\'s leaves', async () => {
  const id = 'mnt-prop-default';
  const dir = bundle(id, `${MOUNTINFO}; i=0; while ! grep -q ' /arrived ' /proc/self/mountinfo && [ $i -lt 100 ]; do sleep 0.05; i=$((i+1)); done; grep ' /arrived ' /proc/self/mountinfo | cut -d' ' -f5`);
  mkdirSync(join(dir, 'rootfs/arrived'));
  const root = shareRootfs(dir);
  const out = await runToEnd(id, dir, () => {
    // Set up in full and waiting: its /proc, /dev, /sys... are mounted below the rootfs, and
    // none of them propagated back to the host's shared mount.
    assert.equal(hostMountsUnder(root).map((l) => l.split(' ')[4]), [root], 'only our own bind of the rootfs on the host');
    sh(`mount -t tmpfs -o size=4k arrived ${root}/arrived`);
    hostMounts.push(`${root}/arrived`);
  });
  const rootLine = at(mountinfo(out), '/');
  assert.ok(rootLine.tags.some((t) => /^master:\d+$/.test(t)) && !rootLine.tags.some((t) => t.startsWith('shared:')), `a slave: ${rootLine.tags}`);
  assert.match(out, /^\/arrived$/m, 'the host\'s mount arrived inside');
  undoHostMounts();
  deleteAndCheck(id, dir);
});

const PROP_CASES: Array<[string, (tags: string[]) => boolean]> = [
  ['private', (tags) => tags.length === 0],
  ['shared', (tags) => tags.some((t) => /^shared:\d+$/.test(t))],
  ['unbindable', (tags) => tags.includes('unbindable')],
];
for (const [prop, want] of PROP_CASES) {
  T(`rootfsPropagation ${prop}: / inside is ${prop}, and nothing the container mounts reaches the host`, async () => {
    const id = `mnt-prop-${prop}`;
    const dir = bundle(id, MOUNTINFO, (c) => {
      c.linux.rootfsPropagation = prop;
    });
    const root = shareRootfs(dir);
    const out = await runToEnd(id, dir, () => {
      assert.equal(hostMountsUnder(root).map((l) => l.split(' ')[4]), [root], 'only our own bind of the rootfs on the host');
    });
    const rootLine = at(mountinfo(out), '/');
    assert.ok(want(rootLine.tags), `${prop}: ${rootLine.tags}`);
    // Whatever the new root is, it never joins the host's peer group (shared only with itself).
    const hostGroup = /shared:(\d+)/.exec(hostMountsUnder(root)[0]!)?.[1];
    assert.not.ok(rootLine.tags.includes(`shared:${hostGroup}`), `not in the host's peer group ${hostGroup}: ${rootLine.tags}`);
    undoHostMounts();
    deleteAndCheck(id, dir);
  });
}

// ---------------------------------------------------------------- linux.devices

const STAT_NODES = 'for n in /dev/mnt-c /dev/sub/mnt-b /dev/mnt-p /dev/mnt-d; do stat -c "%n %F %t:%T %a %u:%g" $n; done';

T('linux.devices: each node made with its type, numbers, mode (the umask does not trim it) and owner; the device cgroup lets it be made', async () => {
  const id = 'mnt-dev';
  const dir = bundle(id, `${STAT_NODES}; head -c 3 /dev/mnt-d | wc -c`, (c) => {
    c.linux.devices = [
      { path: '/dev/mnt-c', type: 'c', major: 1, minor: 3, fileMode: 0o640, uid: 1000, gid: 1001 },
      { path: '/dev/sub/mnt-b', type: 'b', major: 7, minor: 200, fileMode: 0o600 },
      { path: '/dev/mnt-p', type: 'p', fileMode: 0o620, uid: 5, gid: 5 },
      // No mode: 0666, runc's default, although the runtime's umask (022) would make it 0644.
      { path: '/dev/mnt-d', type: 'c', major: 1, minor: 5 },
    ];
  });
  const old = process.umask(0o022);
  let out: string;
  try {
    out = await runToEnd(id, dir);
  } finally {
    process.umask(old);
  }
  assert.equal(out.trim().split('\n'), [
    '/dev/mnt-c character special file 1:3 640 1000:1001',
    '/dev/sub/mnt-b block special file 7:c8 600 0:0',
    '/dev/mnt-p fifo 0:0 620 5:5',
    '/dev/mnt-d character special file 1:5 666 0:0',
    '3',
  ]);
  deleteAndCheck(id, dir);
});

T('linux.devices in a user namespace: the host\'s node is bound (mknod is refused there), a FIFO is still made', async () => {
  const id = 'mnt-dev-userns';
  const dir = bundle(id, 'stat -c "%n %F %t:%T" /dev/kmsg /dev/mnt-p', (c) => {
    c.linux.namespaces.push({ type: 'user' });
    c.linux.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
    c.linux.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
    c.linux.devices = [{ path: '/dev/kmsg', type: 'c', major: 1, minor: 11 }, { path: '/dev/mnt-p', type: 'p' }];
  });
  const out = await runToEnd(id, dir);
  assert.equal(out.trim().split('\n'), ['/dev/kmsg character special file 1:b', '/dev/mnt-p fifo 0:0']);
  deleteAndCheck(id, dir);
});

// ---------------------------------------------------------------- linux.sysctl

const hostValue = (key: string): string => readFileSync(`/proc/sys/${key.replace(/\./g, '/')}`, 'utf8').trim();

T('linux.sysctl: net, IPC and UTS keys read back inside; the host\'s values untouched', async () => {
  const id = 'mnt-sysctl';
  const keys = { 'net.ipv4.ip_forward': '1', 'net.core.somaxconn': '777', 'kernel.shmmni': '1234', 'fs.mqueue.msg_max': '20', 'kernel.domainname': 'mnt.example' };
  const before = Object.keys(keys).map(hostValue);
  const dir = bundle(id, Object.keys(keys).map((k) => `cat /proc/sys/${k.replace(/\./g, '/')}`).join('; '), (c) => {
    c.linux.sysctl = keys;
  });
  const out = await runToEnd(id, dir);
  assert.equal(out.trim().split('\n'), Object.values(keys));
  assert.equal(Object.keys(keys).map(hostValue), before, 'the host keeps its own values');
  deleteAndCheck(id, dir);
});

T('linux.sysctl: a key of no namespace, or net.* without a network namespace of its own, is refused by name before anything is made', async () => {
  const cases: Array<[string, (c: any) => void, RegExp]> = [
    ['mnt-sysctl-host', (c) => (c.linux.sysctl = { 'kernel.core_pattern': '|/bin/false' }), /linux\.sysctl\["kernel\.core_pattern"\] belongs to no namespace a container can have/],
    ['mnt-sysctl-net', (c) => {
      c.linux.namespaces = c.linux.namespaces.filter((n: any) => n.type !== 'network');
      c.linux.sysctl = { 'net.ipv4.ip_forward': '1' };
    }, /linux\.sysctl\["net\.ipv4\.ip_forward"\] needs a network namespace of the container's own/],
  ];
  const pattern = hostValue('kernel.core_pattern');
  for (const [id, edit, message] of cases) {
    const dir = bundle(id, 'true', edit);
    const r = runc(['create', '--bundle', dir, id]);
    assert.is(r.code, 1);
    assert.match(r.stderr, message);
    await sleep(100);
    assertNothingLeft(id, dir);
  }
  assert.is(hostValue('kernel.core_pattern'), pattern);
});

T('linux.sysctl: a value the kernel refuses fails at child.sysctl.write with the key\'s path and errno, and nothing is left', async () => {
  const id = 'mnt-sysctl-einval';
  const dir = bundle(id, 'true', (c) => {
    c.linux.sysctl = { 'net.ipv4.ip_forward': 'yes' };
  });
  const r = runc(['create', '--bundle', dir, id]);
  assert.is(r.code, 1);
  assert.is(r.stderr, 'minidock-runc: container setup failed at child.sysctl.write /proc/sys/net/ipv4/ip_forward: Invalid argument\n');
  await sleep(100);
  assertNothingLeft(id, dir);
});

T.run();
