// src/oci/plan.ts: an OCI config and its bundle turned into minidock's child plan, with every
// field the plan cannot express named in `unsupported`.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { MinidockError } from '../../src/core/errors.js';
import { parseConfig } from '../../src/oci/config.js';
import { defaultSpec } from '../../src/oci/default-spec.js';
import { containerPath, planCaps, planOci, planRootPropagation, type HostFacts } from '../../src/oci/plan.js';
import { compileSeccomp } from '../../src/oci/seccomp.js';
import { serializePlan, type PlanOp } from '../../src/runtime/child-plan.js';
import { devOps } from '../helpers/run-plan.js';

const BUNDLE = '/b';
const ROOTFS = '/b/rootfs';

/** A host where /proc/kcore, /srv/data (a directory) and /srv/file exist, plus what `extra` says. */
function facts(extra: Record<string, 'file' | 'dir'> = {}): HostFacts {
  const known: Record<string, 'file' | 'dir'> = { '/proc/kcore': 'file', '/proc/sys': 'dir', '/proc/sysrq-trigger': 'file', '/proc/acpi': 'dir', '/srv/data': 'dir', '/srv/file': 'file', ...extra };
  return { kind: (p) => known[p], hostname: 'hosty' };
}

const base = (): Record<string, any> => ({
  ociVersion: '1.1.0',
  root: { path: 'rootfs' },
  process: { user: { uid: 0, gid: 0 }, args: ['/bin/sh', '-c', 'true'], env: ['PATH=/bin'], cwd: '/' },
  linux: { namespaces: [{ type: 'pid' }, { type: 'network' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' }] },
});

const plan = (json: Record<string, any>, input = {}, f = facts()) => planOci(parseConfig(json), { bundle: BUNDLE, ...input }, f);

/** What every plan ends its filesystem with when the config does not bind /dev. */
const DEV_OPS: PlanOp[] = devOps();

test('the basic config: namespaces, root bound as it is, the devices, the process', () => {
  assert.equal(plan(base()), {
    child: {
      ns: ['pid', 'net', 'ipc', 'uts', 'mnt'],
      lateCgroupns: false,
      uidMap: '',
      gidMap: '',
      hostname: 'hosty',
      loUp: true,
      rootfs: ROOTFS,
      // runc's default: host mounts still reach the container, nothing of its reaches the host.
      treePropagation: 'rec,slave',
      overlay: '',
      readOnlyRoot: false,
      stdio: [0, 1, 2],
      ops: DEV_OPS,
      cwd: '/',
      uid: 0,
      gid: 0,
      groups: [],
      noNewPrivs: false,
      seccomp: 'unconfined',
      umask: 0o022,
      argv: ['/bin/sh', '-c', 'true'],
      env: ['PATH=/bin'],
    },
    rootfs: ROOTFS,
    joins: [],
    unsupported: [],
  });
});

test("runc spec's default: every mount translated; what needs the CLI's cgroups named", () => {
  const p = plan(defaultSpec(), { tty: '/dev/pts/7' });
  assert.equal(p.unsupported, ['mounts[6] (type cgroup: the container\'s cgroups are not made yet)']);
  assert.equal(p.child.ops.slice(0, 6), [
    { op: 'mount', src: 'proc', dst: '/proc', type: 'proc' },
    { op: 'mount', src: 'tmpfs', dst: '/dev', type: 'tmpfs', flags: 'nosuid,strictatime', data: 'mode=755,size=65536k' },
    { op: 'mount', src: 'devpts', dst: '/dev/pts', type: 'devpts', flags: 'nosuid,noexec', data: 'newinstance,ptmxmode=0666,mode=0620,gid=5' },
    { op: 'mount', src: 'shm', dst: '/dev/shm', type: 'tmpfs', flags: 'nosuid,noexec,nodev', data: 'mode=1777,size=65536k' },
    { op: 'mount', src: 'mqueue', dst: '/dev/mqueue', type: 'mqueue', flags: 'nosuid,noexec,nodev' },
    { op: 'mount', src: 'sysfs', dst: '/sys', type: 'sysfs', flags: 'nosuid,noexec,nodev,ro' },
  ]);
  // Then the devices, /dev/console for the tty, and the read-only and masked paths that exist.
  assert.equal(p.child.ops.slice(6), [
    ...DEV_OPS,
    { op: 'bind', src: '/dev/pts/7', dst: '/dev/console', file: true },
    { op: 'bind', src: `${ROOTFS}/proc/sys`, dst: '/proc/sys', file: false, flags: 'rec,ro', optional: true },
    { op: 'bind', src: `${ROOTFS}/proc/sysrq-trigger`, dst: '/proc/sysrq-trigger', file: true, flags: 'rec,ro', optional: true },
    { op: 'mount', src: 'tmpfs', dst: '/proc/acpi', type: 'tmpfs', flags: 'ro,nosuid,nodev,noexec', data: 'size=0', optional: true },
    { op: 'bind', src: '/dev/null', dst: '/proc/kcore', file: true, optional: true },
  ]);
  assert.is(p.child.hostname, 'runc');
  assert.is(p.child.readOnlyRoot, true);
  assert.is(p.child.tty, '/dev/pts/7');
  assert.is(p.child.caps, ((1n << 29n) | (1n << 5n) | (1n << 10n)).toString(16));
  // Ambient capabilities with no inheritable set: the five sets, as runc applies them.
  assert.equal(p.child.capSets, { bounding: '20000420', effective: '20000420', inheritable: '0', permitted: '20000420', ambient: '20000420' });
  assert.equal(p.child.rlimits, [{ type: 'RLIMIT_NOFILE', soft: 1024, hard: 1024 }]);
  assert.is(p.child.noNewPrivs, true);
});

test('bind mounts: source from the bundle or absolute, file or directory, flags', () => {
  const p = plan({
    ...base(),
    mounts: [
      { destination: '/data', type: 'bind', source: '/srv/data', options: ['rbind', 'ro', 'nosuid'] },
      { destination: 'etc/file', type: 'none', source: '/srv/file', options: ['bind', 'rw', 'private'] },
      { destination: '/rel', source: 'sub', options: ['bind'] },
      { destination: '/x/../y/', type: 'tmpfs', source: 'tmpfs', options: ['size=1m', 'mode=700', 'nodev', 'relatime'] },
    ],
  }, {}, facts({ '/b/sub': 'dir' }));
  assert.equal(p.unsupported, []);
  assert.equal(p.child.ops.slice(0, 4), [
    { op: 'bind', src: '/srv/data', dst: '/data', file: false, flags: 'rec,ro,nosuid' },
    { op: 'bind', src: '/srv/file', dst: '/etc/file', file: true, propagation: ['private'] },
    { op: 'bind', src: '/b/sub', dst: '/rel', file: false },
    { op: 'mount', src: 'tmpfs', dst: '/y', type: 'tmpfs', flags: 'nodev,relatime', data: 'size=1m,mode=700' },
  ]);
});

test('a config that binds /dev gets no device nodes of ours', () => {
  const p = plan({ ...base(), mounts: [{ destination: '/dev', type: 'bind', source: '/srv/data', options: ['rbind'] }] });
  assert.equal(p.child.ops, [{ op: 'bind', src: '/srv/data', dst: '/dev', file: false, flags: 'rec' }]);
});

const CGROUPS = [
  { version: 1 as const, path: '/sys/fs/cgroup/memory/minidock/x', controllers: ['memory'] },
  { version: 2 as const, path: '/sys/fs/cgroup/unified/minidock/x', controllers: [] },
];
const CGROUP_MOUNT = { destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['ro', 'nosuid'] };

test('cgroup mounts, in a cgroup namespace of its own: the hierarchies mounted (rooted at its cgroups), with the config\'s flags', () => {
  const b = base();
  const p = plan({ ...b, linux: { namespaces: [...b.linux.namespaces, { type: 'cgroup' }] }, mounts: [CGROUP_MOUNT] }, { cgroups: CGROUPS } as never);
  assert.equal(p.unsupported, []);
  assert.equal(p.child.ops.slice(0, 3), [
    { op: 'mount', src: 'tmpfs', dst: '/sys/fs/cgroup', type: 'tmpfs', flags: 'nosuid,nodev,noexec', data: 'mode=755,size=64k' },
    { op: 'mount', src: 'cgroup', dst: '/sys/fs/cgroup/memory', type: 'cgroup', flags: 'ro,nosuid', data: 'memory' },
    { op: 'mount', src: 'cgroup2', dst: '/sys/fs/cgroup/unified', type: 'cgroup2', flags: 'ro,nosuid' },
  ]);
});

test('cgroup mounts with podman\'s "rprivate" (and a recursive option): each mount it becomes takes them', () => {
  const p = plan({ ...base(), mounts: [{ ...CGROUP_MOUNT, options: ['rprivate', 'nosuid', 'rnoexec', 'ro'] }] }, { cgroups: CGROUPS } as never);
  assert.equal(p.unsupported, []);
  const after = { propagation: ['rec,private'], recSet: 'noexec' };
  assert.equal(p.child.ops.slice(0, 3), [
    { op: 'mount', src: 'tmpfs', dst: '/sys/fs/cgroup', type: 'tmpfs', flags: 'nosuid,nodev,noexec', data: 'mode=755,size=64k', ...after },
    { op: 'bind', src: CGROUPS[0]!.path, dst: '/sys/fs/cgroup/memory', file: false, flags: 'rec,nosuid,ro', ...after },
    { op: 'bind', src: CGROUPS[1]!.path, dst: '/sys/fs/cgroup/unified', file: false, flags: 'rec,nosuid,ro', ...after },
  ]);
});

test('cgroup mounts without a cgroup namespace: the container\'s own directories bound there (a mount would show the host\'s whole hierarchy)', () => {
  const p = plan({ ...base(), mounts: [CGROUP_MOUNT] }, { cgroups: CGROUPS } as never);
  assert.equal(p.unsupported, []);
  assert.equal(p.child.ops.slice(0, 3), [
    { op: 'mount', src: 'tmpfs', dst: '/sys/fs/cgroup', type: 'tmpfs', flags: 'nosuid,nodev,noexec', data: 'mode=755,size=64k' },
    { op: 'bind', src: '/sys/fs/cgroup/memory/minidock/x', dst: '/sys/fs/cgroup/memory', file: false, flags: 'rec,ro,nosuid' },
    { op: 'bind', src: '/sys/fs/cgroup/unified/minidock/x', dst: '/sys/fs/cgroup/unified', file: false, flags: 'rec,ro,nosuid' },
  ]);
});

test('user namespace: maps written as given, the pty given to the mapped root and tty group', () => {
  const p = plan({
    ...base(),
    process: { ...base().process, terminal: true },
    linux: {
      namespaces: [{ type: 'mount' }, { type: 'user' }, { type: 'uts' }, { type: 'cgroup' }],
      uidMappings: [{ containerID: 0, hostID: 100000, size: 1000 }, { containerID: 1000, hostID: 2000, size: 1 }],
      gidMappings: [{ containerID: 0, hostID: 200000, size: 65536 }],
    },
  }, { tty: '/dev/pts/3' });
  assert.equal(p.child.ns, ['mnt', 'user', 'uts', 'cgroup']);
  assert.is(p.child.lateCgroupns, true);
  assert.is(p.child.uidMap, '0 100000 1000\n1000 2000 1');
  assert.is(p.child.gidMap, '0 200000 65536');
  assert.equal(p.child.ttyOwner, { uid: 100000, gid: 200005 });
  assert.is(p.child.loUp, false);
});

test('a network namespace path is joined; no UTS namespace leaves the hostname alone', () => {
  const p = plan({ ...base(), linux: { namespaces: [{ type: 'mount' }, { type: 'network', path: '/run/netns/x' }] } });
  assert.equal(p.joins, [{ type: 'network', path: '/run/netns/x' }]);
  assert.is(p.child.netns, '/run/netns/x');
  assert.equal(p.child.ns, ['mnt']);
  assert.is(p.child.hostname, '');
  assert.is(p.child.loUp, false);
  assert.equal(p.unsupported, []);
});

test('capabilities: one mask when the sets agree (minidock run\'s path); the five sets otherwise', () => {
  const user = (uid: number) => ({ uid, gid: 0, additionalGids: [] });
  const proc = (uid: number, c: Record<string, string[]>) => ({ terminal: false, user: user(uid), args: ['x'], env: [], cwd: '/', rlimits: [], noNewPrivileges: false, other: [], capabilities: { bounding: [], effective: [], inheritable: [], permitted: [], ambient: [], ...c } });
  const K = ['CAP_KILL'];
  const KC = ['CAP_KILL', 'CAP_CHOWN'];
  assert.equal(planCaps({ ...proc(0, {}), capabilities: undefined }), {});
  assert.equal(planCaps(proc(0, { bounding: K, effective: K, permitted: K })), { caps: '20' });
  assert.equal(planCaps(proc(1000, { bounding: K })), { caps: '20' });
  assert.equal(planCaps(proc(0, { bounding: KC, effective: [], permitted: K, inheritable: K, ambient: K })), {
    caps: '21', capSets: { bounding: '21', effective: '0', inheritable: '20', permitted: '20', ambient: '20' },
  });
  assert.equal(planCaps(proc(1000, { bounding: K, permitted: K })), { caps: '20', capSets: { bounding: '20', effective: '0', inheritable: '0', permitted: '20', ambient: '0' } });
  // Root with all five equal (runtime-tools' default): sets, because of inheritable and ambient.
  const all = ['CAP_CHOWN', 'CAP_SYS_ADMIN', 'CAP_AUDIT_WRITE'];
  assert.equal(planCaps(proc(0, { bounding: all, effective: all, permitted: all, inheritable: all, ambient: all })).capSets, {
    bounding: '20200001', effective: '20200001', inheritable: '20200001', permitted: '20200001', ambient: '20200001',
  });
  // Capabilities above bit 31 (CAP_CHECKPOINT_RESTORE is 40) reach the upper word.
  assert.equal(planCaps(proc(0, { bounding: ['CAP_CHECKPOINT_RESTORE'] })).caps, '10000000000');
});

test('process.rlimits, umask, oomScoreAdj and domainname reach the child plan', () => {
  const p = plan({
    ...base(),
    domainname: 'example.org',
    process: { ...base().process, user: { uid: 0, gid: 0, umask: 0o027 }, oomScoreAdj: -17, rlimits: [{ type: 'RLIMIT_NOFILE', soft: 512, hard: 1024 }, { type: 'RLIMIT_CORE', soft: 0, hard: 0 }] },
  });
  assert.equal(p.unsupported, []);
  assert.equal(p.child.rlimits, [{ type: 'RLIMIT_NOFILE', soft: 512, hard: 1024 }, { type: 'RLIMIT_CORE', soft: 0, hard: 0 }]);
  assert.is(p.child.umask, 0o027);
  assert.is(p.child.oomScoreAdj, -17);
  assert.is(p.child.domainname, 'example.org');
  const kv = serializePlan(p.child).toString().split('\0');
  const values = (k: string): string[] => kv.flatMap((x, i) => (i % 2 === 0 && x === k ? [kv[i + 1]!] : []));
  assert.equal(values('rlimit'), ['7 512 1024', '4 0 0']);
  assert.equal(values('umask'), ['027']);
  assert.equal(values('oom_score_adj'), ['-17']);
  assert.equal(values('domainname'), ['example.org']);
  // No rlimits, no oomScoreAdj, no domainname: no keys; the umask is runc's 022.
  const bare = serializePlan(plan(base()).child).toString().split('\0');
  assert.not.ok(bare.includes('rlimit') || bare.includes('oom_score_adj') || bare.includes('domainname'));
  assert.is(bare[bare.indexOf('umask') + 1], '022');
});

test('a joined UTS namespace: the child joins it; its hostname is set there (as runc does), a domainname is not', () => {
  const p = plan({ ...base(), hostname: 'h', domainname: 'd', linux: { namespaces: [{ type: 'mount' }, { type: 'uts', path: '/proc/1/ns/uts' }] } });
  assert.equal(p.child.joins, [{ ns: 'uts', path: '/proc/1/ns/uts' }]);
  assert.is(p.child.hostname, 'h');
  assert.is(p.child.domainname, undefined);
  assert.equal(p.unsupported, []);
  // None given: the joined namespace's name is left alone (empty: plan.c sets nothing).
  assert.is(plan({ ...base(), linux: { namespaces: [{ type: 'mount' }, { type: 'uts', path: '/proc/1/ns/uts' }] } }).child.hostname, '');
});

test('linux.seccomp: compiled to the child\'s seccomp_prog (hex of the filter) with its flags, instead of "unconfined"', () => {
  const seccomp = { defaultAction: 'SCMP_ACT_ALLOW', architectures: ['SCMP_ARCH_X86_64'], syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO', errnoRet: 42 }] };
  const json = { ...base(), linux: { ...base().linux, seccomp } };
  const p = plan(json);
  const compiled = compileSeccomp(parseConfig(json).linux!.seccomp!);
  assert.equal(p.unsupported, []);
  assert.is(p.child.seccompProg, compiled.filter.toString('hex'));
  assert.match(p.child.seccompProg!, /^([0-9a-f]{16})+$/);
  // No flags at all: runc's SPEC_ALLOW (4).
  assert.is(p.child.seccompFlags, 4);
  assert.is(p.child.seccomp, undefined);
  const kv = serializePlan(p.child).toString().split('\0');
  assert.is(kv[kv.indexOf('seccomp_prog') + 1], p.child.seccompProg);
  assert.is(kv[kv.indexOf('seccomp_flags') + 1], '4');
  assert.not.ok(kv.includes('seccomp'));
  // An empty flags list: none.
  const none = plan({ ...json, linux: { ...json.linux, seccomp: { ...seccomp, flags: [] } } });
  assert.is(none.child.seccompFlags, undefined);
  assert.not.ok(serializePlan(none.child).toString().split('\0').includes('seccomp_flags'));
  // What the compiler cannot carry out is the plan's unsupported; an i386 entry is accepted
  // (its calls are killed, which is stricter than the profile).
  const x86 = plan({ ...json, linux: { ...json.linux, seccomp: { ...seccomp, architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86'] } } });
  assert.equal(x86.unsupported, compileSeccomp(parseConfig({ ...json, linux: { ...json.linux, seccomp: { ...seccomp, architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86'] } } }).linux!.seccomp!).unsupported);
  assert.equal(x86.unsupported, []);
  assert.ok(x86.child.seccompProg);
});

const unsupportedCases: Array<[string, Record<string, any>, string[]]> = [
  ['apparmor, selinux, scheduler (rlimits, umask, oomScoreAdj are carried out)', { ...base(), process: { ...base().process, user: { uid: 0, gid: 0, umask: 18 }, rlimits: [{ type: 'RLIMIT_CORE', soft: 0, hard: 0 }], oomScoreAdj: 5, apparmorProfile: 'a', selinuxLabel: 's', scheduler: {} } },
    ['process.apparmorProfile', 'process.selinuxLabel', 'process.scheduler']],
  ['cgroups, label, personality (seccomp is compiled; devices, sysctl, propagation carried out)', { ...base(), linux: { ...base().linux, devices: [{ path: '/dev/fuse', type: 'c', major: 10, minor: 229 }], sysctl: { 'net.ipv4.ip_forward': '1' }, cgroupsPath: '/x', resources: { pids: { limit: 1 } }, seccomp: { defaultAction: 'SCMP_ACT_ALLOW' }, rootfsPropagation: 'shared', mountLabel: 'l', personality: { domain: 'LINUX' } } },
    ['linux.mountLabel', 'linux.personality']],
  ['joining a time namespace, a new one', { ...base(), linux: { namespaces: [{ type: 'mount' }, { type: 'pid', path: '/proc/1/ns/pid' }, { type: 'time', path: '/proc/1/ns/time' }] } },
    ['linux.namespaces (joining the time namespace /proc/1/ns/time)']],
  ['mount options the plan cannot carry out, each named with what it is', { ...base(), mounts: [{ destination: '/t', type: 'tmpfs', options: ['noatime', 'tmpcopyup', 'rshared', 'ridmap', 'rro'] }] },
    ['mounts[0].options "tmpcopyup" (copying the image\'s files into a fresh tmpfs)', 'mounts[0].options "ridmap" (idmapped mounts)']],
  ['an idmapped mount (filesystem data on a bind mount is dropped, as the kernel drops it)', { ...base(), mounts: [{ destination: '/d', source: '/srv/data', options: ['bind', 'mode=755'], uidMappings: [{ containerID: 0, hostID: 1, size: 1 }] }] },
    ['mounts[0].uidMappings']],
  ['a terminal with no pty given', { ...base(), process: { ...base().process, terminal: true } }, ['process.terminal (no pty was given to the plan)']],
];

for (const [name, json, expected] of unsupportedCases) {
  test(`unsupported: ${name}`, () => assert.equal(plan(json).unsupported, expected));
}

const refusedCases: Array<[string, Record<string, any>, string]> = [
  ['no process', { ...base(), process: undefined }, 'config.json: process is missing'],
  ['hostname without any UTS namespace', { ...base(), hostname: 'h', linux: { namespaces: [{ type: 'mount' }] } }, 'config.json: hostname is set without a new UTS namespace'],
  ['domainname without any UTS namespace', { ...base(), domainname: 'd', linux: { namespaces: [{ type: 'mount' }] } }, 'config.json: domainname is set without a new UTS namespace'],
  ['bind source missing', { ...base(), mounts: [{ destination: '/d', source: '/nope', options: ['rbind'] }] }, 'config.json: mounts[0].source "/nope" does not exist'],
  ['bind without source', { ...base(), mounts: [{ destination: '/d', type: 'bind' }] }, 'config.json: mounts[0].source is missing for a bind mount'],
  ['mount without type', { ...base(), mounts: [{ destination: '/d', source: 'x' }] }, 'config.json: mounts[0].type is missing'],
];

for (const [name, json, message] of refusedCases) {
  test(`refused: ${name}`, () => {
    try {
      plan(json);
      assert.unreachable();
    } catch (err) {
      assert.instance(err, MinidockError);
      assert.is((err as Error).message, message);
    }
  });
}

test('destinations are made absolute and normalised', () => {
  assert.equal(['/a/b/', 'a', '/a/../../b', '/', '//x//y'].map(containerPath), ['/a/b', '/a', '/b', '/', '/x/y']);
});

test('the wire format: no overlay key (the root is bound onto itself), the exec fifo', () => {
  const p = plan(base(), { execFifo: '/run/r/c1/exec.fifo' });
  const text = serializePlan(p.child).toString();
  assert.ok(text.startsWith('ns\0pid,net,ipc,uts,mnt\0'));
  assert.not.ok(text.includes('\0overlay\0'));
  assert.ok(text.includes('\0rootfs\0/b/rootfs\0tree_prop\0rec,slave\0exec_fifo\0/run/r/c1/exec.fifo\0'));
});

test('mount options: MS_* flags (a clearing option drops an earlier one), propagation in order, recursive attributes, and data beside them', () => {
  const p = plan({
    ...base(),
    mounts: [
      { destination: '/t', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=1k', 'shared', 'noatime', 'nodiratime', 'sync', 'dirsync', 'silent', 'nosymfollow', 'mand', 'nomand', 'rprivate'] },
      { destination: '/e', source: '/srv/data', options: ['rbind', 'rro', 'rnosuid', 'rnodev', 'rnoexec', 'rnoatime', 'rslave', 'mode=755', 'size=1k'] },
      { destination: '/f', source: '/srv/data', options: ['bind', 'rro', 'rrw', 'rstrictatime', 'rrelatime', 'rnodiratime', 'ro', 'rw', 'unbindable'] },
      { destination: '/g', type: 'tmpfs', source: 'tmpfs', options: ['remount', 'ro', 'runbindable'] },
    ],
  });
  assert.equal(p.unsupported, []);
  assert.equal(p.child.ops.slice(0, 4), [
    // Filesystem data passes through beside the propagation options; "nomand" undid "mand".
    { op: 'mount', src: 'tmpfs', dst: '/t', type: 'tmpfs', flags: 'nosuid,strictatime,noatime,nodiratime,sync,dirsync,silent,nosymfollow', data: 'mode=755,size=1k', propagation: ['shared', 'rec,private'] },
    // A bind takes no data; the recursive attributes go to mount_setattr, the atime one with the
    // whole atime field cleared.
    { op: 'bind', src: '/srv/data', dst: '/e', file: false, flags: 'rec', propagation: ['rec,slave'], recSet: 'ro,nosuid,nodev,noexec,noatime', recClr: 'atime' },
    // "rrw" after "rro" clears ro; the last atime option wins; "rw" after "ro" leaves no flag.
    { op: 'bind', src: '/srv/data', dst: '/f', file: false, propagation: ['unbindable'], recSet: 'nodiratime,relatime', recClr: 'ro,atime' },
    { op: 'mount', src: 'tmpfs', dst: '/g', type: 'tmpfs', flags: 'remount,ro', propagation: ['rec,unbindable'] },
  ]);
  const text = serializePlan(p.child).toString();
  assert.ok(text.includes('\0op\0mount\0src\0tmpfs\0dst\0/t\0type\0tmpfs\0data\0mode=755,size=1k\0flags\0nosuid,strictatime,noatime,nodiratime,sync,dirsync,silent,nosymfollow\0prop\0shared\0prop\0rec,private\0op\0'), text);
  assert.ok(text.includes('\0dst\0/e\0flags\0rec\0file\x000\0prop\0rec,slave\0rec_set\0ro,nosuid,nodev,noexec,noatime\0rec_clr\0atime\0op\0'), text);
});

test('mount options: features lists every option the plan carries out, and none it refuses', async () => {
  const { MOUNT_OPTIONS } = await import('../../src/oci/plan.js');
  for (const o of ['bind', 'rbind', 'shared', 'rslave', 'runbindable', 'noatime', 'nosymfollow', 'remount', 'silent', 'rro', 'rnosuid', 'rrelatime', 'ratime', 'rw', 'nomand']) assert.ok(MOUNT_OPTIONS.includes(o), o);
  for (const o of ['tmpcopyup', 'idmap', 'ridmap']) assert.not.ok(MOUNT_OPTIONS.includes(o), o);
});

test('linux.rootfsPropagation: the whole tree private or a slave before the first mount, shared and unbindable on the new root after pivot_root', () => {
  const cases: Array<[string | undefined, string, string | undefined]> = [
    [undefined, 'rec,slave', undefined],
    ['private', 'rec,private', undefined], ['rprivate', 'rec,private', undefined],
    ['slave', 'rec,slave', undefined], ['rslave', 'rec,slave', undefined],
    ['shared', 'rec,slave', 'shared'], ['rshared', 'rec,slave', 'rec,shared'],
    ['unbindable', 'rec,slave', 'unbindable'], ['runbindable', 'rec,slave', 'rec,unbindable'],
  ];
  for (const [prop, tree, root] of cases) {
    assert.equal(planRootPropagation(prop), root ? { tree, root } : { tree }, String(prop));
    const json = base();
    if (prop) json.linux.rootfsPropagation = prop;
    const p = plan(json);
    assert.equal([p.child.treePropagation, p.child.rootPropagation], [tree, root], String(prop));
    assert.equal(p.unsupported, []);
  }
  const text = serializePlan(plan({ ...base(), linux: { ...base().linux, rootfsPropagation: 'rshared' } }).child).toString();
  assert.ok(text.includes('\0rootfs\0/b/rootfs\0tree_prop\0rec,slave\0newroot_prop\0rec,shared\0'), text);
});

test('linux.devices: mknod with the given mode and owner (0666 root when absent), after the default nodes; a listed default replaces ours; /dev/ptmx stays the symlink', () => {
  const devices = [
    { path: '/dev/fuse', type: 'c', major: 10, minor: 229, fileMode: 0o660, uid: 0, gid: 6 },
    { path: '/dev/sda9', type: 'b', major: 8, minor: 9 },
    { path: '/dev/fifo', type: 'p', fileMode: 0o4640 },
    { path: '/dev/null', type: 'c', major: 1, minor: 3, fileMode: 0o600, uid: 1000, gid: 1000 },
    { path: '/dev/ptmx', type: 'c', major: 5, minor: 2 },
    { path: '/dev/k', type: 'u', major: 7, minor: 1, fileMode: 0o100644 },
  ];
  const p = plan({ ...base(), linux: { ...base().linux, devices } });
  assert.equal(p.unsupported, []);
  const nodes = DEV_OPS.filter((o) => o.dst !== '/dev/null');
  assert.equal(p.child.ops, [
    ...nodes,
    { op: 'mknod', dst: '/dev/fuse', type: 'c', major: 10, minor: 229, mode: 0o660, uid: 0, gid: 6 },
    { op: 'mknod', dst: '/dev/sda9', type: 'b', major: 8, minor: 9, mode: 0o666, uid: 0, gid: 0 },
    { op: 'mknod', dst: '/dev/fifo', type: 'p', major: 0, minor: 0, mode: 0o4640, uid: 0, gid: 0 },
    { op: 'mknod', dst: '/dev/null', type: 'c', major: 1, minor: 3, mode: 0o600, uid: 1000, gid: 1000 },
    // A Go os.FileMode's type bits (here a regular file's) are dropped, as runc drops them.
    { op: 'mknod', dst: '/dev/k', type: 'u', major: 7, minor: 1, mode: 0o644, uid: 0, gid: 0 },
  ]);
  const text = serializePlan(p.child).toString();
  assert.ok(text.includes('\0op\0mknod\0dst\0/dev/fuse\0dev\0c 10 229\0mode\x00660\0owner\x000 6\0'), text);
  assert.ok(text.includes('\0op\0mknod\0dst\0/dev/fifo\0dev\0p 0 0\0mode\x004640\0owner\x000 0\0'), text);
});

test('linux.devices in a user namespace: the host\'s node bound (mknod is refused there), a FIFO still made; a node the host lacks refused', () => {
  const userns = { ...base().linux, namespaces: [...base().linux.namespaces, { type: 'user' }], uidMappings: [{ containerID: 0, hostID: 100000, size: 65536 }], gidMappings: [{ containerID: 0, hostID: 100000, size: 65536 }] };
  const p = plan({ ...base(), linux: { ...userns, devices: [{ path: '/dev/fuse', type: 'c', major: 10, minor: 229, fileMode: 0o600 }, { path: '/dev/f', type: 'p' }] } }, {}, facts({ '/dev/fuse': 'file' }));
  assert.equal(p.child.ops.slice(-2), [
    { op: 'bind', src: '/dev/fuse', dst: '/dev/fuse', file: true },
    { op: 'mknod', dst: '/dev/f', type: 'p', major: 0, minor: 0, mode: 0o666, uid: 0, gid: 0 },
  ]);
  assert.throws(() => plan({ ...base(), linux: { ...userns, devices: [{ path: '/dev/nope', type: 'b', major: 8, minor: 0 }] } }),
    (e: Error) => e instanceof MinidockError && e.message === 'config.json: linux.devices[0].path "/dev/nope" is not on the host, and a user namespace cannot make device nodes');
});

test('linux.sysctl: written to the container\'s /proc/sys after the mounts and devices, before linux.readonlyPaths makes it read-only', () => {
  const p = plan({ ...base(), linux: { ...base().linux, sysctl: { 'net.ipv4.ip_forward': '1', 'net/ipv4/conf/eth0.100/forwarding': '0', 'kernel.shmmax': '4096', 'fs.mqueue.msg_max': '20', 'kernel.domainname': 'd' }, readonlyPaths: ['/proc/sys'] } });
  assert.equal(p.unsupported, []);
  assert.equal(p.child.ops.slice(DEV_OPS.length), [
    { op: 'sysctl', dst: '/proc/sys/net/ipv4/ip_forward', value: '1' },
    { op: 'sysctl', dst: '/proc/sys/net/ipv4/conf/eth0.100/forwarding', value: '0' },
    { op: 'sysctl', dst: '/proc/sys/kernel/shmmax', value: '4096' },
    { op: 'sysctl', dst: '/proc/sys/fs/mqueue/msg_max', value: '20' },
    { op: 'sysctl', dst: '/proc/sys/kernel/domainname', value: 'd' },
    { op: 'bind', src: `${ROOTFS}/proc/sys`, dst: '/proc/sys', file: false, flags: 'rec,ro', optional: true },
  ]);
  assert.ok(serializePlan(p.child).toString().includes('\0op\0sysctl\0dst\0/proc/sys/net/ipv4/ip_forward\0data\x001\0'));
});

const onlyNs = (...types: string[]): Record<string, any> => ({ namespaces: [{ type: 'mount' }, ...types.map((type) => (type.includes(':') ? { type: type.split(':')[0], path: type.split(':')[1] } : { type }))] });
const sysctlRefused: Array<[string, Record<string, any>, Record<string, string>, string, HostFacts?]> = [
  ['net.* in the host\'s network namespace', onlyNs('ipc'), { 'net.ipv4.ip_forward': '1' },
    'config.json: linux.sysctl["net.ipv4.ip_forward"] needs a network namespace of the container\'s own: writing it would change the host\'s'],
  ['net.* in a joined namespace that is the host\'s', onlyNs('network:/proc/1/ns/net'), { 'net.core.somaxconn': '1' },
    'config.json: linux.sysctl["net.core.somaxconn"] needs a network namespace of the container\'s own: writing it would change the host\'s', { ...facts(), hostNetns: () => true }],
  ['net.* in a joined namespace nobody can tell apart from the host\'s', onlyNs('network:/run/netns/x'), { 'net.core.somaxconn': '1' },
    'config.json: linux.sysctl["net.core.somaxconn"] needs a network namespace of the container\'s own: writing it would change the host\'s'],
  ['an IPC key without an IPC namespace', onlyNs('network'), { 'kernel.sem': '1 2 3 4' },
    'config.json: linux.sysctl["kernel.sem"] needs an IPC namespace of the container\'s own: writing it would change the host\'s'],
  ['fs.mqueue without an IPC namespace', onlyNs(), { 'fs.mqueue.queues_max': '1' },
    'config.json: linux.sysctl["fs.mqueue.queues_max"] needs an IPC namespace of the container\'s own: writing it would change the host\'s'],
  ['kernel.domainname without UTS', onlyNs('ipc'), { 'kernel.domainname': 'x' },
    'config.json: linux.sysctl["kernel.domainname"] needs a UTS namespace of the container\'s own: writing it would change the host\'s'],
  ['kernel.hostname beside the hostname field', onlyNs('uts'), { 'kernel.hostname': 'x' },
    'config.json: linux.sysctl["kernel.hostname"] conflicts with the "hostname" field'],
  ['a key of no namespace', onlyNs('ipc', 'uts', 'network'), { 'kernel.core_pattern': '|/x' },
    'config.json: linux.sysctl["kernel.core_pattern"] belongs to no namespace a container can have: writing it would change the host'],
  ['user.* without a user namespace', onlyNs('ipc'), { 'user.max_user_namespaces': '0' },
    'config.json: linux.sysctl["user.max_user_namespaces"] needs a user namespace of the container\'s own: writing it would change the host\'s'],
  ['a name that climbs', onlyNs('network'), { 'net/../kernel/core_pattern': 'x' },
    'config.json: linux.sysctl["net/../kernel/core_pattern"] is not a sysctl name'],
  ['an empty component', onlyNs('network'), { 'net..ipv4': 'x' }, 'config.json: linux.sysctl["net..ipv4"] is not a sysctl name'],
];
for (const [name, linux, sysctl, message, f] of sysctlRefused) {
  test(`linux.sysctl refused: ${name}`, () => {
    try {
      plan({ ...base(), linux: { ...linux, sysctl } }, {}, f);
      assert.unreachable();
    } catch (err) {
      assert.instance(err, MinidockError);
      assert.is((err as Error).message, message);
    }
  });
}

test('linux.sysctl: net.* in a joined network namespace that is not the host\'s', () => {
  const p = plan({ ...base(), linux: { ...onlyNs('network:/run/netns/x'), sysctl: { 'net.ipv4.ip_forward': '1' } } }, {}, { ...facts(), hostNetns: () => false });
  assert.equal(p.child.ops.filter((o) => o.op === 'sysctl'), [{ op: 'sysctl', dst: '/proc/sys/net/ipv4/ip_forward', value: '1' }]);
});

test.run();
