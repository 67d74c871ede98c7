// `minidock save`: stored images out as a docker-archive (what `docker save` writes and
// `docker load` / `podman load` read) or an OCI archive (an image layout in a tar), issue #15.
// Side-effecting.
//
// The bytes that went in come out: the config blob unchanged (so the image id survives a save
// and a load anywhere), and each layer's blob. A docker-archive holds uncompressed layer tars,
// as docker's own does: a gzip blob is inflated on the way out, which gives back the tar whose
// sha256 is the diff id. An OCI archive holds the blobs as stored, with their media types.
//
// The archive is written as a stream by a small ustar writer (ustarHeader): names are short
// (hex digests), so no long-name extensions are needed.
import { createReadStream, createWriteStream, renameSync, rmSync } from 'node:fs';
import { dirname, join, basename } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { MinidockError } from '../core/errors.js';
import { childProcess, cryptoLib, zlibLib } from '../core/lazy.js';
import { randomHex } from '../runtime/ids.js';
import { parseImageRef, tagKey } from '../spec/image-ref.js';
import type { ImageStore, LayerRecord, StoredImage } from './store.js';

/** A ustar header block for a regular file (or a directory, size 0). Pure. */
export function ustarHeader(name: string, size: number, o: { dir?: boolean; mtime?: number } = {}): Buffer {
  if (Buffer.byteLength(name) > 100) throw new MinidockError(`archive member name ${name} is longer than 100 bytes`, { step: 'image.save' });
  const h = Buffer.alloc(512);
  const put = (s: string, at: number, len: number): void => void h.write(s, at, len, 'utf8');
  const oct = (n: number, len: number): string => n.toString(8).padStart(len - 1, '0');
  put(name, 0, 100);
  put(oct(o.dir ? 0o755 : 0o644, 8), 100, 8);
  put(oct(0, 8), 108, 8);
  put(oct(0, 8), 116, 8);
  put(oct(size, 12), 124, 12);
  put(oct(o.mtime ?? 0, 12), 136, 12);
  h.fill(0x20, 148, 156); // the checksum field counts as spaces
  h[156] = (o.dir ? '5' : '0').charCodeAt(0);
  put('ustar\0', 257, 6);
  put('00', 263, 2);
  let sum = 0;
  for (const b of h) sum += b;
  put(`${oct(sum, 7)}\0`, 148, 8);
  return h;
}

const pad = (size: number): Buffer => Buffer.alloc((512 - (size % 512)) % 512);

class TarWriter {
  private failed?: Error;

  constructor(private readonly out: Writable) {
    out.on('error', (err) => (this.failed ??= err));
  }

  private write(b: Buffer): Promise<void> {
    if (this.failed) return Promise.reject(this.failed);
    return new Promise((resolve) => {
      if (this.out.write(b)) resolve();
      else this.out.once('drain', resolve);
    });
  }

  dir(name: string): Promise<void> {
    return this.write(ustarHeader(name.endsWith('/') ? name : `${name}/`, 0, { dir: true }));
  }

  async file(name: string, content: string | Buffer): Promise<void> {
    const b = typeof content === 'string' ? Buffer.from(content) : content;
    await this.write(ustarHeader(name, b.length));
    await this.write(b);
    await this.write(pad(b.length));
  }

  /** A member of a known size from a stream; a stream of another length is an error. */
  async stream(name: string, size: number, src: Readable): Promise<void> {
    await this.write(ustarHeader(name, size));
    let n = 0;
    for await (const chunk of src) {
      n += (chunk as Buffer).length;
      if (n > size) throw new MinidockError(`${name} is longer than its stored size ${size}`, { step: 'image.save.layer' });
      await this.write(chunk as Buffer);
    }
    if (n !== size) throw new MinidockError(`${name} has ${n} bytes, its record says ${size}`, { step: 'image.save.layer', hint: 'the layer blob is damaged: minidock rmi the image and load it again' });
    await this.write(pad(size));
  }

  end(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.out.once('error', reject);
      this.out.end(Buffer.alloc(1024), () => resolve());
    });
  }
}

/** The layer as an uncompressed tar stream (a gzip blob inflated). */
async function plainLayer(s: ImageStore, l: LayerRecord): Promise<Readable> {
  const raw = createReadStream(s.blobPath(l.blob.digest));
  if (l.blob.mediaType.endsWith('+gzip')) return raw.pipe(zlibLib().createGunzip());
  if (l.blob.mediaType.endsWith('+zstd')) {
    const p = childProcess().spawn('zstd', ['-dc'], { stdio: ['pipe', 'pipe', 'inherit'] });
    raw.pipe(p.stdin);
    return p.stdout;
  }
  return raw;
}

function images(s: ImageStore, refs: readonly string[]): Array<{ img: StoredImage; tags: string[] }> {
  return refs.map((ref) => {
    const id = s.lookup(ref);
    const img = id ? s.image(id) : undefined;
    if (!img) throw new MinidockError(`No such image: ${ref}`, { step: 'image.save', exitCode: 1 });
    // A save by name carries that name; a save by id carries every tag (docker's rule).
    const key = tagKey(ref);
    return { img, tags: key && img.tags.includes(key) ? [key] : img.tags };
  });
}


async function writeDockerArchive(s: ImageStore, list: ReturnType<typeof images>, w: TarWriter): Promise<void> {
  const manifest: Array<{ Config: string; RepoTags: string[] | null; Layers: string[] }> = [];
  const repositories: Record<string, Record<string, string>> = {};
  const written = new Set<string>();
  for (const { img, tags } of list) {
    const configName = `${img.id}.json`;
    if (!written.has(configName)) {
      await w.file(configName, img.configText);
      written.add(configName);
    }
    const layerNames: string[] = [];
    for (const chain of img.layers) {
      const l = s.layer(chain);
      if (!l) throw new MinidockError(`image ${img.id.slice(0, 12)} lacks layer ${chain.slice(0, 12)}`, { step: 'image.save', hint: 'minidock rmi it and load it again' });
      // The directory is named by the chain id: one per distinct layer stack, as docker's v1 ids.
      const name = `${chain}/layer.tar`;
      if (!written.has(name)) {
        await w.dir(chain);
        await w.file(`${chain}/VERSION`, '1.0');
        await w.stream(name, l.tarSize ?? l.size, await plainLayer(s, l));
        written.add(name);
      }
      layerNames.push(name);
    }
    manifest.push({ Config: configName, RepoTags: tags.length ? tags : null, Layers: layerNames });
    for (const t of tags) {
      const r = parseImageRef(t);
      (repositories[r.name] ??= {})[r.tag] = img.layers.at(-1)!;
    }
  }
  await w.file('manifest.json', JSON.stringify(manifest));
  await w.file('repositories', JSON.stringify(repositories));
}

async function writeOciArchive(s: ImageStore, list: ReturnType<typeof images>, w: TarWriter): Promise<void> {
  const index: { schemaVersion: 2; mediaType: string; manifests: unknown[] } = { schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: [] };
  const written = new Set<string>();
  await w.file('oci-layout', JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  await w.dir('blobs');
  await w.dir('blobs/sha256');
  const blob = async (digest: string, content: string | Buffer | (() => Promise<[number, Readable]>)): Promise<void> => {
    const name = `blobs/sha256/${digest.slice(7)}`;
    if (written.has(name)) return;
    written.add(name);
    if (typeof content === 'function') {
      const [size, stream] = await content();
      await w.stream(name, size, stream);
    } else await w.file(name, content);
  };
  for (const { img, tags } of list) {
    await blob(`sha256:${img.id}`, img.configText);
    const layers = img.layers.map((c) => s.layer(c)!);
    for (const l of layers) await blob(l.blob.digest, async () => [l.blob.size, createReadStream(s.blobPath(l.blob.digest))]);
    const manifest = JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: `sha256:${img.id}`, size: Buffer.byteLength(img.configText) },
      layers: layers.map((l) => ({ mediaType: l.blob.mediaType, digest: l.blob.digest, size: l.blob.size })),
    });
    const digest = `sha256:${cryptoLib().createHash('sha256').update(manifest).digest('hex')}`;
    await blob(digest, manifest);
    const entry = { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest, size: Buffer.byteLength(manifest), platform: { architecture: img.config.architecture, os: img.config.os } };
    if (!tags.length) index.manifests.push(entry);
    for (const t of tags) {
      const r = parseImageRef(t);
      index.manifests.push({ ...entry, annotations: { 'io.containerd.image.name': t, 'org.opencontainers.image.ref.name': r.tag } });
    }
  }
  await w.file('index.json', JSON.stringify(index));
}

/** Writes the images to `output` (renamed into place when complete) or to stdout. */
export async function saveImages(s: ImageStore, refs: readonly string[], o: { output?: string; format: 'docker-archive' | 'oci-archive' }): Promise<void> {
  const list = images(s, refs);
  const tmp = o.output ? join(dirname(o.output), `.${basename(o.output)}.${process.pid}-${randomHex(4)}.tmp`) : undefined;
  const out: Writable = tmp ? createWriteStream(tmp, { flags: 'wx', mode: 0o644 }) : process.stdout;
  const w = new TarWriter(out);
  try {
    if (o.format === 'oci-archive') await writeOciArchive(s, list, w);
    else await writeDockerArchive(s, list, w);
    await w.end();
    if (tmp) renameSync(tmp, o.output!);
  } catch (err) {
    if (tmp) rmSync(tmp, { force: true });
    throw err;
  }
}
