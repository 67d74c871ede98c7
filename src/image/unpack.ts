// A layer tar into the directory overlayfs will use as one lower layer, in one pass over its
// bytes (issue #15). Side-effecting: the one file that imports the tar library and runs tar(1).
//
// The bytes come from a byte range of a file (a member of a `docker save` archive read in
// place, a blob of an OCI layout, a tarball given to `import`) or from a stream (a registry's
// blob as it downloads, so a pull unpacks while it downloads) and flow once through:
//
//   range of FILE or stream ─ sha256 (the blob's digest) ─ [copy to the blob store] ─ gunzip/xz/zstd
//     ─ sha256 + byte count (the diff id; past the size limit: a decompression bomb, stopped)
//     ├─ node-tar's parser: headers only (not a tar, truncated; the whiteout names)
//     └─ GNU tar -x into the staging directory
//
// node-tar's own extractor is built for npm packages and rewrites absolute symlink targets,
// which a root filesystem is full of (/bin/sh -> /bin/busybox must stay as it is: it is resolved
// inside the container's root). GNU tar keeps them, strips a leading "/" from member names,
// skips members with "..", and creates symlinks that point outside the tree as placeholders
// until the end of the archive, so no later member can be written through one (tar(1),
// "--absolute-names" off). Owners are numeric (no lookup in the host's passwd). Device nodes and
// FIFOs are deleted afterwards: a container gets its /dev from minidock, never from an image.
// Then the OCI whiteouts (src/image/whiteout.ts) become overlay's: the ".wh." members are not
// extracted; each whiteout becomes a 0:0 character device and each opaque marker the xattr on
// its directory (`mark`: the native layerMark, which opens every component below the layer
// without following a symlink). The caller verifies the digests and renames the directory into
// the store: a layer that fails any check never lands.
import { closeSync, createReadStream, createWriteStream, openSync, readSync, statSync } from 'node:fs';
import { Readable, Transform, type Writable } from 'node:stream';
import type * as Tar from 'tar';
import { childProcess, cryptoLib, streamPromises, tarLib, zlibLib } from '../core/lazy.js';
import { MinidockError } from '../core/errors.js';
import type { Compression } from './archive.js';

/** Unpacked size past which an image is refused (a decompression bomb): 16 GiB, or
 *  MINIDOCK_MAX_IMAGE_BYTES. */
export const maxImageBytes = (): number => Number(process.env.MINIDOCK_MAX_IMAGE_BYTES) > 0 ? Number(process.env.MINIDOCK_MAX_IMAGE_BYTES) : 16 * 1024 ** 3;

/** GNU tar's flags for a layer (see the header). */
const TAR_X = ['--numeric-owner', '--same-owner', '--same-permissions', '--no-acls', '--no-xattrs', '--delay-directory-restore', '--exclude=.wh.*'];

/** Where a layer's bytes are: `size` bytes of `file` from `offset`. */
export interface ByteRange {
  file: string;
  offset: number;
  size: number;
  /** How the layer is named in errors (the archive member, the blob digest). */
  label: string;
}

/** A layer's bytes as they arrive (a download); `label` as ByteRange's. */
export interface StreamSource {
  stream: AsyncIterable<Buffer>;
  label: string;
}

export type LayerSource = ByteRange | StreamSource;

/** The first 8 bytes of a stream (to sniff its compression) and the whole stream again. The
 *  rest is delegated with yield*, so a consumer that stops early also ends the source (a
 *  download's connection is dropped, not left to stall). */
async function peek(source: AsyncIterable<Buffer>): Promise<{ head: Buffer; stream: Readable }> {
  const it = source[Symbol.asyncIterator]();
  const first: Buffer[] = [];
  let n = 0;
  while (n < 8) {
    const r = await it.next();
    if (r.done) break;
    first.push(r.value);
    n += r.value.length;
  }
  const head = Buffer.concat(first);
  async function* again(): AsyncGenerator<Buffer> {
    if (head.length) yield head;
    yield* { [Symbol.asyncIterator]: () => it };
  }
  return { head, stream: Readable.from(again(), { objectMode: false }) };
}

export type LayerCompression = Compression | 'xz';

export interface IngestResult {
  /** sha256 of the bytes as stored (compressed or not): the blob's digest. */
  blobDigest: string;
  blobSize: number;
  /** sha256 of the uncompressed tar: the layer's diff id. */
  diffId: string;
  compression: LayerCompression;
  /** Uncompressed bytes (the tar's length), and members. */
  bytes: number;
  /** What the regular files hold, summed: docker's SIZE of a layer (its diff's content). */
  contentBytes: number;
  entries: number;
  whiteouts: number;
  opaque: number;
}

export type Mark = (root: string, rel: string, kind: 'whiteout' | 'opaque') => void;

/** The compression of a byte stream, from its first bytes (what docker and containerd do: a
 *  docker-archive's media types say nothing, and an OCI one may be wrong). */
export function sniffCompression(head: Buffer): LayerCompression {
  if (head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
  if (head.readUInt32LE(0) === 0xfd2fb528) return 'zstd';
  if (head.subarray(0, 6).equals(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]))) return 'xz';
  return 'none';
}

function readHead(r: ByteRange): Buffer {
  const fd = openSync(r.file, 'r');
  try {
    const b = Buffer.alloc(8); // zero-filled past a short read: sniffs as "none"
    readSync(fd, b, 0, Math.min(8, r.size), r.offset);
    return b;
  } finally {
    closeSync(fd);
  }
}

/** How much larger than its compressed form a layer may grow (node-tar's rule, kept from the
 *  flat importer): beyond it the stream is a decompression bomb, not an image. */
const MAX_RATIO = 1000;

/** A stream stage that hashes and counts what passes. `limit` stops a bomb by size, and
 *  `ratioOf` (the compressed bytes read so far) by ratio. */
function tap(limit: number, what: () => string, ratioOf?: () => number): Transform & { digest: () => string; bytes: () => number } {
  const h = cryptoLib().createHash('sha256');
  let n = 0;
  const bomb = (why: string): MinidockError => new MinidockError(`cannot unpack ${what()}: ${why}, like a decompression bomb`, { step: 'image.layer.size', hint: 'set MINIDOCK_MAX_IMAGE_BYTES to allow larger images', exitCode: 1 });
  const t = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      n += chunk.length;
      if (n > limit) return cb(bomb(`it expands to more than ${limit} bytes`));
      if (ratioOf && n > 1 << 24 && n > MAX_RATIO * ratioOf()) return cb(bomb(`it inflates more than ${MAX_RATIO} times its size`));
      h.update(chunk);
      cb(null, chunk);
    },
  }) as Transform & { digest: () => string; bytes: () => number };
  let hex: string | undefined;
  t.digest = () => `sha256:${(hex ??= h.digest('hex'))}`;
  t.bytes = () => n;
  return t;
}

/** A child process as a stream stage (xz -dc, zstd -dc), failing with its stderr. */
function toolStage(cmd: string, args: string[], step: string): { stage: Transform; done: Promise<void> } {
  const p = childProcess().spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  p.stderr!.on('data', (d) => (stderr += d));
  const done = new Promise<void>((resolve, reject) => {
    p.on('error', (err) => reject(new MinidockError(`${cmd}: ${err.message}`, { step, cause: err })));
    p.on('close', (code) => (code === 0 ? resolve() : reject(new MinidockError(`${cmd} failed: ${stderr.trim().split('\n').pop() || `exit ${code}`}`, { step }))));
  });
  // A duplex of the child's stdin and stdout: what the pipeline writes goes in, its output on.
  const stage = new Transform({
    transform(chunk, _e, cb) {
      if (!p.stdin!.write(chunk)) p.stdin!.once('drain', () => cb());
      else cb();
    },
    flush(cb) {
      p.stdin!.end();
      p.stdout!.on('end', () => cb());
    },
  });
  p.stdout!.on('data', (d) => stage.push(d));
  p.stdin!.on('error', () => { /* the tool exited early; its status says why */ });
  return { stage, done };
}

function runTool(cmd: string, args: string[], step: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const p = childProcess().spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    p.stderr.on('data', (d) => (stderr += d));
    p.on('error', (err) => reject(new MinidockError(`${cmd}: ${err.message}`, { step, cause: err })));
    p.on('close', (code) =>
      code === 0 ? resolve() : reject(new MinidockError(`${cmd} failed: ${stderr.trim().split('\n').slice(-3).join('; ')}`, { step })));
  });
}

/**
 * One layer from `src` into `dest` (a new, empty directory), as overlay's lower directory; with
 * `blobCopy`, the bytes as they came are also written there (the blob store's temporary file).
 * `expectBlob`, the digest the archive states, is checked first when the bytes are all read (a
 * damaged layer is reported as the mismatch it is); the caller compares the diff id.
 */
export async function ingestLayer(src: LayerSource, dest: string, o: { mark: Mark; blobCopy?: string; maxBytes?: number; haveZstd?: boolean; expectBlob?: string }): Promise<IngestResult> {
  const maxBytes = o.maxBytes ?? maxImageBytes();
  const input = 'stream' in src ? await peek(src.stream) : undefined;
  if (input ? input.head.length === 0 : (src as ByteRange).size === 0) throw new MinidockError(`${src.label} is empty, not a layer`, { step: 'image.layer.read', exitCode: 1 });
  const head = input ? Buffer.concat([input.head, Buffer.alloc(8)]).subarray(0, 8) : readHead(src as ByteRange);
  const compression = sniffCompression(head);
  if (compression === 'zstd' && !o.haveZstd) {
    throw new MinidockError(`${src.label} is zstd-compressed, and this host has no zstd`, { step: 'image.layer.zstd', hint: 'apt-get install zstd, or save the image with gzip layers', exitCode: 1 });
  }
  const { classifyEntry } = await import('./whiteout.js');
  const raw = tap(Number.MAX_SAFE_INTEGER, () => src.label);
  const plain = tap(maxBytes, () => src.label, compression === 'none' ? undefined : () => raw.bytes());
  const first = input ? input.stream : createReadStream((src as ByteRange).file, { start: (src as ByteRange).offset, end: (src as ByteRange).offset + (src as ByteRange).size - 1, highWaterMark: 1 << 20 });
  const stages: Array<Readable | Transform | Writable> = [first, raw];
  const waits: Array<Promise<void>> = [];
  // The blob copy is a side branch of the bytes: written as they pass, flushed before the end.
  // It is taken of the bytes as they came, except for xz, which is no layer media type: an xz
  // tarball given to `import` is kept as the plain tar it holds (its digest is the diff id).
  const keepPlain = compression === 'xz';
  const copyStage = (file: string): Transform => {
    const out = createWriteStream(file, { flags: 'wx', mode: 0o600 });
    const copy = new Transform({
      transform(chunk, _e, cb) {
        if (!out.write(chunk)) out.once('drain', () => cb(null, chunk));
        else cb(null, chunk);
      },
      flush(cb) {
        out.end(() => cb());
      },
    });
    out.on('error', (err) => copy.destroy(err));
    return copy;
  };
  if (o.blobCopy && !keepPlain) stages.push(copyStage(o.blobCopy));
  if (compression === 'gzip') stages.push(zlibLib().createGunzip());
  else if (compression !== 'none') {
    const t = toolStage(compression, ['-dc'], `image.layer.${compression}`);
    stages.push(t.stage);
    waits.push(t.done);
  }
  stages.push(plain);
  if (o.blobCopy && keepPlain) stages.push(copyStage(o.blobCopy));

  // The two readers of the plain tar: node-tar's parser (names, validity) and GNU tar (files).
  const marks: Array<ReturnType<typeof classifyEntry>> = [];
  let entries = 0;
  let invalid: string | undefined;
  let refused: Error | undefined;
  const parser = new (tarLib().Parser)({ strict: true, onwarn: (code, message) => { invalid ??= `${code}: ${message}`; } });
  // strict: a damaged header is an 'error' event; noted, and the bytes keep flowing so that the
  // blob's digest is still computed over all of them (a mismatch is the better report).
  parser.on('error', (err: Error) => { invalid ??= err.message; });
  let contentBytes = 0;
  parser.on('entry', (entry: Tar.ReadEntry) => {
    entries++;
    if (entry.type === 'File' || entry.type === 'OldFile' || entry.type === 'ContiguousFile') contentBytes += entry.size ?? 0;
    try {
      const e = classifyEntry(entry.path);
      if (e.kind === 'whiteout' || e.kind === 'opaque') marks.push(e);
    } catch (err) {
      refused ??= err as Error;
    }
    entry.resume();
  });
  const tar = childProcess().spawn('tar', ['-x', '-f', '-', '-C', dest, ...TAR_X], { stdio: ['pipe', 'ignore', 'pipe'] });
  let tarErr = '';
  tar.stderr.on('data', (d) => (tarErr += d));
  // tar may exit early (a damaged archive): from then on its share of the bytes is dropped, and
  // a write waiting for 'drain' is released, so the digests still see every byte.
  let tarGone = false;
  let pending: (() => void) | undefined;
  const gone = (): void => {
    tarGone = true;
    pending?.();
    pending = undefined;
  };
  const tarDone = new Promise<number>((resolve, reject) => {
    tar.on('error', reject);
    tar.on('close', (code) => {
      gone();
      resolve(code ?? 1);
    });
  });
  tar.stdin.on('error', gone);
  const fanOut = new Transform({
    transform(chunk, _e, cb) {
      if (!invalid) parser.write(chunk);
      if (tarGone || tar.stdin.write(chunk)) return cb();
      pending = () => cb();
      tar.stdin.once('drain', () => {
        pending = undefined;
        cb();
      });
    },
    flush(cb) {
      if (!invalid) parser.end();
      if (!tarGone) tar.stdin.end();
      cb();
    },
  });
  stages.push(fanOut);
  try {
    await Promise.all([streamPromises().pipeline(stages as unknown as ReadonlyArray<NodeJS.ReadWriteStream>), ...waits]);
  } catch (err) {
    tar.kill('SIGKILL');
    await tarDone.catch(() => 1);
    if (err instanceof MinidockError) throw err;
    throw new MinidockError(`cannot read ${src.label}: ${(err as Error).message}`, { step: 'image.layer.read', cause: err, exitCode: 1 });
  }
  const code = await tarDone;
  if (o.expectBlob && raw.digest() !== o.expectBlob) {
    throw new MinidockError(`${src.label} does not match its digest: it is ${raw.digest()}, the manifest says ${o.expectBlob}`, { step: 'image.layer.digest', hint: 'the archive is damaged or was altered; get it again', exitCode: 1 });
  }
  if (refused) throw refused;
  if (invalid || entries === 0) {
    throw new MinidockError(`${src.label} is not a tar archive, or a truncated one${invalid ? ` (${invalid})` : ''}`, { step: 'image.layer.scan', exitCode: 1 });
  }
  if (code !== 0) throw new MinidockError(`tar failed on ${src.label}: ${tarErr.trim().split('\n').slice(-3).join('; ')}`, { step: 'image.layer.extract', exitCode: 1 });
  await runTool('find', [dest, '(', '-type', 'b', '-o', '-type', 'c', '-o', '-type', 'p', ')', '-delete'], 'image.layer.devices');
  let whiteouts = 0;
  let opaque = 0;
  for (const m of marks) {
    if (m.kind !== 'whiteout' && m.kind !== 'opaque') continue;
    const rel = m.kind === 'whiteout' ? m.path : m.dir;
    try {
      o.mark(dest, rel, m.kind);
    } catch (err) {
      const code = (err as { code?: string }).code;
      throw new MinidockError(`${src.label}: its ${m.kind === 'whiteout' ? 'whiteout of' : 'opaque marker in'} ${rel || '/'} failed: ${code ?? (err as Error).message}`, {
        step: `image.layer.${m.kind}`,
        hint: code === 'ELOOP' || code === 'ENOTDIR' ? 'a path in the layer goes through a symlink: the layer is damaged or hostile' : 'see the error',
        cause: err,
        exitCode: 1,
      });
    }
    if (m.kind === 'whiteout') whiteouts++;
    else opaque++;
  }
  const stored = keepPlain ? plain : raw;
  return { blobDigest: stored.digest(), blobSize: stored.bytes(), diffId: plain.digest(), compression: keepPlain ? 'none' : compression, bytes: plain.bytes(), contentBytes, entries, whiteouts, opaque };
}

/** A whole layer file (a tarball given to `import`, a test's layer). */
export function unpackLayer(file: string, dest: string, mark: Mark, o: { maxBytes?: number; blobCopy?: string } = {}): Promise<IngestResult> {
  return ingestLayer({ file, offset: 0, size: statSync(file).size, label: file }, dest, { mark, ...o });
}
