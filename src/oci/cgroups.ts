// An OCI config's cgroups: linux.cgroupsPath as the container's directories (minidock's cgroup
// plan, src/cgroup/plan.ts, the one `minidock run` uses, plus the v1 hierarchies minidock run
// has no use for: devices, freezer, hugetlb, net_cls, net_prio), and linux.resources as the
// files to write there, on v1 and v2, as runc's cgroupfs driver (opencontainers/cgroups fs and
// fs2) writes them. Pure.
//
// The limits are planned against the files the kernel shows in the container's own directories
// (CgroupFacts, read once they exist), because which file carries a value is the kernel's
// choice: blkio.weight (CFQ, gone since 5.0) or blkio.bfq.weight, whether hugetlb has .rsvd
// files, whether cpu.idle or the burst files exist, whether swap is accounted.
//
// The devices controller: `minidock run` needs no rules (its containers are in a user namespace,
// where mknod is refused whatever the cgroup says) but a bundle without a user namespace does:
// its root is the host's root, and only the device cgroup keeps it from opening the host's disks.
import { posix } from 'node:path';
import { planCgroup, sharesToWeight, type CgroupDir, type CgroupOp, type CgroupPlan } from '../cgroup/plan.js';
import { parseCgroupMounts, type CgroupLayout } from '../cgroup/layout.js';
import { MinidockError } from '../core/errors.js';
import { THROTTLE_KEYS, parseResources, type OciResources, type ThrottleKey } from './resources.js';

/** runc's default parent when the config names no cgroupsPath. */
export const DEFAULT_PARENT = 'minidock-runc';

/** The device rules every container gets after the config's own (runc's AllowedDevices): the
 *  nodes runtime-spec's "Default Devices" requires, and the container's own ptys. */
export const DEFAULT_DEVICE_RULES = [
  'c 1:3 rwm', 'c 1:5 rwm', 'c 1:7 rwm', 'c 1:8 rwm', 'c 1:9 rwm', 'c 5:0 rwm', 'c 5:1 rwm', 'c 5:2 rwm', 'c 136:* rwm',
] as const;

export interface OciCgroups {
  /** The directories and their setup (mkdir, cpuset copies, v2 enabling) and the device rules;
   *  the limits come from planOciLimits once the directories exist. */
  plan: CgroupPlan;
  resources: OciResources;
  /** Fields of linux.resources this cannot carry out (the caller refuses the config). */
  unsupported: string[];
}

/** What the kernel shows in the container's directories, read after they are made. */
export interface CgroupFacts {
  /** The file names in each of the container's directories, by directory path. */
  files: Readonly<Record<string, readonly string[]>>;
  /** v1 memory.limit_in_bytes in force: decides whether memsw or memory goes first. */
  memoryLimit?: number;
}

const bad = (field: string, why: string, hint: string): MinidockError =>
  new MinidockError(`config.json: ${field} ${why}`, { step: 'oci.config', hint, exitCode: 1 });

/** Where the container's cgroup goes below each hierarchy's top: cgroupsPath as runc reads it
 *  with the cgroupfs driver ("/a/b" and "a/b" alike, "/name" at the top itself), or
 *  minidock-runc/<id>. */
export function cgroupLocation(cgroupsPath: string | undefined, id: string): { parent: string; name: string } {
  if (cgroupsPath === undefined || cgroupsPath === '') return { parent: DEFAULT_PARENT, name: id };
  if (cgroupsPath.includes(':')) throw bad('linux.cgroupsPath', `"${cgroupsPath}" is a systemd slice:scope path`, 'give a cgroupfs path such as /runtime/ID (minidock-runc has no systemd driver)');
  const rel = posix.normalize(cgroupsPath).replace(/^\/+|\/+$/g, '');
  const parts = rel.split('/');
  if (rel === '' || rel === '.' || parts.includes('..')) throw bad('linux.cgroupsPath', `"${cgroupsPath}" is not a path below the hierarchies' top`, 'give a path such as /runtime/ID');
  return { parent: parts.slice(0, -1).join('/'), name: parts[parts.length - 1]! };
}

/** The directory for a controller, by its v1 name (minidock's own list, or one of the extras). */
const dirFor = (dirs: readonly CgroupDir[], c: string): CgroupDir | undefined => dirs.find((d) => (d.controllers as string[]).includes(c));

/** The controllers `r` needs, each with the field that asks for it. */
function needed(r: OciResources): [string, string][] {
  const out: [string, string][] = [];
  const m = r.memory ?? {};
  if ([m.limit, m.reservation, m.swap, m.swappiness, m.disableOOMKiller, m.useHierarchy].some((v) => v !== undefined)) out.push(['memory', 'linux.resources.memory']);
  const c = r.cpu ?? {};
  if ([c.shares, c.quota, c.period, c.burst, c.realtimePeriod, c.realtimeRuntime, c.idle].some((v) => v !== undefined)) out.push(['cpu', 'linux.resources.cpu']);
  if (c.cpus !== undefined || c.mems !== undefined) out.push(['cpuset', 'linux.resources.cpu.cpus/mems']);
  if (r.pids?.limit !== undefined) out.push(['pids', 'linux.resources.pids']);
  if (r.blockIO && Object.keys(r.blockIO).length) out.push(['blkio', 'linux.resources.blockIO']);
  if (r.hugepageLimits?.length) out.push(['hugetlb', 'linux.resources.hugepageLimits']);
  if (r.network?.classID !== undefined) out.push(['net_cls', 'linux.resources.network.classID']);
  if (r.network?.priorities?.length) out.push(['net_prio', 'linux.resources.network.priorities']);
  return out;
}

/** What of `r` has no directory to go to: runc fails such a container ("cannot set X limit:
 *  container could not join or create cgroup"), and so does minidock-runc, naming the field. */
export function missingControllers(dirs: readonly CgroupDir[], r: OciResources): string[] {
  const out = needed(r).filter(([c]) => !dirFor(dirs, c)).map(([c, field]) => `${field} (no ${c} cgroup controller on this host)`);
  // runc: "cannot use unified on cgroup v1". A hybrid host's cgroup2 holds none of the
  // controllers such files belong to, so it counts as v1 here too.
  if (Object.keys(r.unified ?? {}).length && (dirs.some((d) => d.version === 1) || !dirs.some((d) => d.version === 2))) out.push('linux.resources.unified (a cgroup v2 host only)');
  return out;
}

/**
 * The container's cgroup plan: minidock's own directories for the resource controllers, the
 * extra v1 hierarchies, the config's device rules (v1) in order then the default devices, and
 * what the host cannot do. `v2Controllers` is the cgroup2 root's cgroup.controllers.
 */
export function planOciCgroups(layout: CgroupLayout, mountinfo: string, linux: { cgroupsPath?: unknown; resources?: unknown; devices?: unknown } | undefined, id: string, v2Controllers = ''): OciCgroups {
  const { parent, name } = cgroupLocation(typeof linux?.cgroupsPath === 'string' ? linux.cgroupsPath : undefined, id);
  const { resources, devices, unsupported } = parseResources(linux?.resources);
  // hugetlb on cgroup2 (a hybrid host's one controller there, as here) is enabled on the way
  // down only for a container that limits it: enabling leaves the root's subtree_control changed.
  const v2 = layout.hierarchies.find((h) => h.version === 2);
  const hugetlbV2 = !!resources.hugepageLimits?.length && !!v2 && v2Controllers.trim().split(/\s+/).includes('hugetlb');
  const plan = planCgroup(layout, parent === '' ? null : parent, name, hugetlbV2 ? ['hugetlb'] : []);
  if (hugetlbV2) (plan.dirs.find((d) => d.version === 2)!.controllers as string[]).push('hugetlb');
  const mounts = parseCgroupMounts(mountinfo);
  /** The container's directory in the v1 hierarchy carrying `controller`, made if minidock's
   *  plan has none there; named for its controllers so the container's own "cgroup" mount shows
   *  it under that name (minidock run's controller list has none of these: hence the casts). */
  const extra = (controller: string): string | undefined => {
    const m = mounts.find((x) => x.fstype === 'cgroup' && x.superOptions.includes(controller));
    if (!m) return undefined;
    const there = plan.dirs.find((d) => d.path.startsWith(`${m.mount}/`));
    if (there) {
      if (!(there.controllers as string[]).includes(controller)) (there.controllers as string[]).push(controller);
      return there.path;
    }
    const path = posix.join(m.mount, parent, name);
    const levels = parent === '' ? [] : parent.split('/').map((_, i, a) => posix.join(m.mount, ...a.slice(0, i + 1)));
    plan.dirs.push({ version: 1, path, controllers: [controller as unknown as CgroupDir['controllers'][number]] });
    plan.ops.push(...[...levels, path].map((p) => ({ op: 'mkdir' as const, path: p })));
    plan.procs.push(`${path}/cgroup.procs`);
    return path;
  };
  const dev = extra('devices');
  if (devices.length && !dev) unsupported.push('linux.resources.devices (no cgroup v1 devices controller on this host)');
  if (dev && devices.length) {
    // The config's rules in order (runc spec's list starts with a deny-all), then the defaults.
    for (const [file, line] of devices) plan.ops.push({ op: 'write', file: `${dev}/${file}`, value: line! });
    for (const line of DEFAULT_DEVICE_RULES) plan.ops.push({ op: 'write', file: `${dev}/devices.allow`, value: line });
    // linux.devices (validated by config.ts): the child makes those nodes, and mknod needs "m".
    // runc allows mknod of every node ("c *:* m", "b *:* m": its own comment calls that
    // questionable); here only of the ones listed. Opening them is up to the config's rules.
    for (const d of Array.isArray(linux?.devices) ? (linux.devices as Array<{ type: string; major: number; minor: number }>) : []) {
      if (d.type !== 'p') plan.ops.push({ op: 'write', file: `${dev}/devices.allow`, value: `${d.type === 'u' ? 'c' : d.type} ${d.major}:${d.minor} m` });
    }
  }
  // pause and resume freeze the whole cgroup, as runc does; the others as runc joins every
  // hierarchy mounted.
  for (const c of ['freezer', 'hugetlb', 'net_cls', 'net_prio']) extra(c);
  unsupported.push(...missingControllers(plan.dirs, resources));
  return { plan, resources, unsupported };
}

/** -1 is "max", 0 is "leave it" (fs2's numToStr). */
const v2Num = (n: number | undefined): string | undefined => (n === undefined || n === 0 ? undefined : n === -1 ? 'max' : String(n));

/** runc's blkio weight (10..1000) on v2's io.weight scale (1..10000). */
export const blkioToIoWeight = (w: number): number => 1 + Math.floor(((w - 10) * 9999) / 990);

const THROTTLE_V1: Record<ThrottleKey, string> = {
  throttleReadBpsDevice: 'blkio.throttle.read_bps_device', throttleWriteBpsDevice: 'blkio.throttle.write_bps_device',
  throttleReadIOPSDevice: 'blkio.throttle.read_iops_device', throttleWriteIOPSDevice: 'blkio.throttle.write_iops_device',
};
const THROTTLE_V2: Record<ThrottleKey, string> = { throttleReadBpsDevice: 'rbps', throttleWriteBpsDevice: 'wbps', throttleReadIOPSDevice: 'riops', throttleWriteIOPSDevice: 'wiops' };

/** runc's own warning for kernel memory, which neither cgroup version limits any more. */
export const KERNEL_MEMORY_IGNORED = 'Kernel memory settings are ignored and will be removed';

/**
 * The writes that bring the container's cgroups to `r`, in the orders the kernel accepts, for
 * create and for update alike (as runc's Set, which update calls with the merged resources).
 * A value the host has no file for fails at its write, naming the file, as runc fails; the
 * files the kernel may lack by version (.rsvd, burst, swap on v2) are skipped as runc skips them.
 *
 * Not written, with a warning: kernel (runc ignores it; kernel >= 6.1 takes
 * memory.kmem.limit_in_bytes and ignores it), kernelTCP where there is no v1
 * memory.kmem.tcp.limit_in_bytes, useHierarchy false (new kernels keep every v1 memory cgroup
 * hierarchical and refuse 0: "Non-hierarchical mode is deprecated"), and on v2 what v2 has no
 * file for (swappiness, disableOOMKiller, realtime, leaf weights).
 */
export function planOciLimits(dirs: readonly CgroupDir[], r: OciResources, facts: CgroupFacts): { ops: CgroupOp[]; warnings: string[] } {
  const ops: CgroupOp[] = [];
  const warnings: string[] = [];
  const has = (d: CgroupDir, name: string): boolean => facts.files[d.path]?.includes(name) ?? false;
  const w = (d: CgroupDir, name: string, value: string | number): void => void ops.push({ op: 'write', file: `${d.path}/${name}`, value: String(value) });
  /** A period the kernel may refuse (EINVAL) until its quota or runtime is written: tried first,
   *  written again after `then` when that is set too (runc's retry). */
  const period = (d: CgroupDir, name: string, value: number | undefined, then: number | undefined, write: () => void): void => {
    if (value && then) ops.push({ op: 'write', file: `${d.path}/${name}`, value: String(value), einvalLater: true });
    else if (value) w(d, name, value);
    write();
    if (value && then) w(d, name, value);
  };
  const warn = (s: string): void => void (warnings.includes(s) || warnings.push(s));
  const v2only = (d: CgroupDir, what: string): void => warn(`${what} is not supported on cgroup v2 (${d.path}): ignored`);

  const m = r.memory;
  const mem = dirFor(dirs, 'memory');
  // kernelTCP still limits on v1 (memory.kmem.tcp.limit_in_bytes), as crun writes it; the
  // kernel limit does not (the file takes a value and keeps "unlimited"), as runc warns.
  const tcp = m?.kernelTCP !== undefined && mem?.version === 1 && has(mem, 'memory.kmem.tcp.limit_in_bytes');
  if (m?.kernel !== undefined || (m?.kernelTCP !== undefined && !tcp)) warn(KERNEL_MEMORY_IGNORED);
  if (m && mem?.version === 1) {
    const limit = m.limit ?? 0;
    let swap = m.swap ?? 0;
    // runc: unlimited memory and no swap given is unlimited swap too (or memsw would stay below).
    if (limit === -1 && swap === 0 && has(mem, 'memory.memsw.limit_in_bytes')) swap = -1;
    const memOp = (): void => { if (limit !== 0) w(mem, 'memory.limit_in_bytes', limit); };
    const swapOp = (): void => { if (swap !== 0) w(mem, 'memory.memsw.limit_in_bytes', swap); };
    // The kernel wants memsw >= memory at every moment: swap first when the new memsw already
    // covers the limit in force (raising, or swap to unlimited), memory first otherwise.
    if (limit !== 0 && swap !== 0 && (swap === -1 || (facts.memoryLimit ?? Infinity) < swap)) {
      swapOp(); memOp();
    } else {
      memOp(); swapOp();
    }
    if (m.reservation !== undefined && m.reservation !== 0) w(mem, 'memory.soft_limit_in_bytes', m.reservation);
    if (m.disableOOMKiller) w(mem, 'memory.oom_control', 1);
    if (m.swappiness !== undefined && m.swappiness !== -1) w(mem, 'memory.swappiness', m.swappiness);
    if (m.useHierarchy === true) w(mem, 'memory.use_hierarchy', 1);
    if (tcp) w(mem, 'memory.kmem.tcp.limit_in_bytes', m.kernelTCP!);
    if (m.useHierarchy === false) warn('memory.useHierarchy false: the kernel keeps every v1 memory cgroup hierarchical (it refuses 0): ignored');
  } else if (m && mem) {
    const swap = v2Swap(m.swap ?? 0, m.limit ?? 0);
    // fs2: a swap file the kernel lacks (no swap accounting) is fine for "max" and "0".
    const swapStr = swap === 0 ? ((m.swap ?? 0) > 0 ? '0' : undefined) : swap === -1 ? 'max' : String(swap);
    if (swapStr !== undefined && (has(mem, 'memory.swap.max') || (swapStr !== 'max' && swapStr !== '0'))) w(mem, 'memory.swap.max', swapStr);
    const max = v2Num(m.limit);
    if (max) w(mem, 'memory.max', max);
    const low = v2Num(m.reservation);
    if (low) w(mem, 'memory.low', low);
    if (m.swappiness !== undefined && m.swappiness !== -1) v2only(mem, 'memory.swappiness');
    if (m.disableOOMKiller) v2only(mem, 'memory.disableOOMKiller');
  }

  const c = r.cpu;
  const cpu = dirFor(dirs, 'cpu');
  // An idle group's weight is the kernel's (it refuses cpu.shares there with EINVAL): shares
  // are left alone while idle is 1, which keeps every update of an idle container writable.
  const shares = c?.idle === 1 ? undefined : c?.shares;
  if (c && cpu?.version === 1) {
    if (shares) w(cpu, 'cpu.shares', shares);
    // Period, burst, quota (runc's order). The kernel refuses a period (EINVAL) under which the
    // old quota exceeds a parent's: then it goes again after the quota.
    period(cpu, 'cpu.cfs_period_us', c.period, c.quota, () => {
      if (c.burst !== undefined && has(cpu, 'cpu.cfs_burst_us')) w(cpu, 'cpu.cfs_burst_us', c.burst);
      if (c.quota) w(cpu, 'cpu.cfs_quota_us', c.quota);
    });
    if (c.idle !== undefined) {
      if (has(cpu, 'cpu.idle')) w(cpu, 'cpu.idle', c.idle);
      else warn(`cpu.idle: the kernel has no ${cpu.path}/cpu.idle (added in 5.15): ignored`);
    }
    // Realtime budget: period, then runtime; a period shorter than the runtime in force goes
    // again after the new runtime. A runtime needs its parents' budget (cpu.rt_runtime_us of
    // minidock-runc/ is 0 unless the administrator gives it one): EINVAL otherwise, as runc.
    period(cpu, 'cpu.rt_period_us', c.realtimePeriod, c.realtimeRuntime, () => {
      if (c.realtimeRuntime) w(cpu, 'cpu.rt_runtime_us', c.realtimeRuntime);
    });
  } else if (c && cpu) {
    if (c.idle !== undefined) w(cpu, 'cpu.idle', c.idle);
    if (shares) w(cpu, 'cpu.weight', sharesToWeight(shares));
    if (c.burst !== undefined) w(cpu, 'cpu.max.burst', c.burst);
    if (c.quota || c.period) w(cpu, 'cpu.max', `${c.quota && c.quota > 0 ? c.quota : 'max'} ${c.period || 100000}`);
    if (c.realtimePeriod || c.realtimeRuntime) v2only(cpu, 'cpu.realtimePeriod/realtimeRuntime');
  }
  const cpuset = dirFor(dirs, 'cpuset');
  if (c && cpuset) {
    // v1's new directories hold their parent's values already (planCgroup's inherit ops).
    if (c.cpus) w(cpuset, 'cpuset.cpus', c.cpus);
    if (c.mems) w(cpuset, 'cpuset.mems', c.mems);
  }

  const pids = dirFor(dirs, 'pids');
  const limit = r.pids?.limit;
  if (pids && limit !== undefined && limit !== 0) w(pids, 'pids.max', limit > 0 ? limit : 'max');

  const b = r.blockIO;
  const blk = dirFor(dirs, 'blkio');
  if (b && blk?.version === 1) {
    // CFQ's blkio.weight is gone (5.0); BFQ's files take the same values where it is.
    const bfq = !has(blk, 'blkio.weight');
    if (b.weight) w(blk, bfq ? 'blkio.bfq.weight' : 'blkio.weight', b.weight);
    if (b.leafWeight) w(blk, 'blkio.leaf_weight', b.leafWeight);
    for (const d of b.weightDevice ?? []) {
      if (d.weight) w(blk, bfq ? 'blkio.bfq.weight_device' : 'blkio.weight_device', `${d.major}:${d.minor} ${d.weight}`);
      if (d.leafWeight) w(blk, 'blkio.leaf_weight_device', `${d.major}:${d.minor} ${d.leafWeight}`);
    }
    for (const k of THROTTLE_KEYS) for (const d of b[k] ?? []) w(blk, THROTTLE_V1[k], `${d.major}:${d.minor} ${d.rate}`);
  } else if (b && blk) {
    const bfq = has(blk, 'io.bfq.weight');
    if (b.weight) w(blk, bfq ? 'io.bfq.weight' : 'io.weight', bfq ? b.weight : blkioToIoWeight(b.weight));
    for (const d of b.weightDevice ?? []) {
      if (d.weight && bfq) w(blk, 'io.bfq.weight', `${d.major}:${d.minor} ${d.weight}`);
      else if (d.weight) warn(`blockIO.weightDevice needs the BFQ scheduler on cgroup v2 (no ${blk.path}/io.bfq.weight): ignored`);
    }
    if (b.leafWeight || b.weightDevice?.some((d) => d.leafWeight)) v2only(blk, 'blockIO leaf weights');
    for (const k of THROTTLE_KEYS) for (const d of b[k] ?? []) w(blk, 'io.max', `${d.major}:${d.minor} ${THROTTLE_V2[k]}=${d.rate}`);
  }

  const huge = dirFor(dirs, 'hugetlb');
  if (huge) {
    const suffix = huge.version === 1 ? 'limit_in_bytes' : 'max';
    for (const h of r.hugepageLimits ?? []) {
      w(huge, `hugetlb.${h.pageSize}.${suffix}`, h.limit);
      // The reservation limit (5.7): the same value, where the kernel has the file.
      if (has(huge, `hugetlb.${h.pageSize}.rsvd.${suffix}`)) w(huge, `hugetlb.${h.pageSize}.rsvd.${suffix}`, h.limit);
    }
  }
  const unified = dirs.find((d) => d.version === 2);
  // Last, as runc's fs2 writes them: they may refine what the fields above set.
  if (unified && !dirs.some((d) => d.version === 1)) for (const [name, value] of Object.entries(r.unified ?? {})) w(unified, name, value);
  const cls = dirFor(dirs, 'net_cls');
  if (cls && r.network?.classID) w(cls, 'net_cls.classid', r.network.classID);
  const prio = dirFor(dirs, 'net_prio');
  // One interface per write: the kernel parses one "name priority" pair each time.
  if (prio) for (const p of r.network?.priorities ?? []) w(prio, 'net_prio.ifpriomap', `${p.name} ${p.priority}`);
  return { ops, warnings };
}

/** v2's memory.swap.max from OCI's memory+swap (fs2's ConvertMemorySwapToCgroupV2Value). */
function v2Swap(swap: number, memory: number): number {
  const err = (why: string): MinidockError => new MinidockError(`linux.resources.memory: ${why}`, { step: 'oci.cgroups', hint: 'swap is memory + swap: give a limit, and swap >= limit', exitCode: 1 });
  if (memory === -1 && swap === 0) return -1;
  if (swap === -1 || swap === 0 || memory === -1) return swap;
  if (memory === 0) throw err('unable to set swap limit without memory limit');
  if (memory < 0) throw err(`invalid memory value: ${memory}`);
  if (swap < memory) throw err('memory+swap limit should be >= memory limit');
  return swap - memory;
}
