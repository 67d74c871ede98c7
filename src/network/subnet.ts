// Validates a network's subnet and gateway with ip-cidr when the network is created; the result
// is stored as plain numbers, so `run` never loads ip-cidr. Pure once loadSubnetLib() is done.
import type IPCIDRClass from 'ip-cidr';
import { usageError } from '../core/errors.js';
import { cidrOverlaps, intToIp, ipToInt } from './ipv4.js';

export interface SubnetInfo {
  subnet: string;
  prefix: number;
  gateway: string;
  /** First and last addresses a container may get: not the network, broadcast or gateway. */
  first: number;
  last: number;
}

/** The smallest useful bridge subnet: network, gateway, broadcast and one container (/30 has 1). */
const MAX_PREFIX = 30;

/** ip-cidr is ESM only (no synchronous require on Node 20) and ~20 ms to load: loaded here,
 *  before the first parseSubnet, never on the path of a run whose network exists. */
let IPCIDR: typeof IPCIDRClass | undefined;
export async function loadSubnetLib(): Promise<void> {
  IPCIDR ??= (await import('ip-cidr')).default;
}

export function parseSubnet(cidr: string, gateway?: string, hostRoutes: string[] = []): SubnetInfo {
  if (!IPCIDR) throw new Error('parseSubnet before loadSubnetLib()');
  if (!/^\d+\.\d+\.\d+\.\d+\/\d+$/.test(cidr) || !IPCIDR.isValidCIDR(cidr)) {
    throw usageError(`invalid subnet "${cidr}"`, 'give an IPv4 CIDR such as 10.89.0.0/24');
  }
  const block = new IPCIDR(cidr);
  const prefix = Number(cidr.split('/')[1]);
  if (prefix > MAX_PREFIX || prefix < 8) throw usageError(`subnet ${cidr} must have a prefix from /8 to /${MAX_PREFIX}`);
  const network = block.start<string>();
  if (network !== cidr.split('/')[0]) {
    throw usageError(`invalid subnet "${cidr}": host bits are set`, `did you mean ${network}/${prefix}?`);
  }
  const lo = ipToInt(network);
  const hi = ipToInt(block.end<string>());
  let gw = lo + 1;
  if (gateway !== undefined) {
    let g: number;
    try {
      g = ipToInt(gateway);
    } catch {
      throw usageError(`invalid gateway "${gateway}"`);
    }
    if (g <= lo || g >= hi) throw usageError(`gateway ${gateway} is not a host address of ${cidr}`);
    gw = g;
  }
  for (const route of hostRoutes) {
    if (cidrOverlaps(cidr, route)) {
      throw usageError(`subnet ${cidr} overlaps the host's route to ${route}`, 'choose another --subnet');
    }
  }
  // Containers get every host address but the gateway; first/last exclude network and broadcast.
  return { subnet: `${network}/${prefix}`, prefix, gateway: intToIp(gw), first: lo + 1, last: hi - 1 };
}

/** The default network's subnet: the first of these private blocks the host has no route into. */
export const DEFAULT_SUBNETS = ['10.88.0.0/16', '10.89.0.0/16', '172.30.0.0/16', '172.31.0.0/16', '192.168.242.0/24'];

export function pickDefaultSubnet(hostRoutes: string[]): string {
  const free = DEFAULT_SUBNETS.find((s) => !hostRoutes.some((r) => cidrOverlaps(s, r)));
  if (!free) throw usageError('every default subnet overlaps a host route', 'create a network with --subnet');
  return free;
}
