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
import type { PortBinding } from '../spec/ports.js';
import { intToIp } from './ipv4.js';

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
}

export type Table = 'nat' | 'filter';

export interface IptRule {
  table: Table;
  chain: string;
  /** Everything after `-A CHAIN`, as iptables-save prints it. */
  spec: string;
}

export const CHAINS = {
  dnat: 'MINIDOCK-DNAT',
  postrouting: 'MINIDOCK-POSTROUTING',
  forward: 'MINIDOCK-FORWARD',
  input: 'MINIDOCK-INPUT',
} as const;

/** Ownership tag on every rule: `rm` and the garbage collector find rules by it. Specs are written
 *  in iptables-save's order (matches, then this comment, then the target) so they compare as text. */
export const ownerTag = (owner: string): string => `-m comment --comment minidock:${owner}`;

/** minidock's own chains and the jumps into them from the built-in chains. Created once per
 *  host (per network namespace); removed with the last network. */
export function planChains(): { chains: Array<[Table, string]>; jumps: IptRule[] } {
  return {
    chains: [['nat', CHAINS.dnat], ['nat', CHAINS.postrouting], ['filter', CHAINS.forward], ['filter', CHAINS.input]],
    jumps: [
      // Only packets for this host's own addresses can be published ports.
      { table: 'nat', chain: 'PREROUTING', spec: `-m addrtype --dst-type LOCAL -j ${CHAINS.dnat}` },
      { table: 'nat', chain: 'OUTPUT', spec: `-m addrtype --dst-type LOCAL -j ${CHAINS.dnat}` },
      { table: 'nat', chain: 'POSTROUTING', spec: `-j ${CHAINS.postrouting}` },
      { table: 'filter', chain: 'FORWARD', spec: `-j ${CHAINS.forward}` },
      { table: 'filter', chain: 'INPUT', spec: `-j ${CHAINS.input}` },
    ],
  };
}

export interface NetworkPlan {
  /** Lines for `ip -batch -`. */
  ip: string[];
  /** /proc/sys paths and values. */
  sysctls: Array<[string, string]>;
  rules: IptRule[];
}

/** The bridge of a network, its gateway address, and the network-wide rules. */
export function planNetwork(net: NetworkConfig): NetworkPlan {
  const br = net.bridge;
  const tag = ownerTag(`net:${net.name}`);
  return {
    ip: [`link add name ${br} type bridge`, `addr add ${net.gateway}/${net.prefix} dev ${br}`, `link set ${br} up`],
    sysctls: [
      // Forwarding between the bridge and the uplink: without it no container reaches out.
      ['/proc/sys/net/ipv4/ip_forward', '1'],
      // localhost:PORT -> container: after DNAT in OUTPUT the packet still has source 127.0.0.1,
      // which the kernel treats as martian on any device but lo unless route_localnet is set on
      // the device it leaves by. Set on the bridge only, never on "all" (kube-proxy's
      // CVE-2020-8558); the INPUT rule below closes what it opens.
      [`/proc/sys/net/ipv4/conf/${br}/route_localnet`, '1'],
    ],
    rules: [
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
      // With route_localnet on, a container could address the host's 127.0.0.1 services through
      // the bridge. Only replies to connections the host made may come in that way.
      { table: 'filter', chain: CHAINS.input, spec: `-d 127.0.0.0/8 -i ${br} -m conntrack ! --ctstate RELATED,ESTABLISHED ${tag} -j DROP` },
    ],
  };
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
export function planAttachIp(att: Attachment, pid: number): string[] {
  return [
    `link add name ${att.hostVeth} mtu ${att.mtu} type veth peer name eth0 mtu ${att.mtu} address ${att.mac} netns ${pid}`,
    `link set ${att.hostVeth} master ${att.bridge} up`,
    `link set ${att.hostVeth} type bridge_slave hairpin on`,
  ];
}

/** `iptables-restore --noflush` input that appends (A), inserts (I) or deletes (D) rules, and
 *  creates chains first when asked (a ":CHAIN" line would flush an existing chain, so only for
 *  chains known to be absent). */
export function restoreScript(rules: IptRule[], op: 'A' | 'I' | 'D', newChains: Array<[Table, string]> = []): string {
  let out = '';
  for (const table of ['nat', 'filter'] as const) {
    const chains = newChains.filter(([t]) => t === table);
    const mine = rules.filter((r) => r.table === table);
    if (!chains.length && !mine.length) continue;
    out += `*${table}\n`;
    for (const [, c] of chains) out += `:${c} - [0:0]\n`;
    for (const r of mine) out += `-${op} ${r.chain} ${r.spec}\n`;
    out += 'COMMIT\n';
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

/** Addresses a container can get: the range, less the gateway (always inside it). */
export const capacity = (net: NetworkConfig): number => net.last - net.first;

/** The same plan as shell commands, for people reading along (`--explain`, docs, tests). */
export function planAsCommands(ip: string[], rules: IptRule[], op: 'A' | 'D' = 'A'): string[] {
  return [...ip.map((l) => `ip ${l}`), ...rules.map((r) => `iptables -t ${r.table} -${op} ${r.chain} ${r.spec}`)];
}
