// The host's device nodes, for --privileged: docker gives a privileged container every device
// under the host's /dev (runc's HostDevices walk), with the host's modes and owners, and lets the
// device cgroup allow them all. Side-effecting (reads /dev); the walk skips what is not a device
// of the host's own: the devpts, shm and mqueue instances, fd's symlinks, and the console
// (the container has its own /dev/console).
import { lstatSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { OciDevice } from '../oci/config.js';

const SKIP_DIRS = new Set(['pts', 'shm', 'fd', 'mqueue', '.lxc', '.lxd-mounts', '.udev']);

/** major and minor of a dev_t as glibc's gnu_dev_major/gnu_dev_minor split it. */
export function splitDev(rdev: number): { major: number; minor: number } {
  const hi = Math.floor(rdev / 2 ** 32);
  const lo = rdev % 2 ** 32;
  return { major: ((lo >>> 8) & 0xfff) | ((hi & ~0xfff) >>> 0), minor: (lo & 0xff) | ((lo >>> 12) & ~0xff) >>> 0 };
}

export function hostDevices(dir = '/dev'): OciDevice[] {
  const out: OciDevice[] = [];
  let names: string[];
  try {
    names = readdirSync(dir).sort();
  } catch {
    return out;
  }
  for (const name of names) {
    const path = join(dir, name);
    let st;
    try {
      st = lstatSync(path);
    } catch {
      continue; // gone meanwhile
    }
    if (st.isDirectory()) {
      if (!SKIP_DIRS.has(name)) out.push(...hostDevices(path));
      continue;
    }
    if (path === '/dev/console' || (!st.isCharacterDevice() && !st.isBlockDevice())) continue;
    out.push({ path, type: st.isCharacterDevice() ? 'c' : 'b', ...splitDev(st.rdev), fileMode: st.mode & 0o777, uid: st.uid, gid: st.gid });
  }
  return out;
}
