// The state store under MINIDOCK_ROOT: one directory per container (spec, state, overlay layers,
// /etc files), a name index, and a lock. Side-effecting (fs); JSON is written atomically.
//
//   $ROOT/containers/<id>/config.json   the ContainerSpec, written once
//   $ROOT/containers/<id>/state.json    status, pid, exit code, times (rewritten atomically)
//   $ROOT/containers/<id>/{rootfs,upper,work,hostname,hosts,resolv.conf}
//   $ROOT/names/<name>                  holds the id: O_EXCL creation makes names unique
//   $ROOT/lock                          flock'd around name reservation and removal
import { chownSync, existsSync, statSync, mkdirSync, readdirSync, readFileSync, rmSync, unlinkSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { MinidockError, errnoOf } from '../core/errors.js';
import { createExclusive, writeFileAtomic } from '../core/atomic-file.js';
import { FileLock } from '../core/file-lock.js';
import { gatedDir, privateDir, secureRoot } from '../core/state-perms.js';
import type { ContainerSpec } from '../spec/container-spec.js';
import { mappedRoot } from '../spec/userns.js';
import type { ContainerPaths } from './child-plan.js';
import { isSameProcess, processStartTime } from './proc.js';
import type { Leased } from '../network/setup.js';
import type { CgroupDir } from '../cgroup/plan.js';

export type Status = 'created' | 'running' | 'exited';

const ID = /^[0-9a-f]{64}$/;

export interface ContainerState {
  status: Status;
  pid?: number;
  /** /proc/PID/stat start time: a pid alone may be recycled. */
  pidStart?: number;
  startedAt?: number;
  finishedAt?: number;
  exitCode?: number;
  /** Why the exit code is what it is when minidock did not see the exit itself. */
  note?: string;
  /** The minidock process creating the container: while it lives, a 'created' container's
   *  leases are in use, not stale. */
  creator?: { pid: number; start: number };
  /** The network attachment, recorded before it is applied so rm can always undo it. */
  net?: Leased;
  /** The minidock-shim process of a detached container. */
  monitorPid?: number;
  /** The container's cgroups, recorded before they are made so rm and gc can always remove them. */
  cgroup?: CgroupDir[];
  /** PID 1 was killed by the kernel's OOM killer (docker's State.OOMKilled). */
  oomKilled?: boolean;
  /** Made by `create`: Created on purpose, kept until started or removed (gc leaves it). */
  standing?: true;
}

export interface ContainerRecord {
  id: string;
  spec?: ContainerSpec;
  state?: ContainerState;
  /** Set when config.json or state.json cannot be read: shown as "Broken", removable with rm -f. */
  broken?: string;
}

export class StateStore {
  readonly containersDir: string;
  readonly namesDir: string;

  private readonly lock: FileLock;

  constructor(readonly root: string, flock?: (fd: number) => void) {
    this.containersDir = join(root, 'containers');
    this.namesDir = join(root, 'names');
    this.lock = new FileLock(join(root, 'lock'), flock);
  }

  paths(id: string): ContainerPaths {
    const dir = join(this.containersDir, id);
    return {
      dir,
      rootfs: join(dir, 'rootfs'),
      lower: join(dir, 'lower'),
      upper: join(dir, 'upper'),
      work: join(dir, 'work'),
      hostname: join(dir, 'hostname'),
      hosts: join(dir, 'hosts'),
      resolvConf: join(dir, 'resolv.conf'),
    };
  }

  /** Runs `fn` holding $ROOT/lock. Critical sections are a few file operations long. */
  withLock<T>(fn: () => T): T {
    return this.lock.run(fn);
  }

  /**
   * Creates the container's directory and reserves its name; both or neither. Refuses a name in
   * use (docker's wording). A name whose container directory is gone (a crash in `rm`) is stale
   * and taken over.
   */
  create(spec: ContainerSpec, extra: Pick<ContainerState, 'cgroup'> = {}): ContainerPaths {
    const paths = this.paths(spec.id);
    // The container's root writes the upper layer: it must own it as the host sees it, and
    // walk from MINIDOCK_ROOT down to it (see core/state-perms.ts for who may reach what).
    const owner = mappedRoot(spec.idMap);
    return this.withLock(() => {
      secureRoot(this.root, owner?.gid);
      privateDir(this.namesDir);
      if (owner) gatedDir(this.containersDir, owner.gid);
      else privateDir(this.containersDir);
      const nameFile = join(this.namesDir, spec.name);
      const holder = this.nameHolder(spec.name, true);
      if (holder !== undefined) {
        throw new MinidockError(
          `the container name "/${spec.name}" is already in use by container "${holder}"`,
          { step: 'state.name', hint: 'remove (or rename) that container to reuse the name' },
        );
      }
      mkdirSync(paths.dir, { mode: 0o700 });
      try {
        for (const d of [paths.rootfs, paths.lower, paths.upper, paths.work]) mkdirSync(d, { mode: 0o755 });
        if (owner) {
          gatedDir(paths.dir, owner.gid);
          for (const d of [paths.upper, paths.work]) chownSync(d, owner.uid, owner.gid);
          // Its ancestors are not ours to change: name the one that stops it (mkdtemp's 0700).
          for (let d = dirname(this.root); ; d = dirname(d)) {
            if (!(statSync(d).mode & 0o001)) {
              throw new MinidockError(`the container's root (host uid ${owner.uid}) cannot reach MINIDOCK_ROOT: ${d} is not searchable by other users`, {
                step: 'state.root',
                exitCode: 125,
                hint: `chmod o+x ${d}, put MINIDOCK_ROOT elsewhere, or run with --userns=host`,
              });
            }
            if (d === '/') break;
          }
        }
        writeFileAtomic(join(paths.dir, 'config.json'), JSON.stringify(spec, null, 2) + '\n');
        const creator = { pid: process.pid, start: processStartTime(process.pid) ?? 0 };
        writeFileAtomic(join(paths.dir, 'state.json'), JSON.stringify({ status: 'created', creator, ...extra } satisfies ContainerState) + '\n');
        createExclusive(nameFile, spec.id);
      } catch (err) {
        rmSync(paths.dir, { recursive: true, force: true });
        throw err;
      }
      return paths;
    });
  }

  /** Replaces the spec (`update` changes its limits); atomic, under the lock rm holds. */
  writeSpec(spec: ContainerSpec): boolean {
    return this.withLock(() => {
      const dir = this.paths(spec.id).dir;
      if (!existsSync(dir)) return false;
      writeFileAtomic(join(dir, 'config.json'), JSON.stringify(spec, null, 2) + '\n');
      return true;
    });
  }

  writeState(id: string, state: ContainerState): void {
    writeFileAtomic(join(this.paths(id).dir, 'state.json'), JSON.stringify(state) + '\n');
  }

  /** Writes the state unless the container was removed meanwhile; under the lock that remove()
   *  holds, so a late writer (the shim's cleanup racing rm -f) can never resurrect a container. */
  writeStateIfPresent(id: string, state: ContainerState): boolean {
    return this.withLock(() => {
      if (!existsSync(this.paths(id).dir)) return false;
      this.writeState(id, state);
      return true;
    });
  }

  read(id: string): ContainerRecord {
    // Concatenated, not join()ed: `ps -a` reads every container, and path.join's normalising
    // was a tenth of it (the directory is normalised once, the id is hex).
    const dir = `${this.containersDir}/${id}`;
    try {
      const spec = JSON.parse(readFileSync(`${dir}/config.json`, 'utf8')) as ContainerSpec;
      const state = JSON.parse(readFileSync(`${dir}/state.json`, 'utf8')) as ContainerState;
      if (typeof spec?.id !== 'string' || typeof state?.status !== 'string') throw new Error('missing fields');
      return { id, spec, state: reconcile(state, dir) };
    } catch (err) {
      return { id, broken: errnoOf(err) ?? (err as Error).message };
    }
  }

  list(): ContainerRecord[] {
    let ids: string[];
    try {
      ids = readdirSync(this.containersDir);
    } catch (err) {
      if (errnoOf(err) === 'ENOENT') return [];
      throw err;
    }
    return ids.filter((n) => ID.test(n)).map((id) => this.read(id));
  }

  /** Finds a container by name, full id or unique id prefix, as docker does. */
  resolve(ref: string): ContainerRecord {
    if (/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(ref)) {
      const byName = this.nameHolder(ref);
      if (byName) {
        const rec = this.read(byName);
        // Removed between the name lookup and the read (a concurrent rm): it is gone.
        if (rec.broken !== 'ENOENT' || existsSync(this.paths(byName).dir)) return rec;
      }
      if (/^[0-9a-f]+$/.test(ref)) {
        const all = this.list().filter((c) => c.id.startsWith(ref));
        if (all.length === 1) return all[0]!;
        if (all.length > 1) {
          throw new MinidockError(`multiple containers match the id prefix "${ref}" (${all.length} of them)`, {
            step: 'state.resolve',
            hint: 'give more characters of the id, or the name',
          });
        }
      }
    }
    throw new MinidockError(`no such container: ${ref}`, { step: 'state.not-found', hint: 'minidock ps -a lists them' });
  }

  /** True while the container's processes, or the minidock creating it, are alive: its address
   *  and ports are in use. Anything else holding a lease is stale. A container whose record
   *  cannot be read counts as live while its directory is there: nothing says its processes
   *  are gone, and freeing its address or port would hand them to a second container. `rm -f`
   *  of it ends what is in its cgroups and frees them. */
  isLive(id: string): boolean {
    const rec = this.settled(this.read(id));
    if (rec.broken) return existsSync(this.paths(id).dir);
    if (!rec.state) return false;
    if (rec.state.status === 'running') return true; // read() already checked pid + start time
    const c = rec.state.creator;
    return rec.state.status === 'created' && !!c && isSameProcess(c.pid, c.start);
  }

  /**
   * `rec` as its creator left it. A record is read before its creator is looked at: a creator
   * that wrote "running" and exited in between (`run -d` does both within a millisecond) looks
   * like one that died half-way. It always writes before it exits, so once it is seen gone, a
   * second read holds all it wrote. (Without this look a concurrent run took a running
   * container's address, and gc would have undone a container that had just started.)
   */
  settled(rec: ContainerRecord): ContainerRecord {
    const c = rec.state?.status === 'created' ? rec.state.creator : undefined;
    return c && !isSameProcess(c.pid, c.start) ? this.read(rec.id) : rec;
  }

  /** Deletes the container's directory, then its name: a crash in between leaves a stale name,
   *  which create() recognises and takes over. */
  remove(rec: ContainerRecord): void {
    this.withLock(() => {
      rmSync(this.paths(rec.id).dir, { recursive: true, force: true, maxRetries: 3 });
      // A broken record has no readable spec to name it: find its name by the id it holds.
      const names = rec.spec?.name ? [rec.spec.name] : existsSync(this.namesDir) ? readdirSync(this.namesDir) : [];
      for (const name of names) if (this.readName(name) === rec.id) unlinkSync(join(this.namesDir, name));
    });
  }

  private readName(name: string): string | undefined {
    try {
      return readFileSync(join(this.namesDir, name), 'utf8').trim();
    } catch (err) {
      if (errnoOf(err) === 'ENOENT') return undefined;
      throw err;
    }
  }

  /**
   * The id of the container that holds `name`, or undefined when the name is free. The name file
   * is the fast answer. One that does not hold the id of a container that is there (a torn or
   * tampered file, or a crash in rm) proves nothing either way, so the containers themselves are
   * asked: a free-looking name must never give a second container the name a live one has.
   * `mend` (under the lock) rewrites or deletes such a file.
   */
  private nameHolder(name: string, mend = false): string | undefined {
    const id = this.readName(name);
    if (id === undefined) return undefined;
    if (ID.test(id) && existsSync(this.paths(id).dir)) {
      // A killed rename can leave the old (or the new) name pointing at a container whose
      // record says otherwise: that name is stale, and found below to be nobody's.
      const spec = this.read(id).spec;
      if (!spec || spec.name === name) return id;
    }
    const owner = this.list().find((c) => c.spec?.name === name || (!c.spec && this.brokenNamed(c.id, name)))?.id;
    if (mend) {
      if (owner) writeFileAtomic(join(this.namesDir, name), owner);
      else unlinkSync(join(this.namesDir, name));
    }
    return owner;
  }

  /** docker rename: the new name is taken first (O_EXCL: a concurrent create or rename of it
   *  loses), then the record says it, then the old name is let go; under the lock create and
   *  remove hold. A kill between the steps leaves a name whose container's record says
   *  otherwise, which nameHolder treats as free. */
  rename(id: string, to: string): void {
    this.withLock(() => {
      const rec = this.read(id);
      if (!rec.spec) throw new MinidockError(`container ${id.slice(0, 12)} has no readable record (${rec.broken})`, { step: 'state.rename', exitCode: 1 });
      const from = rec.spec.name;
      if (from === to) throw new MinidockError('Renaming a container with the same name as its current name', { step: 'state.rename', exitCode: 1 });
      const holder = this.nameHolder(to, true);
      if (holder !== undefined) {
        throw new MinidockError(`the container name "/${to}" is already in use by container "${holder}"`, {
          step: 'state.name', exitCode: 1, hint: 'remove (or rename) that container to reuse the name',
        });
      }
      createExclusive(join(this.namesDir, to), id);
      writeFileAtomic(join(this.paths(id).dir, 'config.json'), JSON.stringify({ ...rec.spec, name: to }, null, 2) + '\n');
      if (this.readName(from) === id) unlinkSync(join(this.namesDir, from));
    });
  }

  /** gc: a name file whose container is gone is deleted; one that holds no id but names a
   *  container that is there is rewritten. True when the file was deleted. */
  reconcileName(name: string): boolean {
    return this.withLock(() => {
      if (this.readName(name) === undefined) return false;
      return this.nameHolder(name, true) === undefined;
    });
  }

  /** A broken record's name, read from the raw config.json text when it no longer parses. */
  private brokenNamed(id: string, name: string): boolean {
    try {
      return readFileSync(join(this.paths(id).dir, 'config.json'), 'utf8').includes(`"name": ${JSON.stringify(name)}`);
    } catch {
      return false;
    }
  }
}

/** What reconcile asks the host. A parameter so that a test can play the interleavings of a
 *  race (test/unit/state-store.test.ts); the host's answers by default. */
export interface ExitProbe {
  /** DIR/exit.json, which the shim writes once it has reaped PID 1. */
  exitRecord(dir: string): { exitCode: number; finishedAt: number } | undefined;
  isSameProcess(pid: number, start: number): boolean;
  /** The shim of the container in `dir` is alive (and has not yet exec'd its exit command). */
  isShimOf(pid: number, dir: string): boolean;
}

const hostProbe: ExitProbe = { exitRecord: readExit, isSameProcess, isShimOf: shimOf };

/** A "running" container whose PID 1 is gone was ended while nobody watched (its CLI was
 *  killed, taking the container with it): show it exited, with docker's 255 for "unknown". */
export function reconcile(state: ContainerState, dir: string, probe: ExitProbe = hostProbe): ContainerState {
  if (state.status !== 'running') return state;
  // A detached container's shim records the exit at once; `minidock cleanup` then finalises
  // the state. In between, the record is the truth.
  const recorded = (e: { exitCode: number; finishedAt: number }): ContainerState => ({ ...state, status: 'exited', exitCode: e.exitCode, finishedAt: e.finishedAt });
  const exit = probe.exitRecord(dir);
  if (exit) return recorded(exit);
  if (state.pid && state.pidStart !== undefined && probe.isSameProcess(state.pid, state.pidStart)) return state;
  // PID 1 is gone but its shim lives: it reaped PID 1 a moment ago and is about to write
  // exit.json. Until it has, the container is still exiting, not exited with an unknown code.
  if (state.monitorPid && probe.isShimOf(state.monitorPid, dir)) return state;
  // The shim may have written the record and exec'd `minidock cleanup` (which no longer names
  // the directory) since the first look: it always writes before it execs, so with the shim
  // gone a record it wrote is there now. Without this second look, a reader that lost the CPU
  // between the first and the shim check reported 255 for a container that exited 10.
  const late = probe.exitRecord(dir);
  if (late) return recorded(late);
  return { ...state, status: 'exited', exitCode: state.exitCode ?? 255, note: 'exited while no minidock process watched it' };
}

/** True when `pid` is the shim of the container in `dir` (its command line names the dir; a
 *  recycled pid would not). */
function shimOf(pid: number, dir: string): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'latin1').includes(`\0${dir}\0`);
  } catch {
    return false;
  }
}

function readExit(dir: string): { exitCode: number; finishedAt: number } | undefined {
  try {
    return JSON.parse(readFileSync(join(dir, 'exit.json'), 'utf8')) as { exitCode: number; finishedAt: number };
  } catch {
    return undefined;
  }
}
