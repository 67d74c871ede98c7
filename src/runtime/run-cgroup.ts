// A container's cgroups across its life: planned with the spec, recorded in its state before
// they exist, created and joined between clone and "go" (so its command never runs unlimited),
// read for OOM at exit and removed with every sub-cgroup it made. Thin: the decisions are in
// src/cgroup/plan.ts, the file writes in src/cgroup/fs.ts.
import { MinidockError } from '../core/errors.js';
import { trace } from '../core/trace.js';
// Static, not lazy: these are on every run's path, and a dynamic import between clone and "go"
// costs milliseconds of its own.
import { parseCgroupMounts, readCgroupLayout } from '../cgroup/layout.js';
import { readFileSync } from 'node:fs';
import { planCgroup, type CgroupDir, type CgroupPlan } from '../cgroup/plan.js';
import { createCgroup, joinCgroup, oomKilled, removeCgroup } from '../cgroup/fs.js';
import type { Resources } from '../spec/resources.js';

/** Where containers' cgroups go in each hierarchy: MINIDOCK_CGROUP_PARENT, default "minidock"
 *  (docker's cgroupfs driver uses /docker). Tests use one of their own. */
export function cgroupParent(env: NodeJS.ProcessEnv = process.env): string {
  return env.MINIDOCK_CGROUP_PARENT || 'minidock';
}

/** The plan for a new container on this host's layout (read once per command). */
export function planContainerCgroup(id: string, r: Resources = {}, env: NodeJS.ProcessEnv = process.env): CgroupPlan {
  return planCgroup(readCgroupLayout(), cgroupParent(env), id, r);
}

/**
 * Creates the cgroups and moves `pid` into them; returns docker's warnings for limits this host
 * cannot apply. The move runs on libuv's threads while `meanwhile` (the veth) runs here: the
 * first write to a cgroup.procs waits for an RCU grace period (the kernel's threadgroup lock),
 * milliseconds that need not add to the network's. Both finish before this returns, failed or
 * not, so a rollback never races a half-done step.
 */
export async function enterCgroup(plan: CgroupPlan, pid: number, meanwhile: () => Promise<void> = async () => {}): Promise<string[]> {
  const warnings = createCgroup(plan);
  trace('cgroup: created');
  const join = joinCgroup(plan, pid);
  const [joined, other] = await Promise.allSettled([join, meanwhile()]);
  if (joined.status === 'rejected') throw joined.reason;
  if (other.status === 'rejected') throw other.reason;
  return warnings;
}

/** After PID 1 died: whether the kernel's OOM killer did it, then the cgroups go. Idempotent:
 *  cgroups already gone (another command got there first) are fine. */
export async function releaseCgroup(dirs: CgroupDir[] | undefined): Promise<{ oomKilled: boolean }> {
  if (!dirs?.length) return { oomKilled: false };
  // A cgroup that is absent because its hierarchy is not mounted here is not "already removed":
  // `ip netns exec` remounts /sys without /sys/fs/cgroup, and treating that as done would leak.
  const mounts = parseCgroupMounts(readFileSync('/proc/self/mountinfo', 'utf8')).map((m) => m.mount);
  const hidden = dirs.find((d) => !mounts.some((m) => d.path.startsWith(`${m}/`)));
  if (hidden) {
    throw new MinidockError(`cannot reach cgroup ${hidden.path}: its hierarchy is not mounted in this mount namespace`, {
      step: 'cgroup.release',
      hint: '`ip netns exec` remounts /sys without the cgroup filesystems: use nsenter --net=/run/netns/NAME instead',
    });
  }
  let oom = false;
  try {
    oom = oomKilled({ dirs });
  } catch {
    /* already removed */
  }
  await removeCgroup({ dirs });
  return { oomKilled: oom };
}
