// `minidock commit` and `minidock diff` (issue #15): a container's own layer, its overlay upper
// directory, read back as docker reads it. Side-effecting (fs, tar).
//
// overlayfs records a container's changes in the upper directory: new and changed files as
// themselves, a deleted lower path as a 0:0 character device, a directory whose lower contents
// are hidden with the opaque xattr. An image layer says the same in OCI's form (".wh.NAME",
// ".wh..wh..opq": src/image/whiteout.ts). `diff` lists the changes (A added, C changed, D
// deleted, docker's letters); `commit` turns the upper directory into a layer tar in OCI's form,
// with the container's host ids mapped back to the image's, and stores it as a new image over
// the container's (its config, with --change applied, and one more history entry).
import { lstatSync, mkdirSync, readdirSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MinidockError } from '../core/errors.js';
import { childProcess } from '../core/lazy.js';
import type { ContainerSpec } from '../spec/container-spec.js';
import { applyChanges, type ImageConfig } from '../spec/image-change.js';
import { formatImageRef, parseImageRef } from '../spec/image-ref.js';
import { isIdentity, parseIdMap } from '../spec/userns.js';
import type { ImageStore } from './store.js';
import { upperToLayer } from './whiteout.js';

export interface Change {
  kind: 'A' | 'C' | 'D';
  path: string;
}

/** What the walk of an upper directory needs to know of the host. */
export interface UpperFacts {
  isOpaque(path: string): boolean;
  /** Whether the image (the container's lower layers) has this path. */
  inImage(rel: string): boolean;
}

/** What the runtime itself puts in a container's root: mount points for the files it binds
 *  (/etc/hostname, hosts, resolv.conf) and the kernel's filesystems. docker keeps these in an
 *  "-init" layer of their own below the container's, so neither `diff` nor `commit` sees them;
 *  here they are in the upper directory, and left out by name. Only empty stubs can be there:
 *  the container sees the mounts on top of them, never the stubs. */
export const RUNTIME_PATHS: ReadonlySet<string> = new Set(['etc/hostname', 'etc/hosts', 'etc/resolv.conf', 'dev', 'proc', 'sys']);

/** Every change in `upper`, docker's way: sorted by path; a directory that is in the image and
 *  holds changes is itself "C" (one that holds only the runtime's mount points is left out). */
export function upperChanges(upper: string, facts: UpperFacts): Change[] {
  const out: Change[] = [];
  const walk = (rel: string): void => {
    for (const name of readdirSync(join(upper, rel)).sort()) {
      const r = rel ? `${rel}/${name}` : name;
      if (RUNTIME_PATHS.has(r)) continue;
      const st = lstatSync(join(upper, r));
      if (st.isCharacterDevice() && st.rdev === 0) {
        out.push({ kind: 'D', path: `/${r}` });
        continue;
      }
      const at = out.length;
      out.push({ kind: facts.inImage(r) ? 'C' : 'A', path: `/${r}` });
      if (st.isDirectory()) {
        const before = out.length;
        walk(r);
        // Copied up only for the runtime's mount points (/etc for /etc/hostname): no change.
        if (out.length === before && out[at]!.kind === 'C' && readdirSync(join(upper, r)).some((n) => RUNTIME_PATHS.has(`${r}/${n}`))) out.splice(at, 1);
      }
    }
  };
  walk('');
  return out;
}

/** Whether a path is in a layered image, top layer first (a whiteout on the way: deleted). */
export function inLayers(dirs: readonly string[], rel: string): boolean {
  const parts = rel.split('/');
  for (const dir of dirs) {
    for (let i = 1; i <= parts.length; i++) {
      let st;
      try {
        st = lstatSync(join(dir, ...parts.slice(0, i)));
      } catch {
        break;
      }
      if (st.isCharacterDevice() && st.rdev === 0) return false;
      if (i === parts.length) return true;
      if (!st.isDirectory()) return false;
    }
  }
  return false;
}

/** The container's lower directories, top first. */
export function lowerDirs(spec: ContainerSpec, store: ImageStore): string[] {
  if (spec.image.rootfs) return [spec.image.rootfs];
  const id = spec.image.id;
  const img = id ? store.record(id) : undefined;
  if (!img) throw new MinidockError(`the image of this container (${spec.image.ref}) is no longer in the store`, { step: 'image.commit', exitCode: 1 });
  return [...img.layers].reverse().map((c) => store.layerDir(c));
}

/** tar's owner and group maps: each host id the upper directory holds, back to the image's. */
function idMapFile(file: string, ids: ReadonlySet<number>, map: string): void {
  const ranges = parseIdMap(map);
  const lines = [...ids].map((host) => {
    const r = ranges.find((x) => host >= x.outside && host < x.outside + x.count);
    // A host id outside the map is one the container could not have written: the image's nobody.
    return `+${host} +${r ? r.inside + host - r.outside : 65534}`;
  });
  writeFileSync(file, lines.join('\n') + '\n');
}

/**
 * The upper directory as an OCI layer tar at `out`: copied to `stage` first (reflinks where the
 * filesystem has them), whiteouts and opaque directories converted there, then tarred with the
 * container's ids mapped back to the image's.
 */
export async function upperToTar(upper: string, stage: string, out: string, o: { idMap?: { uidMap: string; gidMap: string }; isOpaque: (path: string) => boolean }): Promise<void> {
  childProcess().execFileSync('cp', ['-a', '--reflink=auto', `${upper}/.`, stage], { stdio: ['ignore', 'ignore', 'pipe'] });
  const uids = new Set<number>();
  const gids = new Set<number>();
  const walk = (rel: string): void => {
    for (const name of readdirSync(join(stage, rel))) {
      const r = rel ? `${rel}/${name}` : name;
      const path = join(stage, r);
      if (RUNTIME_PATHS.has(r)) {
        rmSync(path, { recursive: true, force: true });
        continue;
      }
      const st = lstatSync(path);
      const e = upperToLayer(r, { charDev00: st.isCharacterDevice() && st.rdev === 0, dir: st.isDirectory(), opaque: st.isDirectory() && o.isOpaque(join(upper, r)) });
      if (e.kind === 'whiteout') {
        unlinkSync(path);
        markers.push(e.member);
        continue;
      }
      uids.add(st.uid);
      gids.add(st.gid);
      if (st.isCharacterDevice() || st.isBlockDevice() || st.isFIFO() || st.isSocket()) {
        // Nothing a container makes in its /dev reaches here (a tmpfs); other device nodes or
        // sockets in a layer are never extracted (src/image/unpack.ts): left out.
        unlinkSync(path);
        continue;
      }
      if (e.kind === 'opaque') markers.push(e.marker);
      if (st.isDirectory()) walk(r);
    }
  };
  // The OCI markers are written after the walk: a ".wh." name met during it is the container's
  // own file, which upperToLayer refuses.
  const markers: string[] = [];
  walk('');
  for (const m of markers) writeFileSync(join(stage, m), '', { mode: 0o600 });
  const maps: string[] = [];
  if (o.idMap) {
    idMapFile(`${stage}.owners`, uids, o.idMap.uidMap);
    idMapFile(`${stage}.groups`, gids, o.idMap.gidMap);
    maps.push(`--owner-map=${stage}.owners`, `--group-map=${stage}.groups`);
  }
  try {
    const r = childProcess().spawnSync('tar', ['-c', '-f', out, '--numeric-owner', '--sort=name', '--no-xattrs', ...maps, '-C', stage, '.'], { encoding: 'utf8' });
    if (r.status !== 0) throw new MinidockError(`tar failed: ${(r.stderr || '').trim().split('\n').slice(-3).join('; ')}`, { step: 'image.commit.tar', exitCode: 1 });
  } finally {
    rmSync(`${stage}.owners`, { force: true });
    rmSync(`${stage}.groups`, { force: true });
  }
}

/** The committed image's config: the container's image's, with the new layer's diff id, the
 *  --change instructions applied, and the step in its history. */
export function committedConfig(baseText: string, diffId: string, o: { changes: readonly string[]; message?: string; author?: string; createdBy: string; now: string }): string {
  const base = JSON.parse(baseText) as Record<string, unknown> & { config?: ImageConfig; rootfs?: { diff_ids?: string[] }; history?: unknown[] };
  const config = applyChanges((base.config ?? {}) as ImageConfig, [...o.changes]);
  const history = [...(Array.isArray(base.history) ? base.history : []), { created: o.now, created_by: o.createdBy, ...(o.author ? { author: o.author } : {}), ...(o.message ? { comment: o.message } : {}) }];
  return JSON.stringify({
    ...base,
    created: o.now,
    ...(o.author ? { author: o.author } : {}),
    config: { ...(base.config ?? {}), ...config },
    rootfs: { type: 'layers', diff_ids: [...(base.rootfs?.diff_ids ?? []), diffId] },
    history,
  });
}

/** `commit`: the container's upper directory as a new layer over its image; returns the id. */
export async function commitContainer(store: ImageStore, spec: ContainerSpec, upper: string, o: { ref?: string; changes: readonly string[]; message?: string; author?: string; isOpaque: (path: string) => boolean; mark: (root: string, rel: string, kind: 'whiteout' | 'opaque') => void }): Promise<string> {
  const tag = o.ref === undefined ? undefined : formatImageRef(parseImageRef(o.ref));
  if (!spec.image.id || spec.image.rootfs) {
    throw new MinidockError(`container ${spec.name} runs from the directory ${spec.image.ref}, not a stored image: there is no image to commit on top of`, { step: 'image.commit', hint: `minidock import ${spec.image.ref} NAME, then run from NAME`, exitCode: 1 });
  }
  const base = store.image(spec.image.id);
  if (!base) throw new MinidockError(`the image of container ${spec.name} (${spec.image.ref}) is no longer in the store`, { step: 'image.commit', exitCode: 1 });
  store.prepare();
  const stage = store.scratch('layer');
  const tar = store.scratch('blob');
  mkdirSync(stage, { mode: 0o700 });
  try {
    await upperToTar(upper, stage, tar, { ...(isIdentity(spec.idMap) ? {} : { idMap: spec.idMap }), isOpaque: o.isOpaque });
    const layer = await store.addLayer({ file: tar, offset: 0, size: statSync(tar).size, label: `the layer of container ${spec.name}` }, { parent: base.layers.at(-1)!, mark: o.mark });
    const config = committedConfig(base.configText, layer.diffId, { changes: o.changes, ...(o.message ? { message: o.message } : {}), ...(o.author ? { author: o.author } : {}), createdBy: spec.argv.join(' '), now: new Date().toISOString() });
    const layers = [...base.layers.map((c) => store.layer(c)!), layer];
    return store.addImage(config, layers, `commit ${spec.name}`, tag ? [tag] : []);
  } catch (err) {
    store.abandon();
    throw err;
  } finally {
    rmSync(stage, { recursive: true, force: true });
    rmSync(tar, { force: true });
  }
}

