// `minidock trace PORT`: the path of one TCP connection to a published port, told from what the
// kernel counted. Pure: src/cli/trace.ts reads `iptables-save -c` before and after one bounded
// probe, and the connection's conntrack entry; narrate() says which rules the packets met, what
// each did to them, how the reply came back, and where the connection stopped when it failed.
//
//   from this host:   OUTPUT ──────► MINIDOCK-DNAT ─► POSTROUTING: MASQUERADE (from host) ─► mdk0
//   from the LAN:     PREROUTING ──► MINIDOCK-DNAT ─► FORWARD: MINIDOCK-FORWARD ──────────► mdk0
//   from a container: PREROUTING ──► MINIDOCK-DNAT ─► FORWARD ─► POSTROUTING: MASQUERADE (hairpin)
//
// A rule's counter grows by the packets it matched. In the nat table only a connection's first
// packet is matched against the rules: conntrack remembers the translation and applies it, and its
// reverse to the replies, without them. So the path of the SYN is in the nat counters, and the
// reply's path is in the conntrack entry.
import { ROLE_TEXT, compactSpec, movedPolicies, movedRules, ruleOwner, ruleRole, type CountedRule, type SavedRules } from './counters.js';

export type TraceFrom =
  | { kind: 'host' }
  /** A namespace made for the probe, linked to the host by a veth: a machine on the LAN. */
  | { kind: 'lan'; client: string }
  | { kind: 'container'; name: string; id: string; ip: string };

export type Outcome = 'answered' | 'refused' | 'timeout' | 'unreachable' | 'error';

export interface ProbeResult {
  src: string;
  sport: number;
  dst: string;
  dport: number;
  outcome: Outcome;
  ms: number;
  timeoutMs: number;
  /** The errno code of a failed connect. */
  error?: string;
}

export interface Tuple {
  src: string;
  dst: string;
  sport: number;
  dport: number;
}

export interface ConntrackEntry {
  proto: string;
  state?: string;
  orig: Tuple;
  reply: Tuple;
  flags: string[];
}

export type ConntrackSource = 'conntrack -L' | '/proc/net/nf_conntrack' | 'none';

/** What is published on the port, per container. */
export interface Published {
  id: string;
  name: string;
  ip: string;
  hostIp: string;
  hostPort: number;
  containerPort: number;
  bridge: string;
  gateway: string;
}

export interface TraceInputs {
  port: number;
  from: TraceFrom;
  published: Published[];
  before: SavedRules;
  after: SavedRules;
  probe: ProbeResult;
  conntrack: { source: ConntrackSource; entries: ConntrackEntry[] };
  /** With --from container: the host end of its veth, as a bridge port. */
  bridgePort?: { veth: string; hairpin?: boolean; bridgeNfCallIptables?: string };
}

/** Parses `conntrack -L` and /proc/net/nf_conntrack lines (the latter start with `ipv4 2`):
 *  `tcp 6 117 TIME_WAIT src=A dst=B sport=P dport=Q src=C dst=D sport=R dport=S [ASSURED] mark=0 use=1`. */
export function parseConntrack(text: string): ConntrackEntry[] {
  const out: ConntrackEntry[] = [];
  for (const raw of text.split('\n')) {
    const f = raw.trim().split(/\s+/);
    if (f[0] === 'ipv4' || f[0] === 'ipv6') f.splice(0, 2);
    const proto = f[0];
    if (!proto || !/^[a-z]+$/.test(proto)) continue;
    const kv = f.filter((x) => x.includes('='));
    const pick = (key: string, n: number): string | undefined => kv.filter((x) => x.startsWith(`${key}=`))[n]?.slice(key.length + 1);
    const tuple = (n: number): Tuple | undefined => {
      const src = pick('src', n);
      const dst = pick('dst', n);
      if (!src || !dst) return undefined;
      return { src, dst, sport: Number(pick('sport', n) ?? 0), dport: Number(pick('dport', n) ?? 0) };
    };
    const orig = tuple(0);
    const reply = tuple(1);
    if (!orig || !reply) continue;
    const state = f.slice(1, 4).find((x) => /^[A-Z_]+$/.test(x));
    out.push({ proto, state, orig, reply, flags: f.filter((x) => /^\[[A-Z]+\]$/.test(x)).map((x) => x.slice(1, -1)) });
  }
  return out;
}

/** The probe's own entry: its source port and destination port. */
export const probeEntry = (entries: ConntrackEntry[], p: ProbeResult): ConntrackEntry | undefined =>
  entries.find((e) => e.proto === 'tcp' && e.orig.sport === p.sport && e.orig.dport === p.dport && e.orig.dst === p.dst);

/** Where a chain sits on a packet's way through the host, for telling the steps in order. */
const CHAIN_ORDER: Record<string, number> = {
  'raw PREROUTING': 0, 'raw MINIDOCK-PREROUTING': 0.5,
  'nat PREROUTING': 1, 'nat OUTPUT': 1, 'nat MINIDOCK-DNAT': 2,
  'filter FORWARD': 3, 'filter MINIDOCK-FORWARD': 4, 'filter OUTPUT': 3,
  'filter MINIDOCK-ISOLATION-1': 4.5, 'filter MINIDOCK-ISOLATION-2': 4.6,
  'nat POSTROUTING': 6, 'nat MINIDOCK-POSTROUTING': 7,
  // What comes in for the host itself: after POSTROUTING when this host sent it over lo.
  'nat INPUT': 8, 'filter INPUT': 8, 'filter MINIDOCK-INPUT': 9,
};
const orderOf = (r: CountedRule): number => CHAIN_ORDER[`${r.table} ${r.chain}`] ?? 5;

const fromText = (f: TraceFrom): string =>
  f.kind === 'host' ? 'this host' : f.kind === 'lan' ? `a LAN machine (namespace at ${f.client})` : `container ${f.name} (${f.ip})`;

const plural = (n: number, what: string): string => `${n} ${what}${n === 1 ? '' : 's'}`;

export interface Narration {
  text: string;
  answered: boolean;
}

export function narrate(i: TraceInputs): Narration {
  const p = i.probe;
  const lines: string[] = [];
  const say = (s = ''): number => lines.push(s);
  const owner = (spec: string): Published | undefined => {
    const id = ruleOwner(spec);
    return i.published.find((x) => x.id === id);
  };
  const bridgeOf = (spec: string): Published | undefined => {
    const br = /-[oi] (\S+)/.exec(spec)?.[1];
    return i.published.find((x) => x.bridge === br);
  };

  say(`trace tcp port ${i.port} from ${fromText(i.from)}: one connection ${p.src}:${p.sport} → ${p.dst}:${p.dport}, waiting at most ${p.timeoutMs} ms`);
  if (i.published.length) {
    for (const x of i.published) say(`published: ${x.hostIp}:${x.hostPort} → container ${x.name} (${x.id.slice(0, 12)}) at ${x.ip}:${x.containerPort}, on ${x.bridge}`);
  } else {
    say(`published: nothing on port ${i.port} (minidock ps lists published ports)`);
  }
  say();

  // The outbound path, from the counters that moved.
  const moved = movedRules(i.before, i.after)
    .filter((m) => ruleOwner(m.item.spec) !== undefined || /-j MINIDOCK-/.test(m.item.spec) || /-j (DROP|REJECT)\b/.test(m.item.spec))
    .map((m, k) => ({ ...m, k }))
    .sort((a, b) => orderOf(a.item) - orderOf(b.item) || a.k - b.k);
  const policies = movedPolicies(i.before, i.after).filter((m) => m.item.policy !== 'ACCEPT');
  const dnat = moved.find((m) => ruleRole(m.item) === 'dnat');
  const target = dnat ? /--to-destination (\S+)/.exec(dnat.item.spec)?.[1] : undefined;
  const served = dnat ? owner(dnat.item.spec) : undefined;

  say('the packets met (rules whose counters moved while the probe ran, in path order):');
  if (!moved.length && !policies.length) say('  no rule of minidock\'s: no counter moved');
  let step = 0;
  for (const m of moved) {
    const r = m.item;
    say(`  ${++step}. ${r.table} ${r.chain}: ${compactSpec(r.spec)}   (+${plural(m.pkts, 'packet')})`);
    say(`     → ${meaning(r, { target, served, bridge: bridgeOf(r.spec) ?? served, from: i.from, dnat: !!dnat })}`);
  }
  for (const m of policies) {
    say(`  ${++step}. ${m.item.table} ${m.item.chain}: policy ${m.item.policy}   (+${plural(m.pkts, 'packet')})`);
    say(`     → no rule decided, so the chain's policy ${m.item.policy} did: the packets were dropped here`);
  }
  say();

  // The outcome.
  const answered = p.outcome === 'answered';
  say(`outcome: ${outcome(i, { dnat: !!dnat, target, served })}`);
  say();

  // The reply path, from conntrack.
  for (const l of replyPath(i, target)) say(l);
  say();
  say('(counters are the kernel\'s, shared with any other traffic at that moment; nat rules see only a connection\'s first packet)');
  return { text: lines.join('\n') + '\n', answered };
}

function meaning(r: CountedRule, c: { target?: string; served?: Published; bridge?: Published; from: TraceFrom; dnat: boolean }): string {
  const role = ruleRole(r);
  const gw = c.bridge ? `${c.bridge.gateway} (${c.bridge.bridge}'s address)` : 'the bridge\'s address';
  switch (role) {
    case 'jump': {
      const chain = /-j (\S+)/.exec(r.spec)?.[1];
      if (chain === 'MINIDOCK-DNAT') return `the destination is an address of this host, so minidock's DNAT chain looks at it${r.chain === 'OUTPUT' ? ' (OUTPUT: sent by this host itself)' : ' (PREROUTING: arriving from outside the host)'}`;
      if (chain === 'MINIDOCK-FORWARD') return 'the host routes it on (FORWARD): minidock\'s FORWARD chain decides whether it may pass';
      if (chain === 'MINIDOCK-POSTROUTING') return 'leaving through an interface: minidock\'s source-NAT chain looks at it';
      if (chain === 'MINIDOCK-PREROUTING') return 'every packet arriving, before conntrack: minidock\'s localhost guard looks at it';
      if (chain === 'MINIDOCK-ISOLATION-1') return 'a new connection not to a published port: minidock\'s isolation between networks looks at it';
      if (chain === 'MINIDOCK-INPUT') {
        return c.dnat && c.from.kind === 'host'
          ? 'the container\'s replies, coming back to the probe\'s socket on this host: minidock\'s INPUT guard lets replies in'
          : 'addressed to the host itself (nothing redirected it): minidock\'s INPUT guard looks at it';
      }
      return `into ${chain}`;
    }
    case 'dnat':
      return `destination rewritten to ${/--to-destination (\S+)/.exec(r.spec)?.[1]}${c.served ? `: container ${c.served.name}` : ''}; the routing decision that follows sends it to the bridge`;
    case 'from-host':
      return `source rewritten to ${gw}: the sender is this host (127.0.0.1 is nobody's address on the bridge), and the reply must come back to it`;
    case 'hairpin':
      return `source rewritten to ${gw}: a container called a published port, and the reply must come back through the host, not straight across the bridge`;
    case 'egress':
      return 'source rewritten to the uplink\'s address: the container\'s packet leaves the host';
    case 'fwd-established':
      return 'admitted: a later packet of the admitted connection (the handshake\'s ACK, the close)';
    case 'fwd-dnat':
      return 'admitted into the bridge: a new connection whose destination DNAT rewrote, admitted even under a FORWARD policy of DROP';
    case 'fwd-out':
      return `admitted out of the bridge: what the container sends${c.from.kind === 'container' ? ' (the probe itself, and the replies)' : ' (here, its replies)'}`;
    case 'guard':
      return 'DROPPED: a container addressed the host\'s 127.0.0.0/8 through the bridge';
    case 'isolate':
      return 'out of a minidock bridge to another interface: checked against every minidock bridge';
    case 'isolated':
      return 'DROPPED: a container of another minidock network tried to reach this bridge (only published ports are open across networks)';
    default:
      return /-j (DROP|REJECT)\b/.test(r.spec) ? `${/-j (DROP|REJECT)/.exec(r.spec)![1]}: another tool's rule stopped these packets` : ROLE_TEXT[role][1];
  }
}

function outcome(i: TraceInputs, c: { dnat: boolean; target?: string; served?: Published }): string {
  const p = i.probe;
  const who = c.served ? `container ${c.served.name} (${c.target})` : c.target;
  const localOnly = i.published.filter((x) => x.hostIp.startsWith('127.'));
  const whyNoRule = (): string => {
    if (!i.published.length) return `no MINIDOCK-DNAT rule matched: nothing is published on port ${i.port}`;
    if (localOnly.length && i.from.kind !== 'host') return `no MINIDOCK-DNAT rule matched: port ${i.port} is published on ${localOnly[0]!.hostIp} only, which only this host's own processes reach`;
    return `no MINIDOCK-DNAT rule matched ${p.dst}:${p.dport} (published on ${i.published.map((x) => x.hostIp).join(', ')})`;
  };
  switch (p.outcome) {
    case 'answered':
      return c.dnat
        ? `ANSWERED in ${p.ms.toFixed(1)} ms: ${who} accepted the connection (SYN → SYN-ACK); the probe closed it at once`
        : `ANSWERED in ${p.ms.toFixed(1)} ms, but not by a container: ${whyNoRule()}, so the connection went to a program on this host listening on ${p.dst}:${p.dport}`;
    case 'refused':
      return c.dnat
        ? `STOPPED at ${who}: it answered RST, nothing listens on port ${c.target?.split(':')[1]} inside it (is the server running, and listening on 0.0.0.0 rather than 127.0.0.1?)`
        : `STOPPED at the host: ${whyNoRule()}, and no program on the host listens on ${p.dst}:${p.dport}, so the host's kernel answered RST`;
    case 'timeout': {
      const policy = movedPolicies(i.before, i.after).find((m) => m.item.policy === 'DROP');
      if (policy) return `STOPPED in ${policy.item.table} ${policy.item.chain}: no rule admitted the packets and its policy DROP took them; nothing answered in ${p.timeoutMs} ms (minidock doctor checks the FORWARD rules)`;
      const port = i.bridgePort;
      if (c.dnat && i.from.kind === 'container' && c.served?.id === i.from.id && port && !port.hairpin) {
        return `STOPPED at the bridge: container ${i.from.name} called its own published port, so after DNAT the packet must go back out ` +
          `the bridge port it came in by, ${port.veth}, and a bridge never does that unless the port is in hairpin mode (it is off)` +
          `${port.bridgeNfCallIptables === '1' ? '; with br_netfilter the bridge itself carries the packet, not the host\'s routing' : ''}. ` +
          `Fix: ip link set ${port.veth} type bridge_slave hairpin on (docker turns it on for every port)`;
      }
      if (c.dnat) return `STOPPED after DNAT to ${who}: nothing answered in ${p.timeoutMs} ms (is the container's eth0 up? a firewall inside it? minidock network diagram shows its veth)`;
      return `STOPPED before any minidock rule: ${whyNoRule()}, and nothing answered in ${p.timeoutMs} ms (a firewall dropped the SYN?)`;
    }
    case 'unreachable':
      return `STOPPED: ${p.error ?? 'EHOSTUNREACH'}, no route to ${p.dst} from ${p.src}`;
    default:
      return `STOPPED: the connect failed with ${p.error ?? 'an error'}`;
  }
}

function replyPath(i: TraceInputs, target: string | undefined): string[] {
  const p = i.probe;
  const { source, entries } = i.conntrack;
  if (source === 'none') {
    return ['conntrack: neither the conntrack tool nor /proc/net/nf_conntrack is available, so the reply path cannot be shown (apt-get install conntrack)'];
  }
  const e = probeEntry(entries, p);
  if (!e) {
    return [
      p.outcome === 'refused'
        ? `conntrack (${source}): no entry left: a RST answering a SYN ends the connection's entry at once`
        : `conntrack (${source}): no entry for ${p.src}:${p.sport} → ${p.dst}:${p.dport}` +
          (p.outcome === 'timeout' ? ' (an entry is kept once a packet of it leaves the host or is delivered: these were dropped first)' : ''),
    ];
  }
  const t = (x: Tuple): string => `${x.src}:${x.sport} → ${x.dst}:${x.dport}`;
  const out = [
    `conntrack (${source}): the connection as the kernel tracks it`,
    `  original  ${t(e.orig)}`,
    `  reply     ${t(e.reply)}   ${[e.state, ...e.flags.map((f) => `[${f}]`)].filter(Boolean).join(' ')}`,
  ];
  const dnatted = e.reply.src !== e.orig.dst || e.reply.sport !== e.orig.dport;
  const snatted = e.reply.dst !== e.orig.src || e.reply.dport !== e.orig.sport;
  if (e.flags.includes('UNREPLIED')) out.push('  → no reply was ever seen: the packets went out and nothing came back');
  else if (dnatted) {
    out.push(`  → the reply leaves ${e.reply.src}:${e.reply.sport}${target ? ' (the container)' : ''}; conntrack rewrites its source back to ${e.orig.dst}:${e.orig.dport}, undoing the DNAT`);
  } else out.push(`  → the reply comes from ${e.reply.src}:${e.reply.sport} itself: no DNAT was applied`);
  if (snatted && !e.flags.includes('UNREPLIED')) {
    out.push(`  → it is addressed to ${e.reply.dst}:${e.reply.dport} (the masqueraded source); conntrack rewrites that back to ${e.orig.src}:${e.orig.sport}, the probe's socket`);
  } else if (dnatted && !e.flags.includes('UNREPLIED')) {
    out.push(`  → it is addressed to ${e.reply.dst} directly: no source NAT, so the container saw the client's real address and replied through its default gateway, the host`);
  }
  return out;
}
