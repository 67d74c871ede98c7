// Networks, address leases and host-port leases under $ROOT/networks. Side-effecting (fs).
//
//   $ROOT/networks/<name>/network.json     the NetworkConfig
//   $ROOT/networks/<name>/leases/<ip>      holds the owning container's id (created O_EXCL)
//   $ROOT/ports/<proto>-<port>-<hostip>    holds the owning container's id
//   $ROOT/networks/.lock                   flock'd around allocation
//
// One file per lease, created with O_EXCL, is the CNI host-local plugin's idea: it needs no
// daemon, two runs can never both create the same file, and a crash leaves a file that names its
// owner, so a later run can tell a live lease from a stale one.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { MinidockError, errnoOf, usageError } from '../core/errors.js';
import { createExclusive, writeFileAtomic } from '../core/atomic-file.js';
import { FileLock } from '../core/file-lock.js';
import type { PortBinding } from '../spec/ports.js';
import { capacity, pickAddress, type NetworkConfig } from './plan.js';

/** Docker's rule for network names, plus a length that leaves room in file names. */
export const NETWORK_NAME_RE = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,63}$/;

export class NetworkStore {
  readonly dir: string;
  readonly portsDir: string;

  private readonly lock: FileLock;

  constructor(readonly root: string, flock?: (fd: number) => void) {
    this.dir = join(root, 'networks');
    this.portsDir = join(root, 'ports');
    this.lock = new FileLock(join(this.dir, '.lock'), flock);
  }

  withLock<T>(fn: () => T): T {
    return this.lock.run(fn);
  }

  /** Held across awaits (e.g. while `ip` creates the bridge). */
  withLockAsync<T>(fn: () => Promise<T>): Promise<T> {
    return this.lock.runAsync(fn);
  }

  get(name: string): NetworkConfig | undefined {
    try {
      return JSON.parse(readFileSync(join(this.dir, name, 'network.json'), 'utf8')) as NetworkConfig;
    } catch (err) {
      if (errnoOf(err) === 'ENOENT') return undefined;
      throw new MinidockError(`network ${name}: its configuration is unreadable`, { step: 'net.config', cause: err });
    }
  }

  list(): NetworkConfig[] {
    if (!existsSync(this.dir)) return [];
    return readdirSync(this.dir)
      .filter((n) => NETWORK_NAME_RE.test(n))
      .flatMap((n) => {
        const c = this.get(n);
        return c ? [c] : [];
      });
  }

  /** Records a new network; refuses a taken name, bridge or overlapping subnet. Call under the lock. */
  add(net: NetworkConfig, overlaps: (a: string, b: string) => boolean): void {
    if (!NETWORK_NAME_RE.test(net.name)) throw usageError(`invalid network name "${net.name}"`, 'use letters, digits, "_", "." and "-"');
    for (const other of this.list()) {
      if (other.name === net.name) throw usageError(`network with name ${net.name} already exists`);
      if (other.bridge === net.bridge) throw usageError(`bridge ${net.bridge} is already used by network ${other.name}`);
      if (overlaps(other.subnet, net.subnet)) {
        throw usageError(`subnet ${net.subnet} overlaps network ${other.name} (${other.subnet})`, 'choose another --subnet');
      }
    }
    mkdirSync(join(this.dir, net.name, 'leases'), { recursive: true, mode: 0o700 });
    writeFileAtomic(join(this.dir, net.name, 'network.json'), JSON.stringify(net, null, 2) + '\n');
  }

  delete(name: string): void {
    rmSync(join(this.dir, name), { recursive: true, force: true });
  }

  /** Lease owners by address. */
  leases(name: string): Map<string, string> {
    const dir = join(this.dir, name, 'leases');
    const out = new Map<string, string>();
    if (!existsSync(dir)) return out;
    for (const ip of readdirSync(dir)) {
      try {
        out.set(ip, readFileSync(join(dir, ip), 'utf8').trim());
      } catch {
        /* released meanwhile */
      }
    }
    return out;
  }

  /**
   * Leases the lowest free address for `owner`. Leases whose owner `isLive` denies are stale: they
   * are handed to `reclaim` (which must remove that owner's rules first, or traffic for the old
   * container would reach the new one) and then reused. Call under the lock.
   */
  lease(net: NetworkConfig, owner: string, isLive: (id: string) => boolean, reclaim: (id: string) => void): string {
    const leases = this.leases(net.name);
    for (const [ip, id] of leases) {
      if (id !== owner && !isLive(id)) {
        reclaim(id);
        this.release(net.name, ip, id);
        leases.delete(ip);
      }
    }
    const ip = pickAddress(net, new Set(leases.keys()));
    if (!ip) {
      throw new MinidockError(`no free address in ${net.subnet} (${leases.size} of ${capacity(net)} in use) on network ${net.name}`, {
        step: 'net.ipam',
        hint: 'remove containers, or create a network with a larger --subnet',
      });
    }
    createExclusive(join(this.dir, net.name, 'leases', ip), owner);
    return ip;
  }

  /** Releases a lease if `owner` still holds it (idempotent). */
  release(name: string, ip: string, owner: string): void {
    const file = join(this.dir, name, 'leases', ip);
    try {
      if (readFileSync(file, 'utf8').trim() === owner) unlinkSync(file);
    } catch (err) {
      if (errnoOf(err) !== 'ENOENT') throw err;
    }
  }

  /** Host-port leases: owner by binding key. */
  portLeases(): Array<{ proto: string; port: number; hostIp: string; owner: string; file: string }> {
    if (!existsSync(this.portsDir)) return [];
    return readdirSync(this.portsDir).flatMap((f) => {
      const m = /^(tcp|udp)-(\d+)-([\d.]+)$/.exec(f);
      if (!m) return [];
      let owner: string;
      try {
        owner = readFileSync(join(this.portsDir, f), 'utf8').trim();
      } catch {
        return [];
      }
      return [{ proto: m[1]!, port: Number(m[2]), hostIp: m[3]!, owner, file: f }];
    });
  }

  /** Leases a host port for `owner`, refusing one another container publishes on an overlapping
   *  address. Stale leases are reclaimed as in lease(). Call under the lock. */
  leasePort(b: PortBinding, owner: string, isLive: (id: string) => boolean, reclaim: (id: string) => void): void {
    mkdirSync(this.portsDir, { recursive: true, mode: 0o700 });
    for (const l of this.portLeases()) {
      if (l.proto !== b.proto || l.port !== b.hostPort) continue;
      if (l.hostIp !== b.hostIp && l.hostIp !== '0.0.0.0' && b.hostIp !== '0.0.0.0') continue;
      if (l.owner !== owner && !isLive(l.owner)) {
        reclaim(l.owner);
        this.releasePorts(l.owner);
        continue;
      }
      throw new MinidockError(`host port ${b.hostPort}/${b.proto} is already published by container ${l.owner.slice(0, 12)}`, {
        step: 'net.ports',
        hint: 'choose another host port, or remove that container',
      });
    }
    createExclusive(join(this.portsDir, `${b.proto}-${b.hostPort}-${b.hostIp}`), owner);
  }

  releasePorts(owner: string): void {
    for (const l of this.portLeases()) {
      if (l.owner !== owner) continue;
      try { unlinkSync(join(this.portsDir, l.file)); } catch (err) { if (errnoOf(err) !== 'ENOENT') throw err; }
    }
  }
}
