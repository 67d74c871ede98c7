// Deletions in image layers, both ways (issue #15). An OCI layer (image-spec layer.md) marks a
// path deleted with an empty file ".wh.NAME" beside it, and a directory whose lower contents
// are hidden with ".wh..wh..opq" inside it. overlayfs marks the same with a character device
// 0:0 named NAME, and with an opaque xattr ="y" on the directory (user.overlay.opaque: minidock
// mounts overlay with "userxattr", see OPAQUE_XATTR). Unpacking a
// layer converts the first into the second (so the layers can be overlay's lower directories as
// they are); `commit` converts a container's upper directory back. Pure: the unpacker and the
// committer do the file work.
import { posix } from 'node:path';
import { MinidockError } from '../core/errors.js';

export const WHITEOUT_PREFIX = '.wh.';
export const OPAQUE_MARKER = '.wh..wh..opq';
/** overlayfs's opaque-directory xattr, in the user.* namespace. A container's overlay is mounted
 *  inside its user namespace, where the kernel hides trusted.* xattrs: a trusted.overlay.opaque
 *  marker would be ignored (lower files show through) and `rm -rf` of a merged directory fails
 *  with EIO. With the "userxattr" mount option overlay reads and writes user.overlay.* instead. */
export const OPAQUE_XATTR = 'user.overlay.opaque';
/** What docker and a rootful overlay write; read too, when committing an upper directory. */
export const OPAQUE_XATTR_TRUSTED = 'trusted.overlay.opaque';

/** What one layer member means for the unpacked tree. */
export type LayerEntry =
  | { kind: 'plain'; path: string }
  /** Delete `path` from the layers below: a 0:0 character device there. */
  | { kind: 'whiteout'; path: string }
  /** Hide what the layers below hold in `dir`: the opaque xattr on it (made if absent). */
  | { kind: 'opaque'; dir: string }
  /** aufs's own bookkeeping (".wh..wh.plnk", ".wh..wh.aufs"): dropped, as docker drops it. */
  | { kind: 'skip'; path: string };

const bad = (what: string): MinidockError =>
  new MinidockError(`image layer: ${what}`, { step: 'image.layer', hint: 'the layer is damaged or hostile; get the image again from where it came', exitCode: 1 });

/** A member's meaning. `name` is the tar member name (already refused by the unpacker if it
 *  leaves the layer); whiteout names with nothing after the prefix, or ones that name "." or
 *  "..", are refused: they would delete the directory itself or its parent. */
export function classifyEntry(name: string): LayerEntry {
  const path = posix.normalize(name.replace(/^\.?\/+/, '')).replace(/\/+$/, '');
  const dir = posix.dirname(path);
  const base = posix.basename(path);
  if (!base.startsWith(WHITEOUT_PREFIX)) return { kind: 'plain', path };
  if (base === OPAQUE_MARKER) return { kind: 'opaque', dir: dir === '.' ? '' : dir };
  if (base.startsWith(`${WHITEOUT_PREFIX}${WHITEOUT_PREFIX}`)) return { kind: 'skip', path };
  const target = base.slice(WHITEOUT_PREFIX.length);
  if (target === '' || target === '.' || target === '..') throw bad(`${JSON.stringify(name)} is a whiteout of nothing`);
  return { kind: 'whiteout', path: dir === '.' ? target : `${dir}/${target}` };
}

/** What one entry of a container's upper directory becomes in a committed layer. */
export type UpperEntry =
  | { kind: 'plain'; path: string }
  /** A deleted lower path: the ".wh.NAME" member (an empty regular file). */
  | { kind: 'whiteout'; member: string }
  /** An opaque directory: the directory itself, then its ".wh..wh..opq" member. */
  | { kind: 'opaque'; path: string; marker: string };

/** overlay → OCI: `path` relative to the upper directory, with what the upper directory shows
 *  for it (a character device 0:0 is overlay's whiteout; an opaque xattr, a hidden lower dir). */
export function upperToLayer(path: string, facts: { charDev00?: boolean; opaque?: boolean; dir?: boolean }): UpperEntry {
  const base = posix.basename(path);
  // A real file named .wh.* in a container would read back as a whiteout: refused, as docker
  // refuses to commit one.
  if (base.startsWith(WHITEOUT_PREFIX)) throw bad(`${JSON.stringify(path)} has a name reserved for whiteouts (.wh.): rename it before commit`);
  if (facts.charDev00) {
    const dir = posix.dirname(path);
    return { kind: 'whiteout', member: dir === '.' ? `${WHITEOUT_PREFIX}${base}` : `${dir}/${WHITEOUT_PREFIX}${base}` };
  }
  if (facts.dir && facts.opaque) return { kind: 'opaque', path, marker: `${path}/${OPAQUE_MARKER}` };
  return { kind: 'plain', path };
}
