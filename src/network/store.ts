// Networks, address leases and host-port leases under $ROOT/networks. Side-effecting (fs).
//
//   $ROOT/networks/<name>/network.json     the NetworkConfig
//   $ROOT/networks/<name>/leases/<ip>      holds the owning container's id (created O_EXCL)
//   $ROOT/networks/<name>/removing         `network rm` began: gc or rm finishes it, run refuses it
//   $ROOT/ports/<proto>-<port>-<hostip>    holds the owning container's id
//   $ROOT/networks/.lock                   flock'd around allocation
//
// One file per lease, created with O_EXCL, is the CNI host-local plugin's idea: it needs no
// daemon, two runs can never both create the same file, and a crash leaves a file that names its
// owner, so a later run can tell a live lease from a stale one. A lease whose owner cannot be
// read (garbage, unreadable) is never taken for stale: it may be a live container's address or
// port, so it stays in use (owner null) until the container that recorded it releases it, and
// doctor and network rm report it.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, unlinkSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { MinidockError, errnoOf, usageError } from '../core/errors.js';
import { createExclusive, writeFileAtomic } from '../core/atomic-file.js';
import { FileLock } from '../core/file-lock.js';
import type { PortBinding } from '../spec/ports.js';
import { capacity, pickAddress, requestedAddressProblem, rootScope, type NetworkConfig } from './plan.js';

/** Docker's rule for network names, plus a length that leaves room in file names. */
export const NETWORK_NAME_RE = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,63}$/;

/** What a lease file must hold: a container id. Anything else is an owner that cannot be read. */
const OWNER_RE = /^[0-9a-f]{64}$/;

/** A lease file's owner, or null when it cannot be read (garbage, empty, EACCES...); undefined
 *  when the file is gone. */
function readOwner(file: string): string | null | undefined {
  try {
    const text = readFileSync(file, 'utf8').trim();
    return OWNER_RE.test(text) ? text : null;
  } catch (err) {
    return errnoOf(err) === 'ENOENT' ? undefined : null;
  }
}

export interface PortLease {
  proto: string;
  port: number;
  hostIp: string;
  /** null: the file's owner cannot be read (in use, by whom is unknown). */
  owner: string | null;
  file: string;
}

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

  /** This state root's scope (plan.ts rootScope): what its networks' rules are tagged with. */
  get scope(): string {
    return rootScope(resolve(this.root));
  }

  get(name: string): NetworkConfig | undefined {
    let net: NetworkConfig;
    try {
      net = JSON.parse(readFileSync(join(this.dir, name, 'network.json'), 'utf8')) as NetworkConfig;
      if (typeof net !== 'object' || !net || typeof net.bridge !== 'string' || typeof net.subnet !== 'string') throw new Error('not a network configuration');
    } catch (err) {
      if (errnoOf(err) === 'ENOENT') return undefined;
      throw new MinidockError(`network ${name}: its configuration is unreadable`, { step: 'net.config', cause: err });
    }
    return net.scope ? net : { ...net, scope: this.scope };
  }

  list(): NetworkConfig[] {
    const { nets, broken } = this.scan();
    if (broken.length) throw broken[0]!.error;
    return nets;
  }

  /** Every network, and apart those whose configuration cannot be read (gc, doctor and ls go on
   *  with the rest; list() refuses). */
  scan(): { nets: NetworkConfig[]; broken: Array<{ name: string; error: Error }> } {
    const nets: NetworkConfig[] = [];
    const broken: Array<{ name: string; error: Error }> = [];
    if (!existsSync(this.dir)) return { nets, broken };
    for (const n of readdirSync(this.dir).filter((x) => NETWORK_NAME_RE.test(x))) {
      try {
        const c = this.get(n);
        if (c) nets.push(c);
      } catch (err) {
        broken.push({ name: n, error: err as Error });
      }
    }
    return { nets, broken };
  }

  /** `network rm` has begun: from now on runs refuse the network, and gc finishes the removal. */
  markRemoving(name: string): void {
    writeFileAtomic(join(this.dir, name, 'removing'), `${process.pid}\n`);
  }

  isRemoving(name: string): boolean {
    return existsSync(join(this.dir, name, 'removing'));
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
    writeFileAtomic(join(this.dir, net.name, 'network.json'), JSON.stringify({ ...net, scope: net.scope ?? this.scope }, null, 2) + '\n');
  }

  delete(name: string): void {
    rmSync(join(this.dir, name), { recursive: true, force: true });
  }

  /** Lease owners by address; null for an owner that cannot be read (in use: see the top). */
  leases(name: string): Map<string, string | null> {
    const dir = join(this.dir, name, 'leases');
    const out = new Map<string, string | null>();
    if (!existsSync(dir)) return out;
    for (const ip of readdirSync(dir)) {
      if (ip.startsWith('.')) continue;
      const owner = readOwner(join(dir, ip));
      if (owner !== undefined) out.set(ip, owner); // undefined: released meanwhile
    }
    return out;
  }

  /**
   * Leases the lowest free address for `owner`. Leases whose owner `isLive` denies are stale: they
   * are handed to `reclaim` (which must remove that owner's rules first, or traffic for the old
   * container would reach the new one) and then reused. A lease whose owner cannot be read is
   * never reused. Call under the lock.
   */
  lease(net: NetworkConfig, owner: string, isLive: (id: string) => boolean, reclaim: (id: string) => void, wanted?: string): string {
    const leases = this.leases(net.name);
    for (const [ip, id] of leases) {
      if (id !== null && id !== owner && !isLive(id)) {
        reclaim(id);
        this.release(net.name, ip, id);
        leases.delete(ip);
      }
    }
    if (wanted !== undefined) {
      // --ip: that address or nothing (docker: "Address already in use").
      const problem = requestedAddressProblem(net, wanted);
      if (problem) throw new MinidockError(`invalid --ip: ${problem}`, { step: 'net.ipam', hint: `give an address of ${net.subnet}` });
      if (leases.has(wanted)) {
        const holder = leases.get(wanted);
        throw new MinidockError(`Address already in use: ${wanted} on network ${net.name}`, { step: 'net.ipam', hint: holder ? `container ${holder.slice(0, 12)} has it` : 'its lease file names no readable owner' });
      }
      createExclusive(join(this.dir, net.name, 'leases', wanted), owner);
      return wanted;
    }
    const ip = pickAddress(net, new Set(leases.keys()));
    if (!ip) {
      const unreadable = [...leases.values()].filter((o) => o === null).length;
      throw new MinidockError(`no free address in ${net.subnet} (${leases.size} of ${capacity(net)} in use) on network ${net.name}`, {
        step: 'net.ipam',
        hint: unreadable
          ? `${unreadable} lease file(s) in ${join(this.dir, net.name, 'leases')} name no readable owner and stay in use (minidock doctor lists them)`
          : 'remove containers, or create a network with a larger --subnet',
      });
    }
    createExclusive(join(this.dir, net.name, 'leases', ip), owner);
    return ip;
  }

  /** Releases a lease if `owner` still holds it, or if it names no readable owner: the caller
   *  recorded this address as its own, so a garbled file is its lease (idempotent). */
  release(name: string, ip: string, owner: string): void {
    const file = join(this.dir, name, 'leases', ip);
    const held = readOwner(file);
    if (held === owner || held === null) {
      try { unlinkSync(file); } catch (err) { if (errnoOf(err) !== 'ENOENT') throw err; }
    }
  }

  /** Host-port leases: owner by binding key (null: cannot be read). */
  portLeases(): PortLease[] {
    if (!existsSync(this.portsDir)) return [];
    return readdirSync(this.portsDir).flatMap((f) => {
      const m = /^(tcp|udp)-(\d+)-([\d.]+)$/.exec(f);
      if (!m) return [];
      const owner = readOwner(join(this.portsDir, f));
      if (owner === undefined) return [];
      return [{ proto: m[1]!, port: Number(m[2]), hostIp: m[3]!, owner, file: f }];
    });
  }

  /** Leases a host port for `owner`, refusing one another container publishes on an overlapping
   *  address, or whose lease names no readable owner. Stale leases are reclaimed as in lease().
   *  Call under the lock. */
  leasePort(b: PortBinding, owner: string, isLive: (id: string) => boolean, reclaim: (id: string) => void): void {
    mkdirSync(this.portsDir, { recursive: true, mode: 0o700 });
    for (const l of this.portLeases()) {
      if (l.proto !== b.proto || l.port !== b.hostPort) continue;
      if (l.hostIp !== b.hostIp && l.hostIp !== '0.0.0.0' && b.hostIp !== '0.0.0.0') continue;
      if (l.owner === null) {
        throw new MinidockError(`host port ${b.hostPort}/${b.proto} is leased, and its lease file ${join(this.portsDir, l.file)} names no readable owner`, {
          step: 'net.ports',
          hint: 'it stays in use: remove the file if no container publishes that port (minidock ps shows who does)',
        });
      }
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

  /** Releases `owner`'s port leases; with `recorded` (the bindings its state holds), also those
   *  files among them whose owner cannot be read. */
  releasePorts(owner: string, recorded: PortBinding[] = []): void {
    const mine = new Set(recorded.map((b) => `${b.proto}-${b.hostPort}-${b.hostIp}`));
    for (const l of this.portLeases()) {
      if (l.owner !== owner && !(l.owner === null && mine.has(l.file))) continue;
      try { unlinkSync(join(this.portsDir, l.file)); } catch (err) { if (errnoOf(err) !== 'ENOENT') throw err; }
    }
  }
}
