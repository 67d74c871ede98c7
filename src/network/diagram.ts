// `minidock network diagram`: a picture of the host's minidock networking, as text (box drawing,
// 100 columns) and as SVG. Pure: src/cli/diagram.ts gathers the inputs (the state store,
// `iptables-save -c`, `ip -j addr`, each container's eth0 read in its namespace); buildDiagram()
// joins them into a model; the renderers draw it.
//
//   host ── uplink eth0, default route, the jumps into minidock's chains
//     │      (routed: ip_forward)
//   bridge mdk0 ── its address, the network-wide rules (egress MASQUERADE, hairpin, FORWARD)
//     ├─ veth mdk<id12> ══ eth0 ── container: address, MAC, each published port and its DNAT
//     └─ ...
//
// Every rule shows its counters: packets and bytes the kernel counted since the rule was made.
// A nat rule counts connections (only a connection's first packet meets the nat table), a filter
// rule every packet.
import { formatRate, ifbName } from './bandwidth.js';
import { ROLE_TEXT, compactSpec, humanCount, ruleOwner, ruleRole, type RuleRole, type SavedRules } from './counters.js';
import { netOwner, planPortRules, type Attachment, type NetworkConfig } from './plan.js';

/** One link of `ip -j addr`. */
export interface IpLink {
  ifname: string;
  address?: string;
  operstate?: string;
  master?: string;
  addr_info?: Array<{ family: string; local: string; prefixlen: number }>;
}

export interface DiagramInputs {
  save: SavedRules;
  /** `ip -j addr` in the network namespace drawn (the host's). */
  links: IpLink[];
  defaultRoute?: { dev: string; gateway?: string };
  networks: NetworkConfig[];
  containers: Array<{ id: string; name: string; pid?: number; status: string; attachment: Attachment; eth0?: IpLink }>;
}

export interface RuleRow {
  table: string;
  chain: string;
  spec: string;
  role: RuleRole;
  /** undefined: minidock's plan has the rule, but the kernel does not. */
  pkts?: number;
  bytes?: number;
}

export interface DiagramContainer {
  id: string;
  name: string;
  pid?: number;
  status: string;
  hostVeth: string;
  hostVethMac?: string;
  /** operstate of the host end; undefined when the link does not exist. */
  hostVethState?: string;
  ip: string;
  prefix: number;
  mac: string;
  /** Where the address and MAC come from: read inside the container's namespace, or its lease. */
  addrSource: 'netns' | 'lease';
  ports: Array<{ hostIp: string; hostPort: number; containerPort: number; proto: string; rules: RuleRow[] }>;
  /** --ingress-rate / --egress-rate, bits per second. */
  ingressRate?: number;
  egressRate?: number;
}

export interface DiagramNetwork {
  name: string;
  bridge: string;
  subnet: string;
  gateway: string;
  prefix: number;
  mac?: string;
  /** undefined when the bridge does not exist in this namespace. */
  state?: string;
  rules: RuleRow[];
  containers: DiagramContainer[];
}

export interface DiagramModel {
  uplink?: { dev: string; addrs: string[]; mac?: string; gateway?: string };
  jumps: RuleRow[];
  networks: DiagramNetwork[];
}

const BUILTIN = new Set(['PREROUTING', 'OUTPUT', 'POSTROUTING', 'FORWARD', 'INPUT']);

/** Jumps in the order a packet meets them, then the network's rules: raw, nat, filter. */
const JUMP_ORDER = ['raw PREROUTING', 'nat PREROUTING', 'nat OUTPUT', 'nat POSTROUTING', 'filter FORWARD', 'filter INPUT'];
const ROLE_ORDER: RuleRole[] = ['guard', 'egress', 'from-host', 'hairpin', 'fwd-established', 'fwd-dnat', 'fwd-out', 'isolate', 'isolated', 'other'];
const byJump = (a: RuleRow, b: RuleRow): number => JUMP_ORDER.indexOf(`${a.table} ${a.chain}`) - JUMP_ORDER.indexOf(`${b.table} ${b.chain}`);
const byRole = (a: RuleRow, b: RuleRow): number => ROLE_ORDER.indexOf(a.role) - ROLE_ORDER.indexOf(b.role);

const row = (r: { table: string; chain: string; spec: string; pkts?: number; bytes?: number }): RuleRow =>
  ({ table: r.table, chain: r.chain, spec: r.spec, role: ruleRole(r), pkts: r.pkts, bytes: r.bytes });

const inet = (l: IpLink | undefined): string[] =>
  (l?.addr_info ?? []).filter((a) => a.family === 'inet').map((a) => `${a.local}/${a.prefixlen}`);

export function buildDiagram(i: DiagramInputs): DiagramModel {
  const link = (name: string): IpLink | undefined => i.links.find((l) => l.ifname === name);
  const up = i.defaultRoute ? link(i.defaultRoute.dev) : undefined;
  return {
    uplink: i.defaultRoute && { dev: i.defaultRoute.dev, addrs: inet(up), mac: up?.address, gateway: i.defaultRoute.gateway },
    jumps: i.save.rules.filter((r) => BUILTIN.has(r.chain) && /-j MINIDOCK-/.test(r.spec)).map(row).sort(byJump),
    networks: i.networks.map((n): DiagramNetwork => ({
      name: n.name,
      bridge: n.bridge,
      subnet: n.subnet,
      gateway: n.gateway,
      prefix: n.prefix,
      mac: link(n.bridge)?.address,
      state: link(n.bridge)?.operstate,
      rules: i.save.rules.filter((r) => ruleOwner(r.spec) === netOwner(n)).map(row).sort(byRole),
      containers: i.containers
        .filter((c) => c.attachment.network === n.name)
        .map((c): DiagramContainer => {
          const a = c.attachment;
          const seen = c.eth0?.addr_info?.find((x) => x.family === 'inet');
          const planned = planPortRules(a);
          return {
            id: c.id,
            name: c.name,
            pid: c.pid,
            status: c.status,
            hostVeth: a.hostVeth,
            hostVethMac: link(a.hostVeth)?.address,
            hostVethState: link(a.hostVeth)?.operstate,
            ip: seen?.local ?? a.ip,
            prefix: seen?.prefixlen ?? a.prefix,
            mac: c.eth0?.address ?? a.mac,
            addrSource: seen ? 'netns' : 'lease',
            ...(a.bandwidth?.ingressRate ? { ingressRate: a.bandwidth.ingressRate } : {}),
            ...(a.bandwidth?.egressRate ? { egressRate: a.bandwidth.egressRate } : {}),
            ports: a.ports.map((p, k) => {
              const want = planned[k]!;
              const found = i.save.rules.find((r) => r.table === want.table && r.chain === want.chain && r.spec === want.spec);
              return { ...p, rules: [row(found ?? want)] };
            }),
          };
        }),
    })),
  };
}

/** The model cut down to one container and its network (`minidock inspect --net NAME`). */
export function onlyContainer(m: DiagramModel, id: string): DiagramModel {
  return {
    ...m,
    networks: m.networks
      .filter((n) => n.containers.some((c) => c.id === id))
      .map((n) => ({ ...n, containers: n.containers.filter((c) => c.id === id) })),
  };
}

// ---------------------------------------------------------------------------------------------
// Blocks: the content both renderers draw. A block is a box with a title and rows; a rule row
// carries its counters.

interface Row {
  text: string;
  rule?: RuleRow;
}

interface Block {
  kind: 'host' | 'bridge' | 'container';
  title: string;
  /** Printed on the connector above a container's box: its veth pair. */
  link?: string;
  rows: Row[];
}

const NOTE = 'nat rules count connections (their first packet), filter rules every packet';

function ruleText(r: RuleRow): string {
  if (r.role === 'jump') {
    const target = /-j (\S+)/.exec(r.spec)?.[1] ?? '';
    const rest = compactSpec(r.spec.replace(/\s*-j \S+/, ''));
    return `${`${r.table} ${r.chain}`.padEnd(18)} → ${target}${rest ? `  ${rest}` : ''}`;
  }
  if (r.role === 'dnat') {
    // `-j DNAT --to-destination 10.88.0.2:80` reads as `→ 10.88.0.2:80` (hover the SVG for all of it).
    const to = /--to-destination (\S+)/.exec(r.spec)?.[1] ?? '?';
    return `DNAT ${compactSpec(r.spec.replace(/\s*-j DNAT.*$/, ''))} → ${to}`;
  }
  return `${ROLE_TEXT[r.role][0].padEnd(10)} ${compactSpec(r.spec)}`;
}

function blocks(m: DiagramModel): Block[] {
  const out: Block[] = [];
  const u = m.uplink;
  out.push({
    kind: 'host',
    title: u ? `host · uplink ${u.dev}` : 'host · no default route',
    rows: [
      ...(u ? [{ text: `${u.addrs.join(' ') || 'no IPv4 address'}${u.mac ? `  mac ${u.mac}` : ''}${u.gateway ? `  default via ${u.gateway}` : ''}` }] : []),
      ...(m.jumps.length
        ? m.jumps.map((r) => ({ text: ruleText(r), rule: r }))
        : [{ text: 'no jumps into minidock\'s chains: the first minidock run adds them' }]),
    ],
  });
  for (const n of m.networks) {
    out.push({
      kind: 'bridge',
      title: `bridge ${n.bridge} · network ${n.name}`,
      rows: [
        { text: `${n.gateway}/${n.prefix} gateway of ${n.subnet}${n.mac ? `  mac ${n.mac}` : ''}  ${n.state === undefined ? 'MISSING from this namespace' : n.state.toLowerCase()}` },
        ...n.rules.map((r) => ({ text: ruleText(r), rule: r })),
        ...(n.containers.length ? [] : [{ text: 'no container attached' }]),
      ],
    });
    for (const c of n.containers) {
      const veth = c.hostVethState === undefined ? 'missing' : `${c.hostVethMac ?? ''} ${c.hostVethState.toLowerCase()}`.trim();
      out.push({
        kind: 'container',
        title: `container ${c.name} · ${c.id.slice(0, 12)}${c.pid ? ` · pid ${c.pid}` : ''} · ${c.status}`,
        link: `veth ${c.hostVeth} (host end, ${veth}) ══ eth0 (container end)`,
        rows: [
          { text: `eth0 ${c.ip}/${c.prefix}  mac ${c.mac}  ${c.addrSource === 'netns' ? '(read in its namespace)' : '(from its lease)'}` },
          ...(c.ingressRate ? [{ text: `shaped: receives at most ${formatRate(c.ingressRate)} (tbf on ${c.hostVeth})` }] : []),
          ...(c.egressRate ? [{ text: `shaped: sends at most ${formatRate(c.egressRate)} (tbf on ${ifbName(c.id)}, its ifb)` }] : []),
          ...c.ports.flatMap((p) => [
            { text: `port ${p.hostIp}:${p.hostPort} → ${p.containerPort}/${p.proto}` },
            ...p.rules.map((r) => ({ text: `  ${ruleText(r)}`, rule: r })),
          ]),
          ...(c.ports.length ? [{ text: `  with ${n.bridge}'s from host, hairpin and published rules above` }] : [{ text: 'no published port' }]),
        ],
      });
    }
  }
  return out;
}

export const WIDTH = 100;

/** "180 B", "3.2 KB". */
export function bytesText(n: number): string {
  if (n < 1024) return `${n} B`;
  for (const [u, size] of [['GB', 1024 ** 3], ['MB', 1024 ** 2], ['KB', 1024]] as const) {
    if (n >= size) return `${(n / size).toFixed(1)} ${u}`;
  }
  return `${n} B`;
}

export function counterText(r: RuleRow): string {
  if (r.pkts === undefined) return 'NOT IN THE KERNEL';
  return `${humanCount(r.pkts).padStart(6)} pkts ${bytesText(r.bytes ?? 0).padStart(8)}`;
}

const fit = (s: string, n: number): string => (s.length <= n ? s.padEnd(n) : `${s.slice(0, n - 1)}…`);

function box(b: Block, width: number, joinUp: boolean, joinDown: boolean): string[] {
  const inner = width - 4;
  const top = `┌${joinUp ? '──┴─' : '─'} ${b.title} `;
  const lines = [top.length <= width - 1 ? `${top}${'─'.repeat(width - 1 - top.length)}┐` : `${top.slice(0, width - 3)}… ┐`];
  for (const r of b.rows) {
    if (!r.rule) {
      lines.push(`│ ${fit(r.text, inner)} │`);
      continue;
    }
    const counters = counterText(r.rule);
    lines.push(`│ ${fit(r.text, inner - counters.length - 1)} ${counters} │`);
  }
  lines.push(`└${joinDown ? '──┬' : ''}${'─'.repeat(width - 2 - (joinDown ? 3 : 0))}┘`);
  return lines;
}

/** The diagram as text: box drawing, at most 100 columns. */
export function renderText(m: DiagramModel): string {
  const bs = blocks(m);
  const out: string[] = [];
  for (let k = 0; k < bs.length; k++) {
    const b = bs[k]!;
    const next = bs[k + 1];
    if (b.kind === 'container') continue;
    if (b.kind === 'bridge') out.push('   │ routed by the host (ip_forward)');
    const kids: Block[] = [];
    for (let j = k + 1; j < bs.length && bs[j]!.kind === 'container'; j++) kids.push(bs[j]!);
    out.push(...box(b, WIDTH, b.kind === 'bridge', b.kind === 'host' ? next !== undefined : kids.length > 0));
    kids.forEach((c, j) => {
      const last = j === kids.length - 1;
      out.push('   │');
      out.push(`   ${last ? '└' : '├'}─ ${fit(c.link ?? '', WIDTH - 6).trimEnd()}`);
      const gutter = last ? '      ' : '   │  ';
      for (const l of box(c, WIDTH - 6, false, false)) out.push(gutter + l);
    });
    if (b.kind === 'host' && !next) out.push('', 'no minidock network here yet: the first minidock run creates bridge mdk0');
  }
  out.push('', NOTE);
  return out.map((l) => l.trimEnd()).join('\n') + '\n';
}

// ---------------------------------------------------------------------------------------------
// SVG: the same blocks as boxes, for a browser. Hovering a rule shows it in full.

const esc = (s: string): string =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');

const COLORS: Record<Block['kind'], [string, string]> = {
  host: ['#eef2f7', '#5b6b82'],
  bridge: ['#e8f1fb', '#2f6db5'],
  container: ['#eaf6ec', '#2e8540'],
};

export function renderSvg(m: DiagramModel): string {
  const CH = 7.3; // width of a 12px monospace character
  const LH = 17;
  const W = Math.ceil(WIDTH * CH) + 40;
  const parts: string[] = [];
  /** Connectors, drawn first so that boxes cover them where they cross. */
  const wires: string[] = [];
  let y = 16;
  let trunk: { x: number; from: number } | undefined;
  let hostBottom = 0;
  const drawBox = (b: Block, x: number, w: number): void => {
    const [fill, stroke] = COLORS[b.kind];
    const h = LH * (b.rows.length + 1) + 10;
    parts.push(`<g class="${b.kind}">`);
    parts.push(`<rect x="${x}" y="${y}" width="${w}" height="${h}" rx="6" fill="${fill}" stroke="${stroke}" stroke-width="1.5"/>`);
    parts.push(`<text x="${x + 10}" y="${y + LH}" font-weight="bold" fill="${stroke}">${esc(b.title)}</text>`);
    b.rows.forEach((r, k) => {
      const ty = y + LH * (k + 2);
      const maxChars = Math.floor((w - 20) / CH) - (r.rule ? counterText(r.rule).length + 1 : 0);
      const text = `<text x="${x + 10}" y="${ty}">${esc(fit(r.text, maxChars).trimEnd())}</text>`;
      if (!r.rule) {
        parts.push(text);
        return;
      }
      const warn = r.rule.pkts === undefined ? ' fill="#b00020"' : '';
      parts.push(`<g class="rule"><title>${esc(`-t ${r.rule.table} -A ${r.rule.chain} ${r.rule.spec}\n${ROLE_TEXT[r.rule.role][1]}`)}</title>${text}` +
        `<text x="${x + w - 10}" y="${ty}" text-anchor="end"${warn}>${esc(counterText(r.rule).trim().replace(/\s+/g, " "))}</text></g>`);
    });
    parts.push('</g>');
    y += h;
  };
  for (const b of blocks(m)) {
    if (b.kind === 'host') {
      drawBox(b, 10, W - 20);
      hostBottom = y;
      y += 34;
    } else if (b.kind === 'bridge') {
      if (trunk) y += 10;
      wires.push(`<line x1="40" y1="${hostBottom}" x2="40" y2="${y}" stroke="#5b6b82" stroke-width="2"/>`);
      parts.push(`<text x="48" y="${y - 12}" fill="#5b6b82">routed by the host (ip_forward)</text>`);
      drawBox(b, 10, W - 20);
      trunk = { x: 40, from: y };
      y += 14;
    } else {
      const mid = y + 28;
      wires.push(`<line x1="${trunk!.x}" y1="${trunk!.from}" x2="${trunk!.x}" y2="${mid}" stroke="#2f6db5" stroke-width="2"/>`);
      wires.push(`<line x1="${trunk!.x}" y1="${mid}" x2="70" y2="${mid}" stroke="#2f6db5" stroke-width="2" stroke-dasharray="5 3"/>`);
      parts.push(`<text x="${trunk!.x + 8}" y="${y + 12}" fill="#2f6db5">${esc(b.link ?? '')}</text>`);
      y += 20;
      drawBox(b, 70, W - 80);
      trunk = { x: trunk!.x, from: mid };
      y += 14;
    }
  }
  y += 10;
  parts.push(`<text x="10" y="${y}" fill="#5b6b82">${esc(NOTE)}</text>`);
  const height = y + 14;
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${height}" viewBox="0 0 ${W} ${height}" font-family="ui-monospace, Menlo, Consolas, monospace" font-size="12" xml:space="preserve" style="white-space:pre">`,
    '<title>minidock network diagram</title>',
    `<rect width="${W}" height="${height}" fill="#ffffff"/>`,
    ...wires,
    ...parts,
    '</svg>',
    '',
  ].join('\n');
}
