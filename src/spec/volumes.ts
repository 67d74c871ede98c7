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
  /** tmpfs options passed to mount: size=, mode= (docker's defaults otherwise). */
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

export function parseVolume(spec: string, stateRoot: string): Volume {
  if (spec.includes('\0')) throw usageError('invalid volume spec: it contains a NUL byte');
  const parts = spec.split(':');
  if (parts.length < 2 || parts.length > 3 || parts.some((p) => p === '')) {
    throw usageError(`invalid volume spec "${spec}"`, 'use HOST_PATH:CONTAINER_PATH[:ro]');
  }
  const [src, dst, opts] = parts as [string, string, string | undefined];
  if (!src.startsWith('/')) {
    throw usageError(`invalid volume spec "${spec}": the host path must be absolute`, 'named volumes are not supported; give an absolute host path');
  }
  const host = posix.normalize(src).replace(/\/+$/, '') || '/';
  const root = posix.normalize(stateRoot).replace(/\/+$/, '');
  if (host === '/' || underManaged(host) || host === root || host.startsWith(`${root}/`) || root.startsWith(`${host}/`)) {
    throw usageError(`refusing to mount ${host} into a container: it would hand the container the host or minidock's own state`);
  }
  let ro = false;
  if (opts !== undefined) {
    const words = opts.split(',');
    for (const w of words) if (w !== 'ro' && w !== 'rw') throw usageError(`invalid mount option "${w}" in "${spec}"`, 'ro or rw');
    if (words.includes('ro') && words.includes('rw')) throw usageError(`invalid volume spec "${spec}": both ro and rw`);
    ro = words.includes('ro');
  }
  return { src: host, dst: cleanDestination(dst, spec), ro };
}

export function parseTmpfs(spec: string): Tmpfs {
  const [dst, opts] = [spec.split(':')[0]!, spec.split(':').slice(1).join(':')];
  const data: string[] = [];
  let ro = false;
  for (const o of opts ? opts.split(',') : []) {
    if (o === 'ro' || o === 'rw') ro = o === 'ro';
    else if (/^size=\d+[kmg]?$/i.test(o) || /^mode=[0-7]{3,4}$/.test(o)) data.push(o);
    else throw usageError(`invalid tmpfs option "${o}" in "${spec}"`, 'size=N[k|m|g], mode=OCTAL, ro or rw');
  }
  return { dst: cleanDestination(dst, spec), data: (data.length ? data : ['mode=1777']).join(','), ro };
}

/** All -v and --tmpfs together: one destination each. */
export function checkDestinations(dsts: string[]): void {
  const seen = new Set<string>();
  for (const d of dsts) {
    if (seen.has(d)) throw usageError(`duplicate mount destination ${d}`);
    seen.add(d);
  }
}
