// `minidock network create|ls|inspect|rm`: user-defined bridge networks.
import { formatForUser, MinidockError, usageError } from '../core/errors.js';
import { native } from '../native/binding.js';
import { NetworkStore } from '../network/store.js';
import { deleteRules, ensureBridge } from '../network/setup.js';
import { realRunner, check } from '../network/runner.js';
import { hostRoutes, linkExists } from '../network/host.js';
import { cidrOverlaps, intToIp } from '../network/ipv4.js';
import { loadSubnetLib, parseSubnet } from '../network/subnet.js';
import { CHAINS, planChains, planNetwork, type NetworkConfig } from '../network/plan.js';
import { randomHex } from '../runtime/ids.js';
import { checkpoint } from '../core/trace.js';
import { StateStore } from '../runtime/state.js';
import { renderTable } from '../runtime/format.js';

const PREDEFINED = ['host', 'none'];

export async function networkCreate(root: string, name: string, subnet?: string, gateway?: string): Promise<string> {
  if (PREDEFINED.includes(name) || name === 'bridge') throw usageError(`${name} is a pre-defined network and cannot be created`);
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
    const n: NetworkConfig = { name, id, bridge: `mdkbr${id.slice(0, 10)}`, ...parseSubnet(cidr, gateway, routes), createdAt: Date.now() };
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

export function networkLs(root: string, quiet: boolean): string {
  const nets = new NetworkStore(root).list().sort((a, b) => a.name.localeCompare(b.name));
  if (quiet) return nets.map((n) => n.id.slice(0, 12) + '\n').join('');
  return renderTable(['NETWORK ID', 'NAME', 'DRIVER', 'SCOPE'], nets.map((n) => [n.id.slice(0, 12), n.name, 'bridge', 'local']));
}

function members(root: string, net: NetworkConfig): Array<{ id: string; ip: string; name?: string; mac?: string }> {
  const containers = new StateStore(root);
  return [...new NetworkStore(root).leases(net.name)]
    .filter(([, id]) => containers.isLive(id))
    .map(([ip, id]) => {
      const rec = containers.read(id);
      return { id, ip, name: rec.spec?.name, mac: rec.state?.net?.attachment.mac };
    });
}

export function networkInspect(root: string, names: string[]): string {
  const store = new NetworkStore(root);
  const out = names.map((name) => {
    const net = store.get(name);
    if (!net) throw new MinidockError(`network ${name} not found`, { step: 'net.inspect', exitCode: 1 });
    return {
      Name: net.name,
      Id: net.id,
      Created: new Date(net.createdAt).toISOString(),
      Driver: 'bridge',
      IPAM: { Config: [{ Subnet: net.subnet, Gateway: net.gateway, IPRange: `${intToIp(net.first)}-${intToIp(net.last)}` }] },
      Options: { 'com.docker.network.bridge.name': net.bridge },
      Containers: Object.fromEntries(
        members(root, net).map((m) => [m.id, { Name: m.name, MacAddress: m.mac, IPv4Address: `${m.ip}/${net.prefix}` }]),
      ),
    };
  });
  return JSON.stringify(out, null, 4) + '\n';
}

export async function networkRm(root: string, names: string[]): Promise<number> {
  const store = new NetworkStore(root, native().flock);
  let failed = false;
  for (const name of names) {
    try {
      await store.withLockAsync(async () => {
        const net = store.get(name);
        if (!net) throw new MinidockError(`network ${name} not found`, { step: 'net.rm' });
        const attached = members(root, net);
        if (attached.length) {
          throw new MinidockError(`error while removing network: network ${name} id ${net.id.slice(0, 12)} has active endpoints`, {
            step: 'net.rm', hint: `remove its containers first: ${attached.map((m) => m.name ?? m.id.slice(0, 12)).join(', ')}`,
          });
        }
        // Each step is idempotent, so a network rm killed half-way is finished by running it again.
        await deleteRules(realRunner, planNetwork(net).rules);
        checkpoint('netrm.rules-removed');
        if (linkExists(net.bridge)) await check(realRunner, 'net.rm.bridge', 'ip', ['link', 'del', net.bridge]);
        checkpoint('netrm.bridge-deleted');
        store.delete(name);
        if (store.list().length === 0) await removeChains();
      });
      process.stdout.write(`${name}\n`);
    } catch (err) {
      failed = true;
      process.stderr.write(formatForUser(err) + '\n');
    }
  }
  return failed ? 1 : 0;
}

/** With the last network gone, minidock's chains and the jumps into them go too. */
async function removeChains(): Promise<void> {
  const { jumps, chains } = planChains();
  await deleteRules(realRunner, jumps);
  let script = '';
  for (const table of ['nat', 'filter'] as const) {
    const mine = chains.filter(([t]) => t === table).map(([, c]) => c);
    script += `*${table}\n${mine.map((c) => `-F ${c}\n`).join('')}${mine.map((c) => `-X ${c}\n`).join('')}COMMIT\n`;
  }
  const r = await realRunner.run('iptables-restore', ['--noflush'], script);
  // Already gone (another minidock removed them) is fine; anything else is worth saying.
  if (r.code !== 0 && !/No chain|does not exist|Couldn't load target/i.test(r.stderr)) {
    throw new MinidockError(`removing minidock's chains (${Object.values(CHAINS).join(', ')}): ${r.stderr.trim()}`, { step: 'net.chains' });
  }
}

