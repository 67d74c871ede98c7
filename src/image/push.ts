// `minidock push` (issue #16): a stored image to a registry, as docker pushes it. Side-effecting.
//
// The blobs go as the store keeps them (the bytes that came in, so a pulled image pushes back
// with the same digests): each layer blob and the config, skipped when the registry has it
// (HEAD); else mounted from another repository of the same registry that the image was pulled
// from (its RepoDigests: no byte sent, docker's "Mounted from"); else uploaded, whole up to
// 16 MiB, in PATCH chunks above (MINIDOCK_UPLOAD_CHUNK bytes, for registries behind a proxy
// that limits a request's body; a chunk cut off is resumed). Then an OCI image manifest naming
// them, PUT under the tag; its digest is printed as docker prints it. Nothing is written
// locally but the repo digest.
import { createReadStream } from 'node:fs';
import { MinidockError } from '../core/errors.js';
import { RegistryClient, type Credentials } from '../registry/client.js';
import { familiarRepository, parseReference, type Reference } from '../registry/reference.js';
import type { ImageStore } from './store.js';

export const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
export const OCI_CONFIG = 'application/vnd.oci.image.config.v1+json';

/** The manifest of a stored image. Pure. */
export function manifestOf(config: { digest: string; size: number }, layers: ReadonlyArray<{ mediaType: string; digest: string; size: number }>): Buffer {
  return Buffer.from(JSON.stringify({
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    config: { mediaType: OCI_CONFIG, digest: config.digest, size: config.size },
    layers: layers.map((l) => ({ mediaType: l.mediaType, digest: l.digest, size: l.size })),
  }));
}

/** Where a blob could be mounted from: a repository of the push's registry, other than its
 *  own, that the image came from (its RepoDigests, familiar names). Pure. */
export function mountSource(repoDigests: readonly string[], ref: Reference): string | undefined {
  for (const rd of repoDigests) {
    let from: Reference;
    try {
      from = parseReference(rd);
    } catch {
      continue;
    }
    if (from.registry === ref.registry && from.repository !== ref.repository) return from.repository;
  }
  return undefined;
}

/** MINIDOCK_UPLOAD_CHUNK: the PATCH chunk size in bytes (unset: the client's 16 MiB). */
export function uploadChunk(env: NodeJS.ProcessEnv = process.env): number | undefined {
  const v = env.MINIDOCK_UPLOAD_CHUNK;
  if (v === undefined || v === '') return undefined;
  if (!/^\d+$/.test(v) || Number(v) < 1024) throw new MinidockError(`MINIDOCK_UPLOAD_CHUNK=${JSON.stringify(v)} is no size`, { step: 'push.env', hint: 'give bytes, at least 1024 (e.g. 5242880 for 5 MiB)', exitCode: 1 });
  return Number(v);
}

export async function pushImage(store: ImageStore, ref: Reference, o: { say: (line: string) => void; credentials?: Credentials; insecure?: readonly string[]; chunkSize?: number }): Promise<string> {
  if (!ref.tag) throw new MinidockError('push needs a tag, not a digest', { step: 'push.ref', hint: 'minidock push NAME:TAG', exitCode: 1 });
  const local = `${familiarRepository(ref)}:${ref.tag}`;
  const id = store.lookup(local);
  const img = id ? store.image(id) : undefined;
  if (!img) throw new MinidockError(`An image does not exist locally with the tag: ${familiarRepository(ref)}`, { step: 'push.image', hint: `minidock tag IMAGE ${local} first`, exitCode: 1 });
  const client = new RegistryClient(ref, { push: true, ...(o.credentials ? { credentials: o.credentials } : {}), ...(o.insecure ? { insecure: o.insecure } : {}) });
  o.say(`The push refers to repository [${ref.registry}/${ref.repository}]`);
  const layers = img.layers.map((c) => store.layer(c)!);
  const from = mountSource(img.repoDigests ?? [], ref);
  const chunk = o.chunkSize ? { chunkSize: o.chunkSize } : {};
  // Top layer first, as docker lists them.
  for (const l of [...layers].reverse()) {
    const short = l.blob.digest.slice(7, 19);
    if (await client.hasBlob(l.blob.digest)) {
      o.say(`${short}: Layer already exists`);
      continue;
    }
    o.say(`${short}: Preparing`);
    const file = store.blobPath(l.blob.digest);
    const how = await client.upload(l.blob.digest, l.blob.size, (start, end) => createReadStream(file, { start, end: end - 1 }) as unknown as AsyncIterable<Uint8Array>, { ...chunk, ...(from ? { mountFrom: from } : {}) });
    o.say(how === 'mounted' ? `${short}: Mounted from ${from}` : `${short}: Pushed`);
  }
  const configDigest = `sha256:${img.id}`;
  const configBytes = Buffer.from(img.configText);
  if (!(await client.hasBlob(configDigest))) await client.upload(configDigest, configBytes.length, (start, end) => configBytes.subarray(start, end), { ...chunk, ...(from ? { mountFrom: from } : {}) });
  const manifest = manifestOf({ digest: configDigest, size: configBytes.length }, layers.map((l) => l.blob));
  const digest = await client.putManifest(ref.tag, manifest, OCI_MANIFEST);
  store.addRepoDigest(img.id, `${familiarRepository(ref)}@${digest}`);
  o.say(`${ref.tag}: digest: ${digest} size: ${manifest.length}`);
  return digest;
}
