// `minidock trace PORT [--from host|lan|container:NAME]`: sends one bounded TCP connect to a
// published port and prints network/trace.ts's account of its path. The side effects are here:
// reading the counters and conntrack, the probe itself (a short-lived node process, run in the
// namespace the packet should start from), and for --from lan a namespace made for the probe and
// removed after it.
import { existsSync, readFileSync } from 'node:fs';
import { childProcess } from '../core/lazy.js';
import { flagError, MinidockError, usageError } from '../core/errors.js';
import { StateStore } from '../runtime/state.js';
import { isSameProcess } from '../runtime/proc.js';
import { NetworkStore } from '../network/store.js';
import { check, realRunner } from '../network/runner.js';
import { hostRoutes, linkExists } from '../network/host.js';
import { cidrOverlaps, intToIp, ipToInt } from '../network/ipv4.js';
import { parseSave, type SavedRules } from '../network/counters.js';
import { narrate, parseConntrack, type ConntrackSource, type ProbeResult, type Published, type TraceFrom, type TraceInputs } from '../network/trace.js';
import { which } from './doctor.js';

/** The probe: one TCP connect from a chosen source port (so its conntrack entry can be found),
 *  bounded by a timeout, reported as one JSON line. Runs as `node -e` in the probing namespace. */
const PROBE = `
const net = require('net');
const [host, port, timeout] = process.argv.slice(1);
let tries = 0;
(function attempt() {
  const sport = 20000 + Math.floor(Math.random() * 12000);
  const t0 = process.hrtime.bigint();
  const s = net.connect({ host, port: Number(port), localPort: sport });
  let done = false;
  const out = (outcome, error) => {
    if (done) return;
    done = true;
    s.destroy();
    if (error === 'EADDRINUSE' && ++tries < 10) return attempt();
    console.log(JSON.stringify({ outcome, error, sport, ms: Number(process.hrtime.bigint() - t0) / 1e6 }));
  };
  s.setTimeout(Number(timeout), () => out('timeout'));
  s.on('connect', () => out('answered'));
  s.on('error', (e) => out(e.code === 'ECONNREFUSED' ? 'refused' : /^E(HOST|NET)UNREACH$/.test(e.code) ? 'unreachable' : 'error', e.code));
})();
`;

interface ProbePlace {
  /** The command prefix that runs a program in the probing namespace. */
  prefix: string[];
  src: string;
  dst: string;
  from: TraceFrom;
  /** The host end of the probing container's veth. */
  hostVeth?: string;
  cleanup?: () => void;
}

export function parsePort(arg: string): number {
  const m = /^(\d{1,5})(?:\/(tcp|udp))?$/i.exec(arg);
  if (!m || Number(m[1]) < 1 || Number(m[1]) > 65535) throw usageError(`invalid port "${arg}"`, 'a port number from 1 to 65535, e.g. 8080');
  if (m[2]?.toLowerCase() === 'udp') throw usageError('trace sends a TCP connect; a UDP port answers nothing it could wait for', 'trace a TCP port');
  return Number(m[1]);
}

async function saveCounters(): Promise<SavedRules> {
  return parseSave(await check(realRunner, 'trace.iptables-save', 'iptables-save', ['-c']));
}

function publishedOn(store: StateStore, root: string, port: number): Published[] {
  const gateways = new Map(new NetworkStore(root).list().map((n) => [n.name, n.gateway]));
  return store.list().flatMap((rec) => {
    const a = rec.state?.status === 'running' ? rec.state.net?.attachment : undefined;
    if (!a || !rec.spec) return [];
    return a.ports
      .filter((p) => p.proto === 'tcp' && p.hostPort === port)
      .map((p) => ({ id: rec.id, name: rec.spec!.name, ip: a.ip, hostIp: p.hostIp, hostPort: p.hostPort, containerPort: p.containerPort, bridge: a.bridge, gateway: gateways.get(a.network) ?? a.gateway }));
  });
}

/** A published address other than "all" and loopback is where a probe from outside must go. */
const specificAddress = (published: Published[]): string | undefined =>
  published.map((p) => p.hostIp).find((ip) => ip !== '0.0.0.0' && !ip.startsWith('127.'));

/** A /30 in 198.18.0.0/15 (reserved for benchmarking, never routed on the internet) that no
 *  route of the host overlaps. */
function freeLink(): string {
  const routes = hostRoutes().map((r) => r.cidr).filter((c) => c !== '0.0.0.0/0');
  for (let n = ipToInt('198.18.0.0'); n < ipToInt('198.20.0.0'); n += 4) {
    const cidr = `${intToIp(n)}/30`;
    if (!routes.some((r) => cidrOverlaps(r, cidr))) return intToIp(n);
  }
  throw new MinidockError('no free /30 left in 198.18.0.0/15 for the LAN probe', { step: 'trace.lan', hint: 'trace from host or from a container instead' });
}

/** A namespace standing in for a machine on the LAN: a veth to the host, the host's end given
 *  the first address of a /30, the namespace's end the second, and a default route via the host.
 *  Removed with `ip netns del`, which takes the veth pair and the host end's address with it. */
async function lanPlace(published: Published[]): Promise<ProbePlace> {
  const ns = `mdktr${process.pid}`;
  const hostEnd = `${ns}h`;
  const base = ipToInt(freeLink());
  const [hostIp, client] = [intToIp(base + 1), intToIp(base + 2)];
  const cleanup = (): void => {
    childProcess().spawnSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
    if (linkExists(hostEnd)) childProcess().spawnSync('ip', ['link', 'del', hostEnd], { stdio: 'ignore' });
  };
  // A Ctrl-C during the probe must not leave the namespace (doctor counts one as a leftover).
  const onSignal = (sig: NodeJS.Signals): void => {
    cleanup();
    process.exit(128 + (sig === 'SIGINT' ? 2 : 15));
  };
  process.once('SIGINT', onSignal).once('SIGTERM', onSignal);
  try {
    await check(realRunner, 'trace.lan', 'ip', ['netns', 'add', ns]);
    await check(realRunner, 'trace.lan', 'ip', ['-batch', '-'], [
      `link add name ${hostEnd} type veth peer name eth0 netns ${ns}`,
      `addr add ${hostIp}/30 dev ${hostEnd}`,
      `link set ${hostEnd} up`,
    ].join('\n') + '\n');
    await check(realRunner, 'trace.lan', 'ip', ['-n', ns, '-batch', '-'], [
      'link set lo up',
      `addr add ${client}/30 dev eth0`,
      'link set eth0 up',
      `route add default via ${hostIp}`,
    ].join('\n') + '\n');
  } catch (err) {
    cleanup();
    throw err;
  }
  return {
    prefix: ['ip', 'netns', 'exec', ns],
    src: client,
    dst: specificAddress(published) ?? hostIp,
    from: { kind: 'lan', client },
    cleanup: () => {
      cleanup();
      process.removeListener('SIGINT', onSignal).removeListener('SIGTERM', onSignal);
    },
  };
}

function containerPlace(store: StateStore, ref: string, published: Published[]): ProbePlace {
  const rec = store.resolve(ref);
  const st = rec.state;
  if (st?.status !== 'running' || !st.pid || st.pidStart === undefined || !isSameProcess(st.pid, st.pidStart)) {
    throw new MinidockError(`container ${ref} is not running`, { step: 'trace.container', hint: 'start it, or trace --from host' });
  }
  const a = st.net?.attachment;
  if (!a) {
    throw new MinidockError(`container ${ref} has no bridge network of its own`, {
      step: 'trace.container', hint: 'trace from a container on a bridge network (not --network host, none or container:)',
    });
  }
  return {
    prefix: ['nsenter', `--net=/proc/${st.pid}/ns/net`, '--'],
    src: a.ip,
    // The host as the container sees it: its default gateway, the bridge's address.
    dst: specificAddress(published) ?? a.gateway,
    from: { kind: 'container', name: rec.spec?.name ?? rec.id.slice(0, 12), id: rec.id, ip: a.ip },
    hostVeth: a.hostVeth,
  };
}

function hostPlace(published: Published[]): ProbePlace {
  const local = published.map((p) => p.hostIp).find((ip) => ip.startsWith('127.'));
  const dst = specificAddress(published) ?? local ?? '127.0.0.1';
  return { prefix: [], src: dst.startsWith('127.') ? '127.0.0.1' : dst, dst, from: { kind: 'host' } };
}

async function probe(place: ProbePlace, port: number, timeoutMs: number): Promise<ProbeResult> {
  const [cmd, ...args] = [...place.prefix, process.execPath, '-e', PROBE, place.dst, String(port), String(timeoutMs)];
  const r = await realRunner.run(cmd!, args);
  const line = r.stdout.trim().split('\n').pop() ?? '';
  let res: { outcome: ProbeResult['outcome']; error?: string; sport: number; ms: number };
  try {
    res = JSON.parse(line);
  } catch {
    throw new MinidockError(`the probe did not run: ${(r.stderr.trim().split('\n').pop() ?? '') || `exit ${r.code}`}`, { step: 'trace.probe' });
  }
  return { src: place.src, sport: res.sport, dst: place.dst, dport: port, outcome: res.outcome, ms: res.ms, timeoutMs, error: res.error };
}

/** The probing container's bridge port: is it in hairpin mode (may a frame leave by the port it
 *  came in by), and does br_netfilter hand bridged frames to iptables. */
async function bridgePort(veth: string): Promise<TraceInputs['bridgePort']> {
  const r = await realRunner.run('ip', ['-j', '-d', 'link', 'show', 'dev', veth]);
  let hairpin: boolean | undefined;
  try {
    hairpin = (JSON.parse(r.stdout) as Array<{ linkinfo?: { info_slave_data?: { hairpin?: boolean } } }>)[0]?.linkinfo?.info_slave_data?.hairpin;
  } catch {
    /* no such link: the narration does without */
  }
  let bridgeNfCallIptables: string | undefined;
  try {
    bridgeNfCallIptables = readFileSync('/proc/sys/net/bridge/bridge-nf-call-iptables', 'utf8').trim();
  } catch {
    /* br_netfilter not loaded */
  }
  return { veth, hairpin, bridgeNfCallIptables };
}

async function readConntrack(): Promise<{ source: ConntrackSource; text: string }> {
  if (which('conntrack')) {
    const r = await realRunner.run('conntrack', ['-L', '-p', 'tcp']);
    if (r.code === 0) return { source: 'conntrack -L', text: r.stdout };
  }
  if (existsSync('/proc/net/nf_conntrack')) return { source: '/proc/net/nf_conntrack', text: readFileSync('/proc/net/nf_conntrack', 'utf8') };
  return { source: 'none', text: '' };
}

export async function traceCommand(root: string, portArg: string, o: { from: string; timeout: string }): Promise<number> {
  const port = parsePort(portArg);
  if (!/^\d+(\.\d+)?$/.test(o.timeout) || Number(o.timeout) <= 0 || Number(o.timeout) > 30) {
    throw flagError(`invalid timeout "${o.timeout}"`, 'seconds, more than 0 and at most 30');
  }
  const timeoutMs = Math.round(Number(o.timeout) * 1000);
  const store = new StateStore(root);
  const published = publishedOn(store, root, port);
  let place: ProbePlace;
  if (o.from === 'host') place = hostPlace(published);
  else if (o.from === 'lan') place = await lanPlace(published);
  else if (o.from.startsWith('container:') && o.from.length > 'container:'.length) place = containerPlace(store, o.from.slice('container:'.length), published);
  else throw flagError(`invalid --from "${o.from}"`, 'host, lan or container:NAME');
  let text: string;
  let answered: boolean;
  try {
    const before = await saveCounters();
    const result = await probe(place, port, timeoutMs);
    // The probe closed its connection: let the FIN exchange pass so it counts with this probe.
    await new Promise((r) => setTimeout(r, 100));
    const after = await saveCounters();
    const ct = await readConntrack();
    ({ text, answered } = narrate({
      port, from: place.from, published, before, after, probe: result,
      conntrack: { source: ct.source, entries: parseConntrack(ct.text) },
      bridgePort: place.hostVeth ? await bridgePort(place.hostVeth) : undefined,
    }));
  } finally {
    place.cleanup?.();
  }
  process.stdout.write(text);
  return answered ? 0 : 1;
}
