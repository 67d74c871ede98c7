// `minidock doctor`: what on this host breaks containers, and what to do about each thing.
// Pure: facts in (read by src/cli/doctor.ts from /proc, /sys, iptables and the state store),
// findings out. Every check says what it found and why it matters, so the output doubles as a
// tour of what a container runtime depends on.
//
//   level  check        finding
//   ok     ip_forward   1: the host routes packets between minidock's bridges and its uplink
//   fail   forward      policy DROP, and nothing jumps to MINIDOCK-FORWARD: ...
//                       → fix: iptables -I FORWARD 1 -j MINIDOCK-FORWARD
//
// `ok` needs nothing; `warn` may break something, or will once a feature needs it; `fail` breaks
// containers now. The command exits 1 when any check fails, else 0.
import { parseSave, ruleOwner, type SavedRules } from '../network/counters.js';
import { CHAINS } from '../network/plan.js';
import { CONTROLLERS, V2_NAME, hierarchyOf, type CgroupLayout, type Controller } from '../cgroup/layout.js';

export type Level = 'ok' | 'warn' | 'fail';

export interface Finding {
  level: Level;
  check: string;
  finding: string;
  fix?: string;
}

/** What doctor counts as left over by crashes: what `minidock gc` would reclaim. */
export interface LeftoverFacts {
  containers: Array<{
    id: string;
    /** The status `ps` shows (a dead "running" container reads as exited). */
    status?: string;
    /** state.json's own status, before that reconciliation. */
    rawStatus?: string;
    creatorAlive: boolean;
    /** Made by `create`: Created on purpose, not half-made. */
    standing?: boolean;
    /** It still holds what its cleanup releases: a network attachment or a cgroup. */
    holdsResources: boolean;
    exitCode?: number;
  }>;
  /** Ids of containers whose processes (or whose creating minidock) are alive. */
  live: string[];
  /** owner null: the lease file names no readable owner (left in use, see network/store.ts). */
  leases: Array<{ network: string; ip: string; owner: string | null }>;
  portLeases: Array<{ owner: string | null; file?: string }>;
  /** Host-side veth names in this network namespace. */
  links: string[];
  /** $ROOT/names entries and whether their container directory exists. */
  names: Array<{ name: string; containerExists: boolean }>;
  /** Namespaces `minidock trace --from lan` left behind (its process died before removing them). */
  deadTraceNamespaces: string[];
}

export interface DoctorFacts {
  uid: number;
  kernelRelease: string;
  /** Whether the image store's filesystem takes idmapped mounts (src/image/shift.ts canIdmap). */
  storeIdmap?: boolean;
  /** /proc/sys/net/ipv4/ip_forward, undefined when unreadable. */
  ipForward?: string;
  /** Bridges of minidock's networks that exist in this network namespace. */
  bridges: string[];
  /** Interfaces with net.ipv4.conf.<dev>.route_localnet=1 ("all" included): each needs
   *  minidock's raw guard (a DROP of 127.0.0.0/8 arriving on it), or it opens the host's
   *  loopback services to whatever is behind it. */
  routeLocalnet?: string[];
  /** This root's bridges with IPv6 still on: disable_ipv6 and accept_ra as read. */
  bridgeIpv6?: Array<{ bridge: string; disableIpv6?: string; acceptRa?: string }>;
  /** `iptables -V`, undefined when iptables is missing. */
  iptablesVersion?: string;
  /** `iptables-save -c` of the backend `iptables` uses, or why it could not be read. */
  save?: string;
  saveError?: string;
  /** Rules in the other backend's tables (0 when it has none), undefined when unknown. */
  otherBackendRules?: number;
  /** Base chains of native nftables tables hooked at forward with policy drop ("inet filter forward"). */
  nftForwardDrop: string[];
  /** /proc/sys/net/bridge/bridge-nf-call-iptables: undefined when br_netfilter is not loaded. */
  bridgeNfCallIptables?: string;
  /** Containers' host-side veths (mdk<id12>) whose bridge port is not in hairpin mode. */
  hairpinOff: string[];
  /** Where each controller is, as minidock's limits see it (src/cgroup/layout.ts). */
  cgroups: CgroupLayout;
  /** Controllers /proc/cgroups lists as enabled (v1 names). */
  cgroupEnabled: string[];
  /** /proc/filesystems. */
  filesystems: string;
  /** Whether the kernel ships overlayfs as a module (loaded on the first overlay mount). */
  overlayModule: boolean;
  maxUserNamespaces?: number;
  resolvConf: string;
  /** Tool name -> its path, undefined when not on $PATH. */
  tools: Record<string, string | undefined>;
  /** /proc/net/nf_conntrack exists (what trace reads when conntrack is missing). */
  procConntrack: boolean;
  leftovers: LeftoverFacts;
}

/** The tools minidock runs, and the Debian package of each. */
export const REQUIRED_TOOLS: Record<string, string> = {
  ip: 'iproute2',
  iptables: 'iptables',
  'iptables-save': 'iptables',
  'iptables-restore': 'iptables',
  nsenter: 'util-linux',
};
export const OPTIONAL_TOOLS = ['conntrack', 'nft', 'iptables-legacy-save', 'iptables-nft-save'];

export function diagnose(f: DoctorFacts): Finding[] {
  const save = f.save === undefined ? undefined : parseSave(f.save);
  return [
    root(f),
    ...tools(f),
    ipForward(f),
    backend(f),
    ...forward(f, save),
    localnet(f, save),
    ipv6(f),
    brNetfilter(f, save),
    ...cgroups(f),
    overlay(f),
    userns(f),
    idmap(f),
    resolver(f),
    leftovers(f, save),
  ];
}

function root(f: DoctorFacts): Finding {
  return f.uid === 0
    ? { level: 'ok', check: 'root', finding: 'running as root (namespaces, veths and iptables rules need it)' }
    : { level: 'fail', check: 'root', finding: `running as uid ${f.uid}: minidock creates namespaces, veths and iptables rules, which need root (many checks below cannot see everything either)`, fix: 'run minidock as root (sudo minidock doctor)' };
}

function tools(f: DoctorFacts): Finding[] {
  const missing = Object.keys(REQUIRED_TOOLS).filter((t) => !f.tools[t]);
  const packages = [...new Set(missing.map((t) => REQUIRED_TOOLS[t]!))];
  const required: Finding = missing.length
    ? { level: 'fail', check: 'tools', finding: `missing: ${missing.join(', ')} (minidock runs them to build networks and enter namespaces)`, fix: `apt-get install ${packages.join(' ')} (bin/setup installs them)` }
    : { level: 'ok', check: 'tools', finding: `${Object.keys(REQUIRED_TOOLS).join(', ')} found` };
  const conntrack: Finding = f.tools.conntrack
    ? { level: 'ok', check: 'conntrack', finding: `${f.tools.conntrack}: minidock trace lists connection tracking entries with it` }
    : f.procConntrack
      ? { level: 'ok', check: 'conntrack', finding: 'the conntrack tool is absent (optional): minidock trace reads /proc/net/nf_conntrack' }
      : { level: 'warn', check: 'conntrack', finding: 'neither the conntrack tool nor /proc/net/nf_conntrack: minidock trace cannot show how a connection was translated', fix: 'apt-get install conntrack' };
  return [required, conntrack];
}

function ipForward(f: DoctorFacts): Finding {
  const check = 'ip_forward';
  if (f.ipForward === undefined) return { level: 'warn', check, finding: '/proc/sys/net/ipv4/ip_forward is unreadable', fix: 'is /proc mounted?' };
  if (f.ipForward === '1') return { level: 'ok', check, finding: '1: the host routes packets between minidock\'s bridges and its uplink' };
  if (!f.bridges.length) return { level: 'ok', check, finding: `${f.ipForward}: minidock turns it on when it creates its first bridge` };
  return {
    level: 'fail', check,
    finding: `${f.ipForward} while bridge ${f.bridges.join(', ')} exists: containers cannot reach past the host, and the LAN cannot reach published ports`,
    fix: 'sysctl -w net.ipv4.ip_forward=1 (minidock set it when it made the bridge; something turned it off since, persist it in /etc/sysctl.d)',
  };
}

function backend(f: DoctorFacts): Finding {
  const check = 'iptables';
  if (!f.iptablesVersion) return { level: 'fail', check, finding: 'iptables is not installed: minidock writes NAT and filter rules with it', fix: 'apt-get install iptables' };
  const mode = /\((nf_tables|legacy)\)/.exec(f.iptablesVersion)?.[1] ?? 'legacy';
  const other = mode === 'legacy' ? 'nf_tables' : 'legacy';
  const version = /v[\d.]+/.exec(f.iptablesVersion)?.[0] ?? f.iptablesVersion.trim();
  const rules = f.save === undefined ? undefined : parseSave(f.save).rules.length;
  const here = rules === undefined ? '' : `, ${rules} rule(s)`;
  if (f.otherBackendRules) {
    const tool = mode === 'legacy' ? 'iptables-nft' : 'iptables-legacy';
    return {
      level: 'warn', check,
      finding: `${version}, ${mode} backend${here}; the ${other} tables hold ${f.otherBackendRules} rule(s) too: the kernel runs both, a DROP in either drops, and minidock's rules are only in ${mode}`,
      fix: `look at them with ${tool}-save; move that tool to one backend (update-alternatives --config iptables) or flush the ${other} tables if nothing uses them`,
    };
  }
  const otherText = f.otherBackendRules === 0 ? `; ${other} tables empty` : '';
  return { level: 'ok', check, finding: `${version}, ${mode} backend${here}${otherText}` };
}

const isDropTarget = (spec: string): boolean => /-j (DROP|REJECT)\b/.test(spec);

/** The forward path: FORWARD's policy and minidock's rules in it, and native nftables chains
 *  that drop forwarded packets whatever iptables accepts. */
function forward(f: DoctorFacts, save: SavedRules | undefined): Finding[] {
  const check = 'forward';
  const out: Finding[] = [];
  if (!save) {
    out.push({ level: 'fail', check, finding: `cannot read the rules: ${f.saveError ?? 'iptables-save failed'}`, fix: 'run as root, with iptables installed' });
  } else {
    const policy = save.chains.find((c) => c.table === 'filter' && c.chain === 'FORWARD')?.policy ?? 'ACCEPT';
    const fwd = save.rules.filter((r) => r.table === 'filter' && r.chain === 'FORWARD');
    const jump = fwd.findIndex((r) => r.spec === `-j ${CHAINS.forward}`);
    const mine = save.rules.filter((r) => r.table === 'filter' && r.chain === CHAINS.forward);
    const uncovered = f.bridges.filter((br) => !mine.some((r) => r.spec.startsWith(`-i ${br} `)));
    const droppers = (jump < 0 ? fwd : fwd.slice(0, jump)).filter((r) => isDropTarget(r.spec));
    const restart = (brs: string[]): string =>
      `with no container on it, ip link del ${brs.join(' / ')}: the next minidock run recreates the bridge with its rules`;
    if (policy !== 'DROP') {
      out.push({ level: 'ok', check, finding: `FORWARD policy ${policy}: forwarded packets pass unless a rule drops them${jump >= 0 ? `; ${mine.length} rule(s) in ${CHAINS.forward}` : ''}` });
    } else if (!f.bridges.length) {
      out.push({ level: 'ok', check, finding: `FORWARD policy DROP: minidock puts a jump to ${CHAINS.forward} first in FORWARD, admitting its bridge, when it creates one` });
    } else if (jump < 0) {
      out.push({
        level: 'fail', check,
        finding: `FORWARD policy DROP and no jump to ${CHAINS.forward}: every packet to or from a container on ${f.bridges.join(', ')} is dropped`,
        fix: mine.length ? `iptables -I FORWARD 1 -j ${CHAINS.forward}` : restart(f.bridges),
      });
    } else if (uncovered.length) {
      out.push({
        level: 'fail', check,
        finding: `FORWARD policy DROP and ${CHAINS.forward} has no rule for ${uncovered.join(', ')}: that bridge's traffic is dropped`,
        fix: restart(uncovered),
      });
    } else {
      out.push({ level: 'ok', check, finding: `FORWARD policy DROP; FORWARD jumps to ${CHAINS.forward}, whose ${mine.length} rule(s) admit ${f.bridges.join(', ')}` });
    }
    if (droppers.length && f.bridges.length) {
      out.push({
        level: 'warn', check,
        finding: `${droppers.length} DROP/REJECT rule(s) in FORWARD come before ${jump < 0 ? 'where minidock\'s jump belongs' : `the jump to ${CHAINS.forward}`} (e.g. ${droppers[0]!.spec}): they see container traffic first`,
        fix: `iptables -S FORWARD shows the order; move minidock's jump first: iptables -D FORWARD -j ${CHAINS.forward}; iptables -I FORWARD 1 -j ${CHAINS.forward}`,
      });
    }
  }
  for (const chain of f.nftForwardDrop) {
    out.push({
      level: 'warn', check: 'nftables',
      finding: `nftables chain "${chain}" hooks forward with policy drop: an ACCEPT in iptables does not stop another table's drop, so forwarded container traffic dies there`,
      fix: `admit the bridges in that chain (nft add rule ${chain} iifname "mdk*" accept; nft add rule ${chain} oifname "mdk*" accept)`,
    });
  }
  return out;
}

/** Interfaces whose 127.0.0.0/8 traffic minidock's raw guard drops: its rules in
 *  MINIDOCK-PREROUTING, counted only while raw PREROUTING jumps there (or such a rule sits in raw
 *  PREROUTING itself). */
export function guardedDevices(save: SavedRules): Set<string> {
  const jump = save.rules.some((r) => r.table === 'raw' && r.chain === 'PREROUTING' && r.spec === `-j ${CHAINS.guard}`);
  const out = new Set<string>();
  for (const r of save.rules) {
    if (r.table !== 'raw' || !(r.chain === 'PREROUTING' || (jump && r.chain === CHAINS.guard))) continue;
    const m = /^-d 127\.0\.0\.0\/8 -i (\S+) .*-j DROP$/.exec(r.spec);
    if (m) out.add(m[1]!);
  }
  return out;
}

/** route_localnet lets packets to 127.0.0.0/8 in through an interface: safe on minidock's
 *  bridges only with the raw guard (kube-proxy's CVE-2020-8558). */
function localnet(f: DoctorFacts, save: SavedRules | undefined): Finding {
  const check = 'localnet';
  const on = f.routeLocalnet ?? [];
  if (on.includes('all')) {
    return {
      level: 'fail', check,
      finding: 'net.ipv4.conf.all.route_localnet=1: every interface takes packets for 127.0.0.0/8, so other hosts and containers may reach the host\'s loopback-only services (CVE-2020-8558)',
      fix: 'sysctl -w net.ipv4.conf.all.route_localnet=0 (minidock sets it on its bridges only)',
    };
  }
  if (!on.length) return { level: 'ok', check, finding: 'route_localnet is off everywhere: nothing but lo takes packets for 127.0.0.0/8' };
  if (!save) return { level: 'warn', check, finding: `route_localnet=1 on ${on.join(', ')}, and the rules that should guard it cannot be read`, fix: 'run as root, with iptables installed' };
  const guarded = guardedDevices(save);
  const open = on.filter((d) => !guarded.has(d));
  if (open.length) {
    return {
      level: 'fail', check,
      finding: `route_localnet=1 on ${open.join(', ')} and no guard: a container there reaches the host's 127.0.0.1 services (raw ${CHAINS.guard} has no DROP of 127.0.0.0/8 from it${save.rules.some((r) => r.table === 'raw' && r.spec === `-j ${CHAINS.guard}`) ? '' : ', and raw PREROUTING does not jump there'})`,
      fix: `${open.map((d) => `echo 0 > /proc/sys/net/ipv4/conf/${d}/route_localnet`).join('; ')} now; the next minidock run on that network puts the guard back and turns it on again`,
    };
  }
  return { level: 'ok', check, finding: `route_localnet=1 on ${on.join(', ')} (localhost:PORT), each guarded: raw ${CHAINS.guard} drops 127.0.0.0/8 arriving there` };
}

/** IPv6 on a bridge minidock does not route IPv6 on: router advertisements from a container
 *  would configure the host (CVE-2020-13401). */
function ipv6(f: DoctorFacts): Finding {
  const check = 'ipv6';
  const on = (f.bridgeIpv6 ?? []).filter((b) => b.disableIpv6 === '0');
  const ra = on.filter((b) => b.acceptRa !== '0');
  if (ra.length) {
    return {
      level: 'warn', check,
      finding: `IPv6 is on for ${ra.map((b) => b.bridge).join(', ')} and router advertisements are accepted: a container can give this host an IPv6 default route through itself (CVE-2020-13401)`,
      fix: `${ra.map((b) => `echo 1 > /proc/sys/net/ipv6/conf/${b.bridge}/disable_ipv6`).join('; ')} (the next minidock run on that network does it too)`,
    };
  }
  if (on.length) return { level: 'ok', check, finding: `IPv6 is on for ${on.map((b) => b.bridge).join(', ')}, without router advertisements (accept_ra=0); minidock turns it off` };
  return { level: 'ok', check, finding: 'IPv6 is off on minidock\'s bridges and in its containers: minidock routes no IPv6, and a container\'s router advertisement reaches no one' };
}

function brNetfilter(f: DoctorFacts, save: SavedRules | undefined): Finding {
  const check = 'br_netfilter';
  const v = f.bridgeNfCallIptables;
  if (v === undefined) {
    return { level: 'ok', check, finding: 'not loaded: frames between containers on a bridge skip iptables (minidock\'s hairpin MASQUERADE does not need it)' };
  }
  if (v !== '1') return { level: 'ok', check, finding: `loaded, bridge-nf-call-iptables=${v}: frames between containers on a bridge skip iptables` };
  const policy = save?.chains.find((c) => c.table === 'filter' && c.chain === 'FORWARD')?.policy;
  const jump = save?.rules.some((r) => r.table === 'filter' && r.chain === 'FORWARD' && r.spec === `-j ${CHAINS.forward}`);
  if (policy === 'DROP' && f.bridges.length && !jump) {
    return {
      level: 'warn', check,
      finding: 'loaded, bridge-nf-call-iptables=1: frames between containers on a bridge go through FORWARD, so its DROP cuts them off from each other too',
      fix: `restore minidock's FORWARD rules (see the forward check), or sysctl -w net.bridge.bridge-nf-call-iptables=0`,
    };
  }
  if (f.hairpinOff.length) {
    const ports = f.hairpinOff.length > 2 ? `${f.hairpinOff.slice(0, 2).join(', ')}...` : f.hairpinOff.join(', ');
    return {
      level: 'warn', check,
      finding: `loaded, bridge-nf-call-iptables=1: the bridge carries DNAT'd frames itself, and ${f.hairpinOff.length} port(s) (${ports}) lack hairpin mode: their container cannot reach its own published port`,
      fix: `ip link set ${f.hairpinOff[0]} type bridge_slave hairpin on (each port; docker does this), or sysctl -w net.bridge.bridge-nf-call-iptables=0`,
    };
  }
  return { level: 'ok', check, finding: 'loaded, bridge-nf-call-iptables=1: frames between containers on a bridge pass FORWARD (minidock\'s rules admit them)' };
}

/** What each controller is for in minidock (docker's flags). */
const CONTROLLER_USE: Record<Controller, string> = {
  memory: '-m/--memory-swap', cpu: '--cpus/--cpu-shares', cpuacct: 'CPU usage in stats', cpuset: '--cpuset-cpus', pids: '--pids-limit', blkio: 'block I/O in stats',
};

function cgroups(f: DoctorFacts): Finding[] {
  const l = f.cgroups;
  const v2 = l.hierarchies.find((h) => h.version === 2);
  const v1 = l.hierarchies.filter((h) => h.version === 1);
  const summary: Finding =
    l.mode === 'none'
      ? { level: 'warn', check: 'cgroups', finding: 'no cgroup filesystem is mounted: no resource limit (-m, --cpus, --pids-limit) can be set', fix: 'mount -t cgroup2 none /sys/fs/cgroup' }
      : l.mode === 'v2'
        ? { level: 'ok', check: 'cgroups', finding: `v2 (unified) at ${v2!.mount}: one tree, every controller's files side by side (memory.max, cpu.max, pids.max)` }
        : {
          level: 'ok', check: 'cgroups',
          finding: `${l.mode}: ${v1.length} v1 hierarchies${v2 ? `, cgroup2 at ${v2.mount} (${v2.controllers.filter((c) => V2_NAME[c]).join(' ') || 'no controller of ours'})` : ''}: each limit goes where its controller is (v1 files: memory.limit_in_bytes, cpu.cfs_quota_us)`,
        };
  // With nothing mounted, one line says it all: the per-controller fixes would contradict it.
  if (l.mode === 'none') return [summary];
  const lines = CONTROLLERS.map((c): Finding => {
    const check = `cgroup.${c}`;
    const h = hierarchyOf(l, c);
    if (h?.version === 1) {
      if (c === 'memory' && l.swapAccounting === false) {
        return { level: 'warn', check, finding: `v1 at ${h.mount}, without swap accounting (no memory.memsw.*): --memory-swap cannot be enforced`, fix: 'boot with swapaccount=1' };
      }
      return { level: 'ok', check, finding: `v1 at ${h.mount}: ${CONTROLLER_USE[c]}` };
    }
    if (h) return { level: 'ok', check, finding: `v2 at ${h.mount}${V2_NAME[c] && V2_NAME[c] !== c ? ` (as ${V2_NAME[c]})` : ''}${V2_NAME[c] === null ? ' (cpu.stat, in every v2 cgroup)' : ''}: ${CONTROLLER_USE[c]}` };
    if (f.cgroupEnabled.includes(c)) {
      return {
        level: 'warn', check, finding: `the kernel has it, but no mounted hierarchy offers it: ${CONTROLLER_USE[c]} cannot work`,
        fix: v2 && l.mode === 'v2' ? `echo +${V2_NAME[c] ?? c} > ${v2.mount}/cgroup.subtree_control` : `mount -t cgroup -o ${c} cgroup /sys/fs/cgroup/${c}`,
      };
    }
    return { level: 'warn', check, finding: `not in this kernel (or disabled on its command line): ${CONTROLLER_USE[c]} cannot work`, fix: `a kernel with the ${c} controller (CONFIG_CGROUP_* / CONFIG_MEMCG)` };
  });
  return [summary, ...lines];
}

function overlay(f: DoctorFacts): Finding {
  if (/\boverlay\b/.test(f.filesystems)) return { level: 'ok', check: 'overlay', finding: 'in /proc/filesystems: image layers are shared read-only, each container writes its own upper layer' };
  if (f.overlayModule) return { level: 'ok', check: 'overlay', finding: 'overlayfs is a module, not loaded yet: the kernel loads it at the first overlay mount' };
  return { level: 'fail', check: 'overlay', finding: 'overlayfs is not in /proc/filesystems and no module was found: minidock mounts every container root as an overlay', fix: 'modprobe overlay, or a kernel with CONFIG_OVERLAY_FS' };
}

function userns(f: DoctorFacts): Finding {
  const n = f.maxUserNamespaces;
  if (n === undefined) return { level: 'warn', check: 'userns', finding: '/proc/sys/user/max_user_namespaces is unreadable: this kernel may lack user namespaces, which every container uses', fix: 'a kernel with CONFIG_USER_NS' };
  if (n === 0) return { level: 'fail', check: 'userns', finding: 'user.max_user_namespaces=0: every container is cloned with CLONE_NEWUSER, which fails', fix: 'sysctl -w user.max_user_namespaces=15000 (and persist it in /etc/sysctl.d)' };
  return { level: 'ok', check: 'userns', finding: `user.max_user_namespaces=${n}: each container gets its own user namespace` };
}

/** "6.1.0-18-amd64" -> [6, 1]. */
export function kernelVersion(release: string): [number, number] | undefined {
  const m = /^(\d+)\.(\d+)/.exec(release);
  return m ? [Number(m[1]), Number(m[2])] : undefined;
}

const atLeast = (v: [number, number], major: number, minor: number): boolean => v[0] > major || (v[0] === major && v[1] >= minor);

function idmap(f: DoctorFacts): Finding {
  const check = 'idmap';
  const v = kernelVersion(f.kernelRelease);
  if (!v) return { level: 'warn', check, finding: `cannot tell the kernel version from "${f.kernelRelease}"` };
  const ver = `${v[0]}.${v[1]}`;
  const copy = 'so minidock copies each image once, with owners shifted into the remapped range (disk and a slower first run)';
  if (atLeast(v, 5, 19)) {
    if (f.storeIdmap === false) {
      return { level: 'warn', check, finding: `kernel ${ver} has idmapped mounts, but the image store's filesystem does not take them, ${copy}`, fix: 'keep MINIDOCK_ROOT on ext4, xfs, btrfs, f2fs or tmpfs (6.3+)' };
    }
    return { level: 'ok', check, finding: `kernel ${ver}: idmapped mounts, on overlay lower layers too (5.19+): a remapped container uses its image as it is` };
  }
  const fix = 'a 5.19 or newer kernel (Debian 12 backports has one)';
  if (atLeast(v, 5, 12)) {
    return { level: 'warn', check, finding: `kernel ${ver}: idmapped mounts exist (5.12+), but overlay takes idmapped lower layers only from 5.19, ${copy}`, fix };
  }
  return { level: 'warn', check, finding: `kernel ${ver}: no idmapped mounts (5.12+), ${copy}`, fix };
}

function resolver(f: DoctorFacts): Finding {
  const check = 'resolv.conf';
  const servers = [...f.resolvConf.matchAll(/^\s*nameserver\s+(\S+)/gm)].map((m) => m[1]!);
  const loop = servers.filter((s) => s.startsWith('127.'));
  const usable = servers.filter((s) => !s.startsWith('127.') && !s.includes(':'));
  const fix = 'point /etc/resolv.conf at real upstream servers (with systemd-resolved: ln -sf /run/systemd/resolve/resolv.conf /etc/resolv.conf)';
  if (!servers.length) return { level: 'warn', check, finding: 'no nameserver: containers get docker\'s public fallback 8.8.8.8 and 8.8.4.4', fix };
  if (!loop.length) return { level: 'ok', check, finding: `nameserver ${servers.join(', ')}: containers use ${usable.length ? usable.join(', ') : 'docker\'s fallback 8.8.8.8 (IPv6 servers are skipped)'}` };
  if (!usable.length) {
    return {
      level: 'warn', check,
      finding: `only ${loop.join(', ')}: the host's loopback, which a container cannot reach; containers fall back to 8.8.8.8 and 8.8.4.4, which may be blocked and do not know local names`,
      fix,
    };
  }
  return { level: 'warn', check, finding: `${loop.join(', ')} is the host's loopback, unreachable from a container: containers get only ${usable.join(', ')}`, fix };
}

export interface LeftoverCounts {
  halfMade: number;
  unfinished: number;
  leases: number;
  ports: number;
  rules: number;
  veths: number;
  names: number;
  traceNamespaces: number;
  /** Lease files naming no readable owner: left in use, never reclaimed. */
  unreadable: number;
}

/** What `minidock gc` would reclaim, counted the way gc decides (src/runtime/gc.ts): rules and
 *  veths only of containers this root recorded (another root's are none of its business). */
export function countLeftovers(l: LeftoverFacts, save: SavedRules | undefined): LeftoverCounts {
  const live = new Set(l.live);
  const known = new Set([...l.containers.map((c) => c.id), ...[...l.leases, ...l.portLeases].flatMap((x) => (x.owner ? [x.owner] : []))]);
  const dead = (id: string | null): id is string => id !== null && !live.has(id);
  const owners = (save?.rules ?? []).map((r) => ruleOwner(r.spec)).filter((o): o is string => !!o && /^[0-9a-f]{64}$/.test(o));
  const deadIds = [...known].filter(dead).map((id) => id.slice(0, 12));
  return {
    halfMade: l.containers.filter((c) => c.status === 'created' && !c.creatorAlive && c.exitCode === undefined && !c.standing).length,
    unfinished: l.containers.filter((c) => c.status === 'exited' && (c.holdsResources || c.rawStatus === 'running')).length,
    leases: l.leases.filter((x) => dead(x.owner)).length,
    ports: l.portLeases.filter((x) => dead(x.owner)).length,
    rules: owners.filter((o) => known.has(o) && dead(o)).length,
    veths: l.links.filter((n) => /^mdk[0-9a-f]{12}$/.test(n) && deadIds.includes(n.slice(3))).length,
    names: l.names.filter((n) => !n.containerExists).length,
    traceNamespaces: l.deadTraceNamespaces.length,
    unreadable: [...l.leases, ...l.portLeases].filter((x) => x.owner === null).length,
  };
}

function leftovers(f: DoctorFacts, save: SavedRules | undefined): Finding {
  const c = countLeftovers(f.leftovers, save);
  const parts = [
    [c.halfMade, 'half-made container(s) of a killed run'],
    [c.unfinished, 'stopped container(s) whose cleanup never ran'],
    [c.leases, 'address lease(s)'],
    [c.ports, 'host port lease(s)'],
    [c.rules, 'iptables rule(s)'],
    [c.veths, 'veth(s)'],
    [c.names, 'name(s) without a container'],
  ] as const;
  const found = parts.filter(([n]) => n > 0).map(([n, what]) => `${n} ${what}`);
  const ns = c.traceNamespaces ? [`${c.traceNamespaces} namespace(s) of a killed minidock trace (${f.leftovers.deadTraceNamespaces.join(', ')})`] : [];
  const unreadable = [
    ...f.leftovers.leases.filter((x) => x.owner === null).map((x) => `${x.network}/${x.ip}`),
    ...f.leftovers.portLeases.filter((x) => x.owner === null).map((x) => x.file ?? 'a port lease'),
  ];
  const garbled = unreadable.length
    ? [`${unreadable.length} lease file(s) naming no readable owner (${unreadable.slice(0, 3).join(', ')}${unreadable.length > 3 ? '...' : ''}), kept in use: a live container may hold them`]
    : [];
  if (!found.length && !ns.length && !garbled.length) {
    return { level: 'ok', check: 'leftovers', finding: 'none: every state directory, lease, tagged rule and mdk veth has a live owner' };
  }
  const fixes = [
    ...(found.length ? ['minidock gc'] : []),
    ...f.leftovers.deadTraceNamespaces.map((n) => `ip netns del ${n}`),
    ...(garbled.length ? ['remove a garbled lease file under $MINIDOCK_ROOT/networks/*/leases or ports/ once no container uses its address or port'] : []),
  ];
  return {
    level: 'warn', check: 'leftovers',
    finding: [...(found.length || ns.length ? [`crashes left ${[...found, ...ns].join(', ')}${found.length ? ' with no live owner' : ''}`] : []), ...garbled].join('; '),
    fix: fixes.join('; '),
  };
}

/** Controllers /proc/cgroups lists as enabled (`memory 4 246 1`: name, hierarchy, cgroups, enabled). */
export function parseProcCgroups(text: string): string[] {
  return text.split('\n').filter((l) => l && !l.startsWith('#')).map((l) => l.split(/\s+/)).filter((f) => f[3] === '1').map((f) => f[0]!);
}

/** Base chains of `nft -j list chains` hooked at forward with policy drop, iptables-nft's own
 *  FORWARD excepted (the forward check reads that one through iptables). */
export function nftForwardDropChains(json: string): string[] {
  let parsed: { nftables?: Array<{ chain?: { family: string; table: string; name: string; hook?: string; policy?: string } }> };
  try {
    parsed = JSON.parse(json);
  } catch {
    return [];
  }
  return (parsed.nftables ?? []).flatMap((e) => {
    const c = e.chain;
    if (!c || c.hook !== 'forward' || c.policy !== 'drop') return [];
    if (c.family === 'ip' && c.table === 'filter' && c.name === 'FORWARD') return [];
    return [`${c.family} ${c.table} ${c.name}`];
  });
}

/** `ok    check   finding` lines, a `→ fix:` line under each one that is not ok, and a tally. */
export function renderFindings(findings: Finding[]): string {
  const width = Math.max(...findings.map((x) => x.check.length)) + 2;
  let out = '';
  for (const x of findings) {
    out += `${x.level.padEnd(6)}${x.check.padEnd(width)}${x.finding}\n`;
    if (x.level !== 'ok' && x.fix) out += `${' '.repeat(6 + width)}→ fix: ${x.fix}\n`;
  }
  const n = (l: Level): number => findings.filter((x) => x.level === l).length;
  out += `\n${n('ok')} ok, ${n('warn')} warn, ${n('fail')} fail${n('fail') ? ': containers will not work until the failures are fixed' : ''}\n`;
  return out;
}

/** 1 when any check failed, else 0 (warnings do not fail). */
export const doctorExitCode = (findings: Finding[]): number => (findings.some((x) => x.level === 'fail') ? 1 : 0);
