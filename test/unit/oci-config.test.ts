// src/oci/config.ts: config.json parsed into typed data; each malformed field refused by name.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { MinidockError } from '../../src/core/errors.js';
import { parseConfig, parseConfigText, type OciConfig } from '../../src/oci/config.js';
import { defaultSpec } from '../../src/oci/default-spec.js';

/** The smallest config the runtime can run. */
const minimal = (): Record<string, any> => ({
  ociVersion: '1.1.0',
  root: { path: 'rootfs' },
  process: { user: { uid: 0, gid: 0 }, args: ['sh'], cwd: '/' },
  linux: { namespaces: [{ type: 'mount' }] },
});

function refusal(json: unknown): string {
  try {
    parseConfig(json);
  } catch (err) {
    assert.instance(err, MinidockError);
    assert.is((err as MinidockError).exitCode, 1);
    assert.is((err as MinidockError).step, 'oci.config');
    return `${(err as MinidockError).message} (${(err as MinidockError).hint})`;
  }
  throw new Error(`accepted: ${JSON.stringify(json)}`);
}

test('the minimal config, with every default filled in', () => {
  const expected: OciConfig = {
    ociVersion: '1.1.0',
    root: { path: 'rootfs', readonly: false },
    mounts: [],
    hooks: {},
    annotations: {},
    process: { terminal: false, user: { uid: 0, gid: 0, additionalGids: [] }, args: ['sh'], env: [], cwd: '/', rlimits: [], noNewPrivileges: false, other: [] },
    linux: { namespaces: [{ type: 'mount' }], uidMappings: [], gidMappings: [], sysctl: {}, devices: [], resources: [], maskedPaths: [], readonlyPaths: [], other: [] },
  };
  assert.equal(parseConfig(minimal()), expected);
});

test("runc spec's default config parses, field by field", () => {
  const c = parseConfig(defaultSpec());
  assert.is(c.ociVersion, '1.1.0');
  assert.equal(c.root, { path: 'rootfs', readonly: true });
  assert.is(c.hostname, 'runc');
  assert.equal(c.process!.capabilities, {
    bounding: ['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE'],
    effective: ['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE'],
    inheritable: [],
    permitted: ['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE'],
    ambient: ['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE'],
  });
  assert.equal(c.process!.rlimits, [{ type: 'RLIMIT_NOFILE', soft: 1024, hard: 1024 }]);
  assert.is(c.process!.terminal, true);
  assert.is(c.process!.noNewPrivileges, true);
  assert.equal(c.mounts.map((m) => m.destination), ['/proc', '/dev', '/dev/pts', '/dev/shm', '/dev/mqueue', '/sys', '/sys/fs/cgroup']);
  assert.equal(c.mounts[1], { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'], idmapped: false });
  assert.equal(c.linux!.namespaces.map((n) => n.type), ['pid', 'network', 'ipc', 'uts', 'mount']);
  assert.equal(c.linux!.resources, ['devices']);
  assert.is(c.linux!.maskedPaths.length, 10);
  assert.equal(c.linux!.readonlyPaths, ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger']);
});

test('every version of the 1.0, 1.1 and 1.2 series is read', () => {
  for (const v of ['1.0.0', '1.0.2-dev', '1.1.0', '1.1.0-rc.3', '1.2.0', '1.2.1', '1.2.1+build.5']) {
    assert.is(parseConfig({ ...minimal(), ociVersion: v }).ociVersion, v, v);
  }
});

test('fields that plan.ts refuses are still parsed, so it can name them', () => {
  const c = parseConfig({
    ...minimal(),
    domainname: 'example.org',
    hooks: { prestart: [{ path: '/bin/true', args: ['true'], timeout: 5 }] },
    annotations: { 'org.example.key': 'value' },
    process: { ...minimal().process, user: { uid: 1000, gid: 1000, umask: 18, additionalGids: [5, 6] }, oomScoreAdj: -500, apparmorProfile: 'p', selinuxLabel: 'l', scheduler: { policy: 'SCHED_OTHER' } },
    linux: {
      namespaces: [{ type: 'mount' }, { type: 'network', path: '/proc/1/ns/net' }, { type: 'user' }],
      uidMappings: [{ containerID: 0, hostID: 100000, size: 65536 }],
      gidMappings: [{ containerID: 0, hostID: 100000, size: 65536 }],
      sysctl: { 'net.ipv4.ip_forward': '1' },
      devices: [{ path: '/dev/fuse', type: 'c', major: 10, minor: 229 }],
      resources: { memory: { limit: 1 }, pids: { limit: 5 } },
      cgroupsPath: '/a/b',
      seccomp: { defaultAction: 'SCMP_ACT_ERRNO', syscalls: [] },
      rootfsPropagation: 'rslave',
      mountLabel: 'x',
      personality: { domain: 'LINUX' },
    },
  });
  assert.is(c.domainname, 'example.org');
  assert.equal(c.hooks, { prestart: [{ path: '/bin/true', args: ['true'], timeout: 5 }] });
  assert.equal(c.annotations, { 'org.example.key': 'value' });
  assert.equal(c.process!.user, { uid: 1000, gid: 1000, umask: 18, additionalGids: [5, 6] });
  assert.is(c.process!.oomScoreAdj, -500);
  assert.equal(c.process!.other, ['process.scheduler']);
  assert.equal(c.linux!.namespaces, [{ type: 'mount' }, { type: 'network', path: '/proc/1/ns/net' }, { type: 'user' }]);
  assert.equal(c.linux!.devices, [{ path: '/dev/fuse', type: 'c', major: 10, minor: 229 }]);
  assert.equal(c.linux!.resources, ['memory', 'pids']);
  assert.equal(c.linux!.seccomp, { defaultAction: 'SCMP_ACT_ERRNO', architectures: [], syscalls: [] });
  assert.is(c.linux!.rootfsPropagation, 'rslave');
  assert.equal(c.linux!.other, ['linux.personality']);
});

test('linux.seccomp, every field (config-linux.md, Seccomp)', () => {
  const top = {
    defaultAction: 'SCMP_ACT_ERRNO',
    defaultErrnoRet: 38,
    architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'],
    flags: ['SECCOMP_FILTER_FLAG_LOG'],
    listenerPath: '/run/agent.sock',
    listenerMetadata: 'x',
  };
  const personality = { names: ['personality'], action: 'SCMP_ACT_TRACE', errnoRet: 7, args: [{ index: 0, value: 8, valueTwo: 9, op: 'SCMP_CMP_EQ' }] };
  const c = parseConfig(withLinux({
    seccomp: {
      ...top,
      syscalls: [
        { names: ['read', 'write'], action: 'SCMP_ACT_ALLOW' },
        { names: ['clone'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 2114060288, op: 'SCMP_CMP_MASKED_EQ' }] },
        personality,
      ],
    },
  }));
  assert.equal(c.linux!.seccomp, {
    ...top,
    syscalls: [
      { names: ['read', 'write'], action: 'SCMP_ACT_ALLOW', args: [] },
      { names: ['clone'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 2114060288, valueTwo: 0, op: 'SCMP_CMP_MASKED_EQ' }] },
      personality,
    ],
  });
  // No flags and an empty list differ (runc: absent means SECCOMP_FILTER_FLAG_SPEC_ALLOW).
  assert.is(parseConfig(withLinux({ seccomp: { defaultAction: 'SCMP_ACT_ALLOW' } })).linux!.seccomp!.flags, undefined);
  assert.equal(parseConfig(withLinux({ seccomp: { defaultAction: 'SCMP_ACT_ALLOW', flags: [] } })).linux!.seccomp!.flags, []);
});

test('unknown properties are ignored (config.md, Extensibility)', () => {
  const c = parseConfig({ ...minimal(), 'org.example.future': { x: 1 }, process: { ...minimal().process, futureField: true } });
  assert.equal(c.process!.args, ['sh']);
});

const withProcess = (extra: Record<string, unknown>): unknown => ({ ...minimal(), process: { ...minimal().process, ...extra } });
const withLinux = (extra: Record<string, unknown>): unknown => ({ ...minimal(), linux: { ...minimal().linux, ...extra } });

const malformed: Array<[string, unknown, string]> = [
  ['not an object', [], 'config.json: (the document) must be an object, not [] (config.json holds one JSON object)'],
  ['ociVersion missing', { ...minimal(), ociVersion: undefined }, 'config.json: ociVersion must be a string, not missing (write the spec version the bundle follows, e.g. "1.1.0")'],
  ['ociVersion not SemVer', { ...minimal(), ociVersion: '1.1' }, 'config.json: ociVersion "1.1" is not a SemVer version (write e.g. "1.1.0")'],
  ['ociVersion 1.3', { ...minimal(), ociVersion: '1.3.0' }, 'config.json: ociVersion "1.3.0" is not supported (minidock-runc reads 1.0.x to 1.2.x: write e.g. "1.2.0")'],
  ['ociVersion 2.0', { ...minimal(), ociVersion: '2.0.0' }, 'config.json: ociVersion "2.0.0" is not supported (minidock-runc reads 1.0.x to 1.2.x: write e.g. "1.2.0")'],
  ['root missing', { ...minimal(), root: undefined }, 'config.json: root is missing (add "root": {"path": "rootfs"})'],
  ['root.path empty', { ...minimal(), root: { path: '' } }, 'config.json: root.path is empty (give the root filesystem directory, e.g. "rootfs")'],
  ['root.path a number', { ...minimal(), root: { path: 1 } }, 'config.json: root.path must be a string, not 1 (give the root filesystem directory, relative to the bundle or absolute)'],
  ['root.readonly a string', { ...minimal(), root: { path: 'r', readonly: 'yes' } }, 'config.json: root.readonly must be true or false, not "yes" (write true or false without quotes)'],
  ['hostname too long', { ...minimal(), hostname: 'h'.repeat(65) }, 'config.json: hostname is 65 bytes long (the kernel takes at most 64)'],
  ['process not an object', { ...minimal(), process: 'sh' }, 'config.json: process must be an object, not "sh" (make it a JSON object)'],
  ['process.user missing', withProcess({ user: undefined }), 'config.json: process.user must be an object, not missing (write "user": {"uid": 0, "gid": 0})'],
  ['process.user.uid negative', withProcess({ user: { uid: -1, gid: 0 } }), 'config.json: process.user.uid must be an integer from 0 to 4294967295, not -1 (give a number from 0 to 4294967295)'],
  ['process.user.gid fractional', withProcess({ user: { uid: 0, gid: 1.5 } }), 'config.json: process.user.gid must be an integer from 0 to 4294967295, not 1.5 (give a number from 0 to 4294967295)'],
  ['process.user.additionalGids entry', withProcess({ user: { uid: 0, gid: 0, additionalGids: [1, 'x'] } }), 'config.json: process.user.additionalGids[1] must be an integer from 0 to 4294967295, not "x" (give a number from 0 to 4294967295)'],
  ['process.user.umask too big', withProcess({ user: { uid: 0, gid: 0, umask: 512 } }), 'config.json: process.user.umask must be an integer from 0 to 511, not 512 (give a mode from 0 to 511 (0o777), e.g. 18 for 022)'],
  ['process.args empty', withProcess({ args: [] }), 'config.json: process.args is empty (give the command to run, e.g. ["sh"])'],
  ['process.args missing', withProcess({ args: undefined }), 'config.json: process.args is empty (give the command to run, e.g. ["sh"])'],
  ['process.args a string', withProcess({ args: 'sh' }), 'config.json: process.args must be an array, not "sh" (make it a JSON array)'],
  ['process.args entry', withProcess({ args: ['sh', 2] }), 'config.json: process.args[1] must be a string, not 2 (make it a JSON string)'],
  ['process.env without =', withProcess({ env: ['PATH=/bin', 'TERM'] }), 'config.json: process.env[1] "TERM" is not NAME=VALUE (write each variable as NAME=VALUE)'],
  ['process.env empty name', withProcess({ env: ['=x'] }), 'config.json: process.env[0] "=x" is not NAME=VALUE (write each variable as NAME=VALUE)'],
  ['process.cwd missing', withProcess({ cwd: undefined }), 'config.json: process.cwd must be a string, not missing (give an absolute path)'],
  ['process.cwd relative', withProcess({ cwd: 'tmp' }), 'config.json: process.cwd must be an absolute path, not "tmp" (start it with "/")'],
  ['process.terminal a number', withProcess({ terminal: 1 }), 'config.json: process.terminal must be true or false, not 1 (write true or false without quotes)'],
  ['process.consoleSize.width missing', withProcess({ consoleSize: { height: 24 } }), 'config.json: process.consoleSize.width must be an integer from 0 to 65535, not missing (give columns, 0 to 65535)'],
  ['capability without prefix', withProcess({ capabilities: { bounding: ['NET_ADMIN'] } }), 'config.json: process.capabilities.bounding[0] "NET_ADMIN" is not a capability (names as in capabilities(7), with the prefix: "CAP_NET_ADMIN")'],
  ['unknown capability', withProcess({ capabilities: { ambient: ['CAP_FLY'] } }), 'config.json: process.capabilities.ambient[0] "CAP_FLY" is not a capability (names as in capabilities(7), with the prefix: "CAP_NET_ADMIN")'],
  ['rlimit type unknown', withProcess({ rlimits: [{ type: 'RLIMIT_FOO', soft: 1, hard: 1 }] }), 'config.json: process.rlimits[0].type "RLIMIT_FOO" is not a resource limit (names as in getrlimit(2), e.g. "RLIMIT_NOFILE")'],
  ['rlimit repeated', withProcess({ rlimits: [{ type: 'RLIMIT_CORE', soft: 1, hard: 1 }, { type: 'RLIMIT_CORE', soft: 1, hard: 1 }] }), 'config.json: process.rlimits[1].type repeats RLIMIT_CORE (give each limit once)'],
  ['rlimit soft above hard', withProcess({ rlimits: [{ type: 'RLIMIT_NOFILE', soft: 2048, hard: 1024 }] }), 'config.json: process.rlimits[0].soft (2048) is above hard (1024) (a soft limit may not exceed its hard limit (setrlimit(2)))'],
  ['rlimit hard missing', withProcess({ rlimits: [{ type: 'RLIMIT_NOFILE', soft: 1 }] }), 'config.json: process.rlimits[0].hard must be an integer from 0 to 9007199254740991, not missing (give a non-negative integer)'],
  ['oomScoreAdj out of range', withProcess({ oomScoreAdj: 1001 }), 'config.json: process.oomScoreAdj must be an integer from -1000 to 1000, not 1001 (give a number from -1000 to 1000 (proc(5), oom_score_adj))'],
  ['mounts not an array', { ...minimal(), mounts: {} }, 'config.json: mounts must be an array, not {} (make it a JSON array)'],
  ['mount destination missing', { ...minimal(), mounts: [{ type: 'tmpfs' }] }, 'config.json: mounts[0].destination must be a string, not missing (give the path inside the container)'],
  ['mount destination empty', { ...minimal(), mounts: [{ destination: '' }] }, 'config.json: mounts[0].destination is empty (give the path inside the container, e.g. "/data")'],
  ['mount options a string', { ...minimal(), mounts: [{ destination: '/d', options: 'ro' }] }, 'config.json: mounts[0].options must be an array, not "ro" (make it a JSON array)'],
  ['mount idmap size 0', { ...minimal(), mounts: [{ destination: '/d', uidMappings: [{ containerID: 0, hostID: 0, size: 0 }] }] }, 'config.json: mounts[0].uidMappings[0].size is 0 (map at least one id)'],
  ['hooks unknown shape', { ...minimal(), hooks: { prestart: {} } }, 'config.json: hooks.prestart must be an array, not {} (make it a JSON array)'],
  ['hook path relative', { ...minimal(), hooks: { poststop: [{ path: 'bin/hook' }] } }, 'config.json: hooks.poststop[0].path must be an absolute path, not "bin/hook" (start it with "/")'],
  ['hook timeout 0', { ...minimal(), hooks: { poststart: [{ path: '/h', timeout: 0 }] } }, 'config.json: hooks.poststart[0].timeout must be an integer from 1 to 2147483647, not 0 (give seconds, greater than zero)'],
  ['annotation not a string', { ...minimal(), annotations: { a: 1 } }, 'config.json: annotations.a must be a string, not 1 (make it a JSON string)'],
  ['namespace type unknown', withLinux({ namespaces: [{ type: 'mnt' }] }), 'config.json: linux.namespaces[0].type "mnt" is not a namespace type (use one of pid, network, mount, ipc, uts, user, cgroup, time)'],
  ['namespace repeated', withLinux({ namespaces: [{ type: 'pid' }, { type: 'pid' }] }), 'config.json: linux.namespaces[1].type repeats pid (give each namespace type once)'],
  ['namespace path relative', withLinux({ namespaces: [{ type: 'network', path: 'ns/net' }] }), 'config.json: linux.namespaces[0].path must be an absolute path, not "ns/net" (start it with "/")'],
  ['mappings without a user namespace', withLinux({ uidMappings: [{ containerID: 0, hostID: 1000, size: 1 }] }), 'config.json: linux.uidMappings is set without a user namespace (add {"type": "user"} to linux.namespaces, or remove the mappings)'],
  ['user namespace without mappings', withLinux({ namespaces: [{ type: 'mount' }, { type: 'user' }], uidMappings: [{ containerID: 0, hostID: 1000, size: 1 }] }), 'config.json: linux.gidMappings is missing for the new user namespace (map the container\'s ids, e.g. [{"containerID": 0, "hostID": 100000, "size": 65536}])'],
  ['mapping hostID missing', withLinux({ namespaces: [{ type: 'user' }], uidMappings: [{ containerID: 0, size: 1 }] }), 'config.json: linux.uidMappings[0].hostID must be an integer from 0 to 4294967295, not missing (give a number from 0 to 4294967295)'],
  ['sysctl value a number', withLinux({ sysctl: { 'kernel.x': 1 } }), 'config.json: linux.sysctl.kernel.x must be a string, not 1 (make it a JSON string)'],
  ['device type unknown', withLinux({ devices: [{ path: '/dev/x', type: 'x' }] }), 'config.json: linux.devices[0].type "x" is not a device type (use "c", "b", "u" or "p")'],
  ['device major missing', withLinux({ devices: [{ path: '/dev/x', type: 'c', minor: 1 }] }), 'config.json: linux.devices[0].major must be an integer from 0 to 4294967295, not missing (give the device major number)'],
  ['resources not an object', withLinux({ resources: [] }), 'config.json: linux.resources must be an object, not [] (make it a JSON object)'],
  ['seccomp without defaultAction', withLinux({ seccomp: {} }), 'config.json: linux.seccomp.defaultAction must be a string, not missing (give an action such as "SCMP_ACT_ERRNO")'],
  ['seccomp defaultAction unknown', withLinux({ seccomp: { defaultAction: 'SCMP_ACT_DENY' } }), 'config.json: linux.seccomp.defaultAction "SCMP_ACT_DENY" is not a seccomp action (use one of SCMP_ACT_KILL, SCMP_ACT_KILL_PROCESS, SCMP_ACT_KILL_THREAD, SCMP_ACT_TRAP, SCMP_ACT_ERRNO, SCMP_ACT_TRACE, SCMP_ACT_ALLOW, SCMP_ACT_LOG)'],
  ['seccomp defaultAction notify', withLinux({ seccomp: { defaultAction: 'SCMP_ACT_NOTIFY' } }), 'config.json: linux.seccomp.defaultAction SCMP_ACT_NOTIFY is not supported (minidock-runc has no seccomp user notification: use SCMP_ACT_ERRNO or SCMP_ACT_KILL_PROCESS)'],
  ['seccomp defaultErrnoRet with KILL', withLinux({ seccomp: { defaultAction: 'SCMP_ACT_KILL', defaultErrnoRet: 1 } }), 'config.json: linux.seccomp.defaultErrnoRet is set for SCMP_ACT_KILL (only SCMP_ACT_ERRNO and SCMP_ACT_TRACE take an errno: remove it)'],
  ['seccomp defaultErrnoRet too large', withLinux({ seccomp: { defaultAction: 'SCMP_ACT_ERRNO', defaultErrnoRet: 65536 } }), 'config.json: linux.seccomp.defaultErrnoRet must be an integer from 0 to 65535, not 65536 (give an errno number, e.g. 1 for EPERM (seccomp keeps 16 bits))'],
  ['seccomp architecture unknown', withLinux({ seccomp: { defaultAction: 'SCMP_ACT_ERRNO', architectures: ['x86_64'] } }), 'config.json: linux.seccomp.architectures[0] "x86_64" is not a seccomp architecture (names as libseccomp spells them, e.g. "SCMP_ARCH_X86_64")'],
  ['seccomp flag unknown', withLinux({ seccomp: { defaultAction: 'SCMP_ACT_ERRNO', flags: ['SECCOMP_FILTER_FLAG_NEW_LISTENER'] } }), 'config.json: linux.seccomp.flags[0] "SECCOMP_FILTER_FLAG_NEW_LISTENER" is not a seccomp filter flag (use one of SECCOMP_FILTER_FLAG_TSYNC, SECCOMP_FILTER_FLAG_LOG, SECCOMP_FILTER_FLAG_SPEC_ALLOW, SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV)'],
  ['seccomp listenerMetadata alone', withLinux({ seccomp: { defaultAction: 'SCMP_ACT_ERRNO', listenerMetadata: 'm' } }), 'config.json: linux.seccomp.listenerMetadata is set without listenerPath (remove it: it is only sent to a seccomp agent)'],
  ['seccomp syscalls an object', withLinux({ seccomp: { defaultAction: 'SCMP_ACT_ERRNO', syscalls: {} } }), 'config.json: linux.seccomp.syscalls must be an array, not {} (make it a JSON array)'],
  ['seccomp names missing', withLinux({ seccomp: { defaultAction: 'SCMP_ACT_ERRNO', syscalls: [{ action: 'SCMP_ACT_ALLOW' }] } }), 'config.json: linux.seccomp.syscalls[0].names is empty (name at least one system call, e.g. ["getcwd"])'],
  ['seccomp name empty', withLinux({ seccomp: { defaultAction: 'SCMP_ACT_ERRNO', syscalls: [{ names: ['read', ''], action: 'SCMP_ACT_ALLOW' }] } }), 'config.json: linux.seccomp.syscalls[0].names[1] is empty (give a system call name, e.g. "getcwd")'],
  ['seccomp action missing', withLinux({ seccomp: { defaultAction: 'SCMP_ACT_ERRNO', syscalls: [{ names: ['read'] }] } }), 'config.json: linux.seccomp.syscalls[0].action must be a string, not missing (give an action such as "SCMP_ACT_ERRNO")'],
  ['seccomp action notify', withLinux({ seccomp: { defaultAction: 'SCMP_ACT_ERRNO', syscalls: [{ names: ['read'], action: 'SCMP_ACT_NOTIFY' }] } }), 'config.json: linux.seccomp.syscalls[0].action SCMP_ACT_NOTIFY is not supported (minidock-runc has no seccomp user notification: use SCMP_ACT_ERRNO or SCMP_ACT_KILL_PROCESS)'],
  ['seccomp errnoRet with ALLOW', withLinux({ seccomp: { defaultAction: 'SCMP_ACT_ERRNO', syscalls: [{ names: ['read'], action: 'SCMP_ACT_ALLOW', errnoRet: 1 }] } }), 'config.json: linux.seccomp.syscalls[0].errnoRet is set for SCMP_ACT_ALLOW (only SCMP_ACT_ERRNO and SCMP_ACT_TRACE take an errno: remove it)'],
  ['seccomp arg index 6', withLinux({ seccomp: { defaultAction: 'SCMP_ACT_ERRNO', syscalls: [{ names: ['read'], action: 'SCMP_ACT_ALLOW', args: [{ index: 6, value: 0, op: 'SCMP_CMP_EQ' }] }] } }), 'config.json: linux.seccomp.syscalls[0].args[0].index must be an integer from 0 to 5, not 6 (a system call has arguments 0 to 5)'],
  ['seccomp arg value missing', withLinux({ seccomp: { defaultAction: 'SCMP_ACT_ERRNO', syscalls: [{ names: ['read'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, op: 'SCMP_CMP_EQ' }] }] } }), 'config.json: linux.seccomp.syscalls[0].args[0].value must be an integer from 0 to 9007199254740991, not missing (give a non-negative integer below 2^53 (a larger JSON number is not read exactly))'],
  ['seccomp arg value above 2^53', withLinux({ seccomp: { defaultAction: 'SCMP_ACT_ERRNO', syscalls: [{ names: ['read'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 2 ** 64, op: 'SCMP_CMP_EQ' }] }] } }), 'config.json: linux.seccomp.syscalls[0].args[0].value must be an integer from 0 to 9007199254740991, not 18446744073709552000 (give a non-negative integer below 2^53 (a larger JSON number is not read exactly))'],
  ['seccomp arg valueTwo negative', withLinux({ seccomp: { defaultAction: 'SCMP_ACT_ERRNO', syscalls: [{ names: ['read'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 1, valueTwo: -1, op: 'SCMP_CMP_MASKED_EQ' }] }] } }), 'config.json: linux.seccomp.syscalls[0].args[0].valueTwo must be an integer from 0 to 9007199254740991, not -1 (give a non-negative integer below 2^53 (a larger JSON number is not read exactly))'],
  ['seccomp arg op unknown', withLinux({ seccomp: { defaultAction: 'SCMP_ACT_ERRNO', syscalls: [{ names: ['read'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 1, op: 'SCMP_CMP_IN' }] }] } }), 'config.json: linux.seccomp.syscalls[0].args[0].op "SCMP_CMP_IN" is not a seccomp operator (use one of SCMP_CMP_NE, SCMP_CMP_LT, SCMP_CMP_LE, SCMP_CMP_EQ, SCMP_CMP_GE, SCMP_CMP_GT, SCMP_CMP_MASKED_EQ)'],
  ['rootfsPropagation unknown', withLinux({ rootfsPropagation: 'slaved' }), 'config.json: linux.rootfsPropagation "slaved" is not a propagation (use one of private, rprivate, slave, rslave, shared, rshared, unbindable, runbindable)'],
  ['maskedPaths relative', withLinux({ maskedPaths: ['proc/kcore'] }), 'config.json: linux.maskedPaths[0] must be an absolute path, not "proc/kcore" (start it with "/")'],
  ['intelRdt not an object', withLinux({ intelRdt: true }), 'config.json: linux.intelRdt must be an object, not true (make it a JSON object)'],
];

for (const [name, json, message] of malformed) {
  test(`refused: ${name}`, () => assert.is(refusal(json), message));
}

test('text that is not JSON is refused in one line', () => {
  try {
    parseConfigText('{"ociVersion": ');
    assert.unreachable();
  } catch (err) {
    assert.match((err as Error).message, /^config\.json: is not valid JSON: /);
    assert.not.match((err as Error).message, /\n/);
  }
});

test.run();
