// `minidock network create|ls|inspect|rm`: user-defined bridge networks.
import { createHash } from 'node:crypto';
import { formatForUser, MinidockError, usageError } from '../core/errors.js';
import { native } from '../native/binding.js';
import { NetworkStore } from '../network/store.js';
import { PREDEFINED_NETWORKS, ensureBridge, removeNetwork } from '../network/setup.js';
import { realRunner } from '../network/runner.js';
import { hostRoutes } from '../network/host.js';
import { cidrOverlaps, intToIp } from '../network/ipv4.js';
import { loadSubnetLib, parseSubnet } from '../network/subnet.js';
import type { NetworkConfig } from '../network/plan.js';
import { randomHex } from '../runtime/ids.js';
import { StateStore } from '../runtime/state.js';
import { goTime, renderTable } from '../runtime/format.js';
import { parseListFormat, renderList } from '../runtime/list-format.js';
import { goMap } from '../runtime/go-template.js';

export async function networkCreate(root: string, name: string, subnet?: string, gateway?: string): Promise<string> {
  if (PREDEFINED_NETWORKS.includes(name)) throw usageError(`${name} is a pre-defined network and cannot be created`);
  const routes = hostRoutes().map((r) => r.cidr).filter((c) => c !== '0.0.0.0/0');
  const store = new NetworkStore(root, native().flock);
  const net = await store.withLockAsync(async () => {
    const taken = store.list().map((n) => n.subnet);
    let cidr = subnet;
    if (cidr === undefined) {
      // docker picks the next free private block; these /24s of 10.89.0.0/16 are ours.
      for (let i = 0; i < 256 && cidr === undefined; i++) {
        const c = `10.89.${i}.0/24`;
        if (![...routes, ...taken].some((r) => cidrOverlaps(r, c))) cidr = c;
      }
      if (cidr === undefined) throw usageError('no free subnet left in 10.89.0.0/16', 'give one with --subnet');
    }
    const id = randomHex(32);
    await loadSubnetLib();
    const n: NetworkConfig = { name, id, bridge: `mdkbr${id.slice(0, 10)}`, ...parseSubnet(cidr, gateway, routes), createdAt: Date.now(), scope: store.scope };
    store.add(n, cidrOverlaps);
    try {
      await ensureBridge(n, realRunner);
    } catch (err) {
      store.delete(name);
      throw err;
    }
    return n;
  });
  return `${net.id}\n`;
}

const NETWORK_HEADERS: Record<string, string> = {
  ID: 'NETWORK ID', Name: 'NAME', Driver: 'DRIVER', Scope: 'SCOPE', IPv6: 'IPV6', Internal: 'INTERNAL', Labels: 'LABELS', CreatedAt: 'CREATED AT',
};

export function networkLs(root: string, quiet: boolean, o: { format?: string; noTrunc?: boolean } = {}): string {
  const lf = o.format === undefined ? undefined : parseListFormat(o.format);
  const { nets: stored, broken } = new NetworkStore(root).scan();
  for (const b of broken) process.stderr.write(`WARNING: ${formatForUser(b.error)}\n`);
  // docker's two networks that are modes, not bridges: --network host and none. Their ids are
  // a hash of the name (stable, as docker's are for one daemon).
  const pseudo = (name: string, driver: string) => ({ id: createHash('sha256').update(`minidock-network-${name}`).digest('hex'), name, driver, createdAt: 0 });
  const nets = [...stored.map((n) => ({ id: n.id, name: n.name, driver: 'bridge', createdAt: n.createdAt })), pseudo('host', 'host'), pseudo('none', 'null')]
    .sort((a, b) => a.name.localeCompare(b.name));
  const id = (full: string): string => (o.noTrunc ? full : full.slice(0, 12));
  if (quiet) return nets.map((n) => id(n.id) + '\n').join('');
  const table = renderTable(['NETWORK ID', 'NAME', 'DRIVER', 'SCOPE'], nets.map((n) => [id(n.id), n.name, n.driver, 'local']));
  if (!lf) return table;
  const rows = nets.map((n) => ({ ID: id(n.id), Name: n.name, Driver: n.driver, Scope: 'local', IPv6: 'false', Internal: 'false', Labels: '', CreatedAt: goTime(n.createdAt) }));
  return renderList(lf, rows, NETWORK_HEADERS, table);
}

/** The network's endpoints: containers holding a lease on it that are live (or whose record is
 *  broken: StateStore.isLive counts those), and leases whose owner cannot be read (owner null). */
function members(root: string, net: NetworkConfig): Array<{ id: string | null; ip: string; name?: string; mac?: string }> {
  const containers = new StateStore(root);
  return [...new NetworkStore(root).leases(net.name)]
    .filter(([, id]) => id === null || containers.isLive(id))
    .map(([ip, id]) => {
      if (id === null) return { id, ip };
      const rec = containers.read(id);
      return { id, ip, name: rec.spec?.name, mac: rec.state?.net?.attachment.mac };
    });
}

/** inspect's finder for networks: docker's JSON for a network name, with its containers. */
export function networkFinder(root: string): (name: string) => object | undefined {
  const store = new NetworkStore(root);
  return (name) => {
    const net = store.get(name);
    if (!net) return undefined;
    return {
      Name: net.name,
      Id: net.id,
      Created: new Date(net.createdAt).toISOString(),
      Driver: 'bridge',
      IPAM: { Config: [{ Subnet: net.subnet, Gateway: net.gateway, IPRange: `${intToIp(net.first)}-${intToIp(net.last)}` }] },
      Options: goMap({ 'com.docker.network.bridge.name': net.bridge }),
      Containers: goMap(Object.fromEntries(
        members(root, net).filter((m) => m.id !== null).map((m) => [m.id, { Name: m.name, MacAddress: m.mac, IPv4Address: `${m.ip}/${net.prefix}` }]),
      )),
    };
  };
}

export async function networkRm(root: string, names: string[]): Promise<number> {
  const store = new NetworkStore(root, native().flock);
  let failed = false;
  for (const name of names) {
    try {
      // docker: "Error response from daemon: bridge is a pre-defined network and cannot be removed".
      if (PREDEFINED_NETWORKS.includes(name)) throw new MinidockError(`${name} is a pre-defined network and cannot be removed`, { step: 'net.rm', exitCode: 1 });
      await store.withLockAsync(async () => {
        const net = store.get(name);
        if (!net) throw new MinidockError(`network ${name} not found`, { step: 'net.rm' });
        const attached = members(root, net);
        if (attached.length) {
          const unreadable = attached.filter((m) => m.id === null).map((m) => m.ip);
          const named = attached.filter((m) => m.id !== null).map((m) => m.name ?? m.id!.slice(0, 12));
          throw new MinidockError(`error while removing network: network ${name} id ${net.id.slice(0, 12)} has active endpoints`, {
            step: 'net.rm',
            hint: [
              ...(named.length ? [`remove its containers first: ${named.join(', ')}`] : []),
              ...(unreadable.length ? [`the lease file(s) of ${unreadable.join(', ')} in ${store.dir}/${name}/leases name no readable owner: remove them if no container uses those addresses`] : []),
            ].join('; '),
          });
        }
        await removeNetwork(store, net, realRunner);
      });
      process.stdout.write(`${name}\n`);
    } catch (err) {
      failed = true;
      process.stderr.write(formatForUser(err) + '\n');
    }
  }
  return failed ? 1 : 0;
}

/** `network prune [-f]`: every network of this root that no container uses, bar the
 *  pre-defined ones; docker's report. */
export async function networkPruneCommand(root: string, force: boolean): Promise<number> {
  if (!force) {
    const { confirm } = await import('./images.js');
    if (!(await confirm('WARNING! This will remove all custom networks not used by at least one container.\nAre you sure you want to continue? [y/N] '))) return 0;
  }
  const store = new NetworkStore(root, native().flock);
  const deleted: string[] = [];
  let failed = false;
  for (const net of store.scan().nets.filter((n) => !PREDEFINED_NETWORKS.includes(n.name)).sort((a, b) => a.name.localeCompare(b.name))) {
    try {
      // Looked at again under the lock: a run may have joined it since the scan.
      const removed = await store.withLockAsync(async () => {
        const now = store.get(net.name);
        if (!now || members(root, now).length) return false;
        await removeNetwork(store, now, realRunner);
        return true;
      });
      if (removed) deleted.push(net.name);
    } catch (err) {
      failed = true;
      process.stderr.write(formatForUser(err) + '\n');
    }
  }
  if (deleted.length) process.stdout.write(`Deleted Networks:\n${deleted.join('\n')}\n\n`);
  return failed ? 1 : 0;
}
