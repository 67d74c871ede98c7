// The fallback for kernels or filesystems without idmapped mounts: copies of an image's layers
// whose owners are already the host ids a remapped container's ids stand for. Made once per
// layer and mapping, kept apart from the store (shifted/rootfs-100000-65536-100000-65536/<chain
// id>), removed with the layer. Apart, because the remapped root's child walks to this copy by its path (0710 gate
// directories), and must never reach images/, where the unshifted setuid-root files are.
import { chmodSync, existsSync, lchownSync, lstatSync, readdirSync, renameSync, rmSync, statfsSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { MinidockError } from '../core/errors.js';
import { gatedDir } from '../core/state-perms.js';
import { childProcess } from '../core/lazy.js';
import type { IdMapping } from '../spec/container-spec.js';
import { hostId, kernelHasIdmappedOverlay, shiftedDirName } from '../spec/userns.js';

/** Filesystems whose kernel driver accepts idmapped mounts (FS_ALLOW_IDMAP), with the release
 *  that added it where that is later than overlay's own support (5.19). */
const IDMAP_FILESYSTEMS: Record<number, [number, number]> = {
  0xef53: [5, 12], // ext4
  0x58465342: [5, 12], // xfs
  0x9123683e: [5, 15], // btrfs
  0xf2f52010: [5, 18], // f2fs
  0x01021994: [6, 3], // tmpfs
};

/** Can an image stored on a filesystem of this type be shown through an idmapped overlay layer? Pure. */
export function idmapSupported(fsType: number, release: string): boolean {
  const need = IDMAP_FILESYSTEMS[fsType];
  if (!need || !kernelHasIdmappedOverlay(release)) return false;
  const [maj, min] = release.split('.').map(Number) as [number, number];
  return maj > need[0] || (maj === need[0] && min >= need[1]);
}

/** statfs of the image, and MINIDOCK_IDMAP=shift to force the copy (tests, odd filesystems). */
export function canIdmap(dir: string, release: string, env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.MINIDOCK_IDMAP === 'shift') return false;
  try {
    return idmapSupported(statfsSync(dir).type, release);
  } catch {
    return false;
  }
}

/** The host id for an image id: mapped through the range, or the mapped nobody (65534) when the
 *  image uses an id the range does not hold (it would read as nobody inside anyway). */
function shifted(map: string, id: number): number {
  return hostId(map, id) ?? hostId(map, 65534) ?? 65534;
}

/** Rewrites every owner under `dir` through the mapping. chown clears setuid and setgid bits,
 *  so they are put back: under the remapped owner they grant only that owner's (unprivileged)
 *  ids, and no_new_privs stops them from granting anything at exec anyway. */
export function shiftOwnership(dir: string, m: IdMapping): number {
  let n = 0;
  const walk = (path: string): void => {
    const st = lstatSync(path);
    lchownSync(path, shifted(m.uidMap, st.uid), shifted(m.gidMap, st.gid));
    if (!st.isSymbolicLink() && st.mode & 0o6000) chmodSync(path, st.mode & 0o7777);
    n++;
    if (st.isDirectory()) for (const e of readdirSync(path)) walk(join(path, e));
  };
  walk(dir);
  return n;
}

/**
 * The image's layers as owned by the mapping's host ids: each layer copied and shifted once per
 * mapping (shared by every image that has it), under shifted/<mapping>/<chain id>, with the same
 * short links as the store's (l/<short> -> ../<chain id>), so the container's overlay names its
 * lower directories exactly as it would in the store. Returns that directory (the mount's cwd).
 */
export function shiftedLayers(stateRoot: string, layers: { chainIds: readonly string[]; dirs: readonly string[]; links: readonly string[] }, m: IdMapping, gate: number): string {
  const dir = join(stateRoot, 'shifted', shiftedDirName(m));
  gatedDir(join(stateRoot, 'shifted'), gate);
  gatedDir(dir, gate);
  gatedDir(join(dir, 'l'), gate);
  layers.chainIds.forEach((chain, i) => {
    const target = join(dir, chain);
    const link = join(dir, layers.links[i]!);
    if (!existsSync(target)) {
      // A private staging name: two runs may make the copy at once; the first rename wins and
      // the other's copy is thrown away. The pid in the name lets gc recognise a dead run's.
      const staging = `${target}.tmp-${process.pid}`;
      try {
        childProcess().execFileSync('cp', ['-a', '--reflink=auto', layers.dirs[i]!, staging], { stdio: ['ignore', 'ignore', 'pipe'] });
        shiftOwnership(staging, m);
      } catch (err) {
        rmSync(staging, { recursive: true, force: true });
        throw new MinidockError(`cannot make a copy of layer ${chain.slice(0, 12)} owned by the remapped ids: ${(err as Error).message.split('\n')[0]}`, {
          step: 'image.shift',
          cause: err,
          hint: 'check the free space under MINIDOCK_ROOT, or run with --userns=host',
        });
      }
      try {
        renameSync(staging, target);
      } catch {
        rmSync(staging, { recursive: true, force: true }); // another run got there first
      }
    }
    try {
      symlinkSync(`../${chain}`, link);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  });
  return dir;
}
