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
// The limits are not written here: a container's linux.resources become file writes in
// src/oci/cgroups.ts (planOciLimits), for `minidock run`, `minidock update` and minidock-runc
// alike, as runc's cgroupfs driver writes them. This file only makes the places they go.

import { posix } from 'node:path';
import { MinidockError } from '../core/errors.js';
import { type CgroupLayout, type Controller, type Hierarchy, V2_NAME } from './layout.js';

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
  /** Write `value` to `file`. With `einvalLater`, EINVAL is passed over: the plan writes the
   *  same value again after the one it depends on (a CFS or realtime period the old quota or
   *  runtime does not fit yet). */
  | { op: 'write'; file: string; value: string; einvalLater?: true }
  /** v1 cpuset: when `file` is empty, copy `from` (the parent's same file) into it. */
  | { op: 'inherit'; file: string; from: string };

export interface CgroupPlan {
  dirs: CgroupDir[];
  /** In order, per hierarchy top-down: enabling controllers (v2), mkdir, copying cpuset
   *  values (v1); minidock-runc appends the device rules. */
  ops: CgroupOp[];
  /** Where the container's pid goes, one cgroup.procs per directory. */
  procs: string[];
}

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

/** The ancestors of the container's directory below the mount, top-down: a/b/<id> gives
 *  [mount/a, mount/a/b]. */
function levels(h: Hierarchy, rel: string): string[] {
  if (rel === '') return [];
  const parts = rel.split('/');
  return parts.map((_, i) => posix.join(h.mount, ...parts.slice(0, i + 1)));
}

/**
 * The directories of a new container and their creation and setup. A null
 * `parent` puts the container's directory at each hierarchy's top (an OCI cgroupsPath "/name",
 * as runc reads it); an empty one is a mistake, refused as any other bad parent. `v2Also`
 * names cgroup2 controllers to enable on the way down besides ours (minidock-runc's hugetlb,
 * when a bundle limits it and cgroup2 holds it).
 */
export function planCgroup(layout: CgroupLayout, parent: string | null, id: string, v2Also: readonly string[] = []): CgroupPlan {
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
  return { dirs, ops, procs: dirs.map((d) => `${d.path}/cgroup.procs`) };
}
