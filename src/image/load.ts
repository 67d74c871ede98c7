// `minidock load`: images from a docker-archive or an OCI image layout (a tar, a directory, or
// a stream on stdin) into the layered store (issue #15). Side-effecting.
//
// The archive is read in place: a tar file is indexed by its headers (src/image/tar-index.ts)
// and every member, the JSON files and the layer tars alike, is read at its offset; only a
// compressed archive or stdin is first spooled, decompressed, to a scratch file. Then for each
// image: its config (digest checked when the archive states one), its diff ids, and each layer
// the store lacks, streamed from the archive into the store, digests verified on the way
// (src/image/unpack.ts). The record and the tags come last: a load killed half-way leaves
// scratch files of a dead pid and layers no image names, which `gc` removes.
import { closeSync, createReadStream, createWriteStream, lstatSync, openSync, readSync, rmSync, statSync, type Stats } from 'node:fs';
import { join, posix } from 'node:path';
import { MinidockError } from '../core/errors.js';
import { checkpoint } from '../core/trace.js';
import { childProcess, cryptoLib, streamPromises } from '../core/lazy.js';
import { archiveKind, checkCompression, hostPlatform, parseDockerArchive, parseOciLayout, type ArchiveImage, type ArchiveReader, type Platform } from './archive.js';
import { parseImageConfig } from './image-config.js';
import { chainIds } from './layer-ids.js';
import type { ImageStore, LayerRecord } from './store.js';
import { indexTar, type TarMember } from './tar-index.js';
import { sniffCompression, type ByteRange } from './unpack.js';

/** An archive's members, readable in place. */
export interface ArchiveSource extends ArchiveReader {
  /** Where a member's bytes are. */
  locate(member: string): ByteRange;
  /** Removes a spooled copy, if one was made. */
  close(): void;
}

const bad = (what: string, hint = 'the archive is damaged or was not written by docker save, podman save or an OCI tool'): MinidockError =>
  new MinidockError(`image archive: ${what}`, { step: 'image.archive', hint, exitCode: 1 });

const canonical = (name: string): string => posix.normalize(name.replace(/^\.?\/+/, '')).replace(/\/+$/, '');

function readRange(file: string, offset: number, size: number): Buffer {
  const fd = openSync(file, 'r');
  try {
    const b = Buffer.alloc(size);
    let got = 0;
    while (got < size) {
      const n = readSync(fd, b, got, size - got, offset + got);
      if (n <= 0) break;
      got += n;
    }
    return b.subarray(0, got);
  } finally {
    closeSync(fd);
  }
}

/** A tar archive on disk, by its member table. Links inside it (docker save links a layer that
 *  two images share) are followed to the member they name, never outside the archive. */
export function tarSource(file: string, spooled = false): ArchiveSource {
  const total = statSync(file).size;
  const members = new Map<string, TarMember>();
  for (const m of indexTar((pos, len) => readRange(file, pos, len), total)) members.set(canonical(m.name), m);
  const regular = (name: string): TarMember | undefined => {
    let m = members.get(name);
    for (let hops = 0; m && (m.type === '1' || m.type === '2'); hops++) {
      if (hops > 8) throw bad(`member ${name} is a chain of links`);
      const target = m.type === '1' ? canonical(m.linkname ?? '') : canonical(posix.join(posix.dirname(name), m.linkname ?? ''));
      if (target.startsWith('..') || posix.isAbsolute(m.linkname ?? '') && m.type === '2') throw bad(`member ${name} is a link out of the archive (${m.linkname})`);
      m = members.get(target);
    }
    if (m && m.type !== '0' && m.type !== '7') throw bad(`member ${name} is not a regular file`);
    return m;
  };
  return {
    has: (name) => regular(name) !== undefined,
    size: (name) => regular(name)?.size,
    read: (name) => {
      const m = regular(name);
      return m ? readRange(file, m.offset, m.size).toString('utf8') : undefined;
    },
    locate: (name) => {
      const m = regular(name);
      if (!m) throw bad(`member ${name} is not in the archive`);
      return { file, offset: m.offset, size: m.size, label: `layer ${name}` };
    },
    close: () => {
      if (spooled) rmSync(file, { force: true });
    },
  };
}

/** An OCI layout directory. Its members are files below it: a symlink anywhere on the way is
 *  refused (it could name any file of the host, /etc/shadow as a "blob"). */
export function dirSource(dir: string): ArchiveSource {
  const stat = (name: string): Stats | undefined => {
    const parts = canonical(name).split('/');
    let st: Stats | undefined;
    for (let i = 1; i <= parts.length; i++) {
      try {
        st = lstatSync(join(dir, ...parts.slice(0, i)));
      } catch {
        return undefined;
      }
      if (st.isSymbolicLink()) throw bad(`${name} in ${dir} is a symlink`, 'an OCI layout holds its blobs as regular files; copy it with skopeo or umoci');
    }
    if (st && !st.isFile()) throw bad(`${name} in ${dir} is not a regular file`);
    return st;
  };
  return {
    has: (name) => stat(name) !== undefined,
    size: (name) => stat(name)?.size,
    read: (name) => {
      const st = stat(name);
      return st ? readRange(join(dir, canonical(name)), 0, Number(st.size)).toString('utf8') : undefined;
    },
    locate: (name) => {
      const st = stat(name);
      if (!st) throw bad(`${name} is not in ${dir}`);
      return { file: join(dir, canonical(name)), offset: 0, size: Number(st.size), label: `blob ${name}` };
    },
    close: () => {},
  };
}

/** FILE, DIR or "-" (stdin) as an archive source; compressed archives (docker load takes
 *  `docker save | gzip`) and stdin are spooled, decompressed, to a scratch file first. */
export async function openArchive(input: string, store: ImageStore): Promise<ArchiveSource> {
  if (input !== '-') {
    let st;
    try {
      st = statSync(input);
    } catch {
      throw new MinidockError(`open ${input}: no such file or directory`, { step: 'image.load', exitCode: 1 });
    }
    if (st.isDirectory()) return dirSource(input);
    const fd = openSync(input, 'r');
    const head = Buffer.alloc(8);
    readSync(fd, head, 0, 8, 0);
    closeSync(fd);
    if (sniffCompression(head) === 'none' && !head.subarray(0, 3).equals(Buffer.from('BZh'))) return tarSource(input);
  }
  store.prepare();
  const spool = store.scratch('load');
  try {
    const src = input === '-' ? process.stdin : createReadStream(input);
    const out = createWriteStream(spool, { flags: 'wx', mode: 0o600 });
    // The first bytes decide: gzip, xz, zstd and bzip2 through their tools, a tar as it is.
    const first: Buffer = await new Promise((resolve, reject) => {
      src.once('readable', () => resolve((src.read(8) as Buffer | null) ?? Buffer.alloc(0)));
      src.once('error', reject);
      src.once('end', () => resolve(Buffer.alloc(0)));
    });
    if (first.length === 0) throw bad('the input is empty', input === '-' ? 'pipe an archive in: minidock load < image.tar' : 'give an archive');
    src.unshift(first);
    const kind = sniffCompression(first);
    const tool = kind === 'none' ? (first.subarray(0, 3).equals(Buffer.from('BZh')) ? 'bzip2' : undefined) : kind;
    if (!tool) {
      await streamPromises().pipeline(src, out);
    } else {
      const p = childProcess().spawn(tool, ['-dc'], { stdio: ['pipe', 'pipe', 'pipe'] });
      let err = '';
      p.stderr.on('data', (d) => (err += d));
      const exit = new Promise<number>((resolve) => p.on('close', (c) => resolve(c ?? 1)));
      p.on('error', () => { /* exit says it */ });
      await Promise.all([streamPromises().pipeline(src, p.stdin), streamPromises().pipeline(p.stdout, out)]).catch(() => undefined);
      if ((await exit) !== 0) throw bad(`${tool} could not decompress it: ${err.trim().split('\n').pop() || 'failed'}`, tool === 'zstd' || tool === 'bzip2' ? `apt-get install ${tool}, or give an uncompressed tar` : undefined);
    }
    return tarSource(spool, true);
  } catch (err) {
    rmSync(spool, { force: true });
    throw err;
  }
}

/** docker shows Docker Hub's names in their familiar form: docker.io/library/busybox is busybox. */
export function familiarName(ref: string): string {
  const m = /^(?:docker\.io|index\.docker\.io)\/(.+)$/.exec(ref);
  if (!m) return ref;
  const rest = m[1]!;
  return rest.startsWith('library/') && !rest.slice(8).includes('/') ? rest.slice(8) : rest;
}

export interface Loaded {
  id: string;
  tags: string[];
  layers: number;
  /** Layers that were unpacked now (the rest the store had). */
  unpacked: number;
}

function haveTool(name: string): boolean {
  return childProcess().spawnSync(name, ['--version'], { stdio: 'ignore' }).status === 0;
}

/** Every image of the archive into the store; the tags named there are set (moved, if another
 *  image had them, as docker does). */
export async function loadArchive(store: ImageStore, src: ArchiveSource, o: { source: string; platform?: Platform; mark: (root: string, rel: string, kind: 'whiteout' | 'opaque') => void }): Promise<Loaded[]> {
  const kind = archiveKind(src);
  const images: ArchiveImage[] = kind === 'oci' ? parseOciLayout(src, o.platform ?? hostPlatform()) : parseDockerArchive(src);
  const zstd = images.some((i) => i.layers.some((l) => l.compression === 'zstd')) && haveTool('zstd');
  checkCompression(images, zstd);
  const out: Loaded[] = [];
  try {
    for (const img of images) out.push(await loadOne(store, src, img, zstd, o.source, o.mark));
  } catch (err) {
    store.abandon();
    throw err;
  }
  return out;
}

async function loadOne(store: ImageStore, src: ArchiveSource, img: ArchiveImage, zstd: boolean, source: string, mark: (root: string, rel: string, kind: 'whiteout' | 'opaque') => void): Promise<Loaded> {
  const sha = (t: string): string => cryptoLib().createHash('sha256').update(t).digest('hex');
  {
    const configText = src.read(img.configPath)!;
    const digest = `sha256:${sha(configText)}`;
    if (img.configDigest && img.configDigest !== digest) throw bad(`config ${img.configPath} does not match its digest (it is ${digest})`);
    const config = parseImageConfig(configText);
    if (config.diffIds.length !== img.layers.length) {
      throw bad(`image ${digest.slice(7, 19)} lists ${img.layers.length} layers, but its config names ${config.diffIds.length}`);
    }
    const chains = chainIds(config.diffIds, sha).map((c) => c.slice(7));
    const layers: LayerRecord[] = [];
    let unpacked = 0;
    for (const [i, l] of img.layers.entries()) {
      const had = store.layer(chains[i]!);
      if (had) {
        layers.push(had);
        continue;
      }
      const range = src.locate(l.path);
      layers.push(await store.addLayer(range, { ...(i > 0 ? { parent: chains[i - 1]! } : {}), diffId: config.diffIds[i]!, ...(l.digest ? { blobDigest: l.digest } : {}), haveZstd: zstd, mark }));
      unpacked++;
      checkpoint('load.layer');
    }
    const tags = img.tags.map(familiarName);
    const id = store.addImage(configText, layers, source, tags);
    return { id, tags, layers: layers.length, unpacked };
  }
}
