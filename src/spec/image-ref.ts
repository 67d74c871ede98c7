// Image references `NAME[:TAG]` with docker's grammar (distribution/reference), and the test
// that tells an image name from a filesystem path on the command line. Pure.
//
// A registry host prefix (`localhost:5000/app`, `registry.example.com/team/app`) is accepted so
// names read exactly as docker's do, but it is only part of the local name: minidock never pulls,
// and it does not rewrite names (`docker.io/library/alpine` stays distinct from `alpine`).
// Digest references (`name@sha256:...`) are refused: local images have no registry digest.

import { usageError } from '../core/errors.js';

export interface ImageRef {
  name: string;
  tag: string;
}

export const DEFAULT_TAG = 'latest';

/** distribution/reference's NameTotalLengthMax. */
export const NAME_TOTAL_MAX = 255;

/** One path component: lowercase alphanumerics joined by '.', '_', '__' or runs of '-'. */
const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
/** A registry host: DNS labels or a bracketed IPv6 address, with an optional port. */
const DOMAIN =
  /^(?:(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])(?:\.(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]))*|\[[a-fA-F0-9:]+\])(?::[0-9]+)?$/;
/** docker's tag grammar. */
export const TAG = /^[\w][\w.-]{0,127}$/;
const HEX64 = /^[a-f0-9]{64}$/;

function invalid(ref: string, detail?: string, hint?: string): never {
  const why = detail === undefined ? JSON.stringify(ref) : detail;
  throw usageError(`invalid reference format: ${why}`, hint);
}

/** The first component is a registry host only in the forms docker recognises as one. */
function isDomainComponent(c: string): boolean {
  return c.includes('.') || c.includes(':') || c === 'localhost';
}

/** Parses `NAME[:TAG]`, defaulting the tag to `latest`; throws docker's wording on bad input. */
export function parseImageRef(ref: string): ImageRef {
  if (ref === '') invalid(ref);
  if (ref.includes('@')) {
    invalid(ref, undefined, 'digest references are not supported; use NAME[:TAG]');
  }
  // A ':' is the tag separator only after the last '/': before it, it is a registry port.
  let name = ref;
  let tag = DEFAULT_TAG;
  const colon = ref.lastIndexOf(':');
  if (colon !== -1 && !ref.slice(colon).includes('/')) {
    name = ref.slice(0, colon);
    tag = ref.slice(colon + 1);
    if (!TAG.test(tag)) invalid(ref);
  }

  const components = name.split('/');
  const first = components[0] ?? '';
  const hasDomain = components.length > 1 && isDomainComponent(first);
  if (hasDomain && !DOMAIN.test(first)) invalid(ref);
  const path = hasDomain ? components.slice(1) : components;
  for (const c of path) {
    if (PATH_COMPONENT.test(c)) continue;
    if (PATH_COMPONENT.test(c.toLowerCase())) {
      invalid(ref, `repository name ${JSON.stringify(name)} must be lowercase`);
    }
    invalid(ref);
  }
  if (name.length > NAME_TOTAL_MAX) {
    invalid(ref, `repository name must not be more than ${NAME_TOTAL_MAX} characters`);
  }
  // docker refuses these so that an image id can never be mistaken for a name.
  if (HEX64.test(name)) {
    invalid(ref, `repository name ${JSON.stringify(name)} cannot be a 64-byte hexadecimal string`);
  }
  return { name, tag };
}

export function formatImageRef(ref: ImageRef): string {
  return `${ref.name}:${ref.tag}`;
}

/** The tag index's key for IMAGE ("busybox" is "busybox:latest"), or undefined when IMAGE is
 *  no name (an id, a digest reference). */
export function tagKey(image: string): string | undefined {
  try {
    return formatImageRef(parseImageRef(image));
  } catch {
    return undefined;
  }
}

const ARCHIVE_SUFFIXES = ['.tar', '.tar.gz', '.tgz', '.tar.xz'];

/**
 * True when a CLI argument names a file or directory rather than an image: it has a '/',
 * starts with '.', or ends like a tar archive. Note that a multi-component image name such as
 * `myorg/app` therefore reads as a path: where a command takes either, the caller decides
 * whether to fall back to an image lookup when no such file exists.
 */
export function looksLikePath(s: string): boolean {
  if (s.includes('/') || s.startsWith('.')) return true;
  const lower = s.toLowerCase();
  return ARCHIVE_SUFFIXES.some((suffix) => lower.endsWith(suffix));
}
