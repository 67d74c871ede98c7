// Attaches a container to a bridge network and detaches it: the network's side of `run` and
// `rm`. Orchestrates the store (leases), the planner (pure) and the runner (ip, iptables).
import { createRequire } from 'node:module';
import { MinidockError, usageError } from '../core/errors.js';
import { checkpoint, trace } from '../core/trace.js';
import type { PortBinding } from '../spec/ports.js';
import { check, type CommandRunner } from './runner.js';
import { hostRoutes, linkExists, uplinkMtu, writeSysctl } from './host.js';
import { cidrOverlaps, macFor } from './ipv4.js';
import {
  CHAINS, TABLES, batchScript, containerSysctlCommand, hostVethName, netOwner, ownerTag, planAttachIp, planChains, planContainerSysctls,
  planNetwork, planPortRules, type Attachment, type IptRule, type NetnsRef, type NetworkConfig, type Sysctl, type Table,
} from './plan.js';
import { NetworkStore } from './store.js';
import { ifbName, planShaping, shaped, type Bandwidth } from './bandwidth.js';

export const DEFAULT_NETWORK = 'bridge';

/** Names docker reserves: its default networks cannot be created or removed. */
export const PREDEFINED_NETWORKS = ['bridge', 'host', 'none'];

export interface NetEnv {
  /** MINIDOCK_BRIDGE / MINIDOCK_SUBNET: the default network's bridge and subnet, read when it is
   *  first created (tests give each run its own). */
  bridge?: string;
  subnet?: string;
}

/** A network as a caller defines it (the CNI plugin's config): made on first use, and
 *  checked against the recorded one after. */
export interface NetworkDefinition {
  bridge: string;
  subnet: string;
  gateway?: string;
}

/** The network's configuration (the default network's, or one `define`d, created on first
 *  use). Refuses a network whose removal has begun, and one recorded with another bridge or
 *  subnet than `define` says. Call under the network lock. */
export async function ensureNetworkConfig(store: NetworkStore, name: string, env: NetEnv, define?: NetworkDefinition): Promise<NetworkConfig> {
  const existing = store.get(name);
  if (existing) {
    if (store.isRemoving(name)) {
      throw new MinidockError(`network ${name} is being removed`, { step: 'net.resolve', hint: `minidock network rm ${name} (or minidock gc) finishes the removal` });
    }
    if (define && (existing.bridge !== define.bridge || existing.subnet !== define.subnet || (define.gateway && existing.gateway !== define.gateway))) {
      throw new MinidockError(`network ${name} exists with bridge ${existing.bridge} and subnet ${existing.subnet}, not ${define.bridge} and ${define.subnet}`, {
        step: 'net.config', hint: 'give the network another name, or remove its containers so that it goes and can be made again',
      });
    }
    return existing;
  }
  if (name !== DEFAULT_NETWORK && !define) {
    throw new MinidockError(`network ${name} not found`, { step: 'net.resolve', hint: 'minidock network ls lists them; minidock network create adds one' });
  }
  const { loadSubnetLib, parseSubnet, pickDefaultSubnet } = await import('./subnet.js');
  await loadSubnetLib();
  const bridge = define?.bridge ?? env.bridge ?? 'mdk0';
  // A route on our own bridge is no clash: its state was lost (the state root deleted) while the
  // bridge lived on, and this network takes it over.
  const routes = hostRoutes().filter((r) => r.cidr !== '0.0.0.0/0' && r.dev !== bridge).map((r) => r.cidr);
  const info = parseSubnet(define?.subnet ?? env.subnet ?? pickDefaultSubnet(routes), define?.gateway, routes);
  const net: NetworkConfig = {
    name,
    id: (await import('../runtime/ids.js')).randomHex(32),
    bridge,
    ...info,
    createdAt: Date.now(),
    scope: store.scope,
  };
  store.add(net, cidrOverlaps);
  return net;
}

/** iptables-save quotes comments (`--comment "minidock:x"`); our specs do not. */
const unquote = (line: string): string => line.replace(/--comment "([^"\s]*)"/g, '--comment $1');

/** The kernel's rules, as `table chain spec` keys, and its chains, as `table chain`. */
export interface KernelRules {
  rules: Set<string>;
  chains: Set<string>;
  /** Every rule, in order, with duplicates (rules.has() is for lookups). */
  list: IptRule[];
}

export function parseRules(out: string): KernelRules {
  const rules = new Set<string>();
  const chains = new Set<string>();
  const list: IptRule[] = [];
  let table = '';
  for (const raw of out.split('\n')) {
    const line = unquote(raw);
    if (line.startsWith('*')) table = line.slice(1);
    else if (line.startsWith(':')) chains.add(`${table} ${line.slice(1).split(' ')[0]}`);
    else if (line.startsWith('-A ') && (TABLES as readonly string[]).includes(table)) {
      rules.add(`${table} ${line.slice(3)}`);
      const rest = line.slice(3);
      const sp = rest.indexOf(' ');
      list.push({ table: table as Table, chain: rest.slice(0, sp), spec: rest.slice(sp + 1) });
    }
  }
  return { rules, chains, list };
}

export async function existingRules(runner: CommandRunner): Promise<KernelRules> {
  return parseRules(await check(runner, 'net.iptables-save', 'iptables-save', []));
}

/** A rule as iptables-save lists it: what KernelRules.rules holds. */
export const ruleKey = (r: IptRule): string => `${r.table} ${r.chain} ${r.spec}`;

/** What of minidock's chains, jumps and this network's rules the kernel lacks. Pure. */
export function missingFor(net: NetworkConfig, have: KernelRules): { chains: Array<[Table, string]>; jumps: IptRule[]; rules: IptRule[] } {
  const base = planChains();
  return {
    chains: base.chains.filter(([t, c]) => !have.chains.has(`${t} ${c}`)),
    jumps: base.jumps.filter((r) => !have.rules.has(ruleKey(r))),
    rules: planNetwork(net).rules.filter((r) => !have.rules.has(ruleKey(r))),
  };
}

const nothing = (m: ReturnType<typeof missingFor>): boolean => !m.chains.length && !m.jumps.length && !m.rules.length;

/** Adds what the kernel lacks in one restore: new chains (-N), then the jumps (inserted first in
 *  their chains), then the rules (appended: none of minidock's depends on its place in its
 *  chain). Always from a fresh save; when another process changed the tables meanwhile (a chain
 *  it created makes -N fail the batch), reads them again and retries. */
async function addMissing(net: NetworkConfig, runner: CommandRunner): Promise<IptRule[]> {
  let error = '';
  for (let attempt = 0; attempt < 3; attempt++) {
    const m = missingFor(net, await existingRules(runner));
    if (nothing(m)) return [];
    const r = await runner.run('iptables-restore', ['--noflush'], batchScript({ chains: m.chains, I: m.jumps, A: m.rules }));
    if (r.code === 0) return [...m.jumps, ...m.rules];
    error = r.stderr.trim().split('\n').filter(Boolean).slice(-2).join('; ') || `exit ${r.code}`;
  }
  throw new MinidockError(`net.rules: iptables-restore --noflush: ${error}`, { step: 'net.rules' });
}

function writeSysctls(list: Sysctl[]): void {
  for (const [path, value, optional] of list) writeSysctl(path, value, !!optional);
}

/** Makes the network's bridge, chains and rules exist in the kernel, creating the bridge when it
 *  is missing, else re-asserting (reassertNetwork). Returns whether this call made the bridge.
 *  Call under the network lock. */
export async function ensureBridge(net: NetworkConfig, runner: CommandRunner): Promise<boolean> {
  if (!linkExists(net.bridge)) {
    await createBridge(net, runner);
    return true;
  }
  await reassertNetwork(net, runner);
  return false;
}

/** The bridge, its sysctls, minidock's chains and the network's rules, in that order, and
 *  route_localnet last: the bridge is never open to 127/8 without the raw guard in place. */
export async function createBridge(net: NetworkConfig, runner: CommandRunner): Promise<void> {
  const plan = planNetwork(net);
  await check(runner, 'net.bridge', 'ip', ['-batch', '-'], plan.ip.join('\n') + '\n');
  writeSysctls(plan.sysctls);
  await addMissing(net, runner);
  writeSysctls(plan.afterRules);
}

/**
 * Every run on an existing bridge re-asserts its network: minidock's chains and jumps and the
 * network's rules are put back where missing (someone flushed a chain, another state root
 * removed the chains, a network rm was killed half-way), then the bridge's sysctls, with
 * route_localnet only once the guard is there. Idempotent. Costs one iptables-save; a repair
 * reads the tables again under `lock` (the network lock: concurrent runs of one root repair
 * once) and adds what is still missing. Returns what it added.
 */
export async function reassertNetwork(
  net: NetworkConfig, runner: CommandRunner, lock: <T>(fn: () => Promise<T>) => Promise<T> = (fn) => fn(),
): Promise<IptRule[]> {
  const plan = planNetwork(net);
  const added = nothing(missingFor(net, await existingRules(runner))) ? [] : await lock(() => addMissing(net, runner));
  writeSysctls(plan.sysctls.filter(([path]) => path.includes(`/${net.bridge}/`)));
  writeSysctls(plan.afterRules);
  return added;
}

/** Chooses free host ports for bindings that asked for any (host port 0), the way the kernel
 *  does for a socket bound to port 0, and checks that no host program listens on the others. */
export async function resolvePorts(bindings: PortBinding[]): Promise<PortBinding[]> {
  const out: PortBinding[] = [];
  for (const b of bindings) {
    if (b.hostPortEnd !== undefined) {
      out.push(b); // a host range: chosen under the lease lock (leaseFromRange)
      continue;
    }
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

/** docker's `-p 8000-8002:80`: the first port of the range that no host program holds and no
 *  other container publishes, leased. Under the network lock, so two runs never pick the same. */
async function leaseFromRange(store: NetworkStore, b: PortBinding, owner: string, isLive: (id: string) => boolean, reclaim: (id: string) => void): Promise<PortBinding> {
  const { hostPortEnd, ...one } = b;
  for (let port = b.hostPort; port <= hostPortEnd!; port++) {
    const candidate = { ...one, hostPort: port };
    try {
      await probePort(candidate);
      store.leasePort(candidate, owner, isLive, reclaim);
      return candidate;
    } catch (err) {
      if (err instanceof MinidockError && err.step === 'net.ports') continue; // in use: the next one
      throw err;
    }
  }
  throw new MinidockError(`no free host port in ${b.hostPort}-${hostPortEnd}/${b.proto} for container port ${b.containerPort}`, {
    step: 'net.ports', hint: 'stop what holds them, or give a wider or another range',
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
 * Leases an address and host ports for a container and makes sure its network is up (attach()
 * makes sure it is whole). Nothing container-specific is in the kernel yet; attach() and
 * publish() do that once the child exists.
 */
export async function lease(
  store: NetworkStore,
  runner: CommandRunner,
  o: { containerId: string; network: string; ports: PortBinding[]; env: NetEnv; define?: NetworkDefinition; ifname?: string; bandwidth?: Bandwidth; mtu?: number; ip?: string; mac?: string },
  liveness: { isLive: (id: string) => boolean; reclaim: (id: string) => Promise<void> },
): Promise<Leased> {
  const ports = await resolvePorts(o.ports);
  // Reclaiming a stale owner removes its rules (async); collect them and do it after leasing.
  const stale = new Set<string>();
  let bridgeCreated = false;
  let leased: { net: NetworkConfig; ip: string };
  try {
    // One critical section: the network's config, its bridge when this is the first run on it
    // (a concurrent first run waits), and the lease. Holding a lease makes this container an
    // endpoint, so a concurrent network rm refuses from here on.
    leased = await store.withLockAsync(async () => {
      const n = await ensureNetworkConfig(store, o.network, o.env, o.define);
      if (!linkExists(n.bridge)) {
        await createBridge(n, runner);
        bridgeCreated = true;
      }
      const ip = store.lease(n, o.containerId, liveness.isLive, (id) => stale.add(id), o.ip);
      try {
        // The fixed ports first: a host range then steps over them (-p 8000-8002:80 -p 8000:81).
        for (const p of ports) if (p.hostPortEnd === undefined) store.leasePort(p, o.containerId, liveness.isLive, (id) => stale.add(id));
        for (const [i, p] of ports.entries()) {
          if (p.hostPortEnd !== undefined) ports[i] = await leaseFromRange(store, p, o.containerId, liveness.isLive, (id) => stale.add(id));
        }
      } catch (err) {
        store.releasePorts(o.containerId);
        store.release(n.name, ip, o.containerId);
        throw err;
      }
      return { net: n, ip };
    });
  } finally {
    for (const id of stale) await liveness.reclaim(id);
  }
  const { net, ip } = leased;
  const attachment: Attachment = {
    containerId: o.containerId,
    network: net.name,
    bridge: net.bridge,
    ip,
    prefix: net.prefix,
    gateway: net.gateway,
    mac: o.mac ?? macFor(ip),
    hostVeth: hostVethName(o.containerId),
    mtu: o.mtu ?? uplinkMtu(),
    ports,
    ...(o.ifname && o.ifname !== 'eth0' ? { ifname: o.ifname } : {}),
    ...(shaped(o.bandwidth) ? { bandwidth: o.bandwidth } : {}),
  };
  const l: Leased = { attachment, rules: planPortRules(attachment), ...(bridgeCreated ? { bridgeCreated } : {}) };
  // An existing bridge is re-asserted by attach(), before the container has its eth0: there
  // the iptables-save overlaps the cgroup join instead of delaying the clone.
  if (!bridgeCreated) toReassert.set(l, { net, lock: (fn) => store.withLockAsync(fn) });
  return l;
}

/** Networks lease() found already up, for attach() to re-assert (not part of the recorded
 *  Leased: that is JSON in the container's state). */
const toReassert = new WeakMap<Leased, { net: NetworkConfig; lock: <T>(fn: () => Promise<T>) => Promise<T> }>();

/** Puts the container on the bridge. First, side by side: its network re-asserted (when
 *  lease() found the bridge up: the guard must be there before the container can send a
 *  packet) and its namespace's IPv6 off (so eth0 is born without it). Then the veth pair, its
 *  container end born in the child's namespace. Before the child is let go, so that eth0 exists
 *  when it configures it. */
export async function attach(runner: CommandRunner, l: Leased, ns: NetnsRef): Promise<void> {
  const [cmd, ...args] = containerSysctlCommand(ns, planContainerSysctls());
  const r = toReassert.get(l);
  toReassert.delete(l);
  const done = await Promise.allSettled([
    r ? reassertNetwork(r.net, runner, r.lock).then(() => trace('net: network re-asserted')) : undefined,
    check(runner, 'net.netns-sysctl', cmd!, args),
  ]);
  for (const d of done) if (d.status === 'rejected') throw d.reason;
  const bw = l.attachment.bandwidth;
  const shaping = shaped(bw) ? planShaping(l.attachment.hostVeth, ifbName(l.attachment.containerId), bw) : undefined;
  try {
    // The ifb (egress shaping) in the same batch as the veth: one `ip` either way.
    await check(runner, 'net.veth', 'ip', ['-batch', '-'], [...planAttachIp(l.attachment, ns), ...(shaping?.ip ?? [])].join('\n') + '\n');
  } catch (err) {
    if (/Exchange full/.test((err as Error).message)) {
      throw new MinidockError(`bridge ${l.attachment.bridge} is full: the kernel allows 1023 ports per bridge`, { step: 'net.veth', cause: err });
    }
    throw err;
  }
  if (shaping) await check(runner, 'net.shaping', 'tc', ['-batch', '-'], shaping.tc.join('\n') + '\n');
}

/** The DNAT rules for the published ports. Only once the container's eth0 has its address: a
 *  connection forwarded earlier finds no one answering ARP for it, and the host's neighbour
 *  entry then waits a full ARP retry (1 s) before anything gets through. */
export async function publish(runner: CommandRunner, l: Leased): Promise<void> {
  if (l.rules.length) await check(runner, 'net.ports', 'iptables-restore', ['--noflush'], batchScript({ A: l.rules }));
}

/** Deletes rules, tolerating ones already gone: one restore when all exist, else only those
 *  iptables-save still shows (a restore fails whole when one -D finds nothing). */
export async function deleteRules(runner: CommandRunner, rules: IptRule[]): Promise<void> {
  if (!rules.length) return;
  const first = await runner.run('iptables-restore', ['--noflush'], batchScript({ D: rules }));
  if (first.code === 0) return;
  const have = await existingRules(runner);
  const present = rules.filter((r) => have.rules.has(ruleKey(r)));
  if (present.length) await check(runner, 'net.teardown', 'iptables-restore', ['--noflush'], batchScript({ D: present }));
}

/** Rules carrying the tag of `owner` (a container id, or netOwner(net)), every copy of each, from
 *  a save or the kernel's own (for owners whose state is lost). */
export function taggedRules(have: KernelRules, owner: string): IptRule[] {
  const tag = ` ${ownerTag(owner)} `;
  return have.list.filter((r) => ` ${r.spec} `.includes(tag));
}

export async function rulesOwnedBy(runner: CommandRunner, owner: string): Promise<IptRule[]> {
  return taggedRules(await existingRules(runner), owner);
}

/** Undoes a container's attachment: rules, the ifb of its shaping, port leases, address lease.
 *  The veth pair needs no step: it is destroyed with the container's network namespace when
 *  PID 1 exits (its qdiscs with it). Idempotent. */
export async function detach(store: NetworkStore, runner: CommandRunner, l: Leased): Promise<void> {
  await deleteRules(runner, l.rules);
  // The ifb of egress shaping is the host's own device: it outlives the container's namespace.
  const ifb = ifbName(l.attachment.containerId);
  if (l.attachment.bandwidth?.egressRate && linkExists(ifb)) await check(runner, 'net.shaping', 'ip', ['link', 'del', ifb]);
  store.withLock(() => {
    store.releasePorts(l.attachment.containerId, l.attachment.ports);
    store.release(l.attachment.network, l.attachment.ip, l.attachment.containerId);
  });
}

/**
 * Takes a network out of the kernel, in the order that never leaves a bridge open: its
 * route_localnet off first, then the bridge, then its rules (every copy tagged with it), then
 * minidock's chains if no state root has a rule left in them. Each step is idempotent, so a
 * removal killed half-way is finished by running it again (network rm, or gc). The caller marks
 * the network as being removed before and deletes its record after.
 */
export async function removeNetworkObjects(net: NetworkConfig, runner: CommandRunner): Promise<void> {
  if (linkExists(net.bridge)) {
    writeSysctl(`/proc/sys/net/ipv4/conf/${net.bridge}/route_localnet`, '0', true);
    await check(runner, 'net.rm.bridge', 'ip', ['link', 'del', net.bridge]);
  }
  checkpoint('netrm.bridge-deleted');
  const have = await existingRules(runner);
  // Every copy tagged with this network; and rules of the same network written before tags
  // named the state root, when they are about this network's bridge.
  const legacy = taggedRules(have, `net:${net.name}`).filter((r) => ` ${r.spec} `.includes(` ${net.bridge} `));
  await deleteRules(runner, [...taggedRules(have, netOwner(net)), ...(net.scope ? legacy : [])]);
  checkpoint('netrm.rules-removed');
  await removeChainsIfEmpty(runner);
}

/** Marks the network as being removed (runs refuse it from now on, gc finishes it), takes it out
 *  of the kernel (removeNetworkObjects: each step idempotent, the bridge closed first) and
 *  deletes its record. Call under the network lock, once nothing is attached. */
export async function removeNetwork(store: NetworkStore, net: NetworkConfig, runner: CommandRunner): Promise<void> {
  store.markRemoving(net.name);
  checkpoint('netrm.marked');
  await removeNetworkObjects(net, runner);
  store.delete(net.name);
}

/** minidock's chains, their jumps and the jump between them, once no rule of any network or
 *  container is left in them (another state root may still use them: then nothing goes). One
 *  restore; a chain that gained a rule meanwhile makes the kernel refuse -X, and its table stays. */
export async function removeChainsIfEmpty(runner: CommandRunner, have?: KernelRules): Promise<boolean> {
  const h = have ?? (await existingRules(runner));
  const { chains, jumps } = planChains();
  const structural = new Set(jumps.map(ruleKey));
  const mine = new Set(chains.map(([t, c]) => `${t} ${c}`));
  const present = chains.filter(([t, c]) => h.chains.has(`${t} ${c}`));
  if (!present.length) return true;
  const used = h.list.some((r) => mine.has(`${r.table} ${r.chain}`) && !structural.has(ruleKey(r)));
  if (used) return false;
  // Any other rule that jumps into one of them (another tool's) keeps them too.
  const targets = new Set(chains.map(([, c]) => c));
  const foreign = h.list.some((r) => !structural.has(ruleKey(r)) && targets.has(/-j (\S+)/.exec(r.spec)?.[1] ?? ''));
  if (foreign) return false;
  const script = batchScript({ D: h.list.filter((r) => structural.has(ruleKey(r))), X: present });
  const r = await runner.run('iptables-restore', ['--noflush'], script);
  if (r.code !== 0 && !/No chain|does not exist|busy|not empty/i.test(r.stderr)) {
    throw new MinidockError(`removing minidock's chains (${Object.values(CHAINS).join(', ')}): ${r.stderr.trim()}`, { step: 'net.chains' });
  }
  return r.code === 0;
}
