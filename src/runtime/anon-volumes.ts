// Anonymous volumes: one per VOLUME path an image declares (issue #15), as docker makes them.
// A new directory under $ROOT/volumes/<64 hex>/_data is bind-mounted at the path, filled on
// first use with what the image has there (docker's copy-up, owners as the container sees
// them), and outlives the container's layer: `rm -v` and `run --rm` remove it with the
// container, `rm` alone leaves it, and `gc` removes those no container names (docker's
// `volume prune` of anonymous volumes). Named volumes (-v NAME:/path, src/cli/volumes.ts) live
// beside them, made the same way (makeVolume), with a record that keeps gc off them.
import { chmodSync, chownSync, existsSync, mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join, posix } from 'node:path';
import { gatedDir, privateDir } from '../core/state-perms.js';
import type { ContainerSpec } from '../spec/container-spec.js';
import { isIdentity, mappedRoot } from '../spec/userns.js';
import { randomHex } from './ids.js';

type VolumeEntry = NonNullable<ContainerSpec['volumes']>[number];

const MANAGED = ['/proc', '/sys', '/dev'];

export const volumesDir = (root: string): string => join(root, 'volumes');

/** The anonymous volumes of an image's VOLUME paths that no -v or --tmpfs already covers. Pure
 *  but for the random names. */
export function planAnonymousVolumes(paths: readonly string[] | undefined, taken: readonly string[], root: string): VolumeEntry[] {
  const seen = new Set(taken.map((t) => posix.normalize(t).replace(/\/+$/, '')));
  const out: VolumeEntry[] = [];
  for (const p of paths ?? []) {
    const dst = posix.normalize(`/${p}`).replace(/\/+$/, '');
    if (dst === '' || seen.has(dst) || MANAGED.some((m) => dst === m || dst.startsWith(`${m}/`))) continue;
    seen.add(dst);
    const name = randomHex(32);
    out.push({ src: join(volumesDir(root), name, '_data'), dst, ro: false, file: false, anonymous: name });
  }
  return out;
}

/**
 * Makes the container's volumes that do not exist yet (its first start), anonymous and named,
 * each filled from the image (docker's copy-up); a named one made by `volume create` is filled
 * at its first use while it is empty. Returns the anonymous ones made now, for the caller's
 * undo (a named volume stays, as docker's does).
 */
export async function ensureVolumes(spec: ContainerSpec, root: string): Promise<string[]> {
  const wanted = (spec.volumes ?? []).filter((v) => v.anonymous || v.named);
  if (!wanted.length) return [];
  const owner = isIdentity(spec.idMap) ? undefined : mappedRoot(spec.idMap)!;
  const made: string[] = [];
  // docker's copy-up: what the image has at the path fills a volume that is empty.
  const fill = async (v: VolumeEntry, data: string): Promise<void> => {
    const { copyImageDir, imageDirStat } = await import('../image/merge.js');
    const sub = v.dst.slice(1);
    const st = v.nocopy ? undefined : imageDirStat(spec.image, sub);
    if (st && copyImageDir(spec.image, sub, data)) {
      // The volume's own directory as the image's: its owner and mode.
      chownSync(data, st.uid, st.gid);
      chmodSync(data, st.mode & 0o7777);
      // The copy has the image's owners; a remapped container's ids are host ids shifted,
      // unless its layers are a shifted copy already.
      if (!isIdentity(spec.idMap) && (spec.image.idmapped || !spec.image.layers)) {
        const { shiftOwnership } = await import('../image/shift.js');
        shiftOwnership(data, spec.idMap);
      }
    }
  };
  for (const v of wanted) {
    const name = (v.anonymous ?? v.named)!;
    const data = join(volumesDir(root), name, '_data');
    if (existsSync(data)) {
      // A named volume made by `volume create`, or emptied: filled at its first use, as docker's.
      if (v.named && readdirSync(data).length === 0) await fill(v, data);
      continue;
    }
    if (await makeVolume(root, name, { owner, ...(v.named ? { record: {} } : {}), fill: (d) => fill(v, d) }) && v.anonymous) made.push(name);
  }
  return made;
}

/**
 * The one way a volume comes to be (a container's first use, `volume create`): its directory
 * made aside, filled, given its record when it is named, and renamed into place, so a volume is
 * complete or absent. Its data belongs to `owner` (the containers' remapped root; root when
 * undefined), behind the state root's gate. False when a concurrent maker won the rename:
 * theirs is the volume then.
 */
export async function makeVolume(root: string, name: string, o: { owner: { uid: number; gid: number } | undefined; record?: Record<string, string>; fill?: (data: string) => Promise<void> }): Promise<boolean> {
  const gate = (d: string): void => (o.owner ? gatedDir(d, o.owner.gid) : privateDir(d));
  gate(volumesDir(root));
  const dir = join(volumesDir(root), name);
  const staging = join(volumesDir(root), `.${name}.${process.pid}.tmp`);
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(join(staging, '_data'), { recursive: true, mode: 0o755 });
  gate(staging);
  chownSync(join(staging, '_data'), o.owner?.uid ?? 0, o.owner?.gid ?? 0);
  await o.fill?.(join(staging, '_data'));
  if (o.record) writeVolumeRecord(staging, name, o.record);
  try {
    renameSync(staging, dir);
    return true;
  } catch (err) {
    rmSync(staging, { recursive: true, force: true });
    if (existsSync(join(dir, '_data'))) return false;
    throw err;
  }
}

/** A named volume's record, $ROOT/volumes/NAME/volume.json: what `volume inspect` shows, and
 *  what tells gc that it is no anonymous volume to prune. */
export interface VolumeRecord {
  Name: string;
  CreatedAt: string;
  Labels: Record<string, string>;
  Options: Record<string, string>;
}

export function writeVolumeRecord(dir: string, name: string, labels: Record<string, string>): void {
  const rec: VolumeRecord = { Name: name, CreatedAt: new Date().toISOString().replace(/\.\d+Z$/, 'Z'), Labels: labels, Options: {} };
  writeFileSync(join(dir, 'volume.json'), JSON.stringify(rec, null, 2) + '\n', { mode: 0o600 });
}

/** Removes the container's anonymous volumes (rm -v, run --rm, a fresh run that failed). */
export function removeAnonymousVolumes(spec: ContainerSpec, root: string, only?: readonly string[]): void {
  for (const v of spec.volumes ?? []) {
    if (!v.anonymous || (only && !only.includes(v.anonymous))) continue;
    rmSync(join(volumesDir(root), v.anonymous), { recursive: true, force: true });
  }
}

/** gc: anonymous volumes no container names, and staging a dead run left. Returns how many. */
export function pruneAnonymousVolumes(root: string, used: ReadonlySet<string>, alive: (pid: number) => boolean): number {
  const dir = volumesDir(root);
  if (!existsSync(dir)) return 0;
  let n = 0;
  for (const e of readdirSync(dir)) {
    const staging = /^\.(.+)\.(\d+)\.tmp$/.exec(e);
    // A named volume (it has its record) is never gc's to take, used or not: `volume rm` is.
    const anonymous = /^[0-9a-f]{64}$/.test(e) && !existsSync(join(dir, e, 'volume.json'));
    if ((staging && !alive(Number(staging[2]))) || (anonymous && !used.has(e))) {
      rmSync(join(dir, e), { recursive: true, force: true });
      n++;
    }
  }
  return n;
}
