// `minidock pull` (issue #16): an image from a registry into the layered store, as docker pulls
// it. Side-effecting (network, store).
//
//   manifest by tag or digest ─ an index? the entry for this platform ─ the image manifest
//   config blob (its digest is the image id) ─ diff ids ─ chain ids
//   each layer the store lacks, under its lock (two pulls sharing it download it once): the
//   blob streamed into addLayer, unpacked as it downloads (sha256 and length checked by the
//   client, digest and diff id again by the store, as a load's are); a body cut short is tried
//   again; up to 3 layers at once
//   the record, the tag, the repo digest (name@manifest digest)
//
// What fails leaves nothing: the scratch files go, and the layers this pull landed are taken
// back (ImageStore.abandon); a killed pull leaves only what gc removes.
import { readFileSync, rmSync, statSync } from 'node:fs';
import { EXIT, MinidockError, withExitCode } from '../core/errors.js';
import { cryptoLib } from '../core/lazy.js';
import { RegistryClient, type BlobStream, type Credentials } from '../registry/client.js';
import { familiarRepository, fullName, localTag, type Reference } from '../registry/reference.js';
import { layerCompression, platformFits, platformName, type Platform } from './archive.js';
import { parseImageConfig } from './image-config.js';
import { chainIds } from './layer-ids.js';
import type { ImageStore, LayerRecord } from './store.js';
import type { LayerProgress } from '../registry/progress.js';

const INDEX = new Set(['application/vnd.oci.image.index.v1+json', 'application/vnd.docker.distribution.manifest.list.v2+json']);
const MANIFEST = new Set(['application/vnd.oci.image.manifest.v1+json', 'application/vnd.docker.distribution.manifest.v2+json']);

const bad = (what: string, hint?: string): MinidockError => new MinidockError(what, { step: 'pull.manifest', ...(hint ? { hint } : {}), exitCode: 1 });
const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

interface Descriptor { mediaType: string; digest: string; size: number }

function descriptor(v: unknown, field: string): Descriptor {
  if (!isObj(v) || typeof v.digest !== 'string' || !/^sha256:[0-9a-f]{64}$/.test(v.digest)) throw bad(`the manifest's ${field} has no sha256 digest`);
  return { mediaType: String(v.mediaType ?? ''), digest: v.digest, size: typeof v.size === 'number' ? v.size : -1 };
}

/** The image manifest for `platform` from a manifest or an index (pure but for the fetch). */
export function pickFromIndex(index: Record<string, unknown>, platform: Platform, where: string): string {
  const entries = Array.isArray(index.manifests) ? index.manifests.filter(isObj) : [];
  if (!entries.length) throw bad(`${where}: the index lists no manifest`);
  const fits = entries.filter((m) => platformFits(m.platform, platform));
  if (!fits.length) {
    const there = entries.map((m) => platformName(m.platform)).filter(Boolean).join(', ') || 'none stated';
    throw bad(`${where}: no image for ${platformName(platform)} (the index has: ${there})`, 'pull with --platform for one of those');
  }
  const best = fits.find((m) => isObj(m.platform) && m.platform.variant === platform.variant) ?? fits[0]!;
  return descriptor(best, 'index entry').digest;
}

export interface PullResult {
  id: string;
  digest: string;
  upToDate: boolean;
  name: string;
}

/** Where a pull reports: lines (`say`) and, per layer, its status as docker names it (with the
 *  bytes while it downloads); without `layer`, each status change is a `say` line. */
export interface PullReport {
  say: (line: string) => void;
  layer?: (id: string, p: LayerProgress) => void;
}

export async function pullImage(store: ImageStore, ref: Reference, o: PullReport & {
  platform: Platform; quiet?: boolean; mark: (root: string, rel: string, kind: 'whiteout' | 'opaque') => void;
  credentials?: Credentials; insecure?: readonly string[]; haveZstd?: boolean; signal?: AbortSignal;
  /** The repository's client, when one serves several pulls (`-a`: one token for all tags). */
  client?: RegistryClient;
  /** Without the closing Status line (`-a` says it once, for the repository). */
  noStatus?: boolean;
}): Promise<PullResult> {
  const client = o.client ?? clientFor(ref, o);
  const say = o.quiet ? (): void => {} : o.say;
  const layer = o.quiet ? (): void => {} : o.layer ?? ((id: string, p: LayerProgress) => say(`${id}: ${p.status}`));
  const where = fullName(ref);
  say(`${ref.tag ?? ref.digest}: Pulling from ${ref.repository}`);
  let m = await client.manifest(ref.digest ?? ref.tag!);
  const topDigest = m.digest;
  for (let depth = 0; ; depth++) {
    let doc: unknown;
    try {
      doc = JSON.parse(m.bytes.toString('utf8'));
    } catch {
      throw bad(`${where}: the manifest is not JSON`);
    }
    if (!isObj(doc)) throw bad(`${where}: the manifest is not a JSON object`);
    const type = String(doc.mediaType ?? m.mediaType);
    if (doc.schemaVersion === 1) throw bad(`${where}: a schema 1 manifest, which docker no longer pulls either`, 'push the image again with a current client');
    if (INDEX.has(type) || (Array.isArray(doc.manifests) && !doc.layers)) {
      if (depth > 0) throw bad(`${where}: an index that leads to another index`);
      m = await client.manifest(pickFromIndex(doc, o.platform, where));
      continue;
    }
    if (!MANIFEST.has(type) && !doc.layers) throw bad(`${where}: media type ${JSON.stringify(type)} is no image manifest`);
    return pullManifest(store, client, ref, doc, { ...o, say, layer, digest: topDigest });
  }
}

function clientFor(ref: Reference, o: { credentials?: Credentials; insecure?: readonly string[]; signal?: AbortSignal }): RegistryClient {
  return new RegistryClient(ref, { ...(o.credentials ? { credentials: o.credentials } : {}), ...(o.insecure ? { insecure: o.insecure } : {}), ...(o.signal ? { signal: o.signal } : {}) });
}

/** Docker's closing line: for the name pulled (a tag, a digest, or the repository for `-a`). */
export const pullStatus = (upToDate: boolean, name: string): string => (upToDate ? `Status: Image is up to date for ${name}` : `Status: Downloaded newer image for ${name}`);

async function pullManifest(store: ImageStore, client: RegistryClient, ref: Reference, doc: Record<string, unknown>, o: {
  say: (line: string) => void; layer: (id: string, p: LayerProgress) => void; mark: (root: string, rel: string, kind: 'whiteout' | 'opaque') => void; haveZstd?: boolean; digest: string;
  signal?: AbortSignal; noStatus?: boolean;
}): Promise<PullResult> {
  const where = fullName(ref);
  const config = descriptor(doc.config, 'config');
  if (!Array.isArray(doc.layers)) throw bad(`${where}: the manifest has no layers list`);
  const layers = doc.layers.map((l, i) => {
    const d = descriptor(l, `layers[${i}]`);
    layerCompression(d.mediaType, `${where} layers[${i}]`);
    return d;
  });
  const id = config.digest.slice(7);
  const tag = localTag(ref);
  const repoDigest = `${familiarRepository(ref)}@${o.digest}`;
  const scratch: string[] = [];
  try {
    let configText: string;
    const had = store.record(id);
    // The store's directories are made (and their modes checked) before anything is written
    // to them; a repeated pull, which writes nothing, skips that.
    if (had && store.hasBlob(config.digest)) {
      configText = readFileSync(store.blobPath(config.digest), 'utf8');
    } else {
      store.prepare();
      const tmp = store.scratch('blob', id);
      scratch.push(tmp);
      await client.blob(config.digest, tmp);
      if (statSync(tmp).size > 4 * 1024 * 1024) throw bad(`${where}: the config is larger than any real one`);
      configText = readFileSync(tmp, 'utf8');
    }
    const cfg = parseImageConfig(configText);
    if (cfg.diffIds.length !== layers.length) throw bad(`${where}: the manifest lists ${layers.length} layers, its config ${cfg.diffIds.length}`);
    const sha = (t: string): string => cryptoLib().createHash('sha256').update(t).digest('hex');
    const chains = chainIds(cfg.diffIds, sha).map((c) => c.slice(7));
    if (layers.some((_, i) => !store.layer(chains[i]!))) store.prepare();
    const records: LayerRecord[] = new Array(layers.length);
    // Every layer has its line from the start, as docker's block does.
    let queued = 0;
    for (const [i, l] of layers.entries()) {
      if (store.layer(chains[i]!)) continue;
      o.layer(l.digest.slice(7, 19), { status: 'Pulling fs layer' });
      if (++queued > 3) o.layer(l.digest.slice(7, 19), { status: 'Waiting' }); // behind the 3 at work
    }
    let next = 0;
    // The first failure stops the rest: no new layer is begun, the downloads under way are
    // dropped (their unpacking fails and cleans up), and the pull waits for all of them to
    // have cleaned up before it reports, so nothing is left in the scratch directory.
    let failed: { err: unknown } | undefined;
    const open = new Set<BlobStream>();
    // A Ctrl-C is the first failure too: the requests are already ended by the signal; a
    // layer waiting on another pull's lock finds `failed` when it gets it.
    const stop = (): void => {
      failed ??= { err: o.signal!.reason };
    };
    o.signal?.addEventListener('abort', stop, { once: true });
    // Up to 3 layers at once (docker's default): each is independent, its chain id known.
    const worker = async (): Promise<void> => {
      try {
        await work();
      } catch (err) {
        if (!failed) {
          failed = { err };
          for (const b of open) b.close();
        }
      }
    };
    const work = async (): Promise<void> => {
      for (let i = next++; i < layers.length && !failed; i = next++) {
        const l = layers[i]!;
        const short = l.digest.slice(7, 19);
        const existing = store.layer(chains[i]!);
        if (existing) {
          o.layer(short, { status: 'Already exists' });
          records[i] = existing;
          continue;
        }
        // Streamed: the download is unpacked as it comes (no copy on disk first), under the
        // layer's lock, so a concurrent pull of an image sharing it waits and then finds it.
        let fetched = false;
        let downloaded = false;
        // Docker's three lines when the last byte is in (or, with no size stated, at the end).
        const downloadDone = (): void => {
          if (downloaded) return;
          downloaded = true;
          for (const status of ['Verifying Checksum', 'Download complete', 'Extracting'] as const) o.layer(short, { status });
        };
        const record = await client.retrying(async () => {
          let blob: BlobStream | undefined;
          try {
            return await store.addLayer(async () => {
              fetched = true;
              if (failed) throw failed.err;
              blob = await client.openBlob(l.digest, (n) => {
                o.layer(short, { status: 'Downloading', current: n, total: l.size });
                if (n === l.size) downloadDone();
              });
              open.add(blob);
              return { stream: blob, label: `layer ${l.digest}` };
            }, {
              ...(i > 0 ? { parent: chains[i - 1]! } : {}), diffId: cfg.diffIds[i]!, blobDigest: l.digest, ...(o.haveZstd ? { haveZstd: true } : {}), mark: o.mark,
              waiting: () => o.layer(short, { status: 'Waiting' }),
            });
          } catch (err) {
            // The unpacking failed before the download ended (gunzip on damaged bytes): the
            // rest says whether the blob was the registry's, the better report.
            const settled = blob && !(err instanceof MinidockError && (err.step ?? '').startsWith('registry.')) ? await blob.settle() : undefined;
            throw settled ?? err;
          } finally {
            if (blob) open.delete(blob);
            blob?.close();
          }
        }, () => !failed);
        records[i] = record;
        if (!fetched) {
          o.layer(short, { status: 'Already exists' });
          continue;
        }
        downloadDone();
        o.layer(short, { status: 'Pull complete' });
      }
    };
    await Promise.all([worker(), worker(), worker()]);
    o.signal?.removeEventListener('abort', stop);
    if (failed) throw failed.err;
    const upToDate = !!had;
    store.addImage(configText, records, where, tag ? [tag] : [], { repoDigests: [repoDigest] });
    store.addRepoDigest(id, repoDigest);
    o.say(`Digest: ${o.digest}`);
    const name = tag ?? repoDigest;
    if (!o.noStatus) o.say(pullStatus(upToDate, name));
    return { id, digest: o.digest, upToDate, name };
  } catch (err) {
    store.abandon();
    throw err;
  } finally {
    for (const f of scratch) rmSync(f, { force: true });
  }
}

/** A pull as the CLI makes it: REF parsed, the platform (the host's unless given), the
 *  credentials `login` kept, MINIDOCK_INSECURE_REGISTRIES, docker's progress on `out`. One way
 *  for `pull` (stdout), `pull -a` (every tag of the repository, one after another, as docker
 *  does, then one Status line for the repository) and `run --pull` (stderr). */
export async function pullReporting(store: ImageStore, refText: string, o: { platform?: string; quiet?: boolean; allTags?: boolean; out: NodeJS.WriteStream }): Promise<PullResult & { ref: Reference }> {
  const { insecureRegistries, parseReference } = await import('../registry/reference.js');
  const { hostPlatform, parsePlatform } = await import('./archive.js');
  const { native } = await import('../native/binding.js');
  const { credentialsFor } = await import('../registry/credentials.js');
  const { Progress } = await import('../registry/progress.js');
  const ref = parseReference(refText);
  if (o.allTags && /[:@]/.test(refText.slice(refText.lastIndexOf('/') + 1))) {
    throw new MinidockError(`tag can't be used with --all-tags/-a: ${refText}`, { step: 'cli.args', hint: `minidock pull -a ${familiarRepository(ref)}`, exitCode: 1 });
  }
  const credentials = credentialsFor(ref.registry);
  const progress = new Progress((t) => o.out.write(t), !!o.out.isTTY, o.out.columns ?? 80);
  // Ctrl-C (or a TERM) ends the requests and takes back what this pull stored, then the exit
  // is the signal's (130, 143) as a shell expects; a second Ctrl-C kills at once (what it
  // leaves, gc reclaims).
  const abort = new AbortController();
  const onSignal = (sig: NodeJS.Signals): void => {
    const n = sig === 'SIGINT' ? 2 : 15;
    abort.abort(new MinidockError(`pull of ${refText} interrupted by ${sig}: ${o.allTags ? 'the image under way was not stored (the tags before it were)' : 'nothing of it was stored'}`, { step: 'pull.interrupted', exitCode: 128 + n }));
  };
  process.once('SIGINT', onSignal).once('SIGTERM', onSignal);
  const common = {
    signal: abort.signal,
    platform: o.platform ? parsePlatform(o.platform) : hostPlatform(),
    ...(o.quiet ? { quiet: true } : {}),
    say: (line: string) => progress.line(line),
    layer: (id: string, lp: LayerProgress) => progress.update(id, lp),
    // The native addon (2 ms to load) only once a layer is unpacked: not for a repeated pull.
    mark: (root: string, rel: string, kind: 'whiteout' | 'opaque') => native().layerMark(root, rel, kind),
    insecure: insecureRegistries(),
    ...(credentials ? { credentials } : {}),
  };
  try {
    if (!o.allTags) return { ...(await pullImage(store, ref, common)), ref };
    const repo = { registry: ref.registry, repository: ref.repository };
    const client = clientFor(repo, common);
    let all: PullResult | undefined;
    let upToDate = true;
    for (const tag of await client.tags()) {
      const r = await pullImage(store, { ...repo, tag }, { ...common, client, noStatus: true });
      upToDate &&= r.upToDate;
      all ??= r;
    }
    if (!all) throw new MinidockError(`${fullName(repo)}: the repository has no tags`, { step: 'pull.tags', hint: 'push a tag to it first', exitCode: 1 });
    if (!o.quiet) progress.line(pullStatus(upToDate, familiarRepository(repo)));
    return { ...all, upToDate, name: familiarRepository(repo), ref: repo };
  } finally {
    process.removeListener('SIGINT', onSignal).removeListener('SIGTERM', onSignal);
  }
}

/** For `run --pull`: pulls REF with its progress on stderr; returns the local name to run. A
 *  failed pull is run's failure: 125 (the container could not be made). */
export async function pullForRun(store: ImageStore, refText: string, platform?: string): Promise<string> {
  const r = await pullReporting(store, refText, { ...(platform ? { platform } : {}), out: process.stderr }).catch((err) => {
    throw withExitCode(err, EXIT.RUNTIME);
  });
  return r.name;
}
