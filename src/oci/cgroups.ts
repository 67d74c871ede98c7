// An OCI config's cgroups: linux.cgroupsPath and linux.resources turned into minidock's cgroup
// plan (src/cgroup/plan.ts, the one `minidock run` uses), plus the v1 devices controller, which
// `minidock run` needs no rules for (its containers are in a user namespace: mknod is refused
// there whatever the cgroup says) but a bundle without a user namespace does: its root is the
// host's root, and only the device cgroup keeps it from opening the host's disks. Pure.
import { posix } from 'node:path';
import { planCgroup, type CgroupDir, type CgroupPlan } from '../cgroup/plan.js';
import { parseCgroupMounts, type CgroupLayout } from '../cgroup/layout.js';
import type { Resources } from '../spec/resources.js';
import { MinidockError } from '../core/errors.js';

/** runc's default parent when the config names no cgroupsPath. */
export const DEFAULT_PARENT = 'minidock-runc';

/** The device rules every container gets after the config's own (runc's AllowedDevices): the
 *  nodes runtime-spec's "Default Devices" requires, and the container's own ptys. */
export const DEFAULT_DEVICE_RULES = [
  'c 1:3 rwm', 'c 1:5 rwm', 'c 1:7 rwm', 'c 1:8 rwm', 'c 1:9 rwm', 'c 5:0 rwm', 'c 5:1 rwm', 'c 5:2 rwm', 'c 136:* rwm',
] as const;

export interface OciCgroups {
  plan: CgroupPlan;
  resources: Resources;
  /** Fields of linux.resources this cannot carry out (the caller refuses the config). */
  unsupported: string[];
}

type Json = Record<string, unknown>;
const isObj = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const bad = (field: string, why: string, hint: string): MinidockError =>
  new MinidockError(`config.json: ${field} ${why}`, { step: 'oci.config', hint, exitCode: 1 });

/** Where the container's cgroup goes below each hierarchy's top: cgroupsPath as runc reads it
 *  with the cgroupfs driver ("/a/b" and "a/b" alike), or minidock-runc/<id>. */
export function cgroupLocation(cgroupsPath: string | undefined, id: string): { parent: string; name: string } {
  if (cgroupsPath === undefined || cgroupsPath === '') return { parent: DEFAULT_PARENT, name: id };
  if (cgroupsPath.includes(':')) throw bad('linux.cgroupsPath', `"${cgroupsPath}" is a systemd slice:scope path`, 'give a cgroupfs path such as /runtime/ID (minidock-runc has no systemd driver)');
  const rel = posix.normalize(cgroupsPath).replace(/^\/+|\/+$/g, '');
  const parts = rel.split('/');
  if (rel === '' || rel === '.' || parts.includes('..')) throw bad('linux.cgroupsPath', `"${cgroupsPath}" is not a path below the hierarchies' top`, 'give a path such as /runtime/ID');
  if (parts.length < 2) return { parent: DEFAULT_PARENT, name: parts[0]! };
  return { parent: parts.slice(0, -1).join('/'), name: parts[parts.length - 1]! };
}

const num = (v: unknown, field: string): number | undefined => {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v)) throw bad(field, `must be an integer, not ${JSON.stringify(v)}`, 'see config-linux.md');
  return v;
};

/** linux.resources → minidock's Resources, naming what it cannot express. */
export function ociResources(res: unknown): { resources: Resources; devices: string[][]; unsupported: string[] } {
  const resources: Resources = {};
  const unsupported: string[] = [];
  const devices: string[][] = [];
  if (res === undefined) return { resources, devices, unsupported };
  if (!isObj(res)) throw bad('linux.resources', 'must be an object', 'see config-linux.md');
  for (const key of Object.keys(res)) {
    const v = res[key];
    if (key === 'memory' && isObj(v)) {
      const limit = num(v.limit, 'linux.resources.memory.limit');
      const swap = num(v.swap, 'linux.resources.memory.swap');
      if (limit !== undefined && limit > 0) resources.memory = limit;
      if (swap !== undefined) resources.memorySwap = swap;
      for (const k of Object.keys(v)) if (!['limit', 'swap'].includes(k)) unsupported.push(`linux.resources.memory.${k}`);
    } else if (key === 'cpu' && isObj(v)) {
      const shares = num(v.shares, 'linux.resources.cpu.shares');
      const quota = num(v.quota, 'linux.resources.cpu.quota');
      const period = num(v.period, 'linux.resources.cpu.period');
      if (shares !== undefined && shares > 0) resources.cpuShares = shares;
      // minidock's plan writes docker's period (100 ms); a quota for another period is refused
      // rather than rescaled: the suite reads cpu.cfs_period_us back.
      if (period !== undefined && period !== 100_000) unsupported.push('linux.resources.cpu.period (other than 100000)');
      if (quota !== undefined && quota > 0) resources.nanoCpus = Math.round((quota * 1e9) / (period ?? 100_000));
      if (typeof v.cpus === 'string' && v.cpus !== '') resources.cpusetCpus = v.cpus;
      for (const k of Object.keys(v)) if (!['shares', 'quota', 'period', 'cpus'].includes(k)) unsupported.push(`linux.resources.cpu.${k}`);
    } else if (key === 'pids' && isObj(v)) {
      const limit = num(v.limit, 'linux.resources.pids.limit');
      if (limit !== undefined) resources.pidsLimit = limit;
    } else if (key === 'devices' && Array.isArray(v)) {
      v.forEach((d, i) => devices.push(deviceRule(d, `linux.resources.devices[${i}]`)));
    } else {
      unsupported.push(`linux.resources.${key}`);
    }
  }
  return { resources, devices, unsupported };
}

/** One device rule as v1 writes it: [file, "type major:minor access"]. */
function deviceRule(d: unknown, field: string): string[] {
  if (!isObj(d) || typeof d.allow !== 'boolean') throw bad(field, 'needs "allow": true or false', 'see config-linux.md "Device allowlist"');
  const type = d.type ?? 'a';
  if (!['a', 'b', 'c'].includes(type as string)) throw bad(`${field}.type`, `must be a, b or c, not ${JSON.stringify(type)}`, 'a = all, b = block, c = char');
  const major = num(d.major, `${field}.major`);
  const minor = num(d.minor, `${field}.minor`);
  const access = d.access ?? 'rwm';
  if (typeof access !== 'string' || !/^[rwm]{1,3}$/.test(access)) throw bad(`${field}.access`, `must be letters of "rwm", not ${JSON.stringify(access)}`, 'r = read, w = write, m = mknod');
  const line = type === 'a' ? 'a' : `${type} ${major ?? '*'}:${minor ?? '*'} ${access}`;
  return [d.allow ? 'devices.allow' : 'devices.deny', line];
}

/**
 * The container's cgroup plan: minidock's own for the resource controllers, plus the devices
 * hierarchy (v1) with the config's rules in order, then the default devices allowed. On a host
 * whose devices controller is on cgroup2 (rules are an eBPF program there), device rules are
 * named unsupported.
 */
export function planOciCgroups(layout: CgroupLayout, mountinfo: string, linux: { cgroupsPath?: unknown; resources?: unknown } | undefined, id: string): OciCgroups {
  const { parent, name } = cgroupLocation(typeof linux?.cgroupsPath === 'string' ? linux.cgroupsPath : undefined, id);
  const { resources, devices, unsupported } = ociResources(linux?.resources);
  const plan = planCgroup(layout, parent, name, resources);
  const mounts = parseCgroupMounts(mountinfo);
  /** A v1 hierarchy minidock run does not use (devices, freezer): this container's directory
   *  there, named for its controller so the container's own "cgroup" mount shows it under that
   *  name (minidock run's controller list has neither, see the header: hence the cast). */
  const extra = (controller: string): string | undefined => {
    const m = mounts.find((x) => x.fstype === 'cgroup' && x.superOptions.includes(controller));
    if (!m || plan.dirs.some((d) => d.path.startsWith(`${m.mount}/`))) return undefined;
    const path = posix.join(m.mount, parent, name);
    const levels = parent.split('/').map((_, i, a) => posix.join(m.mount, ...a.slice(0, i + 1)));
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
  }
  // pause and resume freeze the whole cgroup, as runc does.
  extra('freezer');
  return { plan, resources, unsupported };
}
