// IPv4 arithmetic on 32-bit integers, for the run path (ip-cidr takes ~28 ms to load; it parses
// subnets when a network is created, see subnet.ts). Pure.

export function ipToInt(ip: string): number {
  const parts = ip.split('.');
  if (parts.length !== 4) throw new Error(`not an IPv4 address: ${ip}`);
  let n = 0;
  for (const p of parts) {
    if (!/^(0|[1-9][0-9]{0,2})$/.test(p) || Number(p) > 255) throw new Error(`not an IPv4 address: ${ip}`);
    n = n * 256 + Number(p);
  }
  return n;
}

export function intToIp(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

export function isIpv4(s: string): boolean {
  try {
    ipToInt(s);
    return true;
  } catch {
    return false;
  }
}

/** [first, last] addresses of a CIDR block, network and broadcast included. */
export function cidrRange(cidr: string): [number, number] {
  const [ip, len] = cidr.split('/');
  const prefix = Number(len);
  const size = 2 ** (32 - prefix);
  const start = Math.floor(ipToInt(ip!) / size) * size;
  return [start, start + size - 1];
}

export function cidrOverlaps(a: string, b: string): boolean {
  const [a0, a1] = cidrRange(a);
  const [b0, b1] = cidrRange(b);
  return a0 <= b1 && b0 <= a1;
}

/** A locally administered MAC derived from the address, as docker does (02:42:<ip bytes>), so
 *  an address always has the same MAC and neighbours' ARP caches stay right. */
export function macFor(ip: string): string {
  const n = ipToInt(ip);
  const bytes = [0x02, 0x42, n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255];
  return bytes.map((b) => b.toString(16).padStart(2, '0')).join(':');
}
