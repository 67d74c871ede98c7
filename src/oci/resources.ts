// linux.resources as minidock-runc carries it out (runtime-spec config-linux.md "Control
// groups"): the config's JSON read into typed values, the merge `update` makes onto the values in
// force, and runc update's flags. Pure; src/oci/cgroups.ts plans the cgroup files from these.
import { MinidockError } from '../core/errors.js';

export interface ThrottleDevice { major: number; minor: number; rate: number }
export interface WeightDevice { major: number; minor: number; weight?: number; leafWeight?: number }
export type ThrottleKey = 'throttleReadBpsDevice' | 'throttleWriteBpsDevice' | 'throttleReadIOPSDevice' | 'throttleWriteIOPSDevice';
export const THROTTLE_KEYS: readonly ThrottleKey[] = ['throttleReadBpsDevice', 'throttleWriteBpsDevice', 'throttleReadIOPSDevice', 'throttleWriteIOPSDevice'];

/** The spec's names and units, so the record in state.json reads as the config did. */
export interface OciResources {
  memory?: {
    limit?: number; reservation?: number; swap?: number; kernel?: number; kernelTCP?: number;
    swappiness?: number; disableOOMKiller?: boolean; useHierarchy?: boolean; checkBeforeUpdate?: boolean;
  };
  cpu?: {
    shares?: number; quota?: number; burst?: number; period?: number; realtimeRuntime?: number;
    realtimePeriod?: number; cpus?: string; mems?: string; idle?: number;
  };
  pids?: { limit?: number };
  blockIO?: { weight?: number; leafWeight?: number; weightDevice?: WeightDevice[] } & Partial<Record<ThrottleKey, ThrottleDevice[]>>;
  hugepageLimits?: { pageSize: string; limit: number }[];
  network?: { classID?: number; priorities?: { name: string; priority: number }[] };
  /** cgroup v2 files by name, written as given (podman's --cgroup-conf). */
  unified?: Record<string, string>;
}

type Json = Record<string, unknown>;
const isObj = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const bad = (field: string, why: string, hint = 'see config-linux.md "Control groups"'): MinidockError =>
  new MinidockError(`config.json: ${field} ${why}`, { step: 'oci.config', hint, exitCode: 1 });

function int(v: unknown, field: string, min = -Infinity, max = Infinity): number | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v)) throw bad(field, `must be an integer, not ${JSON.stringify(v)}`);
  if (v < min || v > max) throw bad(field, `must be between ${min} and ${max}, not ${v}`);
  return v;
}
function bool(v: unknown, field: string): boolean | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'boolean') throw bad(field, `must be true or false, not ${JSON.stringify(v)}`);
  return v;
}
function str(v: unknown, field: string): string | undefined {
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v !== 'string') throw bad(field, `must be a string, not ${JSON.stringify(v)}`);
  return v;
}
function list(v: unknown, field: string): Json[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v) || !v.every(isObj)) throw bad(field, 'must be a list of objects');
  return v;
}
/** Drops the undefined members, so parsed objects compare equal to the JSON they came from. */
function defined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

const KNOWN = {
  memory: ['limit', 'reservation', 'swap', 'kernel', 'kernelTCP', 'swappiness', 'disableOOMKiller', 'useHierarchy', 'checkBeforeUpdate'],
  cpu: ['shares', 'quota', 'burst', 'period', 'realtimeRuntime', 'realtimePeriod', 'cpus', 'mems', 'idle'],
  blockIO: ['weight', 'leafWeight', 'weightDevice', ...THROTTLE_KEYS],
} as const;

// A u64 in the spec; JSON numbers past 2^53 lose digits, so the bound is what a number can say.
const U64 = Number.MAX_SAFE_INTEGER;

function memoryOf(v: Json, f: string): NonNullable<OciResources['memory']> {
  return defined({
    limit: int(v.limit, `${f}.limit`), reservation: int(v.reservation, `${f}.reservation`), swap: int(v.swap, `${f}.swap`),
    kernel: int(v.kernel, `${f}.kernel`), kernelTCP: int(v.kernelTCP, `${f}.kernelTCP`),
    // runc: -1 is "leave it", more than 100 an error (the kernel's range is 0..100).
    swappiness: int(v.swappiness, `${f}.swappiness`, -1, 100),
    disableOOMKiller: bool(v.disableOOMKiller, `${f}.disableOOMKiller`), useHierarchy: bool(v.useHierarchy, `${f}.useHierarchy`),
    checkBeforeUpdate: bool(v.checkBeforeUpdate, `${f}.checkBeforeUpdate`),
  });
}
function cpuOf(v: Json, f: string): NonNullable<OciResources['cpu']> {
  return defined({
    shares: int(v.shares, `${f}.shares`, 0, U64), quota: int(v.quota, `${f}.quota`), burst: int(v.burst, `${f}.burst`, 0, U64),
    period: int(v.period, `${f}.period`, 0, U64), realtimeRuntime: int(v.realtimeRuntime, `${f}.realtimeRuntime`),
    realtimePeriod: int(v.realtimePeriod, `${f}.realtimePeriod`, 0, U64), cpus: str(v.cpus, `${f}.cpus`), mems: str(v.mems, `${f}.mems`),
    idle: int(v.idle, `${f}.idle`, 0, 1),
  });
}
function blockIOOf(v: Json, f: string): NonNullable<OciResources['blockIO']> {
  // The kernel's (and the spec's) range for blkio weights: 10..1000.
  const out: NonNullable<OciResources['blockIO']> = defined({ weight: int(v.weight, `${f}.weight`, 10, 1000), leafWeight: int(v.leafWeight, `${f}.leafWeight`, 10, 1000) });
  const wd = list(v.weightDevice, `${f}.weightDevice`).map((d, i) => defined({
    major: int(d.major, `${f}.weightDevice[${i}].major`, 0) ?? -1, minor: int(d.minor, `${f}.weightDevice[${i}].minor`, 0) ?? -1,
    weight: int(d.weight, `${f}.weightDevice[${i}].weight`, 10, 1000), leafWeight: int(d.leafWeight, `${f}.weightDevice[${i}].leafWeight`, 10, 1000),
  }));
  if (wd.some((d) => d.major < 0 || d.minor < 0)) throw bad(`${f}.weightDevice`, 'needs major and minor in each entry');
  if (wd.length) out.weightDevice = wd;
  for (const k of THROTTLE_KEYS) {
    const t = list(v[k], `${f}.${k}`).map((d, i) => ({
      major: int(d.major, `${f}.${k}[${i}].major`, 0), minor: int(d.minor, `${f}.${k}[${i}].minor`, 0), rate: int(d.rate, `${f}.${k}[${i}].rate`, 0, U64),
    }));
    if (t.some((d) => d.major === undefined || d.minor === undefined || d.rate === undefined)) throw bad(`${f}.${k}`, 'needs major, minor and rate in each entry');
    if (t.length) out[k] = t as ThrottleDevice[];
  }
  return out;
}

/**
 * linux.resources → OciResources, the device rules in order as v1 writes them ([file, line]),
 * and the fields minidock-runc cannot carry out (the caller refuses the config, naming them).
 */
export function parseResources(res: unknown): { resources: OciResources; devices: string[][]; unsupported: string[] } {
  const resources: OciResources = {};
  const unsupported: string[] = [];
  const devices: string[][] = [];
  if (res === undefined || res === null) return { resources, devices, unsupported };
  if (!isObj(res)) throw bad('linux.resources', 'must be an object');
  const known = (key: keyof typeof KNOWN, v: Json): void => {
    for (const k of Object.keys(v)) if (!(KNOWN[key] as readonly string[]).includes(k)) unsupported.push(`linux.resources.${key}.${k}`);
  };
  for (const [key, v] of Object.entries(res)) {
    const f = `linux.resources.${key}`;
    // Nothing asked: an engine's empty "unified": {} or "rdma": {} is no field to refuse.
    if (v === null || (isObj(v) && !Object.keys(v).length) || (Array.isArray(v) && !v.length)) continue;
    if (key === 'memory' && isObj(v)) {
      known(key, v);
      resources.memory = memoryOf(v, f);
    } else if (key === 'cpu' && isObj(v)) {
      known(key, v);
      resources.cpu = cpuOf(v, f);
    } else if (key === 'blockIO' && isObj(v)) {
      known(key, v);
      resources.blockIO = blockIOOf(v, f);
    } else if (key === 'pids' && isObj(v)) {
      resources.pids = defined({ limit: int(v.limit, `${f}.limit`) });
    } else if (key === 'hugepageLimits' && Array.isArray(v)) {
      resources.hugepageLimits = list(v, f).map((h, i) => {
        const pageSize = str(h.pageSize, `${f}[${i}].pageSize`);
        // The size names the kernel's files (hugetlb.2MB.limit_in_bytes): nothing else may go in.
        if (!pageSize || !/^[0-9]+[KMGTP]?B$/.test(pageSize)) throw bad(`${f}[${i}].pageSize`, `must be a size such as "2MB", not ${JSON.stringify(h.pageSize)}`);
        return { pageSize, limit: int(h.limit, `${f}[${i}].limit`, 0, U64) ?? 0 };
      });
    } else if (key === 'network' && isObj(v)) {
      for (const k of Object.keys(v)) if (k !== 'classID' && k !== 'priorities') unsupported.push(`${f}.${k}`);
      const priorities = list(v.priorities, `${f}.priorities`).map((p, i) => {
        const name = str(p.name, `${f}.priorities[${i}].name`);
        // ifpriomap takes "name prio": an interface name has no blanks (IFNAMSIZ, no '/').
        if (!name || !/^[^\s/]{1,15}$/.test(name)) throw bad(`${f}.priorities[${i}].name`, `must be an interface name, not ${JSON.stringify(p.name)}`);
        return { name, priority: int(p.priority, `${f}.priorities[${i}].priority`, 0, 0xffffffff) ?? 0 };
      });
      resources.network = defined({ classID: int(v.classID, `${f}.classID`, 0, 0xffffffff), priorities: priorities.length ? priorities : undefined });
    } else if (key === 'unified' && isObj(v)) {
      for (const [file, value] of Object.entries(v)) {
        // A file of the container's own directory: a name, never a path (runc's rule).
        if (!/^[a-z][a-z0-9_]*\.[A-Za-z0-9_.]+$/.test(file)) throw bad(`${f}[${JSON.stringify(file)}]`, 'must name a cgroup v2 file such as "memory.high" (no slashes)');
        if (typeof value !== 'string') throw bad(`${f}[${JSON.stringify(file)}]`, `must be a string, not ${JSON.stringify(value)}`);
      }
      resources.unified = { ...(v as Record<string, string>) };
    } else if (key === 'devices' && Array.isArray(v)) {
      v.forEach((d, i) => devices.push(deviceRule(d, `${f}[${i}]`)));
    } else {
      unsupported.push(f);
    }
  }
  return { resources, devices, unsupported };
}

/** One device rule as v1 writes it: [file, "type major:minor access"]. */
function deviceRule(d: unknown, field: string): string[] {
  if (!isObj(d) || typeof d.allow !== 'boolean') throw bad(field, 'needs "allow": true or false', 'see config-linux.md "Device allowlist"');
  const type = d.type ?? 'a';
  if (!['a', 'b', 'c'].includes(type as string)) throw bad(`${field}.type`, `must be a, b or c, not ${JSON.stringify(type)}`, 'a = all, b = block, c = char');
  const major = int(d.major, `${field}.major`);
  const minor = int(d.minor, `${field}.minor`);
  const access = d.access ?? 'rwm';
  if (typeof access !== 'string' || !/^[rwm]{1,3}$/.test(access)) throw bad(`${field}.access`, `must be letters of "rwm", not ${JSON.stringify(access)}`, 'r = read, w = write, m = mknod');
  const line = type === 'a' ? 'a' : `${type} ${major ?? '*'}:${minor ?? '*'} ${access}`;
  return [d.allow ? 'devices.allow' : 'devices.deny', line];
}

/** Inserts or replaces the entry for the same device (runc update's upsert). */
function upsert<T extends { major: number; minor: number }>(old: readonly T[] | undefined, add: readonly T[] | undefined): T[] | undefined {
  if (!add?.length) return old ? [...old] : undefined;
  const out = [...(old ?? [])];
  for (const d of add) {
    const i = out.findIndex((o) => o.major === d.major && o.minor === d.minor);
    if (i >= 0) out[i] = { ...out[i], ...d };
    else out.push(d);
  }
  return out;
}

/**
 * `update`: the resources in force after `u` is applied to `old`, as runc update merges them:
 * memory, CPU, pids and block I/O values given replace the old ones, devices are upserted by
 * major:minor, and a CPU quota or period given alone keeps the other's old value (both given, or
 * both 0, replace both), unified files given are written again. Hugepages, network and devices
 * are not updatable (as in runc): kept.
 */
export function mergeResources(old: OciResources, u: OciResources): OciResources {
  const out: OciResources = JSON.parse(JSON.stringify(old)) as OciResources;
  if (u.memory) {
    const { kernel: _k, kernelTCP: _t, swappiness: _s, disableOOMKiller: _o, useHierarchy: _h, ...m } = u.memory;
    out.memory = { ...out.memory, ...m };
    // runc: unlimited memory with no swap given means unlimited swap too.
    if (m.limit === -1 && m.swap === undefined) out.memory.swap = -1;
  }
  if (u.cpu) {
    const { quota, period, ...c } = u.cpu;
    const cpu = { ...out.cpu, ...c };
    const q = quota ?? 0;
    const p = period ?? 0;
    if ((q === 0) === (p === 0)) {
      if (quota !== undefined || period !== undefined) Object.assign(cpu, defined({ quota, period }));
    } else if (p !== 0) {
      cpu.period = p;
    } else {
      cpu.quota = q;
    }
    out.cpu = cpu;
  }
  if (u.pids?.limit !== undefined) out.pids = { limit: u.pids.limit };
  if (u.unified) out.unified = { ...out.unified, ...u.unified };
  if (u.blockIO) {
    const b = { ...out.blockIO, ...defined({ weight: u.blockIO.weight, leafWeight: u.blockIO.leafWeight }) };
    const wd = upsert(b.weightDevice, u.blockIO.weightDevice);
    if (wd) b.weightDevice = wd;
    for (const k of THROTTLE_KEYS) {
      const t = upsert(b[k], u.blockIO[k]);
      if (t) b[k] = t;
    }
    out.blockIO = b;
  }
  return out;
}

/** runc update's flags, by their names there (podman passes --resources; crun and runc both say
 *  --cpu-share, docker's word --cpu-shares is taken too). Values are strings as typed. */
export interface UpdateFlags {
  memory?: string; memorySwap?: string; memoryReservation?: string; kernelMemory?: string; kernelMemoryTcp?: string;
  cpuShare?: string; cpuShares?: string; cpuQuota?: string; cpuPeriod?: string; cpuBurst?: string; cpuRtPeriod?: string; cpuRtRuntime?: string;
  cpusetCpus?: string; cpusetMems?: string; cpuIdle?: string; pidsLimit?: string; blkioWeight?: string;
}

const usage = (flag: string, value: string, hint: string): MinidockError =>
  new MinidockError(`invalid value for ${flag}: ${JSON.stringify(value)}`, { step: 'oci.update', hint, exitCode: 1 });

/** docker/go-units RAMInBytes: a number with an optional binary unit (k, m, g, t, p; "b" and
 *  "ib" suffixes allowed), or -1 for unlimited. */
export function parseBytes(flag: string, value: string): number {
  if (value === '-1') return -1;
  const m = /^([0-9]+(?:\.[0-9]+)?) ?([kmgtp])?(i?b)?$/i.exec(value.trim());
  if (!m) throw usage(flag, value, 'a size such as 512m or 1g, or -1 for unlimited');
  const mult = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4, p: 1024 ** 5 }[(m[2] ?? '').toLowerCase() as ''];
  return Math.floor(Number(m[1]) * mult);
}

function intFlag(flag: string, value: string, min: number): number {
  if (!/^-?[0-9]+$/.test(value) || Number(value) < min) throw usage(flag, value, min >= 0 ? 'a whole number' : 'a whole number (-1 for unlimited)');
  return Number(value);
}

/** runc update's flags as the resources they set (only those given). */
export function resourcesFromFlags(f: UpdateFlags): OciResources {
  const memory = defined({
    limit: f.memory === undefined ? undefined : parseBytes('--memory', f.memory),
    swap: f.memorySwap === undefined ? undefined : parseBytes('--memory-swap', f.memorySwap),
    reservation: f.memoryReservation === undefined ? undefined : parseBytes('--memory-reservation', f.memoryReservation),
    kernel: f.kernelMemory === undefined ? undefined : parseBytes('--kernel-memory', f.kernelMemory),
    kernelTCP: f.kernelMemoryTcp === undefined ? undefined : parseBytes('--kernel-memory-tcp', f.kernelMemoryTcp),
  });
  const shares = f.cpuShare ?? f.cpuShares;
  const cpu = defined({
    shares: shares === undefined ? undefined : intFlag('--cpu-share', shares, 0),
    quota: f.cpuQuota === undefined ? undefined : intFlag('--cpu-quota', f.cpuQuota, -1),
    period: f.cpuPeriod === undefined ? undefined : intFlag('--cpu-period', f.cpuPeriod, 0),
    burst: f.cpuBurst === undefined ? undefined : intFlag('--cpu-burst', f.cpuBurst, 0),
    realtimePeriod: f.cpuRtPeriod === undefined ? undefined : intFlag('--cpu-rt-period', f.cpuRtPeriod, 0),
    realtimeRuntime: f.cpuRtRuntime === undefined ? undefined : intFlag('--cpu-rt-runtime', f.cpuRtRuntime, -1),
    cpus: f.cpusetCpus || undefined,
    mems: f.cpusetMems || undefined,
    idle: f.cpuIdle === undefined ? undefined : intFlag('--cpu-idle', f.cpuIdle, 0),
  });
  const out: OciResources = {};
  if (Object.keys(memory).length) out.memory = memory;
  if (Object.keys(cpu).length) out.cpu = cpu;
  if (f.pidsLimit !== undefined) out.pids = { limit: intFlag('--pids-limit', f.pidsLimit, -1) };
  if (f.blkioWeight !== undefined && f.blkioWeight !== '0') {
    const w = intFlag('--blkio-weight', f.blkioWeight, 10);
    if (w > 1000) throw usage('--blkio-weight', f.blkioWeight, 'a weight from 10 to 1000');
    out.blockIO = { weight: w };
  }
  return out;
}
