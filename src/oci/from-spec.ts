// The other direction of src/oci/plan.ts: a container spec (what `minidock run` decided from
// flags, image config and defaults) as an OCI runtime-spec 1.1.0 config.json, shaped as dockerd
// builds one for runc. `minidock run` plans every container from it (src/runtime/run-plan.ts);
// `minidock run --dry-run --bundle DIR` writes it (src/explain/bundle.ts), and that bundle runs
// unchanged under runc, crun and minidock-runc. Pure: the bundle directory, the
// cgroup parent and the network namespace to join come in as arguments.
//
// What a config.json cannot say, and so is not in it:
// - the bridge network's wiring (veth, address, route, DNAT): the container gets a new, empty
//   network namespace with lo only; minidock wires it from outside the runtime, as dockerd does;
// - the few corners of minidock's seccomp filter (native/src/seccomp.c) an OCI profile cannot
//   express: linux.seccomp is that filter for the container's capabilities (seccomp-profile.ts:
//   the same verdict for every x86_64 call and argument), but a call from another ABI is killed
//   by libseccomp's bad-arch action where the native filter answers EPERM, and a call newer than
//   the runtime's libseccomp gets ENOSYS. With --privileged or --security-opt seccomp=unconfined
//   (spec.seccomp 'unconfined') there is no linux.seccomp, as there is no filter;
// - names, logs, --rm, -d's shim: minidock's own, outside the runtime core.
import type { OciDevice } from './config.js';
import type { ContainerSpec } from '../spec/container-spec.js';
import { capabilityNames } from '../spec/caps.js';
import { parseIdMap } from '../spec/userns.js';
import { INIT_PATH, MASKED_DIRS, MASKED_FILES, READONLY_PATHS } from '../runtime/child-plan.js';
import { SPEC_VERSION } from './default-spec.js';
import { defaultSeccompProfile } from './seccomp-profile.js';

export interface OciFromSpecOptions {
  /** Absolute path of the bundle: the etc files (and --init's binary) are read from there. */
  bundle: string;
  /** The cgroup parent (run-cgroup.ts cgroupParent()): linux.cgroupsPath is /PARENT/ID. */
  cgroupParent: string;
  /** --network container:NAME: the other container's network namespace, joined by path. */
  netnsPath?: string;
  /** --init's binary: the host's own for `minidock run`; a bundle has its copy (BUNDLE_INIT). */
  initSource?: string;
  /** false: leave linux.seccomp's profile out, for a caller that installs the native filter it
   *  stands for (src/runtime/run-plan.ts) and so would build it only to ignore it. */
  seccompProfile?: boolean;
  /** --privileged: the host's device nodes (src/runtime/host-devices.ts), as linux.devices. */
  hostDevices?: OciDevice[];
}

/** The files next to rootfs that the config binds into the container (bundle-relative names). */
export const BUNDLE_ETC_FILES = { hostname: '/etc/hostname', hosts: '/etc/hosts', 'resolv.conf': '/etc/resolv.conf' } as const;
/** --init's binary, copied into the bundle. */
export const BUNDLE_INIT = 'minidock-init';

/** runc's (and docker's) default device allowlist: deny everything, then the default nodes
 *  (null, zero, full, random, urandom, tty, console, ptmx) and the container's own ptys. */
export const DEFAULT_DEVICES: ReadonlyArray<Record<string, unknown>> = [
  { allow: false, access: 'rwm' },
  ...([[1, 3], [1, 5], [1, 7], [1, 8], [1, 9], [5, 0], [5, 1], [5, 2]] as const).map(([major, minor]) => ({ allow: true, type: 'c', major, minor, access: 'rwm' })),
  { allow: true, type: 'c', major: 136, access: 'rwm' },
];

type Json = Record<string, unknown>;

/** A /proc/PID/uid_map text as OCI's list of ranges. */
function mappings(text: string): Array<{ containerID: number; hostID: number; size: number }> {
  return parseIdMap(text).map((r) => ({ containerID: r.inside, hostID: r.outside, size: r.count }));
}

/** docker's default mounts (runc's default spec has the same), in docker's order. */
function defaultMounts(privileged: boolean, shmSize?: number): Json[] {
  return [
    { destination: '/proc', type: 'proc', source: 'proc', options: ['nosuid', 'noexec', 'nodev'] },
    { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
    { destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'] },
    // --privileged: /sys writable, as docker's.
    { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', ...(privileged ? [] : ['ro'])] },
    { destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['ro', 'nosuid', 'noexec', 'nodev'] },
    { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
    // --shm-size, in KiB as docker writes it (default 64 MiB).
    { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', `size=${shmSize !== undefined ? Math.ceil(shmSize / 1024) : 65536}k`] },
  ];
}

/** linux.resources of a container: docker's device allowlist and its limits. */
function resources(spec: Pick<ContainerSpec, 'resources' | 'privileged' | 'devices'>): Json {
  // --privileged: the device cgroup allows every device, as docker's; --device adds its rules.
  const devices = spec.privileged ? [{ allow: true, access: 'rwm' }]
    : [...DEFAULT_DEVICES.map((d) => ({ ...d })), ...(spec.devices ?? []).map((d) => ({ allow: true, type: d.type, major: d.major, minor: d.minor, access: d.perms }))];
  return { devices, ...ociLimits(spec.resources ?? {}) };
}

/** docker's HostConfig limits as linux.resources' memory, cpu and pids, as dockerd maps them
 *  (what `update` hands the runtime, too). */
export function ociLimits(r: NonNullable<ContainerSpec['resources']>): Json {
  const out: Json = {};
  const memory: Json = {};
  if (r.memory) memory.limit = r.memory;
  // OCI's swap is memory + swap, as docker's MemorySwap (-1: unlimited).
  if (r.memory && r.memorySwap) memory.swap = r.memorySwap;
  if (r.memoryReservation) memory.reservation = r.memoryReservation;
  if (r.oomKillDisable) memory.disableOOMKiller = true;
  if (Object.keys(memory).length) out.memory = memory;
  const cpu: Json = {};
  if (r.cpuShares) cpu.shares = r.cpuShares;
  if (r.nanoCpus) {
    // docker's --cpus: a CFS quota of the default 100 ms period, in dockerd's integer
    // arithmetic (NanoCPUs * period / 1e9).
    cpu.quota = Math.floor((r.nanoCpus * 100_000) / 1e9);
    cpu.period = 100_000;
  }
  if (r.cpuQuota) cpu.quota = r.cpuQuota;
  if (r.cpuPeriod) cpu.period = r.cpuPeriod;
  if (r.cpusetCpus) cpu.cpus = r.cpusetCpus;
  if (Object.keys(cpu).length) out.cpu = cpu;
  if (r.pidsLimit !== undefined) out.pids = { limit: r.pidsLimit > 0 ? r.pidsLimit : -1 };
  return out;
}

/** linux.cgroupsPath and linux.resources of `spec`'s config: what the runtime's cgroups are
 *  made of. `minidock run` plans its cgroups from these (run-cgroup.ts) before it has built the
 *  rest of the config, so the two cannot differ. */
export function ociCgroupFields(spec: Pick<ContainerSpec, 'id' | 'resources' | 'privileged' | 'devices'>, cgroupParent: string): { resources: Json; cgroupsPath: string } {
  return { resources: resources(spec), cgroupsPath: `/${cgroupParent.replace(/^\/+|\/+$/g, '')}/${spec.id}` };
}

/**
 * The config.json of `spec`. Capabilities: the spec's one mask as bounding, and as effective
 * and permitted for root (another uid gets none there, as minidock's child gives it none);
 * inheritable and ambient empty, as docker. No process.rlimits: the runtime's own are kept.
 */
export function ociConfigFor(spec: ContainerSpec, o: OciFromSpecOptions): Json {
  const caps = capabilityNames(spec.caps ?? '0');
  const root = spec.user.uid === 0;
  const file = (name: string): string => `${o.bundle.replace(/\/+$/, '')}/${name}`;
  const bindOpts = (ro: boolean): string[] => ['rbind', 'rprivate', ...(ro ? ['ro'] : [])];

  const privileged = spec.privileged ?? false;
  const mounts: Json[] = defaultMounts(privileged, spec.shmSize);
  if (spec.init) mounts.push({ destination: INIT_PATH, type: 'bind', source: o.initSource ?? file(BUNDLE_INIT), options: ['rbind', 'rprivate', 'ro', 'nosuid', 'nodev'] });
  for (const v of spec.volumes ?? []) mounts.push({ destination: v.dst, type: 'bind', source: v.src, options: bindOpts(v.ro) });
  // --device: the host's node bound in (a user namespace may not mknod; runc binds them too),
  // its use allowed by the device cgroup rule in linux.resources.
  for (const d of spec.devices ?? []) mounts.push({ destination: d.path, type: 'bind', source: d.host, options: bindOpts(false) });
  for (const t of spec.tmpfs ?? []) {
    mounts.push({ destination: t.dst, type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev', 'noexec', ...(t.ro ? ['ro'] : []), ...t.data.split(',').filter(Boolean)] });
  }
  for (const [name, dst] of Object.entries(BUNDLE_ETC_FILES)) mounts.push({ destination: dst, type: 'bind', source: file(name), options: bindOpts(spec.readOnly ?? false) });

  // --pid, --ipc, --uts host: none of its own of that kind. A procfs or mqueue of the host's
  // namespaces cannot be mounted from the container's user namespace (the host's own those):
  // the host's /proc is bound in instead, and with --ipc host its /dev/shm, as docker binds it;
  // /dev/mqueue is left out (mq_open(3) needs no mount; a host may have none to bind).
  const hostNs = (type: 'pid' | 'ipc' | 'uts'): boolean => spec[`${type}Mode`] === 'host';
  const namespaces: Json[] = (['pid', 'ipc', 'uts'] as const).filter((t) => !hostNs(t)).map((type) => ({ type }));
  namespaces.push({ type: 'mount' });
  const hostBind = (dst: string): void => {
    const at = mounts.findIndex((m) => m.destination === dst);
    mounts.splice(at, 1, { destination: dst, type: 'bind', source: dst, options: ['rbind', 'nosuid', 'nodev', 'noexec'] });
  };
  if (hostNs('pid')) hostBind('/proc');
  if (hostNs('ipc')) {
    hostBind('/dev/shm');
    mounts.splice(mounts.findIndex((m) => m.destination === '/dev/mqueue'), 1);
  }
  // --network none and bridge: a new namespace (lo only: a bundle cannot wire the bridge);
  // container:NAME joins the other's; host: none of its own.
  if (spec.network.mode === 'container' && o.netnsPath) namespaces.push({ type: 'network', path: o.netnsPath });
  else if (spec.network.mode !== 'host') namespaces.push({ type: 'network' });
  // minidock's containers have a cgroup namespace of their own (docker's "private" cgroupns),
  // and a user namespace even under the identity map (--userns=host, --privileged): its root's
  // capabilities then act on what the container's namespaces own, never on the host's kernel
  // objects (device nodes, modules, the clock). docker, without userns-remap, makes none.
  namespaces.push({ type: 'cgroup' }, { type: 'user' });

  const linux: Json = {
    uidMappings: mappings(spec.idMap.uidMap),
    gidMappings: mappings(spec.idMap.gidMap),
    ...ociCgroupFields(spec, o.cgroupParent),
    namespaces,
    // --privileged: nothing masked or read-only (docker's), and the host's devices.
    maskedPaths: privileged ? [] : [...MASKED_DIRS.filter((p) => p.startsWith('/proc/')), ...MASKED_FILES, ...MASKED_DIRS.filter((p) => !p.startsWith('/proc/'))],
    readonlyPaths: privileged ? [] : [...READONLY_PATHS],
    ...(spec.sysctl && Object.keys(spec.sysctl).length ? { sysctl: { ...spec.sysctl } } : {}),
    ...(privileged && o.hostDevices?.length ? { devices: o.hostDevices.map((d) => ({ ...d })) } : {}),
    // minidock's filter depends on the capabilities (the native side is given the bounding set).
    ...(spec.seccomp === 'default' && o.seccompProfile !== false ? { seccomp: defaultSeccompProfile(spec.caps ?? '0') } : {}),
    // A profile of the user's (--security-opt seccomp=FILE) is no built-in: always the config's.
    ...(spec.seccomp === 'profile' && spec.seccompProfile ? { seccomp: spec.seccompProfile } : {}),
  };

  return {
    ociVersion: SPEC_VERSION,
    process: {
      terminal: spec.tty,
      user: { uid: spec.user.uid, gid: spec.user.gid, ...(spec.user.additionalGids.length ? { additionalGids: [...spec.user.additionalGids] } : {}) },
      args: spec.init ? [INIT_PATH, '--', ...spec.argv] : [...spec.argv],
      env: [...spec.env],
      cwd: spec.cwd,
      capabilities: {
        bounding: [...caps],
        effective: root ? [...caps] : [],
        inheritable: [],
        permitted: root ? [...caps] : [],
        ambient: [],
      },
      noNewPrivileges: spec.noNewPrivs ?? false,
      ...(spec.rlimits?.length ? { rlimits: spec.rlimits.map((r) => ({ ...r })) } : {}),
    },
    root: { path: 'rootfs', readonly: spec.readOnly ?? false },
    // The host's UTS namespace keeps the host's names (the runtime may set none there).
    ...(hostNs('uts') ? {} : { hostname: spec.hostname, ...(spec.domainname ? { domainname: spec.domainname } : {}) }),
    mounts,
    linux,
  };
}
