// What creating, joining and updating a container's cgroups means on this host's layout:
// directories, ordered file writes, and the cgroup.procs files. Pure: src/cgroup/fs.ts does it.
//
// Where the cgroups live: `<mount>/<parent>/<id>` in every hierarchy minidock uses, with
// parent "minidock", at the top of each hierarchy as docker's cgroupfs driver puts
// /docker/<id> - not under the runtime's own cgroup. The CLI's cgroup can be anything (here a
// memory cgroup /process_api/<hex> with its own limit): a container nested there would share
// that limit and vanish with that session's cgroup; and on v2 a cgroup holding processes (the
// CLI's own) may not enable controllers for children, while the root and an empty
// <parent> may.
//
// One directory per v1 hierarchy that carries one of our controllers, plus one in the cgroup2
// hierarchy when it is mounted - even on a hybrid host whose cgroup2 holds none of our
// controllers, because it is the one hierarchy where "is anything of the container still
// alive" (cgroup.events) and "kill them all" (cgroup.kill) are single files.
//
// Values written, from docker's HostConfig (src/spec/resources.ts):
//   v1 memory   memory.limit_in_bytes = memory, then memory.memsw.limit_in_bytes = memorySwap
//               (memory + swap; the kernel wants memsw >= memory at every moment, so on a fresh
//               cgroup memory goes first; an update orders them by the current limit)
//   v1 cpu      cpu.cfs_period_us = 100000, cpu.cfs_quota_us = nanoCpus × period / 1e9
//               (docker's period and formula); cpu.shares = cpuShares
//   v1 cpuset   cpuset.cpus and cpuset.mems are empty in a new v1 cpuset cgroup, and no task
//               may join until both are set: each new level copies its parent's, then
//               cpuset.cpus = cpusetCpus when given
//   v1 pids     pids.max
//   v2          memory.max, memory.swap.max = memorySwap - memory (v2 limits swap alone),
//               cpu.max = "quota period", cpu.weight = sharesToWeight(cpuShares),
//               cpuset.cpus, pids.max; controllers are enabled top-down with "+name" in each
//               ancestor's cgroup.subtree_control (a child only gets what its parent enables)

import { posix } from 'node:path';
import { MinidockError } from '../core/errors.js';
import type { Resources } from '../spec/resources.js';
import { type CgroupLayout, type Controller, type Hierarchy, V2_NAME } from './layout.js';

/** docker's CFS period: quota is expressed per 100 ms. */
export const CPU_PERIOD_US = 100_000;

export interface CgroupDir {
  version: 1 | 2;
  /** The container's cgroup in this hierarchy, absolute. */
  path: string;
  /** Which of our controllers this directory is for. */
  controllers: Controller[];
}

export type CgroupOp =
  /** mkdir; an existing directory is fine (the parent is shared, a retried run may repeat). */
  | { op: 'mkdir'; path: string }
  /** Write `value` to `file`. With `optional`, a missing file is skipped and `optional` is
   *  the warning to give (a kernel without swap accounting has no swap files). With
   *  `einvalLater`, EINVAL is passed over: the plan writes the same value again after the one
   *  it depends on (a CFS or realtime period the old quota or runtime does not fit yet). */
  | { op: 'write'; file: string; value: string; optional?: string; einvalLater?: true }
  /** v1 cpuset: when `file` is empty, copy `from` (the parent's same file) into it. */
  | { op: 'inherit'; file: string; from: string };

export interface CgroupPlan {
  dirs: CgroupDir[];
  /** In order, per hierarchy top-down: enabling controllers (v2), mkdir, copying cpuset
   *  values (v1); then the limits. */
  ops: CgroupOp[];
  /** Where the container's pid goes, one cgroup.procs per directory. */
  procs: string[];
  /** docker's warnings for limits this host cannot apply; the limit is dropped, as docker does. */
  warnings: string[];
}

// docker's own wording for a limit the host cannot enforce.
const WARN = {
  memory: 'Your kernel does not support memory limit capabilities or the cgroup is not mounted. Limitation discarded.',
  swap: 'Your kernel does not support swap limit capabilities or the cgroup is not mounted. Memory limited without swap.',
  shares: 'Your kernel does not support CPU shares or the cgroup is not mounted. Shares discarded.',
  cpuset: 'Your kernel does not support cpuset or the cgroup is not mounted. Cpuset discarded.',
  pids: 'Your kernel does not support PIDs limit capabilities or the cgroup is not mounted. PIDs limit discarded.',
} as const;

/**
 * cpu.shares (2..262144, default 1024) to cpu.weight (1..10000, default 100), with the
 * formula of runc >= 1.3 / opencontainers/cgroups and crun >= 1.23: a quadratic in log2(shares)
 * through (2, 1), (1024, 100) and (262144, 10000),
 *
 *     weight = ceil(10 ^ ((l² + 125·l) / 612 - 7/34)),  l = log2(shares)
 *
 * The older linear map, 1 + (shares - 2) × 9999 / 262142, sent the default 1024 to 39, so a
 * container given docker's "default" shares got less than half an unlimited neighbour's CPU.
 * 0 = unset.
 */
export function sharesToWeight(shares: number): number {
  if (shares === 0) return 0;
  if (shares <= 2) return 1;
  if (shares >= 262144) return 10000;
  const l = Math.log2(shares);
  return Math.ceil(10 ** ((l * l + 125 * l) / 612 - 7 / 34));
}

/** docker: quota = NanoCPUs × period / 1e9, in integer arithmetic. */
function cpuQuota(nanoCpus: number): number {
  return Math.floor((nanoCpus * CPU_PERIOD_US) / 1e9);
}

/** `minidock`, `/minidock` and `a/b` are fine; anything climbing out (`..`) or empty is not. */
function cgroupParent(parent: string): string {
  const rel = posix.normalize(parent).replace(/^\/+|\/+$/g, '');
  if (rel === '' || rel === '.' || rel.split('/').includes('..')) {
    throw new MinidockError(`invalid cgroup parent ${JSON.stringify(parent)}`, {
      step: 'cgroup.plan',
      hint: 'a path below the top of each cgroup hierarchy, such as minidock',
    });
  }
  return rel;
}

export function dirOf(dirs: readonly CgroupDir[], c: Controller): CgroupDir | undefined {
  return dirs.find((d) => d.controllers.includes(c));
}

/** The warnings for limits asked of controllers the host lacks. --cpus is an error, as in
 *  docker: a CPU limit silently ignored would be a surprise of another order. */
function missingControllers(dirs: readonly CgroupDir[], r: Resources): string[] {
  const has = (c: Controller): boolean => dirOf(dirs, c) !== undefined;
  if (r.nanoCpus !== undefined && !has('cpu')) {
    throw new MinidockError('NanoCPUs can not be set, as your kernel does not support CPU CFS scheduler or the cgroup is not mounted', {
      step: 'cgroup.plan',
      hint: 'mount the cpu cgroup controller, or run without --cpus',
    });
  }
  const out: string[] = [];
  if (r.memory !== undefined && !has('memory')) out.push(WARN.memory);
  if (r.cpuShares !== undefined && !has('cpu')) out.push(WARN.shares);
  if (r.cpusetCpus !== undefined && !has('cpuset')) out.push(WARN.cpuset);
  if (r.pidsLimit !== undefined && r.pidsLimit > 0 && !has('pids')) out.push(WARN.pids);
  return out;
}

interface WriteContext {
  swapAccounting: boolean | undefined;
  /** update: also write "no limit" values (pids.max = max), and order memory/memsw by the
   *  limit in force now (v1). */
  update: boolean;
  currentMemoryLimit?: number;
}

function file(dir: CgroupDir, name: string, value: string | number, optional?: string): CgroupOp {
  const op: CgroupOp = { op: 'write', file: `${dir.path}/${name}`, value: String(value) };
  if (optional !== undefined) op.optional = optional;
  return op;
}

/** v1 memory and memsw, in the order the kernel accepts (memsw >= memory at every step). */
function v1Memory(dir: CgroupDir, r: Resources, ctx: WriteContext, warnings: string[]): CgroupOp[] {
  const mem = r.memory === undefined ? undefined : file(dir, 'memory.limit_in_bytes', r.memory);
  let swap: CgroupOp | undefined;
  if (r.memorySwap !== undefined) {
    if (ctx.swapAccounting === false) {
      if (r.memory !== undefined && r.memorySwap !== -1) warnings.push(WARN.swap);
    } else {
      swap = file(dir, 'memory.memsw.limit_in_bytes', r.memorySwap, ctx.swapAccounting === undefined ? WARN.swap : undefined);
    }
  }
  if (!mem || !swap) return [mem, swap].filter((o): o is CgroupOp => o !== undefined);
  // Swap first when the new memsw already covers the memory limit in force (raising both, or
  // swap to unlimited); otherwise memory first (lowering). A new cgroup's limit is unlimited.
  const current = ctx.currentMemoryLimit ?? Infinity;
  const swapFirst = ctx.update && (r.memorySwap === -1 || (r.memorySwap as number) >= current);
  return swapFirst ? [swap, mem] : [mem, swap];
}

/** The limit writes for one directory. */
function limitWrites(dir: CgroupDir, r: Resources, ctx: WriteContext, warnings: string[]): CgroupOp[] {
  const ops: CgroupOp[] = [];
  const on = (c: Controller): boolean => dir.controllers.includes(c);
  const pids = r.pidsLimit === undefined ? undefined : r.pidsLimit > 0 ? String(r.pidsLimit) : ctx.update ? 'max' : undefined;
  if (dir.version === 1) {
    if (on('memory')) ops.push(...v1Memory(dir, r, ctx, warnings));
    if (on('cpu') && r.nanoCpus !== undefined) {
      ops.push(file(dir, 'cpu.cfs_period_us', CPU_PERIOD_US), file(dir, 'cpu.cfs_quota_us', cpuQuota(r.nanoCpus)));
    }
    if (on('cpu') && r.cpuShares !== undefined) ops.push(file(dir, 'cpu.shares', r.cpuShares));
    if (on('cpuset') && r.cpusetCpus !== undefined) ops.push(file(dir, 'cpuset.cpus', r.cpusetCpus));
    if (on('pids') && pids !== undefined) ops.push(file(dir, 'pids.max', pids));
    return ops;
  }
  if (on('memory')) {
    if (r.memory !== undefined) ops.push(file(dir, 'memory.max', r.memory));
    if (r.memorySwap !== undefined) {
      // v2 limits swap by itself: memory + swap - memory. Without a memory limit only
      // "unlimited" means anything.
      const swap = r.memorySwap === -1 ? 'max' : r.memory !== undefined ? String(r.memorySwap - r.memory) : undefined;
      if (swap !== undefined) ops.push(file(dir, 'memory.swap.max', swap, WARN.swap));
    }
  }
  if (on('cpu') && r.nanoCpus !== undefined) ops.push(file(dir, 'cpu.max', `${cpuQuota(r.nanoCpus)} ${CPU_PERIOD_US}`));
  if (on('cpu') && r.cpuShares !== undefined) ops.push(file(dir, 'cpu.weight', sharesToWeight(r.cpuShares)));
  if (on('cpuset') && r.cpusetCpus !== undefined) ops.push(file(dir, 'cpuset.cpus', r.cpusetCpus));
  if (on('pids') && pids !== undefined) ops.push(file(dir, 'pids.max', pids));
  return ops;
}

/** The ancestors of the container's directory below the mount, top-down: a/b/<id> gives
 *  [mount/a, mount/a/b]. */
function levels(h: Hierarchy, rel: string): string[] {
  if (rel === '') return [];
  const parts = rel.split('/');
  return parts.map((_, i) => posix.join(h.mount, ...parts.slice(0, i + 1)));
}

/**
 * The directories, their creation and setup, and the limits for a new container. A null
 * `parent` puts the container's directory at each hierarchy's top (an OCI cgroupsPath "/name",
 * as runc reads it); an empty one is a mistake, refused as any other bad parent. `v2Also`
 * names cgroup2 controllers to enable on the way down besides ours (minidock-runc's hugetlb,
 * when a bundle limits it and cgroup2 holds it).
 */
export function planCgroup(layout: CgroupLayout, parent: string | null, id: string, r: Resources, v2Also: readonly string[] = []): CgroupPlan {
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(id)) {
    throw new MinidockError(`invalid cgroup name ${JSON.stringify(id)}`, { step: 'cgroup.plan', hint: 'use the container id' });
  }
  const rel = parent === null ? '' : cgroupParent(parent);
  const dirs: CgroupDir[] = [];
  const ops: CgroupOp[] = [];
  for (const h of layout.hierarchies) {
    if (h.version === 1 && h.controllers.length === 0) continue;
    const path = posix.join(h.mount, rel, id);
    dirs.push({ version: h.version, path, controllers: [...h.controllers] });
    const names = h.version === 2 ? [...h.controllers.map((c) => V2_NAME[c]).filter((n): n is string => n !== null), ...v2Also] : [];
    // v2: a child only gets the controllers its parent enables, so each level that has
    // children - the mount's top, then each parent level - enables ours before the next level
    // is made. The container's own directory is left alone: its children are its business.
    const enable = (level: string): void => {
      for (const n of names) ops.push({ op: 'write', file: `${level}/cgroup.subtree_control`, value: `+${n}` });
    };
    enable(h.mount);
    for (const level of [...levels(h, rel), path]) {
      ops.push({ op: 'mkdir', path: level });
      if (h.version === 1 && h.controllers.includes('cpuset')) {
        // Top-down, so each level copies from a parent that is already set.
        for (const f of ['cpuset.cpus', 'cpuset.mems']) ops.push({ op: 'inherit', file: `${level}/${f}`, from: `${posix.dirname(level)}/${f}` });
      }
      if (level !== path) enable(level);
    }
  }
  const warnings = missingControllers(dirs, r);
  for (const d of dirs) ops.push(...limitWrites(d, r, { swapAccounting: layout.swapAccounting, update: false }, warnings));
  return { dirs, ops, procs: dirs.map((d) => `${d.path}/cgroup.procs`), warnings };
}

/**
 * `update`: the writes that bring existing cgroups to `r` (the container's merged resources).
 * `current.memoryLimit` is the v1 memory.limit_in_bytes in force, which decides whether
 * memsw or memory is written first.
 */
export function planUpdate(
  layout: CgroupLayout,
  dirs: readonly CgroupDir[],
  r: Resources,
  current: { memoryLimit?: number } = {},
): { ops: CgroupOp[]; warnings: string[] } {
  const warnings = missingControllers(dirs, r);
  const ctx: WriteContext = { swapAccounting: layout.swapAccounting, update: true };
  if (current.memoryLimit !== undefined) ctx.currentMemoryLimit = current.memoryLimit;
  const ops = dirs.flatMap((d) => limitWrites(d, r, ctx, warnings));
  return { ops, warnings };
}
