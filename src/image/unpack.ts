// Unpacks a root filesystem tarball (.tar, .tar.gz/.tgz, .tar.xz) into a new directory, safely.
// Side-effecting: the one file that imports the tar library.
//
// Safety comes from two layers. node-tar (without preservePaths) strips leading "/", refuses
// entries with ".." and never writes through a symlink that an earlier entry planted. On top of
// that this filter drops device nodes and FIFOs (a container must not get host devices from an
// image) and bounds the total size, so a decompression bomb ends with a clear error.
import { spawn } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import * as tar from 'tar';
import { MinidockError } from '../core/errors.js';

export const MAX_IMAGE_BYTES = 16 * 1024 ** 3;

export interface UnpackResult {
  bytes: number;
  entries: number;
  skipped: string[];
}

export async function unpackTarball(file: string, dest: string, maxBytes = MAX_IMAGE_BYTES): Promise<UnpackResult> {
  const result: UnpackResult = { bytes: 0, entries: 0, skipped: [] };
  let tooBig = false;
  const extractor = tar.x({
    cwd: dest,
    preservePaths: false,
    preserveOwner: true,
    strict: true,
    filter: (path, entry) => {
      const type = (entry as tar.ReadEntry).type;
      if (type === 'CharacterDevice' || type === 'BlockDevice' || type === 'FIFO') {
        result.skipped.push(path);
        return false;
      }
      result.entries++;
      result.bytes += (entry as tar.ReadEntry).size ?? 0;
      if (result.bytes > maxBytes) {
        tooBig = true;
        return false;
      }
      return true;
    },
  });
  const input = createReadStream(file);
  try {
    if (/\.(txz|tar\.xz)$/.test(file)) {
      // node-tar reads gzip itself; xz goes through the system's xz (xz-utils).
      const xz = spawn('xz', ['-dc'], { stdio: ['pipe', 'pipe', 'pipe'] });
      let stderr = '';
      xz.stderr.on('data', (d) => (stderr += d));
      const exited = new Promise<number>((resolve, reject) => {
        xz.on('error', reject);
        xz.on('close', (code) => resolve(code ?? 1));
      });
      await Promise.all([pipeline(input, xz.stdin), pipeline(xz.stdout, extractor)]);
      const code = await exited;
      if (code !== 0) throw new Error(`xz: ${stderr.trim() || `exit ${code}`}`);
    } else {
      await pipeline(input, extractor);
    }
  } catch (err) {
    const msg = (err as Error).message ?? String(err);
    throw new MinidockError(`cannot unpack ${file}: ${/TAR_BAD_ARCHIVE|invalid|unexpected end|zlib|incorrect header/i.test(msg) ? 'not a tar archive, or a truncated one' : msg}`, {
      step: 'image.unpack',
      hint: 'give a .tar, .tar.gz or .tar.xz of a root filesystem',
      cause: err,
    });
  }
  if (tooBig) {
    throw new MinidockError(`cannot unpack ${file}: it expands to more than ${maxBytes} bytes`, { step: 'image.unpack' });
  }
  if (result.entries === 0) {
    throw new MinidockError(`cannot unpack ${file}: not a tar archive, or an empty one`, { step: 'image.unpack' });
  }
  return result;
}
