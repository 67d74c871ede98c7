// A container with no mount namespace at all mounts in the runtime's own (runc's reading of such a
// config): its tree, one bind of its root directory with every mount below it (container.c makes
// that bind private first, so nothing below it reaches other namespaces), would stay there once
// it exits. create notes which mount at the root path was there before it; delete, and a create
// that failed half-way, detach the one on top when it is not that one: umount2(MNT_DETACH) takes
// the container's whole tree with it, and nothing else. topMountAt is pure; detachRootMount runs
// umount(8) (Node has no umount2).
import { childProcess } from '../core/lazy.js';
import { readFileSync, readlinkSync } from 'node:fs';

/** mountinfo(5) escapes space, tab, newline and backslash in paths as octal. */
const unescape = (s: string): string => s.replace(/\\([0-7]{3})/g, (_m, o: string) => String.fromCharCode(parseInt(o, 8)));

/** Pure: the id of the topmost mount at `path` in a mountinfo text (the last one listed there:
 *  the kernel lists a namespace's mounts in the order they were attached), or 0 for none. */
export function topMountAt(mountinfo: string, path: string): number {
  let top = 0;
  for (const line of mountinfo.split('\n')) {
    const f = line.split(' ');
    if (f.length > 4 && unescape(f[4]!) === path) top = Number(f[0]);
  }
  return top;
}

export interface RootMount {
  path: string;
  /** The mount on top at `path` before create (0: none). */
  before: number;
  /** The mount namespace create ran in ("mnt:[N]"): another's mounts at that path are not ours. */
  mntns: string;
}

export const noteRootMount = (path: string): RootMount => ({
  path,
  before: topMountAt(readFileSync('/proc/self/mountinfo', 'utf8'), path),
  mntns: readlinkSync('/proc/self/ns/mnt'),
});

/** Detaches the container's tree at `path` if the mount on top there is not `before`, in the
 *  mount namespace create ran in. Returns what it did, for the debug log. */
export function detachRootMount({ path, before, mntns }: RootMount): string {
  if (readlinkSync('/proc/self/ns/mnt') !== mntns) throw new Error(`the container's mounts are in ${mntns}, not in this process's mount namespace: run delete from there, or unmount ${path} in it`);
  const top = topMountAt(readFileSync('/proc/self/mountinfo', 'utf8'), path);
  if (!top || top === before) return `no mount of the container's at ${path}`;
  const r = childProcess().spawnSync('umount', ['--lazy', path], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`umount --lazy ${path}: ${(r.stderr || r.error?.message || '').trim()}`);
  return `detached the container's tree at ${path} (mount ${top})`;
}
