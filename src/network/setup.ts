// Attaches a container to a bridge network and detaches it: the network's side of `run` and
// `rm`. Orchestrates the store (leases), the planner (pure) and the runner (ip, iptables).
import { createRequire } from 'node:module';
import { MinidockError, usageError } from '../core/errors.js';
import type { PortBinding } from '../spec/ports.js';
import { check, type CommandRunner } from './runner.js';
import { hostRoutes, linkExists, uplinkMtu, writeSysctl } from './host.js';
import { cidrOverlaps, macFor } from './ipv4.js';
import {
  hostVethName, planAttachIp, planChains, planNetwork, planPortRules, restoreScript,
  type Attachment, type IptRule, type NetworkConfig,
} from './plan.js';
import { NetworkStore } from './store.js';

export const DEFAULT_NETWORK = 'bridge';

export interface NetEnv {
  /** MINIDOCK_BRIDGE / MINIDOCK_SUBNET: the default network's bridge and subnet, read when it is
   *  first created (tests give each run its own). */
  bridge?: string;
  subnet?: string;
}

/** The default network's configuration, created on first use. Call under the network lock. */
export async function ensureNetworkConfig(store: NetworkStore, name: string, env: NetEnv): Promise<NetworkConfig> {
  const existing = store.get(name);
  if (existing) return existing;
  if (name !== DEFAULT_NETWORK) {
    throw new MinidockError(`network ${name} not found`, { step: 'net.resolve', hint: 'minidock network ls lists them; minidock network create adds one' });
  }
  const { loadSubnetLib, parseSubnet, pickDefaultSubnet } = await import('./subnet.js');
  await loadSubnetLib();
  const bridge = env.bridge ?? 'mdk0';
  // A route on our own bridge is no clash: its state was lost (the state root deleted) while the
  // bridge lived on, and this network takes it over.
  const routes = hostRoutes().filter((r) => r.cidr !== '0.0.0.0/0' && r.dev !== bridge).map((r) => r.cidr);
  const info = parseSubnet(env.subnet ?? pickDefaultSubnet(routes), undefined, routes);
  const net: NetworkConfig = {
    name,
    id: (await import('../runtime/ids.js')).randomHex(32),
    bridge,
    ...info,
    createdAt: Date.now(),
  };
  store.add(net, cidrOverlaps);
  return net;
}

/** iptables-save quotes comments (`--comment "minidock:x"`); our specs do not. */
const unquote = (line: string): string => line.replace(/--comment "([^"\s]*)"/g, '--comment $1');

async function existingRules(runner: CommandRunner): Promise<{ rules: Set<string>; chains: Set<string> }> {
  const out = await check(runner, 'net.iptables-save', 'iptables-save', []);
  const rules = new Set<string>();
  const chains = new Set<string>();
  let table = '';
  for (const line of out.split('\n')) {
    if (line.startsWith('*')) table = line.slice(1);
    else if (line.startsWith(':')) chains.add(`${table} ${line.slice(1).split(' ')[0]}`);
    else if (line.startsWith('-A ')) rules.add(`${table} ${unquote(line.slice(3))}`);
  }
  return { rules, chains };
}

const ruleKey = (r: IptRule): string => `${r.table} ${r.chain} ${r.spec}`;

/** Makes the network's bridge, chains and rules exist in the kernel (idempotent: only what is
 *  missing is added). Cheap when the bridge is there: one stat of /sys/class/net. Returns
 *  whether this call made the bridge. */
export async function ensureBridge(net: NetworkConfig, runner: CommandRunner): Promise<boolean> {
  if (linkExists(net.bridge)) return false;
  const plan = planNetwork(net);
  await check(runner, 'net.bridge', 'ip', ['-batch', '-'], plan.ip.join('\n') + '\n');
  for (const [path, value] of plan.sysctls) writeSysctl(path, value);
  const have = await existingRules(runner);
  const base = planChains();
  const newChains = base.chains.filter(([t, c]) => !have.chains.has(`${t} ${c}`));
  const jumps = base.jumps.filter((r) => !have.rules.has(ruleKey(r)));
  const rules = plan.rules.filter((r) => !have.rules.has(ruleKey(r)));
  // Jumps go first in the built-in chains, so a FORWARD policy of DROP or another tool's rules
  // cannot stop the bridge's traffic before minidock's chain sees it.
  if (newChains.length || jumps.length) await check(runner, 'net.chains', 'iptables-restore', ['--noflush'], restoreScript(jumps, 'I', newChains));
  if (rules.length) await check(runner, 'net.rules', 'iptables-restore', ['--noflush'], restoreScript(rules, 'A'));
  return true;
}

/** Chooses free host ports for bindings that asked for any (host port 0), the way the kernel
 *  does for a socket bound to port 0, and checks that no host program listens on the others. */
export async function resolvePorts(bindings: PortBinding[]): Promise<PortBinding[]> {
  const out: PortBinding[] = [];
  for (const b of bindings) {
    const port = await probePort(b);
    out.push({ ...b, hostPort: port });
  }
  return out;
}

/** Binds the host port for a moment: EADDRINUSE means a host program has it. Returns the port
 *  (the kernel's choice when asked for 0). DNAT would silently steal such a program's traffic. */
function probePort(b: PortBinding): Promise<number> {
  const require = createRequire(import.meta.url);
  return new Promise((resolve, reject) => {
    const fail = (err: NodeJS.ErrnoException): void => {
      if (err.code === 'EADDRINUSE') {
        reject(new MinidockError(`host port ${b.hostPort}/${b.proto} is already in use by another program on ${b.hostIp}`, {
          step: 'net.ports', hint: 'choose another host port, or stop that program',
        }));
      } else if (err.code === 'EADDRNOTAVAIL') {
        reject(usageError(`${b.hostIp} is not an address of this host`, 'publish on one of its addresses, or omit the address'));
      } else reject(err);
    };
    if (b.proto === 'udp') {
      const dgram = require('node:dgram') as typeof import('node:dgram');
      const s = dgram.createSocket('udp4');
      s.once('error', fail);
      s.bind({ port: b.hostPort, address: b.hostIp, exclusive: true }, () => {
        const port = s.address().port;
        s.close(() => resolve(port));
      });
    } else {
      const net = require('node:net') as typeof import('node:net');
      const srv = net.createServer();
      srv.once('error', fail);
      srv.listen({ port: b.hostPort, host: b.hostIp, exclusive: true }, () => {
        const port = (srv.address() as import('node:net').AddressInfo).port;
        srv.close(() => resolve(port));
      });
    }
  });
}

export interface Leased {
  attachment: Attachment;
  /** The DNAT rules for the container's ports, applied after clone. */
  rules: IptRule[];
  /** This run made the network's bridge (what --explain says about it). */
  bridgeCreated?: boolean;
}

/**
 * Leases an address and host ports for a container and makes sure its network is up. Nothing
 * container-specific is in the kernel yet; apply() does that once the child exists.
 */
export async function lease(
  store: NetworkStore,
  runner: CommandRunner,
  o: { containerId: string; network: string; ports: PortBinding[]; env: NetEnv },
  liveness: { isLive: (id: string) => boolean; reclaim: (id: string) => Promise<void> },
): Promise<Leased> {
  const ports = await resolvePorts(o.ports);
  // Reclaiming a stale owner removes its rules (async); collect them and do it before leasing.
  const stale = new Set<string>();
  // The first run on a network creates its bridge and rules; a concurrent first run waits.
  let bridgeCreated = false;
  const net = await store.withLockAsync(async () => {
    const n = await ensureNetworkConfig(store, o.network, o.env);
    bridgeCreated = await ensureBridge(n, runner);
    return n;
  });
  const leaseOnce = (): { ip: string } =>
    store.withLock(() => {
      const ip = store.lease(net, o.containerId, liveness.isLive, (id) => stale.add(id));
      try {
        for (const p of ports) store.leasePort(p, o.containerId, liveness.isLive, (id) => stale.add(id));
      } catch (err) {
        store.releasePorts(o.containerId);
        store.release(net.name, ip, o.containerId);
        throw err;
      }
      return { ip };
    });
  let ip: string;
  try {
    ({ ip } = leaseOnce());
  } finally {
    for (const id of stale) await liveness.reclaim(id);
  }
  const attachment: Attachment = {
    containerId: o.containerId,
    network: net.name,
    bridge: net.bridge,
    ip,
    prefix: net.prefix,
    gateway: net.gateway,
    mac: macFor(ip),
    hostVeth: hostVethName(o.containerId),
    mtu: uplinkMtu(),
    ports,
  };
  return { attachment, rules: planPortRules(attachment), ...(bridgeCreated ? { bridgeCreated } : {}) };
}

/** Puts the container on the bridge: the veth pair, its container end born in the child's
 *  namespace. Before the child is let go, so that eth0 exists when it configures it. */
export async function attach(runner: CommandRunner, l: Leased, pid: number): Promise<void> {
  try {
    await check(runner, 'net.veth', 'ip', ['-batch', '-'], planAttachIp(l.attachment, pid).join('\n') + '\n');
  } catch (err) {
    if (/Exchange full/.test((err as Error).message)) {
      throw new MinidockError(`bridge ${l.attachment.bridge} is full: the kernel allows 1023 ports per bridge`, { step: 'net.veth', cause: err });
    }
    throw err;
  }
}

/** The DNAT rules for the published ports. Only once the container's eth0 has its address: a
 *  connection forwarded earlier finds no one answering ARP for it, and the host's neighbour
 *  entry then waits a full ARP retry (1 s) before anything gets through. */
export async function publish(runner: CommandRunner, l: Leased): Promise<void> {
  if (l.rules.length) await check(runner, 'net.ports', 'iptables-restore', ['--noflush'], restoreScript(l.rules, 'A'));
}

/** Deletes rules, tolerating ones already gone: one restore when all exist, else only those
 *  iptables-save still shows (a restore fails whole when one -D finds nothing). */
export async function deleteRules(runner: CommandRunner, rules: IptRule[]): Promise<void> {
  if (!rules.length) return;
  const first = await runner.run('iptables-restore', ['--noflush'], restoreScript(rules, 'D'));
  if (first.code === 0) return;
  const have = await existingRules(runner);
  const present = rules.filter((r) => have.rules.has(ruleKey(r)));
  if (present.length) await check(runner, 'net.teardown', 'iptables-restore', ['--noflush'], restoreScript(present, 'D'));
}

/** Rules tagged with a container's id, found in the kernel (for owners whose state is lost). */
export async function rulesOwnedBy(runner: CommandRunner, id: string): Promise<IptRule[]> {
  const out = await check(runner, 'net.iptables-save', 'iptables-save', []);
  const rules: IptRule[] = [];
  let table = '';
  for (const raw of out.split('\n')) {
    const line = unquote(raw);
    if (line.startsWith('*')) table = line.slice(1);
    else if (line.startsWith('-A ') && line.includes(`--comment minidock:${id} `) && (table === 'nat' || table === 'filter')) {
      const rest = line.slice(3);
      const sp = rest.indexOf(' ');
      rules.push({ table, chain: rest.slice(0, sp), spec: rest.slice(sp + 1) });
    }
  }
  return rules;
}

/** Undoes a container's attachment: rules, port leases, address lease. The veth pair needs no
 *  step: it is destroyed with the container's network namespace when PID 1 exits. Idempotent. */
export async function detach(store: NetworkStore, runner: CommandRunner, l: Leased): Promise<void> {
  await deleteRules(runner, l.rules);
  store.withLock(() => {
    store.releasePorts(l.attachment.containerId);
    store.release(l.attachment.network, l.attachment.ip, l.attachment.containerId);
  });
}
