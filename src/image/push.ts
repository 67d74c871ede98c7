// `minidock push` (issue #16): a stored image to a registry, as docker pushes it. Side-effecting.
//
// The blobs go as the store keeps them (the bytes that came in, so a pulled image pushes back
// with the same digests): each layer blob and the config, skipped when the registry has it
// (HEAD), else one monolithic upload (POST, PUT ?digest=; the registry checks the digest). Then
// an OCI image manifest naming them, PUT under the tag; its digest is printed as docker prints
// it. Nothing is written locally but the repo digest.
import { createReadStream } from 'node:fs';
import { MinidockError } from '../core/errors.js';
import { RegistryClient, type Credentials } from '../registry/client.js';
import { familiarRepository, type Reference } from '../registry/reference.js';
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

export async function pushImage(store: ImageStore, ref: Reference, o: { say: (line: string) => void; credentials?: Credentials; insecure?: readonly string[] }): Promise<string> {
  if (!ref.tag) throw new MinidockError('push needs a tag, not a digest', { step: 'push.ref', hint: 'minidock push NAME:TAG', exitCode: 1 });
  const local = `${familiarRepository(ref)}:${ref.tag}`;
  const id = store.lookup(local);
  const img = id ? store.image(id) : undefined;
  if (!img) throw new MinidockError(`An image does not exist locally with the tag: ${familiarRepository(ref)}`, { step: 'push.image', hint: `minidock tag IMAGE ${local} first`, exitCode: 1 });
  const client = new RegistryClient(ref, { push: true, ...(o.credentials ? { credentials: o.credentials } : {}), ...(o.insecure ? { insecure: o.insecure } : {}) });
  o.say(`The push refers to repository [${ref.registry}/${ref.repository}]`);
  const layers = img.layers.map((c) => store.layer(c)!);
  // Top layer first, as docker lists them.
  for (const l of [...layers].reverse()) {
    const short = l.blob.digest.slice(7, 19);
    if (await client.hasBlob(l.blob.digest)) {
      o.say(`${short}: Layer already exists`);
      continue;
    }
    o.say(`${short}: Preparing`);
    await client.upload(l.blob.digest, l.blob.size, () => createReadStream(store.blobPath(l.blob.digest)) as unknown as AsyncIterable<Uint8Array>);
    o.say(`${short}: Pushed`);
  }
  const configDigest = `sha256:${img.id}`;
  const configBytes = Buffer.from(img.configText);
  if (!(await client.hasBlob(configDigest))) await client.upload(configDigest, configBytes.length, () => configBytes);
  const manifest = manifestOf({ digest: configDigest, size: configBytes.length }, layers.map((l) => l.blob));
  const digest = await client.putManifest(ref.tag, manifest, OCI_MANIFEST);
  store.addRepoDigest(img.id, `${familiarRepository(ref)}@${digest}`);
  o.say(`${ref.tag}: digest: ${digest} size: ${manifest.length}`);
  return digest;
}
