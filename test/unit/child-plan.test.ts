// Unit tests for src/runtime/child-plan.ts: the plan the native helper runs (namespaces, mounts,
// network) and its NUL-separated wire format, checked against what native/src/plan.c accepts.
import { readFileSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { MinidockError } from '../../src/core/errors.js';
import {
  DEV_NODES,
  cgroupMountOps,
  NAMESPACES,
  buildChildPlan,
  planMounts,
  serializePlan,
  type ChildNet,
  type ChildPlan,
  type ContainerPaths,
  type PlanOp,
} from '../../src/runtime/child-plan.js';
import { IDENTITY_MAP, type ContainerSpec } from '../../src/spec/container-spec.js';

const ID = '0123456789abcdef'.repeat(4);
const DIR = `/var/lib/minidock/containers/${ID}`;

const paths: ContainerPaths = {
  dir: DIR,
  rootfs: `${DIR}/rootfs`,
  lower: `${DIR}/lower`,
  upper: `${DIR}/upper`,
  work: `${DIR}/work`,
  hostname: `${DIR}/hostname`,
  hosts: `${DIR}/hosts`,
  resolvConf: `${DIR}/resolv.conf`,
};

const spec = (over: Partial<ContainerSpec> = {}): ContainerSpec => ({
  id: ID,
  name: 'web',
  hostname: 'web-host',
  image: { ref: 'alpine', id: 'sha256:abc', rootfs: '/var/lib/minidock/images/abc/rootfs' },
  argv: ['sh', '-c', 'echo "hi there"'],
  env: ['PATH=/usr/bin:/bin', 'A=b=c'],
  cwd: '/app',
  user: { uid: 1000, gid: 100, additionalGids: [10, 27] },
  tty: false,
  interactive: false,
  network: { mode: 'none' },
  autoRemove: false,
  idMap: { uidMap: '0 100000 65536', gidMap: '0 200000 65536' },
  createdAt: 1700000000000,
  ...over,
});

const io = { stdio: [7, 8, 9] as [number, number, number] };
const TTY = '/dev/pts/4';

// ---------------------------------------------------------------- planMounts

const proc: PlanOp = { op: 'mount', src: 'proc', dst: '/proc', type: 'proc', flags: 'nosuid,nodev,noexec' };
const sysfs: PlanOp = { op: 'mount', src: 'sysfs', dst: '/sys', type: 'sysfs', flags: 'ro,nosuid,nodev,noexec' };
const sysBind: PlanOp = { op: 'bind', src: '/sys', dst: '/sys', file: false, flags: 'rec,ro,nosuid,nodev,noexec' };
// docker's read-only and masked paths, written out in full so a change to them shows here.
const ro = 'rec,ro,nosuid,nodev,noexec';
const hardening: PlanOp[] = [
  { op: 'bind', src: `${DIR}/rootfs/proc/bus`, dst: '/proc/bus', file: false, flags: ro, optional: true },
  { op: 'bind', src: `${DIR}/rootfs/proc/fs`, dst: '/proc/fs', file: false, flags: ro, optional: true },
  { op: 'bind', src: `${DIR}/rootfs/proc/irq`, dst: '/proc/irq', file: false, flags: ro, optional: true },
  { op: 'bind', src: `${DIR}/rootfs/proc/sys`, dst: '/proc/sys', file: false, flags: ro, optional: true },
  { op: 'bind', src: `${DIR}/rootfs/proc/sysrq-trigger`, dst: '/proc/sysrq-trigger', file: true, flags: ro, optional: true },
  ...['/proc/kcore', '/proc/keys', '/proc/latency_stats', '/proc/timer_list', '/proc/timer_stats', '/proc/sched_debug'].map(
    (dst): PlanOp => ({ op: 'bind', src: '/dev/null', dst, file: true, optional: true })),
  ...['/proc/acpi', '/proc/asound', '/proc/scsi', '/sys/firmware', '/sys/devices/virtual/powercap'].map(
    (dst): PlanOp => ({ op: 'mount', src: 'tmpfs', dst, type: 'tmpfs', flags: 'ro,nosuid,nodev,noexec', data: 'size=0', optional: true })),
];
const devAndEtc = (tty?: string): PlanOp[] => [
  { op: 'mount', src: 'tmpfs', dst: '/dev', type: 'tmpfs', flags: 'nosuid,strictatime', data: 'mode=755,size=65536k' },
  { op: 'bind', src: '/dev/null', dst: '/dev/null', file: true },
  { op: 'bind', src: '/dev/zero', dst: '/dev/zero', file: true },
  { op: 'bind', src: '/dev/full', dst: '/dev/full', file: true },
  { op: 'bind', src: '/dev/random', dst: '/dev/random', file: true },
  { op: 'bind', src: '/dev/urandom', dst: '/dev/urandom', file: true },
  { op: 'bind', src: '/dev/tty', dst: '/dev/tty', file: true },
  { op: 'mount', src: 'devpts', dst: '/dev/pts', type: 'devpts', flags: 'nosuid,noexec', data: 'newinstance,ptmxmode=0666,mode=0620,gid=5' },
  { op: 'symlink', src: 'pts/ptmx', dst: '/dev/ptmx' },
  { op: 'mount', src: 'shm', dst: '/dev/shm', type: 'tmpfs', flags: 'nosuid,nodev,noexec', data: 'mode=1777,size=65536k' },
  { op: 'mount', src: 'mqueue', dst: '/dev/mqueue', type: 'mqueue', flags: 'nosuid,nodev,noexec' },
  { op: 'symlink', src: '/proc/self/fd', dst: '/dev/fd' },
  { op: 'symlink', src: '/proc/self/fd/0', dst: '/dev/stdin' },
  { op: 'symlink', src: '/proc/self/fd/1', dst: '/dev/stdout' },
  { op: 'symlink', src: '/proc/self/fd/2', dst: '/dev/stderr' },
  ...(tty ? [{ op: 'bind', src: tty, dst: '/dev/console', file: true } as PlanOp] : []),
  { op: 'bind', src: `${DIR}/hostname`, dst: '/etc/hostname', file: true },
  { op: 'bind', src: `${DIR}/hosts`, dst: '/etc/hosts', file: true },
  { op: 'bind', src: `${DIR}/resolv.conf`, dst: '/etc/resolv.conf', file: true },
];

const mountCases: Array<[string, string | undefined, boolean, PlanOp[]]> = [
  ['own netns, no tty', undefined, true, [proc, sysfs, ...hardening, ...devAndEtc()]],
  ['own netns, tty', TTY, true, [proc, sysfs, ...hardening, ...devAndEtc(TTY)]],
  ['foreign netns, no tty', undefined, false, [proc, sysBind, ...hardening, ...devAndEtc()]],
  ['foreign netns, tty', TTY, false, [proc, sysBind, ...hardening, ...devAndEtc(TTY)]],
];
for (const [name, tty, own, want] of mountCases) {
  test(`planMounts: ${name}`, () => {
    assert.equal(planMounts(paths, tty, own), want);
  });
}

test('planMounts: ownNetns defaults to true (sysfs mounted)', () => {
  assert.equal(planMounts(paths), [proc, sysfs, ...hardening, ...devAndEtc()]);
});

test('planMounts: every device node of DEV_NODES is bound, as a file, from the same host path', () => {
  const binds = planMounts(paths).filter((o) => o.op === 'bind' && o.dst.startsWith('/dev/'));
  assert.equal(binds, DEV_NODES.map((n) => ({ op: 'bind', src: `/dev/${n}`, dst: `/dev/${n}`, file: true })));
});

test('planMounts: /dev/console only with a tty', () => {
  assert.not.ok(planMounts(paths).some((o) => o.dst === '/dev/console'));
  assert.equal(planMounts(paths, TTY).filter((o) => o.dst === '/dev/console'), [
    { op: 'bind', src: TTY, dst: '/dev/console', file: true },
  ]);
});

test('planMounts: /dev is mounted before anything under it, /dev/pts before /dev/ptmx points into it', () => {
  const dsts = planMounts(paths, TTY).map((o) => o.dst);
  const at = (d: string): number => dsts.indexOf(d);
  for (const d of dsts.filter((x) => x.startsWith('/dev/'))) assert.ok(at('/dev') < at(d), d);
  assert.ok(at('/dev/pts') < at('/dev/ptmx'));
});

// ---------------------------------------------------------------- buildChildPlan

const OVERLAY = `lowerdir=/var/lib/minidock/images/abc/rootfs,upperdir=${DIR}/upper,workdir=${DIR}/work`;
const ETH = { ip: '10.88.0.2', prefix: 16, gateway: '10.88.0.1' };

const base = (over: Partial<ChildPlan>): ChildPlan => ({
  ns: ['mnt', 'uts', 'ipc', 'pid', 'net', 'user', 'cgroup'],
  netns: undefined,
  eth: undefined,
  lateCgroupns: true,
  uidMap: '0 100000 65536',
  gidMap: '0 200000 65536',
  hostname: 'web-host',
  loUp: true,
  rootfs: `${DIR}/rootfs`,
  overlay: OVERLAY,
  readOnlyRoot: false,
  tty: undefined,
  stdio: [7, 8, 9],
  ops: [proc, sysfs, ...hardening, ...devAndEtc()],
  cwd: '/app',
  uid: 1000,
  gid: 100,
  groups: [10, 27],
  caps: undefined,
  noNewPrivs: false,
  seccomp: undefined,
  argv: ['sh', '-c', 'echo "hi there"'],
  env: ['PATH=/usr/bin:/bin', 'A=b=c'],
  ...over,
});

const NO_NET = ['mnt', 'uts', 'ipc', 'pid', 'user', 'cgroup'];
const netCases: Array<[string, ChildNet | undefined, Partial<ChildPlan>]> = [
  ['default (own, lo only)', undefined, {}],
  ['own, lo only', { kind: 'own' }, {}],
  ['own with eth (bridge)', { kind: 'own', eth: ETH }, { eth: ETH }],
  ['host', { kind: 'host' }, { ns: NO_NET, loUp: false, ops: [proc, sysBind, ...hardening, ...devAndEtc()] }],
  [
    'join another container',
    { kind: 'join', netns: '/proc/4242/ns/net' },
    { ns: NO_NET, netns: '/proc/4242/ns/net', loUp: false, ops: [proc, sysBind, ...hardening, ...devAndEtc()] },
  ],
];
for (const [name, net, over] of netCases) {
  test(`buildChildPlan: network ${name}`, () => {
    assert.equal(buildChildPlan(spec(), paths, io, net), base(over));
  });
}

test('buildChildPlan: a tty adds /dev/console and is recorded', () => {
  assert.equal(
    buildChildPlan(spec(), paths, { stdio: [0, 1, 2], tty: TTY }, { kind: 'own', eth: ETH }),
    // The remapped root (host 100000) must own the pty, with the container's tty group (5 -> 200005).
    base({ tty: TTY, ttyOwner: { uid: 100000, gid: 200005 }, stdio: [0, 1, 2], eth: ETH, ops: [proc, sysfs, ...hardening, ...devAndEtc(TTY)] }),
  );
});

test('buildChildPlan: no ttyOwner under the identity map (the pty is already root\'s)', () => {
  const p = buildChildPlan(spec({ idMap: IDENTITY_MAP }), paths, { stdio: [0, 1, 2], tty: TTY });
  assert.is(p.ttyOwner, undefined);
  assert.not.ok(serializePlan(p).toString().includes('tty_uid'));
});

test('cgroupMountOps: cgroup2 alone at /sys/fs/cgroup; v1 hierarchies in a tmpfs, a hybrid\'s cgroup2 at unified; all read-only', () => {
  const ro = 'ro,nosuid,nodev,noexec';
  assert.equal(cgroupMountOps([]), []);
  assert.equal(cgroupMountOps([{ version: 2, path: '/sys/fs/cgroup/minidock/x', controllers: ['memory', 'pids'] }]), [
    { op: 'mount', src: 'cgroup2', dst: '/sys/fs/cgroup', type: 'cgroup2', flags: ro },
  ]);
  assert.equal(cgroupMountOps([
    { version: 1, path: '/sys/fs/cgroup/memory/minidock/x', controllers: ['memory'] },
    { version: 1, path: '/sys/fs/cgroup/cpu,cpuacct/minidock/x', controllers: ['cpu', 'cpuacct'] },
    { version: 2, path: '/sys/fs/cgroup/unified/minidock/x', controllers: [] },
  ]), [
    { op: 'mount', src: 'tmpfs', dst: '/sys/fs/cgroup', type: 'tmpfs', flags: 'nosuid,nodev,noexec', data: 'mode=755,size=64k' },
    { op: 'mount', src: 'cgroup', dst: '/sys/fs/cgroup/memory', type: 'cgroup', flags: ro, data: 'memory' },
    { op: 'mount', src: 'cgroup', dst: '/sys/fs/cgroup/cpu,cpuacct', type: 'cgroup', flags: ro, data: 'cpu,cpuacct' },
    { op: 'mount', src: 'cgroup2', dst: '/sys/fs/cgroup/unified', type: 'cgroup2', flags: ro },
  ]);
  // In the plan: after the /sys mount they sit on, before the user's volumes.
  const p = buildChildPlan(spec(), paths, { ...io, cgroups: [{ version: 2, path: '/c', controllers: [] }] });
  const dsts = p.ops.map((o) => o.dst);
  assert.ok(dsts.indexOf('/sys/fs/cgroup') > dsts.indexOf('/sys'));
});

test('buildChildPlan: an idmapped image becomes overlay\'s lower layer at paths.lower', () => {
  const s = spec();
  const p = buildChildPlan({ ...s, image: { ...s.image, idmapped: true } }, paths, io);
  assert.is(p.idmapLower, s.image.rootfs);
  assert.is(p.lowerMnt, paths.lower);
  assert.is(p.overlay, `lowerdir=${paths.lower},upperdir=${paths.upper},workdir=${paths.work}`);
  const kv = serializePlan(p).toString().split('\0');
  assert.equal(kv.slice(kv.indexOf('overlay'), kv.indexOf('overlay') + 6), ['overlay', p.overlay, 'idmap_lower', s.image.rootfs, 'lower_mnt', paths.lower]);
});

test('buildChildPlan: the identity map and no extra groups pass through', () => {
  const p = buildChildPlan(spec({ idMap: IDENTITY_MAP, user: { uid: 0, gid: 0, additionalGids: [] } }), paths, io);
  assert.is(p.uidMap, '0 0 4294967295');
  assert.is(p.gidMap, '0 0 4294967295');
  assert.equal([p.uid, p.gid, p.groups], [0, 0, []]);
});

test('buildChildPlan: ns is NAMESPACES, in order, with or without net', () => {
  assert.equal(buildChildPlan(spec(), paths, io).ns, [...NAMESPACES]);
  assert.equal(buildChildPlan(spec(), paths, io, { kind: 'host' }).ns, NAMESPACES.filter((n) => n !== 'net'));
});

const badLayers: Array<[string, (s: ContainerSpec, p: ContainerPaths) => [ContainerSpec, ContainerPaths], string]> = [
  ['image rootfs with ","', (s, p) => [{ ...s, image: { ...s.image, rootfs: '/img/a,b' } }, p], '/img/a,b'],
  ['image rootfs with ":"', (s, p) => [{ ...s, image: { ...s.image, rootfs: '/img/a:b' } }, p], '/img/a:b'],
  ['image rootfs with "\\"', (s, p) => [{ ...s, image: { ...s.image, rootfs: '/img/a\\b' } }, p], '/img/a\\b'],
  ['upper with ":"', (s, p) => [s, { ...p, upper: '/r:oot/upper' }], '/r:oot/upper'],
  ['work with ","', (s, p) => [s, { ...p, work: '/ro,ot/work' }], '/ro,ot/work'],
];
for (const [name, mutate, dir] of badLayers) {
  test(`buildChildPlan refuses an overlay layer: ${name}`, () => {
    const [s, p] = mutate(spec(), paths);
    try {
      buildChildPlan(s, p, io);
      assert.unreachable('should have thrown');
    } catch (err) {
      assert.instance(err, MinidockError);
      const e = err as MinidockError;
      assert.is(e.message, `path ${JSON.stringify(dir)} cannot be used as an overlay layer: it contains "," ":" or "\\"`);
      assert.is(e.step, 'plan.overlay');
      assert.is(e.exitCode, 125);
    }
  });
}

test('buildChildPlan accepts layer paths with spaces, "=" and unicode (only , : \\ are separators)', () => {
  const s = spec({ image: { ref: 'x', rootfs: '/img/with space/a=b/ünï' } });
  assert.is(
    buildChildPlan(s, paths, io).overlay,
    `lowerdir=/img/with space/a=b/ünï,upperdir=${DIR}/upper,workdir=${DIR}/work`,
  );
});

// ---------------------------------------------------------------- serializePlan

/** The buffer as [key, value] pairs, checking the framing plan.c insists on. */
function pairs(buf: Buffer): Array<[string, string]> {
  assert.is(buf[buf.length - 1], 0, 'NUL-terminated');
  const parts = buf.toString('utf8').split('\0');
  assert.is(parts.pop(), '', 'nothing after the last NUL');
  assert.is(parts.length % 2, 0, 'every key has a value');
  const out: Array<[string, string]> = [];
  for (let i = 0; i < parts.length; i += 2) out.push([parts[i]!, parts[i + 1]!]);
  return out;
}

const opPairs = (ops: PlanOp[]): Array<[string, string]> =>
  ops.flatMap((o): Array<[string, string]> => {
    switch (o.op) {
      case 'mount':
        return [['op', 'mount'], ['src', o.src], ['dst', o.dst], ['type', o.type], ...(o.data ? [['data', o.data] as [string, string]] : []), ...(o.flags ? [['flags', o.flags] as [string, string]] : []), ...(o.optional ? [['optional', '1'] as [string, string]] : [])];
      case 'bind':
        return [['op', 'bind'], ['src', o.src], ['dst', o.dst], ...(o.flags ? [['flags', o.flags] as [string, string]] : []), ['file', o.file ? '1' : '0'], ...(o.optional ? [['optional', '1'] as [string, string]] : [])];
      case 'symlink':
        return [['op', 'symlink'], ['src', o.src], ['dst', o.dst]];
      case 'mkdir':
        return [['op', 'mkdir'], ['dst', o.dst]];
      default:
        throw new Error(`no wire pairs for op ${o.op} in this test`);
    }
  });

const tail: Array<[string, string]> = [
  ['cwd', '/app'],
  ['uid', '1000'],
  ['gid', '100'],
  ['group', '10'],
  ['group', '27'],
  ['nnp', '0'],
  ['arg', 'sh'],
  ['arg', '-c'],
  ['arg', 'echo "hi there"'],
  ['env', 'PATH=/usr/bin:/bin'],
  ['env', 'A=b=c'],
];

test('serializePlan: bridge network with a tty, exact key/value sequence', () => {
  const plan = buildChildPlan(spec(), paths, { stdio: [0, 1, 2], tty: TTY }, { kind: 'own', eth: ETH });
  assert.equal(pairs(serializePlan(plan)), [
    ['ns', 'mnt,uts,ipc,pid,net,user,cgroup'],
    ['late_cgroupns', '1'],
    ['uid_map', '0 100000 65536'],
    ['gid_map', '0 200000 65536'],
    ['hostname', 'web-host'],
    ['lo_up', '1'],
    ['eth_addr', '10.88.0.2'],
    ['eth_prefix', '16'],
    ['eth_gw', '10.88.0.1'],
    ['rootfs', `${DIR}/rootfs`],
    ['overlay', OVERLAY],
    ['tty', TTY],
    ['tty_uid', '100000'],
    ['tty_gid', '200005'],
    ['stdin', '0'],
    ['stdout', '1'],
    ['stderr', '2'],
    ...opPairs([proc, sysfs, ...hardening, ...devAndEtc(TTY)]),
    ...tail,
  ]);
});

test('serializePlan: joined network, no tty: netns, no eth, lo_up 0, read-only /sys bind', () => {
  const plan = buildChildPlan(spec(), paths, io, { kind: 'join', netns: '/proc/4242/ns/net' });
  assert.equal(pairs(serializePlan(plan)), [
    ['ns', 'mnt,uts,ipc,pid,user,cgroup'],
    ['late_cgroupns', '1'],
    ['uid_map', '0 100000 65536'],
    ['gid_map', '0 200000 65536'],
    ['hostname', 'web-host'],
    ['lo_up', '0'],
    ['netns', '/proc/4242/ns/net'],
    ['rootfs', `${DIR}/rootfs`],
    ['overlay', OVERLAY],
    ['stdin', '7'],
    ['stdout', '8'],
    ['stderr', '9'],
    ...opPairs([proc, sysBind, ...hardening, ...devAndEtc()]),
    ...tail,
  ]);
});

test('serializePlan: the first ops spelled out (mount keys, bind keys, symlink keys)', () => {
  const kv = pairs(serializePlan(buildChildPlan(spec(), paths, io, { kind: 'host' })));
  const first = kv.findIndex(([k]) => k === 'op');
  assert.equal(kv.slice(first, first + 15), [
    ['op', 'mount'], ['src', 'proc'], ['dst', '/proc'], ['type', 'proc'], ['flags', 'nosuid,nodev,noexec'],
    ['op', 'bind'], ['src', '/sys'], ['dst', '/sys'], ['flags', 'rec,ro,nosuid,nodev,noexec'], ['file', '0'],
    ['op', 'bind'], ['src', `${DIR}/rootfs/proc/bus`], ['dst', '/proc/bus'], ['flags', 'rec,ro,nosuid,nodev,noexec'], ['file', '0'],
  ]);
  assert.equal(kv[first + 15], ['optional', '1'], 'a read-only path this kernel may lack is optional');
  const dev = kv.findIndex(([k, v]) => k === 'dst' && v === '/dev');
  assert.equal(kv.slice(dev - 2, dev + 3), [['op', 'mount'], ['src', 'tmpfs'], ['dst', '/dev'], ['type', 'tmpfs'], ['data', 'mode=755,size=65536k']]);
  const ptmx = kv.findIndex(([k, v]) => k === 'dst' && v === '/dev/ptmx');
  assert.equal(kv.slice(ptmx - 2, ptmx + 1), [['op', 'symlink'], ['src', 'pts/ptmx'], ['dst', '/dev/ptmx']]);
});

test('serializePlan: a mkdir op has no src; empty strings and empty lists survive', () => {
  const plan: ChildPlan = {
    ...base({}),
    hostname: '',
    groups: [],
    env: [],
    argv: ['true', ''],
    ops: [{ op: 'mkdir', dst: '/data' }, { op: 'bind', src: '/h', dst: '/c', file: false }],
  };
  const kv = pairs(serializePlan(plan));
  assert.equal(kv.find(([k]) => k === 'hostname'), ['hostname', '']);
  assert.equal(kv.slice(kv.findIndex(([k]) => k === 'op')), [
    ['op', 'mkdir'], ['dst', '/data'],
    ['op', 'bind'], ['src', '/h'], ['dst', '/c'], ['file', '0'],
    ['cwd', '/app'], ['uid', '1000'], ['gid', '100'], ['nnp', '0'],
    ['arg', 'true'], ['arg', ''],
  ]);
});

test('serializePlan: the capability mask, no_new_privs and the seccomp filter', () => {
  const kv = pairs(serializePlan({ ...base({}), caps: 'a80425fb', noNewPrivs: true, seccomp: 'default' }));
  const at = kv.findIndex(([k]) => k === 'caps');
  assert.equal(kv.slice(at, at + 3), [['caps', 'a80425fb'], ['nnp', '1'], ['seccomp', 'default']]);
});

/** An OCI process's fields on top of the one-mask plan (src/oci/plan.ts sets them). */
const OCI_EXTRAS: Partial<ChildPlan> = {
  caps: '20000421',
  capSets: { bounding: '20000421', effective: '20', inheritable: '400', permitted: '420', ambient: '400' },
  noNewPrivs: true,
  seccompProg: '2000000004000000060000000000ff7f',
  seccompFlags: 4,
  rlimits: [{ type: 'RLIMIT_NOFILE', soft: 512, hard: 1024 }, { type: 'RLIMIT_RTTIME', soft: 0, hard: 9007199254740991 }],
  umask: 0o027,
  oomScoreAdj: -1000,
  domainname: 'example.org',
};

test('serializePlan: the OCI process keys, exact, after caps: the five sets, the compiled filter and its flags, rlimits, umask, oom_score_adj, domainname', () => {
  const kv = pairs(serializePlan({ ...base({}), ...OCI_EXTRAS }));
  const at = kv.findIndex(([k]) => k === 'caps');
  assert.equal(kv.slice(at, at + 15), [
    ['caps', '20000421'],
    ['cap_bounding', '20000421'], ['cap_effective', '20'], ['cap_inheritable', '400'], ['cap_permitted', '420'], ['cap_ambient', '400'],
    ['nnp', '1'],
    ['seccomp_prog', '2000000004000000060000000000ff7f'],
    ['seccomp_flags', '4'],
    ['rlimit', '7 512 1024'], ['rlimit', '15 0 9007199254740991'],
    ['umask', '027'],
    ['oom_score_adj', '-1000'],
    ['domainname', 'example.org'],
    ['arg', 'sh'],
  ]);
});

test('serializePlan: none of the OCI keys for minidock run\'s plan; umask 0 is "00"', () => {
  const keys = pairs(serializePlan(buildChildPlan(spec(), paths, io))).map(([k]) => k);
  for (const k of ['cap_bounding', 'seccomp_prog', 'seccomp_flags', 'rlimit', 'umask', 'oom_score_adj', 'domainname']) assert.not.ok(keys.includes(k), k);
  assert.equal(pairs(serializePlan({ ...base({}), umask: 0 })).find(([k]) => k === 'umask'), ['umask', '00']);
});

test('serializePlan refuses a resource limit it has no number for', () => {
  try {
    serializePlan({ ...base({}), rlimits: [{ type: 'RLIMIT_NOPE', soft: 1, hard: 1 }] });
    assert.unreachable('should have thrown');
  } catch (err) {
    assert.instance(err, MinidockError);
    assert.is((err as MinidockError).message, 'unknown resource limit "RLIMIT_NOPE"');
  }
});

test('serializePlan: the Buffer is UTF-8 and NUL-framed byte for byte', () => {
  const plan: ChildPlan = { ...base({}), ops: [], argv: ['é'], env: [], groups: [] };
  const buf = serializePlan(plan);
  assert.ok(buf.subarray(buf.length - 7).equals(Buffer.from('arg\0\xc3\xa9\0', 'latin1')));
});

const nulCases: Array<[string, (p: ChildPlan) => ChildPlan, string]> = [
  ['arg', (p) => ({ ...p, argv: ['sh', 'a\0b'] }), 'arg contains a NUL byte: "a\\u0000b"'],
  ['env', (p) => ({ ...p, env: ['X=\0'] }), 'env contains a NUL byte: "X=\\u0000"'],
  ['hostname', (p) => ({ ...p, hostname: 'h\0' }), 'hostname contains a NUL byte: "h\\u0000"'],
  ['cwd', (p) => ({ ...p, cwd: '/a\0' }), 'cwd contains a NUL byte: "/a\\u0000"'],
  ['op dst', (p) => ({ ...p, ops: [{ op: 'mkdir', dst: '/x\0y' }] }), 'dst contains a NUL byte: "/x\\u0000y"'],
];
for (const [name, mutate, message] of nulCases) {
  test(`serializePlan rejects a NUL byte in ${name}`, () => {
    try {
      serializePlan(mutate(base({})));
      assert.unreachable('should have thrown');
    } catch (err) {
      assert.instance(err, MinidockError);
      assert.is((err as MinidockError).message, message);
      assert.is((err as MinidockError).step, 'plan.serialize');
    }
  });
}

// ---------------------------------------------------------------- agreement with native/src/plan.c

const planC = readFileSync(new URL('../../../native/src/plan.c', import.meta.url), 'utf8');
const cNames = (table: string): Set<string> => {
  const body = new RegExp(`${table}\\[\\] = \\{([^;]*)\\};`).exec(planC)?.[1] ?? '';
  return new Set([...body.matchAll(/\{"(\w+)"/g)].map((m) => m[1]!));
};
const cKeys = new Set([...planC.matchAll(/strcmp\(k, "(\w+)"\)/g)].map((m) => m[1]!));
// The seccomp and hook keys' values are compared the same way as op names; they are not ops.
const OTHER_VALUES = ['default', 'unconfined', 'createContainer', 'startContainer'];
const cOps = new Set([...planC.matchAll(/strcmp\(v, "(\w+)"\)/g)].map((m) => m[1]!).filter((v) => !OTHER_VALUES.includes(v)));
const cMountFlags = cNames('mount_names');
const cNs = cNames('ns_names');
const cProp = cNames('prop_names');
const cAttrs = cNames('attr_names');

test('plan.c tables were found (guards the checks below)', () => {
  assert.ok(cKeys.has('arg') && cKeys.has('eth_prefix') && cKeys.has('file'), [...cKeys].join(' '));
  assert.equal([...cOps].sort(), ['bind', 'mkdir', 'mknod', 'mount', 'symlink', 'sysctl']);
  assert.equal([...cProp].sort(), ['private', 'rec', 'shared', 'slave', 'unbindable']);
  assert.ok(cAttrs.has('ro') && cAttrs.has('atime') && cAttrs.has('relatime'), [...cAttrs].join(' '));
  assert.ok(cMountFlags.has('ro') && cMountFlags.has('rec'), [...cMountFlags].join(' '));
  assert.equal([...cNs].sort(), [...NAMESPACES].sort());
});

const everyPlan: Array<[string, ChildPlan]> = [
  ['own+tty', buildChildPlan(spec(), paths, { stdio: [0, 1, 2], tty: TTY }, { kind: 'own', eth: ETH })],
  ['host', buildChildPlan(spec(), paths, io, { kind: 'host' })],
  ['join', buildChildPlan(spec(), paths, io, { kind: 'join', netns: '/proc/1/ns/net' })],
  ['oci', { ...buildChildPlan(spec(), paths, io), ...OCI_EXTRAS, seccomp: undefined }],
  // minidock-runc's mount options, root propagation, devices and sysctls (src/oci/plan.ts).
  ['oci mounts', {
    ...buildChildPlan(spec(), paths, io), treePropagation: 'rec,slave', rootPropagation: 'rec,shared',
    ops: [
      { op: 'mount', src: 'tmpfs', dst: '/t', type: 'tmpfs', flags: 'noatime,nodiratime,sync,dirsync,mand,nosymfollow,remount,silent,iversion,lazytime', propagation: ['shared', 'rec,private'] },
      { op: 'bind', src: '/etc', dst: '/e', file: false, flags: 'rec', propagation: ['rec,slave', 'unbindable'], recSet: 'ro,nosuid,nodev,noexec,nodiratime,nosymfollow,noatime', recClr: 'atime' },
      { op: 'bind', src: '/etc', dst: '/f', file: false, recSet: 'strictatime,relatime', recClr: 'atime,ro' },
      { op: 'mknod', dst: '/dev/fuse', type: 'c', major: 10, minor: 229, mode: 0o4660, uid: 0, gid: 6 },
      { op: 'mknod', dst: '/dev/p', type: 'p', major: 0, minor: 0, mode: 0o666, uid: 0, gid: 0 },
      { op: 'sysctl', dst: '/proc/sys/net/ipv4/ip_forward', value: '1' },
    ],
  }],
];
for (const [name, plan] of everyPlan) {
  test(`serializePlan (${name}) uses only keys, ops, ns names and mount flags that plan.c parses`, () => {
    for (const [k, v] of pairs(serializePlan(plan))) {
      assert.ok(cKeys.has(k), `key ${k}`);
      if (k === 'op') assert.ok(cOps.has(v), `op ${v}`);
      if (k === 'ns') for (const n of v.split(',')) assert.ok(cNs.has(n), `ns ${n}`);
      if (k === 'flags') for (const f of v.split(',')) assert.ok(cMountFlags.has(f), `flag ${f}`);
      // One propagation type per change, "rec" optional (plan.c parse_prop).
      if (['prop', 'tree_prop', 'newroot_prop'].includes(k)) assert.ok(v.split(',').every((f) => cProp.has(f)) && v.split(',').filter((f) => f !== 'rec').length === 1, `${k} ${v}`);
      if (k === 'rec_set' || k === 'rec_clr') for (const f of v.split(',')) assert.ok(cAttrs.has(f), `${k} ${f}`);
      if (k === 'dev') assert.match(v, /^[cubp] (0|[1-9][0-9]*) (0|[1-9][0-9]*)$/);
      if (k === 'mode') assert.match(v, /^[0-7]{1,4}$/);
      if (k === 'owner') assert.match(v, /^(0|[1-9][0-9]*) (0|[1-9][0-9]*)$/);
      // plan.c: dst must be absolute and free of ".."; numbers are plain decimal.
      if (k === 'dst') assert.ok(v.startsWith('/') && !v.split('/').includes('..'), `dst ${v}`);
      if (['uid', 'gid', 'group', 'stdin', 'stdout', 'stderr', 'eth_prefix'].includes(k)) assert.match(v, /^(0|[1-9][0-9]*)$/);
      if (['late_cgroupns', 'lo_up', 'file'].includes(k)) assert.match(v, /^[01]$/);
      // plan.c: hex masks, "RESOURCE SOFT HARD" in decimal, an octal umask, lowercase hex bytes.
      if (k === 'caps' || k.startsWith('cap_')) assert.match(v, /^[0-9a-f]+$/);
      if (k === 'rlimit') assert.match(v, /^(0|1[0-5]?|[2-9]) (0|[1-9][0-9]*) (0|[1-9][0-9]*)$/);
      if (k === 'umask') assert.match(v, /^0[0-7]{1,3}$/);
      if (k === 'oom_score_adj') assert.match(v, /^-?(0|[1-9][0-9]{0,3})$/);
      if (k === 'seccomp_prog') assert.match(v, /^([0-9a-f]{16})+$/);
      if (k === 'seccomp_flags') assert.match(v, /^[1-7]$/);
    }
  });
}

test.run();
