// Container names and ids: docker's name rule, docker-style random names, and the 64-hex id
// helpers. Pure: randomness is injected so names are reproducible in tests.

import { usageError } from '../core/errors.js';

/** A full container id: 64 lowercase hex digits, as docker prints with --no-trunc. */
export const ID_RE = /^[0-9a-f]{64}$/;

/** docker's validContainerNamePattern, without the optional leading '/' (stripped first). */
export const NAME_RE = /^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;

/** Longer names make unwieldy state paths and ps columns; docker has no limit of its own. */
export const NAME_MAX = 128;

const RULE = '[a-zA-Z0-9][a-zA-Z0-9_.-]+';

/** Returns the name without docker's optional leading '/', or throws a usage error. */
export function validateContainerName(name: string): string {
  const bare = name.startsWith('/') ? name.slice(1) : name;
  const shown = JSON.stringify(name);
  if (!NAME_RE.test(bare)) {
    throw usageError(`invalid container name ${shown}: must match ${RULE}`);
  }
  if (bare.length > NAME_MAX) {
    throw usageError(`invalid container name ${shown}: name too long (max ${NAME_MAX})`);
  }
  // Commands accept a name or an id; a name that is itself an id would make lookups ambiguous.
  if (isFullId(bare)) {
    throw usageError(
      `invalid container name ${shown}: must match ${RULE} and not be a 64-character hex id`,
    );
  }
  return bare;
}

export function isFullId(s: string): boolean {
  return ID_RE.test(s);
}

/** The 12-character prefix docker shows in ps and prints after `run -d`. */
export function shortId(id: string): string {
  return id.slice(0, 12);
}

// Our own word lists (not docker's): all lowercase ASCII so every pair matches NAME_RE.
const ADJECTIVES = [
  'agile', 'amber', 'ardent', 'bold', 'brave', 'bright', 'calm', 'candid', 'clever', 'cosmic',
  'crisp', 'curious', 'daring', 'deft', 'eager', 'earnest', 'fearless', 'fluent', 'frosty', 'gentle',
  'glad', 'golden', 'humble', 'jolly', 'keen', 'lively', 'lucid', 'mellow', 'merry', 'nimble',
  'patient', 'plucky', 'quiet', 'radiant', 'rapid', 'serene', 'sharp', 'steady', 'sunny', 'swift',
  'tidy', 'upbeat', 'vivid', 'witty', 'zesty',
];

const SURNAMES = [
  'agnesi', 'ampere', 'archimedes', 'babbage', 'bardeen', 'bohr', 'boole', 'cantor', 'carnot', 'cerf',
  'chandrasekhar', 'curie', 'darwin', 'dijkstra', 'dirac', 'euclid', 'euler', 'faraday', 'fermat', 'fermi',
  'feynman', 'fourier', 'franklin', 'galois', 'gauss', 'germain', 'goodall', 'hamilton', 'hawking', 'heisenberg',
  'hertz', 'hilbert', 'hodgkin', 'hopper', 'huygens', 'jackson', 'johnson', 'joule', 'kepler', 'knuth',
  'lamarr', 'laplace', 'leibniz', 'liskov', 'lovelace', 'maxwell', 'meitner', 'mendel', 'mirzakhani', 'newton',
  'noether', 'pascal', 'planck', 'ramanujan', 'riemann', 'ritchie', 'shannon', 'somerville', 'tesla', 'thompson',
  'turing', 'volta', 'wiles', 'wu',
];

/** Picks an index from a [0,1) source, clamped so a source returning 1 cannot overflow. */
function pick<T>(list: readonly T[], random: () => number): T {
  const i = Math.min(list.length - 1, Math.max(0, Math.floor(random() * list.length)));
  return list[i] as T;
}

/** A docker-style `adjective_surname` name; the caller retries on collision. */
export function generateName(random: () => number = Math.random): string {
  return `${pick(ADJECTIVES, random)}_${pick(SURNAMES, random)}`;
}

/** The word lists, for tests that check every combination is a valid name. */
export const NAME_WORDS = { adjectives: ADJECTIVES, surnames: SURNAMES } as const;
