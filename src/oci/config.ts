// Parses and validates an OCI runtime-spec config.json (ociVersion 1.0.x to 1.2.x, the Linux
// fields) into typed data. Pure: no fs. Every refusal is one line naming the field and the fix.
//
// Unknown properties are ignored, as config.md's "Extensibility" section requires of a runtime.
// Known fields minidock cannot honour yet are parsed and validated here all the same; plan.ts
// decides which of them it can carry out and lists the rest as unsupported.
import { MinidockError } from '../core/errors.js';
import { CAP_NAMES } from '../spec/caps.js';

export interface OciUser {
  uid: number;
  gid: number;
  umask?: number;
  additionalGids: number[];
}

export interface OciCapabilities {
  bounding: string[];
  effective: string[];
  inheritable: string[];
  permitted: string[];
  ambient: string[];
}

export interface OciRlimit {
  type: string;
  soft: number;
  hard: number;
}

export interface OciProcess {
  terminal: boolean;
  consoleSize?: { height: number; width: number };
  user: OciUser;
  args: string[];
  env: string[];
  cwd: string;
  capabilities?: OciCapabilities;
  rlimits: OciRlimit[];
  noNewPrivileges: boolean;
  apparmorProfile?: string;
  selinuxLabel?: string;
  oomScoreAdj?: number;
  /** Known fields validated only as objects: scheduler, ioPriority, execCPUAffinity. */
  other: string[];
}

export interface OciIdMapping {
  containerID: number;
  hostID: number;
  size: number;
}

export interface OciMount {
  destination: string;
  type?: string;
  source?: string;
  options: string[];
  /** Mount-level idmap (1.2): parsed so that plan.ts can refuse it by name. */
  idmapped: boolean;
}

export interface OciHook {
  path: string;
  args: string[];
  env?: string[];
  timeout?: number;
}

export const HOOK_NAMES = ['prestart', 'createRuntime', 'createContainer', 'startContainer', 'poststart', 'poststop'] as const;
export type HookName = (typeof HOOK_NAMES)[number];

export const NAMESPACE_TYPES = ['pid', 'network', 'mount', 'ipc', 'uts', 'user', 'cgroup', 'time'] as const;
export type NamespaceType = (typeof NAMESPACE_TYPES)[number];

export interface OciNamespace {
  type: NamespaceType;
  path?: string;
}

export interface OciDevice {
  path: string;
  type: string;
  major?: number;
  minor?: number;
  /** Permission bits (the file-type bits a Go os.FileMode may carry are dropped, as runc drops them). */
  fileMode?: number;
  uid?: number;
  gid?: number;
}

/** The seccomp actions a rule may take (config-linux.md, "Seccomp"; SCMP_ACT_NOTIFY is parsed and refused). */
export const SECCOMP_ACTIONS = [
  'SCMP_ACT_KILL', 'SCMP_ACT_KILL_PROCESS', 'SCMP_ACT_KILL_THREAD', 'SCMP_ACT_TRAP', 'SCMP_ACT_ERRNO', 'SCMP_ACT_TRACE', 'SCMP_ACT_ALLOW', 'SCMP_ACT_LOG',
] as const;
export type SeccompAction = (typeof SECCOMP_ACTIONS)[number];

export const SECCOMP_OPS = ['SCMP_CMP_NE', 'SCMP_CMP_LT', 'SCMP_CMP_LE', 'SCMP_CMP_EQ', 'SCMP_CMP_GE', 'SCMP_CMP_GT', 'SCMP_CMP_MASKED_EQ'] as const;
export type SeccompOp = (typeof SECCOMP_OPS)[number];

/** libseccomp's architecture names, as runc and the spec list them. */
export const SECCOMP_ARCHES = [
  'SCMP_ARCH_X86', 'SCMP_ARCH_X86_64', 'SCMP_ARCH_X32', 'SCMP_ARCH_ARM', 'SCMP_ARCH_AARCH64', 'SCMP_ARCH_MIPS', 'SCMP_ARCH_MIPS64',
  'SCMP_ARCH_MIPS64N32', 'SCMP_ARCH_MIPSEL', 'SCMP_ARCH_MIPSEL64', 'SCMP_ARCH_MIPSEL64N32', 'SCMP_ARCH_PPC', 'SCMP_ARCH_PPC64',
  'SCMP_ARCH_PPC64LE', 'SCMP_ARCH_S390', 'SCMP_ARCH_S390X', 'SCMP_ARCH_PARISC', 'SCMP_ARCH_PARISC64', 'SCMP_ARCH_RISCV64', 'SCMP_ARCH_LOONGARCH64',
] as const;

/** seccomp(2) filter flags the spec names (TSYNC as runc also knows it). */
export const SECCOMP_FLAGS = ['SECCOMP_FILTER_FLAG_TSYNC', 'SECCOMP_FILTER_FLAG_LOG', 'SECCOMP_FILTER_FLAG_SPEC_ALLOW', 'SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV'] as const;

export interface OciSeccompArg {
  index: number;
  /** uint64 in the spec; JSON numbers are exact only up to 2^53 - 1, so that is the limit here. */
  value: number;
  valueTwo: number;
  op: SeccompOp;
}

export interface OciSyscallRule {
  names: string[];
  action: SeccompAction;
  errnoRet?: number;
  args: OciSeccompArg[];
}

export interface OciSeccomp {
  defaultAction: SeccompAction;
  defaultErrnoRet?: number;
  architectures: string[];
  /** Absent and empty differ: runc sets SECCOMP_FILTER_FLAG_SPEC_ALLOW when no flags are given at all. */
  flags?: string[];
  /** Only used by SCMP_ACT_NOTIFY, which is refused: the spec says it is then ignored. */
  listenerPath?: string;
  listenerMetadata?: string;
  syscalls: OciSyscallRule[];
}

export const PROPAGATIONS = ['private', 'rprivate', 'slave', 'rslave', 'shared', 'rshared', 'unbindable', 'runbindable'] as const;

export interface OciLinux {
  namespaces: OciNamespace[];
  uidMappings: OciIdMapping[];
  gidMappings: OciIdMapping[];
  sysctl: Record<string, string>;
  devices: OciDevice[];
  cgroupsPath?: string;
  /** The keys of linux.resources that are set (memory, cpu, devices...). */
  resources: string[];
  seccomp?: OciSeccomp;
  rootfsPropagation?: string;
  maskedPaths: string[];
  readonlyPaths: string[];
  mountLabel?: string;
  /** Known fields validated only as objects: intelRdt, personality, timeOffsets, memoryPolicy, netDevices. */
  other: string[];
}

export interface OciConfig {
  ociVersion: string;
  root: { path: string; readonly: boolean };
  process?: OciProcess;
  hostname?: string;
  domainname?: string;
  mounts: OciMount[];
  hooks: Partial<Record<HookName, OciHook[]>>;
  annotations: Record<string, string>;
  linux?: OciLinux;
}

/** The versions this parser reads: the 1.0, 1.1 and 1.2 series, pre-releases included
 *  (runc 1.1 writes "1.0.2-dev"). A 1.3 config may use fields this code has never seen. */
const VERSION = /^1\.[012]\.(0|[1-9]\d*)(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$/;
const SEMVER = /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$/;

export const RLIMIT_TYPES = [
  'RLIMIT_AS', 'RLIMIT_CORE', 'RLIMIT_CPU', 'RLIMIT_DATA', 'RLIMIT_FSIZE', 'RLIMIT_LOCKS', 'RLIMIT_MEMLOCK',
  'RLIMIT_MSGQUEUE', 'RLIMIT_NICE', 'RLIMIT_NOFILE', 'RLIMIT_NPROC', 'RLIMIT_RSS', 'RLIMIT_RTPRIO',
  'RLIMIT_RTTIME', 'RLIMIT_SIGPENDING', 'RLIMIT_STACK',
] as const;

/** The one error this module throws: `config.json: FIELD PROBLEM (FIX)`. */
export function configError(field: string, problem: string, fix: string): MinidockError {
  return new MinidockError(`config.json: ${field ? `${field} ` : ''}${problem}`, { step: 'oci.config', hint: fix, exitCode: 1 });
}

type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const show = (v: unknown): string => (v === undefined ? 'missing' : JSON.stringify(v));

function obj(v: unknown, field: string, fix = 'make it a JSON object'): Obj {
  if (!isObj(v)) throw configError(field, `must be an object, not ${show(v)}`, fix);
  return v;
}

function str(v: unknown, field: string, fix = 'make it a JSON string'): string {
  if (typeof v !== 'string') throw configError(field, `must be a string, not ${show(v)}`, fix);
  return v;
}

const optStr = (o: Obj, key: string, field: string): string | undefined => (o[key] === undefined ? undefined : str(o[key], field));

function bool(v: unknown, field: string): boolean {
  if (v === undefined) return false;
  if (typeof v !== 'boolean') throw configError(field, `must be true or false, not ${show(v)}`, 'write true or false without quotes');
  return v;
}

function int(v: unknown, field: string, min: number, max: number, fix: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw configError(field, `must be an integer from ${min} to ${max}, not ${show(v)}`, fix);
  }
  return v;
}

const UINT32 = 0xffffffff;
const uint32 = (v: unknown, field: string): number => int(v, field, 0, UINT32, 'give a number from 0 to 4294967295');

function arr(v: unknown, field: string): unknown[] {
  if (v === undefined) return [];
  if (!Array.isArray(v)) throw configError(field, `must be an array, not ${show(v)}`, 'make it a JSON array');
  return v;
}

const strArr = (v: unknown, field: string): string[] => arr(v, field).map((s, i) => str(s, `${field}[${i}]`));

function absPath(v: unknown, field: string): string {
  const s = str(v, field, 'give an absolute path');
  if (!s.startsWith('/')) throw configError(field, `must be an absolute path, not ${show(s)}`, 'start it with "/"');
  return s;
}

function parseVersion(v: unknown): string {
  const s = str(v, 'ociVersion', 'write the spec version the bundle follows, e.g. "1.1.0"');
  if (!SEMVER.test(s)) throw configError('ociVersion', `${show(s)} is not a SemVer version`, 'write e.g. "1.1.0"');
  if (!VERSION.test(s)) throw configError('ociVersion', `${show(s)} is not supported`, 'minidock-runc reads 1.0.x to 1.2.x: write e.g. "1.2.0"');
  return s;
}

function parseRoot(v: unknown): OciConfig['root'] {
  // config.md: optional on some platforms, REQUIRED on Linux.
  if (v === undefined) throw configError('root', 'is missing', 'add "root": {"path": "rootfs"}');
  const o = obj(v, 'root', 'write "root": {"path": "rootfs"}');
  const path = str(o.path, 'root.path', 'give the root filesystem directory, relative to the bundle or absolute');
  if (!path) throw configError('root.path', 'is empty', 'give the root filesystem directory, e.g. "rootfs"');
  return { path, readonly: bool(o.readonly, 'root.readonly') };
}

const CAP_SET = new Set(CAP_NAMES.map((n) => `CAP_${n}`));
const CAP_KINDS = ['bounding', 'effective', 'inheritable', 'permitted', 'ambient'] as const;

function parseCaps(v: unknown): OciCapabilities {
  const o = obj(v, 'process.capabilities');
  const out = {} as OciCapabilities;
  for (const kind of CAP_KINDS) {
    out[kind] = strArr(o[kind], `process.capabilities.${kind}`).map((name, i) => {
      if (!CAP_SET.has(name)) {
        throw configError(`process.capabilities.${kind}[${i}]`, `${show(name)} is not a capability`, 'names as in capabilities(7), with the prefix: "CAP_NET_ADMIN"');
      }
      return name;
    });
  }
  return out;
}

function parseRlimits(v: unknown): OciRlimit[] {
  const seen = new Set<string>();
  return arr(v, 'process.rlimits').map((r, i) => {
    const f = `process.rlimits[${i}]`;
    const o = obj(r, f, 'write {"type": "RLIMIT_NOFILE", "soft": 1024, "hard": 1024}');
    const type = str(o.type, `${f}.type`);
    if (!(RLIMIT_TYPES as readonly string[]).includes(type)) throw configError(`${f}.type`, `${show(type)} is not a resource limit`, 'names as in getrlimit(2), e.g. "RLIMIT_NOFILE"');
    if (seen.has(type)) throw configError(`${f}.type`, `repeats ${type}`, 'give each limit once');
    seen.add(type);
    const n = (x: unknown, k: string): number => int(x, `${f}.${k}`, 0, Number.MAX_SAFE_INTEGER, 'give a non-negative integer');
    const soft = n(o.soft, 'soft');
    const hard = n(o.hard, 'hard');
    if (soft > hard) throw configError(`${f}.soft`, `(${soft}) is above hard (${hard})`, 'a soft limit may not exceed its hard limit (setrlimit(2))');
    return { type, soft, hard };
  });
}

function parseProcess(v: unknown): OciProcess {
  const o = obj(v, 'process');
  const u = obj(o.user, 'process.user', 'write "user": {"uid": 0, "gid": 0}');
  const user: OciUser = {
    uid: uint32(u.uid, 'process.user.uid'),
    gid: uint32(u.gid, 'process.user.gid'),
    additionalGids: arr(u.additionalGids, 'process.user.additionalGids').map((g, i) => uint32(g, `process.user.additionalGids[${i}]`)),
  };
  if (u.umask !== undefined) user.umask = int(u.umask, 'process.user.umask', 0, 0o777, 'give a mode from 0 to 511 (0o777), e.g. 18 for 022');
  const args = strArr(o.args, 'process.args');
  // config.md extends POSIX here: at least one entry is REQUIRED.
  if (!args.length) throw configError('process.args', 'is empty', 'give the command to run, e.g. ["sh"]');
  const env = strArr(o.env, 'process.env');
  env.forEach((e, i) => {
    if (e.indexOf('=') < 1) throw configError(`process.env[${i}]`, `${show(e)} is not NAME=VALUE`, 'write each variable as NAME=VALUE');
  });
  const cwd = absPath(o.cwd, 'process.cwd');
  const p: OciProcess = {
    terminal: bool(o.terminal, 'process.terminal'),
    user,
    args,
    env,
    cwd,
    rlimits: parseRlimits(o.rlimits),
    noNewPrivileges: bool(o.noNewPrivileges, 'process.noNewPrivileges'),
    other: [],
  };
  if (o.consoleSize !== undefined) {
    const c = obj(o.consoleSize, 'process.consoleSize', 'write {"height": 24, "width": 80}');
    p.consoleSize = { height: int(c.height, 'process.consoleSize.height', 0, 65535, 'give rows, 0 to 65535'), width: int(c.width, 'process.consoleSize.width', 0, 65535, 'give columns, 0 to 65535') };
  }
  if (o.capabilities !== undefined) p.capabilities = parseCaps(o.capabilities);
  const apparmor = optStr(o, 'apparmorProfile', 'process.apparmorProfile');
  if (apparmor) p.apparmorProfile = apparmor;
  const selinux = optStr(o, 'selinuxLabel', 'process.selinuxLabel');
  if (selinux) p.selinuxLabel = selinux;
  if (o.oomScoreAdj !== undefined) p.oomScoreAdj = int(o.oomScoreAdj, 'process.oomScoreAdj', -1000, 1000, 'give a number from -1000 to 1000 (proc(5), oom_score_adj)');
  for (const k of ['scheduler', 'ioPriority', 'execCPUAffinity']) {
    if (o[k] !== undefined) {
      obj(o[k], `process.${k}`);
      p.other.push(`process.${k}`);
    }
  }
  return p;
}

function parseMounts(v: unknown): OciMount[] {
  return arr(v, 'mounts').map((m, i) => {
    const f = `mounts[${i}]`;
    const o = obj(m, f, 'write {"destination": "/data", "type": "bind", "source": "/srv/data", "options": ["rbind"]}');
    const destination = str(o.destination, `${f}.destination`, 'give the path inside the container');
    if (!destination) throw configError(`${f}.destination`, 'is empty', 'give the path inside the container, e.g. "/data"');
    const out: OciMount = { destination, options: strArr(o.options, `${f}.options`), idmapped: false };
    const type = optStr(o, 'type', `${f}.type`);
    if (type !== undefined) out.type = type;
    const source = optStr(o, 'source', `${f}.source`);
    if (source !== undefined) out.source = source;
    for (const k of ['uidMappings', 'gidMappings']) {
      if (o[k] !== undefined) {
        parseIdMappings(o[k], `${f}.${k}`);
        out.idmapped = true;
      }
    }
    return out;
  });
}

function parseHooks(v: unknown): OciConfig['hooks'] {
  if (v === undefined) return {};
  const o = obj(v, 'hooks');
  const out: OciConfig['hooks'] = {};
  for (const name of HOOK_NAMES) {
    if (o[name] === undefined) continue;
    out[name] = arr(o[name], `hooks.${name}`).map((h, i) => {
      const f = `hooks.${name}[${i}]`;
      const ho = obj(h, f, 'write {"path": "/usr/bin/hook", "args": ["hook"]}');
      const hook: OciHook = { path: absPath(ho.path, `${f}.path`), args: strArr(ho.args, `${f}.args`) };
      // Absent and empty differ: without "env" a hook gets the runtime's environment, as runc's
      // (Go's exec.Cmd with a nil Env) does; [] is an empty one.
      if (ho.env !== undefined) hook.env = strArr(ho.env, `${f}.env`);
      if (ho.timeout !== undefined) hook.timeout = int(ho.timeout, `${f}.timeout`, 1, 2 ** 31 - 1, 'give seconds, greater than zero');
      return hook;
    });
  }
  return out;
}

function parseStringMap(v: unknown, field: string): Record<string, string> {
  if (v === undefined) return {};
  const o = obj(v, field);
  for (const [k, val] of Object.entries(o)) str(val, `${field}.${k}`);
  return o as Record<string, string>;
}

function parseIdMappings(v: unknown, field: string): OciIdMapping[] {
  return arr(v, field).map((m, i) => {
    const f = `${field}[${i}]`;
    const o = obj(m, f, 'write {"containerID": 0, "hostID": 100000, "size": 65536}');
    const size = uint32(o.size, `${f}.size`);
    if (size === 0) throw configError(`${f}.size`, 'is 0', 'map at least one id');
    return { containerID: uint32(o.containerID, `${f}.containerID`), hostID: uint32(o.hostID, `${f}.hostID`), size };
  });
}

function parseNamespaces(v: unknown): OciNamespace[] {
  const seen = new Set<string>();
  return arr(v, 'linux.namespaces').map((n, i) => {
    const f = `linux.namespaces[${i}]`;
    const o = obj(n, f, 'write {"type": "pid"}');
    const type = str(o.type, `${f}.type`);
    if (!(NAMESPACE_TYPES as readonly string[]).includes(type)) throw configError(`${f}.type`, `${show(type)} is not a namespace type`, `use one of ${NAMESPACE_TYPES.join(', ')}`);
    // config-linux.md: a duplicated namespace type is an error.
    if (seen.has(type)) throw configError(`${f}.type`, `repeats ${type}`, 'give each namespace type once');
    seen.add(type);
    const out: OciNamespace = { type: type as NamespaceType };
    if (o.path !== undefined) out.path = absPath(o.path, `${f}.path`);
    return out;
  });
}

function parseDevices(v: unknown): OciDevice[] {
  return arr(v, 'linux.devices').map((d, i) => {
    const f = `linux.devices[${i}]`;
    const o = obj(d, f, 'write {"path": "/dev/fuse", "type": "c", "major": 10, "minor": 229}');
    const type = str(o.type, `${f}.type`);
    if (!['c', 'b', 'u', 'p'].includes(type)) throw configError(`${f}.type`, `${show(type)} is not a device type`, 'use "c", "b", "u" or "p"');
    const dev: OciDevice = { path: absPath(o.path, `${f}.path`), type };
    if (type !== 'p') {
      dev.major = int(o.major, `${f}.major`, 0, UINT32, 'give the device major number');
      dev.minor = int(o.minor, `${f}.minor`, 0, UINT32, 'give the device minor number');
    }
    if (o.fileMode !== undefined) dev.fileMode = uint32(o.fileMode, `${f}.fileMode`) & 0o7777;
    if (o.uid !== undefined) dev.uid = uint32(o.uid, `${f}.uid`);
    if (o.gid !== undefined) dev.gid = uint32(o.gid, `${f}.gid`);
    return dev;
  });
}

function seccompAction(v: unknown, field: string): SeccompAction {
  const a = str(v, field, 'give an action such as "SCMP_ACT_ERRNO"');
  if (a === 'SCMP_ACT_NOTIFY') throw configError(field, 'SCMP_ACT_NOTIFY is not supported', 'minidock-runc has no seccomp user notification: use SCMP_ACT_ERRNO or SCMP_ACT_KILL_PROCESS');
  if (!(SECCOMP_ACTIONS as readonly string[]).includes(a)) throw configError(field, `${show(a)} is not a seccomp action`, `use one of ${SECCOMP_ACTIONS.join(', ')}`);
  return a as SeccompAction;
}

/** config-linux.md: an errno only goes with SCMP_ACT_ERRNO and SCMP_ACT_TRACE ("the runtime MUST print an error and fail"). */
function seccompErrno(v: unknown, field: string, action: SeccompAction): number | undefined {
  if (v === undefined) return undefined;
  const n = int(v, field, 0, 0xffff, 'give an errno number, e.g. 1 for EPERM (seccomp keeps 16 bits)');
  if (action !== 'SCMP_ACT_ERRNO' && action !== 'SCMP_ACT_TRACE') throw configError(field, `is set for ${action}`, 'only SCMP_ACT_ERRNO and SCMP_ACT_TRACE take an errno: remove it');
  return n;
}

function parseSeccompArg(v: unknown, f: string): OciSeccompArg {
  const o = obj(v, f, 'write {"index": 0, "value": 1, "op": "SCMP_CMP_EQ"}');
  const index = int(o.index, `${f}.index`, 0, 5, 'a system call has arguments 0 to 5');
  const u64 = (x: unknown, k: string): number => int(x, `${f}.${k}`, 0, Number.MAX_SAFE_INTEGER, 'give a non-negative integer below 2^53 (a larger JSON number is not read exactly)');
  const value = u64(o.value, 'value');
  const valueTwo = o.valueTwo === undefined ? 0 : u64(o.valueTwo, 'valueTwo');
  const op = str(o.op, `${f}.op`, 'give an operator such as "SCMP_CMP_EQ"');
  if (!(SECCOMP_OPS as readonly string[]).includes(op)) throw configError(`${f}.op`, `${show(op)} is not a seccomp operator`, `use one of ${SECCOMP_OPS.join(', ')}`);
  return { index, value, valueTwo, op: op as SeccompOp };
}

export function parseSeccomp(v: unknown): OciSeccomp {
  const o = obj(v, 'linux.seccomp');
  const defaultAction = seccompAction(o.defaultAction, 'linux.seccomp.defaultAction');
  const out: OciSeccomp = {
    defaultAction,
    architectures: strArr(o.architectures, 'linux.seccomp.architectures').map((a, i) => {
      if (!(SECCOMP_ARCHES as readonly string[]).includes(a)) throw configError(`linux.seccomp.architectures[${i}]`, `${show(a)} is not a seccomp architecture`, 'names as libseccomp spells them, e.g. "SCMP_ARCH_X86_64"');
      return a;
    }),
    syscalls: [],
  };
  const errno = seccompErrno(o.defaultErrnoRet, 'linux.seccomp.defaultErrnoRet', defaultAction);
  if (errno !== undefined) out.defaultErrnoRet = errno;
  if (o.flags !== undefined) {
    out.flags = strArr(o.flags, 'linux.seccomp.flags').map((fl, i) => {
      if (!(SECCOMP_FLAGS as readonly string[]).includes(fl)) throw configError(`linux.seccomp.flags[${i}]`, `${show(fl)} is not a seccomp filter flag`, `use one of ${SECCOMP_FLAGS.join(', ')}`);
      return fl;
    });
  }
  const listener = optStr(o, 'listenerPath', 'linux.seccomp.listenerPath');
  if (listener) out.listenerPath = listener;
  const metadata = optStr(o, 'listenerMetadata', 'linux.seccomp.listenerMetadata');
  // config-linux.md: listenerMetadata MUST NOT be set without listenerPath.
  if (metadata && !listener) throw configError('linux.seccomp.listenerMetadata', 'is set without listenerPath', 'remove it: it is only sent to a seccomp agent');
  if (metadata) out.listenerMetadata = metadata;
  out.syscalls = arr(o.syscalls, 'linux.seccomp.syscalls').map((r, i) => {
    const f = `linux.seccomp.syscalls[${i}]`;
    const ro = obj(r, f, 'write {"names": ["getcwd"], "action": "SCMP_ACT_ERRNO"}');
    const names = strArr(ro.names, `${f}.names`);
    if (!names.length) throw configError(`${f}.names`, 'is empty', 'name at least one system call, e.g. ["getcwd"]');
    names.forEach((n, j) => {
      if (!n) throw configError(`${f}.names[${j}]`, 'is empty', 'give a system call name, e.g. "getcwd"');
    });
    const action = seccompAction(ro.action, `${f}.action`);
    const rule: OciSyscallRule = { names, action, args: arr(ro.args, `${f}.args`).map((a, j) => parseSeccompArg(a, `${f}.args[${j}]`)) };
    const ret = seccompErrno(ro.errnoRet, `${f}.errnoRet`, action);
    if (ret !== undefined) rule.errnoRet = ret;
    return rule;
  });
  return out;
}

function parseLinux(v: unknown): OciLinux {
  const o = obj(v, 'linux');
  const out: OciLinux = {
    namespaces: parseNamespaces(o.namespaces),
    uidMappings: parseIdMappings(o.uidMappings, 'linux.uidMappings'),
    gidMappings: parseIdMappings(o.gidMappings, 'linux.gidMappings'),
    sysctl: parseStringMap(o.sysctl, 'linux.sysctl'),
    devices: parseDevices(o.devices),
    resources: o.resources === undefined ? [] : Object.keys(obj(o.resources, 'linux.resources')),
    maskedPaths: arr(o.maskedPaths, 'linux.maskedPaths').map((p, i) => absPath(p, `linux.maskedPaths[${i}]`)),
    readonlyPaths: arr(o.readonlyPaths, 'linux.readonlyPaths').map((p, i) => absPath(p, `linux.readonlyPaths[${i}]`)),
    other: [],
  };
  const cgroupsPath = optStr(o, 'cgroupsPath', 'linux.cgroupsPath');
  if (cgroupsPath) out.cgroupsPath = cgroupsPath;
  if (o.seccomp !== undefined) out.seccomp = parseSeccomp(o.seccomp);
  const prop = optStr(o, 'rootfsPropagation', 'linux.rootfsPropagation');
  if (prop !== undefined) {
    if (!(PROPAGATIONS as readonly string[]).includes(prop)) throw configError('linux.rootfsPropagation', `${show(prop)} is not a propagation`, `use one of ${PROPAGATIONS.join(', ')}`);
    out.rootfsPropagation = prop;
  }
  const label = optStr(o, 'mountLabel', 'linux.mountLabel');
  if (label) out.mountLabel = label;
  for (const k of ['intelRdt', 'personality', 'timeOffsets', 'memoryPolicy', 'netDevices']) {
    if (o[k] !== undefined) {
      obj(o[k], `linux.${k}`);
      out.other.push(`linux.${k}`);
    }
  }
  const hasUserns = out.namespaces.some((n) => n.type === 'user');
  // runc's rules: mappings belong to a user namespace, and a new user namespace needs them.
  for (const k of ['uidMappings', 'gidMappings'] as const) {
    const creating = out.namespaces.some((n) => n.type === 'user' && !n.path);
    if (out[k].length && !hasUserns) throw configError(`linux.${k}`, 'is set without a user namespace', 'add {"type": "user"} to linux.namespaces, or remove the mappings');
    if (creating && !out[k].length) throw configError(`linux.${k}`, 'is missing for the new user namespace', 'map the container\'s ids, e.g. [{"containerID": 0, "hostID": 100000, "size": 65536}]');
  }
  return out;
}

/** Parses config.json's text. */
export function parseConfigText(text: string): OciConfig {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw configError('', `is not valid JSON: ${(err as Error).message}`, 'fix the syntax');
  }
  return parseConfig(json);
}

export function parseConfig(json: unknown): OciConfig {
  const o = obj(json, '(the document)', 'config.json holds one JSON object');
  const config: OciConfig = {
    ociVersion: parseVersion(o.ociVersion),
    root: parseRoot(o.root),
    mounts: parseMounts(o.mounts),
    hooks: parseHooks(o.hooks),
    annotations: parseStringMap(o.annotations, 'annotations'),
  };
  if (o.process !== undefined) config.process = parseProcess(o.process);
  for (const k of ['hostname', 'domainname'] as const) {
    const name = optStr(o, k, k);
    if (name === undefined) continue;
    // sethostname(2)/setdomainname(2): at most 64 bytes (HOST_NAME_MAX).
    if (Buffer.byteLength(name) > 64) throw configError(k, `is ${Buffer.byteLength(name)} bytes long`, 'the kernel takes at most 64');
    config[k] = name;
  }
  if (o.linux !== undefined) config.linux = parseLinux(o.linux);
  return config;
}
