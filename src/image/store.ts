// The image store (issue #15): content-addressed, layered, as docker's overlay2 store and
// containerd's content store are. Side-effecting (fs). Everything is root's alone (0700).
//
//   $ROOT/images/
//     repositories.json           the tag index: {"busybox:latest": "<image id hex>"}
//     blobs/sha256/<hex>          config blobs (the image id is the config's digest) and layer
//                                 blobs as they came (compressed or not): `save` and `push`
//                                 hand out exactly these bytes, so digests and ids survive
//     layers/<chain id hex>/      one directory per layer *with everything under it*
//       diff/                     the unpacked tree: an overlay lower directory, never changed
//       layer.json                diff id, parent chain id, blob digest and media type, size
//     layers/l/<short>            -> ../<chain id hex>/diff: docker's short names, so that 120
//                                 lower directories fit overlay's one-page mount options
//     image/<id hex>.json         an image: its layers (chain ids, bottom first), when stored
//     locks/                      one flock file per layer being unpacked, and the tag index's
//
// Every write goes to $ROOT/tmp under a name with the writer's pid and is renamed into place
// once its digest is verified: a killed load leaves only tmp/ entries of a dead pid and layers
// no image names, which `gc` removes. A layer is unpacked under its lock: two loads sharing a
// layer unpack it once, the second finds it there. Images are never changed; containers use
// their layers as overlay's read-only lower directories.
import { chmodSync, chownSync, closeSync, createWriteStream, existsSync, openSync, readSync, lstatSync, mkdirSync, readdirSync, readFileSync, realpathSync, renameSync, rmSync, statSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { join, resolve as resolvePath } from 'node:path';
import { childProcess, cryptoLib, streamPromises } from '../core/lazy.js';
import { EXIT, MinidockError, errnoOf, withExitCode } from '../core/errors.js';
import { writeFileAtomic } from '../core/atomic-file.js';
import { FileLock, type Flock } from '../core/file-lock.js';
import { privateDir, secureRoot } from '../core/state-perms.js';
import { randomHex } from '../runtime/ids.js';
import type { ImageConfig } from '../spec/image-change.js';
import { formatImageRef, parseImageRef, tagKey } from '../spec/image-ref.js';
import { parseImageConfig, type ParsedImageConfig } from './image-config.js';
import { chainIds } from './layer-ids.js';
import type { IngestResult, LayerSource } from './unpack.js';

/** What `run` takes from an image, in docker's field names. */
export type RunConfig = ParsedImageConfig['config'];

export interface ImageRecord {
  /** The config blob's sha256 hex: docker's IMAGE ID. */
  id: string;
  /** When this store got it (ms); CREATED is the config's own `created`. */
  stored: number;
  /** The file, directory or reference it came from. */
  source: string;
  /** Chain ids, hex, bottom layer first. */
  layers: string[];
  /** name@sha256:... of the manifests it was pulled or loaded by (issue #16 fills these). */
  repoDigests?: string[];
  /** The id it had in the flat store before this one (images of older minidock versions). */
  legacyId?: string;
  /** Each layer's short name, bottom first: `run` reads the record alone, not one layer.json
   *  per layer (121 layers: 8 ms). */
  links?: string[];
}

export interface LayerRecord {
  chainId: string;
  diffId: string;
  /** The chain id of the layer below, or none for a base layer. */
  parent?: string;
  /** The short name under layers/l/. */
  link: string;
  /** What its files hold (docker's SIZE): the sum of the regular files' sizes. */
  size: number;
  /** The uncompressed tar's length: what `save` writes for it in a docker-archive. */
  tarSize?: number;
  blob: { digest: string; size: number; mediaType: string };
}

export interface StoredImage extends ImageRecord {
  config: ParsedImageConfig;
  /** The config blob's bytes, as stored (save writes them unchanged). */
  configText: string;
  tags: string[];
  size: number;
}

/** What a container is made from: a stored image's layers, or a directory used in place. */
export interface ResolvedImage {
  ref: string;
  id?: string;
  /** A directory used in place: the container's one lower layer. */
  rootfs?: string;
  /** A stored image: its layers, top first, as overlay's relative lowerdirs in `root`, with
   *  each layer's chain id and directory. */
  layers?: { root: string; links: string[]; chainIds: string[]; dirs: string[] };
  config: RunConfig;
}

export const LAYER_MEDIA_TYPES = {
  none: 'application/vnd.oci.image.layer.v1.tar',
  gzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  zstd: 'application/vnd.oci.image.layer.v1.tar+zstd',
} as const;

const sha256 = (text: string | Buffer): string => cryptoLib().createHash('sha256').update(text).digest('hex');
const hexOf = (digest: string): string => digest.replace(/^sha256:/, '');
const HEX64 = /^[0-9a-f]{64}$/;

/** A short layer name: 20 characters of [a-z0-9] (docker's are 26). Random, made exclusive by
 *  the symlink's creation. */
function shortName(): string {
  const bytes = cryptoLib().randomBytes(20);
  const abc = 'abcdefghijklmnopqrstuvwxyz0123456789';
  return [...bytes].map((b) => abc[b % abc.length]).join('');
}

export class ImageStore {
  readonly dir: string;
  readonly blobs: string;
  readonly layersDir: string;
  readonly links: string;
  readonly records: string;
  private migrated = false;
  /** This process's note of the layers it has landed but no image names yet (see gc). */
  private intent?: { file: string; chains: string[] };

  constructor(readonly root: string, private readonly flock?: Flock) {
    this.dir = join(root, 'images');
    this.blobs = join(this.dir, 'blobs', 'sha256');
    this.layersDir = join(this.dir, 'layers');
    this.links = join(this.layersDir, 'l');
    this.records = join(this.dir, 'image');
  }

  // ---- reading -------------------------------------------------------------------------

  private repoFile(): string {
    return join(this.dir, 'repositories.json');
  }

  tags(): Record<string, string> {
    try {
      return JSON.parse(readFileSync(this.repoFile(), 'utf8')) as Record<string, string>;
    } catch (err) {
      if (errnoOf(err) === 'ENOENT') return {};
      throw new MinidockError(`the image index ${this.repoFile()} is unreadable`, { step: 'image.index', cause: err, hint: 'fix or delete that file' });
    }
  }

  blobPath(digest: string): string {
    return join(this.blobs, hexOf(digest));
  }

  hasBlob(digest: string): boolean {
    return existsSync(this.blobPath(digest));
  }

  record(id: string): ImageRecord | undefined {
    try {
      return JSON.parse(readFileSync(join(this.records, `${id}.json`), 'utf8')) as ImageRecord;
    } catch (err) {
      if (errnoOf(err) === 'ENOENT') return undefined;
      throw err;
    }
  }

  layer(chainHex: string): LayerRecord | undefined {
    try {
      return JSON.parse(readFileSync(join(this.layersDir, chainHex, 'layer.json'), 'utf8')) as LayerRecord;
    } catch (err) {
      if (errnoOf(err) === 'ENOENT' || errnoOf(err) === 'ENOTDIR') return undefined;
      throw err;
    }
  }

  layerDir(chainHex: string): string {
    return join(this.layersDir, chainHex, 'diff');
  }

  image(id: string): StoredImage | undefined {
    const rec = this.record(id);
    if (!rec) return undefined;
    const configText = readFileSync(this.blobPath(id), 'utf8');
    const tags = this.tags();
    const size = rec.layers.reduce((n, c) => n + (this.layer(c)?.size ?? 0), 0);
    return { ...rec, config: parseImageConfig(configText), configText, tags: Object.keys(tags).filter((t) => tags[t] === id), size };
  }

  ids(): string[] {
    this.migrate();
    try {
      return readdirSync(this.records).filter((n) => /^[0-9a-f]{64}\.json$/.test(n)).map((n) => n.slice(0, 64));
    } catch (err) {
      if (errnoOf(err) === 'ENOENT') return [];
      throw err;
    }
  }

  list(): StoredImage[] {
    return this.ids().flatMap((id) => {
      const img = this.image(id);
      return img ? [img] : [];
    });
  }

  /** An image's layers as `run --explain` and `image inspect` show them, top first: the short
   *  name overlay is given, the diff id, the size, where it is, and the history step that made it. */
  layerStack(id: string): Array<{ link: string; diffId: string; size: number; dir: string; createdBy?: string }> {
    const img = this.image(id);
    if (!img) return [];
    const steps = img.config.history.filter((h) => !h.emptyLayer);
    return img.layers.map((c, i) => {
      const l = this.layer(c);
      const by = steps.length === img.layers.length ? steps[i]!.createdBy : undefined;
      return { link: `l/${l?.link ?? '?'}`, diffId: l?.diffId ?? '?', size: l?.size ?? 0, dir: this.layerDir(c), ...(by ? { createdBy: by } : {}) };
    }).reverse();
  }

  /** An image id for IMAGE as typed: NAME[:TAG], an id or a unique id prefix (sha256: or not). */
  lookup(ref: string): string | undefined {
    this.migrate();
    const key = tagKey(ref);
    const tagged = key ? this.tags()[key] : undefined;
    if (tagged) return tagged;
    if (!/^(sha256:)?[0-9a-f]{4,64}$/.test(ref)) return undefined;
    const prefix = hexOf(ref);
    const hits = this.ids().filter((id) => id.startsWith(prefix));
    return hits.length === 1 ? hits[0] : undefined;
  }

  /** IMAGE as typed on the command line: a name[:tag] or an image id prefix, or (`asPath`, the
   *  caller's decision) a directory or a tarball. */
  async resolve(ref: string, asPath: boolean): Promise<ResolvedImage> {
    if (asPath) return this.resolvePath(ref);
    const id = this.lookup(ref);
    if (!id) {
      throw new MinidockError(`image "${ref}" not found`, {
        step: 'image.resolve',
        hint: 'minidock images lists what is there; minidock load or import adds one',
      });
    }
    return this.resolved(ref, id);
  }

  private resolved(ref: string, id: string): ResolvedImage {
    const rec = this.record(id);
    if (!rec) throw new MinidockError(`image ${id.slice(0, 12)} has no record in ${this.records}`, { step: 'image.resolve', hint: 'minidock rmi it and load it again' });
    const config = parseImageConfig(readFileSync(this.blobPath(id), 'utf8'));
    const top = [...rec.layers].reverse();
    const cached = rec.links && rec.links.length === rec.layers.length ? [...rec.links].reverse() : undefined;
    const links = top.map((c, i) => {
      const link = cached?.[i] ?? this.layer(c)?.link;
      if (!link) throw new MinidockError(`image ${id.slice(0, 12)} lacks its layer ${c.slice(0, 12)}`, { step: 'image.resolve', hint: 'minidock rmi it and load it again' });
      return `l/${link}`;
    });
    return { ref, id, layers: { root: this.layersDir, links, chainIds: top, dirs: top.map((c) => this.layerDir(c)) }, config: config.config };
  }

  private async resolvePath(ref: string): Promise<ResolvedImage> {
    const path = resolvePath(ref);
    let st;
    try {
      st = statSync(path);
    } catch {
      throw new MinidockError(`image "${ref}" not found: no such file or directory`, { step: 'image.resolve', hint: 'minidock images lists stored images' });
    }
    if (st.isDirectory()) {
      const real = realpathSync(path);
      refuseHostDirs(real, this.root);
      return { ref, rootfs: real, config: {} };
    }
    if (!st.isFile()) throw new MinidockError(`image "${ref}" must be a regular file or a directory`, { step: 'image.resolve' });
    // A tarball as run's IMAGE is imported first; its failure is run's, exit 125 (docker's code
    // for "the container could not be made"), where `import` alone exits 1.
    const rec = await this.importTarball(path, {}).catch((err) => {
      throw withExitCode(err, EXIT.RUNTIME);
    });
    return this.resolved(ref, rec.id);
  }

  // ---- writing -------------------------------------------------------------------------

  /** Makes the store's directories (root's alone) and the scratch directory on the same
   *  filesystem, so every landing is one rename. */
  prepare(): void {
    secureRoot(this.root);
    privateDir(join(this.root, 'tmp'));
    // images/ is root's alone, never the remapped root's gate: stored layers keep host-root-owned
    // setuid binaries (containers see them through an idmapped mount made by root).
    privateDir(this.dir);
    for (const d of [join(this.dir, 'blobs'), this.blobs, this.layersDir, this.links, this.records, join(this.dir, 'locks')]) privateDir(d);
  }

  /** A fresh scratch name under $ROOT/tmp: `<kind>-<hex>-<pid>-<rand>`, which gc recognises. */
  scratch(kind: 'blob' | 'layer' | 'load' | 'save', hint = ''): string {
    return join(this.root, 'tmp', `${kind}-${(hint.replace(/[^0-9a-f]/g, '') || '0').slice(0, 12)}-${process.pid}-${randomHex(4)}`);
  }

  private lock(name: string): FileLock {
    return new FileLock(join(this.dir, 'locks', name), this.flock);
  }

  /** A blob from a scratch file, after its digest is checked: renamed into place. */
  landBlob(tmp: string, digest: string): void {
    const dst = this.blobPath(digest);
    if (existsSync(dst)) {
      rmSync(tmp, { force: true });
      return;
    }
    chmodSync(tmp, 0o600);
    renameSync(tmp, dst);
  }

  /** A small blob (a config, a manifest) by content. */
  putBlob(bytes: string | Buffer): string {
    const digest = `sha256:${sha256(bytes)}`;
    if (this.hasBlob(digest)) return digest;
    const tmp = this.scratch('blob', hexOf(digest));
    writeFileSync(tmp, bytes, { mode: 0o600, flag: 'wx' });
    this.landBlob(tmp, digest);
    return digest;
  }

  /**
   * The layer `chainHex` (with `expect.diffId`, when known) from `src`: unpacked under the
   * layer's lock unless it is there already. The blob is kept, verified against `expect.blob`
   * (the digest an archive states); the diff id against the config's. Returns the layer.
   *
   * `src` may be a function that opens the bytes (a download): it is called under the lock and
   * only if the layer is still missing, so two pulls sharing a layer fetch it once; `waiting` is
   * told when another process holds that lock.
   */
  async addLayer(src: LayerSource | (() => Promise<LayerSource>), o: {
    parent?: string; diffId?: string; blobDigest?: string; haveZstd?: boolean; waiting?: () => void; mark: (root: string, rel: string, kind: 'whiteout' | 'opaque') => void;
  }): Promise<LayerRecord> {
    this.prepare();
    const known = o.diffId ? this.chainOf(o.parent, o.diffId) : undefined;
    if (known) this.claim(known);
    const work = async (): Promise<LayerRecord> => {
      if (known) {
        const had = this.layer(known);
        if (had) return had;
      }
      const staging = this.scratch('layer', known ?? o.blobDigest ?? '');
      mkdirSync(staging, { mode: 0o700 });
      const diff = join(staging, 'diff');
      mkdirSync(diff, { mode: 0o755 });
      const blobTmp = this.scratch('blob', o.blobDigest ?? '');
      try {
        const { ingestLayer } = await import('./unpack.js');
        const from = typeof src === 'function' ? await src() : src;
        const r = await ingestLayer(from, diff, { mark: o.mark, blobCopy: blobTmp, ...(o.haveZstd ? { haveZstd: true } : {}), ...(o.blobDigest ? { expectBlob: o.blobDigest } : {}) });
        verify(from.label, r, o);
        const chain = known ?? this.chainOf(o.parent, r.diffId);
        if (!known) this.claim(chain);
        const had = this.layer(chain);
        if (had) return had; // unpacked by another load while this one (diff id unknown) ran
        this.landBlob(blobTmp, r.blobDigest);
        return this.landLayer(staging, chain, r, o.parent);
      } finally {
        rmSync(staging, { recursive: true, force: true });
        rmSync(blobTmp, { force: true });
      }
    };
    return known ? this.lock(known).runAsync(work, o.waiting) : work();
  }

  /** The chain id (hex) of a layer with diff id `diffId` over the chain `parent` (image-spec). */
  private chainOf(parent: string | undefined, diffId: string): string {
    const ids = chainIds(parent ? [`sha256:${parent}`, diffId] : [diffId], sha256);
    return hexOf(ids[ids.length - 1]!);
  }

  /** Notes `chain` as this process's until its image record is written: gc leaves the layers
   *  that a live process's note names (the note's name carries the pid). */
  private claim(chain: string): void {
    this.intent ??= { file: join(this.root, 'tmp', `intent-0-${process.pid}-${randomHex(4)}`), chains: [] };
    this.intent.chains.push(chain);
    writeFileAtomic(this.intent.file, this.intent.chains.join('\n') + '\n');
  }

  /** The image records are written: this process's note goes. */
  release(): void {
    if (this.intent) rmSync(this.intent.file, { force: true });
    this.intent = undefined;
  }

  /** A load or import failed: the layers it landed that no image names go now (its undo), and
   *  its note with them. Nothing half-stored is left for gc. */
  abandon(): void {
    if (!this.intent) return;
    const used = new Set(this.ids().flatMap((id) => this.record(id)?.layers ?? []));
    // Top first: a layer is only removed after the ones stacked on it.
    for (const c of [...this.intent.chains].reverse()) if (!used.has(c) && this.layer(c)) this.deleteLayer(c);
    this.release();
  }

  /** The layers named by live processes' notes (for gc). */
  claimed(alive: (pid: number) => boolean): Set<string> {
    const out = new Set<string>();
    const tmp = join(this.root, 'tmp');
    for (const f of existsSync(tmp) ? readdirSync(tmp) : []) {
      const m = /^intent-0-(\d+)-[0-9a-f]+$/.exec(f);
      if (!m || !alive(Number(m[1]))) continue;
      try {
        for (const c of readFileSync(join(tmp, f), 'utf8').split('\n')) if (c) out.add(c);
      } catch { /* gone meanwhile */ }
    }
    return out;
  }

  /** The staged layer into layers/<chain>: its short link first (a dangling link is what a
   *  killed landing leaves, and gc removes it), then one rename. */
  private landLayer(staging: string, chain: string, r: IngestResult, parent: string | undefined): LayerRecord {
    let link = shortName();
    for (;;) {
      try {
        symlinkSync(`../${chain}/diff`, join(this.links, link));
        break;
      } catch (err) {
        if (errnoOf(err) !== 'EEXIST') throw err;
        link = shortName();
      }
    }
    // The layer's / is root's and 0755, whatever the tar's "./" entry said: a 0777 top
    // directory would let any process that reaches it replace /bin/sh.
    const diff = join(staging, 'diff');
    chownSync(diff, 0, 0);
    chmodSync(diff, 0o755);
    const mediaType = r.compression === 'gzip' ? LAYER_MEDIA_TYPES.gzip : r.compression === 'zstd' ? LAYER_MEDIA_TYPES.zstd : LAYER_MEDIA_TYPES.none;
    const rec: LayerRecord = { chainId: `sha256:${chain}`, diffId: r.diffId, ...(parent ? { parent } : {}), link, size: r.contentBytes, tarSize: r.bytes, blob: { digest: r.blobDigest, size: r.blobSize, mediaType } };
    writeFileAtomic(join(staging, 'layer.json'), JSON.stringify(rec, null, 2) + '\n');
    try {
      renameSync(staging, join(this.layersDir, chain));
    } catch (err) {
      unlinkSync(join(this.links, link));
      const had = this.layer(chain);
      if (had) return had; // landed by a concurrent import of the same content
      throw err;
    }
    return rec;
  }

  /** An image from its config blob's bytes and its landed layers: the record is written last,
   *  then the tags. Returns the image id. */
  addImage(configText: string, layers: readonly LayerRecord[], source: string, tags: readonly string[], extra: Partial<ImageRecord> = {}): string {
    // An image stored already (a repeated pull) writes nothing: the directories are not even
    // looked at then (prepare is a dozen calls), and tag() has its own no-op check.
    const known = `sha256:${sha256(configText)}`;
    if (!this.hasBlob(known) || !this.record(hexOf(known))) this.prepare();
    const id = hexOf(this.putBlob(configText));
    if (!this.record(id)) {
      const rec: ImageRecord = { id, stored: Date.now(), source, layers: layers.map((l) => hexOf(l.chainId)), links: layers.map((l) => l.link), ...extra };
      writeFileAtomic(join(this.records, `${id}.json`), JSON.stringify(rec, null, 2) + '\n');
    }
    for (const t of tags) this.tag(t, id);
    this.release();
    return id;
  }

  /** A pull records the manifest it came by (name@sha256:..., docker's RepoDigests). */
  addRepoDigest(id: string, repoDigest: string): void {
    // A repeated pull: nothing to write, so no lock either (records are replaced by rename, so
    // this read sees a whole one; a writer racing with it is ordered after this no-op).
    if (this.record(id)?.repoDigests?.includes(repoDigest)) return;
    this.lock('repositories').run(() => {
      const rec = this.record(id);
      if (!rec) return;
      const repo = repoDigest.split('@')[0];
      // One digest per repository: the newest pull's, as docker keeps it.
      if (rec.repoDigests?.includes(repoDigest)) return; // a repeated pull: nothing to write
      const others = (rec.repoDigests ?? []).filter((d) => d.split('@')[0] !== repo);
      writeFileAtomic(join(this.records, `${id}.json`), JSON.stringify({ ...rec, repoDigests: [...others, repoDigest] }, null, 2) + '\n');
    });
  }

  /** docker's `tag`: NAME[:TAG] now names `id` (whatever it named before). */
  tag(tag: string, id: string): void {
    const key = formatImageRef(parseImageRef(tag));
    // Already so (a repeated pull): no lock, no write; the index is replaced by rename, so this
    // read sees a whole one, and a writer racing with it is ordered after this no-op.
    if (this.tags()[key] === id) return;
    this.prepare();
    this.lock('repositories').run(() => {
      const tags = this.tags();
      if (tags[key] === id) return; // already so (a repeated pull): the file stays as it is
      tags[key] = id;
      writeFileAtomic(this.repoFile(), JSON.stringify(tags, null, 2) + '\n');
    });
  }

  private untag(keys: readonly string[]): void {
    this.lock('repositories').run(() => {
      const tags = this.tags();
      for (const k of keys) delete tags[k];
      writeFileAtomic(this.repoFile(), JSON.stringify(tags, null, 2) + '\n');
    });
  }

  /** `minidock import`: a root filesystem tarball or directory as a one-layer image, with
   *  `--change` config (docker import's config: architecture, os, the changes, one history). */
  async import(source: string, ref: string | undefined, config: ImageConfig, o: { message?: string } = {}): Promise<string> {
    if (source === '-') {
      // docker import - : the tarball on stdin, spooled to a scratch file (tar needs a file
      // twice: for its digest while unpacking, and as the blob kept).
      this.prepare();
      const spool = this.scratch('load');
      try {
        await streamPromises().pipeline(process.stdin, createWriteStream(spool, { flags: 'wx', mode: 0o600 }));
        const rec = await this.importTarball(spool, config, { ...o, source: 'stdin' });
        if (ref !== undefined) this.tag(formatImageRef(parseImageRef(ref)), rec.id);
        return rec.id;
      } finally {
        rmSync(spool, { force: true });
      }
    }
    const path = resolvePath(source);
    let st;
    try {
      st = lstatSync(path);
    } catch {
      throw new MinidockError(`cannot import ${source}: no such file or directory`, { step: 'image.import' });
    }
    if (!st.isDirectory() && !st.isFile()) throw new MinidockError(`cannot import ${source}: it must be a regular file or a directory`, { step: 'image.import' });
    const tags = ref === undefined ? [] : [formatImageRef(parseImageRef(ref))];
    const rec = st.isDirectory() ? await this.importDirectory(realpathSync(path), config, o) : await this.importTarball(path, config, o);
    for (const t of tags) this.tag(t, rec.id);
    return rec.id;
  }

  private async importTarball(path: string, config: ImageConfig, o: { message?: string; created?: string; source?: string } = {}): Promise<ImageRecord> {
    const { native } = await import('../native/binding.js');
    const layer = await this.addLayer({ file: path, offset: 0, size: statSync(path).size, label: path }, { mark: native().layerMark }).catch((err) => {
      this.abandon();
      throw this.importFailure(path, err);
    });
    const created = o.created ?? new Date().toISOString();
    const { hostPlatform } = await import('./archive.js');
    const p = hostPlatform();
    const cfg = {
      architecture: p.architecture, ...(p.variant ? { variant: p.variant } : {}), os: p.os, created,
      config: config as Record<string, unknown>,
      rootfs: { type: 'layers', diff_ids: [layer.diffId] },
      history: [{ created, created_by: `minidock import ${o.source ?? path}`, ...(o.message ? { comment: o.message } : {}) }],
    };
    const id = this.addImage(JSON.stringify(cfg), [layer], o.source ?? path, []);
    return this.record(id)!;
  }

  private async importDirectory(path: string, config: ImageConfig, o: { message?: string }): Promise<ImageRecord> {
    refuseHostDirs(path, this.root);
    this.prepare();
    // One way in: the directory becomes a layer tar first (the blob `save` hands out), then is
    // unpacked as any layer is. Device nodes stay behind as they do for a tarball.
    const tar = this.scratch('blob');
    try {
      // tar writes to a pipe and Node to the file: a full disk is then ENOSPC, named as such
      // (tar itself says only "Wrote only 8192 of 10240 bytes").
      const p = childProcess().spawn('tar', ['-c', '-f', '-', '--numeric-owner', '--sort=name', '-C', path, '.'], { stdio: ['ignore', 'pipe', 'pipe'] });
      let stderr = '';
      p.stderr!.on('data', (d) => (stderr += d));
      const exit = new Promise<number>((resolve) => p.on('close', (c) => resolve(c ?? 1)));
      await streamPromises().pipeline(p.stdout!, createWriteStream(tar, { flags: 'wx', mode: 0o600 })).catch((err) => {
        p.kill('SIGKILL');
        throw err;
      });
      if ((await exit) !== 0) throw new MinidockError(`tar failed: ${stderr.trim().split('\n').slice(-3).join('; ')}`, { step: 'image.import.tar', exitCode: 1 });
      return await this.importTarball(tar, config, o);
    } catch (err) {
      throw this.importFailure(path, err);
    } finally {
      rmSync(tar, { force: true });
    }
  }

  /** A full disk reads as one line naming the filesystem to free, whichever step hit it. */
  importFailure(source: string, err: unknown): unknown {
    const text = err instanceof Error ? err.message : String(err);
    if (errnoOf(err) !== 'ENOSPC' && errnoOf(err) !== 'EDQUOT' && !/no space left on device|disk quota exceeded/i.test(text)) return err;
    return new MinidockError(`cannot import ${source}: no space left on device under ${this.root}`, {
      step: 'image.import',
      errno: 'ENOSPC',
      hint: 'free space there, or set MINIDOCK_ROOT to a larger filesystem',
      cause: err,
      exitCode: 1,
    });
  }

  // ---- removing ------------------------------------------------------------------------

  /**
   * `minidock rmi`: untags REF (a NAME[:TAG]) or, for an id, every tag of it; deletes the image
   * once no tag names it (`force`: an id with several tags is deleted outright), and then each
   * of its layers that no other image uses. Refused while a container uses it, even with force
   * for a running one (`inUse` says which container, and whether it runs).
   */
  remove(ref: string, inUse: (id: string, legacyId?: string) => { id: string; running: boolean } | undefined, force = false): { untagged: string[]; deleted: string[] } {
    const id = this.lookup(ref);
    if (!id) throw new MinidockError(`no such image: ${ref}`, { step: 'image.remove', hint: 'minidock images lists them', exitCode: 1 });
    const tags = this.tags();
    const key = tagKey(ref);
    const all = Object.keys(tags).filter((t) => tags[t] === id);
    const byTag = key !== undefined && tags[key] === id;
    if (!byTag && all.length > 1 && !force) {
      throw new MinidockError(`unable to delete ${id.slice(0, 12)} (must be forced) - image is referenced in multiple repositories`, { step: 'image.remove', hint: 'remove it by NAME:TAG, or with -f', exitCode: 1 });
    }
    const untagged = byTag ? [key!] : all;
    const remaining = all.filter((t) => !untagged.includes(t));
    if (remaining.length === 0) {
      const user = inUse(id, this.record(id)?.legacyId);
      if (user && (user.running || !force)) {
        throw new MinidockError(`unable to remove image ${ref}: container ${user.id.slice(0, 12)} is ${user.running ? 'running from' : 'using'} it`, {
          step: 'image.remove',
          hint: user.running ? 'stop and remove that container first' : 'remove that container first (minidock rm), or use -f',
          exitCode: 1,
        });
      }
      // docker with -f and a stopped user: the tags go, the image stays (dangling) for it.
      if (user) {
        this.untag(untagged);
        return { untagged, deleted: [] };
      }
    }
    if (untagged.length) this.untag(untagged);
    if (remaining.length > 0) return { untagged, deleted: [] };
    return { untagged, deleted: this.deleteImage(id) };
  }

  /** The image record, its config, and the layers no other image needs: what docker's
   *  "Deleted:" lines name (the image id, then each layer's chain id). */
  deleteImage(id: string): string[] {
    const rec = this.record(id);
    if (!rec) return [];
    const others = new Set(this.ids().filter((o) => o !== id).flatMap((o) => this.record(o)?.layers ?? []));
    rmSync(join(this.records, `${id}.json`), { force: true });
    const deleted = [`sha256:${id}`];
    for (const c of [...rec.layers].reverse()) {
      if (others.has(c)) continue;
      this.deleteLayer(c);
      deleted.push(`sha256:${c}`);
    }
    // The config blob stays while another record names it (never: ids are config digests).
    rmSync(this.blobPath(id), { force: true });
    if (rec.legacyId) rmSync(join(this.dir, rec.legacyId), { recursive: true, force: true });
    return deleted;
  }

  /** A layer, its short link, its blob (unless another layer came from the same bytes) and its
   *  shifted copies. The directory is renamed away first: a half-deleted layer is never seen. */
  deleteLayer(chainHex: string): void {
    const rec = this.layer(chainHex);
    const gone = this.scratch('layer', chainHex);
    try {
      renameSync(join(this.layersDir, chainHex), gone);
    } catch (err) {
      if (errnoOf(err) !== 'ENOENT') throw err;
    }
    if (rec) {
      rmSync(join(this.links, rec.link), { force: true });
      const sharedBlob = readdirSync(this.layersDir).some((c) => c !== 'l' && this.layer(c)?.blob.digest === rec.blob.digest);
      if (!sharedBlob) rmSync(this.blobPath(rec.blob.digest), { force: true });
    }
    const shifted = join(this.root, 'shifted');
    if (existsSync(shifted)) {
      for (const m of readdirSync(shifted)) {
        rmSync(join(shifted, m, chainHex), { recursive: true, force: true });
        if (rec) rmSync(join(shifted, m, 'l', rec.link), { force: true });
      }
    }
    rmSync(gone, { recursive: true, force: true });
  }

  /**
   * What a killed load or import left, and what nothing uses: layers no image record names
   * (unless a live load is landing them: `busy`), short links to no layer, blobs no layer or
   * image names. Returns how many entries went.
   */
  gc(busy: ReadonlySet<string>): number {
    if (!existsSync(this.layersDir)) return 0;
    let n = 0;
    const used = new Set(this.ids().flatMap((id) => this.record(id)?.layers ?? []));
    for (const c of readdirSync(this.layersDir)) {
      if (!HEX64.test(c) || used.has(c) || busy.has(c)) continue;
      this.deleteLayer(c);
      n++;
    }
    for (const l of existsSync(this.links) ? readdirSync(this.links) : []) {
      const target = join(this.links, l);
      if (!existsSync(target)) {
        rmSync(target, { force: true });
        n++;
      }
    }
    const blobs = new Set<string>([...this.ids()]);
    for (const c of readdirSync(this.layersDir)) {
      const r = HEX64.test(c) ? this.layer(c) : undefined;
      if (r) blobs.add(hexOf(r.blob.digest));
    }
    for (const b of existsSync(this.blobs) ? readdirSync(this.blobs) : []) {
      if (!blobs.has(b) && !busy.has(b)) {
        rmSync(join(this.blobs, b), { force: true });
        n++;
      }
    }
    return n;
  }

  // ---- the flat store of older versions -------------------------------------------------

  /**
   * Images of the flat store (images/<id>/rootfs and image.json, before layers) become one-layer
   * images, once: the rootfs is tarred for its diff id and blob, then moved (one rename) into
   * the layer store; the old directory keeps a symlink to it, so a stopped container whose
   * record names the old rootfs still starts. Tags move to the new id.
   */
  migrate(): void {
    if (this.migrated) return;
    this.migrated = true;
    let names: string[];
    try {
      names = readdirSync(this.dir).filter((n) => HEX64.test(n) && existsSync(join(this.dir, n, 'image.json')));
    } catch {
      return;
    }
    for (const old of names) this.migrateOne(old);
  }

  private migrateOne(old: string): void {
    const dir = join(this.dir, old);
    const meta = JSON.parse(readFileSync(join(dir, 'image.json'), 'utf8')) as { created?: number; source?: string; config?: ImageConfig };
    const rootfs = join(dir, 'rootfs');
    if (lstatSync(rootfs).isSymbolicLink()) return;
    this.prepare();
    const tar = this.scratch('blob', old);
    const r = childProcess().spawnSync('tar', ['-c', '-f', tar, '--numeric-owner', '--sort=name', '-C', rootfs, '.'], { encoding: 'utf8' });
    if (r.status !== 0) {
      rmSync(tar, { force: true });
      throw new MinidockError(`cannot migrate image ${old.slice(0, 12)} to the layered store: tar failed: ${(r.stderr || '').trim().split('\n').pop()}`, { step: 'image.migrate' });
    }
    const diffId = `sha256:${sha256File(tar)}`;
    const chain = hexOf(diffId);
    if (!this.layer(chain)) {
      const staging = this.scratch('layer', chain);
      mkdirSync(staging, { mode: 0o700 });
      renameSync(rootfs, join(staging, 'diff'));
      this.landBlob(tar, diffId);
      const size = statSync(this.blobPath(diffId)).size;
      const content = Number(childProcess().spawnSync('du', ['-sb', '--apparent-size', join(staging, 'diff')], { encoding: 'utf8' }).stdout.split('\t')[0]) || size;
      this.landLayer(staging, chain, { blobDigest: diffId, blobSize: size, diffId, compression: 'none', bytes: size, contentBytes: content, entries: 0, whiteouts: 0, opaque: 0 }, undefined);
    } else {
      rmSync(tar, { force: true });
      rmSync(rootfs, { recursive: true, force: true });
    }
    symlinkSync(this.layerDir(chain), rootfs);
    const created = new Date(meta.created ?? Date.now()).toISOString();
    const p = { architecture: process.arch === 'x64' ? 'amd64' : process.arch, os: 'linux' };
    const cfg = { ...p, created, config: meta.config ?? {}, rootfs: { type: 'layers', diff_ids: [diffId] }, history: [{ created, created_by: `minidock import ${meta.source ?? ''}`.trim() }] };
    const id = this.addImage(JSON.stringify(cfg), [this.layer(chain)!], meta.source ?? '', [], { legacyId: old });
    const tags = this.tags();
    for (const [t, v] of Object.entries(tags)) if (v === old) this.tag(t, id);
    renameSync(join(dir, 'image.json'), join(dir, 'migrated.json'));
  }
}

function sha256File(path: string): string {
  const h = cryptoLib().createHash('sha256');
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.alloc(1 << 20);
    for (;;) {
      const n = readSync(fd, buf, 0, buf.length, null);
      if (n <= 0) break;
      h.update(buf.subarray(0, n));
    }
  } finally {
    closeSync(fd);
  }
  return h.digest('hex');
}


/** The digests a layer must have: the archive's stated blob digest, the config's diff id. */
function verify(label: string, r: IngestResult, o: { diffId?: string; blobDigest?: string }): void {
  if (o.blobDigest && r.blobDigest !== o.blobDigest) {
    throw new MinidockError(`${label} does not match its digest: it is ${r.blobDigest}, the manifest says ${o.blobDigest}`, { step: 'image.layer.digest', hint: 'the archive is damaged or was altered; get it again', exitCode: 1 });
  }
  if (o.diffId && r.diffId !== o.diffId) {
    throw new MinidockError(`${label} is not the layer the image config names: its diff id is ${r.diffId}, the config says ${o.diffId}`, { step: 'image.layer.diffid', hint: 'the archive is damaged or was altered; get it again', exitCode: 1 });
  }
}

/** Using the host's root or minidock's own state as a container's root filesystem would hand the
 *  container the host (or other containers): refuse. */
function refuseHostDirs(real: string, root: string): void {
  const forbidden = ['/', '/proc', '/sys', '/dev', '/boot', '/etc', '/usr'];
  let stateRoot = root;
  try { stateRoot = realpathSync(root); } catch { /* not created yet */ }
  if (forbidden.includes(real) || real === stateRoot || stateRoot.startsWith(real + '/') || real.startsWith(stateRoot + '/')) {
    throw new MinidockError(`refusing to use ${real} as a root filesystem: it is the host's or minidock's own`, {
      step: 'image.resolve',
      hint: 'import a root filesystem tarball or directory of its own',
    });
  }
}

