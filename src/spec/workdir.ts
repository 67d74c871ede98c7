// docker's `-w/--workdir`: an absolute path inside the container, normalised so it can never
// climb above the container's root. Pure (node:path's posix functions touch no filesystem).

import { posix } from 'node:path';
import { usageError } from '../core/errors.js';

/** Returns the normalised absolute path (`/a/../b/` → `/b`), or throws a usage error. */
export function parseWorkdir(w: string): string {
  if (w.includes('\0')) {
    throw usageError(`invalid working directory ${JSON.stringify(w)}: contains a NUL byte`);
  }
  if (!w.startsWith('/')) {
    throw usageError(`the working directory '${w}' is invalid, it needs to be an absolute path`);
  }
  return normaliseAbsolute(w);
}

/**
 * Collapses `.`, `..` and repeated slashes; `..` at the root stays at the root, as the kernel
 * resolves it. A trailing slash is dropped so equal directories compare equal.
 */
export function normaliseAbsolute(p: string): string {
  const n = posix.normalize(p);
  return n.length > 1 && n.endsWith('/') ? n.slice(0, -1) : n;
}
