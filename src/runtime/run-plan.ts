// `minidock run`'s child plan, through the seam of the container world (issue #14): the spec
// becomes the OCI config dockerd would hand runc (src/oci/from-spec.ts), and that config is
// planned by the same translator minidock-runc uses (src/oci/plan.ts). What minidock adds on top
// of the config is what sits outside runc in docker too: the image's overlay as the root (the
// snapshotter's part) and eth0 on the bridge (the network's). Pure but for `facts`, the
// read-only view of the host the planner asks (is a path a file or a directory).
//
// The config stays in memory: nothing is written and read back on the run path. `--explain`
// prints it, and `--dry-run --bundle` writes the same one (with the bundle's paths).
import { hostname } from 'node:os';
import { MinidockError } from '../core/errors.js';
import { pathKind } from '../core/path-kind.js';
import type { CgroupDir } from '../cgroup/plan.js';
import { overlayMountData } from '../image/layer-ids.js';
import type { ContainerSpec } from '../spec/container-spec.js';
import { parseConfig, type OciConfig } from '../oci/config.js';
import { ociConfigFor } from '../oci/from-spec.js';
import { planOci, type HostFacts } from '../oci/plan.js';
import type { OciDevice } from '../oci/config.js';
import { hostDevices } from './host-devices.js';
import { MASKED_DIRS, MASKED_FILES, READONLY_PATHS, type ChildNet, type ChildPlan, type ContainerPaths } from './child-plan.js';

export interface RunIo {
  stdio: [number, number, number];
  /** The pty slave for -t (or "@tty": the shim allocates it). */
  tty?: string;
  /** --init's binary on the host. */
  init?: string;
  /** The container's cgroups (planned, not yet made): the /sys/fs/cgroup mounts show them. */
  cgroups?: readonly CgroupDir[];
}

/** The real host, asked only what the planner needs: one stat per path. */
export const hostFacts: HostFacts = {
  kind: pathKind,
  get hostname() {
    return hostname();
  },
  devices: hostDevices,
};

/** overlayfs's mount data of the container's root: the image below, the container's own layer
 *  on top (src/image/layer-ids.ts builds and checks it). A stored image's layers are named
 *  relative to the layer store (`cwd`: the child mounts there); remapped, the store (or the
 *  directory used in place) is first attached through one idmapped mount at paths.lower. */
function overlayData(spec: ContainerSpec, paths: ContainerPaths): { overlay: string; cwd?: string; idmapLower?: string; lowerMnt?: string } {
  const { layers, layerRoot, rootfs, idmapped } = spec.image;
  const idmap = idmapped ? { idmapLower: (layers ? layerRoot : rootfs)!, lowerMnt: paths.lower } : {};
  if (layers && layerRoot) {
    return { overlay: overlayMountData(layers, paths.upper, paths.work), cwd: idmapped ? paths.lower : layerRoot, ...idmap };
  }
  if (!rootfs) throw new MinidockError('the container record names no image layers', { step: 'plan.overlay', hint: 'remove the container and run it again' });
  return { overlay: overlayMountData([idmapped ? paths.lower : rootfs], paths.upper, paths.work), ...idmap };
}

/** The config.json of a run, the container's directory as the bundle; without `full`, its
 *  seccomp profile is left out (the native filter it stands for is installed instead). */
function runConfig(spec: ContainerSpec, paths: ContainerPaths, o: { cgroupParent: string; init?: string; net: ChildNet; full?: boolean; devices?: () => OciDevice[] }): Record<string, unknown> {
  return ociConfigFor(spec, {
    bundle: paths.dir, cgroupParent: o.cgroupParent, ...(o.net.kind === 'join' ? { netnsPath: o.net.netns } : {}), ...(o.init ? { initSource: o.init } : {}), seccompProfile: o.full ?? false,
    ...(spec.privileged && o.devices ? { hostDevices: o.devices() } : {}),
  });
}

/** What the run knows already, answered without asking the host: the etc files it writes (not
 *  yet written for --dry-run), --init's binary, the volumes, checked when the spec was built, and
 *  what docker's masked and read-only paths are where a kernel has them. One this kernel lacks is
 *  skipped by the child (those ops are optional), so 16 stats of /proc and /sys (0.6 ms of a run)
 *  are saved without a different container. */
function knownFacts(spec: ContainerSpec, paths: ContainerPaths, io: RunIo, facts: HostFacts): HostFacts {
  const known = new Map<string, 'file' | 'dir'>([[paths.hostname, 'file'], [paths.hosts, 'file'], [paths.resolvConf, 'file']]);
  // /proc/kcore is asked for real: whether /dev/core links to it depends on it (a kernel without
  // CONFIG_PROC_KCORE has none, and runc then makes no link).
  for (const p of MASKED_FILES) if (p !== '/proc/kcore') known.set(p, 'file');
  for (const p of [...READONLY_PATHS, ...MASKED_DIRS]) known.set(p, p === '/proc/sysrq-trigger' ? 'file' : 'dir');
  if (io.init) known.set(io.init, 'file');
  for (const v of spec.volumes ?? []) known.set(v.src, v.file ? 'file' : 'dir');
  // The hostname is asked only of a config without one (a run's always has one): not read here.
  // (A spread would read it: the fields are named instead.)
  return {
    kind: (p) => known.get(p) ?? facts.kind(p),
    get hostname() { return facts.hostname; },
    ...(facts.arch ? { arch: facts.arch } : {}),
    ...(facts.hostNetns ? { hostNetns: facts.hostNetns } : {}),
    ...(facts.devices ? { devices: facts.devices } : {}),
  };
}

/**
 * The child plan of `minidock run`: planOci over the run's config, with the overlay root, eth0
 * and the built-in seccomp filter (the same verdicts as the config's profile). Anything the
 * planner names unsupported is a bug of ours (we wrote the config), reported as such.
 */
export function planRunChild(spec: ContainerSpec, paths: ContainerPaths, io: RunIo, net: ChildNet, o: { cgroupParent: string; facts?: HostFacts }): { child: ChildPlan; config: () => Record<string, unknown> } {
  if (paths.rootfs !== `${paths.dir}/rootfs`) throw new MinidockError(`the container's rootfs ${paths.rootfs} is not its directory's "rootfs"`, { step: 'plan.paths' });
  // The config's namespaces come from the spec, the wiring from the prepared network: one decision.
  const kind = spec.network.mode === 'host' ? 'host' : spec.network.mode === 'container' ? 'join' : 'own';
  if (net.kind !== kind) throw new MinidockError(`network ${spec.network.mode} was prepared as "${net.kind}"`, { step: 'plan.network', hint: 'this is a bug in minidock: please report it with the command line' });
  // Parsed as minidock-runc parses a bundle's: the same validation, the same planner.
  const facts = o.facts ?? hostFacts;
  const devices = facts.devices?.bind(facts);
  const config: OciConfig = parseConfig(runConfig(spec, paths, { cgroupParent: o.cgroupParent, init: io.init, net, ...(devices ? { devices } : {}) }));
  const plan = planOci(config, {
    bundle: paths.dir,
    stdio: io.stdio,
    ...(io.tty ? { tty: io.tty } : {}),
    // None given: no cgroup mounts (a host without cgroups, or a unit test).
    cgroups: io.cgroups ?? [],
    root: overlayData(spec, paths),
    ...(net.kind === 'own' && 'eth' in net ? { eth: net.eth } : {}),
    builtinSeccomp: spec.seccomp === 'default',
  }, knownFacts(spec, paths, io, facts));
  if (plan.unsupported.length) {
    throw new MinidockError(`minidock run built a config its own planner cannot carry out: ${plan.unsupported.join(', ')}`, { step: 'plan.oci', hint: 'this is a bug in minidock: please report it with the command line' });
  }
  // The whole config (the profile in it) only for who shows or writes it: --explain, --bundle.
  return { child: plan.child, config: () => runConfig(spec, paths, { cgroupParent: o.cgroupParent, init: io.init, net, full: true, ...(devices ? { devices } : {}) }) };
}
