// The side-effecting edge of minidock-runc's cgroups: make the container's directories, read
// what the kernel shows in them, write the limits planned from that (src/oci/cgroups.ts), join.
// The writes themselves are src/cgroup/fs.ts's, with its errors naming the step, file and errno.
import { readFileSync, readdirSync } from 'node:fs';
import { errnoOf } from '../core/errors.js';
import { createCgroup, joinCgroup } from '../cgroup/fs.js';
import type { CgroupDir, CgroupOp } from '../cgroup/plan.js';
import { parseLimit } from '../cgroup/stats.js';
import { planOciLimits, type CgroupFacts, type OciCgroups } from './cgroups.js';
import type { OciResources } from './resources.js';

/** The file names in each directory (none for one that is gone), and v1's memory limit. */
export function readCgroupFacts(dirs: readonly CgroupDir[]): CgroupFacts {
  const files: Record<string, string[]> = {};
  for (const d of dirs) {
    try {
      files[d.path] = readdirSync(d.path);
    } catch (err) {
      if (errnoOf(err) !== 'ENOENT') throw err;
      files[d.path] = [];
    }
  }
  const facts: CgroupFacts = { files };
  const mem = dirs.find((d) => d.version === 1 && d.controllers.includes('memory'));
  if (mem && files[mem.path]!.includes('memory.limit_in_bytes')) {
    const limit = parseLimit(readFileSync(`${mem.path}/memory.limit_in_bytes`, 'utf8'));
    if (limit !== undefined) facts.memoryLimit = limit;
  }
  return facts;
}

const run = (dirs: CgroupDir[], ops: CgroupOp[]): string[] => createCgroup({ dirs, ops, procs: [], warnings: [] });

/** Writes `r` into existing directories; returns the warnings. */
export function applyOciResources(dirs: CgroupDir[], r: OciResources): string[] {
  const { ops, warnings } = planOciLimits(dirs, r, readCgroupFacts(dirs));
  return [...warnings, ...run(dirs, ops)];
}

/** create: the directories, the device rules, the limits, then `pid` joins every directory,
 *  all before the container's process is told "go". */
export async function enterOciCgroups(cg: OciCgroups, pid: number): Promise<string[]> {
  const warnings = createCgroup(cg.plan);
  warnings.push(...applyOciResources(cg.plan.dirs, cg.resources));
  await joinCgroup(cg.plan, pid);
  return warnings;
}
