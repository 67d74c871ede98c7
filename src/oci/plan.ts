// Translates a parsed OCI config and its bundle directory into minidock's child plan, as far as
// that plan can express it today; what it cannot is listed by field name in `unsupported`, and
// the CLI refuses such a config rather than run it differently. Pure: the facts it needs about
// the host (is a path a file or a directory, the host's hostname) come in as arguments.
//
// Fields ignored on purpose, because ignoring them changes nothing a container can observe:
// - annotations: opaque to the runtime (config.md); they are recorded and shown by `state`.
// - filesystem data options ("mode=755") on a bind mount: the kernel takes no data for MS_BIND
//   (runc passes them to mount(2), which ignores them; runtime-tools' mounts test gives them).
// - process.consoleSize: not a child step; the CLI sets the size on the pty master before the
//   master is handed to the console socket (it is returned here as `consoleSize`).
import { posix } from 'node:path';
import { DEV_NODES, cgroupMountOps, type CapSets, type ChildHook, type ChildPlan, type MountAfter, type PlanOp } from '../runtime/child-plan.js';
import type { CgroupDir } from '../cgroup/plan.js';
import { CAP_NAMES } from '../spec/caps.js';
import { hostId } from '../spec/userns.js';
import { configError, type OciConfig, type OciDevice, type OciIdMapping, type OciMount, type OciProcess } from './config.js';
import { compileSeccomp } from './seccomp.js';

/** What the planner may ask of the host; the CLI passes the real filesystem, tests a fake. */
export interface HostFacts {
  /** What is at a host path, following symlinks: undefined when nothing is. */
  kind(path: string): 'file' | 'dir' | undefined;
  /** A new UTS namespace starts as a copy of the host's names: a config without "hostname"
   *  keeps that copy (runc leaves it alone), so the plan sets it to the host's. */
  hostname: string;
  /** The architecture linux.seccomp is compiled for (compileSeccomp's names): x86_64 unless said. */
  arch?: string;
  /** Whether a namespace path is the network namespace the runtime runs in (linux.sysctl's net.*
   *  keys are refused there). Unknown (absent): taken as the host's. */
  hostNetns?(path: string): boolean;
  /** The host's device nodes (--privileged gives them all); read only when asked. */
  devices?(): OciDevice[];
}

export interface OciPlanInput {
  /** Absolute path of the bundle: root.path and relative mount sources are resolved from it. */
  bundle: string;
  /** The pty slave for process.terminal (the CLI opened the pair; the master goes to the
   *  console socket). */
  tty?: string;
  /** The container's cgroups, when the caller made them: needed for a "cgroup" mount. */
  cgroups?: readonly CgroupDir[];
  /** The container's stdin, stdout and stderr: the runtime's own unless a terminal is used. */
  stdio?: [number, number, number];
  /** OCI create: the FIFO the set-up child waits on before execve, until `start` reads it. */
  execFifo?: string;
  /** The state JSON the child's hooks (createContainer, startContainer) get on stdin, cut
   *  where the child puts its pid (the CLI's stateJson with a placeholder pid). */
  hookState?: { pre: string; post: string };
  /** A root the caller's image store prepares in the child's mount namespace, instead of
   *  root.path bound onto itself: `minidock run`'s overlay of the image (containerd's snapshotter
   *  does this part for runc, on the host; minidock does it inside the container's namespace, so
   *  nothing is left mounted on the host). `overlay` is overlayfs's option string; an idmapped
   *  image is attached at `lowerMnt` first and named there as the lower layer; relative
   *  lowerdirs (a layered image's short names) are resolved in `cwd`. */
  root?: { overlay: string; cwd?: string; idmapLower?: string; lowerMnt?: string };
  /** eth0 for a container on minidock's bridge: the veth the caller moves into the new network
   *  namespace, addressed and routed by the child (what a CNI plugin does for runc's callers). */
  eth?: { ip: string; prefix: number; gateway: string };
  /** The container's filter is minidock's default for its bounding set: linux.seccomp is (or,
   *  left out of the config, would be) src/oci/seccomp-profile.ts's profile, and the native
   *  helper's built-in filter (native/src/seccomp.c) gives the same verdict for every x86_64 call
   *  and argument (test/unit/oci-from-spec.test.ts checks each). It is installed instead of
   *  building and compiling the profile, ~10 ms a run. Only `minidock run` says so. */
  builtinSeccomp?: boolean;
}

export interface OciPlan {
  child: ChildPlan;
  /** The root filesystem's host path (root.path resolved against the bundle). */
  rootfs: string;
  /** Namespaces the container joins rather than creates (linux.namespaces[].path). */
  /** No mount namespace at all: the container's tree is made in the runtime's. */
  runtimeMounts?: boolean;
  joins: Array<{ type: string; path: string }>;
  consoleSize?: { height: number; width: number };
  /** Fields the plan cannot carry out, by name: the CLI refuses the config when any is here. */
  unsupported: string[];
}

/** OCI's namespace names, as the plan (and plan.c) spells them. */
const NS_NAME: Record<string, string> = { pid: 'pid', network: 'net', mount: 'mnt', ipc: 'ipc', uts: 'uts', user: 'user', cgroup: 'cgroup' };

/** Mount options that set an MS_* flag (plan.c knows each by the option's own name). */
const FLAG_OPTIONS = ['ro', 'nosuid', 'nodev', 'noexec', 'strictatime', 'relatime', 'noatime', 'nodiratime', 'sync', 'dirsync', 'mand', 'nosymfollow', 'remount', 'silent', 'iversion', 'lazytime'] as const;
/** Options that clear one (runc's meaning: an earlier option's flag is dropped again). */
const CLEAR_OPTIONS: Readonly<Record<string, string>> = {
  rw: 'ro', suid: 'nosuid', dev: 'nodev', exec: 'noexec', nostrictatime: 'strictatime', norelatime: 'relatime', atime: 'noatime',
  diratime: 'nodiratime', async: 'sync', nomand: 'mand', symfollow: 'nosymfollow', loud: 'silent', noiversion: 'iversion', nolazytime: 'lazytime',
};
/** Propagation options: each is one mount(2) call after the mount, in the order given. */
export const PROPAGATION: Readonly<Record<string, string>> = {
  private: 'private', rprivate: 'rec,private', slave: 'slave', rslave: 'rec,slave', shared: 'shared', rshared: 'rec,shared', unbindable: 'unbindable', runbindable: 'rec,unbindable',
};
/** Recursive options (mount_setattr(2) with AT_RECURSIVE): the attribute each sets or clears.
 *  The atime ones name a value of the one atime field; "ratime", "rnorelatime" and
 *  "rnostrictatime" go back to relatime, the field's 0, as they do in runc. */
const REC_OPTIONS: Readonly<Record<string, { set?: string; clr?: string; atime?: string }>> = {
  rro: { set: 'ro' }, rrw: { clr: 'ro' }, rnosuid: { set: 'nosuid' }, rsuid: { clr: 'nosuid' }, rnodev: { set: 'nodev' }, rdev: { clr: 'nodev' },
  rnoexec: { set: 'noexec' }, rexec: { clr: 'noexec' }, rnodiratime: { set: 'nodiratime' }, rdiratime: { clr: 'nodiratime' },
  rnosymfollow: { set: 'nosymfollow' }, rsymfollow: { clr: 'nosymfollow' },
  rnoatime: { atime: 'noatime' }, rstrictatime: { atime: 'strictatime' }, rrelatime: { atime: 'relatime' },
  ratime: { atime: 'relatime' }, rnorelatime: { atime: 'relatime' }, rnostrictatime: { atime: 'relatime' },
};
/** Options runc knows that the plan cannot carry out (a field named in `unsupported`), and why. */
const UNSUPPORTED_OPTIONS: Readonly<Record<string, string>> = {
  tmpcopyup: 'copying the image\'s files into a fresh tmpfs', idmap: 'idmapped mounts', ridmap: 'idmapped mounts',
};

/** The options a config may use (features.json's mountOptions): filesystem data such as
 *  "mode=755" comes on top, passed to mount(2) as its data string. */
export const MOUNT_OPTIONS: readonly string[] = ['bind', 'rbind', 'defaults', ...FLAG_OPTIONS, ...Object.keys(CLEAR_OPTIONS), ...Object.keys(PROPAGATION), ...Object.keys(REC_OPTIONS)];

const capBit = (name: string): bigint => 1n << BigInt(CAP_NAMES.indexOf(name.slice(4) as (typeof CAP_NAMES)[number]));
const sameSet = (a: string[], b: string[]): boolean => new Set(a).size === new Set(b).size && a.every((x) => b.includes(x));

/** "CONTAINER HOST SIZE" lines, what /proc/PID/uid_map takes in one write. */
const idMapText = (m: OciIdMapping[]): string => m.map((r) => `${r.containerID} ${r.hostID} ${r.size}`).join('\n');

/** A destination as the child resolves it: absolute (runc takes a relative one as relative to
 *  "/"), normalised, so no ".." is left for plan.c to refuse. */
export function containerPath(dest: string): string {
  const p = posix.normalize(`/${dest}`);
  return p.length > 1 ? p.replace(/\/$/, '') : p;
}

/** The capability masks the plan takes. One mask (`caps`) when it says it all, the path
 *  `minidock run` takes too: bounding = permitted = effective for root, bounding only for another
 *  uid, nothing inheritable or ambient. Otherwise the five sets as given (`capSets`), with `caps`
 *  the bounding set; what the kernel refuses of them (effective outside permitted, inheritable
 *  outside bounding) fails in the child at child.caps.set, as it fails in runc. */
export function planCaps(p: OciProcess): { caps?: string; capSets?: CapSets } {
  const c = p.capabilities;
  // No capabilities object: runc leaves the process's capabilities as they are (all of root's).
  if (!c) return {};
  const mask = (names: string[]): string => names.reduce((m, n) => m | capBit(n), 0n).toString(16);
  const caps = mask(c.bounding);
  // container.c gives root exactly the bounding set in both; any other uid loses both at
  // setresuid, as execve would without file capabilities.
  const oneMask = !c.inheritable.length && !c.ambient.length
    && (['effective', 'permitted'] as const).every((k) => (p.user.uid === 0 ? sameSet(c[k], c.bounding) : c[k].length === 0));
  if (oneMask) return { caps };
  return { caps, capSets: { bounding: caps, effective: mask(c.effective), inheritable: mask(c.inheritable), permitted: mask(c.permitted), ambient: mask(c.ambient) } };
}

interface MountPlan {
  ops: PlanOp[];
  unsupported: string[];
}

/** One mount's options sorted out as runc sorts them: MS_* flags (a clearing option drops an
 *  earlier one), bind or rbind, propagation changes and recursive attributes for after the
 *  mount, and the rest as the filesystem's data. What the plan cannot do goes to `unsupported`. */
function parseOptions(m: OciMount, field: string, unsupported: string[]): { flags: string[]; data: string[]; bind: boolean; rec: boolean; after: MountAfter } {
  const flags = new Set<string>();
  const data: string[] = [];
  const propagation: string[] = [];
  const recSet = new Set<string>();
  const recClr = new Set<string>();
  let atime: string | undefined;
  let bind = m.type === 'bind';
  let rec = false;
  for (const opt of m.options) {
    const r = REC_OPTIONS[opt];
    if (opt === 'bind' || opt === 'rbind') {
      bind = true;
      rec ||= opt === 'rbind';
    } else if ((FLAG_OPTIONS as readonly string[]).includes(opt)) flags.add(opt);
    else if (CLEAR_OPTIONS[opt]) flags.delete(CLEAR_OPTIONS[opt]!);
    else if (PROPAGATION[opt]) propagation.push(PROPAGATION[opt]!);
    else if (r) {
      if (r.set) (recSet.add(r.set), recClr.delete(r.set));
      if (r.clr) (recClr.add(r.clr), recSet.delete(r.clr));
      if (r.atime) atime = r.atime;
    } else if (UNSUPPORTED_OPTIONS[opt]) unsupported.push(`${field}.options "${opt}" (${UNSUPPORTED_OPTIONS[opt]})`);
    else if (opt !== 'defaults') data.push(opt);
  }
  if (propagation.length > 4) unsupported.push(`${field}.options (more than 4 propagation options)`);
  // mount_setattr(2): an atime value takes the whole field (MOUNT_ATTR__ATIME) in attr_clr.
  if (atime) (recSet.add(atime), recClr.add('atime'));
  const after: MountAfter = {};
  if (propagation.length) after.propagation = propagation;
  if (recSet.size) after.recSet = [...recSet].join(',');
  if (recClr.size) after.recClr = [...recClr].join(',');
  // A bind mount takes no data (see the header): dropped, not guessed at.
  return { flags: [...flags], data: bind ? [] : data, bind, rec, after };
}

/** Who the container is, as far as its mounts care: a cgroup namespace of its own, and a user
 *  namespace without a network namespace of its own (sysfs then cannot be mounted). */
interface MountContext {
  ownCgroupns: boolean;
  sysfsBind: boolean;
}

function planMount(m: OciMount, i: number, input: OciPlanInput, facts: HostFacts, ctx: MountContext): MountPlan {
  const field = `mounts[${i}]`;
  const dst = containerPath(m.destination);
  const unsupported: string[] = [];
  if (m.idmapped) unsupported.push(`${field}.uidMappings`);
  const { flags, data, bind, rec, after } = parseOptions(m, field, unsupported);
  if (bind) {
    if (m.source === undefined) throw configError(`${field}.source`, 'is missing for a bind mount', 'give the host path to bind');
    const src = posix.resolve(input.bundle, m.source);
    const kind = facts.kind(src);
    if (!kind) throw configError(`${field}.source`, `${JSON.stringify(src)} does not exist`, 'create it, or fix the path (a relative source is relative to the bundle)');
    const f = [...(rec ? ['rec'] : []), ...flags].join(',');
    return { ops: [{ op: 'bind', src, dst, file: kind === 'file', ...(f ? { flags: f } : {}), ...after }], unsupported };
  }
  const type = m.type ?? '';
  if (!type) throw configError(`${field}.type`, 'is missing', 'give the filesystem type, e.g. "tmpfs", or "bind" with the "rbind" option');
  if (type === 'cgroup' || type === 'cgroup2') {
    // OCI's cgroup mount means "the container's own cgroups", not the host's hierarchy.
    if (!input.cgroups) return { ops: [], unsupported: [...unsupported, `${field} (type ${type}: the container's cgroups are not made yet)`] };
    // The hierarchies' mounts take the config's flags; their tmpfs (on v1) keeps its own.
    const mask = flags.join(',');
    const dirs = input.cgroups;
    // Propagation and recursive options go to each of the mounts it becomes (podman's has
    // "rprivate"): the hierarchies are mounted one by one, none is below another at the time.
    const ops = cgroupMountOps(dirs).map((op): PlanOp => {
      if (op.op !== 'mount' && op.op !== 'bind') return op;
      if (op.op !== 'mount' || op.type === 'tmpfs') return { ...op, ...after };
      // Without a cgroup namespace of its own a fresh cgroup mount would show the host's whole
      // hierarchy (the container's limits one level down, everyone else's beside them): bind
      // the container's own directory there instead, as runc does.
      if (!ctx.ownCgroupns) {
        const dir = op.type === 'cgroup2' ? dirs.find((d) => d.version === 2) : dirs.find((d) => d.version === 1 && d.controllers.join(',') === op.data);
        if (dir) return { op: 'bind', src: dir.path, dst: op.dst, file: false, flags: ['rec', ...flags].join(','), ...after };
      }
      const { flags: _given, ...rest } = op;
      return mask ? { ...rest, flags: mask, ...after } : { ...rest, ...after };
    });
    return { ops, unsupported };
  }
  // sysfs shows the network namespace of whoever mounts it, and the kernel lets a user namespace
  // mount it only over a network namespace it owns. In the host's or another container's (no
  // network namespace of the container's own) that is not ours: the host's /sys is bound
  // read-only instead, as runc does when the mount is refused.
  if (type === 'sysfs' && ctx.sysfsBind) {
    return { ops: [{ op: 'bind', src: '/sys', dst, file: false, flags: ['rec', ...new Set([...flags, 'ro', 'nosuid', 'nodev', 'noexec'])].join(','), ...after }], unsupported };
  }
  const op: PlanOp = { op: 'mount', src: m.source ?? type, dst, type };
  if (flags.length) op.flags = flags.join(',');
  if (data.length) op.data = data.join(',');
  return { ops: [{ ...op, ...after }], unsupported };
}

/** Where a masked or read-only path is judged file or directory: /proc and /sys from the
 *  host's (the same kernel), anything else in the rootfs. */
function kindInContainer(path: string, rootfs: string, facts: HostFacts): 'file' | 'dir' | undefined {
  return /^\/(proc|sys)(\/|$)/.test(path) ? facts.kind(path) : facts.kind(`${rootfs}${path}`);
}

/** runc's default devices (runtime-linux.md's list), bound from the host as minidock does
 *  (mknod is not allowed in a user namespace), the /dev symlinks, and /dev/console for a tty.
 *  Skipped when the config binds /dev itself, as runc skips them then. */
function planDev(config: OciConfig, tty: string | undefined, facts: HostFacts): PlanOp[] {
  if (config.mounts.some((m) => containerPath(m.destination) === '/dev' && (m.type === 'bind' || m.options.some((o) => o === 'bind' || o === 'rbind')))) return [];
  // A default node the config lists itself is made as the config says (planDevices), as runc
  // lets linux.devices replace its defaults.
  const listed = new Set((config.linux?.devices ?? []).map((d) => containerPath(d.path)));
  const ops: PlanOp[] = DEV_NODES.filter((n) => !listed.has(`/dev/${n}`)).map((n): PlanOp => ({ op: 'bind', src: `/dev/${n}`, dst: `/dev/${n}`, file: true }));
  ops.push(
    { op: 'symlink', src: 'pts/ptmx', dst: '/dev/ptmx' },
    { op: 'symlink', src: '/proc/self/fd', dst: '/dev/fd' },
    { op: 'symlink', src: '/proc/self/fd/0', dst: '/dev/stdin' },
    { op: 'symlink', src: '/proc/self/fd/1', dst: '/dev/stdout' },
    { op: 'symlink', src: '/proc/self/fd/2', dst: '/dev/stderr' },
  );
  if (facts.kind('/proc/kcore')) ops.push({ op: 'symlink', src: '/proc/kcore', dst: '/dev/core' });
  if (tty) ops.push({ op: 'bind', src: tty, dst: '/dev/console', file: true });
  return ops;
}

/** linux.devices, after the mounts (the config's /dev tmpfs among them): mknod with the
 *  config's mode and owner (0666 root:root when absent, runc's defaults). In a user namespace
 *  the kernel refuses mknod of a device, so the host's node at the same path is bound there,
 *  as runc does; a FIFO needs no privilege and is made either way. /dev/ptmx is skipped: it is
 *  the symlink to the devpts instance (planDev), as runc keeps it. */
export function planDevices(devices: readonly OciDevice[], userns: boolean, facts: Pick<HostFacts, 'kind'>): PlanOp[] {
  const ops: PlanOp[] = [];
  devices.forEach((d, i) => {
    const dst = containerPath(d.path);
    if (dst === '/dev/ptmx') return;
    if (userns && d.type !== 'p') {
      if (!facts.kind(dst)) throw configError(`linux.devices[${i}].path`, `${JSON.stringify(dst)} is not on the host, and a user namespace cannot make device nodes`, 'create the node on the host (it is bound from there), or leave the user namespace out');
      ops.push({ op: 'bind', src: dst, dst, file: true });
      return;
    }
    ops.push({ op: 'mknod', dst, type: d.type as 'c' | 'u' | 'b' | 'p', major: d.major ?? 0, minor: d.minor ?? 0, mode: d.fileMode ?? 0o666, uid: d.uid ?? 0, gid: d.gid ?? 0 });
  });
  return ops;
}

/** The namespace a sysctl belongs to, by runc's list (libcontainer/configs/validate): undefined
 *  when it belongs to none the container can have of its own. */
export function sysctlNamespace(key: string): 'ipc' | 'network' | 'uts' | 'user' | undefined {
  const IPC = ['kernel.msgmax', 'kernel.msgmnb', 'kernel.msgmni', 'kernel.sem', 'kernel.shmall', 'kernel.shmmax', 'kernel.shmmni', 'kernel.shm_rmid_forced', 'kernel.msg_next_id', 'kernel.sem_next_id', 'kernel.shm_next_id'];
  if (IPC.includes(key) || key.startsWith('fs.mqueue.')) return 'ipc';
  if (key.startsWith('net.')) return 'network';
  if (key === 'kernel.domainname' || key === 'kernel.hostname') return 'uts';
  if (key.startsWith('user.')) return 'user';
  return undefined;
}

const SYSCTL_NS: Readonly<Record<'ipc' | 'network' | 'uts' | 'user', { name: string; fix: string }>> = {
  ipc: { name: 'an IPC', fix: 'add {"type": "ipc"} to linux.namespaces' },
  network: { name: 'a network', fix: 'give the container a network namespace of its own ({"type": "network"})' },
  uts: { name: 'a UTS', fix: 'add {"type": "uts"} to linux.namespaces' },
  user: { name: 'a user', fix: 'add {"type": "user"} to linux.namespaces' },
};

/**
 * linux.sysctl as ops: each value written to the container's /proc/sys (container.c,
 * write_sysctl), refused unless the key belongs to a namespace the container has of its own, as
 * runc refuses it: written anywhere else it would change the host. A key is dotted
 * ("net.ipv4.ip_forward") or a path ("net/ipv4/conf/eth0.100/forwarding", where a dot is part
 * of a name). `netns` says whether the container's network namespace is not the host's (its own,
 * or a joined one that is some other container's).
 */
export function planSysctl(sysctl: Readonly<Record<string, string>>, own: { ipc: boolean; uts: boolean; user: boolean; netns: boolean }): PlanOp[] {
  return Object.entries(sysctl).map(([key, value]): PlanOp => {
    const field = `linux.sysctl[${JSON.stringify(key)}]`;
    const parts = key.split(key.includes('/') ? '/' : '.');
    if (parts.some((p) => p === '' || p === '.' || p === '..')) throw configError(field, 'is not a sysctl name', 'write it as "net.ipv4.ip_forward" or "net/ipv4/ip_forward"');
    // Dots for the namespace rules, as runc compares them.
    const dotted = key.includes('/') ? parts.map((p) => p.replace(/\./g, '/')).join('.') : key;
    const ns = sysctlNamespace(dotted);
    if (!ns) throw configError(field, 'belongs to no namespace a container can have: writing it would change the host', 'remove it, or set it on the host');
    if (dotted === 'kernel.hostname' && own.uts) throw configError(field, 'conflicts with the "hostname" field', 'set "hostname" instead');
    const has = ns === 'ipc' ? own.ipc : ns === 'uts' ? own.uts : ns === 'user' ? own.user : own.netns;
    if (!has) throw configError(field, `needs ${SYSCTL_NS[ns].name} namespace of the container's own: writing it would change the host's`, SYSCTL_NS[ns].fix);
    return { op: 'sysctl', dst: `/proc/sys/${parts.join('/')}`, value };
  });
}

/** linux.rootfsPropagation as the child carries it out (runc's prepareRoot and what follows
 *  pivot_root): `tree` for the whole inherited mount tree before the first mount, `root` for the
 *  container's / once it is "/". The tree is never made shared: until pivot_root it holds the
 *  host's mounts, and a shared one would hand them (and every mount below the rootfs) back. So
 *  "shared" and "unbindable" are applied after pivot_root, the rest (slave, runc's default when
 *  none is given) before; "slave" covers the whole tree, as a non-recursive one would leave the
 *  host's submounts peers of the host's. */
export function planRootPropagation(prop: string | undefined): { tree: string; root?: string } {
  if (prop === 'private' || prop === 'rprivate') return { tree: 'rec,private' };
  if (prop === undefined || prop === 'slave' || prop === 'rslave') return { tree: 'rec,slave' };
  return { tree: 'rec,slave', root: PROPAGATION[prop]! };
}

/** linux.maskedPaths and linux.readonlyPaths, after every mount: a file is covered by
 *  /dev/null, a directory by an empty read-only tmpfs; a read-only path is bound onto itself
 *  and remounted read-only. A path that does not exist is skipped, as runc skips it. */
function planHardening(linux: NonNullable<OciConfig['linux']>, rootfs: string, facts: HostFacts): PlanOp[] {
  const ops: PlanOp[] = [];
  for (const raw of linux.readonlyPaths) {
    const p = containerPath(raw);
    const kind = kindInContainer(p, rootfs, facts);
    if (kind) ops.push({ op: 'bind', src: `${rootfs}${p}`, dst: p, file: kind === 'file', flags: 'rec,ro', optional: true });
  }
  for (const raw of linux.maskedPaths) {
    const p = containerPath(raw);
    const kind = kindInContainer(p, rootfs, facts);
    // runc's tmpfs is only read-only; an empty one can do without setuid, devices and exec too.
    if (kind === 'dir') ops.push({ op: 'mount', src: 'tmpfs', dst: p, type: 'tmpfs', flags: 'ro,nosuid,nodev,noexec', data: 'size=0', optional: true });
    else if (kind === 'file') ops.push({ op: 'bind', src: '/dev/null', dst: p, file: true, optional: true });
  }
  return ops;
}

/** Every field the plan cannot carry out yet, in config order. */
function unsupportedFields(config: OciConfig): string[] {
  const out: string[] = [];
  const p = config.process;
  const l = config.linux;
  if (p) {
    if (p.apparmorProfile) out.push('process.apparmorProfile');
    if (p.selinuxLabel) out.push('process.selinuxLabel');
    out.push(...p.other);
  }
  // linux.cgroupsPath and linux.resources are the caller's: the cgroups are made and the child
  // put in them between clone and "go" (oci/cgroups.ts for minidock-runc, run-cgroup.ts for
  // minidock run), each naming what of them it cannot do.
  if (l) {
    if (l.mountLabel) out.push('linux.mountLabel');
    out.push(...l.other);
  }
  return out;
}

/** createContainer and startContainer, run by the child itself (the other hooks are the CLI's:
 *  src/oci/hooks.ts). */
function childHooks(config: OciConfig, input: OciPlanInput): Pick<ChildPlan, 'hooks' | 'hookState'> {
  const hooks = (['createContainer', 'startContainer'] as const).flatMap((when) =>
    (config.hooks[when] ?? []).map((h): ChildHook => ({ when, path: h.path, args: h.args, ...(h.env ? { env: h.env } : {}), ...(h.timeout ? { timeout: h.timeout } : {}) })));
  if (!hooks.length) return {};
  // Without a state (the CLI's first, probing plan) plan.c would refuse the hooks: only the plan
  // that is run needs one.
  return { hooks, ...(input.hookState ? { hookState: input.hookState } : {}) };
}

/** OCI's names of the namespaces the child joins itself (plan key join), as plan.c spells them. */
const CHILD_JOINS: Record<string, string> = { ipc: 'ipc', uts: 'uts', cgroup: 'cgroup', mount: 'mnt', user: 'user' };

/** Who joins what: the network and PID namespaces are entered by the parent's thread around
 *  clone3 (netns, pidns: container.c explains why), the others by the child (join). */
export function planJoins(joins: ReadonlyArray<{ type: string; path: string }>): { child: Pick<ChildPlan, 'pidns' | 'joins'>; unsupported: string[] } {
  const unsupported: string[] = [];
  const child: Pick<ChildPlan, 'pidns' | 'joins'> = {};
  for (const j of joins) {
    if (j.type === 'pid') child.pidns = j.path;
    else if (CHILD_JOINS[j.type]) (child.joins ??= []).push({ ns: CHILD_JOINS[j.type]!, path: j.path });
    else if (j.type !== 'network') unsupported.push(`linux.namespaces (joining the ${j.type} namespace ${j.path})`);
  }
  // With a joined user namespace the new ones are unshared by the child after it joined, so
  // that they belong to it; for a PID namespace the child then forks the container's PID 1
  // (runc's second fork: native/src/container.c join_namespaces). So every subset of new and
  // joined namespaces is carried out.
  return { child, unsupported };
}

export function planOci(config: OciConfig, input: OciPlanInput, facts: HostFacts): OciPlan {
  const p = config.process;
  if (!p) throw configError('process', 'is missing', 'add "process" with "args", "cwd" and "user": the container needs a program to run');
  const linux = config.linux ?? { namespaces: [], uidMappings: [], gidMappings: [], sysctl: {}, devices: [], resources: [], maskedPaths: [], readonlyPaths: [], other: [] };
  const unsupported = unsupportedFields(config);
  const rootfs = posix.resolve(input.bundle, config.root.path);

  const created = linux.namespaces.filter((n) => !n.path).map((n) => n.type);
  const joins = linux.namespaces.filter((n) => n.path).map((n) => ({ type: n.type, path: n.path! }));
  const joinsOf = planJoins(joins);
  unsupported.push(...joinsOf.unsupported);
  if (created.includes('time')) unsupported.push('linux.namespaces (a time namespace)');
  // A joined mount namespace is shared on purpose by whoever made it; none at all means the
  // runtime's (as runc reads it): the container's tree is made there, and the CLI detaches it
  // again at delete (oci/root-mount.ts). Either way the child chroots (container.c).
  const mntJoined = joins.some((j) => j.type === 'mount');
  const runtimeMounts = !created.includes('mount') && !mntJoined;
  const uts = created.includes('uts');
  // A joined UTS namespace counts: runc sets the name in it too.
  const utsJoined = joins.some((j) => j.type === 'uts');
  const anyUts = linux.namespaces.some((n) => n.type === 'uts');
  if (config.hostname && !anyUts) throw configError('hostname', 'is set without a new UTS namespace', 'add {"type": "uts"} to linux.namespaces, or remove "hostname"');
  if (config.domainname && !anyUts) throw configError('domainname', 'is set without a new UTS namespace', 'add {"type": "uts"} to linux.namespaces, or remove "domainname"');
  // In a user namespace other than the host's, created or joined (devices are bound, not made).
  const userns = created.includes('user') || joins.some((j) => j.type === 'user');
  const netJoin = joins.find((j) => j.type === 'network');
  const ownNet = created.includes('network');

  const caps = planCaps(p);
  // linux.seccomp, compiled here to the filter the child installs (src/oci/seccomp.ts); what the
  // filter cannot carry out is named by the compiler.
  const seccomp = linux.seccomp && !input.builtinSeccomp ? compileSeccomp(linux.seccomp, facts.arch) : undefined;
  if (seccomp) unsupported.push(...seccomp.unsupported);
  const ops: PlanOp[] = [];
  config.mounts.forEach((m, i) => {
    const r = planMount(m, i, input, facts, { ownCgroupns: created.includes('cgroup'), sysfsBind: userns && !ownNet });
    ops.push(...r.ops);
    unsupported.push(...r.unsupported);
  });
  // The container's network namespace is not the host's: its own, or a joined one the CLI found
  // to be some other (a joined host namespace would make net.* sysctls host-wide).
  const ownNetns = ownNet || (netJoin !== undefined && facts.hostNetns?.(netJoin.path) === false);
  ops.push(
    ...planDev(config, input.tty, facts),
    ...planDevices(linux.devices, userns, facts),
    // Before the hardening: linux.readonlyPaths usually makes /proc/sys read-only.
    ...planSysctl(linux.sysctl, { ipc: created.includes('ipc'), uts, user: userns, netns: ownNetns }),
    ...planHardening(linux, rootfs, facts),
  );
  const propagation = planRootPropagation(linux.rootfsPropagation);

  // A joined user namespace has its maps already: they are written for a new one only.
  const newUserns = created.includes('user');
  const uidMap = newUserns ? idMapText(linux.uidMappings) : '';
  const gidMap = newUserns ? idMapText(linux.gidMappings) : '';
  let ttyOwner: ChildPlan['ttyOwner'];
  if (input.tty && newUserns) {
    // The slave must be the container root's for it to open it (and root:tty inside).
    const uid = hostId(uidMap, 0);
    const gid = hostId(gidMap, 5) ?? hostId(gidMap, 0);
    if (uid !== undefined && gid !== undefined) ttyOwner = { uid, gid };
  }
  const child: ChildPlan = {
    // The cgroup namespace is unshared after "go" (container.c), not by clone3.
    ns: created.filter((t) => NS_NAME[t]).map((t) => NS_NAME[t]!),
    ...(netJoin ? { netns: netJoin.path } : {}),
    ...joinsOf.child,
    ...(mntJoined || runtimeMounts ? { sharedMnt: true } : {}),
    lateCgroupns: created.includes('cgroup'),
    uidMap,
    gidMap,
    // Without a UTS namespace of its own the child must not touch the host's hostname: empty
    // means "leave it" (plan.c).
    hostname: uts ? config.hostname ?? facts.hostname : utsJoined ? config.hostname ?? '' : '',
    // runc brings up lo in a network namespace it creates ("loopback" in libcontainer).
    loUp: ownNet,
    rootfs,
    treePropagation: propagation.tree,
    ...(propagation.root ? { rootPropagation: propagation.root } : {}),
    // Without the caller's overlay: root.path is the container's root as it is, bound onto itself.
    overlay: input.root?.overlay ?? '',
    ...(input.root?.cwd ? { overlayCwd: input.root.cwd } : {}),
    ...(input.root?.idmapLower && input.root.lowerMnt ? { idmapLower: input.root.idmapLower, lowerMnt: input.root.lowerMnt } : {}),
    ...(input.eth && ownNet ? { eth: input.eth } : {}),
    // A per-mount remount (MS_BIND) in container.c: the bound root's filesystem stays writable.
    readOnlyRoot: config.root.readonly,
    ...(input.execFifo ? { execFifo: input.execFifo } : {}),
    ...(input.tty ? { tty: input.tty } : {}),
    ...(ttyOwner ? { ttyOwner } : {}),
    stdio: input.stdio ?? [0, 1, 2],
    ops,
    cwd: p.cwd,
    uid: p.user.uid,
    gid: p.user.gid,
    groups: p.user.additionalGids,
    ...(caps.caps !== undefined ? { caps: caps.caps } : {}),
    ...(caps.capSets ? { capSets: caps.capSets } : {}),
    noNewPrivs: p.noNewPrivileges,
    // minidock run's default: the native filter (builtinSeccomp). Otherwise no linux.seccomp, no
    // filter at all; with one, the child installs it last before execve, or first when noNewPrivileges is false
    // (container.c, as runc orders it).
    ...(input.builtinSeccomp
      ? { seccomp: 'default' as const }
      : seccomp
      ? { seccompProg: seccomp.filter.toString('hex'), ...(seccomp.flags ? { seccompFlags: seccomp.flags } : {}) }
      : { seccomp: 'unconfined' as const }),
    ...(p.rlimits.length ? { rlimits: p.rlimits.map((r) => ({ type: r.type, soft: r.soft, hard: r.hard })) } : {}),
    // runc's default when the config has none (finalizeRootfs), not the caller's.
    umask: p.user.umask ?? 0o022,
    ...(p.oomScoreAdj !== undefined ? { oomScoreAdj: p.oomScoreAdj } : {}),
    // Only a UTS namespace of our own gets it (a joined one is unsupported above; none is refused).
    ...(config.domainname && uts ? { domainname: config.domainname } : {}),
    argv: p.args,
    env: p.env,
    ...childHooks(config, input),
  };
  if (p.terminal && !input.tty) unsupported.push('process.terminal (no pty was given to the plan)');
  return { child, rootfs, joins, ...(runtimeMounts ? { runtimeMounts } : {}), ...(p.consoleSize ? { consoleSize: p.consoleSize } : {}), unsupported };
}

