// Where each cgroup controller lives on this host. Parsing is pure; readCgroupLayout is the
// thin reader.
//
// A host is one of three shapes, and minidock must handle each controller where it is:
//   v1      every controller on its own cgroup (v1) hierarchy, /sys/fs/cgroup/<controller>
//           (or several co-mounted, e.g. /sys/fs/cgroup/cpu,cpuacct)
//   hybrid  the same, plus a cgroup2 mount (/sys/fs/cgroup/unified) holding the controllers
//           no v1 hierarchy took (often none, or only hugetlb)
//   v2      one cgroup2 mount, /sys/fs/cgroup, for everything
// A controller can be bound to one hierarchy only, so "which one" is a per-controller fact,
// read from /proc/self/mountinfo (never assumed from paths): a v1 controller appears in the
// super options of its `cgroup` mount; a v2 one in the unified root's cgroup.controllers.

import { existsSync, readFileSync } from 'node:fs';

/** The controllers minidock limits or reads, by their v1 names. */
export type Controller = 'cpu' | 'cpuacct' | 'cpuset' | 'memory' | 'pids' | 'blkio';
export const CONTROLLERS: readonly Controller[] = ['memory', 'cpu', 'cpuacct', 'cpuset', 'pids', 'blkio'];

/**
 * The v2 name of each controller, or null when v2 needs none: cpuacct's usage is cpu.stat, a
 * core file of every v2 cgroup; blkio became io.
 */
export const V2_NAME: Readonly<Record<Controller, string | null>> = {
  memory: 'memory',
  cpu: 'cpu',
  cpuacct: null,
  cpuset: 'cpuset',
  pids: 'pids',
  blkio: 'io',
};

export interface Hierarchy {
  version: 1 | 2;
  /** Where it is mounted, e.g. /sys/fs/cgroup/memory or /sys/fs/cgroup. */
  mount: string;
  /** The cgroup the mount shows as its top (mountinfo's root field): '/' unless this is a
   *  bind mount of a subtree, as inside another container. */
  root: string;
  /** This process's own cgroup in the hierarchy (from /proc/self/cgroup), when listed. */
  self?: string;
  /** The controllers of ours that live here. v2: those the root's cgroup.controllers offers,
   *  plus cpuacct, which needs no controller. */
  controllers: Controller[];
}

export interface CgroupLayout {
  mode: 'v1' | 'hybrid' | 'v2' | 'none';
  /** Each v1 hierarchy carrying one of our controllers, then the unified one if mounted. */
  hierarchies: Hierarchy[];
  /** v1: whether memory.memsw.* exists (swap accounting compiled in and not disabled with
   *  swapaccount=0). Unknown (undefined) on v2: the root cgroup has no swap files, only a
   *  leaf can tell, so v2 swap writes are planned as optional. */
  swapAccounting?: boolean;
}

/** Every v1 controller the kernel has had, to tell controllers from mount flags (xattr,
 *  noprefix, clone_children...) in a cgroup mount's super options. */
const V1_CONTROLLERS = new Set([
  'cpu', 'cpuacct', 'cpuset', 'memory', 'devices', 'freezer', 'net_cls', 'net_prio', 'blkio',
  'perf_event', 'hugetlb', 'pids', 'rdma', 'misc', 'debug',
]);

interface MountEntry {
  /** major:minor of the superblock: two mounts of the same hierarchy share it. */
  dev: string;
  root: string;
  mount: string;
  fstype: string;
  superOptions: string[];
}

/** mountinfo escapes space, tab, newline and backslash as \ooo. */
function unescapeOctal(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
}

/** The cgroup and cgroup2 lines of /proc/self/mountinfo. */
export function parseCgroupMounts(mountinfo: string): MountEntry[] {
  const out: MountEntry[] = [];
  for (const line of mountinfo.split('\n')) {
    // id parent major:minor root mountpoint options [optional...] - fstype source superoptions
    const dash = line.indexOf(' - ');
    if (dash < 0) continue;
    const left = line.slice(0, dash).split(' ');
    const right = line.slice(dash + 3).split(' ');
    const fstype = right[0];
    if ((fstype !== 'cgroup' && fstype !== 'cgroup2') || left.length < 5) continue;
    out.push({
      dev: left[2] as string,
      root: unescapeOctal(left[3] as string),
      mount: unescapeOctal(left[4] as string),
      fstype,
      superOptions: (right[2] ?? '').split(','),
    });
  }
  return out;
}

/** /proc/self/cgroup as { 'memory': '/a/b', ..., '': '/c' } (the '' key is cgroup2). A line
 *  naming several controllers (`4:cpu,cpuacct:/x`) gives each of them. */
export function parseSelfCgroup(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^[0-9]+:([^:]*):(.*)$/.exec(line);
    if (!m) continue;
    const names = m[1] as string;
    if (names === '') out[''] = m[2] as string;
    for (const name of names.split(',')) if (name !== '') out[name] = m[2] as string;
  }
  return out;
}

/** The first mount of each hierarchy, preferring one that shows its whole tree (root '/'). */
function onePerHierarchy(mounts: MountEntry[]): MountEntry[] {
  const byDev = new Map<string, MountEntry>();
  for (const m of mounts) {
    const seen = byDev.get(m.dev);
    if (!seen || (seen.root !== '/' && m.root === '/')) byDev.set(m.dev, m);
  }
  return [...byDev.values()];
}

/**
 * The layout from /proc/self/mountinfo, /proc/self/cgroup and the text of the unified root's
 * cgroup.controllers (empty when there is no cgroup2 mount).
 */
export function parseCgroupLayout(mountinfo: string, selfCgroup: string, v2Controllers = ''): CgroupLayout {
  const mounts = onePerHierarchy(parseCgroupMounts(mountinfo));
  const self = parseSelfCgroup(selfCgroup);
  const hierarchies: Hierarchy[] = [];
  const taken = new Set<Controller>();
  let anyV1 = false;
  for (const m of mounts) {
    if (m.fstype !== 'cgroup') continue;
    const controllers = CONTROLLERS.filter((c) => m.superOptions.includes(c));
    // Any v1 controller makes the host v1 or hybrid, ours or not (a named hierarchy such as
    // name=systemd holds no controller and does not count).
    if (m.superOptions.some((o) => V1_CONTROLLERS.has(o))) anyV1 = true;
    if (controllers.length === 0) continue;
    controllers.forEach((c) => taken.add(c));
    const h: Hierarchy = { version: 1, mount: m.mount, root: m.root, controllers };
    const mine = self[controllers[0] as string];
    if (mine !== undefined) h.self = mine;
    hierarchies.push(h);
  }
  const unified = mounts.find((m) => m.fstype === 'cgroup2');
  if (unified) {
    const offered = v2Controllers.trim().split(/\s+/);
    const controllers = CONTROLLERS.filter((c) => {
      if (taken.has(c)) return false;
      const name = V2_NAME[c];
      return name === null || offered.includes(name);
    });
    const h: Hierarchy = { version: 2, mount: unified.mount, root: unified.root, controllers };
    if (self[''] !== undefined) h.self = self[''];
    hierarchies.push(h);
  }
  const mode = anyV1 ? (unified ? 'hybrid' : 'v1') : unified ? 'v2' : 'none';
  return { mode, hierarchies };
}

/** The hierarchy holding `c`, if the host has it. */
export function hierarchyOf(layout: CgroupLayout, c: Controller): Hierarchy | undefined {
  return layout.hierarchies.find((h) => h.controllers.includes(c));
}

/** Reads this host's layout. Thin: the files, then parseCgroupLayout (`mountinfo`: the caller
 *  has read /proc/self/mountinfo already). */
export function readCgroupLayout(mountinfo = readFileSync('/proc/self/mountinfo', 'utf8')): CgroupLayout {
  const self = readFileSync('/proc/self/cgroup', 'utf8');
  const unified = parseCgroupMounts(mountinfo).find((m) => m.fstype === 'cgroup2');
  let v2Controllers = '';
  if (unified) {
    try {
      v2Controllers = readFileSync(`${unified.mount}/cgroup.controllers`, 'utf8');
    } catch {
      // An unreadable cgroup.controllers offers nothing; the layout says so.
    }
  }
  const layout = parseCgroupLayout(mountinfo, self, v2Controllers);
  const memory = hierarchyOf(layout, 'memory');
  if (memory?.version === 1) layout.swapAccounting = existsSync(`${memory.mount}/memory.memsw.limit_in_bytes`);
  return layout;
}
