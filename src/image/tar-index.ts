// The member table of an uncompressed tar file, read from its headers alone (issue #15): where
// each member's bytes start and how many there are. `docker save` and an OCI archive are plain
// tars of small JSON files and big layer tars; with the table, the JSON is read in place and each
// layer is streamed straight from its offset into the unpacker: the archive is never extracted
// to a scratch directory first (that would write every layer twice).
//
// Pure: the caller reads bytes at an offset (`readAt`). Handles the forms real archives use:
// ustar (name + prefix), GNU long names ('L'/'K'), pax extended headers ('x': path, linkpath,
// size) and base-256 sizes. Every header's checksum is verified, so a file that is not a tar is
// refused on its first block.
import { MinidockError } from '../core/errors.js';

export interface TarMember {
  name: string;
  /** '0' regular file, '1' hard link, '2' symlink, '5' directory; others as tar(5) defines. */
  type: string;
  /** Offset of the member's first data byte in the file. */
  offset: number;
  size: number;
  linkname?: string;
}

const BLOCK = 512;
/** A pax or GNU long-name header larger than this is no real archive's. */
const MAX_META = 1 << 20;
/** More members than any image archive has: a header loop is refused. */
export const MAX_MEMBERS = 200_000;

const bad = (what: string): MinidockError =>
  new MinidockError(`image archive: ${what}`, { step: 'image.archive.tar', hint: 'give a tar written by docker save, podman save or skopeo', exitCode: 1 });

function cstr(b: Buffer, start: number, len: number): string {
  const end = b.indexOf(0, start);
  return b.toString('utf8', start, end < 0 || end > start + len ? start + len : end);
}

/** A numeric header field: octal text, or GNU's base-256 (high bit of the first byte set). */
export function tarNumber(b: Buffer, start: number, len: number): number {
  if (b[start]! & 0x80) {
    let n = b[start]! & 0x7f;
    for (let i = 1; i < len; i++) n = n * 256 + b[start + i]!;
    return n;
  }
  const text = cstr(b, start, len).trim();
  if (text === '') return 0;
  if (!/^[0-7]+$/.test(text)) return NaN;
  return parseInt(text, 8);
}

function checksumOk(h: Buffer): boolean {
  const stored = tarNumber(h, 148, 8);
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 32 : h[i]!;
  return sum === stored;
}

/** pax records: "LEN key=value\n" each. */
export function parsePax(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  let i = 0;
  const buf = Buffer.from(text, 'utf8');
  while (i < buf.length) {
    const sp = buf.indexOf(0x20, i);
    if (sp < 0) break;
    const len = Number(buf.toString('ascii', i, sp));
    if (!Number.isInteger(len) || len <= 0 || i + len > buf.length) throw bad('a pax header record is malformed');
    const rec = buf.toString('utf8', sp + 1, i + len - 1);
    const eq = rec.indexOf('=');
    if (eq > 0) out[rec.slice(0, eq)] = rec.slice(eq + 1);
    i += len;
  }
  return out;
}

/** The members of a tar of `total` bytes, in archive order (a later member of the same name wins
 *  for the caller, as tar extraction would make it). */
export function indexTar(readAt: (pos: number, len: number) => Buffer, total: number): TarMember[] {
  const members: TarMember[] = [];
  let pos = 0;
  let longName: string | undefined;
  let longLink: string | undefined;
  let pax: Record<string, string> = {};
  while (pos + BLOCK <= total) {
    const h = readAt(pos, BLOCK);
    if (h.length < BLOCK) throw bad('it ends inside a header (truncated)');
    if (h.every((x) => x === 0)) break; // the end-of-archive blocks
    if (!checksumOk(h)) throw bad(pos === 0 ? 'it is not a tar archive' : `the header at byte ${pos} is damaged (bad checksum)`);
    const type = String.fromCharCode(h[156]!) === '\0' ? '0' : String.fromCharCode(h[156]!);
    const paxSize = pax.size !== undefined ? Number(pax.size) : undefined;
    const size = paxSize ?? tarNumber(h, 124, 12);
    if (!Number.isSafeInteger(size) || size < 0) throw bad(`the header at byte ${pos} has no valid size`);
    const data = pos + BLOCK;
    if (data + size > total) throw bad(`member at byte ${pos} runs past the end of the file (truncated)`);
    const next = data + Math.ceil(size / BLOCK) * BLOCK;
    if (type === 'L' || type === 'K' || type === 'x') {
      if (size > MAX_META) throw bad(`a ${size}-byte extended header is larger than any real one`);
      const text = readAt(data, size).toString('utf8');
      if (type === 'L') longName = text.replace(/\0+$/, '');
      else if (type === 'K') longLink = text.replace(/\0+$/, '');
      else pax = parsePax(text);
    } else if (type === 'g') {
      // A global pax header: nothing an image archive's members depend on.
    } else {
      const ustar = cstr(h, 257, 6) === 'ustar';
      const prefix = ustar ? cstr(h, 345, 155) : '';
      const base = cstr(h, 0, 100);
      const name = pax.path ?? longName ?? (prefix ? `${prefix}/${base}` : base);
      const link = pax.linkpath ?? longLink ?? cstr(h, 157, 100);
      members.push({ name, type, offset: data, size, ...(link ? { linkname: link } : {}) });
      if (members.length > MAX_MEMBERS) throw bad(`it has more than ${MAX_MEMBERS} members`);
      longName = undefined;
      longLink = undefined;
      pax = {};
    }
    pos = next;
  }
  return members;
}
