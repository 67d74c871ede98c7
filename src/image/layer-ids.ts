// The names of a layered image's parts (issue #15), as the image spec and docker define them.
// Pure: the hashing is the caller's (node:crypto), passed in, so these stay testable and cheap.
//
//   image id   sha256 of the config's bytes (docker's IMAGE ID, `docker save`'s config name)
//   diff id    sha256 of a layer's uncompressed tar (config.rootfs.diff_ids)
//   chain id   a layer *with everything under it*: ChainID(L0) = DiffID(L0),
//              ChainID(L0..Ln) = sha256(ChainID(L0..Ln-1) + " " + DiffID(Ln)) (image-spec
//              config.md). Two images share an unpacked layer only when they share the whole
//              chain below it, which is why the store keeps layers by chain id, as docker does.
import { MinidockError } from '../core/errors.js';

export type Sha256 = (text: string) => string;

/** The chain ids of a layer list, bottom first. */
export function chainIds(diffIds: readonly string[], sha256: Sha256): string[] {
  const out: string[] = [];
  for (const [i, d] of diffIds.entries()) {
    if (!/^sha256:[0-9a-f]{64}$/.test(d)) {
      throw new MinidockError(`image config: rootfs.diff_ids[${i}] ${JSON.stringify(d.slice(0, 80))} is not a sha256 digest`, { step: 'image.config', exitCode: 1 });
    }
    out.push(i === 0 ? d : `sha256:${sha256(`${out[i - 1]} ${d}`)}`);
  }
  return out;
}

/** overlayfs takes its options in one page (4096 bytes, with the terminating NUL): a lowerdir
 *  list longer than that fails at mount with EINVAL, which says nothing. */
export const MOUNT_DATA_MAX = 4095;

/**
 * The overlay mount data of a container over `lowers` (top layer first, as overlay reads them),
 * with a clear error when it does not fit a page. Deep images need short layer paths: the store
 * links each layer under a short name (docker's l/<id>), which this length counts.
 */
export function overlayMountData(lowers: readonly string[], upper: string, work: string): string {
  for (const d of [...lowers, upper, work]) {
    if (/[,:\\]/.test(d)) {
      // The option string uses "," and ":" as separators, with no escaping we rely on.
      throw new MinidockError(`path ${JSON.stringify(d)} cannot be used as an overlay layer: it contains "," ":" or "\\"`, {
        step: 'plan.overlay',
        hint: 'move the image or MINIDOCK_ROOT to a path without those characters',
      });
    }
  }
  if (!lowers.length) throw new MinidockError('an image with no layer cannot be mounted', { step: 'plan.overlay', exitCode: 1 });
  // userxattr: the overlay is mounted inside the container's user namespace, where trusted.*
  // xattrs cannot be read or written: opaque directories would be ignored and removing a merged
  // directory fails with EIO. overlay then keeps its markers in user.overlay.* (layers too).
  const data = `lowerdir=${lowers.join(':')},upperdir=${upper},workdir=${work},userxattr`;
  if (data.length > MOUNT_DATA_MAX) {
    throw new MinidockError(`the image's ${lowers.length} layers do not fit overlayfs's mount options (${data.length} bytes, at most ${MOUNT_DATA_MAX})`, {
      step: 'plan.overlay',
      hint: 'a shorter MINIDOCK_ROOT shortens every layer path; or squash the image into fewer layers',
      exitCode: 1,
    });
  }
  return data;
}
