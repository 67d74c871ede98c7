// Traffic shaping of a container's veth (issue #17), the pure half: rates as tc writes them,
// and the tc and ip lines that shape each direction. The reference CNI bandwidth plugin's
// design, in bits as its config is:
//
//   into the container (ingress)   tbf on the host end of the veth: what the host sends down it
//                                  is what the container receives
//   out of the container (egress)  an ingress qdisc on the host end redirects every packet the
//                                  container sends (mirred) to an ifb device, whose tbf shapes
//                                  it: a qdisc shapes only what leaves a device, and these
//                                  packets arrive on the host end
//
// Both go with the veth and the ifb: the host end dies with the container's namespace, the ifb
// is deleted with the container (detach).
import { usageError } from '../core/errors.js';

/** Rates in bits per second, bursts in bits (the CNI bandwidth plugin's units). */
export interface Bandwidth {
  ingressRate?: number;
  ingressBurst?: number;
  egressRate?: number;
  egressBurst?: number;
}

const RATE_UNITS: Record<string, number> = {
  '': 1, bit: 1, kbit: 1e3, mbit: 1e6, gbit: 1e9, tbit: 1e12,
  kibit: 1024, mibit: 1024 ** 2, gibit: 1024 ** 3, tibit: 1024 ** 4,
  bps: 8, kbps: 8e3, mbps: 8e6, gbps: 8e9, tbps: 8e12,
  kibps: 8 * 1024, mibps: 8 * 1024 ** 2, gibps: 8 * 1024 ** 3, tibps: 8 * 1024 ** 4,
};

/** A rate as tc reads one (`10mbit`, `500kbit`, `1gbit`, `125000bps`, a bare number: bits per
 *  second), in bits per second. Pure. */
export function parseRate(text: string, flag: string): number {
  const m = /^(\d+(?:\.\d+)?)([a-z]*)$/i.exec(text.trim());
  const unit = m?.[2]!.toLowerCase() ?? '';
  if (!m || !(unit in RATE_UNITS)) throw usageError(`invalid ${flag} "${text}"`, 'give a rate as tc writes one, e.g. 10mbit, 500kbit, 1gbit');
  const bits = Math.round(Number(m[1]) * RATE_UNITS[unit]!);
  if (bits < 8000) throw usageError(`${flag} ${text} is below 8kbit, too slow to shape`, 'give at least 8kbit');
  if (bits > 2 ** 32 * 8) throw usageError(`${flag} ${text} is above what tbf can shape (34gbit)`);
  return bits;
}

/** A burst when none is given: 10 ms at the rate, at least 32 KiB (the seed's `burst 32k`), in
 *  bits. Pure. */
export const defaultBurst = (rateBits: number): number => Math.max(32 * 1024 * 8, Math.ceil(rateBits / 100));

/** The ifb device of an attachment: mdb + 12 hex of its id (IFNAMSIZ 15). */
export const ifbName = (id: string): string => `mdb${id.slice(0, 12)}`;

/** Whether anything is shaped at all. */
export const shaped = (b: Bandwidth | undefined): b is Bandwidth => !!b && !!(b.ingressRate || b.egressRate);

/** tbf's arguments for a rate and burst in bits: 25 ms of queue, as the reference plugin. */
function tbf(rateBits: number, burstBits: number): string {
  const rate = Math.round(rateBits / 8); // bytes per second
  const burst = Math.max(Math.ceil(burstBits / 8), 1600); // at least a full frame
  return `tbf rate ${rate}bps burst ${burst}b latency 25ms`;
}

/**
 * The shaping of `hostVeth`: `ip` lines (the ifb, when egress is shaped) and `tc` lines, each
 * for its tool's -batch. Pure.
 */
export function planShaping(hostVeth: string, ifb: string, b: Bandwidth): { ip: string[]; tc: string[] } {
  const ip: string[] = [];
  const tc: string[] = [];
  if (b.ingressRate) tc.push(`qdisc add dev ${hostVeth} root ${tbf(b.ingressRate, b.ingressBurst ?? defaultBurst(b.ingressRate))}`);
  if (b.egressRate) {
    ip.push(`link add name ${ifb} type ifb`, `link set ${ifb} up`);
    tc.push(
      `qdisc add dev ${hostVeth} handle ffff: ingress`,
      `filter add dev ${hostVeth} parent ffff: protocol all u32 match u32 0 0 action mirred egress redirect dev ${ifb}`,
      `qdisc add dev ${ifb} root ${tbf(b.egressRate, b.egressBurst ?? defaultBurst(b.egressRate))}`,
    );
  }
  return { ip, tc };
}

/** A rate for people: 10mbit, 1.5gbit, 500kbit. Pure. */
export function formatRate(bits: number): string {
  for (const [unit, n] of [['gbit', 1e9], ['mbit', 1e6], ['kbit', 1e3]] as const) if (bits >= n) return `${+(bits / n).toFixed(3)}${unit}`;
  return `${bits}bit`;
}
