// What an image archive holds, read from its index files before any layer is touched (issue
// #15): a docker-archive (`docker save`, `podman save`: manifest.json, a config and one tar per
// layer) or an OCI image layout (oci-layout, index.json, blobs/sha256/..., image-spec
// image-layout.md), as a list of images, each a config, its ordered layers and its tags. Pure:
// the caller reads the archive's small JSON files through `read` and says which members exist
// through `has`; nothing here opens a file or unpacks a layer.
//
// A hostile archive gets a one-line error naming what is wrong, before anything is stored:
// member names that climb out (`..`, absolute), a blob the index names but the archive lacks,
// a JSON file larger than any real one (MAX_JSON_BYTES: a "10 GB config"), an index that
// names itself (directly or further down), digests that are not sha256 hex, a media type that
// is no layer, or a zstd layer (named, with the fix).
import { posix } from 'node:path';
import { MinidockError } from '../core/errors.js';

/** The largest manifest, index or config accepted: real ones are a few KiB (docker's own limit
 *  for a manifest is 4 MiB). */
export const MAX_JSON_BYTES = 4 * 1024 * 1024;

/** The image platforms an index may list; the one this host runs is picked. */
export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
}

export type Compression = 'none' | 'gzip' | 'zstd';

export interface ArchiveLayer {
  /** The member holding the layer tar (docker-archive: "abc/layer.tar" or "blobs/sha256/..."). */
  path: string;
  compression: Compression;
  /** The blob's digest, when the archive states it (OCI: the manifest; docker-archive: its
   *  blobs/sha256 layout since docker 25). The layer tar is verified against it. */
  digest?: string;
}

export interface ArchiveImage {
  /** The config member; its sha256 is the image id, as docker computes it. */
  configPath: string;
  configDigest?: string;
  layers: ArchiveLayer[];
  /** docker's NAME:TAG forms, as the archive names them (none: loaded untagged, by id). */
  tags: string[];
}

/** How the caller reads the archive: a member's text (undefined if absent), its size, and
 *  whether a member exists. Member names are archive-relative, "/"-separated. */
export interface ArchiveReader {
  read(member: string): string | undefined;
  size(member: string): number | undefined;
  has(member: string): boolean;
}

const bad = (what: string, hint = 'the archive is damaged or was not written by docker save, podman save or an OCI tool'): MinidockError =>
  new MinidockError(`image archive: ${what}`, { step: 'image.archive', hint, exitCode: 1 });

/** A member name as the archive gives it, made canonical; one that leaves the archive is refused. */
export function memberPath(name: unknown, field: string): string {
  if (typeof name !== 'string' || name === '') throw bad(`${field} is not a file name`);
  if (name.includes('\0')) throw bad(`${field} ${JSON.stringify(name)} holds a NUL byte`);
  const norm = posix.normalize(name.replace(/^\.\//, ''));
  if (posix.isAbsolute(name) || norm === '..' || norm.startsWith('../') || norm === '.') throw bad(`${field} ${JSON.stringify(name)} points outside the archive`);
  return norm;
}

/** "sha256:<64 hex>", checked; other algorithms are refused (every tool writes sha256). */
export function parseDigest(d: unknown, field: string): { algorithm: 'sha256'; hex: string; digest: string } {
  if (typeof d !== 'string') throw bad(`${field} is missing`);
  const m = /^sha256:([0-9a-f]{64})$/.exec(d);
  if (!m) throw bad(`${field} ${JSON.stringify(d.slice(0, 80))} is not a sha256 digest`, 'minidock reads sha256 digests only (as docker does)');
  return { algorithm: 'sha256', hex: m[1]!, digest: d };
}

/** A small JSON member, parsed; absent, oversized or malformed is refused with its name. */
function readJson(r: ArchiveReader, member: string, what: string): unknown {
  const size = r.size(member);
  if (size === undefined || !r.has(member)) throw bad(`${what} ${member} is not in the archive`);
  if (size > MAX_JSON_BYTES) throw bad(`${what} ${member} is ${size} bytes, more than any real one (${MAX_JSON_BYTES})`);
  const text = r.read(member);
  if (text === undefined) throw bad(`${what} ${member} is not in the archive`);
  try {
    return JSON.parse(text);
  } catch {
    throw bad(`${what} ${member} is not JSON`);
  }
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A config is JSON the loader reads whole: one larger than any real one is refused here. */
function checkConfigSize(r: ArchiveReader, member: string, field: string): void {
  const size = r.size(member) ?? 0;
  if (size > MAX_JSON_BYTES) throw bad(`${field} ${member} is ${size} bytes, more than any real one (${MAX_JSON_BYTES})`);
}

/** Which kind of archive this is, by its index files. */
export function archiveKind(r: ArchiveReader): 'oci' | 'docker' {
  // docker >= 25 writes both: an OCI layout whose index.json carries the tags, and the legacy
  // manifest.json. The OCI index is the standard, read first.
  if (r.has('oci-layout') && r.has('index.json')) return 'oci';
  if (r.has('manifest.json')) return 'docker';
  throw bad('it has neither manifest.json (docker save) nor oci-layout and index.json (an OCI image layout)', 'give a file written by docker save, podman save, skopeo copy or an OCI tool');
}

/** A layer's compression by its OCI or docker media type. */
export function layerCompression(mediaType: unknown, field: string): Compression {
  switch (mediaType) {
    case 'application/vnd.oci.image.layer.v1.tar':
    case 'application/vnd.oci.image.layer.nondistributable.v1.tar':
      return 'none';
    case 'application/vnd.oci.image.layer.v1.tar+gzip':
    case 'application/vnd.oci.image.layer.nondistributable.v1.tar+gzip':
    case 'application/vnd.docker.image.rootfs.diff.tar.gzip':
    case 'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip':
      return 'gzip';
    case 'application/vnd.oci.image.layer.v1.tar+zstd':
      return 'zstd';
    default:
      throw bad(`${field} has media type ${JSON.stringify(mediaType)}, which is no image layer`);
  }
}

/** docker-archive: manifest.json's entries, each `{Config, RepoTags, Layers}`. Layer tars are
 *  uncompressed in docker's own archives; podman's and skopeo's may be gzipped, which the
 *  unpacker sees from the bytes (`compression` says "none" here: sniffed at unpack). */
export function parseDockerArchive(r: ArchiveReader): ArchiveImage[] {
  const manifest = readJson(r, 'manifest.json', 'the manifest');
  if (!Array.isArray(manifest) || manifest.length === 0) throw bad('manifest.json lists no image');
  return manifest.map((entry, i) => {
    const f = `manifest.json[${i}]`;
    if (!isObj(entry)) throw bad(`${f} is not an object`);
    const configPath = memberPath(entry.Config, `${f}.Config`);
    if (!r.has(configPath)) throw bad(`${f}.Config names ${configPath}, which is not in the archive`);
    checkConfigSize(r, configPath, `${f}.Config`);
    if (!Array.isArray(entry.Layers)) throw bad(`${f}.Layers is not a list`);
    const layers = entry.Layers.map((l, j): ArchiveLayer => {
      const path = memberPath(l, `${f}.Layers[${j}]`);
      if (!r.has(path)) throw bad(`${f}.Layers[${j}] names ${path}, which is not in the archive`);
      // docker >= 25 stores blobs by digest: the name states it, and the bytes are checked.
      const m = /^blobs\/sha256\/([0-9a-f]{64})$/.exec(path);
      return { path, compression: 'none', ...(m ? { digest: `sha256:${m[1]}` } : {}) };
    });
    const tags = entry.RepoTags === null || entry.RepoTags === undefined ? [] : entry.RepoTags;
    if (!Array.isArray(tags) || tags.some((t) => typeof t !== 'string' || !t)) throw bad(`${f}.RepoTags is not a list of names`);
    const cm = /^(?:blobs\/sha256\/)?([0-9a-f]{64})(?:\.json)?$/.exec(configPath);
    return { configPath, ...(cm ? { configDigest: `sha256:${cm[1]}` } : {}), layers, tags: [...new Set(tags as string[])] };
  });
}

const INDEX_TYPES = new Set(['application/vnd.oci.image.index.v1+json', 'application/vnd.docker.distribution.manifest.list.v2+json']);
const MANIFEST_TYPES = new Set(['application/vnd.oci.image.manifest.v1+json', 'application/vnd.docker.distribution.manifest.v2+json']);

/** The tag an OCI index entry carries: containerd's full name, else the image-spec's
 *  ref.name (a tag alone, or a full reference). */
function tagOf(annotations: unknown): string | undefined {
  if (!isObj(annotations)) return undefined;
  const full = annotations['io.containerd.image.name'];
  if (typeof full === 'string' && full) return full;
  const ref = annotations['org.opencontainers.image.ref.name'];
  return typeof ref === 'string' && ref ? ref : undefined;
}

const blobPath = (digest: string): string => `blobs/sha256/${digest.slice('sha256:'.length)}`;

/**
 * OCI image layout: index.json's manifests, following nested indexes (an image index per
 * multi-platform image) to the manifest for `platform`, each verified to exist. An index that
 * leads back to itself is refused. Tags come from the annotations of the top-level entries.
 */
export function parseOciLayout(r: ArchiveReader, platform: Platform): ArchiveImage[] {
  const layout = readJson(r, 'oci-layout', 'the layout marker');
  if (!isObj(layout) || typeof layout.imageLayoutVersion !== 'string') throw bad('oci-layout has no imageLayoutVersion');
  if (!/^1\./.test(layout.imageLayoutVersion)) throw bad(`oci-layout version ${JSON.stringify(layout.imageLayoutVersion)} is not 1.x`, 'minidock reads image-layout 1.x');
  const index = readJson(r, 'index.json', 'the index');
  if (!isObj(index) || !Array.isArray(index.manifests)) throw bad('index.json has no manifests list');
  if (index.manifests.length === 0) throw bad('index.json lists no image');

  /** A descriptor's blob, checked: digest form, presence, and the size it states. */
  const blob = (d: Record<string, unknown>, field: string): { digest: string; path: string } => {
    const { digest } = parseDigest(d.digest, `${field}.digest`);
    const path = blobPath(digest);
    if (!r.has(path)) throw bad(`${field} names blob ${digest}, which is not in the archive`);
    if (typeof d.size === 'number' && r.size(path) !== d.size) throw bad(`${field} says ${d.size} bytes, but blob ${digest} has ${r.size(path)}`);
    return { digest, path };
  };

  /** The image manifest an entry leads to, through indexes (`seen`: the digests on the way). */
  const resolve = (d: Record<string, unknown>, field: string, seen: readonly string[]): { manifest: Record<string, unknown>; digest: string; field: string } => {
    const { digest, path } = blob(d, field);
    if (seen.includes(digest)) throw bad(`${field} leads back to index ${digest}, which contains it`);
    const doc = readJson(r, path, `${field}'s blob`);
    if (!isObj(doc)) throw bad(`blob ${digest} is not a JSON object`);
    const type = (doc.mediaType ?? d.mediaType) as unknown;
    const isIndex = INDEX_TYPES.has(type as string) || (type === undefined && Array.isArray(doc.manifests));
    if (!isIndex) {
      if (type !== undefined && !MANIFEST_TYPES.has(type as string)) throw bad(`${field} is a ${JSON.stringify(type)}, not an image manifest or index`);
      return { manifest: doc, digest, field };
    }
    if (!Array.isArray(doc.manifests) || !doc.manifests.length) throw bad(`index ${digest} lists no manifest`);
    const entries = doc.manifests.filter(isObj);
    const fits = entries.filter((m) => platformFits(m.platform, platform));
    if (!fits.length) {
      const there = entries.map((m) => platformName(m.platform)).filter((p) => p !== '').join(', ') || 'none stated';
      throw bad(`index ${digest} has no image for ${platformName(platform)} (it has: ${there})`, 'pick an archive built for this platform');
    }
    // The exact variant if one is listed, else the first that fits (containerd's order).
    const best = fits.find((m) => isObj(m.platform) && m.platform.variant === platform.variant) ?? fits[0]!;
    return resolve(best, `${field} > ${(best.digest as string | undefined)?.slice(0, 19) ?? '?'}`, [...seen, digest]);
  };

  const images: ArchiveImage[] = [];
  index.manifests.forEach((entry, i) => {
    const field = `index.json manifests[${i}]`;
    if (!isObj(entry)) throw bad(`${field} is not an object`);
    // A top-level entry for another platform (a layout holding several single-platform
    // images) is skipped, not refused: only when nothing fits is that an error.
    if (entry.platform !== undefined && !platformFits(entry.platform, platform)) return;
    const { manifest, field: at } = resolve(entry, field, []);
    const config = isObj(manifest.config) ? blob(manifest.config, `${at} config`) : undefined;
    if (!config) throw bad(`${at} has no config`);
    checkConfigSize(r, config.path, `${at} config`);
    if (!Array.isArray(manifest.layers)) throw bad(`${at} has no layers list`);
    const layers = manifest.layers.map((l, j): ArchiveLayer => {
      if (!isObj(l)) throw bad(`${at} layers[${j}] is not an object`);
      const compression = layerCompression(l.mediaType, `${at} layers[${j}]`);
      const { digest, path } = blob(l, `${at} layers[${j}]`);
      return { path, compression, digest };
    });
    const tag = tagOf(entry.annotations);
    images.push({ configPath: config.path, configDigest: config.digest, layers, tags: tag ? [tag] : [] });
  });
  if (!images.length) throw bad(`index.json has no image for ${platformName(platform)}`, 'pick an archive built for this platform');
  // One image tagged several times in a layout is one entry per tag there: merged.
  const byConfig = new Map<string, ArchiveImage>();
  for (const img of images) {
    const had = byConfig.get(img.configPath);
    if (had) had.tags = [...new Set([...had.tags, ...img.tags])];
    else byConfig.set(img.configPath, img);
  }
  return [...byConfig.values()];
}

/** "linux/amd64", "linux/arm64/v8": how docker names a platform. */
export function platformName(p: unknown): string {
  if (!isObj(p)) return '';
  return [p.os, p.architecture, p.variant].filter((x) => typeof x === 'string' && x).join('/');
}

/** An index entry's platform against the host's: os and architecture must match; a variant
 *  the entry states must match the one asked for, when one is asked for. No platform: fits. */
export function platformFits(p: unknown, want: Platform): boolean {
  if (p === undefined) return true;
  if (!isObj(p)) return false;
  if (p.os !== want.os || p.architecture !== want.architecture) return false;
  return want.variant === undefined || p.variant === undefined || p.variant === want.variant;
}

/** This host's platform in the image-spec's terms (Node's names differ: x64, ia32). */
export function hostPlatform(arch: string = process.arch): Platform {
  const map: Record<string, Platform> = {
    x64: { os: 'linux', architecture: 'amd64' },
    arm64: { os: 'linux', architecture: 'arm64', variant: 'v8' },
    arm: { os: 'linux', architecture: 'arm', variant: 'v7' },
    ia32: { os: 'linux', architecture: '386' },
    ppc64: { os: 'linux', architecture: 'ppc64le' },
    s390x: { os: 'linux', architecture: 's390x' },
    riscv64: { os: 'linux', architecture: 'riscv64' },
  };
  return map[arch] ?? { os: 'linux', architecture: arch };
}

/** A zstd layer cannot be unpacked without zstd(1): refused before anything is stored. */
export function checkCompression(images: readonly ArchiveImage[], haveZstd: boolean): void {
  for (const img of images) {
    const z = img.layers.find((l) => l.compression === 'zstd');
    if (z && !haveZstd) throw bad(`layer ${z.digest ?? z.path} is zstd-compressed, and this host has no zstd`, 'apt-get install zstd, or save the image with gzip layers');
  }
}

/** --platform OS/ARCH[/VARIANT]. */
export function parsePlatform(p: string): Platform {
  const [os, architecture, variant] = p.split('/');
  if (!os || !architecture) throw new MinidockError(`invalid platform "${p}"`, { step: 'cli.args', hint: 'give OS/ARCH[/VARIANT], e.g. linux/amd64' });
  return { os, architecture, ...(variant ? { variant } : {}) };
}
