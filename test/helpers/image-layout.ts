// Image archives written by the tests themselves (issue #15): layer tars by GNU tar, and an OCI
// image layout (image-spec image-layout.md) around them, byte for byte as the spec says, so a
// test controls every whiteout and opaque marker and every digest (and can break one).
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';

const sha = (b: Buffer | string): string => createHash('sha256').update(b).digest('hex');

/** A layer tar of `files` (path -> content; null makes a directory; '' a .wh. marker works as
 *  any empty file), owned by root, with GNU tar; gzip when asked. */
export function layerTar(work: string, name: string, files: Record<string, string | null>, gzip: boolean | 'zstd' = false): string {
  const src = join(work, `${name}.src`);
  mkdirSync(src, { recursive: true });
  for (const [p, content] of Object.entries(files)) {
    if (content === null) mkdirSync(join(src, p), { recursive: true });
    else {
      mkdirSync(join(src, p, '..'), { recursive: true });
      writeFileSync(join(src, p), content);
    }
  }
  const out = join(work, `${name}.tar${gzip === 'zstd' ? '.zst' : gzip ? '.gz' : ''}`);
  const r = spawnSync('tar', ['-c', ...(gzip === 'zstd' ? ['--zstd'] : gzip ? ['-z'] : []), '-f', out, '-C', src, '--owner=0', '--group=0', '--numeric-owner', '--sort=name', '.']);
  if (r.status !== 0) throw new Error(`tar: ${r.stderr}`);
  return out;
}

export interface Layout {
  dir: string;
  /** The image id (the config's digest, hex). */
  id: string;
  configDigest: string;
  manifestDigest: string;
  layerDigests: string[];
}

/**
 * An OCI layout in `dir` of one image made of `layers` (tar or tar.gz files, bottom first),
 * tagged `tag` (containerd's io.containerd.image.name), with `config` merged into the config's
 * "config" (Cmd, Env, ...). History: one entry per layer, "layer N".
 */
export function ociLayout(dir: string, layers: readonly string[], o: { tag?: string; config?: Record<string, unknown>; created?: string } = {}): Layout {
  const blobs = join(dir, 'blobs', 'sha256');
  mkdirSync(blobs, { recursive: true });
  writeFileSync(join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  const descs = layers.map((file) => {
    const bytes = readFileSync(file);
    const digest = sha(bytes);
    copyFileSync(file, join(blobs, digest));
    const gz = file.endsWith('.gz');
    const zst = file.endsWith('.zst');
    const plain = gz ? gunzipSync(bytes) : zst ? spawnSync('zstd', ['-dc', file]).stdout : bytes;
    return { mediaType: `application/vnd.oci.image.layer.v1.tar${gz ? '+gzip' : zst ? '+zstd' : ''}`, digest: `sha256:${digest}`, size: statSync(file).size, diffId: `sha256:${sha(plain)}` };
  });
  const created = o.created ?? '2026-01-02T03:04:05Z';
  const config = JSON.stringify({
    architecture: 'amd64', os: 'linux', created,
    config: { Env: ['PATH=/usr/sbin:/usr/bin:/sbin:/bin'], Cmd: ['sh'], ...o.config },
    rootfs: { type: 'layers', diff_ids: descs.map((d) => d.diffId) },
    history: descs.map((_, i) => ({ created, created_by: `layer ${i + 1}` })),
  });
  const configDigest = sha(config);
  writeFileSync(join(blobs, configDigest), config);
  const manifest = JSON.stringify({
    schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: `sha256:${configDigest}`, size: Buffer.byteLength(config) },
    layers: descs.map(({ mediaType, digest, size }) => ({ mediaType, digest, size })),
  });
  const manifestDigest = sha(manifest);
  writeFileSync(join(blobs, manifestDigest), manifest);
  writeFileSync(join(dir, 'index.json'), JSON.stringify({
    schemaVersion: 2,
    manifests: [{
      mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: `sha256:${manifestDigest}`, size: Buffer.byteLength(manifest),
      ...(o.tag ? { annotations: { 'io.containerd.image.name': o.tag, 'org.opencontainers.image.ref.name': o.tag.split(':').pop() } } : {}),
    }],
  }));
  return { dir, id: configDigest, configDigest, manifestDigest, layerDigests: descs.map((d) => d.digest.slice(7)) };
}
