// `minidock run --explain`: what minidock does for one container, step by step, each step as the
// shell command that would do the same thing and one line of why. Pure.
//
// Every step is read off a plan the runtime executes (the child plan, the network plan, the
// cgroup plan): a mount step per entry of child.ops, an iptables step per planned rule, an `ip`
// step per line of planAttachIp, and so on. Nothing here is a list of steps of its own, so the
// explanation cannot drift from what runs. src/explain/script.ts turns the same actions into a
// runnable bash script.
//
// The order is minidock's (native/src/container.c and src/runtime/run.ts):
//
//   host     state directory, IPAM leases, the bridge (first container only), /etc files
//   clone    clone3() with the new namespaces; the child blocks on "go"
//   parent   uid_map/gid_map, the idmapped image, cgroups, the veth pair; then "go"
//   child    cgroup namespace, hostname, lo and eth0, mounts (the overlay, then child.ops)
//   pivot    pivot_root into the overlay, detach the old root
//   exec     session, working directory, capabilities, ids, no_new_privs, seccomp, execve
//   after    the published ports' DNAT rules, once the command runs
//   exit     what is undone when the container exits
import * as sizes from '../runtime/format.js';
import { posix } from 'node:path';
import type { CgroupOp } from '../cgroup/plan.js';
import { ifbName, planShaping, shaped } from '../network/bandwidth.js';
import {
  DEV_NODES, INIT_PATH, MASKED_DIRS, MASKED_FILES, READONLY_PATHS, type ChildPlan, type PlanOp,
} from '../runtime/child-plan.js';
import type { ContainerSpec } from '../spec/container-spec.js';
import { CAP_NAMES, capabilityMask, capabilityNames } from '../spec/caps.js';
import {
  containerSysctlCommand, planAttachIp, planChains, planContainerSysctls, planNetwork, planPortRules,
  type Attachment, type IptRule, type NetnsRef, type NetworkConfig, type NetworkPlan, type Sysctl, type Table,
} from '../network/plan.js';

/** The ranges of a uid_map or gid_map ("inside outside count" lines). */
function idRanges(map: string): Array<{ inside: number; outside: number; count: number }> {
  return map.split('\n').filter((l) => l.trim()).map((l) => {
    const [inside, outside, count] = l.trim().split(/\s+/).map(Number);
    return { inside: inside!, outside: outside!, count: count! };
  });
}

/** A child plan of a remapped container may show the image through an idmapped mount. */
type Child = ChildPlan & { idmapLower?: string; lowerMnt?: string };

/** docker's default capabilities, to say when --cap-add/--cap-drop changed them. */
const DEFAULT_MASK = capabilityMask({ add: [], drop: [], privileged: false });

/** One step as printed: where it belongs, the equivalent shell command, and why. */
export interface Step {
  phase: string;
  command: string;
  why: string;
}

/** The network side of a container on a bridge, as planned by src/network/plan.ts. */
export interface ExplainNet {
  config: NetworkConfig;
  attachment: Attachment;
  /** planNetwork(config): the bridge, its sysctls and the network-wide rules. */
  network: NetworkPlan;
  /** planChains(): minidock's chains and the jumps into them. */
  chains: ReturnType<typeof planChains>;
  /** planContainerSysctls(): written in the container's network namespace before the veth. */
  netnsSysctls: Sysctl[];
  /** planAttachIp(attachment, pid): `ip -batch` lines for the veth pair. */
  ip: string[];
  /** planPortRules(attachment): the DNAT rules of the published ports. */
  rules: IptRule[];
  /** planShaping(...).tc: the veth's shaping (--ingress-rate, --egress-rate), `tc -batch`
   *  lines; its ifb is among `ip`. */
  tc?: string[];
  /** The bridge was already up, so ensureBridge() made nothing: its steps are listed under a
   *  heading that says so. */
  bridgeExists?: boolean;
}

/** The container's cgroups: src/cgroup/plan.ts's CgroupPlan fits, and so does the simpler
 *  `{ dirs: string[]; writes; procs }`. */
export interface ExplainCgroup {
  /** The container's own directories, removed after it exits. */
  dirs: Array<string | { path: string }>;
  /** In order: mkdir, writes, cpuset inheritance (cgroup/plan.ts). */
  ops?: CgroupOp[];
  /** Or plain writes, done after creating `dirs`. */
  writes?: Array<{ path: string; value: string }>;
  /** cgroup.procs files that receive the container's pid. */
  procs?: string[];
}

export interface ExplainInput {
  spec: ContainerSpec;
  child: ChildPlan;
  /** The OCI config the child plan was made from (src/runtime/run-plan.ts), shown first. */
  config?: Record<string, unknown>;
  /** Host files written before clone and bound into the container (/etc/hostname, hosts,
   *  resolv.conf), with their content. */
  files?: Array<{ path: string; content: string }>;
  /** MINIDOCK_ROOT, where the lease files are. */
  root?: string;
  net?: ExplainNet;
  cgroup?: ExplainCgroup;
  /** The container's PID 1 as the host sees it, when known (a real run); else `$PID`. */
  pid?: number;
  /** A stored image's layers, top first (ImageStore.layerStack): shown before the steps. */
  layers?: Array<{ link: string; diffId: string; size: number; createdBy?: string }>;
}

/** When an action happens, which decides how the script does it (see the top of this file). */
export type At = 'host' | 'clone' | 'parent' | 'go' | 'child' | 'pivot' | 'exec' | 'after' | 'exit';

/** A step with the plan data it came from, for the script generator. */
export type Action = Step & { at: At } & (
  | { kind: 'dirs'; dirs: string[] }
  | { kind: 'chown'; paths: string[]; uid: number; gid: number }
  | { kind: 'lease'; file: string; owner: string }
  | { kind: 'bridge'; line: string }
  | { kind: 'sysctl'; path: string; value: string; optional?: boolean }
  | { kind: 'chain'; table: Table; chain: string }
  | { kind: 'jump' | 'rule' | 'port' | 'unport'; rule: IptRule }
  | { kind: 'file'; path: string; content: string }
  | { kind: 'namespace'; ns: string }
  | { kind: 'join-net'; netns: string }
  | { kind: 'host-net' }
  | { kind: 'idmap'; file: 'uid_map' | 'gid_map'; map: string }
  | { kind: 'idmap-lower'; image: string; mnt: string }
  | { kind: 'cgroup'; op: CgroupOp }
  | { kind: 'cgroup-procs'; file: string }
  | { kind: 'cgroup-rmdir'; path: string }
  | { kind: 'veth'; line: string }
  | { kind: 'shaping'; line: string }
  | { kind: 'netns-sysctl'; sysctls: Sysctl[] }
  | { kind: 'go' }
  | { kind: 'become-root' }
  | { kind: 'cgroupns' }
  | { kind: 'hostname'; name: string }
  | { kind: 'lo' }
  | { kind: 'eth'; line: string }
  | { kind: 'private' }
  | { kind: 'attach-lower'; mnt: string }
  | { kind: 'overlay'; rootfs: string; options: string; cwd?: string | undefined }
  | { kind: 'rootfs-bind'; rootfs: string }
  | { kind: 'op'; op: PlanOp; target: string }
  | { kind: 'pivot'; rootfs: string }
  | { kind: 'umount-old' }
  | { kind: 'readonly' }
  | { kind: 'setsid' }
  | { kind: 'fds' }
  | { kind: 'cwd'; cwd: string }
  | { kind: 'umask'; umask: number }
  | { kind: 'caps'; caps: string[] }
  | { kind: 'ids'; uid: number; gid: number; groups: number[] }
  | { kind: 'nnp' }
  | { kind: 'seccomp' }
  | { kind: 'exec'; argv: string[]; env: string[] }
  | { kind: 'release'; file: string }
);

/** Quotes a word for bash only when it needs it, so commands read as people type them. */
export const shWord = (s: string): string => (/^[A-Za-z0-9_@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);
export const shLine = (words: string[]): string => words.map(shWord).join(' ');

/** The network part of an explanation, from a network's config and a container's attachment. */
export function explainNet(config: NetworkConfig, attachment: Attachment, pid: NetnsRef = 0, bridgeExists = false): ExplainNet {
  const bw = attachment.bandwidth;
  const shaping = shaped(bw) ? planShaping(attachment.hostVeth, ifbName(attachment.containerId), bw) : undefined;
  return {
    config,
    attachment,
    network: planNetwork(config),
    chains: planChains(),
    netnsSysctls: planContainerSysctls(),
    ip: [...planAttachIp(attachment, pid), ...(shaping?.ip ?? [])],
    rules: planPortRules(attachment),
    ...(shaping ? { tc: shaping.tc } : {}),
    bridgeExists,
  };
}

/** `unshare` flag and why, per namespace (NAMESPACES in child-plan.ts). */
const NS: Record<string, { flag: string; why: string }> = {
  mnt: { flag: 'mount', why: 'a mount table of its own: every mount below happens in it and vanishes with the container; none is ever visible on the host' },
  uts: { flag: 'uts', why: 'a hostname of its own' },
  ipc: { flag: 'ipc', why: 'System V IPC and POSIX message queues of its own' },
  pid: { flag: 'pid', why: 'process ids of its own: the command will be PID 1 and see only its own processes' },
  net: { flag: 'net', why: 'a network stack of its own: only lo, until the veth pair brings eth0' },
  user: { flag: 'user', why: 'its uids and gids stand for a range of the host\'s (uid_map below); its root is root only over what the namespace owns' },
  cgroup: { flag: 'cgroup', why: 'its own view of /sys/fs/cgroup, rooted at its cgroup' },
};

export const unshareFlag = (ns: string): string => `--${NS[ns]?.flag ?? ns}`;

/** Options of overlay's option string (lowerdir=...,upperdir=...,workdir=...). */
export function overlayOption(overlay: string, key: string): string | undefined {
  for (const kv of overlay.split(',')) if (kv.startsWith(`${key}=`)) return kv.slice(key.length + 1);
  return undefined;
}

/** mount(8)'s flag for a propagation change of the plan ("rec,private" → --make-rprivate). */
export function propagationFlag(p: string): string {
  const rec = p.startsWith('rec,');
  return `--make-${rec ? 'r' : ''}${rec ? p.slice(4) : p}`;
}

/** The command for one entry of child.ops: mount(8), ln or mkdir on the path under the rootfs,
 *  with the propagation changes that follow a mount (OCI's "rprivate"...). */
export function opCommand(op: PlanOp, target: string): string {
  const base = opCommandOnly(op, target);
  const after = (op.op === 'mount' || op.op === 'bind') ? op.propagation ?? [] : [];
  return [base, ...after.map((p) => shLine(['mount', propagationFlag(p), target]))].join(' && ');
}

function opCommandOnly(op: PlanOp, target: string): string {
  switch (op.op) {
    case 'mount': {
      const opts = [op.flags, op.data].filter(Boolean).join(',');
      return shLine(['mount', '-t', op.type, ...(opts ? ['-o', opts] : []), op.src, target]);
    }
    case 'bind': {
      const flags = (op.flags ?? '').split(',').filter(Boolean);
      const bind = shLine(['mount', flags.includes('rec') ? '--rbind' : '--bind', op.src, target]);
      const rest = flags.filter((f) => f !== 'rec');
      // A bind mount ignores ro, nosuid...: they take effect on a remount of the bind.
      return rest.length ? `${bind} && ${shLine(['mount', '-o', `remount,bind,${rest.join(',')}`, target])}` : bind;
    }
    case 'symlink':
      return shLine(['ln', '-s', op.src, target]);
    case 'mkdir':
      return shLine(['mkdir', '-p', target]);
    case 'mknod': {
      const args = op.type === 'p' ? ['p'] : [op.type, String(op.major), String(op.minor)];
      return `${shLine(['mknod', '-m', op.mode.toString(8), target, ...args])} && ${shLine(['chown', `${op.uid}:${op.gid}`, target])}`;
    }
    case 'sysctl':
      return `echo ${shWord(op.value)} > ${target}`;
  }
}

const ETC_WHY: Record<string, string> = {
  '/etc/hostname': 'the hostname file minidock wrote, bound over the image\'s',
  '/etc/hosts': 'minidock\'s hosts file (localhost and the container\'s own address), bound over the image\'s: rewritten in place when peers on a user network come and go',
  '/etc/resolv.conf': 'the host\'s resolvers without loopback ones (the host\'s 127.0.0.53 is unreachable from here), bound over the image\'s',
};

function opWhy(op: PlanOp, spec: ContainerSpec): string {
  const optional = 'optional' in op && op.optional ? ' (skipped where this kernel has no such path: nothing is ever created in /proc or /sys)' : '';
  const user = spec.volumes?.find((v) => v.dst === op.dst);
  if (op.op === 'bind' && user) return `-v ${user.src}:${user.dst}${user.ro ? ':ro' : ''}: a host path, bound into the container${user.ro ? ', read-only' : ''}`;
  if (op.op === 'mount' && spec.tmpfs?.some((t) => t.dst === op.dst)) return `--tmpfs ${op.dst}: a fresh tmpfs, gone with the container`;
  if (op.dst === '/proc' && op.op === 'mount') {
    return 'a /proc for the new PID namespace: ps sees only the container\'s processes. Before pivot_root on purpose: the kernel lets a user namespace mount proc only while a full one is visible';
  }
  if (op.dst === '/sys') {
    return op.op === 'mount'
      ? 'sysfs, read-only: it shows the network namespace of whoever mounts it, so the container sees its own interfaces'
      : 'the host\'s /sys, bound read-only: sysfs can only be mounted by the owner of the network namespace, not ours here (as runc does)';
  }
  if ((READONLY_PATHS as readonly string[]).includes(op.dst)) {
    return `read-only${optional} (the remount keeps the nosuid, nodev, noexec of the mount it was bound from, as it must in a user namespace): a writable ${op.dst} would let container root change host-wide kernel settings (kernel.core_pattern runs a program as host root)`;
  }
  if ((MASKED_FILES as readonly string[]).includes(op.dst)) return `hidden behind /dev/null${optional}: it shows the host's kernel memory or internals (docker's masked paths)`;
  if ((MASKED_DIRS as readonly string[]).includes(op.dst)) return `hidden under an empty read-only tmpfs${optional} (docker's masked paths)`;
  if (op.dst.startsWith('/sys/fs/cgroup') && op.op === 'mount') {
    return op.type === 'tmpfs'
      ? 'a small tmpfs for /sys/fs/cgroup, to hold one directory per cgroup v1 hierarchy'
      : `its own cgroups (${op.type}${op.type === 'cgroup' ? ` ${op.data}` : ''}) as the roots, the cgroup namespace being made after it joined them; read-only: it cannot raise its own limits`;
  }
  if (op.dst === '/dev' && op.op === 'mount') return 'a /dev of its own on a tmpfs: device nodes shipped in the image are never used';
  if ((DEV_NODES as readonly string[]).some((n) => op.dst === `/dev/${n}`)) {
    return `the host's ${op.dst}, bound: mknod is not allowed inside a user namespace, and these few are all a container gets`;
  }
  if (op.dst === '/dev/pts') return 'a private devpts instance: the container sees its own ptys, never the host\'s';
  if (op.dst === '/dev/ptmx') return '/dev/ptmx leads into that private devpts';
  if (op.dst === '/dev/shm') return 'POSIX shared memory, private to the container';
  if (op.dst === '/dev/mqueue') return 'the POSIX message queues of its IPC namespace';
  if (op.op === 'symlink' && op.dst === '/dev/core') return 'the usual /dev/core link to /proc/kcore (which is masked: it reads as /dev/null), as runc makes it';
  if (op.op === 'symlink' && op.dst.startsWith('/dev/')) return `the usual ${op.dst} link into /proc/self/fd`;
  if (op.dst === '/dev/console') return 'the container\'s terminal, as /dev/console';
  if (ETC_WHY[op.dst]) return ETC_WHY[op.dst]!;
  if (op.dst === INIT_PATH) return '--init: the host\'s static minidock-init, read-only, so nothing inside can rewrite it through /proc/1/exe (CVE-2019-5736)';
  return `${op.op} ${op.dst}${optional}`;
}

/** Why, for a rule of the network plan, read from what the rule matches. */
function ruleWhy(r: IptRule): string {
  const s = r.spec;
  if (/-j DNAT/.test(s)) {
    const m = /-p (\w+) .*--dport (\d+) .*--to-destination (\S+)/.exec(s);
    const only = /-d (\S+)\/32/.exec(s)?.[1];
    return `published port: ${m?.[1]} ${m?.[2]} on ${only ?? 'every host address'} goes to ${m?.[3]}. Only now: a connection forwarded before eth0 had its address would wait a full ARP retry (1 s)`;
  }
  if (/MASQUERADE/.test(s) && /! -o/.test(s)) return 'egress: containers\' packets leave with the host\'s address, so replies find their way back';
  if (/MASQUERADE/.test(s) && /--src-type LOCAL/.test(s)) return 'a published port reached from this host itself (localhost or its own addresses): the reply must come back through the host';
  if (/MASQUERADE/.test(s) && /--ctstate DNAT/.test(s)) return 'hairpin: a container reaching a published port through the host\'s address gets its reply through the host, not straight from its neighbour';
  if (/-j ACCEPT/.test(s) && /RELATED,ESTABLISHED/.test(s)) return 'replies to the containers\' own connections come in, even under a FORWARD policy of DROP';
  if (/-j ACCEPT/.test(s) && /--ctstate DNAT/.test(s)) return 'connections to published ports are let through to the bridge';
  if (/-j ACCEPT/.test(s) && /-i /.test(s)) return 'whatever the containers send out is let through';
  if (/-d 127\.0\.0\.0\/8/.test(s) && /DROP/.test(s)) {
    return 'route_localnet (below) would let a container reach the host\'s 127.0.0.1 services through the bridge: dropped in the raw table, before conntrack, so nothing but this rule decides it (CVE-2020-8558); the replies of localhost:PORT come back addressed to the bridge, never to 127/8';
  }
  if (/-j MINIDOCK-ISOLATION-2/.test(s)) return 'isolation: a new connection from this bridge to another interface is checked against every minidock bridge';
  if (r.chain === 'MINIDOCK-ISOLATION-2' && /-j DROP/.test(s)) return 'isolation: nothing from another minidock network gets into this bridge (docker\'s DOCKER-ISOLATION-STAGE-2); published ports stay open to all, as to any LAN host';
  return `a rule of the network plan in ${r.chain}`;
}

const JUMP_WHY: Record<string, string> = {
  'raw PREROUTING': 'every arriving packet meets minidock\'s localhost guard first, before conntrack and NAT',
  'nat PREROUTING': 'packets for one of this host\'s own addresses, from other hosts or containers, are checked against the published ports',
  'nat OUTPUT': 'and so are those this host sends itself (localhost:PORT)',
  'nat POSTROUTING': 'minidock\'s MASQUERADE rules see every packet leaving',
  'filter FORWARD': 'first in FORWARD, so another tool\'s rules or a policy of DROP cannot stop the bridge\'s traffic before minidock\'s chain sees it',
  'filter MINIDOCK-FORWARD': 'first in minidock\'s FORWARD chain, before any network\'s ACCEPT: new connections that are not to a published port go through the isolation between networks',
};

function vethWhy(line: string, bridge: string): string {
  if (/type ifb/.test(line)) return 'an ifb device for --egress-rate: what the container sends arrives on the host end, where no qdisc can hold it back; redirected here, it leaves through this device\'s tbf';
  if (/^link set \S+ up$/.test(line)) return 'up';
  if (/type veth/.test(line)) {
    return 'a veth pair is a virtual cable; its container end is born inside the child\'s network namespace as eth0 (nothing to rename or move), with a MAC derived from its address';
  }
  if (/ master /.test(line)) return `the host end plugs into the bridge ${bridge}`;
  if (/hairpin on/.test(line)) return 'hairpin mode: DNAT may send a packet back out the port it came in by, when a container calls its own published port';
  return `the host end of the veth pair`;
}

function shapingWhy(line: string): string {
  if (/ root tbf /.test(line) && / dev mdb/.test(line)) return 'the token bucket of --egress-rate, on the ifb: the container\'s packets leave it at that rate';
  if (/ root tbf /.test(line)) return 'a token bucket filter on the host end for --ingress-rate: what the host sends down the veth, the container receives, at that rate';
  if (/ ingress$/.test(line)) return 'an ingress qdisc on the host end: the hook where what the container sends can be caught';
  return 'every packet the container sends, redirected (mirred) to the ifb';
}

function bridgeWhy(line: string): string {
  if (/type bridge/.test(line)) return 'the bridge: a virtual switch in the host, which every container\'s veth plugs into';
  if (/^addr add/.test(line)) return 'its address is the containers\' gateway: they reach the host and the world through it';
  return 'up';
}

const SYSCTL_WHY: Array<[RegExp, string]> = [
  [/ip_forward$/, 'forwarding between the bridge and the uplink: without it no container reaches out'],
  [/route_localnet$/, 'localhost:PORT: after DNAT the packet still comes from 127.0.0.1, which the kernel drops as martian unless route_localnet is set on the device it leaves by; set on the bridge only, never on "all", and only now that the raw guard above drops what a container sends to 127/8'],
  [/ipv6\/conf\/default\/disable_ipv6$/, 'IPv6 off for the interfaces this namespace gets from now on, eth0 first: minidock routes no IPv6, and a new namespace would accept another container\'s router advertisement (accept_ra=1, whatever the host has); lo keeps ::1'],
  [/disable_ipv6$/, 'IPv6 off on the bridge: minidock routes no IPv6, so a container\'s router advertisement must not give the host a default route (CVE-2020-13401), nor IPv6 be a way around the IPv4 rules'],
];

/** A here-document when the text allows one (it reads as the file will), else printf. */
export function fileCommand(path: string, content: string): string {
  if (content.endsWith('\n') && !content.split('\n').includes('EOF')) return `cat > ${shWord(path)} <<'EOF'\n${content}EOF`;
  return `printf '%s' ${shWord(content)} > ${shWord(path)}`;
}

const ruleCommand = (r: IptRule, op: 'A' | 'I' | 'D' | 'C'): string => `iptables -t ${r.table} -${op} ${r.chain} ${r.spec}`;

/** Host ids: "container uid 0 is host uid 100000 (65536 ids)", or "the identity". */
function mapWhy(map: string, what: 'uid' | 'gid'): string {
  const ranges = idRanges(map);
  if (ranges.length === 1 && ranges[0]!.inside === 0 && ranges[0]!.outside === 0) {
    return `the identity: container ${what} N is host ${what} N, so container root is host root. Written from outside the namespace (user_namespaces(7)), before the child needs it`;
  }
  const r = ranges.map((x) => `container ${what}s ${x.inside}-${x.inside + x.count - 1} are host ${what}s ${x.outside}-${x.outside + x.count - 1}`).join('; ');
  return `${r}: container root is an unprivileged nobody on the host. Written from outside the namespace (user_namespaces(7))`;
}

/** The run flag each limit file comes from (v1 and v2 names). */
const LIMIT_FLAG: Array<[RegExp, string]> = [
  [/memory\.(memsw\.limit_in_bytes|swap\.max)$/, '--memory-swap'],
  [/memory\.(limit_in_bytes|max)$/, '--memory'],
  [/cpu\.cfs_period_us$/, '--cpus (docker\'s 100 ms period)'],
  [/cpu\.(cfs_quota_us|max)$/, '--cpus'],
  [/cpu\.(shares|weight)$/, '--cpu-shares'],
  [/cpuset\.cpus$/, '--cpuset-cpus'],
  [/pids\.max$/, '--pids-limit'],
];

function cgroupWhy(op: CgroupOp, mine: ReadonlySet<string>): string {
  if (op.op === 'mkdir') return mine.has(op.path) ? 'the container\'s own cgroup in this hierarchy' : 'the parent all containers\' cgroups share (made once)';
  if (op.op === 'inherit') return 'a new v1 cpuset cgroup starts empty and no task may join until it is set: copy the parent\'s';
  if (op.file.endsWith('cgroup.subtree_control')) return `a child cgroup only gets the controllers its parent enables (${op.value})`;
  if (op.file.endsWith('/devices.deny')) return 'the device cgroup: no device may be opened or made (mknod) but those allowed next';
  if (op.file.endsWith('/devices.allow')) return 'a device node every container gets (null, zero, full, random, urandom, tty, console, ptmx, its own ptys)';
  const flag = LIMIT_FLAG.find(([re]) => re.test(op.file))?.[1] ?? 'a run flag';
  return `the limit ${flag} asks for${op.einvalLater ? ' (the kernel may refuse it until the quota is in: written again after it)' : ''}`;
}

function cgroupCommand(op: CgroupOp): string {
  if (op.op === 'mkdir') return shLine(['mkdir', '-p', op.path]);
  if (op.op === 'inherit') return `[ -n "$(cat ${shWord(op.file)})" ] || cat ${shWord(op.from)} > ${shWord(op.file)}`;
  return `echo ${shWord(op.value)} > ${shWord(op.file)}`;
}

/** The cgroup plan as ordered ops, whichever of the two shapes it came in. */
export function cgroupOps(c: ExplainCgroup): CgroupOp[] {
  if (c.ops) return c.ops;
  return [
    ...c.dirs.map((d): CgroupOp => ({ op: 'mkdir', path: typeof d === 'string' ? d : d.path })),
    ...(c.writes ?? []).map((w): CgroupOp => ({ op: 'write', file: w.path, value: w.value })),
  ];
}

/** Every action, in minidock's order, read off the plans. */
/** The host's side of a bridge attachment: the address and port leases, then the bridge,
 *  its sysctls, minidock's chains and the network's rules (under a heading saying whether this
 *  container makes them or finds them). `run` and the CNI plugin both explain these. */
function netHostActions(net: ExplainNet, root: string, add: (a: Action) => void): void {
  const a = net.attachment;
  const file = `${root}/networks/${a.network}/leases/${a.ip}`;
  add({
    at: 'host', kind: 'lease', file, owner: a.containerId, phase: 'IPAM',
    command: `(set -o noclobber; echo ${a.containerId} > ${file})`,
    why: `${a.ip}, the lowest free address of ${net.config.subnet}: one file per lease, created with O_EXCL under a lock, so two runs can never get the same address and a crash leaves a file naming its owner`,
  });
  for (const p of a.ports) {
    const pf = `${root}/ports/${p.proto}-${p.hostPort}-${p.hostIp}`;
    add({
      at: 'host', kind: 'lease', file: pf, owner: a.containerId, phase: 'IPAM',
      command: `(set -o noclobber; echo ${a.containerId} > ${pf})`,
      why: `host port ${p.hostPort}/${p.proto}, leased the same way (and probed by binding it: a port a host program listens on is refused, not silently stolen)`,
    });
  }
  const phase = net.bridgeExists ? `bridge ${net.config.bridge} (already there: made by the first container on ${net.config.name})` : `bridge ${net.config.bridge} (the first container on ${net.config.name} makes it)`;
  for (const line of net.network.ip) add({ at: 'host', kind: 'bridge', line, phase, command: `ip ${line}`, why: bridgeWhy(line) });
  const sysctl = ([path, value, optional]: Sysctl): void =>
    add({
      at: 'host', kind: 'sysctl', path, value, ...(optional ? { optional: true } : {}), phase,
      command: optional ? `[ ! -e ${path} ] || echo ${value} > ${path}` : `echo ${value} > ${path}`,
      why: SYSCTL_WHY.find(([re]) => re.test(path))?.[1] ?? 'a sysctl the network needs',
    });
  net.network.sysctls.forEach(sysctl);
  for (const [table, chain] of net.chains.chains) {
    add({ at: 'host', kind: 'chain', table, chain, phase, command: `iptables -t ${table} -N ${chain}`, why: 'minidock\'s own chain: its rules stay apart from everyone else\'s, easy to list and to remove (shared by every state root: it goes once no root has a rule in it)' });
  }
  for (const rule of net.chains.jumps) add({ at: 'host', kind: 'jump', rule, phase, command: ruleCommand(rule, 'I'), why: JUMP_WHY[`${rule.table} ${rule.chain}`] ?? 'a jump into minidock\'s chain' });
  for (const rule of net.network.rules) add({ at: 'host', kind: 'rule', rule, phase, command: ruleCommand(rule, 'A'), why: ruleWhy(rule) });
  net.network.afterRules.forEach(sysctl);
}

/** The veth pair: the container namespace's sysctls, the pair (and the ifb of --egress-rate),
 *  the shaping. `ns` replaces the placeholder namespace of a plan made before the pid was known. */
function netVethActions(net: ExplainNet, ns: string, planned: boolean, add: (a: Action) => void): void {
  if (net.netnsSysctls.length) {
    add({
      at: 'parent', kind: 'netns-sysctl', sysctls: net.netnsSysctls, phase: 'veth pair',
      command: shLine(containerSysctlCommand(ns, net.netnsSysctls)),
      why: SYSCTL_WHY.find(([re]) => re.test(net.netnsSysctls[0]![0]))?.[1] ?? 'a sysctl of the container\'s network namespace',
    });
  }
  for (const raw of net.ip) {
    const line = planned ? raw.replace(/ netns 0$/, ` netns ${ns}`) : raw;
    add({ at: 'parent', kind: 'veth', line, phase: 'veth pair', command: `ip ${line}`, why: vethWhy(line, net.attachment.bridge) });
  }
  for (const line of net.tc ?? []) add({ at: 'parent', kind: 'shaping', line, phase: 'veth pair', command: `tc ${line}`, why: shapingWhy(line) });
}

export function planActions(input: ExplainInput): Action[] {
  const { spec, net } = input;
  const child: Child = input.child;
  const pid = input.pid === undefined ? '$PID' : String(input.pid);
  const out: Action[] = [];
  const add = (a: Action): void => void out.push(a);
  const root = input.root ?? '$MINIDOCK_ROOT';
  const upper = overlayOption(child.overlay, 'upperdir');
  const work = overlayOption(child.overlay, 'workdir');
  const ranges = idRanges(child.uidMap);
  const mappedRoot = ranges.length && !(ranges[0]!.inside === 0 && ranges[0]!.outside === 0)
    ? { uid: ranges.find((r) => r.inside === 0)?.outside ?? 0, gid: idRanges(child.gidMap).find((r) => r.inside === 0)?.outside ?? 0 }
    : undefined;

  // ── host: before clone ──
  const dirs = [child.rootfs, ...(child.lowerMnt ? [child.lowerMnt] : []), ...(upper ? [upper] : []), ...(work ? [work] : [])];
  add({
    at: 'host', kind: 'dirs', dirs, phase: 'state', command: shLine(['mkdir', '-p', ...dirs]),
    why: `the container's directory: ${child.lowerMnt ? 'where the image is attached, ' : ''}overlay's mount point (the container's / to be), its writable upper layer and overlay's workdir`,
  });
  if (mappedRoot && upper && work) {
    add({
      at: 'host', kind: 'chown', paths: [upper, work], uid: mappedRoot.uid, gid: mappedRoot.gid, phase: 'state',
      command: shLine(['chown', `${mappedRoot.uid}:${mappedRoot.gid}`, upper, work]),
      why: `the container's root (host uid ${mappedRoot.uid}) writes the upper layer, so it must own it as the host sees it`,
    });
  }
  if (net) netHostActions(net, root, add);
  for (const f of input.files ?? []) {
    const name = posix.basename(f.path);
    const lines = f.content.split('\n').filter(Boolean);
    add({
      at: 'host', kind: 'file', path: f.path, content: f.content, phase: '/etc files',
      command: fileCommand(f.path, f.content),
      why: `the container's ${name} (${lines.length} line${lines.length === 1 ? '' : 's'}), bound over the image's below`,
    });
  }
  if (mappedRoot && input.files?.length) {
    const paths = input.files.map((f) => f.path);
    add({
      at: 'host', kind: 'chown', paths, uid: mappedRoot.uid, gid: mappedRoot.gid, phase: '/etc files',
      command: shLine(['chown', `${mappedRoot.uid}:${mappedRoot.gid}`, ...paths]),
      why: 'the container\'s root owns them, as docker does, so it may edit its own /etc/hosts',
    });
  }

  // ── clone3: the namespaces ──
  const clonePhase = 'clone3: new namespaces, all in one call; the child then waits for "go"';
  if (child.netns) {
    add({ at: 'clone', kind: 'join-net', netns: child.netns, phase: clonePhase, command: `nsenter --net=${child.netns}`, why: 'another container\'s network namespace: the parent enters it just around clone3 (a network namespace belongs to a thread), so the child is born in it' });
  } else if (!child.ns.includes('net')) {
    add({ at: 'clone', kind: 'host-net', phase: clonePhase, command: '(no --net)', why: '--network host: the child stays in the host\'s network namespace' });
  }
  for (const ns of child.ns) {
    if (ns === 'cgroup' && child.lateCgroupns) continue;
    add({ at: 'clone', kind: 'namespace', ns, phase: clonePhase, command: `unshare ${unshareFlag(ns)}${ns === 'pid' ? ' --fork' : ''}`, why: NS[ns]?.why ?? ns });
  }

  // ── parent: between clone and go ──
  if (child.ns.includes('user')) {
    add({ at: 'parent', kind: 'idmap', file: 'uid_map', map: child.uidMap, phase: 'id maps', command: `echo '${child.uidMap}' > /proc/${pid}/uid_map`, why: mapWhy(child.uidMap, 'uid') });
    add({ at: 'parent', kind: 'idmap', file: 'gid_map', map: child.gidMap, phase: 'id maps', command: `echo '${child.gidMap}' > /proc/${pid}/gid_map`, why: mapWhy(child.gidMap, 'gid') });
  }
  if (child.idmapLower && child.lowerMnt) {
    add({
      at: 'parent', kind: 'idmap-lower', image: child.idmapLower, mnt: child.lowerMnt, phase: 'id maps',
      command: `open_tree(${child.idmapLower}, OPEN_TREE_CLONE) + mount_setattr(MOUNT_ATTR_IDMAP, /proc/${pid}/ns/user)  # util-linux >= 2.39: mount -o X-mount.idmap`,
      why: 'an idmapped copy of the image\'s mount, so host uid N reads as N inside: only host root may make it; it travels to the child with "go" as a file descriptor',
    });
  }
  if (input.cgroup) {
    const mine = new Set(input.cgroup.dirs.map((d) => (typeof d === 'string' ? d : d.path)));
    for (const op of cgroupOps(input.cgroup)) add({ at: 'parent', kind: 'cgroup', op, phase: 'cgroups', command: cgroupCommand(op), why: cgroupWhy(op, mine) });
    for (const file of input.cgroup.procs ?? []) {
      add({ at: 'parent', kind: 'cgroup-procs', file, phase: 'cgroups', command: `echo ${pid} > ${file}`, why: 'the child joins its cgroup before "go": everything it starts is counted and limited there' });
    }
  }
  if (net) netVethActions(net, pid, input.pid === undefined, add);
  add({ at: 'go', kind: 'go', phase: 'go', command: 'echo go >&"$GO"', why: 'the child has blocked on this since clone: now its id maps, cgroup and eth0 exist' });

  // ── child: before pivot_root ──
  const childPhase = 'the child, in its namespaces';
  if (child.ns.includes('user')) {
    add({ at: 'child', kind: 'become-root', phase: childPhase, command: 'setpriv --reuid 0 --regid 0 --keep-groups', why: 'become the namespace\'s root now that the maps exist: until now the child held the host ids it was cloned with, which a remapped namespace does not map' });
  }
  if (child.lateCgroupns && child.ns.includes('cgroup')) {
    add({ at: 'child', kind: 'cgroupns', phase: childPhase, command: 'unshare --cgroup', why: 'the cgroup namespace now, not at clone: it is rooted at the cgroup the process is in when it is made, and the parent has just put it in its own' });
  }
  add({ at: 'child', kind: 'hostname', name: child.hostname, phase: childPhase, command: `hostname ${shWord(child.hostname)}`, why: 'sethostname, in the new UTS namespace: the host\'s name is untouched' });
  if (child.loUp) add({ at: 'child', kind: 'lo', phase: childPhase, command: 'ip link set lo up', why: 'a new network namespace starts with lo down; docker\'s containers have it up' });
  if (child.eth) {
    const e = child.eth;
    for (const [line, why] of [
      [`addr add ${e.ip}/${e.prefix} dev eth0`, `the address IPAM leased (ioctls in container.c: no process is started inside for it)`],
      ['link set eth0 up', 'up'],
      [`route add default via ${e.gateway}`, 'everything else goes through the bridge\'s address'],
    ] as const) add({ at: 'child', kind: 'eth', line, phase: childPhase, command: `ip ${line}`, why });
  }
  const mountPhase = 'the root filesystem (every mount in the container\'s mount namespace)';
  const tree = child.treePropagation ?? 'rec,private';
  add({
    at: 'child', kind: 'private', phase: mountPhase, command: `mount ${propagationFlag(tree)} /`,
    why: tree.endsWith('slave')
      ? 'nothing mounted from here on may propagate back to the host (the host\'s / is usually shared), while the host\'s own later mounts still reach in: runc\'s default, and so docker\'s'
      : 'nothing mounted from here on may propagate back to the host (the host\'s / is usually shared)',
  });
  if (child.lowerMnt && child.idmapLower) {
    add({ at: 'child', kind: 'attach-lower', mnt: child.lowerMnt, phase: mountPhase, command: `move_mount(<image fd>, ${child.lowerMnt})`, why: 'the idmapped image from the parent, attached where overlay\'s lowerdir says' });
  }
  if (child.overlay) {
    const mount = shLine(['mount', '-t', 'overlay', 'overlay', '-o', `nodev,${child.overlay}`, child.rootfs]);
    const n = input.layers?.length ?? 1;
    add({
      at: 'child', kind: 'overlay', rootfs: child.rootfs, options: child.overlay, phase: mountPhase, cwd: child.overlayCwd,
      command: child.overlayCwd ? `cd ${shLine([child.overlayCwd])} && ${mount}` : mount,
      why: `${n > 1 ? `the image's ${n} layers are the read-only lower directories, top first` : 'the image is the read-only lower layer'}, writes go to this container's upper layer${child.overlayCwd ? '; the layers are named by short links relative to the layer store (overlay\'s options must fit one page, as docker\'s l/ links do)' : ''}; userxattr: inside a user namespace overlay keeps its whiteout and opaque markers in user.* xattrs; nodev: a device node in an image must never open a host device`,
    });
  } else {
    add({ at: 'child', kind: 'rootfs-bind', rootfs: child.rootfs, phase: mountPhase, command: shLine(['mount', '--rbind', child.rootfs, child.rootfs]), why: 'pivot_root needs a mount point' });
  }
  for (const op of child.ops) {
    const target = `${child.rootfs}${op.dst}`;
    add({ at: 'child', kind: 'op', op, target, phase: mountPhase, command: opCommand(op, target), why: opWhy(op, spec) });
  }

  // ── pivot_root ──
  add({ at: 'pivot', kind: 'pivot', rootfs: child.rootfs, phase: 'pivot_root', command: `cd ${shWord(child.rootfs)} && pivot_root . .`, why: 'the overlay becomes /; pivot_root(".", ".") stacks the old root on top of the new one, so no put_old directory is needed' });
  add({ at: 'pivot', kind: 'umount-old', phase: 'pivot_root', command: 'umount -l .', why: 'detach the old root: only the container\'s tree is left, the host\'s files are out of reach' });
  if (child.readOnlyRoot) add({ at: 'pivot', kind: 'readonly', phase: 'pivot_root', command: 'mount -o remount,ro,nodev /', why: '--read-only: the root goes read-only only now, after every mount point was made in it' });

  // ── exec ──
  const execPhase = 'privileges and exec';
  add({ at: 'exec', kind: 'setsid', phase: execPhase, command: 'setsid', why: child.tty ? 'a session of its own, with the pty as its controlling terminal' : 'a session of its own: no signal from the CLI\'s terminal reaches it by accident' });
  add({ at: 'exec', kind: 'fds', phase: execPhase, command: 'close_range(3, ~0, CLOSE_RANGE_CLOEXEC)  # no shell equivalent', why: 'only stdin, stdout and stderr survive execve (CVE-2024-21626 leaked a host directory\'s descriptor into a container)' });
  add({ at: 'exec', kind: 'cwd', cwd: child.cwd, phase: execPhase, command: `cd ${shWord(child.cwd)}`, why: 'the working directory, resolved inside the container; created if missing, as docker does' });
  if (child.umask !== undefined) {
    const text = `0${child.umask.toString(8).padStart(3, '0')}`;
    add({ at: 'exec', kind: 'umask', umask: child.umask, phase: execPhase, command: `umask ${text}`, why: `the file mode mask the command starts with: ${text}, runc's default (and so docker's), not whatever minidock's caller had` });
  }
  if (child.caps !== undefined) {
    const names = capabilityNames(child.caps).map((n) => n.replace(/^CAP_/, '').toLowerCase());
    const all = names.length === CAP_NAMES.length;
    add({
      at: 'exec', kind: 'caps', caps: names, phase: execPhase,
      command: `setpriv ${all ? '' : `--bounding-set ${['-all', ...names.map((n) => `+${n}`)].join(',')} `}--inh-caps -all --ambient-caps -all`,
      why: all
        ? 'every capability (--privileged): nothing leaves the bounding set'
        : `the capabilities root keeps (docker's default set${child.caps === DEFAULT_MASK ? '' : ', changed by --cap-add/--cap-drop'}); the others leave the bounding set, so not even a setuid program gets them back`,
    });
  }
  add({
    at: 'exec', kind: 'ids', uid: child.uid, gid: child.gid, groups: child.groups, phase: execPhase,
    command: `setpriv ${child.groups.length ? `--groups ${child.groups.join(',')}` : '--clear-groups'} --regid ${child.gid} --reuid ${child.uid}`,
    why: `setgroups, setresgid, setresuid: the command runs as uid ${child.uid}, gid ${child.gid}`,
  });
  if (child.noNewPrivs) add({ at: 'exec', kind: 'nnp', phase: execPhase, command: 'setpriv --no-new-privs', why: 'no_new_privs: setuid bits and file capabilities in the image give nothing' });
  if (child.seccomp === 'default') {
    add({ at: 'exec', kind: 'seccomp', phase: execPhase, command: 'prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, native/src/seccomp.c)  # no shell equivalent', why: 'the seccomp allow-list, last before execve: mounts, namespaces, modules, kexec, bpf, the clock get EPERM unless the container has the capability that unlocks them' });
  } else if (child.seccompProg !== undefined) {
    add({ at: 'exec', kind: 'seccomp', phase: execPhase, command: `seccomp(SECCOMP_SET_MODE_FILTER, ${child.seccompFlags ?? 0}, ${child.seccompProg.length / 16} BPF instructions)  # no shell equivalent`, why: 'the seccomp filter compiled from the given profile (src/oci/seccomp.ts), last before execve' });
  }
  add({
    at: 'exec', kind: 'exec', argv: child.argv, env: child.env, phase: execPhase,
    command: shLine(['exec', 'env', '-i', ...child.env, ...child.argv]),
    why: 'execve: the command replaces the child and is the container\'s PID 1, with exactly this environment',
  });

  // ── after the command started ──
  for (const rule of net?.rules ?? []) add({ at: 'after', kind: 'port', rule, phase: 'published ports', command: ruleCommand(rule, 'A'), why: ruleWhy(rule) });

  // ── when it exits ──
  const exitPhase = 'when the container exits';
  for (const rule of net?.rules ?? []) {
    add({ at: 'exit', kind: 'unport', rule, phase: exitPhase, command: ruleCommand(rule, 'D'), why: 'the published port\'s rule goes (the veth pair and every mount need no step: they go with the namespaces)' });
  }
  for (const d of input.cgroup?.dirs ?? []) {
    const path = typeof d === 'string' ? d : d.path;
    add({ at: 'exit', kind: 'cgroup-rmdir', path, phase: exitPhase, command: `rmdir ${shWord(path)}`, why: 'the container\'s cgroup, once its last process is gone' });
  }
  for (const a of out.filter((x): x is Action & { kind: 'lease' } => x.kind === 'lease')) {
    add({ at: 'exit', kind: 'release', file: a.file, phase: exitPhase, command: `rm ${a.file}`, why: 'the lease goes back to the pool' });
  }
  return out;
}

/** The steps of a CNI ADD (minidock-cni with MINIDOCK_CNI_EXPLAIN=1): the same host side and
 *  veth pair as `run`, then what `run`'s child does for itself done from outside (the address,
 *  the route), then the published ports. */
export function explainCniAdd(net: ExplainNet, o: { root: string; netns: string; inside: string[] }): Step[] {
  const out: Action[] = [];
  const add = (a: Action): void => void out.push(a);
  netHostActions(net, o.root, add);
  netVethActions(net, o.netns, false, add);
  const phase = `inside ${o.netns}`;
  for (const line of o.inside) {
    add({
      at: 'child', kind: 'eth', line, phase, command: `nsenter --net=${o.netns} ip ${line}`,
      why: /^addr/.test(line) ? 'the address IPAM leased, on the interface the runtime named' : /^link/.test(line) ? 'up' : 'everything else goes through the bridge\'s address (unless the namespace has a default route already: a second interface gets its subnet\'s only)',
    });
  }
  for (const rule of net.rules) add({ at: 'after', kind: 'port', rule, phase: 'published ports', command: ruleCommand(rule, 'A'), why: ruleWhy(rule) });
  return out.map(({ phase: p, command, why }) => ({ phase: p, command, why }));
}

/** The explanation: one step per kernel action, in the order minidock does them. */
export function explainSteps(input: ExplainInput): Step[] {
  return planActions(input).map(({ phase, command, why }) => ({ phase, command, why }));
}

/** Breaks `text` into lines of at most `width` characters at spaces. */
export function wrap(text: string, width: number): string[] {
  const out: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line && line.length + 1 + word.length > width) {
      out.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) out.push(line);
  return out;
}

/** Numbered steps under their phases, commands continued with `\`, whys as `#` lines. `vars`
 *  shortens long paths: {DIR: '/var/lib/minidock/containers/<id>'} prints `$DIR/rootfs`. */
export function formatSteps(steps: Step[], o: { width?: number; vars?: Record<string, string> } = {}): string {
  const width = o.width ?? 100;
  const vars = Object.entries(o.vars ?? {}).sort(([, a], [, b]) => b.length - a.length);
  const short = (text: string): string => vars.reduce((t, [name, value]) => t.split(value).join(`$${name}`), text);
  const out: string[] = [
    ...wrap(`What minidock does for this container, in order: ${steps.length} steps, each as the shell command that does the same, and why.`, width),
    ...vars.map(([name, value]) => `  ${name}=${value}`),
  ];
  const num = String(steps.length).length;
  const indent = ' '.repeat(num + 2);
  let phase = '';
  steps.forEach((s, i) => {
    if (s.phase !== phase) {
      phase = s.phase;
      out.push('', `── ${phase} ──`);
    }
    // A multi-line command (a here-document) is shown as it is; a long one-liner is continued.
    const command = short(s.command);
    const cmd = command.includes('\n')
      ? command.split('\n')
      : wrap(command, width - indent.length - 6).map((p, j, all) => (j < all.length - 1 ? `${p} \\` : p));
    out.push(`${String(i + 1).padStart(num)}. ${cmd[0]}`, ...cmd.slice(1).map((l) => `${indent}    ${l}`));
    for (const l of wrap(short(s.why), width - indent.length - 2)) out.push(`${indent}# ${l}`);
  });
  return out.join('\n') + '\n';
}

/** JSON on one line, spaced as a person writes it: {"a": 1, "b": [2, 3]}. */
function oneLine(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(oneLine).join(', ')}]`;
  if (value !== null && typeof value === 'object') {
    return `{${Object.entries(value).filter(([, v]) => v !== undefined).map(([k, v]) => `${JSON.stringify(k)}: ${oneLine(v)}`).join(', ')}}`;
  }
  return JSON.stringify(value);
}

/** JSON indented by two, with each array or object on one line where that line fits `width`
 *  (as people write config.json by hand), so the config reads in a screen or two. */
export function compactJson(value: unknown, width: number, indent = '', key = ''): string {
  const flat = oneLine(value);
  if (value === null || typeof value !== 'object' || indent.length + key.length + flat.length <= width) return flat;
  const inner = `${indent}  `;
  // A long list of names or numbers: as many to a line as fit.
  if (Array.isArray(value) && value.every((v) => v === null || typeof v !== 'object')) {
    const lines: string[] = [];
    for (const item of value.map((v) => JSON.stringify(v))) {
      const last = lines.length - 1;
      // + 1: the comma that ends a line that is not the last.
      if (last >= 0 && inner.length + lines[last]!.length + 2 + item.length + 1 <= width) lines[last] += `, ${item}`;
      else lines.push(item);
    }
    return `[\n${lines.map((l) => inner + l).join(',\n')}\n${indent}]`;
  }
  const entries = Array.isArray(value)
    ? value.map((v) => inner + compactJson(v, width, inner))
    : Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined).map(([k, v]) => `${inner}${JSON.stringify(k)}: ${compactJson(v, width, inner, `${JSON.stringify(k)}: `)}`);
  const [open, close] = Array.isArray(value) ? ['[', ']'] : ['{', '}'];
  return entries.length ? `${open}\n${entries.join(',\n')}\n${indent}${close}` : `${open}${close}`;
}

/** The OCI config as `--explain` shows it: whole, but for the seccomp profile's rules (hundreds
 *  of system calls), which are counted; `--dry-run --bundle DIR` writes them all. */
export function formatConfig(config: Record<string, unknown>, dir: string): string {
  const shown = JSON.parse(JSON.stringify(config)) as { linux?: { seccomp?: { syscalls?: unknown[] } & Record<string, unknown> } };
  const sc = shown.linux?.seccomp;
  if (sc?.syscalls) (sc as Record<string, unknown>).syscalls = `… ${sc.syscalls.length} rules (run --dry-run --bundle DIR writes them)`;
  const json = compactJson(shown, 100).split(dir).join('$DIR');
  return [
    ...wrap('The OCI runtime config minidock built for this container from the flags and the image (config.json, as dockerd hands it to runc; it stays in memory, with the container\'s directory as its bundle). minidock-runc plans its containers from the same kind of file, with the same planner.', 100),
    `  DIR=${dir}`,
    '',
    json,
    '',
    ...wrap('Outside the config, as they are outside runc in docker: the root is an overlay of the image (the snapshotter\'s part), eth0 on the bridge is wired from the host (the network\'s part), and names, logs, --rm and -d are minidock\'s own.', 100),
    '',
  ].join('\n');
}

/** The explanation as printed by `run --explain`: the OCI config, then the kernel steps taken
 *  from it; the container's directory shown as $DIR. */
export function explain(input: ExplainInput): string {
  const dir = posix.dirname(input.child.rootfs);
  const steps = formatSteps(explainSteps(input), { vars: { DIR: dir } });
  const head = [input.config ? formatConfig(input.config, dir) : '', input.layers ? formatLayers(input.layers, input.spec.image.ref) : ''].filter(Boolean).join('\n');
  return head ? `${head}\n${steps}` : steps;
}

/** The image's layer stack: what overlay's lowerdir list stands for, with the step that made
 *  each layer (the config's history) and its content digest. */
export function formatLayers(layers: NonNullable<ExplainInput['layers']>, ref: string): string {
  const { humanSize } = sizes;
  const lines = [
    `── image ${ref}: ${layers.length} layer${layers.length === 1 ? '' : 's'}, top first (overlay's lowerdir order) ──`,
    ...layers.map((l, i) => `${String(i + 1).padStart(4)}. ${l.link}  ${l.diffId.slice(0, 19)}…  ${humanSize(l.size).padStart(7)}  ${l.createdBy ? l.createdBy.replace(/\s+/g, ' ').slice(0, 60) : '(no history)'}`),
    '',
  ];
  return lines.join('\n');
}
