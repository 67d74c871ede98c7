// The child plan: everything the native helper does to make a container (namespaces, id maps,
// mounts, argv, env, cwd), and its wire format. Both `minidock run` (src/runtime/run-plan.ts) and
// minidock-runc make it the same way, from an OCI config (src/oci/plan.ts). Pure: the same plan
// is what runs, what the tests compare and what `--explain` prints.
import type { CgroupDir } from '../cgroup/plan.js';
import { MinidockError } from '../core/errors.js';

/** Host paths of one container's files, laid out by the state store. */
export interface ContainerPaths {
  dir: string;
  /** The overlay's mount point; the container's / after pivot_root. */
  rootfs: string;
  /** Where the idmapped image is attached in the child's mount namespace (empty on the host). */
  lower: string;
  upper: string;
  work: string;
  hostname: string;
  hosts: string;
  resolvConf: string;
}

/** What the child does to a mount right after making it (OCI mount options; see container.c's
 *  finish_mount): propagation changes in order, each "shared", "rec,slave"...; then the
 *  mount_setattr(AT_RECURSIVE) attributes set and cleared ("ro,nosuid", "atime" for the whole
 *  atime field), plan.c's names. */
export interface MountAfter {
  propagation?: string[];
  recSet?: string;
  recClr?: string;
}

export type PlanOp =
  | ({ op: 'mount'; src: string; dst: string; type: string; flags?: string; data?: string; optional?: boolean } & MountAfter)
  | ({ op: 'bind'; src: string; dst: string; file: boolean; flags?: string; optional?: boolean } & MountAfter)
  | { op: 'symlink'; src: string; dst: string }
  | { op: 'mkdir'; dst: string }
  /** A device node (c, u: character, b: block, p: FIFO), its permission bits and owner. */
  | { op: 'mknod'; dst: string; type: 'c' | 'u' | 'b' | 'p'; major: number; minor: number; mode: number; uid: number; gid: number }
  /** A value written to a file under the container's /proc/sys. */
  | { op: 'sysctl'; dst: string; value: string };

/** How the child's network is set up, decided by run from the network spec. */
export type ChildNet =
  | { kind: 'own' }                                   // a new namespace with lo (none, bridge)
  | { kind: 'own'; eth: { ip: string; prefix: number; gateway: string } }
  | { kind: 'join'; netns: string }                   // another container's namespace
  | { kind: 'host' };

export interface ChildPlan {
  ns: string[];
  netns?: string;
  /** Cloned into this PID namespace (the parent's thread enters it around clone3). */
  pidns?: string;
  /** Namespaces the child joins itself, before "go" (plan.c: mnt, uts, ipc, user, cgroup). */
  joins?: Array<{ ns: string; path: string }>;
  /** No mount namespace of its own (a joined one): chroot instead of pivot_root, and only the
   *  container's own tree made private (container.c). */
  sharedMnt?: boolean;
  eth?: { ip: string; prefix: number; gateway: string };
  lateCgroupns: boolean;
  uidMap: string;
  gidMap: string;
  hostname: string;
  loUp: boolean;
  rootfs: string;
  /** Propagation of the whole inherited mount tree before the first mount ("rec,private" when
   *  absent), and of the container's / after pivot_root (none when absent). */
  treePropagation?: string;
  rootPropagation?: string;
  overlay: string;
  /** Where the child mounts the overlay: its relative lowerdirs are resolved there. */
  overlayCwd?: string;
  /** Remapped containers: the image shown through an idmapped mount at `lowerMnt`. */
  idmapLower?: string;
  lowerMnt?: string;
  readOnlyRoot?: boolean;
  /** OCI create: the child, set up, waits on this FIFO before execve until `start` reads it. */
  execFifo?: string;
  tty?: string;
  /** Host ids the pty slave is given so that a remapped root can open it (root, tty group). */
  ttyOwner?: { uid: number; gid: number };
  stdio: [number, number, number];
  ops: PlanOp[];
  cwd: string;
  uid: number;
  gid: number;
  groups: number[];
  caps?: string;
  /** OCI's five capability sets (hex masks), when they are not the one mask of `caps`
   *  (bounding = permitted = effective for root, nothing else kept for another uid). */
  capSets?: CapSets;
  noNewPrivs: boolean;
  seccomp?: 'default' | 'unconfined';
  /** An OCI config's seccomp filter, compiled: struct sock_filter[] bytes as lowercase hex. */
  seccompProg?: string;
  /** seccomp(2)'s SECCOMP_FILTER_FLAG_* bits for `seccompProg` (LOG 2, SPEC_ALLOW 4). */
  seccompFlags?: number;
  /** setrlimit(2) in the child, before the ids change (OCI process.rlimits). */
  rlimits?: ChildRlimit[];
  /** umask(2) before execve; absent: the one inherited from the caller. */
  umask?: number;
  /** Written to /proc/PID/oom_score_adj by the parent before "go". */
  oomScoreAdj?: number;
  /** setdomainname(2) in the new UTS namespace. */
  domainname?: string;
  argv: string[];
  env: string[];
  /** OCI hooks the child runs itself (container.c run_hooks), in config order. */
  hooks?: ChildHook[];
  /** Their stdin: the state JSON, cut where the child puts its own pid. */
  hookState?: { pre: string; post: string };
}

export interface ChildHook {
  when: 'createContainer' | 'startContainer';
  path: string;
  args: string[];
  /** Absent: the hook gets the environment the runtime had. */
  env?: string[];
  timeout?: number;
}

export interface CapSets {
  bounding: string;
  effective: string;
  inheritable: string;
  permitted: string;
  ambient: string;
}

export interface ChildRlimit {
  type: string;
  soft: number;
  hard: number;
}

/** setrlimit(2)'s resource numbers (asm-generic/resource.h: x86, arm, riscv, ...). */
export const RLIMIT_NUMBERS: Readonly<Record<string, number>> = {
  RLIMIT_CPU: 0, RLIMIT_FSIZE: 1, RLIMIT_DATA: 2, RLIMIT_STACK: 3, RLIMIT_CORE: 4, RLIMIT_RSS: 5,
  RLIMIT_NPROC: 6, RLIMIT_NOFILE: 7, RLIMIT_MEMLOCK: 8, RLIMIT_AS: 9, RLIMIT_LOCKS: 10,
  RLIMIT_SIGPENDING: 11, RLIMIT_MSGQUEUE: 12, RLIMIT_NICE: 13, RLIMIT_RTPRIO: 14, RLIMIT_RTTIME: 15,
};

/** Device nodes a container gets, bind-mounted from the host: mknod is not allowed inside a user
 *  namespace, and an image's own device nodes are never used (they are not in /dev's tmpfs). */
export const DEV_NODES = ['null', 'zero', 'full', 'random', 'urandom', 'tty'] as const;

/** Where --init's binary appears in the container (docker uses /sbin/docker-init). */
export const INIT_PATH = '/sbin/minidock-init';

/** The same namespaces docker creates, user and cgroup included. */
export const NAMESPACES = ['mnt', 'uts', 'ipc', 'pid', 'net', 'user', 'cgroup'] as const;

/** Kernel interfaces docker makes read-only in a container: with them writable, container root
 *  (which is host root under the identity map) could change host-wide settings such as
 *  kernel.core_pattern, whose handler the host runs as root. */
export const READONLY_PATHS = ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'] as const;

/** Paths docker hides: files get /dev/null on top, directories an empty read-only tmpfs. */
export const MASKED_FILES = ['/proc/kcore', '/proc/keys', '/proc/latency_stats', '/proc/timer_list', '/proc/timer_stats', '/proc/sched_debug'] as const;
export const MASKED_DIRS = ['/proc/acpi', '/proc/asound', '/proc/scsi', '/sys/firmware', '/sys/devices/virtual/powercap'] as const;

/**
 * What the container sees at /sys/fs/cgroup: its own cgroups as the roots (the cgroup namespace
 * is created after it joined them), read-only, so it cannot raise its own limits. cgroup2 alone
 * is mounted there; v1 hierarchies each get a directory named after their controllers in a
 * small tmpfs, and a hybrid host's cgroup2 goes to "unified", as on the host.
 */
export function cgroupMountOps(dirs: readonly CgroupDir[]): PlanOp[] {
  const ro = 'ro,nosuid,nodev,noexec';
  const v1 = dirs.filter((d) => d.version === 1);
  const v2 = dirs.find((d) => d.version === 2);
  if (!v1.length) return v2 ? [{ op: 'mount', src: 'cgroup2', dst: '/sys/fs/cgroup', type: 'cgroup2', flags: ro }] : [];
  const ops: PlanOp[] = [{ op: 'mount', src: 'tmpfs', dst: '/sys/fs/cgroup', type: 'tmpfs', flags: 'nosuid,nodev,noexec', data: 'mode=755,size=64k' }];
  for (const d of v1) {
    const names = d.controllers.join(',');
    ops.push({ op: 'mount', src: 'cgroup', dst: `/sys/fs/cgroup/${names}`, type: 'cgroup', flags: ro, data: names });
  }
  if (v2) ops.push({ op: 'mount', src: 'cgroup2', dst: '/sys/fs/cgroup/unified', type: 'cgroup2', flags: ro });
  return ops;
}

/** The key/value wire format read by native/src/plan.c. */
export function serializePlan(plan: ChildPlan): Buffer {
  const kv: string[] = [];
  const put = (k: string, v: string | number | boolean): void => {
    const s = typeof v === 'boolean' ? (v ? '1' : '0') : String(v);
    if (s.includes('\0')) {
      throw new MinidockError(`${k} contains a NUL byte: ${JSON.stringify(s)}`, { step: 'plan.serialize' });
    }
    kv.push(k, s);
  };
  put('ns', plan.ns.join(','));
  put('late_cgroupns', plan.lateCgroupns);
  put('uid_map', plan.uidMap);
  put('gid_map', plan.gidMap);
  put('hostname', plan.hostname);
  put('lo_up', plan.loUp);
  if (plan.netns) put('netns', plan.netns);
  if (plan.pidns) put('pidns', plan.pidns);
  for (const j of plan.joins ?? []) put('join', `${j.ns} ${j.path}`);
  if (plan.sharedMnt) put('shared_mnt', true);
  if (plan.eth) {
    put('eth_addr', plan.eth.ip);
    put('eth_prefix', plan.eth.prefix);
    put('eth_gw', plan.eth.gateway);
  }
  put('rootfs', plan.rootfs);
  if (plan.treePropagation) put('tree_prop', plan.treePropagation);
  if (plan.rootPropagation) put('newroot_prop', plan.rootPropagation);
  if (plan.overlay) put('overlay', plan.overlay); // none: the rootfs is bind-mounted onto itself (OCI bundles)
  if (plan.overlayCwd) put('overlay_cwd', plan.overlayCwd);
  if (plan.idmapLower && plan.lowerMnt) {
    put('idmap_lower', plan.idmapLower);
    put('lower_mnt', plan.lowerMnt);
  }
  if (plan.readOnlyRoot) put('readonly_root', true);
  if (plan.execFifo) put('exec_fifo', plan.execFifo);
  if (plan.tty) put('tty', plan.tty);
  if (plan.ttyOwner) {
    put('tty_uid', plan.ttyOwner.uid);
    put('tty_gid', plan.ttyOwner.gid);
  }
  put('stdin', plan.stdio[0]);
  put('stdout', plan.stdio[1]);
  put('stderr', plan.stdio[2]);
  for (const op of plan.ops) {
    put('op', op.op);
    if ('src' in op) put('src', op.src);
    put('dst', op.dst);
    if (op.op === 'mount') {
      put('type', op.type);
      if (op.data) put('data', op.data);
    }
    if ((op.op === 'mount' || op.op === 'bind') && op.flags) put('flags', op.flags);
    if (op.op === 'bind') put('file', op.file);
    if ((op.op === 'mount' || op.op === 'bind') && op.optional) put('optional', true);
    if (op.op === 'mount' || op.op === 'bind') {
      for (const p of op.propagation ?? []) put('prop', p);
      if (op.recSet) put('rec_set', op.recSet);
      if (op.recClr) put('rec_clr', op.recClr);
    }
    if (op.op === 'mknod') {
      put('dev', `${op.type} ${op.major} ${op.minor}`);
      put('mode', op.mode.toString(8));
      put('owner', `${op.uid} ${op.gid}`);
    }
    if (op.op === 'sysctl') put('data', op.value);
  }
  put('cwd', plan.cwd);
  put('uid', plan.uid);
  put('gid', plan.gid);
  for (const g of plan.groups) put('group', g);
  if (plan.caps !== undefined) put('caps', plan.caps);
  if (plan.capSets) {
    for (const k of ['bounding', 'effective', 'inheritable', 'permitted', 'ambient'] as const) put(`cap_${k}`, plan.capSets[k]);
  }
  put('nnp', plan.noNewPrivs);
  if (plan.seccomp) put('seccomp', plan.seccomp);
  if (plan.seccompProg !== undefined) put('seccomp_prog', plan.seccompProg);
  if (plan.seccompProg !== undefined && plan.seccompFlags) put('seccomp_flags', plan.seccompFlags);
  for (const r of plan.rlimits ?? []) {
    const n = RLIMIT_NUMBERS[r.type];
    if (n === undefined) throw new MinidockError(`unknown resource limit ${JSON.stringify(r.type)}`, { step: 'plan.serialize' });
    put('rlimit', `${n} ${r.soft} ${r.hard}`);
  }
  if (plan.umask !== undefined) put('umask', `0${plan.umask.toString(8)}`);
  if (plan.oomScoreAdj !== undefined) put('oom_score_adj', plan.oomScoreAdj);
  if (plan.domainname) put('domainname', plan.domainname);
  for (const h of plan.hooks ?? []) {
    // plan.c wants a hook's args before its env (one pool of NULL-terminated arrays).
    put('hook', h.when);
    put('hook_path', h.path);
    for (const a of h.args) put('hook_arg', a);
    if (h.env) {
      put('hook_env_set', true);
      for (const e of h.env) put('hook_env', e);
    }
    if (h.timeout) put('hook_timeout', h.timeout);
  }
  if (plan.hookState) {
    put('hook_state_pre', plan.hookState.pre);
    put('hook_state_post', plan.hookState.post);
  }
  for (const a of plan.argv) put('arg', a);
  for (const e of plan.env) put('env', e);
  return Buffer.from(kv.join('\0') + '\0');
}
