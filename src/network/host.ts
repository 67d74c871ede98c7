// Facts about the host's network read from /proc and /sys, and sysctl writes. Side-effecting.
import { readFileSync, writeFileSync } from 'node:fs';
import { intToIp } from './ipv4.js';

/** The host's IPv4 routes as CIDRs, from /proc/net/route (little-endian hex). */
export function hostRoutes(routeTable = readFileSync('/proc/net/route', 'utf8')): Array<{ dev: string; cidr: string }> {
  const le = (hex: string): number => {
    const n = parseInt(hex, 16);
    return ((n & 255) << 24 >>> 0) + ((n >>> 8) & 255) * 65536 + ((n >>> 16) & 255) * 256 + (n >>> 24);
  };
  return routeTable
    .split('\n')
    .slice(1)
    .filter(Boolean)
    .map((line) => line.trim().split(/\s+/))
    .map((f) => {
      const mask = le(f[7]!);
      const prefix = mask === 0 ? 0 : 32 - Math.log2(2 ** 32 - mask);
      return { dev: f[0]!, cidr: `${intToIp(le(f[1]!))}/${prefix}` };
    });
}

/** MTU of the device that carries the default route (the uplink), else 1500. */
export function uplinkMtu(): number {
  const uplink = hostRoutes().find((r) => r.cidr === '0.0.0.0/0');
  if (!uplink) return 1500;
  const mtu = Number(readFileSync(`/sys/class/net/${uplink.dev}/mtu`, 'utf8'));
  return Number.isFinite(mtu) && mtu >= 576 ? mtu : 1500;
}

/** Whether a link exists in this process's network namespace. /proc/net/dev follows the
 *  process's namespace; /sys/class/net follows whoever mounted /sys (entering a namespace with
 *  nsenter --net keeps the host's /sys). */
export function linkExists(name: string): boolean {
  return readFileSync('/proc/self/net/dev', 'utf8').split('\n').some((l) => l.trim().startsWith(`${name}:`));
}

/** Writes a sysctl unless it already has the value. `optional`: a path that does not exist is
 *  fine (IPv6 switched off at boot, a bridge already gone). */
export function writeSysctl(path: string, value: string, optional = false): void {
  try {
    if (readFileSync(path, 'utf8').trim() === value) return;
  } catch (err) {
    if (optional && (err as NodeJS.ErrnoException).code === 'ENOENT') return;
    /* fall through to the write, which reports the error */
  }
  writeFileSync(path, value);
}

/** A sysctl's value, undefined when unreadable. */
export function readSysctl(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return undefined;
  }
}
