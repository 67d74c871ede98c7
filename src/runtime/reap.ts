// Finding and ending a container's processes when its record cannot say which they are (a
// broken state.json, a crash before the pid was written). Side-effecting (/proc, cgroupfs).
//
// Two independent witnesses, so neither a lost record nor a process that left its mount
// namespace hides anything: the container's overlay upper layer in a process's mount table, and
// the pids listed in the container's cgroups (every process it forked is there; a container
// cannot leave a cgroup namespace's root).
import { existsSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import type { CgroupDir } from '../cgroup/plan.js';

/** Processes whose mount table names the container's upper layer, and its shim (by the
 *  container directory on its command line). Never this process. */
export function processesOf(dir: string): number[] {
  const pids: number[] = [];
  const self = readlinkSync('/proc/self/ns/mnt');
  for (const p of readdirSync('/proc')) {
    if (!/^\d+$/.test(p) || Number(p) === process.pid) continue;
    try {
      const cmd = readFileSync(`/proc/${p}/cmdline`, 'latin1');
      if (cmd.includes('minidock-shim') && cmd.includes(`\0${dir}\0`)) { pids.push(Number(p)); continue; }
      if (readlinkSync(`/proc/${p}/ns/mnt`) === self) continue;
      if (readFileSync(`/proc/${p}/mountinfo`, 'utf8').includes(`upperdir=${dir}/upper`)) pids.push(Number(p));
    } catch {
      /* gone meanwhile */
    }
  }
  return pids;
}

/** Every pid in the cgroups (and their sub-cgroups) of `dirs`. */
export function cgroupProcesses(dirs: readonly CgroupDir[]): number[] {
  const pids = new Set<number>();
  const walk = (path: string): void => {
    try {
      for (const l of readFileSync(join(path, 'cgroup.procs'), 'utf8').split('\n')) if (l) pids.add(Number(l));
      for (const e of readdirSync(path, { withFileTypes: true })) if (e.isDirectory()) walk(join(path, e.name));
    } catch {
      /* not there (never made, or removed) */
    }
  };
  for (const d of dirs) walk(d.path);
  return [...pids];
}

const alive = (pid: number): boolean => existsSync(`/proc/${pid}`);

/** SIGKILL to each, then up to 2 s for them to be gone. */
export async function killAndWait(pids: number[]): Promise<void> {
  for (const pid of pids) {
    if (!(pid > 1)) continue; // never kill(0) or kill(-1)
    try { process.kill(pid, 'SIGKILL'); } catch { /* already gone */ }
  }
  for (let i = 0; i < 200 && pids.some(alive); i++) await new Promise((r) => setTimeout(r, 10));
}
