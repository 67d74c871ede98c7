// The image store: root filesystems under $ROOT/images/<id>/rootfs with their config, and the
// name:tag index. Side-effecting (fs). An image is never modified after import: containers use
// it as overlay's read-only lower layer.
import { chmodSync, chownSync, createReadStream, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, realpathSync, renameSync, rmSync, statSync } from 'node:fs';
import { cryptoLib } from '../core/lazy.js';
import { join, resolve as resolvePath } from 'node:path';
import { randomHex } from '../runtime/ids.js';
import { createRequire } from 'node:module';
import { MinidockError, errnoOf } from '../core/errors.js';
import { writeFileAtomic } from '../core/atomic-file.js';
import { privateDir, secureRoot } from '../core/state-perms.js';
import type { ImageConfig } from '../spec/image-change.js';
import { formatImageRef, parseImageRef } from '../spec/image-ref.js';

export interface ImageMeta {
  id: string;
  created: number;
  size: number;
  /** The file or directory it was imported from. */
  source: string;
  config: ImageConfig;
}

/** What a container is made from: a stored image, or a directory used in place. */
export interface ResolvedImage {
  ref: string;
  id?: string;
  rootfs: string;
  config: ImageConfig;
}

export class ImageStore {
  readonly dir: string;

  constructor(readonly root: string) {
    this.dir = join(root, 'images');
  }

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

  meta(id: string): ImageMeta {
    return JSON.parse(readFileSync(join(this.dir, id, 'image.json'), 'utf8')) as ImageMeta;
  }

  list(): Array<ImageMeta & { tags: string[] }> {
    let ids: string[];
    try {
      ids = readdirSync(this.dir).filter((n) => /^[0-9a-f]{64}$/.test(n));
    } catch (err) {
      if (errnoOf(err) === 'ENOENT') return [];
      throw err;
    }
    const tags = this.tags();
    return ids.flatMap((id) => {
      try {
        return [{ ...this.meta(id), tags: Object.keys(tags).filter((t) => tags[t] === id) }];
      } catch {
        return []; // an import that died half-way; its directory has no image.json
      }
    });
  }

  /** IMAGE as typed on the command line: a name[:tag], an image id prefix, a directory, or a tarball. */
  async resolve(ref: string, looksLikePath: boolean): Promise<ResolvedImage> {
    if (looksLikePath) return this.resolvePath(ref);
    const { name, tag } = parseImageRef(ref);
    const id = this.tags()[formatImageRef({ name, tag })] ?? this.byIdPrefix(ref);
    if (!id) {
      throw new MinidockError(`image "${ref}" not found`, {
        step: 'image.resolve',
        hint: 'minidock images lists what is there; minidock import adds one',
      });
    }
    return { ref, id, rootfs: join(this.dir, id, 'rootfs'), config: this.meta(id).config };
  }

  private byIdPrefix(ref: string): string | undefined {
    if (!/^(sha256:)?[0-9a-f]{4,64}$/.test(ref)) return undefined;
    const prefix = ref.replace(/^sha256:/, '');
    const hits = this.list().filter((m) => m.id.startsWith(prefix));
    return hits.length === 1 ? hits[0]!.id : undefined;
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
    if (!st.isFile()) {
      throw new MinidockError(`image "${ref}" must be a regular file or a directory`, { step: 'image.resolve' });
    }
    const meta = await this.importTarball(path, []);
    return { ref, id: meta.id, rootfs: join(this.dir, meta.id, 'rootfs'), config: meta.config };
  }

  /** `minidock import`: stores FILE or DIR, tags it NAME[:TAG], applies `--change` config. */
  async import(source: string, ref: string | undefined, config: ImageConfig): Promise<ImageMeta> {
    const tag = ref === undefined ? undefined : formatImageRef(parseImageRef(ref));
    const path = resolvePath(source);
    let st;
    try {
      st = lstatSync(path);
    } catch {
      throw new MinidockError(`cannot import ${source}: no such file or directory`, { step: 'image.import' });
    }
    let meta: ImageMeta;
    if (st.isDirectory()) meta = this.importDirectory(realpathSync(path), config);
    else if (st.isFile()) meta = await this.importTarball(path, config);
    else throw new MinidockError(`cannot import ${source}: it must be a regular file or a directory`, { step: 'image.import' });
    if (tag) this.tag(tag, meta.id);
    return meta;
  }

  private async importTarball(path: string, config: ImageConfig | []): Promise<ImageMeta> {
    // The id is the digest of the archive and its config: importing the same file twice is free.
    const digest = await sha256File(path);
    const cfg = Array.isArray(config) ? {} : config;
    const id = cryptoLib().createHash('sha256').update(digest).update(JSON.stringify(cfg)).digest('hex');
    if (existsSync(join(this.dir, id, 'image.json'))) return this.meta(id);
    const { unpackTarball } = await import('./unpack.js');
    return this.commit(id, path, cfg, async (rootfs) => (await unpackTarball(path, rootfs)).bytes);
  }

  private importDirectory(path: string, config: ImageConfig): ImageMeta {
    refuseHostDirs(path, this.root);
    const id = randomHex(32);
    let size = 0;
    // commit() is async for tarballs; a directory copy is one cp process.
    const work = this.staging(id);
    try {
      run('cp', ['-a', '--reflink=auto', `${path}/.`, work.rootfs]);
      // Device nodes stay behind: a container gets its /dev from minidock, never from an image.
      run('find', [work.rootfs, '(', '-type', 'b', '-o', '-type', 'c', '-o', '-type', 'p', ')', '-delete']);
      size = Number(run('du', ['-sb', work.rootfs]).split('\t')[0]) || 0;
      return this.finish(work, { id, created: Date.now(), size, source: path, config });
    } catch (err) {
      rmSync(work.dir, { recursive: true, force: true });
      throw this.importFailure(path, err);
    }
  }

  private staging(id: string): { dir: string; rootfs: string; final: string } {
    const tmp = join(this.root, 'tmp');
    secureRoot(this.root);
    privateDir(tmp);
    // images/ is root's alone, never the remapped root's gate: stored images keep host-root-owned
    // setuid binaries (containers see them through an idmapped mount made by root).
    privateDir(this.dir);
    // The creator's pid in the name lets `minidock gc` remove what a killed import left.
    const dir = join(tmp, `image-${id.slice(0, 12)}-${process.pid}-${randomHex(4)}`);
    mkdirSync(dir);
    const rootfs = join(dir, 'rootfs');
    mkdirSync(rootfs, { mode: 0o755 });
    return { dir, rootfs, final: join(this.dir, id) };
  }

  private async commit(id: string, source: string, config: ImageConfig, fill: (rootfs: string) => Promise<number>): Promise<ImageMeta> {
    const work = this.staging(id);
    try {
      const size = await fill(work.rootfs);
      return this.finish(work, { id, created: Date.now(), size, source, config });
    } catch (err) {
      rmSync(work.dir, { recursive: true, force: true });
      throw this.importFailure(source, err);
    }
  }

  /** A full disk reads as one line naming the filesystem to free, whichever step hit it (tar,
   *  cp and Node's own writes each say it their way, cp once per file). */
  private importFailure(source: string, err: unknown): unknown {
    const text = err instanceof Error ? err.message : String(err);
    if (errnoOf(err) !== 'ENOSPC' && errnoOf(err) !== 'EDQUOT' && !/no space left on device|disk quota exceeded/i.test(text)) return err;
    return new MinidockError(`cannot import ${source}: no space left on device under ${this.root}`, {
      step: 'image.import',
      errno: 'ENOSPC',
      hint: 'free space there, or set MINIDOCK_ROOT to a larger filesystem',
      cause: err,
    });
  }

  /** The image appears under images/ by one rename, complete or not at all. */
  private finish(work: { dir: string; rootfs: string; final: string }, meta: ImageMeta): ImageMeta {
    // The image's "/" is root's and 0755, whatever the archive's "./" entry or the copied
    // directory said: a 0777 top directory would let any process that reaches it replace /bin/sh.
    chownSync(work.rootfs, 0, 0);
    chmodSync(work.rootfs, 0o755);
    writeFileAtomic(join(work.dir, 'image.json'), JSON.stringify(meta, null, 2) + '\n');
    try {
      renameSync(work.dir, work.final);
    } catch (err) {
      // A concurrent import of the same archive won the race: theirs is identical.
      rmSync(work.dir, { recursive: true, force: true });
      if (!existsSync(join(work.final, 'image.json'))) throw err;
    }
    return meta;
  }

  tag(tag: string, id: string): void {
    const tags = this.tags();
    tags[tag] = id;
    writeFileAtomic(this.repoFile(), JSON.stringify(tags, null, 2) + '\n');
  }

  /** `minidock rmi`: untags; deletes the image once no tag and no container uses it. */
  remove(ref: string, inUse: (id: string) => string | undefined): { untagged: string[]; deleted?: string } {
    const tags = this.tags();
    let key: string | undefined;
    try {
      key = formatImageRef(parseImageRef(ref));
    } catch {
      key = undefined;
    }
    const id = (key && tags[key]) || this.byIdPrefix(ref);
    if (!id) throw new MinidockError(`no such image: ${ref}`, { step: 'image.remove', hint: 'minidock images lists them' });
    const untagged = key && tags[key] === id ? [key] : Object.keys(tags).filter((t) => tags[t] === id);
    const remaining = Object.keys(tags).filter((t) => tags[t] === id && !untagged.includes(t));
    if (remaining.length === 0) {
      const user = inUse(id);
      if (user) {
        throw new MinidockError(`unable to remove image ${ref}: container ${user.slice(0, 12)} is using it`, {
          step: 'image.remove',
          hint: 'remove that container first (minidock rm)',
        });
      }
    }
    for (const t of untagged) delete tags[t];
    writeFileAtomic(this.repoFile(), JSON.stringify(tags, null, 2) + '\n');
    if (remaining.length > 0) return { untagged };
    rmSync(join(this.dir, id), { recursive: true, force: true });
    rmSync(join(this.root, 'shifted', id), { recursive: true, force: true });
    return { untagged, deleted: id };
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

async function sha256File(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const h = cryptoLib().createHash('sha256');
    createReadStream(path)
      .on('data', (d) => h.update(d))
      .on('error', (err) => reject(new MinidockError(`cannot read ${path}: ${err.message}`, { step: 'image.read', cause: err })))
      .on('end', () => resolve(h.digest('hex')));
  });
}

function run(cmd: string, args: string[]): string {
  // Loaded on use: node:child_process costs ~5 ms to load, and `run` of a stored image needs none.
  const { spawnSync } = createRequire(import.meta.url)('node:child_process') as typeof import('node:child_process');
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.status !== 0) {
    // The last line: cp says one line per file it could not copy.
    throw new MinidockError(`${cmd} failed: ${(r.stderr || r.error?.message || '').trim().split('\n').pop()}`, { step: `image.${cmd}` });
  }
  return r.stdout;
}
