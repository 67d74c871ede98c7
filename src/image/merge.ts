// A directory of an image as its container sees it, copied out (issue #15): for a bundle's flat
// rootfs (`run --dry-run --bundle`) and for the copy-up of an anonymous volume (docker copies the
// image's content at a VOLUME path into the new volume). Side-effecting.
//
// One layer (or a directory used in place) is copied as it is. Several are merged by overlayfs
// itself, mounted read-only in a private mount namespace of a shell's own (gone with it), so
// whiteouts and opaque directories mean what they mean in a container. The path inside is
// checked first, component by component, top layer first: it must be a directory all the way,
// never a symlink, which could name a host directory once resolved outside the container.
import { lstatSync, type Stats } from 'node:fs';
import { join } from 'node:path';
import { childProcess } from '../core/lazy.js';
import type { ContainerSpec } from '../spec/container-spec.js';

type Image = ContainerSpec['image'];

const q = (x: string): string => `'${x.replace(/'/g, `'\\''`)}'`;

/** The lower directories of an image, top first (absolute). */
function lowers(image: Image): string[] {
  if (image.layers && image.layerRoot) return image.layers.map((l) => join(image.layerRoot!, l));
  return [image.rootfs!];
}

/** The stat of `sub` (relative, "" for the root) in the merged image when it is a real
 *  directory there (the top layer that has it decides), else undefined. */
export function imageDirStat(image: Image, sub: string): Stats | undefined {
  const parts = sub.split('/').filter(Boolean);
  const dirs = lowers(image);
  let last: Stats | undefined = lstatSync(dirs[0]!);
  for (let i = 1; i <= parts.length; i++) {
    const rel = parts.slice(0, i).join('/');
    last = undefined;
    for (const d of dirs) {
      let st;
      try {
        st = lstatSync(join(d, rel));
      } catch {
        continue; // not in this layer: the next one down
      }
      if (!st.isDirectory()) return undefined; // a file, a symlink, or a whiteout (0:0 device)
      last = st;
      break;
    }
    if (!last) return undefined;
  }
  return last;
}

/** Copies the image's directory `sub` ("" for all of it) into the existing directory `dest`.
 *  Returns false, copying nothing, when the image has no real directory there. */
export function copyImageDir(image: Image, sub: string, dest: string): boolean {
  if (!imageDirStat(image, sub)) return false;
  const dirs = lowers(image);
  if (dirs.length === 1) {
    childProcess().execFileSync('cp', ['-a', '--reflink=auto', `${join(dirs[0]!, sub)}/.`, dest], { stdio: ['ignore', 'ignore', 'pipe'] });
    return true;
  }
  const script = `set -e; m=$(mktemp -d); cd ${q(image.layerRoot!)}; mount -t overlay overlay -o ro,userxattr,lowerdir=${image.layers!.join(':')} "$m"; cp -a --reflink=auto "$m"/${q(sub)}/. ${q(dest)}; umount "$m"; rmdir "$m"`;
  childProcess().execFileSync('unshare', ['-m', '--propagation', 'private', 'sh', '-c', script], { stdio: ['ignore', 'ignore', 'pipe'] });
  return true;
}
