// The side-effecting edge of a container's cgroups, for minidock-runc's create and `minidock run`
// alike: make the container's directories, read what the kernel shows in them, write the limits
// planned from that (src/oci/cgroups.ts), join. The writes themselves are src/cgroup/fs.ts's,
// with its errors naming the step, file and errno.
import { readFileSync, readdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { errnoOf } from '../core/errors.js';
import { createCgroup, joinCgroup, runCgroupOps } from '../cgroup/fs.js';
import type { CgroupDir, CgroupOp } from '../cgroup/plan.js';
import { parseLimit } from '../cgroup/stats.js';
import { planOciLimits, type CgroupFacts, type OciCgroups } from './cgroups.js';
import type { OciResources } from './resources.js';

/** The file names in each directory, and v1's memory limit. A directory not made yet (a
 *  dry run) is answered by its nearest existing ancestor, whose files a new child gets too; none
 *  at all, by no files. */
export function readCgroupFacts(dirs: readonly CgroupDir[]): CgroupFacts {
  const files: Record<string, string[]> = {};
  const where: Record<string, string> = {};
  for (const d of dirs) {
    files[d.path] = [];
    // Up to the hierarchy's mount at most, which exists while the host has the hierarchy.
    for (let p = d.path; ; p = dirname(p)) {
      try {
        files[d.path] = readdirSync(p);
        where[d.path] = p;
        break;
      } catch (err) {
        if (errnoOf(err) !== 'ENOENT') throw err;
        if (p === dirname(p)) break;
      }
    }
  }
  const facts: CgroupFacts = { files };
  const mem = dirs.find((d) => d.version === 1 && d.controllers.includes('memory'));
  if (mem && files[mem.path]!.includes('memory.limit_in_bytes')) {
    const limit = parseLimit(readFileSync(`${where[mem.path]}/memory.limit_in_bytes`, 'utf8'));
    if (limit !== undefined) facts.memoryLimit = limit;
  }
  return facts;
}

/** The limit writes of `r` as the kernel shows the directories now. No limits, nothing read: a
 *  `minidock run` without resource flags asks the kernel nothing here. */
function limitsNow(dirs: readonly CgroupDir[], r: OciResources): { ops: CgroupOp[]; warnings: string[] } {
  return Object.keys(r).length ? planOciLimits(dirs, r, readCgroupFacts(dirs)) : { ops: [], warnings: [] };
}

/** Every cgroup write a create of `cg` would make now, directories then limits: what
 *  --dry-run shows (a real run shows the ones it made: enterOciCgroups returns them). */
export function cgroupOpsOf(cg: OciCgroups): CgroupOp[] {
  return [...cg.plan.ops, ...limitsNow(cg.plan.dirs, cg.resources).ops];
}

/** Writes `r` into existing directories; returns the warnings and the writes made. */
export function applyOciResources(dirs: CgroupDir[], r: OciResources): { warnings: string[]; ops: CgroupOp[] } {
  const planned = limitsNow(dirs, r);
  runCgroupOps(planned.ops);
  return planned;
}

/**
 * create: the directories, the device rules, the limits, then `pid` joins every directory, all
 * before the container's process is told "go". The join runs on libuv's threads while
 * `meanwhile` (minidock run's veth) runs here: the first write to a cgroup.procs waits for an
 * RCU grace period (the kernel's threadgroup lock), milliseconds that need not add to the
 * network's. Both finish before this returns, failed or not, so a rollback never races a
 * half-done step.
 */
export async function enterOciCgroups(cg: OciCgroups, pid: number, meanwhile: () => Promise<void> = async () => {}): Promise<{ warnings: string[]; ops: CgroupOp[] }> {
  createCgroup(cg.plan);
  const limits = applyOciResources(cg.plan.dirs, cg.resources);
  const [joined, other] = await Promise.allSettled([joinCgroup(cg.plan, pid), meanwhile()]);
  if (joined.status === 'rejected') throw joined.reason;
  if (other.status === 'rejected') throw other.reason;
  return { warnings: limits.warnings, ops: [...cg.plan.ops, ...limits.ops] };
}
