// Unpacks a root filesystem tarball (.tar, .tar.gz/.tgz, .tar.xz) into a new directory, safely.
// Side-effecting: the one file that imports the tar library.
//
// Two passes. node-tar's parser reads the headers first: a file that is not a tar archive, or
// one that expands past the size limit (a decompression bomb), fails here with a clear error
// before anything is written. GNU tar then extracts. node-tar's own extractor is built for npm
// packages and rewrites absolute symlink targets, which a root filesystem is full of
// (/bin/sh -> /bin/busybox must stay as it is: it is resolved inside the container's root).
// GNU tar keeps them, strips a leading "/" from member names, skips members with "..", and
// creates symlinks that point outside the tree as placeholders until the end of the archive,
// so no later member can be written through one (tar(1), "--absolute-names" off). Owners are
// numeric (no lookup in the host's passwd). Device nodes and FIFOs are deleted afterwards: a
// container gets its /dev from minidock, never from an image.
import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import type * as Tar from 'tar';
import { childProcess, streamPromises, tarLib } from '../core/lazy.js';
import { MinidockError } from '../core/errors.js';

/** Unpacked size past which an archive is refused (a decompression bomb): 16 GiB, or
 *  MINIDOCK_MAX_IMAGE_BYTES. */
export const MAX_IMAGE_BYTES = Number(process.env.MINIDOCK_MAX_IMAGE_BYTES) > 0 ? Number(process.env.MINIDOCK_MAX_IMAGE_BYTES) : 16 * 1024 ** 3;

/** GNU tar's flags for a root filesystem or a layer (see the header). */
const TAR_X = ['--numeric-owner', '--same-owner', '--same-permissions', '--no-acls', '--no-xattrs', '--delay-directory-restore'];

export interface UnpackResult {
  bytes: number;
  entries: number;
}

const isXz = (file: string): boolean => /\.(txz|tar\.xz)$/.test(file);

/** The archive's decompressed byte stream: node-tar handles gzip itself, xz goes through xz(1). */
function openArchive(file: string): { stream: Readable; done: Promise<void> } {
  const input = createReadStream(file);
  if (!isXz(file)) return { stream: input, done: Promise.resolve() };
  const xz = childProcess().spawn('xz', ['-dc'], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  xz.stderr.on('data', (d) => (stderr += d));
  input.pipe(xz.stdin);
  xz.stdin.on('error', () => { /* xz exited early; its status says why */ });
  const done = new Promise<void>((resolve, reject) => {
    xz.on('error', reject);
    xz.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`xz: ${stderr.trim() || `exit ${code}`}`))));
  });
  return { stream: xz.stdout, done };
}

/** Reads every header (not the data): refuses what is no tar, a bomb, or too big. `onName` sees
 *  each member's name, as the archive gives it. */
export async function scanTarball(file: string, maxBytes = MAX_IMAGE_BYTES, onName?: (name: string) => void): Promise<UnpackResult> {
  const result: UnpackResult = { bytes: 0, entries: 0 };
  let invalid: string | undefined;
  const parser = new (tarLib().Parser)({
    strict: true,
    onwarn: (code, message) => { invalid ??= `${code}: ${message}`; },
  });
  parser.on('entry', (entry: Tar.ReadEntry) => {
    result.entries++;
    result.bytes += entry.size ?? 0;
    onName?.(entry.path);
    entry.resume();
  });
  const { stream, done } = openArchive(file);
  try {
    await Promise.all([streamPromises().pipeline(stream, parser), done]);
  } catch (err) {
    invalid ??= (err as Error).message;
  }
  if (invalid && /decompression ratio/.test(invalid)) {
    // node-tar's own guard for gzip: an archive that inflates more than 1000 times its size.
    throw new MinidockError(`cannot unpack ${file}: it inflates more than 1000 times its size, like a decompression bomb`, { step: 'image.scan' });
  }
  if (invalid || result.entries === 0) {
    throw new MinidockError(`cannot unpack ${file}: not a tar archive, or a truncated one${invalid ? ` (${invalid})` : ''}`, {
      step: 'image.scan',
      hint: 'give a .tar, .tar.gz or .tar.xz of a root filesystem',
    });
  }
  if (result.bytes > maxBytes) {
    throw new MinidockError(`cannot unpack ${file}: it expands to ${result.bytes} bytes, more than the limit of ${maxBytes}`, { step: 'image.scan' });
  }
  return result;
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

export async function unpackTarball(file: string, dest: string, maxBytes = MAX_IMAGE_BYTES): Promise<UnpackResult> {
  const result = await scanTarball(file, maxBytes);
  await runTool('tar', ['-x', '-f', file, '-C', dest, ...TAR_X], 'image.extract');
  await runTool('find', [dest, '(', '-type', 'b', '-o', '-type', 'c', '-o', '-type', 'p', ')', '-delete'], 'image.devices');
  return result;
}

/**
 * One image layer into `dest` (a new, empty directory), as overlayfs's lower directory: as
 * unpackTarball, and the OCI whiteouts (src/image/whiteout.ts) turned into overlay's. The
 * ".wh." members are not extracted; after the device nodes are dropped, each whiteout becomes a
 * 0:0 character device and each opaque marker the xattr on its directory (`mark`: the native
 * layerMark, which opens every component below `dest` without following a symlink).
 */
export async function unpackLayer(
  file: string, dest: string, mark: (root: string, rel: string, kind: 'whiteout' | 'opaque') => void, maxBytes = MAX_IMAGE_BYTES,
): Promise<UnpackResult & { whiteouts: number; opaque: number }> {
  const { classifyEntry } = await import('./whiteout.js');
  const marks: Array<ReturnType<typeof classifyEntry>> = [];
  const result = await scanTarball(file, maxBytes, (name) => {
    const e = classifyEntry(name);
    if (e.kind !== 'plain') marks.push(e);
  });
  await runTool('tar', ['-x', '-f', file, '-C', dest, ...TAR_X, '--exclude=.wh.*'], 'image.extract');
  await runTool('find', [dest, '(', '-type', 'b', '-o', '-type', 'c', '-o', '-type', 'p', ')', '-delete'], 'image.devices');
  let whiteouts = 0;
  let opaque = 0;
  for (const m of marks) {
    if (m.kind === 'skip' || m.kind === 'plain') continue;
    const rel = m.kind === 'whiteout' ? m.path : m.dir;
    try {
      mark(dest, rel, m.kind);
    } catch (err) {
      const code = (err as { code?: string }).code;
      throw new MinidockError(`cannot unpack ${file}: its ${m.kind === 'whiteout' ? 'whiteout of' : 'opaque marker in'} ${rel || '/'} failed: ${code ?? (err as Error).message}`, {
        step: `image.layer.${m.kind}`,
        hint: code === 'ELOOP' || code === 'ENOTDIR' ? 'a path in the layer goes through a symlink: the layer is damaged or hostile' : 'see the error',
        cause: err,
        exitCode: 1,
      });
    }
    if (m.kind === 'whiteout') whiteouts++;
    else opaque++;
  }
  return { ...result, whiteouts, opaque };
}

