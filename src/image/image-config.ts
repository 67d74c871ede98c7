// An image's config blob (image-spec config.md; docker's is the same JSON), read for what
// minidock honours (issue #15): the container defaults docker applies at `run` (Env,
// Entrypoint, Cmd, WorkingDir, User, ExposedPorts, StopSignal, Labels, Volumes), the layer
// list (rootfs.diff_ids) and what `history` and `inspect` show. Pure; every field is checked,
// since the blob comes from an archive or a registry: a wrong type is a one-line error naming
// the field, never a crash later in `run`.
import { MinidockError } from '../core/errors.js';
import type { ImageConfig } from '../spec/image-change.js';

export interface HistoryEntry {
  created?: string;
  createdBy?: string;
  comment?: string;
  /** No layer of its own (an ENV or CMD step): docker's history shows 0B for it. */
  emptyLayer: boolean;
}

export interface ParsedImageConfig {
  architecture: string;
  os: string;
  variant?: string;
  created?: string;
  author?: string;
  /** What `run` takes from the image, in docker's field names. */
  config: Omit<ImageConfig, 'Volumes'> & { Volumes?: string[] };
  diffIds: string[];
  history: HistoryEntry[];
}

const bad = (field: string, why: string): MinidockError =>
  new MinidockError(`image config: ${field} ${why}`, { step: 'image.config', hint: 'the image is damaged or was not built by a container tool', exitCode: 1 });

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function strings(v: unknown, field: string): string[] | undefined {
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v) || v.some((s) => typeof s !== 'string')) throw bad(field, 'is not a list of strings');
  return [...(v as string[])];
}

function str(v: unknown, field: string): string | undefined {
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v !== 'string') throw bad(field, 'is not a string');
  return v;
}

/** Sets `o[k]` to a value that is there; absent stays absent (exactOptionalPropertyTypes). */
function put<T extends object, K extends keyof T>(o: T, k: K, v: T[K] | undefined): void {
  if (v !== undefined) o[k] = v;
}

/** docker's `{"/data": {}}` sets (ExposedPorts, Volumes): the keys. */
function keySet(v: unknown, field: string): string[] | undefined {
  if (v === undefined || v === null) return undefined;
  if (!isObj(v)) throw bad(field, 'is not an object');
  return Object.keys(v);
}

/** The config blob, parsed (already size-checked by archive.ts, and verified by digest). */
export function parseImageConfig(text: string): ParsedImageConfig {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw bad('blob', 'is not JSON');
  }
  if (!isObj(raw)) throw bad('blob', 'is not a JSON object');
  const architecture = str(raw.architecture, 'architecture');
  const os = str(raw.os, 'os');
  if (!architecture || !os) throw bad('architecture/os', 'are missing');
  const rootfs = raw.rootfs;
  if (!isObj(rootfs) || rootfs.type !== 'layers') throw bad('rootfs', 'is not {"type": "layers", ...}');
  const diffIds = strings(rootfs.diff_ids, 'rootfs.diff_ids') ?? [];
  diffIds.forEach((d, i) => {
    if (!/^sha256:[0-9a-f]{64}$/.test(d)) throw bad(`rootfs.diff_ids[${i}]`, `${JSON.stringify(d.slice(0, 80))} is not a sha256 digest`);
  });

  const c = raw.config ?? {};
  if (!isObj(c)) throw bad('config', 'is not an object');
  const config: ParsedImageConfig['config'] = {};
  const env = strings(c.Env, 'config.Env');
  if (env) {
    // KEY=VALUE, as docker stores them; a bare KEY would be read by run as unset.
    env.forEach((e, i) => { if (!/^[^=]+=/.test(e)) throw bad(`config.Env[${i}]`, `${JSON.stringify(e.slice(0, 80))} is not KEY=VALUE`); });
    config.Env = env;
  }
  put(config, 'Entrypoint', strings(c.Entrypoint, 'config.Entrypoint'));
  put(config, 'Cmd', strings(c.Cmd, 'config.Cmd'));
  put(config, 'WorkingDir', str(c.WorkingDir, 'config.WorkingDir'));
  put(config, 'User', str(c.User, 'config.User'));
  const ports = keySet(c.ExposedPorts, 'config.ExposedPorts');
  if (ports) config.ExposedPorts = Object.fromEntries(ports.map((p) => [p, {}]));
  put(config, 'StopSignal', str(c.StopSignal, 'config.StopSignal'));
  if (c.Labels !== undefined && c.Labels !== null) {
    if (!isObj(c.Labels) || Object.values(c.Labels).some((v) => typeof v !== 'string')) throw bad('config.Labels', 'is not an object of strings');
    config.Labels = { ...(c.Labels as Record<string, string>) };
  }
  const volumes = keySet(c.Volumes, 'config.Volumes');
  if (volumes) {
    volumes.forEach((v) => { if (!v.startsWith('/')) throw bad('config.Volumes', `${JSON.stringify(v)} is not an absolute path`); });
    config.Volumes = volumes;
  }

  if (raw.history !== undefined && raw.history !== null && !Array.isArray(raw.history)) throw bad('history', 'is not a list');
  const history = ((raw.history ?? []) as unknown[]).map((h, i): HistoryEntry => {
    if (!isObj(h)) throw bad(`history[${i}]`, 'is not an object');
    const e: HistoryEntry = { emptyLayer: h.empty_layer === true };
    put(e, 'created', str(h.created, `history[${i}].created`));
    put(e, 'createdBy', str(h.created_by, `history[${i}].created_by`));
    put(e, 'comment', str(h.comment, `history[${i}].comment`));
    return e;
  });
  // Each entry that is not an empty layer stands for the next diff id: more of them than
  // layers means the history describes another image.
  const layered = history.filter((h) => !h.emptyLayer).length;
  if (history.length && layered > diffIds.length) throw bad('history', `names ${layered} layers, but rootfs.diff_ids has ${diffIds.length}`);

  const out: ParsedImageConfig = { architecture, os, config, diffIds, history };
  put(out, 'variant', str(raw.variant, 'variant'));
  put(out, 'created', str(raw.created, 'created'));
  put(out, 'author', str(raw.author, 'author'));
  return out;
}
