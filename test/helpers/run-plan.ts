// One container of `minidock run` for the unit tests of its child plan (run-plan, child-plan,
// explain): its paths under the default state root, a spec, and a fake host on which docker's
// masked and read-only paths exist as they do on this machine kind.
import type { HostFacts } from '../../src/oci/plan.js';
import { DEV_NODES, MASKED_DIRS, MASKED_FILES, READONLY_PATHS, type ChildNet, type ChildPlan, type ContainerPaths, type PlanOp } from '../../src/runtime/child-plan.js';
import { planRunChild, type RunIo } from '../../src/runtime/run-plan.js';
import type { ContainerSpec } from '../../src/spec/container-spec.js';

export const ID = '0123456789abcdef'.repeat(4);
export const ROOT = '/var/lib/minidock';
export const DIR = `${ROOT}/containers/${ID}`;

export const paths: ContainerPaths = {
  dir: DIR,
  rootfs: `${DIR}/rootfs`,
  lower: `${DIR}/lower`,
  upper: `${DIR}/upper`,
  work: `${DIR}/work`,
  hostname: `${DIR}/hostname`,
  hosts: `${DIR}/hosts`,
  resolvConf: `${DIR}/resolv.conf`,
};

/** A remapped, non-root container without a network (override what a test is about). */
export const runSpec = (over: Partial<ContainerSpec> = {}): ContainerSpec => ({
  id: ID,
  name: 'web',
  hostname: 'web-host',
  image: { ref: 'alpine', id: 'sha256:abc', rootfs: `${ROOT}/images/abc/rootfs` },
  argv: ['sh', '-c', 'echo "hi there"'],
  env: ['PATH=/usr/bin:/bin', 'A=b=c'],
  cwd: '/app',
  user: { uid: 1000, gid: 100, additionalGids: [10, 27] },
  tty: false,
  interactive: false,
  network: { mode: 'none' },
  autoRemove: false,
  idMap: { uidMap: '0 100000 65536', gidMap: '0 200000 65536' },
  createdAt: 1700000000000,
  ...over,
});

/** Files and directories of the fake host: what /proc and /sys have here, the container's etc
 *  files, --init's binary and the volumes' sources the tests use. */
export const HOST_FILES = new Set<string>([...MASKED_FILES, '/proc/sysrq-trigger', paths.hostname, paths.hosts, paths.resolvConf, '/usr/libexec/minidock-init', '/srv/file']);
export const HOST_DIRS = new Set<string>([...MASKED_DIRS, ...READONLY_PATHS.filter((p) => p !== '/proc/sysrq-trigger'), '/srv', '/srv/data']);
export const facts: HostFacts = {
  kind: (p) => (HOST_FILES.has(p) ? 'file' : HOST_DIRS.has(p) ? 'dir' : undefined),
  hostname: 'the-host',
};

/** The child plan `minidock run` would run for `spec`. */
export function runPlan(spec: ContainerSpec, io: RunIo = { stdio: [7, 8, 9] }, net: ChildNet = { kind: 'own' }, p: ContainerPaths = paths): ChildPlan {
  return planRunChild(spec, p, io, net, { cgroupParent: 'minidock', facts }).child;
}

/** runc's /dev nodes, bound from the host, and its links, as every plan makes them when the
 *  config does not bind /dev itself; /dev/console last with a tty. */
export const devOps = (tty?: string): PlanOp[] => [
  ...DEV_NODES.map((n): PlanOp => ({ op: 'bind', src: `/dev/${n}`, dst: `/dev/${n}`, file: true })),
  { op: 'symlink', src: 'pts/ptmx', dst: '/dev/ptmx' },
  { op: 'symlink', src: '/proc/self/fd', dst: '/dev/fd' },
  { op: 'symlink', src: '/proc/self/fd/0', dst: '/dev/stdin' },
  { op: 'symlink', src: '/proc/self/fd/1', dst: '/dev/stdout' },
  { op: 'symlink', src: '/proc/self/fd/2', dst: '/dev/stderr' },
  { op: 'symlink', src: '/proc/kcore', dst: '/dev/core' },
  ...(tty ? [{ op: 'bind', src: tty, dst: '/dev/console', file: true } as PlanOp] : []),
];
