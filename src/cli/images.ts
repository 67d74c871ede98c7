// The image commands, with docker's output: `images`, `image inspect`, `history`, `tag`,
// `rmi`, `image prune`, `import`, `load` and `save`.
import { formatForUser, MinidockError, usageError } from '../core/errors.js';
import { ImageStore, type StoredImage } from '../image/store.js';
import { applyChanges } from '../spec/image-change.js';
import { formatImageRef, parseImageRef } from '../spec/image-ref.js';
import { createdText, ellipsis, goTime, humanSize, renderTable } from '../runtime/format.js';
import { parseListFormat, renderList } from '../runtime/list-format.js';
import { goMap, goOptional } from '../runtime/go-template.js';
import { StateStore } from '../runtime/state.js';
import { native } from '../native/binding.js';

const store = (root: string): ImageStore => new ImageStore(root, (fd) => native().flock(fd));

/** When the image was built (the config's `created`), else when it was stored. */
function createdMs(img: StoredImage): number {
  const t = img.config.created ? Date.parse(img.config.created) : NaN;
  return Number.isFinite(t) ? t : img.stored;
}

/** `images [REPO[:TAG]]`: one row per tag (an untagged image once, as <none>), newest first. */
const IMAGE_HEADERS: Record<string, string> = {
  ID: 'IMAGE ID', Repository: 'REPOSITORY', Tag: 'TAG', Digest: 'DIGEST', CreatedSince: 'CREATED', CreatedAt: 'CREATED AT', Size: 'SIZE',
  VirtualSize: 'VIRTUAL SIZE', SharedSize: 'SHARED SIZE', UniqueSize: 'UNIQUE SIZE', Containers: 'CONTAINERS',
};

export function imagesCommand(root: string, repo: string | undefined, o: { quiet: boolean; noTrunc: boolean; digests?: boolean; format?: string }): string {
  const now = Date.now();
  const id = (full: string): string => (o.noTrunc ? `sha256:${full}` : full.slice(0, 12));
  let want: { name: string; tag?: string } | undefined;
  if (repo !== undefined) {
    const r = parseImageRef(repo);
    want = { name: r.name, ...(repo.slice(repo.lastIndexOf('/') + 1).includes(':') ? { tag: r.tag } : {}) };
  }
  const fmt = o.format === undefined ? undefined : parseListFormat(o.format); // refused before any work
  const rows: Array<{ repo: string; tag: string; digest: string; id: string; created: string; createdAt: string; size: string }> = [];
  for (const img of store(root).list().sort((a, b) => createdMs(b) - createdMs(a))) {
    const tags = img.tags.length ? img.tags.map((t) => parseImageRef(t)) : [{ name: '<none>', tag: '<none>' }];
    for (const t of tags) {
      if (want && (t.name !== want.name || (want.tag !== undefined && t.tag !== want.tag))) continue;
      const digest = img.repoDigests?.find((d) => d.startsWith(`${t.name}@`))?.split('@')[1] ?? '<none>';
      rows.push({ repo: t.name, tag: t.tag, digest, id: id(img.id), created: createdText(createdMs(img), now), createdAt: goTime(createdMs(img)), size: humanSize(img.size) });
    }
  }
  if (o.quiet) return [...new Set(rows.map((r) => r.id))].map((r) => r + '\n').join('');
  const headers = ['REPOSITORY', 'TAG', ...(o.digests ? ['DIGEST'] : []), 'IMAGE ID', 'CREATED', 'SIZE'];
  const table = renderTable(headers, rows.map((r) => [r.repo, r.tag, ...(o.digests ? [r.digest] : []), r.id, r.created, r.size]));
  if (fmt === undefined) return table;
  // docker's image fields for --format.
  const fields = rows.map((r) => ({ ID: r.id, Repository: r.repo, Tag: r.tag, Digest: r.digest, CreatedSince: r.created, CreatedAt: r.createdAt, Size: r.size, VirtualSize: r.size, SharedSize: 'N/A', UniqueSize: 'N/A', Containers: 'N/A' }));
  return renderList(fmt, fields, IMAGE_HEADERS, table);
}

/** The fields of docker's container.Config: an image config may leave any of them out, and a
 *  template reading one then gets nil, as from docker's struct, not an error. */
const CONFIG_FIELDS = ['Hostname', 'Domainname', 'User', 'AttachStdin', 'AttachStdout', 'AttachStderr', 'ExposedPorts', 'Tty', 'OpenStdin',
  'StdinOnce', 'Env', 'Cmd', 'Healthcheck', 'ArgsEscaped', 'Image', 'Volumes', 'WorkingDir', 'Entrypoint', 'NetworkDisabled', 'MacAddress',
  'OnBuild', 'Labels', 'StopSignal', 'StopTimeout', 'Shell'];

function goConfig(c: unknown): object | null {
  if (typeof c !== 'object' || c === null || Array.isArray(c)) return null;
  const out = { ...(c as Record<string, unknown>) };
  for (const k of ['ExposedPorts', 'Volumes', 'Labels']) {
    const v = out[k];
    if (typeof v === 'object' && v !== null && !Array.isArray(v)) out[k] = goMap({ ...v });
  }
  return goOptional(out, ...CONFIG_FIELDS);
}

/** docker's `image inspect` object for one stored image. */
export function imageInspect(s: ImageStore, img: StoredImage): Record<string, unknown> {
  const raw = JSON.parse(img.configText) as Record<string, unknown>;
  const dirs = [...img.layers].reverse().map((c) => s.layerDir(c));
  return {
    Id: `sha256:${img.id}`,
    // Sorted, as docker's reference store lists them.
    RepoTags: [...img.tags].sort(),
    RepoDigests: img.repoDigests ?? [],
    Parent: '',
    Comment: img.config.history.at(-1)?.comment ?? '',
    Created: img.config.created ?? new Date(img.stored).toISOString(),
    Container: '',
    DockerVersion: typeof raw.docker_version === 'string' ? raw.docker_version : '',
    Author: img.config.author ?? '',
    Config: goConfig(raw.config),
    Architecture: img.config.architecture,
    ...(img.config.variant ? { Variant: img.config.variant } : {}),
    Os: img.config.os,
    Size: img.size,
    VirtualSize: img.size,
    // Where the layers are, as docker's overlay2 driver says it: the top layer, then the rest.
    GraphDriver: { Name: 'overlay', Data: goMap({ UpperDir: dirs[0], ...(dirs.length > 1 ? { LowerDir: dirs.slice(1).join(':') } : {}) }) },
    RootFS: { Type: 'layers', Layers: img.config.diffIds },
    Metadata: { LastTagTime: new Date(img.stored).toISOString() },
  };
}

/** inspect's finder for images: docker's JSON for a name[:tag], id or id prefix. */
export function imageFinder(root: string): (ref: string) => object | undefined {
  const s = store(root);
  return (ref) => {
    const id = s.lookup(ref);
    const img = id ? s.image(id) : undefined;
    return img ? imageInspect(s, img) : undefined;
  };
}

/** `history IMAGE`: the config's history, newest first; a step with a layer shows its size. */
export function historyCommand(root: string, ref: string, o: { noTrunc: boolean; quiet: boolean; human: boolean }): string {
  const s = store(root);
  const id = s.lookup(ref);
  const img = id ? s.image(id) : undefined;
  if (!img) throw new MinidockError(`No such image: ${ref}`, { step: 'image.history', exitCode: 1 });
  const sizes = img.layers.map((c) => s.layer(c)?.size ?? 0);
  const entries = img.config.history.length
    ? img.config.history
    : img.config.diffIds.map(() => ({ emptyLayer: false } as (typeof img.config.history)[number]));
  let layer = 0;
  const now = Date.now();
  const rows = entries.map((h) => {
    const size = h.emptyLayer ? 0 : sizes[layer++] ?? 0;
    const created = h.created ? Date.parse(h.created) : NaN;
    const by = (h.createdBy ?? '').replace(/\t/g, ' ');
    return { created: Number.isFinite(created) ? (o.human ? createdText(created, now) : new Date(created).toISOString()) : '', by: o.noTrunc ? by : ellipsis(by, 45), size: o.human ? humanSize(size) : String(size), comment: h.comment ?? '' };
  }).reverse();
  // Only the top step is this image; the ones below are layers of it with no image of their own.
  const ids = rows.map((_, i) => (i === 0 ? (o.noTrunc ? `sha256:${img.id}` : img.id.slice(0, 12)) : '<missing>'));
  if (o.quiet) return ids.map((i) => i + '\n').join('');
  return renderTable(['IMAGE', 'CREATED', 'CREATED BY', 'SIZE', 'COMMENT'], rows.map((r, i) => [ids[i]!, r.created, r.by, r.size, r.comment]));
}

export function tagCommand(root: string, source: string, target: string): void {
  const s = store(root);
  const id = s.lookup(source);
  if (!id) throw new MinidockError(`No such image: ${source}`, { step: 'image.tag', exitCode: 1 });
  s.tag(formatImageRef(parseImageRef(target)), id);
}

export async function importCommand(root: string, source: string, name: string | undefined, changes: string[], message?: string): Promise<string> {
  const config = applyChanges({}, changes);
  const id = await store(root).import(source, name, config, message ? { message } : {});
  return `sha256:${id}\n`;
}

/** Which container uses an image (by its id, or by the id it had in the flat store). */
function containerUsing(root: string): (id: string, legacyId?: string) => { id: string; running: boolean } | undefined {
  const containers = new StateStore(root).list();
  return (id, legacyId) => {
    const c = containers.find((r) => r.spec?.image.id === id || (legacyId !== undefined && r.spec?.image.id === legacyId));
    return c ? { id: c.id, running: c.state?.status === 'running' } : undefined;
  };
}

export async function rmiCommand(root: string, refs: string[], force = false): Promise<number> {
  const s = store(root);
  const inUse = containerUsing(root);
  let failed = false;
  for (const ref of refs) {
    try {
      const r = s.remove(ref, inUse, force);
      for (const t of r.untagged) process.stdout.write(`Untagged: ${t}\n`);
      for (const d of r.deleted) process.stdout.write(`Deleted: ${d}\n`);
    } catch (err) {
      // docker's rmi -f says an image is not there and still succeeds (clean-up scripts).
      const missing = err instanceof MinidockError && err.step === 'image.remove' && /^no such image/.test(err.message);
      if (!(force && missing)) failed = true;
      process.stderr.write(formatForUser(err) + '\n');
    }
  }
  return failed ? 1 : 0;
}

/** One line of stdin: docker's "[y/N]" prompts. */
export async function confirm(question: string): Promise<boolean> {
  process.stdout.write(question);
  const line: string = await new Promise((resolve) => {
    let buf = '';
    const onData = (d: Buffer): void => {
      buf += d.toString();
      if (buf.includes('\n')) done();
    };
    const done = (): void => {
      process.stdin.off('data', onData);
      process.stdin.pause();
      resolve(buf.split('\n')[0]!.trim());
    };
    process.stdin.on('data', onData);
    process.stdin.once('end', done);
  });
  return /^y(es)?$/i.test(line);
}

/** `image prune [-a] [-f]`: dangling images (no tag), or with -a every image no container uses. */
export async function imagePruneCommand(root: string, o: { all: boolean; force: boolean }): Promise<number> {
  if (!o.force) {
    const what = o.all ? 'all images without at least one container associated to them' : 'all dangling images';
    if (!(await confirm(`WARNING! This will remove ${what}.\nAre you sure you want to continue? [y/N] `))) return 0;
  }
  const s = store(root);
  const inUse = containerUsing(root);
  const lines: string[] = [];
  let reclaimed = 0;
  for (const img of s.list()) {
    if (inUse(img.id, img.legacyId)) continue;
    if (img.tags.length && !o.all) continue;
    const unique = img.layers.filter((c) => !s.list().some((x) => x.id !== img.id && x.layers.includes(c)));
    reclaimed += unique.reduce((n, c) => n + (s.layer(c)?.size ?? 0), 0);
    const r = s.remove(img.tags[0] ?? img.id, inUse, true);
    for (const t of img.tags.slice(1)) lines.push(`untagged: ${t}`);
    for (const t of r.untagged) lines.push(`untagged: ${t}`);
    for (const d of r.deleted) lines.push(`deleted: ${d}`);
  }
  if (lines.length) process.stdout.write(`Deleted Images:\n${lines.join('\n')}\n\n`);
  process.stdout.write(`Total reclaimed space: ${humanSize(reclaimed)}\n`);
  return 0;
}

export async function loadCommand(root: string, o: { input?: string; quiet: boolean; platform?: string }): Promise<number> {
  const input = o.input ?? '-';
  if (input === '-' && process.stdin.isTTY) {
    throw usageError('requested load from stdin, but stdin is empty', 'minidock load -i FILE, or minidock load < FILE');
  }
  const { openArchive, loadArchive } = await import('../image/load.js');
  const s = store(root);
  const platform = o.platform ? (await import('../image/archive.js')).parsePlatform(o.platform) : undefined;
  const src = await openArchive(input, s);
  try {
    const loaded = await loadArchive(s, src, { source: input === '-' ? 'stdin' : input, ...(platform ? { platform } : {}), mark: native().layerMark });
    // docker load -q prints the same lines (it only drops the progress bars, which minidock has none of).
    for (const l of loaded) {
      if (l.tags.length) for (const t of l.tags) process.stdout.write(`Loaded image: ${t}\n`);
      else process.stdout.write(`Loaded image ID: sha256:${l.id}\n`);
    }
  } finally {
    src.close();
  }
  return 0;
}

export async function saveCommand(root: string, refs: string[], o: { output?: string; format: string }): Promise<number> {
  if (o.format !== 'docker-archive' && o.format !== 'oci-archive') throw usageError(`unknown format "${o.format}"`, 'docker-archive or oci-archive');
  if (!o.output && process.stdout.isTTY) throw usageError('cowardly refusing to save to a terminal', 'use -o FILE or redirect stdout');
  const { saveImages } = await import('../image/save.js');
  await saveImages(store(root), refs, { ...(o.output ? { output: o.output } : {}), format: o.format });
  return 0;
}

/** `commit CONTAINER [REPOSITORY[:TAG]]`: prints the new image's id, as docker does. */
export async function commitCommand(root: string, ref: string, name: string | undefined, o: { changes: string[]; message?: string; author?: string }): Promise<string> {
  const rec = new StateStore(root).resolve(ref);
  if (!rec.spec) throw new MinidockError(`container ${ref} has no record of how it was made`, { step: 'image.commit', exitCode: 1 });
  const { commitContainer } = await import('../image/commit.js');
  const api = native();
  const id = await commitContainer(store(root), rec.spec, new StateStore(root).paths(rec.id).upper, {
    ...(name ? { ref: name } : {}), changes: o.changes, ...(o.message ? { message: o.message } : {}), ...(o.author ? { author: o.author } : {}),
    isOpaque: (p) => api.isOpaque(p), mark: api.layerMark,
  });
  return `sha256:${id}\n`;
}

/** `diff CONTAINER`: what the container changed, A/C/D and the path. */
export async function diffCommand(root: string, ref: string): Promise<string> {
  const state = new StateStore(root);
  const rec = state.resolve(ref);
  if (!rec.spec) throw new MinidockError(`container ${ref} has no record of how it was made`, { step: 'image.diff', exitCode: 1 });
  const { inLayers, lowerDirs, upperChanges } = await import('../image/commit.js');
  const dirs = lowerDirs(rec.spec, store(root));
  const api = native();
  return upperChanges(state.paths(rec.id).upper, { isOpaque: (p) => api.isOpaque(p), inImage: (r) => inLayers(dirs, r) }).map((c) => `${c.kind} ${c.path}\n`).join('');
}

/** `pull [-a] [-q] [--platform OS/ARCH] REF`: docker's lines, then the full reference (the
 *  repository's, for -a). */
export async function pullCommand(root: string, refText: string, o: { quiet: boolean; platform?: string; allTags?: boolean }): Promise<number> {
  const { fullName, parseReference } = await import('../registry/reference.js');
  const { pullReporting } = await import('../image/pull.js');
  parseReference(refText); // a bad reference is refused before any line
  if (!/[:@]/.test(refText.slice(refText.lastIndexOf('/') + 1)) && !o.quiet && !o.allTags) process.stdout.write('Using default tag: latest\n');
  const r = await pullReporting(store(root), refText, { ...(o.platform ? { platform: o.platform } : {}), quiet: o.quiet, ...(o.allTags ? { allTags: true } : {}), out: process.stdout });
  process.stdout.write(`${fullName(r.ref)}\n`);
  return 0;
}

/** `push NAME:TAG`: docker's lines, the manifest's digest last. */
export async function pushCommand(root: string, refText: string): Promise<number> {
  const { parseReference } = await import('../registry/reference.js');
  const { pushImage, uploadChunk } = await import('../image/push.js');
  const insecure = (await import('../registry/reference.js')).insecureRegistries();
  const ref = parseReference(refText);
  const credentials = (await import('../registry/credentials.js')).credentialsFor(ref.registry);
  const chunkSize = uploadChunk();
  await pushImage(store(root), ref, { say: (line) => process.stdout.write(`${line}\n`), insecure, ...(credentials ? { credentials } : {}), ...(chunkSize ? { chunkSize } : {}) });
  return 0;
}

/** `login [-u USER] [-p PASS | --password-stdin] [REGISTRY]`: checked against the registry, then
 *  stored (src/registry/credentials.ts). */
export async function loginCommand(registry: string | undefined, o: { username?: string; password?: string; passwordStdin: boolean }): Promise<number> {
  const { DOCKER_HUB, parseReference } = await import('../registry/reference.js');
  const { RegistryClient } = await import('../registry/client.js');
  const { storeCredentials } = await import('../registry/credentials.js');
  const host = (registry ?? DOCKER_HUB).replace(/^https?:\/\//, '').replace(/\/.*$/, '');
  if (o.password !== undefined && o.passwordStdin) throw usageError('--password and --password-stdin are mutually exclusive');
  let password = o.password;
  if (password !== undefined) process.stderr.write('WARNING! Using --password via the CLI is insecure. Use --password-stdin.\n');
  if (o.passwordStdin) {
    if (!o.username) throw usageError('Must provide --username with --password-stdin');
    const chunks: Buffer[] = [];
    for await (const c of process.stdin) chunks.push(c as Buffer);
    password = Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
  }
  if (!o.username || password === undefined) {
    throw usageError('Cannot perform an interactive login from a non TTY device', 'give -u USER and --password-stdin');
  }
  // The API root of the registry: any repository name serves the reference's host parsing.
  const ref = { ...parseReference(`${host}/x`), repository: '' };
  const insecure = (await import('../registry/reference.js')).insecureRegistries();
  await new RegistryClient(ref, { credentials: { username: o.username, password }, insecure }).login();
  storeCredentials(host, { username: o.username, password });
  process.stdout.write('Login Succeeded\n');
  return 0;
}

export async function logoutCommand(registry: string | undefined): Promise<number> {
  const { DOCKER_HUB } = await import('../registry/reference.js');
  const { removeCredentials } = await import('../registry/credentials.js');
  const host = (registry ?? DOCKER_HUB).replace(/^https?:\/\//, '').replace(/\/.*$/, '');
  if (removeCredentials(host)) process.stdout.write(`Removing login credentials for ${host}\n`);
  else process.stdout.write(`Not logged in to ${host}\n`);
  return 0;
}
