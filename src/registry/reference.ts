// Image references as docker reads them for pull and push (issue #16): distribution/reference's
// grammar with docker's normalisation. Pure.
//
//   busybox                         docker.io/library/busybox:latest
//   user/app:1.2                    docker.io/user/app:1.2
//   localhost:5000/ns/app@sha256:…  localhost:5000/ns/app@sha256:…
//   registry.example/org/app:tag    registry.example/org/app:tag
//
// Docker Hub's quirks: the reference says docker.io (index.docker.io is an old alias), but its
// API answers at registry-1.docker.io; official images live under library/. The first component
// names a registry only if it has a "." or ":" or is "localhost" (docker's rule). The local name
// (what `images` shows and `run` takes) is docker's familiar form: Hub's prefix dropped.
import { usageError } from '../core/errors.js';
import { parseImageRef } from '../spec/image-ref.js';

export interface Reference {
  /** The registry as the reference names it: "docker.io", "localhost:5000". */
  registry: string;
  /** The repository path in the registry: "library/busybox", "ns/app". */
  repository: string;
  tag?: string;
  digest?: string;
}

export const DOCKER_HUB = 'docker.io';
/** Where Docker Hub's registry API is. */
export const DOCKER_HUB_API = 'registry-1.docker.io';

const DIGEST = /^sha256:[0-9a-f]{64}$/;

/** Parses REF as `docker pull` does; a missing tag (and no digest) is "latest". */
export function parseReference(ref: string): Reference {
  let rest = ref;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST.test(digest)) throw usageError(`invalid reference format: digest ${JSON.stringify(digest)} is not sha256:<64 hex>`);
  }
  // The name and tag checks are the local grammar's (spec/image-ref.ts), applied to the path.
  const slash = rest.indexOf('/');
  const first = slash < 0 ? '' : rest.slice(0, slash);
  const hasRegistry = slash >= 0 && (first.includes('.') || first.includes(':') || first === 'localhost');
  const registry = hasRegistry ? (first === 'index.docker.io' ? DOCKER_HUB : first) : DOCKER_HUB;
  const remainder = hasRegistry ? rest.slice(slash + 1) : rest;
  const colon = remainder.lastIndexOf(':');
  const hasTag = colon >= 0 && !remainder.slice(colon).includes('/');
  const path = hasTag ? remainder.slice(0, colon) : remainder;
  const tag = hasTag ? remainder.slice(colon + 1) : digest ? undefined : 'latest';
  if (tag === '') throw usageError(`invalid reference format: ${JSON.stringify(ref)}`);
  // Validates components, case, length and the tag (throws docker's wording).
  parseImageRef(`${hasRegistry ? `${first}/` : ''}${path}${tag ? `:${tag}` : ''}`);
  const repository = registry === DOCKER_HUB && !path.includes('/') ? `library/${path}` : path;
  return { registry, repository, ...(tag ? { tag } : {}), ...(digest ? { digest } : {}) };
}

/** The full name: docker.io/library/busybox:latest. */
export function fullName(r: Reference): string {
  return `${r.registry}/${r.repository}${r.tag ? `:${r.tag}` : ''}${r.digest ? `@${r.digest}` : ''}`;
}

/** docker's familiar form of the repository: busybox, user/app, localhost:5000/ns/app. */
export function familiarRepository(r: Reference): string {
  if (r.registry !== DOCKER_HUB) return `${r.registry}/${r.repository}`;
  return r.repository.startsWith('library/') && !r.repository.slice(8).includes('/') ? r.repository.slice(8) : r.repository;
}

/** The local tag a pull by tag sets (none for a pull by digest). */
export function localTag(r: Reference): string | undefined {
  return r.tag ? `${familiarRepository(r)}:${r.tag}` : undefined;
}

/** The host the registry API answers at. */
export function apiHost(r: Reference): string {
  return r.registry === DOCKER_HUB ? DOCKER_HUB_API : r.registry;
}

/** docker's rule for plain HTTP: a registry on loopback (localhost, 127.0.0.0/8, ::1), or one
 *  listed as insecure (MINIDOCK_INSECURE_REGISTRIES, comma-separated host[:port]). */
export function isInsecure(registry: string, insecure: readonly string[] = []): boolean {
  const host = registry.startsWith('[') ? registry.slice(1, registry.indexOf(']')) : registry.replace(/:\d+$/, '');
  return host === 'localhost' || /^127(\.\d{1,3}){3}$/.test(host) || host === '::1' || insecure.includes(registry) || insecure.includes(host);
}

/** MINIDOCK_INSECURE_REGISTRIES as a list. */
export function insecureRegistries(env: NodeJS.ProcessEnv = process.env): string[] {
  return (env.MINIDOCK_INSECURE_REGISTRIES ?? '').split(',').map((x) => x.trim()).filter(Boolean);
}
