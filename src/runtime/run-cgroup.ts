// A container's cgroups across its life: planned with the spec, recorded in its state before
// they exist, created and joined between clone and "go" (so its command never runs unlimited),
// read for OOM at exit and removed with every sub-cgroup it made.
//
// They are the runtime's part, as in docker: the config's linux.cgroupsPath and
// linux.resources (src/oci/from-spec.ts ociCgroupFields) are planned by minidock-runc's own
// planOciCgroups and written by its enterOciCgroups (src/oci/cgroups.ts, cgroups-apply.ts).
// What stays here is dockerd's part: which of docker's limits this host can carry at all
// (hostResources, with docker's warnings), and where the containers go (cgroupParent).
import { MinidockError } from '../core/errors.js';
// Static, not lazy: these are on every run's path, and a dynamic import between clone and "go"
// costs milliseconds of its own.
import { hierarchyOf, parseCgroupMounts, readCgroupLayout, type CgroupLayout, type Controller } from '../cgroup/layout.js';
import { readFileSync } from 'node:fs';
import type { CgroupDir } from '../cgroup/plan.js';
import { oomKilled, removeCgroup } from '../cgroup/fs.js';
import { cgroupProcesses, killAndWait } from './reap.js';
import { planOciCgroups, type OciCgroups } from '../oci/cgroups.js';
import { ociCgroupFields } from '../oci/from-spec.js';
import type { ContainerSpec } from '../spec/container-spec.js';
import type { Resources } from '../spec/resources.js';

export { enterOciCgroups as enterCgroup } from '../oci/cgroups-apply.js';

/** Where containers' cgroups go in each hierarchy: MINIDOCK_CGROUP_PARENT, default "minidock"
 *  (docker's cgroupfs driver uses /docker). Tests use one of their own. */
export function cgroupParent(env: NodeJS.ProcessEnv = process.env): string {
  return env.MINIDOCK_CGROUP_PARENT || 'minidock';
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
 * dockerd's check of a container's limits against the host (verifyPlatformContainerResources):
 * a limit the host has no controller for is dropped with docker's warning, so the config the
 * runtime gets asks only for what it can do; --cpus without the cpu controller is an error, as
 * in docker (a CPU limit silently ignored would be a surprise of another order). Pure.
 */
export function hostResources(layout: CgroupLayout, r: Resources): { resources: Resources; warnings: string[] } {
  const has = (c: Controller): boolean => hierarchyOf(layout, c) !== undefined;
  if (r.nanoCpus !== undefined && r.nanoCpus !== 0 && !has('cpu')) {
    throw new MinidockError('NanoCPUs can not be set, as your kernel does not support CPU CFS scheduler or the cgroup is not mounted', {
      step: 'cgroup.plan',
      hint: 'mount the cpu cgroup controller, or run without --cpus',
    });
  }
  const out: Resources = { ...r };
  const warnings: string[] = [];
  const drop = (keys: Array<keyof Resources>, warning: string): void => {
    for (const k of keys) delete out[k];
    warnings.push(warning);
  };
  if (r.memory !== undefined && !has('memory')) drop(['memory', 'memorySwap'], WARN.memory);
  // v1 without memsw files (swapaccount=0): the memory limit alone, as docker does. Unknown
  // (v2) is left to the kernel's files: planOciLimits skips what the host has no file for.
  else if (r.memory !== undefined && r.memorySwap !== undefined && r.memorySwap !== -1 && layout.swapAccounting === false) drop(['memorySwap'], WARN.swap);
  if (r.cpuShares !== undefined && !has('cpu')) drop(['cpuShares'], WARN.shares);
  if (r.cpusetCpus !== undefined && !has('cpuset')) drop(['cpusetCpus'], WARN.cpuset);
  if (r.pidsLimit !== undefined && r.pidsLimit > 0 && !has('pids')) drop(['pidsLimit'], WARN.pids);
  return { resources: out, warnings };
}

/** The container's cgroups as the runtime plans them from its config's cgroup fields. Pure. */
export function planRunCgroupsOn(layout: CgroupLayout, mountinfo: string, spec: Pick<ContainerSpec, 'id' | 'resources'>, parent: string): OciCgroups {
  const fields = ociCgroupFields(spec, parent);
  // A host without the v1 devices controller (every v2 host: runc attaches an eBPF program
  // there, which minidock does not have) gets no device rules. A run's container is always in a
  // user namespace, where mknod is refused and the nodes bound into /dev are all it can open:
  // the rules are a second wall there, not the only one (as they are for a bundle without one).
  if (!parseCgroupMounts(mountinfo).some((m) => m.fstype === 'cgroup' && m.superOptions.includes('devices'))) delete fields.resources.devices;
  const cg = planOciCgroups(layout, mountinfo, fields, spec.id);
  // hostResources ran at create: anything left is a limit minidock's config asks wrongly.
  if (cg.unsupported.length) {
    throw new MinidockError(`this host cannot carry out the container's limits: ${cg.unsupported.join(', ')}`, { step: 'cgroup.plan', hint: 'run without the limit, or mount its cgroup controller' });
  }
  return cg;
}

/** The cgroups of `spec`'s container on this host, planned from the mount table: read here, or
 *  given with the layout read from it (once per command). */
export function planRunCgroups(spec: Pick<ContainerSpec, 'id' | 'resources'>, o: { host?: { layout: CgroupLayout; mountinfo: string }; env?: NodeJS.ProcessEnv } = {}): OciCgroups {
  const mountinfo = o.host?.mountinfo ?? readFileSync('/proc/self/mountinfo', 'utf8');
  return planRunCgroupsOn(o.host?.layout ?? readCgroupLayout(mountinfo), mountinfo, spec, cgroupParent(o.env));
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
  // What PID 1 left behind. In a PID namespace of its own there is nothing (the kernel ends the
  // rest with PID 1); with --pid host its children outlive it, so they are killed here, as runc
  // kills what is left in the cgroup when there is no PID namespace to do it. Again until none
  // is left: a fork adds processes while the SIGKILLs land.
  for (let i = 0; i < 10; i++) {
    const pids = cgroupProcesses(dirs);
    if (!pids.length) break;
    await killAndWait(pids);
  }
  await removeCgroup({ dirs });
  return { oomKilled: oom };
}
