// The network part of `run`: turns the container's network spec into the child's network plan,
// leases an address and ports, applies the veth and rules once the child exists, and undoes all
// of it. Orchestration only; decisions live in network/plan.ts.
import { readFileSync, writeFileSync } from 'node:fs';
import { MinidockError, usageError } from '../core/errors.js';
import type { ContainerSpec, NetworkSpec } from '../spec/container-spec.js';
import type { PortBinding } from '../spec/ports.js';
import type { ChildNet } from './child-plan.js';
import type { NativeApi } from '../native/binding.js';
import { isSameProcess } from './proc.js';
import type { StateStore } from './state.js';
import type { Leased } from '../network/setup.js';

/** Parses --network, -p/-P and --ingress-rate/--egress-rate into a network spec. Pure
 *  (validation only). */
export async function parseNetworkOption(network: string, publish: string[], exposed: PortBinding[], rates: { ingress?: string; egress?: string } = {}): Promise<{ spec: NetworkSpec; warning?: string }> {
  const { parsePublishList } = await import('../spec/ports.js');
  const ports = [...parsePublishList(publish), ...exposed];
  let bandwidth: import('../network/bandwidth.js').Bandwidth | undefined;
  if (rates.ingress || rates.egress) {
    const { parseRate } = await import('../network/bandwidth.js');
    bandwidth = {
      ...(rates.ingress ? { ingressRate: parseRate(rates.ingress, '--ingress-rate') } : {}),
      ...(rates.egress ? { egressRate: parseRate(rates.egress, '--egress-rate') } : {}),
    };
    if (network === 'none' || network === 'host' || network.startsWith('container:')) {
      throw usageError(`--ingress-rate and --egress-rate shape a container's own veth: not with --network ${network}`, 'use the bridge or a network of your own');
    }
  }
  if (network === 'none' || network === 'host') {
    const warning = ports.length ? `published ports are discarded when using --network ${network}` : undefined;
    return { spec: { mode: network }, warning };
  }
  if (network.startsWith('container:')) {
    const container = network.slice('container:'.length);
    if (!container) throw usageError('--network container: needs a container name or id', 'e.g. --network container:web');
    if (ports.length) throw usageError('conflicting options: port publishing and the container type network mode', 'publish the ports on the container that owns the network');
    return { spec: { mode: 'container', container } };
  }
  const { NETWORK_NAME_RE } = await import('../network/store.js');
  if (!NETWORK_NAME_RE.test(network)) throw usageError(`invalid network "${network}"`, 'none, host, bridge, container:NAME or a network name');
  return { spec: { mode: 'bridge', network, ports, ...(bandwidth ? { bandwidth } : {}) } };
}

export interface PreparedNet {
  child: ChildNet;
  leased?: Leased;
  /** Files the container shares with another (container:NAME) or the host (host). */
  hostname?: string;
  hostsText?: string;
  resolvText?: string;
}

/** Everything that can be decided and reserved before clone. */
export async function prepareNetwork(spec: ContainerSpec, store: StateStore, root: string, api: NativeApi): Promise<PreparedNet> {
  const n = spec.network;
  if (n.mode === 'none') return { child: { kind: 'own' } };
  if (n.mode === 'host') {
    // The host's network: its resolvers, even one on 127.0.0.53, are reachable as they are.
    return { child: { kind: 'host' }, hostsText: readText('/etc/hosts'), resolvText: readText('/etc/resolv.conf') };
  }
  if (n.mode === 'container') {
    const other = store.resolve(n.container);
    const st = other.state;
    if (!st || st.status !== 'running' || !st.pid || !isSameProcess(st.pid, st.pidStart ?? -1)) {
      throw new MinidockError(`cannot join the network of container ${n.container}: it is not running`, {
        step: 'net.container', hint: `start it first (minidock ps -a shows its state)`,
      });
    }
    const p = store.paths(other.id);
    return {
      child: { kind: 'join', netns: `/proc/${st.pid}/ns/net` },
      hostname: other.spec?.hostname,
      hostsText: readText(p.hosts),
      resolvText: readText(p.resolvConf),
    };
  }
  const { NetworkStore } = await import('../network/store.js');
  const { lease } = await import('../network/setup.js');
  const { realRunner } = await import('../network/runner.js');
  const nets = new NetworkStore(root, api.flock);
  const leased = await lease(
    nets,
    realRunner,
    { containerId: spec.id, network: n.network, ports: n.ports, env: { bridge: process.env.MINIDOCK_BRIDGE, subnet: process.env.MINIDOCK_SUBNET }, ...(n.bandwidth ? { bandwidth: n.bandwidth } : {}), ...(n.ip ? { ip: n.ip } : {}), ...(n.mac ? { mac: n.mac } : {}) },
    { isLive: (id) => store.isLive(id), reclaim: (id) => reclaimNetwork(store, id) },
  );
  const a = leased.attachment;
  return { child: { kind: 'own', eth: { ip: a.ip, prefix: a.prefix, gateway: a.gateway } }, leased };
}

/** Removes the rules of a container that can no longer use them (its owner is gone), from its
 *  recorded state or, when that is lost, by the ownership tag in the kernel. */
export async function reclaimNetwork(store: StateStore, id: string): Promise<void> {
  const { deleteRules, rulesOwnedBy } = await import('../network/setup.js');
  const { realRunner } = await import('../network/runner.js');
  const recorded = store.read(id).state?.net?.rules;
  await deleteRules(realRunner, recorded ?? (await rulesOwnedBy(realRunner, id)));
}

/** Before the child is let go: its end of the veth pair, for it to configure as eth0. */
export async function attachNetwork(prepared: PreparedNet, pid: number): Promise<void> {
  if (!prepared.leased) return;
  const { attach } = await import('../network/setup.js');
  const { realRunner } = await import('../network/runner.js');
  await attach(realRunner, prepared.leased, pid);
}

/** After the command started: the published ports (see publish() for why not earlier). */
export async function publishPorts(prepared: PreparedNet): Promise<void> {
  if (!prepared.leased) return;
  const { publish } = await import('../network/setup.js');
  const { realRunner } = await import('../network/runner.js');
  await publish(realRunner, prepared.leased);
}

/**
 * Containers on a user-defined network find each other by name (docker's embedded DNS does this
 * for docker). Here each member's /etc/hosts lists the others, rewritten whenever one joins or
 * leaves. The file is bind-mounted into the container, so it is rewritten in place (same inode),
 * never replaced. The default network, as docker's, has no name resolution.
 */
export async function refreshNetworkHosts(store: StateStore, root: string, api: NativeApi, network: string): Promise<void> {
  if (network === 'bridge') return;
  const { NetworkStore } = await import('../network/store.js');
  const { hostsFile } = await import('./etc-files.js');
  const nets = new NetworkStore(root, api.flock);
  nets.withLock(() => {
    const members = [...nets.leases(network)]
      .flatMap(([ip, id]) => (id !== null && store.isLive(id) ? [[ip, id] as const] : []))
      .flatMap(([ip, id]) => {
        const spec = store.read(id).spec;
        return spec ? [{ ip, id, spec }] : [];
      });
    for (const m of members) {
      const others = members
        .filter((o) => o.id !== m.id)
        .map((o) => `${o.ip}\t${[...new Set([o.spec.name, o.spec.hostname, ...(o.spec.network.mode === 'bridge' ? o.spec.network.aliases ?? [] : [])])].join(' ')}`);
      // Its own --add-host lines are kept: the file is the container's whole /etc/hosts.
      const text = hostsFile(m.spec.hostname, m.ip, m.spec.extraHosts) + others.map((l) => l + '\n').join('');
      try {
        writeFileSync(store.paths(m.id).hosts, text);
      } catch {
        /* removed meanwhile */
      }
    }
  });
}

/** Releases the container's rules and leases (idempotent; the veth dies with the namespace). */
export async function releaseNetwork(leased: Leased | undefined, root: string, api: NativeApi): Promise<void> {
  if (!leased) return;
  const { NetworkStore } = await import('../network/store.js');
  const { detach } = await import('../network/setup.js');
  const { realRunner } = await import('../network/runner.js');
  await detach(new NetworkStore(root, api.flock), realRunner, leased);
}

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}
