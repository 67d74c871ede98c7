// docker's -v/--volume HOST:CTR[:ro|rw] and --tmpfs CTR[:OPTIONS], parsed and checked. Pure: the
// host path's existence is checked by the caller, which has the filesystem.
import { posix } from 'node:path';
import { usageError } from '../core/errors.js';

export interface Volume {
  src: string;
  dst: string;
  ro: boolean;
}

export interface Tmpfs {
  dst: string;
  /** The options after docker's default nosuid,nodev,noexec, in order: tmpfs's own (size=,
   *  mode=, uid=...) and mount flags (exec undoes noexec). */
  data: string;
  ro: boolean;
}

/** Paths minidock itself mounts: a volume there would hide or fight them. */
const MANAGED = ['/', '/proc', '/sys', '/dev'];
const underManaged = (p: string): boolean => MANAGED.some((m) => p === m || (m !== '/' && p.startsWith(`${m}/`)));

function cleanDestination(dst: string, spec: string): string {
  if (!dst.startsWith('/')) throw usageError(`invalid volume spec "${spec}": the container path must be absolute`);
  // "/data/../../etc" is cleaned to "/etc" here; the child then resolves it inside the rootfs.
  const clean = posix.normalize(dst).replace(/\/+$/, '') || '/';
  if (underManaged(clean)) throw usageError(`cannot mount over runtime-managed path ${clean}`, 'choose another container path');
  return clean;
}

/** docker's rule for a local volume's name. */
export const VOLUME_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;

export function checkVolumeName(name: string): string {
  if (!VOLUME_NAME.test(name)) {
    throw usageError(`create ${name}: "${name}" includes invalid characters for a local volume name, only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed`, 'if you intended to pass a host directory, use an absolute path');
  }
  return name;
}

/** -v as docker reads it: HOST:CTR[:opts] a bind, NAME:CTR[:opts] a named volume, CTR alone an
 *  anonymous one. */
export type VolumeFlag = ({ kind: 'bind' } & Volume) | { kind: 'named'; name: string; dst: string; ro: boolean; nocopy: boolean } | { kind: 'anonymous'; dst: string };

export function parseVolumeFlag(spec: string, stateRoot: string): VolumeFlag {
  if (spec.includes('\0')) throw usageError('invalid volume spec: it contains a NUL byte');
  const parts = spec.split(':');
  if (parts.length === 1 && spec.startsWith('/')) return { kind: 'anonymous', dst: cleanDestination(spec, spec) };
  if (parts.length >= 2 && parts[0] !== '' && !parts[0]!.startsWith('/') && !parts[0]!.startsWith('.')) {
    // A name, not a path: the rest is read as for a bind (destination, ro/rw, z/Z).
    if (parts.length > 3 || parts.some((p) => p === '')) throw usageError(`invalid volume spec "${spec}"`, 'use NAME:CONTAINER_PATH[:ro]');
    return { kind: 'named', name: checkVolumeName(parts[0]!), dst: cleanDestination(parts[1]!, spec), ro: mountOptions(parts[2], spec), nocopy: (parts[2] ?? '').split(',').includes('nocopy') };
  }
  return { kind: 'bind', ...parseVolume(spec, stateRoot) };
}

export function parseVolume(spec: string, stateRoot: string): Volume {
  if (spec.includes('\0')) throw usageError('invalid volume spec: it contains a NUL byte');
  const parts = spec.split(':');
  if (parts.length < 2 || parts.length > 3 || parts.some((p) => p === '')) {
    throw usageError(`invalid volume spec "${spec}"`, 'use HOST_PATH:CONTAINER_PATH[:ro]');
  }
  const [src, dst, opts] = parts as [string, string, string | undefined];
  if (!src.startsWith('/')) {
    throw usageError(`invalid volume spec "${spec}": the host path must be absolute`, 'give an absolute host path (or a volume name: letters, digits, _ . -)');
  }
  const host = posix.normalize(src).replace(/\/+$/, '') || '/';
  const root = posix.normalize(stateRoot).replace(/\/+$/, '');
  if (host === '/' || underManaged(host) || host === root || host.startsWith(`${root}/`) || root.startsWith(`${host}/`)) {
    throw usageError(`refusing to mount ${host} into a container: it would hand the container the host or minidock's own state`);
  }
  return { src: host, dst: cleanDestination(dst, spec), ro: mountOptions(opts, spec) };
}

/** -v's third part: whether it is read-only. */
function mountOptions(opts: string | undefined, spec: string): boolean {
  if (opts === undefined) return false;
  const words = opts.split(',');
  // z and Z ask docker to relabel for SELinux, which this host does not have: docker then
  // ignores them too. consistent, cached and delegated mean something only on macOS.
  const IGNORED = ['z', 'Z', 'consistent', 'cached', 'delegated', 'nocopy'];
  for (const w of words) if (w !== 'ro' && w !== 'rw' && !IGNORED.includes(w)) throw usageError(`invalid mount option "${w}" in "${spec}"`, 'ro, rw, z or Z');
  if (words.includes('ro') && words.includes('rw')) throw usageError(`invalid volume spec "${spec}": both ro and rw`);
  return words.includes('ro');
}

/** Mount flags --tmpfs takes as docker does (each also undoes its opposite: exec after the
 *  default noexec makes the tmpfs executable). */
const TMPFS_FLAGS = new Set(['exec', 'noexec', 'suid', 'nosuid', 'dev', 'nodev', 'atime', 'noatime', 'diratime', 'nodiratime', 'relatime', 'norelatime', 'strictatime', 'nostrictatime', 'sync', 'async', 'dirsync']);
/** tmpfs's own options (mount data). */
const TMPFS_DATA = /^(size=\d+[kmg]?|size=\d+%|nr_blocks=\d+[kmg]?|nr_inodes=\d+[kmg]?|mode=[0-7]{3,4}|uid=\d+|gid=\d+|huge=(never|always|within_size|advise))$/i;

export function parseTmpfs(spec: string): Tmpfs {
  const [dst, opts] = [spec.split(':')[0]!, spec.split(':').slice(1).join(':')];
  const data: string[] = [];
  let ro = false;
  for (const o of opts ? opts.split(',') : []) {
    if (o === 'ro' || o === 'rw') ro = o === 'ro';
    else if (TMPFS_DATA.test(o) || TMPFS_FLAGS.has(o)) data.push(o);
    else throw usageError(`invalid tmpfs option "${o}" in "${spec}"`, 'size=, mode=, uid=, gid=, nr_inodes=, noexec/exec, nosuid/suid, nodev/dev, noatime, ro or rw');
  }
  if (!data.some((o) => o.startsWith('mode='))) data.unshift('mode=1777');
  return { dst: cleanDestination(dst, spec), data: data.join(','), ro };
}

/** All -v and --tmpfs together: one destination each. */
export function checkDestinations(dsts: string[]): void {
  const seen = new Set<string>();
  for (const d of dsts) {
    if (seen.has(d)) throw usageError(`duplicate mount destination ${d}`);
    seen.add(d);
  }
}
