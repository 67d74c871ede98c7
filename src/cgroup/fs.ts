// The side-effecting edge of cgroups: carrying out a plan from plan.ts, joining, reading,
// removing. Each failure is a MinidockError naming the step (cgroup.mkdir, cgroup.write,
// cgroup.join, cgroup.rmdir), the file and the errno.

import { closeSync, constants as fsc, mkdirSync, openSync, readFileSync, readdirSync, rmdirSync, writeFile, writeSync } from 'node:fs';
import { MinidockError, errnoOf } from '../core/errors.js';
import { type CgroupOp, type CgroupPlan, dirOf } from './plan.js';
import {
  type CgroupSample,
  type SystemSample,
  parseBlkioV1,
  parseCounter,
  parseIoStat,
  parseKeyedCounters,
  parseLimit,
  parseMemTotal,
  parseNetDev,
  parseProcStat,
} from './stats.js';

/** What to do about an errno from a cgroup file, by file where the file decides. */
function hintFor(errno: string | undefined, file: string): string {
  const name = file.slice(file.lastIndexOf('/') + 1);
  switch (errno) {
    case 'EACCES':
    case 'EPERM':
    case 'EROFS':
      return 'cgroups need root and a writable /sys/fs/cgroup';
    case 'ENOENT':
      return 'the kernel has no such cgroup file: is the controller mounted (v1) or enabled in the parent (v2)?';
    case 'EBUSY':
      if (name === 'cgroup.subtree_control') return 'a v2 cgroup with processes of its own cannot enable controllers for its children';
      if (name === 'memory.limit_in_bytes') return 'the container uses more memory than the new limit and the kernel could not reclaim it';
      return 'the cgroup still has processes';
    case 'EINVAL':
      if (name.startsWith('cpuset.')) return 'CPUs must be among the parent cgroup\'s (see its cpuset.cpus)';
      if (name === 'memory.limit_in_bytes' || name === 'memory.memsw.limit_in_bytes') {
        return 'on cgroup v1 memory must stay <= memory+swap: give --memory-swap with --memory';
      }
      if (name === 'cgroup.procs') return 'the process cannot join this cgroup (on v2, the cgroup may have children with controllers)';
      return 'the kernel refused the value';
    case 'ENOSPC':
      return 'a v1 cpuset cgroup needs cpuset.cpus and cpuset.mems before a process can join';
    default:
      return 'see dmesg';
  }
}

function cgroupError(step: string, what: string, file: string, err: unknown): MinidockError {
  const errno = errnoOf(err);
  return new MinidockError(`${what}: ${errno ?? (err as Error).message}`, { step, errno, hint: hintFor(errno, file), cause: err });
}

function write(file: string, value: string): void {
  try {
    // O_WRONLY alone: a cgroup file is never created (cgroupfs answers O_CREAT of a file the
    // kernel lacks with EACCES, which would blame permissions; this says ENOENT).
    const fd = openSync(file, fsc.O_WRONLY);
    try {
      writeSync(fd, value);
    } finally {
      closeSync(fd);
    }
  } catch (err) {
    throw cgroupError('cgroup.write', `cannot write ${JSON.stringify(value)} to ${file}`, file, err);
  }
}

/** Runs ops in order. */
export function runCgroupOps(ops: readonly CgroupOp[]): void {
  for (const op of ops) {
    if (op.op === 'mkdir') {
      try {
        mkdirSync(op.path);
      } catch (err) {
        if (errnoOf(err) !== 'EEXIST') throw cgroupError('cgroup.mkdir', `cannot create cgroup ${op.path}`, op.path, err);
      }
    } else if (op.op === 'inherit') {
      if (readFileSync(op.file, 'utf8').trim() === '') write(op.file, readFileSync(op.from, 'utf8').trim());
    } else {
      try {
        write(op.file, op.value);
      } catch (err) {
        if (!(op.einvalLater && err instanceof MinidockError && err.errno === 'EINVAL')) throw err;
      }
    }
  }
}

/** Creates the container's cgroups (the limits are written once they exist: oci/cgroups-apply.ts). */
export function createCgroup(plan: CgroupPlan): void {
  runCgroupOps(plan.ops);
}

/** Moves `pid` (its whole thread group) into every cgroup of the container. Done before the
 *  container's command runs, so nothing it starts escapes the limits. Asynchronous (libuv's
 *  threads): the first write waits for an RCU grace period, which the caller may overlap. */
export async function joinCgroup(plan: CgroupPlan, pid: number): Promise<void> {
  for (const procs of plan.procs) {
    try {
      // fs.writeFile with a callback, not node:fs/promises: that module drags readline and the
      // streams into the run path (~5 ms of Node's own start-up code).
      await new Promise<void>((resolve, reject) => writeFile(procs, String(pid), (err) => (err ? reject(err) : resolve())));
    } catch (err) {
      throw cgroupError('cgroup.join', `cannot move process ${pid} into ${procs}`, procs, err);
    }
  }
}

/** The cgroup and its descendants, deepest first: rmdir order. */
function subtreeBottomUp(dir: string): string[] {
  let children: string[];
  try {
    children = readdirSync(dir, { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .map((e) => `${dir}/${e.name}`);
  } catch (err) {
    if (errnoOf(err) === 'ENOENT') return [];
    throw cgroupError('cgroup.rmdir', `cannot list cgroup ${dir}`, dir, err);
  }
  return [...children.flatMap(subtreeBottomUp), dir];
}

/**
 * Removes the container's cgroups, with every sub-cgroup the container made, bottom-up (a
 * cgroup with children cannot be removed). A cgroup whose last processes are still exiting
 * answers EBUSY for a moment: retried for up to `timeoutMs`, then a clear error.
 */
export async function removeCgroup(plan: Pick<CgroupPlan, 'dirs'>, timeoutMs = 2000): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (const d of plan.dirs) {
    for (const dir of subtreeBottomUp(d.path)) {
      for (;;) {
        try {
          rmdirSync(dir);
          break;
        } catch (err) {
          const errno = errnoOf(err);
          if (errno === 'ENOENT') break;
          if (errno === 'EBUSY' && Date.now() < until) {
            await new Promise((r) => setTimeout(r, 20));
            continue;
          }
          if (errno === 'EBUSY') {
            throw new MinidockError(`cannot remove cgroup ${dir}: processes are still in it after ${timeoutMs} ms`, {
              step: 'cgroup.rmdir',
              errno,
              hint: `see ${dir}/cgroup.procs; kill those processes and run the command again`,
              cause: err,
            });
          }
          throw cgroupError('cgroup.rmdir', `cannot remove cgroup ${dir}`, dir, err);
        }
      }
    }
  }
}

/** A cgroup file's text, or undefined when it is absent (its controller is not there). */
function readOptional(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    if (errnoOf(err) === 'ENOENT') return undefined;
    throw cgroupError('cgroup.read', `cannot read ${file}`, file, err);
  }
}

/** The container's counters now. Missing controllers leave their fields out. */
export function readStats(plan: Pick<CgroupPlan, 'dirs'>): CgroupSample {
  const s: CgroupSample = {};
  const mem = dirOf(plan.dirs, 'memory');
  if (mem) {
    const v1 = mem.version === 1;
    s.memoryVersion = mem.version;
    const usage = readOptional(`${mem.path}/${v1 ? 'memory.usage_in_bytes' : 'memory.current'}`);
    const limit = readOptional(`${mem.path}/${v1 ? 'memory.limit_in_bytes' : 'memory.max'}`);
    const stat = readOptional(`${mem.path}/memory.stat`);
    if (usage !== undefined) s.memoryUsage = parseCounter(usage) ?? 0;
    if (limit !== undefined) s.memoryLimit = parseLimit(limit) ?? Infinity;
    if (stat !== undefined) s.memoryStat = parseKeyedCounters(stat);
  }
  const cpu = dirOf(plan.dirs, 'cpuacct');
  if (cpu) {
    const text = readOptional(`${cpu.path}/${cpu.version === 1 ? 'cpuacct.usage' : 'cpu.stat'}`);
    if (text !== undefined) {
      s.cpuNs = cpu.version === 1 ? parseCounter(text) ?? 0 : (parseKeyedCounters(text)['usage_usec'] ?? 0) * 1000;
    }
  }
  const pids = dirOf(plan.dirs, 'pids');
  const pidsText = pids && readOptional(`${pids.path}/pids.current`);
  if (pidsText !== undefined) s.pids = parseCounter(pidsText) ?? 0;
  const blk = dirOf(plan.dirs, 'blkio');
  if (blk) {
    const text = readOptional(`${blk.path}/${blk.version === 1 ? 'blkio.throttle.io_service_bytes_recursive' : 'io.stat'}`);
    if (text !== undefined) {
      const io = blk.version === 1 ? parseBlkioV1(text) : parseIoStat(text);
      s.blockRead = io.read;
      s.blockWrite = io.write;
    }
  }
  return s;
}

/** The host's CPU time and online CPUs, from /proc/stat. */
export function readSystemCpu(): SystemSample {
  return parseProcStat(readFileSync('/proc/stat', 'utf8'));
}

/** The host's memory, from /proc/meminfo (0 if unreadable: the limit then shows as 0B). */
export function readHostMemory(): number {
  return parseMemTotal(readOptional('/proc/meminfo') ?? '') ?? 0;
}

/** Network bytes of the container whose PID 1 is `pid` (its network namespace), lo excluded;
 *  zeros when the process is gone. */
export function readNetIO(pid: number): { rx: number; tx: number } {
  const text = readOptional(`/proc/${pid}/net/dev`);
  return text === undefined ? { rx: 0, tx: 0 } : parseNetDev(text);
}

/**
 * Whether the kernel's OOM killer killed a process of the container. v1: the `oom_kill` line
 * of memory.oom_control (kernel >= 4.13), counted where the victim was, so the container's
 * sub-cgroups are summed too; v2: `oom_kill` of memory.events, already hierarchical. Read it
 * before removeCgroup.
 */
export function oomKilled(plan: Pick<CgroupPlan, 'dirs'>): boolean {
  const mem = dirOf(plan.dirs, 'memory');
  if (!mem) return false;
  const dirs = mem.version === 1 ? subtreeBottomUp(mem.path) : [mem.path];
  const name = mem.version === 1 ? 'memory.oom_control' : 'memory.events';
  return dirs.some((d) => (parseKeyedCounters(readOptional(`${d}/${name}`) ?? '')['oom_kill'] ?? 0) > 0);
}

