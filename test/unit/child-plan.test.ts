// Unit tests for src/runtime/child-plan.ts: the plan the native helper runs (namespaces, mounts,
// network) and its NUL-separated wire format, checked against what native/src/plan.c accepts.
import { readFileSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { MinidockError } from '../../src/core/errors.js';
import {
  cgroupMountOps,
  NAMESPACES,
  serializePlan,
  type ChildPlan,
  type PlanOp,
} from '../../src/runtime/child-plan.js';
import { IDENTITY_MAP } from '../../src/spec/container-spec.js';
import { DIR, runPlan, runSpec as spec } from '../helpers/run-plan.js';

const io = { stdio: [7, 8, 9] as [number, number, number] };
const TTY = '/dev/pts/4';
const OVERLAY = `lowerdir=/var/lib/minidock/images/abc/rootfs,upperdir=${DIR}/upper,workdir=${DIR}/work,userxattr`;
const ETH = { ip: '10.88.0.2', prefix: 16, gateway: '10.88.0.1' };
/** minidock run's plan with no network, for the tests that change a field or two of it. */
const base = (over: Partial<ChildPlan>): ChildPlan => ({ ...runPlan(spec()), ...over });

// ---------------------------------------------------------------- cgroupMountOps

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

const prop = (o: PlanOp & { propagation?: string[] }): Array<[string, string]> => (o.propagation ?? []).map((p): [string, string] => ['prop', p]);
const opPairs = (ops: PlanOp[]): Array<[string, string]> =>
  ops.flatMap((o): Array<[string, string]> => {
    switch (o.op) {
      case 'mount':
        return [['op', 'mount'], ['src', o.src], ['dst', o.dst], ['type', o.type], ...(o.data ? [['data', o.data] as [string, string]] : []), ...(o.flags ? [['flags', o.flags] as [string, string]] : []), ...(o.optional ? [['optional', '1'] as [string, string]] : []), ...prop(o)];
      case 'bind':
        return [['op', 'bind'], ['src', o.src], ['dst', o.dst], ...(o.flags ? [['flags', o.flags] as [string, string]] : []), ['file', o.file ? '1' : '0'], ...(o.optional ? [['optional', '1'] as [string, string]] : []), ...prop(o)];
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
  ['caps', '0'],
  ['nnp', '0'],
  ['seccomp', 'unconfined'],
  ['umask', '022'],
  ['arg', 'sh'],
  ['arg', '-c'],
  ['arg', 'echo "hi there"'],
  ['env', 'PATH=/usr/bin:/bin'],
  ['env', 'A=b=c'],
];

test('serializePlan: bridge network with a tty, exact key/value sequence', () => {
  const plan = runPlan(spec({ tty: true }), { stdio: [0, 1, 2], tty: TTY }, { kind: 'own', eth: ETH });
  assert.equal(pairs(serializePlan(plan)), [
    ['ns', 'pid,ipc,uts,mnt,net,cgroup,user'],
    ['late_cgroupns', '1'],
    ['uid_map', '0 100000 65536'],
    ['gid_map', '0 200000 65536'],
    ['hostname', 'web-host'],
    ['lo_up', '1'],
    ['eth_addr', '10.88.0.2'],
    ['eth_prefix', '16'],
    ['eth_gw', '10.88.0.1'],
    ['rootfs', `${DIR}/rootfs`],
    ['tree_prop', 'rec,slave'],
    ['overlay', OVERLAY],
    ['tty', TTY],
    ['tty_uid', '100000'],
    ['tty_gid', '200005'],
    ['stdin', '0'],
    ['stdout', '1'],
    ['stderr', '2'],
    ...opPairs(plan.ops),
    ...tail,
  ]);
});

test('serializePlan: joined network, no tty: netns, no eth, lo_up 0, read-only /sys bind', () => {
  const plan = runPlan(spec({ network: { mode: 'container', container: 'db' } }), io, { kind: 'join', netns: '/proc/4242/ns/net' });
  assert.equal(pairs(serializePlan(plan)), [
    ['ns', 'pid,ipc,uts,mnt,cgroup,user'],
    ['late_cgroupns', '1'],
    ['uid_map', '0 100000 65536'],
    ['gid_map', '0 200000 65536'],
    ['hostname', 'web-host'],
    ['lo_up', '0'],
    ['netns', '/proc/4242/ns/net'],
    ['rootfs', `${DIR}/rootfs`],
    ['tree_prop', 'rec,slave'],
    ['overlay', OVERLAY],
    ['stdin', '7'],
    ['stdout', '8'],
    ['stderr', '9'],
    ...opPairs(plan.ops),
    ...tail,
  ]);
});

test('serializePlan: the first ops spelled out (mount keys, bind keys, symlink keys)', () => {
  const kv = pairs(serializePlan(runPlan(spec({ network: { mode: 'host' } }), io, { kind: 'host' })));
  const first = kv.findIndex(([k]) => k === 'op');
  assert.equal(kv.slice(first, first + 5), [['op', 'mount'], ['src', 'proc'], ['dst', '/proc'], ['type', 'proc'], ['flags', 'nosuid,noexec,nodev']]);
  const sys = kv.findIndex(([k, v]) => k === 'dst' && v === '/sys');
  assert.equal(kv.slice(sys - 2, sys + 3), [['op', 'bind'], ['src', '/sys'], ['dst', '/sys'], ['flags', 'rec,nosuid,noexec,nodev,ro'], ['file', '0']]);
  const bus = kv.findIndex(([k, v]) => k === 'dst' && v === '/proc/bus');
  assert.equal(kv.slice(bus - 2, bus + 4), [['op', 'bind'], ['src', `${DIR}/rootfs/proc/bus`], ['dst', '/proc/bus'], ['flags', 'rec,ro'], ['file', '0'], ['optional', '1']], 'a read-only path this kernel may lack is optional');
  const hosts = kv.findIndex(([k, v]) => k === 'dst' && v === '/etc/hosts');
  assert.equal(kv.slice(hosts - 2, hosts + 4), [['op', 'bind'], ['src', `${DIR}/hosts`], ['dst', '/etc/hosts'], ['flags', 'rec'], ['file', '1'], ['prop', 'rec,private']]);
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
    ['cwd', '/app'], ['uid', '1000'], ['gid', '100'], ['caps', '0'], ['nnp', '0'], ['seccomp', 'unconfined'], ['umask', '022'],
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
  const kv = pairs(serializePlan({ ...base({}), ...OCI_EXTRAS, seccomp: undefined }));
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

test('serializePlan: of the OCI keys, only umask for minidock run\'s plan; umask 0 is "00"', () => {
  const keys = pairs(serializePlan(runPlan(spec()))).map(([k]) => k);
  for (const k of ['cap_bounding', 'seccomp_prog', 'seccomp_flags', 'rlimit', 'oom_score_adj', 'domainname']) assert.not.ok(keys.includes(k), k);
  assert.ok(keys.includes('umask'));
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
  ['own+tty', runPlan(spec({ tty: true }), { stdio: [0, 1, 2], tty: TTY }, { kind: 'own', eth: ETH })],
  ['host', runPlan(spec({ network: { mode: 'host' } }), io, { kind: 'host' })],
  ['join', runPlan(spec({ network: { mode: 'container', container: 'db' } }), io, { kind: 'join', netns: '/proc/1/ns/net' })],
  ['identity, --init, a volume', runPlan(spec({ idMap: IDENTITY_MAP, init: true, volumes: [{ src: '/srv', dst: '/d', ro: true, file: false }] }), { ...io, init: '/usr/libexec/minidock-init' })],
  ['oci', { ...runPlan(spec()), ...OCI_EXTRAS, seccomp: undefined }],
  // minidock-runc's mount options, root propagation, devices and sysctls (src/oci/plan.ts).
  ['oci mounts', {
    ...runPlan(spec()), treePropagation: 'rec,slave', rootPropagation: 'rec,shared',
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
