// Rules with their packet and byte counters, as `iptables-save -c` prints them, and what changed
// between two readings. Pure: `network diagram`, `trace` and `doctor` read the same text.
//
//   *nat
//   :PREROUTING ACCEPT [12:720]                        a built-in chain: policy [pkts:bytes]
//   :MINIDOCK-DNAT - [0:0]                             a user chain: no policy, no counters
//   [3:180] -A MINIDOCK-DNAT -p tcp -m tcp --dport 8080 -m comment --comment "minidock:<id>" -j DNAT ...
//
// The kernel counts every packet a rule matches. In the nat table that is only the first packet
// of each connection: conntrack remembers the translation and applies it to the rest (and to
// the replies) without consulting the rules again. In the filter table every packet counts.

export interface CountedRule {
  table: string;
  chain: string;
  /** Everything after `-A CHAIN`, with the comment unquoted (as plan.ts writes specs). */
  spec: string;
  pkts: number;
  bytes: number;
}

export interface ChainHead {
  table: string;
  chain: string;
  /** ACCEPT or DROP for a built-in chain, '-' for a user-defined one. */
  policy: string;
  /** Packets that reached the end of a built-in chain and got its policy. */
  pkts: number;
  bytes: number;
}

export interface SavedRules {
  chains: ChainHead[];
  rules: CountedRule[];
}

/** iptables-save quotes comments (`--comment "minidock:x"`); minidock's specs do not. */
export const unquoteComment = (line: string): string => line.replace(/--comment "([^"\s]*)"/g, '--comment $1');

/** Parses `iptables-save -c` (or plain `iptables-save`: counters are then 0). */
export function parseSave(text: string): SavedRules {
  const out: SavedRules = { chains: [], rules: [] };
  let table = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line.startsWith('*')) {
      table = line.slice(1);
      continue;
    }
    const head = /^:(\S+)\s+(\S+)(?:\s+\[(\d+):(\d+)\])?/.exec(line);
    if (head) {
      out.chains.push({ table, chain: head[1]!, policy: head[2]!, pkts: Number(head[3] ?? 0), bytes: Number(head[4] ?? 0) });
      continue;
    }
    const rule = /^(?:\[(\d+):(\d+)\]\s+)?-A\s+(\S+)\s+(.*)$/.exec(line);
    if (rule) {
      out.rules.push({ table, chain: rule[3]!, spec: unquoteComment(rule[4]!), pkts: Number(rule[1] ?? 0), bytes: Number(rule[2] ?? 0) });
    }
  }
  return out;
}

/** The owner in a rule's `minidock:<owner>` tag: a container id, or `net:<network>:<scope>`
 *  (`net:<network>` for rules made before tags named the state root). */
export function ruleOwner(spec: string): string | undefined {
  return /--comment minidock:(\S+)/.exec(spec)?.[1];
}

export interface Moved<T> {
  item: T;
  pkts: number;
  bytes: number;
}

/** Rules whose counters grew between two readings, in the order of the second. Rules are matched
 *  by table, chain, text and occurrence, so a rule added or removed meanwhile does not shift the
 *  others; a rule new in `after` counts from zero. */
export function movedRules(before: SavedRules, after: SavedRules): Array<Moved<CountedRule>> {
  const seen = new Map<string, number>();
  const key = (r: CountedRule): string => `${r.table} ${r.chain} ${r.spec}`;
  const old = new Map<string, CountedRule[]>();
  for (const r of before.rules) old.set(key(r), [...(old.get(key(r)) ?? []), r]);
  const out: Array<Moved<CountedRule>> = [];
  for (const r of after.rules) {
    const k = key(r);
    const n = seen.get(k) ?? 0;
    seen.set(k, n + 1);
    const prev = old.get(k)?.[n];
    const pkts = r.pkts - (prev?.pkts ?? 0);
    if (pkts > 0) out.push({ item: r, pkts, bytes: r.bytes - (prev?.bytes ?? 0) });
  }
  return out;
}

/** Built-in chains whose policy counter grew: packets no rule decided on, given the policy. */
export function movedPolicies(before: SavedRules, after: SavedRules): Array<Moved<ChainHead>> {
  return after.chains.flatMap((c) => {
    if (c.policy === '-') return [];
    const prev = before.chains.find((p) => p.table === c.table && p.chain === c.chain);
    const pkts = c.pkts - (prev?.pkts ?? 0);
    return pkts > 0 ? [{ item: c, pkts, bytes: c.bytes - (prev?.bytes ?? 0) }] : [];
  });
}

/** 1234567 -> "1.2M", as iptables -L -v -n shows counters. */
export function humanCount(n: number): string {
  if (n < 10_000) return String(n);
  for (const [unit, size] of [['G', 1e9], ['M', 1e6], ['K', 1e3]] as const) {
    if (n >= size) return `${(n / size).toFixed(n >= size * 100 ? 0 : 1)}${unit}`;
  }
  return String(n);
}

/** What each of minidock's rules is for (plan.ts writes them; these names are for people). */
export type RuleRole = 'jump' | 'dnat' | 'egress' | 'from-host' | 'hairpin' | 'fwd-established' | 'fwd-dnat' | 'fwd-out' | 'guard' | 'isolate' | 'isolated' | 'other';

export function ruleRole(r: { chain: string; spec: string }): RuleRole {
  const s = r.spec;
  if (r.chain === 'MINIDOCK-ISOLATION-1' && /-j MINIDOCK-ISOLATION-2\b/.test(s)) return 'isolate';
  if (r.chain === 'MINIDOCK-ISOLATION-2' && /-j DROP\b/.test(s)) return 'isolated';
  if (/-j MINIDOCK-/.test(s)) return 'jump';
  if (/-j DNAT\b/.test(s)) return 'dnat';
  if (/-j MASQUERADE\b/.test(s)) {
    if (/ ! -o /.test(` ${s}`)) return 'egress';
    if (/--src-type LOCAL/.test(s)) return 'from-host';
    if (/--ctstate DNAT/.test(s)) return 'hairpin';
  }
  if (/-j ACCEPT\b/.test(s) && r.chain === 'MINIDOCK-FORWARD') {
    if (/RELATED,ESTABLISHED/.test(s)) return 'fwd-established';
    if (/--ctstate DNAT/.test(s)) return 'fwd-dnat';
    if (/(^| )-i /.test(s)) return 'fwd-out';
  }
  if ((r.chain === 'MINIDOCK-PREROUTING' || r.chain === 'MINIDOCK-INPUT') && /-d 127\.0\.0\.0\/8/.test(s) && /-j DROP\b/.test(s)) return 'guard';
  return 'other';
}

/** One short label per role, and what the rule does in a few words. */
export const ROLE_TEXT: Record<RuleRole, [string, string]> = {
  jump: ['jump', 'into minidock\'s chain'],
  dnat: ['DNAT', 'a published port: the destination becomes the container'],
  egress: ['egress', 'containers leave with the uplink\'s address'],
  'from-host': ['from host', 'this host to a published port: replies must come back to it'],
  hairpin: ['hairpin', 'a container to a published port: replies come back through the host'],
  'fwd-established': ['replies', 'later packets of connections already admitted'],
  'fwd-dnat': ['published', 'new connections to published ports, even under FORWARD policy DROP'],
  'fwd-out': ['outbound', 'everything the containers send'],
  guard: ['guard', 'containers may not reach the host\'s 127.0.0.0/8 (route_localnet is on)'],
  isolate: ['isolate', 'a new connection out of this bridge is checked against every minidock bridge'],
  isolated: ['isolated', 'nothing from another minidock network gets into this bridge (published ports aside)'],
  other: ['rule', 'not one of minidock\'s'],
};

/** A rule as people read it: without minidock's tag and without the `-m MODULE` that iptables
 *  needs before a module's options (`-m conntrack --ctstate DNAT` reads as `--ctstate DNAT`). */
export function compactSpec(spec: string): string {
  return spec
    .replace(/\s*-m comment --comment \S+/g, '')
    .replace(/-m (tcp|udp|conntrack|addrtype) (?=(!\s+)?--)/g, '')
    .replace(/\s+/g, ' ')
    .trim();
}
