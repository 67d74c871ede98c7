// The network plan: which bridge, veth, address and iptables rules a container needs, as data.
// Pure: the same plan is applied (one `ip -batch`, one `iptables-restore --noflush`), recorded
// in the container's state for teardown, compared by unit tests, and printable as commands.
//
// Where a packet for a published port goes (tcp 8080 -> container 10.88.0.2:80):
//
//   from another host ──► PREROUTING ─┐                    ┌─► FORWARD: MINIDOCK-FORWARD ─► bridge ─► eth0
//   from this host    ──► OUTPUT ─────┼─► MINIDOCK-DNAT ───┤   (accepts DNAT'd traffic even under a
//   (addresses and 127.0.0.1)         │   DNAT to .2:80    │    FORWARD policy of DROP)
//   from a container  ──► PREROUTING ─┘                    └─► POSTROUTING: MINIDOCK-POSTROUTING
//                                                              MASQUERADE when the source is the host
//                                                              itself or a container (hairpin), so
//                                                              replies come back through the host
//
// Two guards come before all of that, and neither depends on the order of anyone's rules:
//
//   a container ──► raw PREROUTING: MINIDOCK-PREROUTING   DROP -i <bridge> -d 127.0.0.0/8
//                   (route_localnet is on for the bridge; see planNetwork)
//   a container ──► FORWARD: MINIDOCK-FORWARD, first rule, new connections not DNAT'd
//                   ──► MINIDOCK-ISOLATION-1  from a minidock bridge to another interface
//                   ──► MINIDOCK-ISOLATION-2  DROP when that interface is another minidock bridge
//
// The chains are shared by every state root on the host (each MINIDOCK_ROOT has its own
// networks, but the network namespace has one set of tables). A network's rules are tagged
// minidock:net:<network>:<scope>, the scope naming its state root, so one root removes only
// its own rules, and a chain goes only once no root has a rule left in it.
import type { PortBinding } from '../spec/ports.js';
import { intToIp, ipToInt } from './ipv4.js';

export interface NetworkConfig {
  name: string;
  id: string;
  bridge: string;
  subnet: string;
  prefix: number;
  gateway: string;
  /** Range containers may get (network and broadcast excluded; the gateway is skipped). */
  first: number;
  last: number;
  createdAt: number;
  /** The state root this network belongs to (rootScope of its path): tags its rules. Absent
   *  from networks made before it existed; the store fills it in when it reads them. */
  scope?: string;
}

export type Table = 'raw' | 'nat' | 'filter';

/** The tables in the order iptables-restore gets them (and a packet meets them in PREROUTING). */
export const TABLES: readonly Table[] = ['raw', 'nat', 'filter'];

/** A state root's scope: 8 hex digits of an FNV-1a hash of its absolute path. Pure. Two roots on
 *  one host get different tags, and a root recreated at the same path finds its old rules. */
export function rootScope(absRoot: string): string {
  let h = 0x811c9dc5;
  for (const c of Buffer.from(absRoot)) h = Math.imul(h ^ c, 0x01000193) >>> 0;
  return h.toString(16).padStart(8, '0');
}

export interface IptRule {
  table: Table;
  chain: string;
  /** Everything after `-A CHAIN`, as iptables-save prints it. */
  spec: string;
}

export const CHAINS = {
  guard: 'MINIDOCK-PREROUTING',
  dnat: 'MINIDOCK-DNAT',
  postrouting: 'MINIDOCK-POSTROUTING',
  forward: 'MINIDOCK-FORWARD',
  isolation1: 'MINIDOCK-ISOLATION-1',
  isolation2: 'MINIDOCK-ISOLATION-2',
} as const;

/** Ownership tag on every rule: `rm` and the garbage collector find rules by it. Specs are written
 *  in iptables-save's order (matches, then this comment, then the target) so they compare as text. */
export const ownerTag = (owner: string): string => `-m comment --comment minidock:${owner}`;

/** The owner of a network's rules: `net:<network>:<scope>` (`net:<network>` without a scope). */
export const netOwner = (net: Pick<NetworkConfig, 'name' | 'scope'>): string => `net:${net.name}${net.scope ? `:${net.scope}` : ''}`;

/** minidock's own chains and the jumps into them. Created when the first network needs them
 *  (per network namespace), removed once every chain but these jumps is empty. Each jump goes
 *  first in its chain (restore inserts them), so a FORWARD policy of DROP or another tool's rules
 *  cannot stop the bridge's traffic before minidock's chain sees it. */
export function planChains(): { chains: Array<[Table, string]>; jumps: IptRule[] } {
  return {
    chains: [
      ['raw', CHAINS.guard], ['nat', CHAINS.dnat], ['nat', CHAINS.postrouting],
      ['filter', CHAINS.forward], ['filter', CHAINS.isolation1], ['filter', CHAINS.isolation2],
    ],
    jumps: [
      // Before conntrack and NAT: the localhost guard sees what a container sent, as it sent it.
      { table: 'raw', chain: 'PREROUTING', spec: `-j ${CHAINS.guard}` },
      // Only packets for this host's own addresses can be published ports.
      { table: 'nat', chain: 'PREROUTING', spec: `-m addrtype --dst-type LOCAL -j ${CHAINS.dnat}` },
      { table: 'nat', chain: 'OUTPUT', spec: `-m addrtype --dst-type LOCAL -j ${CHAINS.dnat}` },
      { table: 'nat', chain: 'POSTROUTING', spec: `-j ${CHAINS.postrouting}` },
      { table: 'filter', chain: 'FORWARD', spec: `-j ${CHAINS.forward}` },
      // Isolation first in MINIDOCK-FORWARD, before any network's ACCEPT. Published ports stay
      // reachable from every network (DNAT'd, as from any LAN host), and replies are not rechecked.
      { table: 'filter', chain: CHAINS.forward, spec: `-m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -j ${CHAINS.isolation1}` },
    ],
  };
}

/** A sysctl write: /proc/sys path, value, and whether a missing path is fine (IPv6 switched off
 *  at boot has no /proc/sys/net/ipv6: then there is nothing to disable). */
export type Sysctl = [path: string, value: string, optional?: 'if-present'];

export interface NetworkPlan {
  /** Lines for `ip -batch -`. */
  ip: string[];
  /** /proc/sys paths and values, written once the bridge exists. */
  sysctls: Sysctl[];
  rules: IptRule[];
  /** Written only after `rules` are in the kernel: route_localnet opens the bridge to 127/8,
   *  which only the guard rule makes safe. */
  afterRules: Sysctl[];
}

/** The bridge of a network, its gateway address, and the network-wide rules. */
export function planNetwork(net: NetworkConfig): NetworkPlan {
  const br = net.bridge;
  const tag = ownerTag(netOwner(net));
  return {
    ip: [`link add name ${br} type bridge`, `addr add ${net.gateway}/${net.prefix} dev ${br}`, `link set ${br} up`],
    sysctls: [
      // Forwarding between the bridge and the uplink: without it no container reaches out.
      ['/proc/sys/net/ipv4/ip_forward', '1'],
      // IPv6 off on the bridge, as on the containers' eth0 (planContainerSysctls). minidock gives
      // containers no IPv6 address, route or rule, so IPv6 on the bridge would only be a path
      // around every IPv4 rule here, and a container's router advertisement would give the host
      // a default route through it (CVE-2020-13401; docker writes accept_ra=0 on its bridge).
      // disable_ipv6 makes the bridge drop every IPv6 packet, router advertisements included;
      // bridging between ports is layer 2 and unaffected. The bridge takes the host's
      // conf/default values, so this is set, not assumed.
      [`/proc/sys/net/ipv6/conf/${br}/disable_ipv6`, '1', 'if-present'],
    ],
    rules: [
      // With route_localnet on (below), a container could address the host's 127.0.0.1 services
      // through the bridge. Dropped in the raw table, before conntrack: no state to match, and
      // nothing legitimate comes that way (the replies of localhost:PORT are addressed to the
      // bridge's address, MASQUERADE'd below, until conntrack turns them back after this).
      { table: 'raw', chain: CHAINS.guard, spec: `-d 127.0.0.0/8 -i ${br} ${tag} -j DROP` },
      // Egress: containers leave with the host's address.
      { table: 'nat', chain: CHAINS.postrouting, spec: `-s ${net.subnet} ! -o ${br} ${tag} -j MASQUERADE` },
      // Published ports reached from the host itself (127.0.0.1 or its own addresses) or from a
      // container on this bridge (hairpin): make the reply come back through the host.
      { table: 'nat', chain: CHAINS.postrouting, spec: `-o ${br} -m addrtype --src-type LOCAL ${tag} -j MASQUERADE` },
      { table: 'nat', chain: CHAINS.postrouting, spec: `-s ${net.subnet} -o ${br} -m conntrack --ctstate DNAT ${tag} -j MASQUERADE` },
      // Accept the bridge's traffic even where the FORWARD policy is DROP.
      { table: 'filter', chain: CHAINS.forward, spec: `-o ${br} -m conntrack --ctstate RELATED,ESTABLISHED ${tag} -j ACCEPT` },
      { table: 'filter', chain: CHAINS.forward, spec: `-o ${br} -m conntrack --ctstate DNAT ${tag} -j ACCEPT` },
      { table: 'filter', chain: CHAINS.forward, spec: `-i ${br} ${tag} -j ACCEPT` },
      // Isolation between networks (docker's DOCKER-ISOLATION-STAGE-1/2): a new connection from
      // this bridge to another interface is checked against every minidock bridge, and one going
      // into this bridge from another minidock bridge is dropped. Order-free: it does not matter
      // where in their chains these rules, or other networks', are.
      { table: 'filter', chain: CHAINS.isolation1, spec: `-i ${br} ! -o ${br} ${tag} -j ${CHAINS.isolation2}` },
      { table: 'filter', chain: CHAINS.isolation2, spec: `-o ${br} ${tag} -j DROP` },
    ],
    afterRules: [
      // localhost:PORT -> container: after DNAT in OUTPUT the packet still has source 127.0.0.1,
      // which the kernel treats as martian on any device but lo unless route_localnet is set on
      // the device it leaves by. Set on the bridge only, never on "all" (kube-proxy's
      // CVE-2020-8558), and only once the raw guard above is in the kernel.
      [`/proc/sys/net/ipv4/conf/${br}/route_localnet`, '1'],
    ],
  };
}

/** Sysctls of the container's own network namespace, written from the host (nsenter --net)
 *  before its eth0 is made, so eth0 is born with them: a new namespace's IPv6 settings are the
 *  kernel's defaults (accept_ra=1), whatever the host's. IPv6 off, as on the bridge (see
 *  planNetwork): another container's router advertisement cannot give this one a route. lo
 *  keeps ::1 (only interfaces made after this take conf/default). */
export function planContainerSysctls(): Sysctl[] {
  return [['/proc/sys/net/ipv6/conf/default/disable_ipv6', '1', 'if-present']];
}

/** A container's network namespace: its PID 1 (`run`: a pid, or "$PID" in a script), or a
 *  namespace file (the CNI plugin: CNI_NETNS, e.g. /run/netns/x). `ip ... netns` takes either. */
export type NetnsRef = number | string;

/** The file of a network namespace reference, for nsenter --net. Pure. */
export const netnsFile = (ref: NetnsRef): string => (String(ref).startsWith('/') ? String(ref) : `/proc/${ref}/ns/net`);

/** The shell command that writes `sysctls` inside the network namespace `ns` (what attach()
 *  runs, and what --explain and --script show). */
export function containerSysctlCommand(ns: NetnsRef, sysctls: Sysctl[]): string[] {
  const body = sysctls.map(([path, value, optional]) => (optional ? `[ ! -e ${path} ] || echo ${value} > ${path}` : `echo ${value} > ${path}`)).join('; ');
  return ['nsenter', `--net=${netnsFile(ns)}`, 'sh', '-c', body];
}

/** A published port with its host port decided (a random one already chosen). */
export type ResolvedBinding = PortBinding;

export interface Attachment {
  containerId: string;
  network: string;
  bridge: string;
  ip: string;
  prefix: number;
  gateway: string;
  mac: string;
  /** Host end of the veth pair; the container end is eth0. */
  hostVeth: string;
  mtu: number;
  ports: ResolvedBinding[];
  /** The container end's name (CNI_IFNAME); eth0 when absent (`run`). */
  ifname?: string;
  /** Shaping of the veth (network/bandwidth.ts), when asked for. */
  bandwidth?: import('./bandwidth.js').Bandwidth;
}

/** Host-side veth name: unique per container, within IFNAMSIZ (15 characters). */
export const hostVethName = (containerId: string): string => `mdk${containerId.slice(0, 12)}`;

/** The DNAT rules for a container's published ports. */
export function planPortRules(att: Attachment): IptRule[] {
  const tag = ownerTag(att.containerId);
  return att.ports.map((p) => {
    const dst = p.hostIp === '0.0.0.0' ? '' : `-d ${p.hostIp}/32 `;
    // A port published on a loopback address is for this host's own processes only: match
    // locally generated packets, so no other host can reach it by sending to 127.0.0.1.
    const local = p.hostIp.startsWith('127.') ? '-m addrtype --src-type LOCAL ' : '';
    return {
      table: 'nat' as const,
      chain: CHAINS.dnat,
      spec: `${dst}-p ${p.proto} ${local}-m ${p.proto} --dport ${p.hostPort} ${tag} -j DNAT --to-destination ${att.ip}:${p.containerPort}`,
    };
  });
}

/** Creates the veth pair with its container end born inside the container's network namespace
 *  (no rename or move needed), and plugs the host end into the bridge in hairpin mode: a
 *  container calling its own published port sends a packet that DNAT turns back toward itself,
 *  out of the bridge port it came in on, which a bridge forwards only in hairpin mode when
 *  br_netfilter hands bridged frames to iptables. (The port must be enslaved first: the kernel
 *  refuses bridge_slave options in the same request.) */
export function planAttachIp(att: Attachment, ns: NetnsRef): string[] {
  return [
    `link add name ${att.hostVeth} mtu ${att.mtu} type veth peer name ${att.ifname ?? 'eth0'} mtu ${att.mtu} address ${att.mac} netns ${ns}`,
    `link set ${att.hostVeth} master ${att.bridge} up`,
    `link set ${att.hostVeth} type bridge_slave hairpin on`,
  ];
}

/** `iptables-restore --noflush` input that appends (A), inserts (I) or deletes (D) rules, and
 *  creates chains first when asked (with -N, which fails the batch if the chain exists meanwhile:
 *  a ":CHAIN" line would silently flush it, another state root's rules and all). */
export function restoreScript(rules: IptRule[], op: 'A' | 'I' | 'D', newChains: Array<[Table, string]> = []): string {
  return batchScript({ chains: newChains, [op]: rules });
}

/** One restore input doing, per table: new chains, then inserts (I), appends (A), deletes (D) and
 *  chain removals (X, only of empty chains: the kernel refuses others, and the table's batch
 *  fails whole). Tables in TABLES order. */
export function batchScript(b: { chains?: Array<[Table, string]>; I?: IptRule[]; A?: IptRule[]; D?: IptRule[]; X?: Array<[Table, string]> }): string {
  let out = '';
  for (const table of TABLES) {
    const lines = [
      ...(b.chains ?? []).filter(([t]) => t === table).map(([, c]) => `-N ${c}`),
      ...(['I', 'A', 'D'] as const).flatMap((op) => (b[op] ?? []).filter((r) => r.table === table).map((r) => `-${op} ${r.chain} ${r.spec}`)),
      ...(b.X ?? []).filter(([t]) => t === table).map(([, c]) => `-X ${c}`),
    ];
    if (lines.length) out += `*${table}\n${lines.map((l) => l + '\n').join('')}COMMIT\n`;
  }
  return out;
}

/** The lowest free address of the network, or undefined when every one is taken. */
export function pickAddress(net: NetworkConfig, taken: ReadonlySet<string>): string | undefined {
  for (let n = net.first; n <= net.last; n++) {
    const ip = intToIp(n);
    if (ip !== net.gateway && !taken.has(ip)) return ip;
  }
  return undefined;
}

/** Why `ip` cannot be asked for with --ip on `net`, or undefined when it can (taken or not). */
export function requestedAddressProblem(net: NetworkConfig, ip: string): string | undefined {
  const n = ipToInt(ip);
  if (n < net.first || n > net.last) return `${ip} is not in the network's range ${intToIp(net.first)}-${intToIp(net.last)} (${net.subnet})`;
  if (ip === net.gateway) return `${ip} is the network's gateway`;
  return undefined;
}

/** Addresses a container can get: the range, less the gateway (always inside it). */
export const capacity = (net: NetworkConfig): number => net.last - net.first;

/** The same plan as shell commands, for people reading along (`--explain`, docs, tests). */
export function planAsCommands(ip: string[], rules: IptRule[], op: 'A' | 'D' = 'A'): string[] {
  return [...ip.map((l) => `ip ${l}`), ...rules.map((r) => `iptables -t ${r.table} -${op} ${r.chain} ${r.spec}`)];
}
