// Translates a parsed OCI config and its bundle directory into minidock's child plan, as far as
// that plan can express it today; what it cannot is listed by field name in `unsupported`, and
// the CLI refuses such a config rather than run it differently. Pure: the facts it needs about
// the host (is a path a file or a directory, the host's hostname) come in as arguments.
//
// Fields ignored on purpose, because ignoring them changes nothing a container can observe:
// - annotations: opaque to the runtime (config.md); they are recorded and shown by `state`.
// - mount options "private"/"rprivate", and linux.rootfsPropagation "private"/"rprivate": the
//   child makes its whole mount tree private before its first mount (container.c), so every
//   mount it then makes is private already.
// - mount options that only clear a flag ("rw", "suid", "dev", "exec", "atime", "diratime",
//   "nomand", "norelatime", "nostrictatime", "async", "loud", "symfollow", "defaults"): a fresh
//   mount has none of those flags unless asked for (the kernel's default is relatime).
// - process.consoleSize: not a child step; the CLI sets the size on the pty master before the
//   master is handed to the console socket (it is returned here as `consoleSize`).
import { posix } from 'node:path';
import { DEV_NODES, cgroupMountOps, type CapSets, type ChildHook, type ChildPlan, type PlanOp } from '../runtime/child-plan.js';
import type { CgroupDir } from '../cgroup/plan.js';
import { CAP_NAMES } from '../spec/caps.js';
import { hostId } from '../spec/userns.js';
import { configError, type OciConfig, type OciIdMapping, type OciMount, type OciProcess } from './config.js';
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
}

export interface OciPlan {
  child: ChildPlan;
  /** The root filesystem's host path (root.path resolved against the bundle). */
  rootfs: string;
  /** Namespaces the container joins rather than creates (linux.namespaces[].path). */
  joins: Array<{ type: string; path: string }>;
  consoleSize?: { height: number; width: number };
  /** Fields the plan cannot carry out, by name: the CLI refuses the config when any is here. */
  unsupported: string[];
}

/** OCI's namespace names, as the plan (and plan.c) spells them. */
const NS_NAME: Record<string, string> = { pid: 'pid', network: 'net', mount: 'mnt', ipc: 'ipc', uts: 'uts', user: 'user', cgroup: 'cgroup' };

/** Mount options plan.c turns into MS_* flags, and the one name each has there. */
const FLAG_OPTIONS: Record<string, string> = { ro: 'ro', nosuid: 'nosuid', nodev: 'nodev', noexec: 'noexec', strictatime: 'strictatime', relatime: 'relatime' };
/** Options that clear a flag a fresh mount does not have (see the header). */
const NOOP_OPTIONS = new Set(['rw', 'suid', 'dev', 'exec', 'atime', 'diratime', 'nomand', 'norelatime', 'nostrictatime', 'async', 'loud', 'symfollow', 'defaults', 'private', 'rprivate']);
/** Options runc knows that the plan has no flag for yet (a field named in `unsupported`). */
const UNSUPPORTED_OPTIONS = new Set([
  'noatime', 'nodiratime', 'sync', 'dirsync', 'mand', 'iversion', 'noiversion', 'lazytime', 'nolazytime', 'nosymfollow',
  'remount', 'silent', 'shared', 'rshared', 'slave', 'rslave', 'unbindable', 'runbindable', 'tmpcopyup', 'idmap', 'ridmap',
  'rro', 'rrw', 'rnosuid', 'rsuid', 'rnodev', 'rdev', 'rnoexec', 'rexec', 'rnoatime', 'ratime', 'rnodiratime', 'rdiratime',
  'rrelatime', 'rnorelatime', 'rstrictatime', 'rnostrictatime', 'rnosymfollow', 'rsymfollow',
]);

/** The options a config may use (features.json's mountOptions): filesystem data such as
 *  "mode=755" comes on top, passed to mount(2) as its data string. */
export const MOUNT_OPTIONS: readonly string[] = ['bind', 'rbind', ...Object.keys(FLAG_OPTIONS), ...NOOP_OPTIONS];

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

function planMount(m: OciMount, i: number, input: OciPlanInput, facts: HostFacts, ownCgroupns = true): MountPlan {
  const field = `mounts[${i}]`;
  const dst = containerPath(m.destination);
  const unsupported: string[] = [];
  if (m.idmapped) unsupported.push(`${field}.uidMappings`);
  const flags: string[] = [];
  const data: string[] = [];
  let bind = m.type === 'bind';
  let rec = false;
  for (const opt of m.options) {
    if (opt === 'bind' || opt === 'rbind') {
      bind = true;
      rec ||= opt === 'rbind';
    } else if (FLAG_OPTIONS[opt]) flags.push(FLAG_OPTIONS[opt]!);
    else if (UNSUPPORTED_OPTIONS.has(opt)) unsupported.push(`${field}.options "${opt}"`);
    else if (!NOOP_OPTIONS.has(opt)) data.push(opt);
  }
  if (bind) {
    // A filesystem option means nothing to a bind mount; refusing it beats guessing.
    for (const d of data) unsupported.push(`${field}.options "${d}"`);
    if (m.source === undefined) throw configError(`${field}.source`, 'is missing for a bind mount', 'give the host path to bind');
    const src = posix.resolve(input.bundle, m.source);
    const kind = facts.kind(src);
    if (!kind) throw configError(`${field}.source`, `${JSON.stringify(src)} does not exist`, 'create it, or fix the path (a relative source is relative to the bundle)');
    const f = [...(rec ? ['rec'] : []), ...flags].join(',');
    return { ops: [{ op: 'bind', src, dst, file: kind === 'file', ...(f ? { flags: f } : {}) }], unsupported };
  }
  const type = m.type ?? '';
  if (!type) throw configError(`${field}.type`, 'is missing', 'give the filesystem type, e.g. "tmpfs", or "bind" with the "rbind" option');
  if (type === 'cgroup' || type === 'cgroup2') {
    // OCI's cgroup mount means "the container's own cgroups", not the host's hierarchy.
    if (!input.cgroups) return { ops: [], unsupported: [...unsupported, `${field} (type ${type}: the container's cgroups are not made yet)`] };
    // The hierarchies' mounts take the config's flags; their tmpfs (on v1) keeps its own.
    const mask = flags.join(',');
    const dirs = input.cgroups;
    const ops = cgroupMountOps(dirs).map((op): PlanOp => {
      if (op.op !== 'mount' || op.type === 'tmpfs') return op;
      // Without a cgroup namespace of its own a fresh cgroup mount would show the host's whole
      // hierarchy (the container's limits one level down, everyone else's beside them): bind
      // the container's own directory there instead, as runc does.
      if (!ownCgroupns) {
        const dir = op.type === 'cgroup2' ? dirs.find((d) => d.version === 2) : dirs.find((d) => d.version === 1 && d.controllers.join(',') === op.data);
        if (dir) return { op: 'bind', src: dir.path, dst: op.dst, file: false, flags: ['rec', ...flags].join(',') };
      }
      const { flags: _given, ...rest } = op;
      return mask ? { ...rest, flags: mask } : rest;
    });
    return { ops, unsupported };
  }
  const op: PlanOp = { op: 'mount', src: m.source ?? type, dst, type };
  if (flags.length) op.flags = flags.join(',');
  if (data.length) op.data = data.join(',');
  return { ops: [op], unsupported };
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
  const ops: PlanOp[] = DEV_NODES.map((n): PlanOp => ({ op: 'bind', src: `/dev/${n}`, dst: `/dev/${n}`, file: true }));
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
    if (kind === 'dir') ops.push({ op: 'mount', src: 'tmpfs', dst: p, type: 'tmpfs', flags: 'ro', data: 'size=0', optional: true });
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
  if (l) {
    if (l.devices.length) out.push('linux.devices');
    if (Object.keys(l.sysctl).length) out.push('linux.sysctl');
    if (l.cgroupsPath) out.push('linux.cgroupsPath');
    for (const r of l.resources) out.push(`linux.resources.${r}`);
    if (l.rootfsPropagation && l.rootfsPropagation !== 'private' && l.rootfsPropagation !== 'rprivate') out.push('linux.rootfsPropagation');
    if (l.mountLabel) out.push('linux.mountLabel');
    out.push(...l.other);
  }
  return out;
}

/** OCI's names of the namespaces the child joins itself (plan key join), as plan.c spells them. */
const CHILD_JOINS: Record<string, string> = { ipc: 'ipc', uts: 'uts', cgroup: 'cgroup', mount: 'mnt', user: 'user' };

/** Who joins what: the network and PID namespaces are entered by the parent's thread around
 *  clone3 (netns, pidns: container.c explains why), the others by the child (join). */
export function planJoins(joins: ReadonlyArray<{ type: string; path: string }>, created: readonly string[]): { child: Pick<ChildPlan, 'pidns' | 'joins'>; unsupported: string[] } {
  const unsupported: string[] = [];
  const child: Pick<ChildPlan, 'pidns' | 'joins'> = {};
  for (const j of joins) {
    if (j.type === 'pid') child.pidns = j.path;
    else if (CHILD_JOINS[j.type]) (child.joins ??= []).push({ ns: CHILD_JOINS[j.type]!, path: j.path });
    else if (j.type !== 'network') unsupported.push(`linux.namespaces (joining the ${j.type} namespace ${j.path})`);
  }
  // A new PID namespace made while the child is still in the host's user namespace would be
  // the host's, and the joined namespace's root could not mount its /proc; new user namespaces
  // cannot nest in a joined one from here either (both need runc's double fork).
  if (joins.some((j) => j.type === 'user')) {
    for (const t of ['pid', 'user'] as const) if (created.includes(t)) unsupported.push(`linux.namespaces (a new ${t} namespace inside a joined user namespace)`);
  }
  return { child, unsupported };
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

export function planOci(config: OciConfig, input: OciPlanInput, facts: HostFacts): OciPlan {
  const p = config.process;
  if (!p) throw configError('process', 'is missing', 'add "process" with "args", "cwd" and "user": the container needs a program to run');
  const linux = config.linux ?? { namespaces: [], uidMappings: [], gidMappings: [], sysctl: {}, devices: [], resources: [], maskedPaths: [], readonlyPaths: [], other: [] };
  const unsupported = unsupportedFields(config);
  const rootfs = posix.resolve(input.bundle, config.root.path);

  const created = linux.namespaces.filter((n) => !n.path).map((n) => n.type);
  const joins = linux.namespaces.filter((n) => n.path).map((n) => ({ type: n.type, path: n.path! }));
  const joinsOf = planJoins(joins, created);
  unsupported.push(...joinsOf.unsupported);
  if (created.includes('time')) unsupported.push('linux.namespaces (a time namespace)');
  // Every mount the child makes lives in a mount namespace that is the container's: one of its
  // own, or one it joins (whoever made that one shares it on purpose). The runtime's own would
  // keep the container's mounts after it exits (runc leaves them there).
  const mntJoined = joins.some((j) => j.type === 'mount');
  if (!created.includes('mount') && !mntJoined) throw configError('linux.namespaces', 'has no mount namespace', 'add {"type": "mount"}, or {"type": "mount", "path": ...} to join one: the root filesystem is set up in it');
  const uts = created.includes('uts');
  // A joined UTS namespace counts: runc sets the name in it too.
  const utsJoined = joins.some((j) => j.type === 'uts');
  const anyUts = linux.namespaces.some((n) => n.type === 'uts');
  if (config.hostname && !anyUts) throw configError('hostname', 'is set without a new UTS namespace', 'add {"type": "uts"} to linux.namespaces, or remove "hostname"');
  if (config.domainname && !anyUts) throw configError('domainname', 'is set without a new UTS namespace', 'add {"type": "uts"} to linux.namespaces, or remove "domainname"');
  const userns = created.includes('user');
  const netJoin = joins.find((j) => j.type === 'network');
  const ownNet = created.includes('network');

  const caps = planCaps(p);
  // linux.seccomp, compiled here to the filter the child installs (src/oci/seccomp.ts); what the
  // filter cannot carry out is named by the compiler.
  const seccomp = linux.seccomp ? compileSeccomp(linux.seccomp, facts.arch) : undefined;
  if (seccomp) unsupported.push(...seccomp.unsupported);
  const ops: PlanOp[] = [];
  config.mounts.forEach((m, i) => {
    const r = planMount(m, i, input, facts, created.includes('cgroup'));
    ops.push(...r.ops);
    unsupported.push(...r.unsupported);
  });
  ops.push(...planDev(config, input.tty, facts), ...planHardening(linux, rootfs, facts));

  const uidMap = userns ? idMapText(linux.uidMappings) : '';
  const gidMap = userns ? idMapText(linux.gidMappings) : '';
  let ttyOwner: ChildPlan['ttyOwner'];
  if (input.tty && userns) {
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
    ...(mntJoined ? { sharedMnt: true } : {}),
    lateCgroupns: created.includes('cgroup'),
    uidMap,
    gidMap,
    // Without a UTS namespace of its own the child must not touch the host's hostname: empty
    // means "leave it" (plan.c).
    hostname: uts ? config.hostname ?? facts.hostname : utsJoined ? config.hostname ?? '' : '',
    // runc brings up lo in a network namespace it creates ("loopback" in libcontainer).
    loUp: ownNet,
    rootfs,
    // No overlay: root.path is the container's root as it is, bound onto itself.
    overlay: '',
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
    // No linux.seccomp: no filter at all (minidock's own default is for `minidock run`). With
    // one, the child installs it last before execve, or first when noNewPrivileges is false
    // (container.c, as runc orders it).
    ...(seccomp
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
  return { child, rootfs, joins, ...(p.consoleSize ? { consoleSize: p.consoleSize } : {}), unsupported };
}

