// minidock-runc's record of each container (ROOT/ID/state.json) and the status read off it:
// the spec's state (runtime.md) derived from the recorded pid, its start time and the exec fifo.
// The record is written atomically, directories are root's alone (0700).
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { constants } from 'node:os';
import { join } from 'node:path';
import { writeFileAtomic } from '../core/atomic-file.js';
import { MinidockError } from '../core/errors.js';
import type { CgroupDir } from '../cgroup/plan.js';
import type { OciResources } from './resources.js';
import type { OciHook } from './config.js';
import type { RootMount } from './root-mount.js';
import { privateDir } from '../core/state-perms.js';
import { parseStartTime } from '../runtime/proc.js';
import { SPEC_VERSION } from './default-spec.js';

/** The spec's four, and runc's "paused" (a running container whose freezer cgroup is frozen). */
export type OciStatus = 'creating' | 'created' | 'running' | 'paused' | 'stopped';

export interface OciRecord {
  id: string;
  /** The config's ociVersion, as the spec's state reports it. */
  ociVersion: string;
  bundle: string;
  rootfs: string;
  /** When create began, RFC 3339. */
  created: string;
  annotations: Record<string, string>;
  /** The container's process in the caller's PID namespace; 0 until it reported "waiting". */
  pid: number;
  /** Its start time (clock ticks since boot, /proc/PID/stat field 22): a recycled pid differs. */
  pidStart?: number;
  /** The `create` process, while pid is 0: if it died, the container never came to be. */
  creator?: { pid: number; start: number };
  /** The container's cgroups, recorded before they are made, so delete always removes them. */
  cgroup?: CgroupDir[];
  /** No mount namespace of its own: its tree is in ours at `path`, on top of mount `before`
   *  (what was there before create; 0: nothing), and delete detaches it (oci/root-mount.ts). */
  rootMount?: RootMount;
  /** linux.resources in force (create's, then each update's merge): what update merges onto. */
  resources?: OciResources;
  /** The config's poststart, poststop (and startContainer) hooks, kept from create: config.json
   *  may change after it, and runtime.md says such changes must not affect the container. */
  hooks?: Partial<Record<'poststart' | 'poststop' | 'startContainer', OciHook[]>>;
}

/** What /proc says about one pid. */
export interface ProcInfo {
  start?: number;
  /** Field 3: "Z" (zombie) and "X" (dead) have exited, though the pid still shows. */
  state?: string;
}

const fail = (message: string, hint?: string): MinidockError => new MinidockError(message, { step: 'oci.state', hint, exitCode: 1 });

/** runc's rule for ids: letters, digits and "_+-.", not "." or "..": it is a directory name. */
export function validateId(id: string): string {
  if (!/^[\w+.-]+$/.test(id) || id === '.' || id === '..') throw fail(`invalid id format: ${JSON.stringify(id)}`, 'use letters, digits, "_", "+", "-" and "."');
  return id;
}

/** Pure: the status of a record, given /proc's view of its pids and whether the fifo exists. */
export function statusOf(rec: OciRecord, init: ProcInfo, creator: ProcInfo, fifo: boolean, frozen = false): OciStatus {
  const alive = (p: ProcInfo, start: number | undefined): boolean => start !== undefined && p.start === start && p.state !== 'Z' && p.state !== 'X';
  if (!rec.pid) return rec.creator && alive(creator, rec.creator.start) ? 'creating' : 'stopped';
  if (!alive(init, rec.pidStart)) return 'stopped';
  // The waiting process is released by `start`, which removes the fifo.
  if (fifo) return 'created';
  return frozen ? 'paused' : 'running';
}

/** The container's v1 freezer cgroup, if it has one. */
export function freezerOf(rec: OciRecord): string | undefined {
  return rec.cgroup?.find((d) => (d.controllers as string[]).includes('freezer'))?.path;
}

/** Pure: the spec's state JSON (plus runc's rootfs, created and owner). A stopped container has
 *  no pid to report: runc says 0. */
export function stateJson(rec: OciRecord, status: OciStatus): Record<string, unknown> {
  return {
    ociVersion: rec.ociVersion || SPEC_VERSION,
    id: rec.id,
    pid: status === 'stopped' ? 0 : rec.pid,
    status,
    bundle: rec.bundle,
    rootfs: rec.rootfs,
    created: rec.created,
    owner: '',
    ...(Object.keys(rec.annotations).length ? { annotations: rec.annotations } : {}),
  };
}

/** /proc/PID/stat's state and start time; nothing when the pid is gone. */
export function readProc(pid: number): ProcInfo {
  if (!(pid > 0)) return {};
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
  } catch {
    return {};
  }
  return { start: parseStartTime(stat), state: stat.slice(stat.lastIndexOf(')') + 2)[0] };
}

/** Pure: a signal by number ("9"), name ("KILL", "SIGKILL", any case). */
export function parseSignal(text: string): number {
  if (/^\d+$/.test(text)) {
    const n = Number(text);
    if (n >= 1 && n <= 64) return n;
  } else {
    const name = text.toUpperCase().replace(/^(SIG)?/, 'SIG') as keyof typeof constants.signals;
    const n = constants.signals[name];
    if (n !== undefined) return n;
  }
  throw fail(`unknown signal ${JSON.stringify(text)}`, 'give a name such as KILL or SIGTERM, or a number from 1 to 64');
}

export class OciStore {
  constructor(readonly root: string) {}

  dir(id: string): string {
    return join(this.root, validateId(id));
  }

  fifo(id: string): string {
    return join(this.dir(id), 'exec.fifo');
  }

  /** Takes the id: mkdir is the race-free claim between two creates of one id. */
  claim(id: string): string {
    privateDir(this.root);
    const dir = this.dir(id);
    try {
      mkdirSync(dir, { mode: 0o700 });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw fail(`container with id exists: ${id}`, 'pick another id, or delete the old container');
      throw err;
    }
    return dir;
  }

  write(rec: OciRecord): void {
    writeFileAtomic(join(this.dir(rec.id), 'state.json'), `${JSON.stringify(rec)}\n`);
  }

  /** The record, or undefined when there is none (no directory, or a create that never wrote it). */
  find(id: string): OciRecord | undefined {
    let text: string;
    try {
      text = readFileSync(join(this.dir(id), 'state.json'), 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
    try {
      return JSON.parse(text) as OciRecord;
    } catch {
      throw fail(`the state of container ${id} is unreadable (${join(this.dir(id), 'state.json')})`, `delete --force ${id} removes it`);
    }
  }

  read(id: string): OciRecord {
    const rec = this.find(id);
    if (!rec) throw fail(`container "${id}" does not exist`);
    return rec;
  }

  status(rec: OciRecord): OciStatus {
    const freezer = freezerOf(rec);
    let frozen = false;
    if (freezer) {
      try {
        frozen = readFileSync(`${freezer}/freezer.state`, 'utf8').trim() !== 'THAWED';
      } catch {
        /* gone with the container */
      }
    }
    return statusOf(rec, readProc(rec.pid), readProc(rec.creator?.pid ?? 0), existsSync(this.fifo(rec.id)), frozen);
  }

  /** Every readable record, sorted by id. A directory without one (a create under way, or one
   *  that died before writing it) is left out, as runc leaves it out. */
  list(): OciRecord[] {
    let names: string[];
    try {
      names = readdirSync(this.root);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
    const out: OciRecord[] = [];
    for (const n of names.sort()) {
      try {
        const rec = this.find(n);
        if (rec) out.push(rec);
      } catch {
        /* an unreadable record or a stray name: not a container to list */
      }
    }
    return out;
  }

  remove(id: string): void {
    rmSync(this.dir(id), { recursive: true, force: true });
  }
}
