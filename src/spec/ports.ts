// docker's `-p/--publish` and `-P/--publish-all` flags, and the PORTS column of `docker ps`.
// Pure: no I/O; the network module turns these bindings into listeners / NAT rules.
//
// Accepted -p forms (IPv4 only), `[hostIp:][hostPort:]containerPort[/proto]`:
//   80                      container port 80, random host port on 0.0.0.0
//   :80  ::80               the same (docker's splitter reads the empty parts as "not given")
//   8080:80                 host 8080 -> container 80, tcp, on 0.0.0.0
//   127.0.0.1:8080:80       only on that address
//   127.0.0.1::80           random host port on that address
//   [127.0.0.1]:8080:80     brackets around an IPv4 address are accepted, as docker does
//   8080:80/udp  80/TCP     protocol tcp (default) or udp, in any case (docker lowercases it)
//   8000-8002:8000-8002     equal-size ranges expand to one binding per port
//   8000-8002               a container range with random host ports
//   8000-8002:80            any one free host port of the range for container port 80, as
//                           docker picks it (the first free one, at run time)
//
// Decisions where minidock is stricter than docker (each rejected as a usage error, exit 125):
//   - Leading zeros (`08080`) and signs (`+80`) are rejected; docker's ParseUint reads
//     `08080` as 8080.
//   - An explicit host port 0 (`0:80`) is rejected: omit the host port for a random one.
//   - An empty protocol (`80/`) is rejected; docker silently reads it as tcp.
//   - sctp is rejected: only tcp and udp are supported.
//   - Any IPv6 host address, bracketed or not, is rejected: minidock publishes on IPv4 only.

import { usageError } from '../core/errors.js';

export type Proto = 'tcp' | 'udp';

export interface PortBinding {
  /** '0.0.0.0' when not given (all IPv4 addresses). */
  hostIp: string;
  /** 0 = choose a free port at run time. */
  hostPort: number;
  /** With a host range for one container port (`8000-8002:80`): the range's last port; the
   *  run takes the first free one from hostPort up. Gone once resolved. */
  hostPortEnd?: number;
  containerPort: number;
  proto: Proto;
  /** -p named the address (docker's HostConfig.PortBindings keeps "" when it did not). */
  ipGiven?: true;
}

/** The most bindings one run may publish; a range expanding past this is a usage error. */
export const MAX_PORT_MAPPINGS = 1000;

const ALL_IPV4 = '0.0.0.0';
const MIN_PORT = 1;
const MAX_PORT = 65535;
/** A decimal number without sign or leading zero ("0" itself passes, and is then out of range). */
const DECIMAL = /^(?:0|[1-9][0-9]*)$/;
const FORM = '[hostIp:][hostPort:]containerPort[/tcp|udp]';

interface Range {
  start: number;
  end: number;
}

type RangeResult = Range | { error: 'syntax' } | { error: 'bounds'; value: string } | { error: 'reversed' };

/** ` in "spec"` when the bad value is only part of what the user typed. */
function within(spec: string, value: string): string {
  return value === spec ? '' : ` in ${JSON.stringify(spec)}`;
}

/** `N` or `N-M`, each 1-65535, N <= M; classified so callers can word their own errors. */
function readRange(text: string): RangeResult {
  const parts = text.split('-');
  if (parts.length > 2 || !parts.every((p) => DECIMAL.test(p))) return { error: 'syntax' };
  const nums = parts.map(Number);
  for (let i = 0; i < nums.length; i++) {
    const n = nums[i]!;
    if (n < MIN_PORT || n > MAX_PORT) return { error: 'bounds', value: parts[i]! };
  }
  const start = nums[0]!;
  const end = nums[nums.length - 1]!;
  if (end < start) return { error: 'reversed' };
  return { start, end };
}

function parseRange(text: string, spec: string, side: 'host' | 'container'): Range {
  const r = readRange(text);
  if ('start' in r) return r;
  const where = within(spec, text);
  switch (r.error) {
    case 'syntax':
      throw usageError(
        `invalid port ${JSON.stringify(text)}${where}`,
        'a port is a decimal number 1-65535 (no sign, spaces or leading zeros), or a range like 8000-8002',
      );
    case 'bounds':
      throw usageError(
        `port out of range 1-65535: ${r.value}${where}`,
        side === 'host' && r.value === '0'
          ? 'omit the host port to have one chosen at random, e.g. -p 80'
          : undefined,
      );
    case 'reversed':
      throw usageError(`invalid range ${JSON.stringify(text)}${where}`, 'a range is low-high, e.g. 8000-8002');
  }
}

/** Strict dotted quad: four decimal octets 0-255, no leading zeros (`01.2.3.4` is ambiguous). */
function isIPv4(s: string): boolean {
  const parts = s.split('.');
  return parts.length === 4 && parts.every((p) => /^(?:0|[1-9][0-9]{0,2})$/.test(p) && Number(p) <= 255);
}

/** RFC 4291 text form, with an optional trailing dotted quad and %zone. Only used to recognise
 *  IPv6 input so it can be refused with the right message. */
function isIPv6(input: string): boolean {
  let s = input;
  const zone = s.indexOf('%');
  if (zone >= 0) {
    if (zone === s.length - 1) return false;
    s = s.slice(0, zone);
  }
  let groups = 8;
  const lastColon = s.lastIndexOf(':');
  if (lastColon < 0) return false;
  const tail = s.slice(lastColon + 1);
  if (tail.includes('.')) {
    if (!isIPv4(tail)) return false;
    s = `${s.slice(0, lastColon + 1)}0`; // the dotted quad fills two groups; count it as one of 7
    groups = 7;
  }
  const hex = /^[0-9A-Fa-f]{1,4}$/;
  const halves = s.split('::');
  if (halves.length > 2) return false;
  if (halves.length === 1) {
    const all = s.split(':');
    return all.length === groups && all.every((g) => hex.test(g));
  }
  const side = (t: string): string[] => (t === '' ? [] : t.split(':'));
  const present = [...side(halves[0]!), ...side(halves[1]!)];
  return present.length < groups && present.every((g) => hex.test(g));
}

function throwIPv6(spec: string): never {
  throw usageError(
    `IPv6 port bindings are not supported in ${JSON.stringify(spec)}`,
    'minidock publishes on IPv4 only: use 0.0.0.0 or an IPv4 address such as 127.0.0.1',
  );
}

/** The host address as given (empty = all IPv4 addresses), checked and normalised. */
function parseHostIp(ip: string, spec: string): string {
  if (ip === '') return ALL_IPV4;
  if (isIPv4(ip)) return ip;
  if (isIPv6(ip)) throwIPv6(spec);
  const where = within(spec, ip);
  if (/^[A-Za-z0-9.-]+$/.test(ip) && /[A-Za-z]/.test(ip)) {
    throw usageError(
      `host IP must be a literal IP address, not ${JSON.stringify(ip)}${where}`,
      'use 127.0.0.1 for the loopback address, or omit it to listen on all addresses',
    );
  }
  throw usageError(`invalid host IP ${JSON.stringify(ip)}${where}`, 'use an IPv4 address such as 127.0.0.1');
}

interface SpecParts {
  ip: string;
  host: string;
  container: string;
}

function badSpec(spec: string, hint: string): never {
  throw usageError(`invalid port spec ${JSON.stringify(spec)}`, hint);
}

/** Splits `[ip:][host:]container[/proto]` the way docker's splitParts does: the last two
 *  colon-separated fields are the ports, anything before them is the address. */
function splitSpec(spec: string): SpecParts {
  if (spec === '') badSpec(spec, `use ${FORM}`);
  if (spec.includes(',')) badSpec(spec, 'give one mapping per -p flag, e.g. -p 8080:80 -p 8081:81');
  if (spec.startsWith('[')) {
    const close = spec.indexOf(']');
    const inner = spec.slice(1, close < 0 ? undefined : close);
    if (isIPv6(inner)) throwIPv6(spec);
    if (close < 0 || spec[close + 1] !== ':') badSpec(spec, `use ${FORM}`);
    const ports = spec.slice(close + 2).split(':');
    if (ports.length !== 2) badSpec(spec, `use ${FORM}`);
    if (!isIPv4(inner)) {
      const given = spec.slice(0, close + 1);
      throw usageError(`invalid host IP ${JSON.stringify(given)}${within(spec, given)}`, 'use an IPv4 address such as 127.0.0.1');
    }
    return { ip: inner, host: ports[0]!, container: ports[1]! };
  }
  const parts = spec.split(':');
  const n = parts.length;
  if (n === 1) return { ip: '', host: '', container: parts[0]! };
  if (n === 2) return { ip: '', host: parts[0]!, container: parts[1]! };
  const ip = parts.slice(0, n - 2).join(':');
  if (n > 3) {
    if (isIPv6(ip)) throwIPv6(spec);
    badSpec(spec, `too many colons: use ${FORM}`);
  }
  return { ip, host: parts[n - 2]!, container: parts[n - 1]! };
}

/** Splits `port[/proto]`; the protocol is case-insensitive (go-connections lowercases it). */
function splitProto(container: string, spec: string): { ports: string; proto: Proto } {
  const slash = container.indexOf('/');
  if (slash < 0) return { ports: container, proto: 'tcp' };
  const given = container.slice(slash + 1);
  const proto = given.toLowerCase();
  if (proto !== 'tcp' && proto !== 'udp') {
    throw usageError(`invalid protocol ${JSON.stringify(given)} (tcp or udp)${within(spec, given)}`);
  }
  return { ports: container.slice(0, slash), proto };
}

function tooMany(spec: string | undefined, count: number): never {
  throw usageError(
    `too many port mappings (max ${MAX_PORT_MAPPINGS})${spec === undefined ? '' : ` in ${JSON.stringify(spec)}`}`,
    `this expands to ${count} mappings, one per port; publish a smaller range`,
  );
}

/** One -p value, expanded to one binding per container port. */
export function parsePublish(spec: string): PortBinding[] {
  const parts = splitSpec(spec);
  const { ports, proto } = splitProto(parts.container, spec);
  const hostIp = parseHostIp(parts.ip, spec);
  const given = parts.ip !== '' ? { ipGiven: true as const } : {};
  const container = parseRange(ports, spec, 'container');
  const host = parts.host === '' ? undefined : parseRange(parts.host, spec, 'host');
  const count = container.end - container.start + 1;
  if (host !== undefined) {
    const hostCount = host.end - host.start + 1;
    if (hostCount !== count && count === 1) {
      return [{ hostIp, hostPort: host.start, hostPortEnd: host.end, containerPort: container.start, proto, ...given }];
    }
    if (hostCount !== count) {
      throw usageError(
        `port ranges differ in size: ${parts.host} (${hostCount} ports) and ${ports} (${count} ports) in ${JSON.stringify(spec)}`,
      );
    }
  }
  if (count > MAX_PORT_MAPPINGS) tooMany(spec, count);
  const out: PortBinding[] = [];
  for (let i = 0; i < count; i++) {
    out.push({
      hostIp,
      hostPort: host === undefined ? 0 : host.start + i,
      containerPort: container.start + i,
      proto,
      ...given,
    });
  }
  return out;
}

/** Whether two host addresses can both receive a packet: equal, or either is the wildcard. */
function ipsOverlap(a: string, b: string): boolean {
  return a === b || a === ALL_IPV4 || b === ALL_IPV4;
}

/** All -p values in order. Two bindings may not claim the same host port and protocol on
 *  overlapping addresses; the same container port published twice is fine (docker allows it). */
export function parsePublishList(specs: string[]): PortBinding[] {
  const out: PortBinding[] = [];
  /** `port/proto` -> the addresses already holding it, with the spec that claimed each. */
  const claimed = new Map<string, Array<{ ip: string; spec: string }>>();
  for (const spec of specs) {
    const bindings = parsePublish(spec);
    if (out.length + bindings.length > MAX_PORT_MAPPINGS) {
      throw usageError(
        `too many port mappings (max ${MAX_PORT_MAPPINGS})`,
        `the -p values expand to more than ${MAX_PORT_MAPPINGS} mappings; publish smaller ranges`,
      );
    }
    for (const b of bindings) {
      if (b.hostPort === 0 || b.hostPortEnd !== undefined) continue; // chosen at run time
      const key = `${b.hostPort}/${b.proto}`;
      const holders = claimed.get(key) ?? [];
      const clash = holders.find((h) => ipsOverlap(h.ip, b.hostIp));
      if (clash) {
        throw usageError(
          `duplicate host port ${key}: ${JSON.stringify(clash.spec)} and ${JSON.stringify(spec)}`,
          'each host address and port can be published once',
        );
      }
      holders.push({ ip: b.hostIp, spec });
      claimed.set(key, holders);
    }
    out.push(...bindings);
  }
  return out;
}

/**
 * -P: every exposed port (image EXPOSE and --expose), on all addresses, random host port.
 * Keys are docker's `port[/proto]` or `start-end[/proto]`; no protocol means tcp, case is
 * ignored. sctp ports, which docker can expose but minidock cannot publish, are skipped.
 * Sorted by container port then protocol, duplicates removed, so the result does not depend
 * on the key order of the image config.
 */
export function exposedToBindings(exposed: Record<string, {}>): PortBinding[] {
  const seen = new Set<string>();
  const out: PortBinding[] = [];
  for (const key of Object.keys(exposed)) {
    const slash = key.indexOf('/');
    const ports = slash < 0 ? key : key.slice(0, slash);
    const proto = slash < 0 ? 'tcp' : key.slice(slash + 1).toLowerCase();
    if (proto === 'sctp') continue;
    const range = readRange(ports);
    if ((proto !== 'tcp' && proto !== 'udp') || !('start' in range)) {
      throw usageError(`invalid exposed port ${JSON.stringify(key)}`, 'expected port[/tcp|udp] or start-end[/tcp|udp]');
    }
    for (let p = range.start; p <= range.end; p++) {
      const id = `${p}/${proto}`;
      if (seen.has(id)) continue;
      seen.add(id);
      out.push({ hostIp: ALL_IPV4, hostPort: 0, containerPort: p, proto });
      if (out.length > MAX_PORT_MAPPINGS) tooMany(undefined, out.length);
    }
  }
  return out.sort((a, b) => a.containerPort - b.containerPort || a.proto.localeCompare(b.proto));
}

/** --expose values (`80`, `8000-8002/udp`) as the keys of an ExposedPorts set, each checked as
 *  an image's EXPOSE key is. */
export function parseExpose(values: string[]): Record<string, {}> {
  const out: Record<string, {}> = {};
  for (const v of values) {
    if (v === '') throw usageError('invalid --expose value ""', 'give port[/tcp|udp] or start-end[/tcp|udp]');
    exposedToBindings({ [v]: {} }); // throws the error naming a bad one
    out[v] = {};
  }
  return out;
}

/** docker's Config.ExposedPorts: the image's EXPOSE ports, --expose and the container side of
 *  every -p, as `port/proto`, ranges expanded, sorted by port then protocol, each once. */
export function exposedPortKeys(exposed: Record<string, {}>, published: PortBinding[]): string[] {
  const all = [...exposedToBindings(exposed), ...published];
  const keys = [...new Set(all.sort((a, b) => a.containerPort - b.containerPort || a.proto.localeCompare(b.proto)).map((b) => `${b.containerPort}/${b.proto}`))];
  return keys;
}

/** The PORTS column's input for a running container: its published bindings, and each exposed
 *  port nothing publishes as an unpublished one (host port 0), which shows as `80/tcp`. */
export function withExposed(published: PortBinding[], exposedKeys: string[] = []): PortBinding[] {
  const have = new Set(published.map((b) => `${b.containerPort}/${b.proto}`));
  const extra = exposedKeys.filter((k) => !have.has(k)).map((k) => {
    const [port, proto] = k.split('/');
    return { hostIp: ALL_IPV4, hostPort: 0, containerPort: Number(port), proto: proto as Proto };
  });
  return [...published, ...extra];
}

/** IPv4 as an unsigned number for ordering; -1 for anything else (sorts first). */
function ipOrder(ip: string): number {
  if (!isIPv4(ip)) return -1;
  return ip.split('.').reduce((acc, octet) => acc * 256 + Number(octet), 0);
}

/**
 * The PORTS column of `docker ps`, following the docker CLI's DisplayablePorts:
 *  - sort by container port, then host address (unpublished first, then numerically), then
 *    host port, then protocol;
 *  - unpublished ports (host port 0 here) and published ones whose host port equals the
 *    container port are grouped into consecutive runs per (address, protocol):
 *    `8000-8002/tcp`, `0.0.0.0:8000-8002->8000-8002/tcp`;
 *  - published ports whose host port differs from the container port are never grouped and
 *    come last, each as `0.0.0.0:8080->80/tcp` (so `8000-8002:9000-9002` shows three entries,
 *    exactly as docker shows it);
 *  - a run closed by a gap is written at once; runs still open at the end follow in the order
 *    their (address, protocol) was first seen. This is docker's output order, quirks included.
 * The input is not modified.
 */
export function formatPorts(bindings: PortBinding[]): string {
  const sorted = [...bindings].sort((a, b) => {
    if (a.containerPort !== b.containerPort) return a.containerPort - b.containerPort;
    const ia = a.hostPort === 0 ? -2 : ipOrder(a.hostIp);
    const ib = b.hostPort === 0 ? -2 : ipOrder(b.hostIp);
    if (ia !== ib) return ia - ib;
    if (a.hostPort !== b.hostPort) return a.hostPort - b.hostPort;
    return a.proto < b.proto ? -1 : a.proto > b.proto ? 1 : 0;
  });

  interface Run {
    ip: string | undefined;
    proto: Proto;
    first: number;
    last: number;
  }
  const show = (r: Run): string => {
    const span = r.first === r.last ? `${r.first}` : `${r.first}-${r.last}`;
    return r.ip === undefined ? `${span}/${r.proto}` : `${r.ip}:${span}->${span}/${r.proto}`;
  };

  const result: string[] = [];
  const mappings: string[] = [];
  const runs = new Map<string, Run>(); // insertion order = first time a key was seen
  for (const b of sorted) {
    const port = b.containerPort;
    let ip: string | undefined;
    if (b.hostPort !== 0) {
      if (b.hostPort !== port) {
        mappings.push(`${b.hostIp}:${b.hostPort}->${port}/${b.proto}`);
        continue;
      }
      ip = b.hostIp;
    }
    const key = ip === undefined ? b.proto : `${ip}/${b.proto}`;
    const run = runs.get(key);
    if (run === undefined) {
      runs.set(key, { ip, proto: b.proto, first: port, last: port });
    } else if (port === run.last + 1) {
      run.last = port;
    } else {
      result.push(show(run));
      runs.set(key, { ip, proto: b.proto, first: port, last: port });
    }
  }
  for (const run of runs.values()) result.push(show(run));
  return [...result, ...mappings].join(', ');
}
