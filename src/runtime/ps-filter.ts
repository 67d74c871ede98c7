// `ps --filter/-f KEY=VALUE`, docker's container filters that make sense for minidock. Pure.
//
//   status=created|running|exited   the container's state. docker's other states (restarting,
//                                   removing, paused, dead) are accepted and match nothing.
//   name=REGEXP                     the name, with or without its leading "/", matched by a
//                                   regular expression anywhere in it (`web`, `^web$`, `^/web`).
//   id=PREFIX                       the start of the container id (any case: ids are hex).
//   exited=CODE                     exited containers with that exit code.
//   ancestor=IMAGE                  made from that image: the reference as given at run
//                                   (`busybox` and `busybox:latest` are the same), or the image
//                                   id (with or without `sha256:`) or a prefix of it.
//   label=KEY  label=KEY=VALUE      has that label (with that value); several label filters
//                                   must all hold, as in docker.
//
// Values of the same key are OR'ed, different keys AND'ed; a key given twice with the same value
// counts once (label= values are AND'ed, docker's rule for them). As docker's CLI does, keys are lowercased, keys and values are trimmed, and an
// empty -f is ignored. A status filter makes ps list stopped containers too (filterShowsAll).
//
// Where this differs from docker:
//   - An invalid regular expression is an error; docker silently matches nothing. Expressions
//     are JavaScript's, not Go's RE2 (the same for anything a container name can contain).
//   - id= is a prefix; docker matches it as a regular expression anywhere in the id.
//   - ancestor= does not follow image parents (minidock images have none).
//   - docker's other keys (before, since, volume, network, publish, expose, health,
//     isolation, is-task) are refused as not supported rather than ignored or half done.
import { usageError } from '../core/errors.js';
import { formatImageRef, parseImageRef } from '../spec/image-ref.js';
import type { ContainerRecord } from './state.js';

/** Every state docker's status filter accepts. */
export const DOCKER_STATES = ['created', 'restarting', 'running', 'removing', 'paused', 'exited', 'dead'] as const;

const DOCKER_ONLY_KEYS = ['before', 'since', 'volume', 'network', 'publish', 'expose', 'health', 'isolation', 'is-task'];

export interface PsFilter {
  status: string[];
  name: RegExp[];
  id: string[];
  exited: number[];
  ancestor: string[];
  label: Array<{ key: string; value?: string }>;
}

type Key = keyof PsFilter;
const KEYS: readonly Key[] = ['status', 'name', 'id', 'exited', 'ancestor', 'label'];

const isKey = (k: string): k is Key => (KEYS as readonly string[]).includes(k);

export function parsePsFilters(filters: string[]): PsFilter {
  const values = new Map<Key, Set<string>>();
  for (const arg of filters) {
    if (arg === '') continue;
    const eq = arg.indexOf('=');
    if (eq < 0) throw usageError('bad format of filter (expected name=value)');
    const key = arg.slice(0, eq).trim().toLowerCase();
    const value = arg.slice(eq + 1).trim();
    if (DOCKER_ONLY_KEYS.includes(key)) {
      throw usageError(`filter '${key}' is not supported by minidock`, `minidock filters on ${KEYS.join(', ')}`);
    }
    if (!isKey(key)) throw usageError(`invalid filter '${key}'`, `ps filters on ${KEYS.join(', ')}`);
    const set = values.get(key) ?? new Set<string>();
    set.add(value);
    values.set(key, set);
  }
  const all = (k: Key): string[] => [...(values.get(k) ?? [])];
  const f: PsFilter = { status: [], name: [], id: [], exited: [], ancestor: all('ancestor'), label: [] };
  for (const v of all('label')) {
    const eq = v.indexOf('=');
    f.label.push(eq < 0 ? { key: v } : { key: v.slice(0, eq), value: v.slice(eq + 1) });
  }
  for (const v of all('status')) {
    if (!(DOCKER_STATES as readonly string[]).includes(v)) {
      throw usageError(`invalid filter 'status=${v}'`, `a status is one of ${DOCKER_STATES.join(', ')}`);
    }
    f.status.push(v);
  }
  for (const v of all('name')) {
    try {
      f.name.push(new RegExp(v));
    } catch (err) {
      throw usageError(`invalid filter 'name=${v}': ${(err as Error).message}`, 'name= takes a regular expression');
    }
  }
  for (const v of all('id')) f.id.push(v.toLowerCase());
  for (const v of all('exited')) {
    // Go's strconv.Atoi: an optional sign and decimal digits.
    if (!/^[+-]?[0-9]+$/.test(v)) throw usageError(`invalid filter 'exited=${v}'`, 'exited= takes an exit code, e.g. exited=0');
    f.exited.push(Number(v));
  }
  return f;
}

/** docker lists stopped containers too when filtering by status, as if -a was given. */
export function filterShowsAll(f: PsFilter): boolean {
  return f.status.length > 0;
}

/** `name:tag` with the default tag, or undefined for what is not an image name (a path). */
function normalRef(ref: string): string | undefined {
  try {
    return formatImageRef(parseImageRef(ref));
  } catch {
    return undefined;
  }
}

function matchesAncestor(want: string, image: { ref: string; id?: string }): boolean {
  if (want === image.ref) return true;
  const a = normalRef(want);
  if (a !== undefined && a === normalRef(image.ref)) return true;
  const hex = want.replace(/^sha256:/, '');
  return image.id !== undefined && /^[0-9a-f]+$/.test(hex) && image.id.startsWith(hex);
}

/** `paused`: the container's cgroup is frozen (freezer.ts, read by the caller): its status is
 *  then "paused", not "running", as docker's. */
export function matchesFilter(f: PsFilter, rec: ContainerRecord, paused = false): boolean {
  if (f.id.length && !f.id.some((p) => rec.id.startsWith(p))) return false;
  const spec = rec.spec;
  const state = rec.state;
  if (f.status.length && !(state && f.status.includes(paused && state.status === 'running' ? 'paused' : state.status))) return false;
  if (f.name.length && !(spec && f.name.some((re) => re.test(`/${spec.name}`) || re.test(spec.name)))) return false;
  if (f.exited.length && !(state?.status === 'exited' && f.exited.includes(state.exitCode ?? 0))) return false;
  if (f.ancestor.length && !(spec && f.ancestor.some((a) => matchesAncestor(a, spec.image)))) return false;
  const labels = spec?.labels ?? {};
  if (!f.label.every((l) => Object.hasOwn(labels, l.key) && (l.value === undefined || labels[l.key] === l.value))) return false;
  return true;
}
