// src/oci/from-spec.ts: a container spec as the config.json dockerd would give runc, and the
// round trip back through minidock-runc's parser and planner.
import { readFileSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseConfig } from '../../src/oci/config.js';
import { cgroupLocation } from '../../src/oci/cgroups.js';
import { parseResources } from '../../src/oci/resources.js';
import { DEFAULT_DEVICES, ociConfigFor } from '../../src/oci/from-spec.js';
import { ALLOWED, DENIED, defaultSeccompProfile, NS_FLAGS, PERSONALITIES, REFUSED_FAMILIES, wordsNeitherSubsetNorOnes, wordsOutside } from '../../src/oci/seccomp-profile.js';
import { compileSeccomp, decodeFilter, MAX_INSNS, SECCOMP_RET } from '../../src/oci/seccomp.js';
import { SYSCALLS_X86_64 } from '../../src/oci/syscalls-x86_64.js';
import { run, verify } from '../helpers/bpf.js';
import { planOci, type HostFacts } from '../../src/oci/plan.js';
import { IDENTITY_MAP, type ContainerSpec } from '../../src/spec/container-spec.js';
import { CAP_NAMES, capabilityMask } from '../../src/spec/caps.js';
import { remapMapping } from '../../src/spec/userns.js';

const ID = 'ab'.repeat(32);
const BUNDLE = '/b';

/** `minidock run --network none busybox sh -c 'id'` with the default remapping. */
const remappedSpec = (): ContainerSpec => ({
  id: ID,
  name: 'eager_turing',
  hostname: ID.slice(0, 12),
  image: { ref: 'busybox', id: 'i'.repeat(64), rootfs: '/img/rootfs', idmapped: true },
  argv: ['sh', '-c', 'id'],
  env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', `HOSTNAME=${ID.slice(0, 12)}`, 'HOME=/root'],
  cwd: '/',
  user: { uid: 0, gid: 0, additionalGids: [] },
  tty: false,
  interactive: false,
  network: { mode: 'none' },
  autoRemove: true,
  caps: capabilityMask({ add: [], drop: [], privileged: false }),
  noNewPrivs: true,
  seccomp: 'default',
  idMap: remapMapping(100000, 65536),
  createdAt: 0,
});

/** `-u 1000:1000 --group-add... --network host --userns=host -v /srv/data:/data:ro --tmpfs /run:size=1m
 *  --read-only --init -m 64m --cpus 0.5 --pids-limit 100 --cap-drop ALL --cap-add NET_BIND_SERVICE -t -w /work`. */
const hostSpec = (): ContainerSpec => ({
  ...remappedSpec(),
  image: { ref: 'busybox', rootfs: '/img/rootfs' },
  argv: ['httpd', '-f'],
  cwd: '/work',
  user: { uid: 1000, gid: 1000, additionalGids: [10, 20] },
  tty: true,
  network: { mode: 'host' },
  init: true,
  caps: capabilityMask({ add: ['NET_BIND_SERVICE'], drop: ['ALL'], privileged: false }),
  volumes: [{ src: '/srv/data', dst: '/data', ro: true, file: false }],
  tmpfs: [{ dst: '/run', data: 'size=1m', ro: false }],
  readOnly: true,
  resources: { memory: 64 * 1024 * 1024, memorySwap: 128 * 1024 * 1024, nanoCpus: 500_000_000, pidsLimit: 100 },
  idMap: IDENTITY_MAP,
});

const DEFAULT_CAP_NAMES = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FOWNER', 'CAP_FSETID', 'CAP_KILL', 'CAP_SETGID', 'CAP_SETUID', 'CAP_SETPCAP',
  'CAP_NET_BIND_SERVICE', 'CAP_NET_RAW', 'CAP_SYS_CHROOT', 'CAP_MKNOD', 'CAP_AUDIT_WRITE', 'CAP_SETFCAP',
];

const DEFAULT_MOUNTS = [
  { destination: '/proc', type: 'proc', source: 'proc', options: ['nosuid', 'noexec', 'nodev'] },
  { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
  { destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'] },
  { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] },
  { destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['ro', 'nosuid', 'noexec', 'nodev'] },
  { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
  { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=65536k'] },
];

const ETC_MOUNTS = ['hostname', 'hosts', 'resolv.conf'].map((f) => ({ destination: `/etc/${f}`, type: 'bind', source: `${BUNDLE}/${f}`, options: ['rbind', 'rprivate'] }));

const MASKED = ['/proc/acpi', '/proc/asound', '/proc/scsi', '/proc/kcore', '/proc/keys', '/proc/latency_stats', '/proc/timer_list', '/proc/timer_stats', '/proc/sched_debug', '/sys/firmware', '/sys/devices/virtual/powercap'];
const READONLY = ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'];

test('a remapped root container with --network none: the whole config', () => {
  assert.equal(ociConfigFor(remappedSpec(), { bundle: BUNDLE, cgroupParent: 'minidock' }), {
    ociVersion: '1.1.0',
    process: {
      terminal: false,
      user: { uid: 0, gid: 0 },
      args: ['sh', '-c', 'id'],
      env: remappedSpec().env,
      cwd: '/',
      capabilities: { bounding: DEFAULT_CAP_NAMES, effective: DEFAULT_CAP_NAMES, inheritable: [], permitted: DEFAULT_CAP_NAMES, ambient: [] },
      noNewPrivileges: true,
    },
    root: { path: 'rootfs', readonly: false },
    hostname: ID.slice(0, 12),
    mounts: [...DEFAULT_MOUNTS, ...ETC_MOUNTS],
    linux: {
      uidMappings: [{ containerID: 0, hostID: 100000, size: 65536 }],
      gidMappings: [{ containerID: 0, hostID: 100000, size: 65536 }],
      resources: { devices: DEFAULT_DEVICES },
      cgroupsPath: `/minidock/${ID}`,
      namespaces: [{ type: 'pid' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' }, { type: 'network' }, { type: 'cgroup' }, { type: 'user' }],
      maskedPaths: MASKED,
      readonlyPaths: READONLY,
      // Checked on its own below.
      seccomp: defaultSeccompProfile(remappedSpec().caps!),
    },
  });
});

test('a non-root user, host network, identity map, volumes, tmpfs, --init, limits: the fields that differ', () => {
  const c = ociConfigFor(hostSpec(), { bundle: `${BUNDLE}/`, cgroupParent: '/mdktest1/' }) as any;
  assert.equal(c.process.user, { uid: 1000, gid: 1000, additionalGids: [10, 20] });
  assert.equal(c.process.args, ['/sbin/minidock-init', '--', 'httpd', '-f']);
  assert.is(c.process.cwd, '/work');
  assert.is(c.process.terminal, true);
  // Another uid keeps the bounding set only, as minidock's child gives it.
  assert.equal(c.process.capabilities, { bounding: ['CAP_NET_BIND_SERVICE'], effective: [], inheritable: [], permitted: [], ambient: [] });
  assert.equal(c.root, { path: 'rootfs', readonly: true });
  assert.equal(c.mounts, [
    ...DEFAULT_MOUNTS,
    { destination: '/sbin/minidock-init', type: 'bind', source: '/b/minidock-init', options: ['rbind', 'rprivate', 'ro', 'nosuid', 'nodev'] },
    { destination: '/data', type: 'bind', source: '/srv/data', options: ['rbind', 'rprivate', 'ro'] },
    { destination: '/run', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev', 'noexec', 'size=1m'] },
    // --read-only: the etc files read-only with the rootfs, as docker mounts them.
    ...ETC_MOUNTS.map((m) => ({ ...m, options: [...m.options, 'ro'] })),
  ]);
  // --network host: no network namespace; the identity map: a user namespace all the same (as
  // minidock run makes), every id mapped to itself.
  assert.equal(c.linux.namespaces, [{ type: 'pid' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' }, { type: 'cgroup' }, { type: 'user' }]);
  assert.equal(c.linux.uidMappings, [{ containerID: 0, hostID: 0, size: 4294967295 }]);
  assert.equal(c.linux.gidMappings, [{ containerID: 0, hostID: 0, size: 4294967295 }]);
  assert.is(c.linux.cgroupsPath, `/mdktest1/${ID}`);
  // minidock's filter, for the one capability this container keeps.
  assert.equal(c.linux.seccomp, defaultSeccompProfile(capabilityMask({ add: ['NET_BIND_SERVICE'], drop: ['ALL'], privileged: false })));
  assert.equal(c.linux.resources, {
    devices: DEFAULT_DEVICES,
    memory: { limit: 67108864, swap: 134217728 },
    cpu: { quota: 50000, period: 100000 },
    pids: { limit: 100 },
  });
});

test('container:NAME joins the other network namespace by path; shares, cpuset and an unlimited pids', () => {
  const spec: ContainerSpec = { ...remappedSpec(), network: { mode: 'container', container: 'web' }, resources: { cpuShares: 512, cpusetCpus: '0-1', pidsLimit: -1 } };
  const c = ociConfigFor(spec, { bundle: BUNDLE, cgroupParent: 'minidock', netnsPath: '/proc/42/ns/net' }) as any;
  assert.ok(c.linux.namespaces.some((n: any) => n.type === 'network' && n.path === '/proc/42/ns/net'));
  assert.equal(c.linux.resources.cpu, { shares: 512, cpus: '0-1' });
  assert.equal(c.linux.resources.pids, { limit: -1 });
});

/** A host where the bundle's files, the volume and the masked/read-only paths exist. */
const facts: HostFacts = {
  kind: (p) => (['/b/hostname', '/b/hosts', '/b/resolv.conf', '/b/minidock-init', '/proc/kcore', '/proc/sysrq-trigger'].includes(p) ? 'file' : ['/srv/data', '/proc/sys', '/proc/acpi'].includes(p) ? 'dir' : undefined),
  hostname: 'hosty',
};
const CGROUPS = [{ version: 1 as const, path: `/sys/fs/cgroup/memory/minidock/${ID}`, controllers: ['memory' as any] }];

for (const [name, make] of [['remapped root', remappedSpec], ['non-root, host network, identity', hostSpec]] as const) {
  test(`round trip (${name}): parseConfig and planOci accept it with nothing unsupported, the plan keeps the spec`, () => {
    const spec = make();
    const json = JSON.parse(JSON.stringify(ociConfigFor(spec, { bundle: BUNDLE, cgroupParent: 'minidock' })));
    const config = parseConfig(json);
    const plan = planOci(config, { bundle: BUNDLE, cgroups: CGROUPS, ...(spec.tty ? { tty: '/dev/pts/9' } : {}) }, facts);
    // linux.cgroupsPath and linux.resources are minidock-runc's cgroup code's (src/oci/cgroups.ts),
    // checked just below: the planner has nothing left over.
    assert.equal(plan.unsupported, []);
    const res = parseResources(json.linux.resources);
    assert.equal(res.unsupported, []);
    // Read back as written, less the device list (rules, not limits).
    const { devices: _devices, ...limits } = json.linux.resources;
    assert.equal(res.resources, limits);
    assert.equal(cgroupLocation(json.linux.cgroupsPath, 'other'), { parent: 'minidock', name: ID });
    const child = plan.child;
    assert.is(child.caps, spec.caps);
    assert.is(child.capSets, undefined); // the one-mask path, as `minidock run`'s
    assert.is(child.uidMap, spec.idMap.uidMap);
    assert.is(child.gidMap, spec.idMap.gidMap);
    assert.equal([child.uid, child.gid, child.groups], [spec.user.uid, spec.user.gid, spec.user.additionalGids]);
    assert.is(child.hostname, spec.hostname);
    assert.is(child.noNewPrivs, true);
    assert.is(child.readOnlyRoot, spec.readOnly ?? false);
    assert.is(child.loUp, spec.network.mode !== 'host');
    assert.equal([...child.ns].sort(), (spec.network.mode === 'host' ? ['cgroup', 'ipc', 'mnt', 'pid', 'user', 'uts'] : ['cgroup', 'ipc', 'mnt', 'net', 'pid', 'user', 'uts']));
    assert.is(child.lateCgroupns, true);
    // linux.seccomp compiled into the filter the child installs, with no flags (as the native one).
    assert.ok(child.seccompProg, 'a compiled filter');
    assert.is(child.seccompFlags, undefined);
    assert.is(child.seccomp, undefined);
    for (const dst of ['/etc/hostname', '/etc/hosts', '/etc/resolv.conf', ...(spec.volumes ?? []).map((v) => v.dst)]) {
      assert.ok(child.ops.some((op) => op.op === 'bind' && op.dst === dst), dst);
    }
  });
}

// ---------------------------------------------------------------- linux.seccomp: minidock's filter

const ALLOW = SECCOMP_RET.ALLOW;
const ERRNO = (e: number): number => (SECCOMP_RET.ERRNO | e) >>> 0;
const EPERM = ERRNO(1);
const ENOSYS = ERRNO(38);
const capsOf = (add: string[], drop: string[] = []): string => capabilityMask({ add, drop, privileged: false });
const profileOf = (spec: ContainerSpec): any => (ociConfigFor(spec, { bundle: BUNDLE, cgroupParent: 'minidock' }) as any).linux.seccomp;
const namesOf = (p: any, action: string): string[] => p.syscalls.filter((r: any) => r.action === action && !r.args).flatMap((r: any) => r.names);
const argRules = (p: any, name: string): any[] => p.syscalls.filter((r: any) => r.args && r.names.includes(name));
const masked = (mask: number, value: number) => ({ index: 0, value: mask, valueTwo: value, op: 'SCMP_CMP_MASKED_EQ' });
const eperm = (name: string, arg: unknown) => ({ names: [name], action: 'SCMP_ACT_ERRNO', errnoRet: 1, args: [arg] });

/** seccomp.c's tables and constants, read out of the C (and linux/sched.h for the clone flags). */
const seccompC = readFileSync(new URL('../../../native/src/seccomp.c', import.meta.url), 'utf8');
const schedH = readFileSync('/usr/include/linux/sched.h', 'utf8');
const table = (name: string): string => {
  const m = seccompC.match(new RegExp(`${name}\\[\\] = \\{([\\s\\S]*?)\\};`));
  assert.ok(m, `${name}[] in seccomp.c`);
  return m![1]!.replace(/\/\*[\s\S]*?\*\//g, '');
};
const define = (name: string, src = seccompC): string => {
  const m = src.match(new RegExp(`^#define ${name}\\s+(.+)$`, 'm'));
  assert.ok(m, `#define ${name}`);
  return m![1]!.replace(/\/\*.*?\*\//g, '').trim();
};
const C = {
  denied: [...table('denied').matchAll(/\{SYS_(\w+), (-?\d+), (-?\d+)\}/g)].map((m) => ({ name: m[1]!, caps: [Number(m[2]), Number(m[3])].filter((c) => c >= 0) })),
  allowed: [...table('allowed').matchAll(/SYS_(\w+)/g)].map((m) => m[1]!),
  personalities: [...table('personalities').matchAll(/0x[0-9a-f]+/g)].map((m) => BigInt(m[0])),
  nsFlags: [...define('NS_FLAGS').matchAll(/CLONE_\w+/g)].map((m) => m[0]),
  families: [Number(define('FAMILY_ALG')), Number(define('FAMILY_VSOCK'))],
  program: seccompC.slice(seccompC.indexOf('int seccomp_default_program')),
};
const nsMask = C.nsFlags.reduce((m, f) => m | BigInt(define(f, schedH)), 0n);

test('seccomp.c was read: its tables and the shape of its program (guards the checks below)', () => {
  assert.is(C.denied.length, 57);
  assert.ok(C.allowed.length > 300);
  assert.is(C.personalities.length, 5);
  assert.is(C.nsFlags.length, 7);
  assert.equal(C.families, [38, 40]);
  assert.is(nsMask, 0x7e020000n);
  // The order the reference below follows: arch and x32 refused, clone3, clone, socket,
  // personality, then denied[], then allowed[], then ENOSYS.
  const at = (re: RegExp): number => {
    const i = C.program.search(re);
    assert.ok(i >= 0, String(re));
    return i;
  };
  const order = [
    at(/AUDIT_ARCH_X86_64, 1, 0\)[\s\S]*?ERRNO\(EPERM\)/), at(/0x40000000, 0, 1\); \/\* x32 \*\/\s+f\[n\+\+\] = \(struct sock_filter\)ERRNO\(EPERM\)/),
    at(/SYS_clone3, 0, 1\);\s+f\[n\+\+\] = sys_admin \? \(struct sock_filter\)RET\(SECCOMP_RET_ALLOW\) : \(struct sock_filter\)ERRNO\(ENOSYS\)/),
    at(/SYS_clone, 0, 4\)[\s\S]*?args\[0\][\s\S]*?BPF_JSET \| BPF_K, sys_admin \? 0 : NS_FLAGS, 0, 1\);\s+f\[n\+\+\] = \(struct sock_filter\)ERRNO\(EPERM\);\s+f\[n\+\+\] = \(struct sock_filter\)RET\(SECCOMP_RET_ALLOW\)/),
    at(/SYS_socket, 0, 5\);\s+f\[n\+\+\] = \(struct sock_filter\)BPF_STMT\(BPF_LD \| BPF_W \| BPF_ABS, ARG0_LO\)[\s\S]*?FAMILY_ALG, 2, 0\)[\s\S]*?FAMILY_VSOCK, 1, 0\);\s+f\[n\+\+\] = \(struct sock_filter\)RET\(SECCOMP_RET_ALLOW\);\s+f\[n\+\+\] = \(struct sock_filter\)ERRNO\(EPERM\)/),
    at(/SYS_personality[\s\S]*?ARG0_HI\)[\s\S]*?BPF_JEQ \| BPF_K, 0, 0,[\s\S]*?ARG0_LO\)[\s\S]*?personalities\[i\][\s\S]*?ERRNO\(EPERM\);\s+f\[n\+\+\] = \(struct sock_filter\)RET\(SECCOMP_RET_ALLOW\)/),
    at(/i < N\(denied\); i\+\+\) \{[\s\S]*?HAS\(caps, denied\[i\]\.cap\) \|\| HAS\(caps, denied\[i\]\.cap2\)[\s\S]*?unlocked \? \(struct sock_filter\)RET\(SECCOMP_RET_ALLOW\) : \(struct sock_filter\)ERRNO\(EPERM\)/),
    at(/i < N\(allowed\); i\+\+\) \{[\s\S]*?RET\(SECCOMP_RET_ALLOW\)/),
    at(/f\[n\+\+\] = \(struct sock_filter\)ERRNO\(ENOSYS\);\s+out->len/),
  ];
  assert.equal(order, [...order].sort((a, b) => a - b), 'the checks in this order');
  assert.match(C.program, /int sys_admin = HAS\(caps, 21\)/);
});

test('the TS tables are seccomp.c\'s (no drift): denied[] with its capabilities, allowed[], NS_FLAGS, families, personalities', () => {
  assert.equal(DENIED.map(([name, ...caps]) => ({ name, caps: caps.map((c) => CAP_NAMES.indexOf(c)) })), C.denied);
  assert.equal([...ALLOWED], C.allowed);
  assert.equal(Object.keys(NS_FLAGS), C.nsFlags);
  for (const f of C.nsFlags) assert.is(BigInt(NS_FLAGS[f]!), BigInt(define(f, schedH)), f);
  assert.equal([...REFUSED_FAMILIES], C.families);
  assert.equal(PERSONALITIES.map(BigInt), C.personalities);
});

test('docker\'s default capabilities: ENOSYS by default, x86_64, no flags; the lists, and the clone, socket and personality entries', () => {
  const p = profileOf(remappedSpec());
  assert.is(p.defaultAction, 'SCMP_ACT_ERRNO');
  assert.is(p.defaultErrnoRet, 38);
  assert.equal(p.architectures, ['SCMP_ARCH_X86_64']);
  assert.equal(p.flags, []);
  // chroot is unlocked by CAP_SYS_CHROOT, in docker's default set; everything else denied stays EPERM.
  const allowed = namesOf(p, 'SCMP_ACT_ALLOW');
  assert.equal(allowed, [...ALLOWED.filter((n) => n !== 'socket'), 'chroot']);
  assert.equal(p.syscalls[1], { names: DENIED.map(([n]) => n).filter((n) => n !== 'chroot'), action: 'SCMP_ACT_ERRNO', errnoRet: 1 });
  assert.not.ok(allowed.includes('clone') || allowed.includes('clone3') || allowed.includes('personality'));
  // clone: allowed without a namespace flag, EPERM with any one of them.
  assert.equal(argRules(p, 'clone'), [
    { names: ['clone'], action: 'SCMP_ACT_ALLOW', args: [masked(0x7e020000, 0)] },
    ...[0x20000, 0x4000000, 0x8000000, 0x10000000, 0x20000000, 0x40000000, 0x2000000].map((f) => eperm('clone', masked(f, f))),
  ]);
  // socket: EPERM for AF_ALG and AF_VSOCK in the low word, ALLOW for every other low word.
  const socket = argRules(p, 'socket');
  assert.equal(socket.slice(0, 2), [38, 40].map((f) => eperm('socket', masked(0xffffffff, f))));
  assert.ok(socket.slice(2).every((r) => r.action === 'SCMP_ACT_ALLOW' && r.args.length === 1 && r.args[0].op === 'SCMP_CMP_MASKED_EQ' && r.args[0].value <= 0xffffffff));
  assert.is(socket.length, 2 + 29 + 6);
  // personality: ALLOW for the five values, EPERM above 32 bits and for other low words.
  const pers = argRules(p, 'personality');
  assert.equal(pers.slice(0, 6), [
    ...PERSONALITIES.map((v) => ({ names: ['personality'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: v, op: 'SCMP_CMP_EQ' }] })),
    eperm('personality', { index: 0, value: 0xffffffff, op: 'SCMP_CMP_GT' }),
  ]);
  assert.is(pers.length, 6 + 32);
  // One condition an entry: runc would split two on one argument into an OR, crun ANDs them.
  assert.ok(p.syscalls.every((r: any) => !r.args || r.args.length === 1));
});

test('--cap-add SYS_ADMIN: clone and clone3 unchecked, the mount family and the SYS_ADMIN-gated rest allowed', () => {
  const p = profileOf({ ...remappedSpec(), caps: capsOf(['SYS_ADMIN']) });
  const allowed = namesOf(p, 'SCMP_ACT_ALLOW');
  for (const n of ['clone', 'clone3', 'mount', 'umount2', 'unshare', 'setns', 'fsopen', 'sethostname', 'syslog', 'bpf', 'perf_event_open', 'chroot']) assert.ok(allowed.includes(n), n);
  assert.equal(argRules(p, 'clone'), []);
  // Calls no capability unlocks, and those of capabilities it does not have, stay EPERM.
  assert.equal(p.syscalls[1].names, ['init_module', 'finit_module', 'delete_module', 'pivot_root', 'kexec_load', 'kexec_file_load', 'keyctl', 'add_key', 'request_key', 'userfaultfd', 'nfsservctl', 'swapon', 'swapoff', 'io_uring_setup', 'io_uring_enter', 'io_uring_register', 'open_by_handle_at', 'reboot', 'acct', 'settimeofday', 'clock_settime', 'vhangup', 'iopl', 'ioperm', 'kcmp', 'pidfd_getfd', 'process_madvise', 'get_mempolicy', 'set_mempolicy', 'set_mempolicy_home_node', 'mbind', 'move_pages', 'migrate_pages']);
  assert.is(argRules(p, 'socket').length, 37);
  assert.is(argRules(p, 'personality').length, 38);
  // --cap-drop ALL: chroot denied too.
  assert.ok(profileOf({ ...remappedSpec(), caps: capsOf([], ['ALL']) }).syscalls[1].names.includes('chroot'));
});

test('--privileged and --security-opt seccomp=unconfined (spec.seccomp "unconfined"): no linux.seccomp, as no filter', () => {
  assert.is(profileOf({ ...remappedSpec(), seccomp: 'unconfined' }), undefined);
  assert.is(profileOf({ ...remappedSpec(), seccomp: undefined }), undefined);
});

test('--privileged: /sys writable, nothing masked or read-only, the host devices listed and every device allowed', () => {
  const devices = [{ path: '/dev/kmsg', type: 'c', major: 1, minor: 11, fileMode: 0o644, uid: 0, gid: 0 }];
  const c = ociConfigFor({ ...hostSpec(), privileged: true }, { bundle: BUNDLE, cgroupParent: 'minidock', hostDevices: devices }) as any;
  assert.equal(c.mounts.find((m: any) => m.destination === '/sys').options, ['nosuid', 'noexec', 'nodev']);
  assert.equal(c.linux.maskedPaths, []);
  assert.equal(c.linux.readonlyPaths, []);
  assert.equal(c.linux.devices, devices);
  assert.equal(c.linux.resources.devices, [{ allow: true, access: 'rwm' }]);
  const plain = ociConfigFor({ ...hostSpec() }, { bundle: BUNDLE, cgroupParent: 'minidock', hostDevices: devices }) as any;
  assert.ok(plain.mounts.find((m: any) => m.destination === '/sys').options.includes('ro'));
  assert.equal(plain.linux.readonlyPaths, READONLY);
  assert.is(plain.linux.devices, undefined, 'host devices only with --privileged');
  assert.is(plain.linux.resources.devices[0].allow, false);
});

/** What seccomp.c's program answers, written from its code (the order checked above) and its tables as read. */
function nativeVerdict(caps: bigint, name: string, arg0: bigint): number {
  const has = (c: number): boolean => ((caps >> BigInt(c)) & 1n) === 1n;
  const lo = arg0 & 0xffffffffn;
  if (name === 'clone3') return has(21) ? ALLOW : ENOSYS;
  if (name === 'clone') return !has(21) && (lo & nsMask) !== 0n ? EPERM : ALLOW;
  if (name === 'socket') return C.families.includes(Number(lo)) ? EPERM : ALLOW;
  if (name === 'personality') return C.personalities.includes(arg0) ? ALLOW : EPERM;
  const d = C.denied.find((x) => x.name === name);
  if (d) return d.caps.some(has) ? ALLOW : EPERM;
  return C.allowed.includes(name) ? ALLOW : ENOSYS;
}

/** First arguments worth trying: the values the rules name, their neighbours and high-word twins,
 *  every single bit, each point with each bit flipped, and a deterministic spread. */
const SAMPLES: bigint[] = (() => {
  const points = [0n, 8n, 0xcn, 38n, 39n, 40n, 0x20000n, 0x20008n, 0x40000n, 0x400000n, 0xfffffffen, 0xffffffffn, nsMask, 0x11n, 0x20011n, 0x40000011n, 0x7e020011n];
  const out = new Set<bigint>();
  const U64 = (1n << 64n) - 1n;
  for (const p of points) {
    for (const v of [p, p + 1n, p - 1n, p | (1n << 32n), p | (0xffffffffn << 32n)]) if (v >= 0n) out.add(v & U64);
    for (let i = 0n; i < 64n; i++) out.add(p ^ (1n << i));
  }
  for (let i = 0n; i < 64n; i++) for (const j of [0n, 1n, 3n, 17n, 31n, 32n, 63n]) out.add((1n << i) | (1n << j));
  let x = 0x9e3779b97f4a7c15n;
  for (let i = 0; i < 3000; i++) {
    x = (x * 6364136223846793005n + 1442695040888963407n) & U64;
    out.add(i % 2 ? x : x & 0xffffffffn);
  }
  return [...out];
})();

/** Whether a profile entry's condition holds (the three operators the profile uses). */
function holds(a: { value: number; valueTwo?: number; op: string }, arg0: bigint): boolean {
  const v = BigInt(a.value);
  if (a.op === 'SCMP_CMP_EQ') return arg0 === v;
  if (a.op === 'SCMP_CMP_GT') return arg0 > v;
  return (arg0 & v) === BigInt(a.valueTwo ?? 0);
}

const CAP_SETS: Array<[string, string]> = [
  ['docker\'s default', capsOf([])],
  ['+SYS_ADMIN', capsOf(['SYS_ADMIN'])],
  ['none', capsOf([], ['ALL'])],
  ['every capability', capabilityMask({ add: [], drop: [], privileged: true })],
  ...CAP_NAMES.map((c): [string, string] => [`only ${c}`, capsOf([c], ['ALL'])]),
];

test('every call of the argument-checked ones: for each sample, the ALLOW and EPERM entries never both hold and one of them does', () => {
  for (const [what, caps] of CAP_SETS.slice(0, 2)) {
    const p = profileOf({ ...remappedSpec(), caps });
    for (const name of ['clone', 'socket', 'personality']) {
      const rules = argRules(p, name);
      if (!rules.length) continue;
      for (const arg of SAMPLES) {
        const actions = new Set(rules.filter((r) => holds(r.args[0], arg)).map((r) => r.action));
        assert.is(actions.size, 1, `${what}: ${name}(0x${arg.toString(16)}): ${[...actions].join(', ') || 'no entry'}`);
        assert.is([...actions][0] === 'SCMP_ACT_ALLOW' ? ALLOW : EPERM, nativeVerdict(BigInt(`0x${caps}`), name, arg), `${name}(0x${arg.toString(16)})`);
      }
    }
  }
});

test('compiled by minidock-runc (src/oci/seccomp.ts): nothing unsupported, and for every x86_64 call and sample argument the verdict seccomp.c gives', () => {
  const inTable = new Set(Object.keys(SYSCALLS_X86_64));
  for (const [what, caps] of CAP_SETS) {
    const json = JSON.parse(JSON.stringify(profileOf({ ...remappedSpec(), caps })));
    const config = parseConfig({ ociVersion: '1.1.0', root: { path: 'rootfs' }, linux: { seccomp: json } });
    const out = compileSeccomp(config.linux!.seccomp!);
    assert.equal(out.unsupported, [], what);
    assert.is(out.flags, 0, 'no SPEC_ALLOW: the native filter is installed without flags');
    assert.ok(out.length < MAX_INSNS, `${what}: ${out.length} instructions`);
    const code = decodeFilter(out.filter);
    verify(code);
    // Names newer than the table (Linux 6.1's) are skipped, as runc skips those its libseccomp lacks.
    assert.equal(out.ignored.sort(), [...new Set([...C.allowed, ...C.denied.map((d) => d.name)])].filter((n) => !inTable.has(n)).sort(), what);
    const mask = BigInt(`0x${caps}`);
    const full = what === 'docker\'s default' || what === '+SYS_ADMIN';
    for (const [name, nr] of Object.entries(SYSCALLS_X86_64)) {
      const args = full && ['clone', 'clone3', 'socket', 'personality'].includes(name) ? SAMPLES : [0n, 0x7e020000n, 38n];
      for (const a of args) {
        assert.is(run(code, { nr, args: [a] }).ret, nativeVerdict(mask, name, a), `${what}: ${name}(0x${a.toString(16)})`);
      }
    }
  }
});

test('the corners a profile cannot express: another ABI is killed (the bad-arch action) where seccomp.c answers EPERM', () => {
  const json = JSON.parse(JSON.stringify(profileOf(remappedSpec())));
  const out = compileSeccomp(parseConfig({ ociVersion: '1.1.0', root: { path: 'rootfs' }, linux: { seccomp: json } }).linux!.seccomp!);
  const AUDIT_ARCH_I386 = 0x40000003;
  assert.is(run(out.filter, { nr: SYSCALLS_X86_64.getpid!, arch: AUDIT_ARCH_I386 }).ret, SECCOMP_RET.KILL_THREAD);
  assert.is(run(out.filter, { nr: 0x40000000 | SYSCALLS_X86_64.getpid! }).ret, SECCOMP_RET.KILL_THREAD);
  assert.match(C.program, /AUDIT_ARCH_X86_64, 1, 0\);\s+f\[n\+\+\] = \(struct sock_filter\)ERRNO\(EPERM\)/);
});

test('wordsOutside and wordsNeitherSubsetNorOnes: the patterns miss the points and cover the rest (every sample)', () => {
  const matches = ([m, v]: [number, number], w: number): boolean => ((w & m) >>> 0) === v;
  const words = [...new Set(SAMPLES.map((s) => Number(s & 0xffffffffn)))];
  for (const points of [[38, 40], [0], [0xffffffff], [5, 6, 7]]) {
    const pats = wordsOutside(points);
    for (const w of [...words, ...points]) assert.is(pats.some((p) => matches(p, w)), !points.includes(w), `${points}: 0x${w.toString(16)}`);
  }
  for (const set of [0x20008, 0x1, 0x80000000, 0x5]) {
    const pats = wordsNeitherSubsetNorOnes(set);
    for (const w of [...words, set, 0, 0xffffffff]) assert.is(pats.some((p) => matches(p, w)), ((w & ~set) >>> 0) !== 0 && w !== 0xffffffff, `0x${set.toString(16)}: 0x${w.toString(16)}`);
  }
  assert.throws(() => wordsNeitherSubsetNorOnes(0x3), /neighbouring/);
});

test('--pid, --ipc, --uts host: no namespace of that kind, the host\'s /proc and /dev/shm bound in, no /dev/mqueue, no names with the host\'s UTS', () => {
  const c = ociConfigFor({ ...remappedSpec(), pidMode: 'host', ipcMode: 'host', utsMode: 'host', domainname: 'x' }, { bundle: BUNDLE, cgroupParent: 'minidock' }) as any;
  assert.equal(c.linux.namespaces.map((n: { type: string }) => n.type), ['mount', 'network', 'cgroup', 'user']);
  const at = (dst: string) => c.mounts.find((m: { destination: string }) => m.destination === dst);
  assert.equal(at('/proc'), { destination: '/proc', type: 'bind', source: '/proc', options: ['rbind', 'nosuid', 'nodev', 'noexec'] });
  assert.equal(at('/dev/shm'), { destination: '/dev/shm', type: 'bind', source: '/dev/shm', options: ['rbind', 'nosuid', 'nodev', 'noexec'] });
  assert.is(at('/dev/mqueue'), undefined);
  assert.is(c.hostname, undefined);
  assert.is(c.domainname, undefined);
  // The order of the mounts is kept: /dev/shm after /dev.
  const order = c.mounts.map((m: { destination: string }) => m.destination);
  assert.ok(order.indexOf('/dev/shm') > order.indexOf('/dev'));
  const own = ociConfigFor(remappedSpec(), { bundle: BUNDLE, cgroupParent: 'minidock' }) as any;
  assert.equal(own.linux.namespaces.map((n: { type: string }) => n.type).slice(0, 3), ['pid', 'ipc', 'uts']);
  assert.is(own.mounts.find((m: { destination: string }) => m.destination === '/proc').type, 'proc');
  // It is a config runc's parser takes.
  parseConfig(c);
});

test.run();
