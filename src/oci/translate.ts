// What only create (and features) needs of minidock-runc: reading and planning a bundle's
// config.json, its cgroups on this host, and the features JSON. Imported by src/oci/cli.ts when
// one of those commands runs, so that start, state, kill and delete, which engines call for
// every container, do not evaluate the config validator, the planner and the seccomp compiler
// (a separate chunk of the bundle: see build:bundle in package.json).
import { existsSync, readFileSync, statSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { MinidockError } from '../core/errors.js';
import { pathKind } from '../core/path-kind.js';
import { CAP_NAMES } from '../spec/caps.js';
import { readCgroupLayout } from '../cgroup/layout.js';
import { parseConfigText, HOOK_NAMES, NAMESPACE_TYPES, SECCOMP_ACTIONS, SECCOMP_FLAGS, SECCOMP_OPS, type OciConfig } from './config.js';
import { MOUNT_OPTIONS, type HostFacts } from './plan.js';
import { planOciCgroups, type OciCgroups } from './cgroups.js';

export { planOci } from './plan.js';
export { serializePlan } from '../runtime/child-plan.js';
export { enterOciCgroups } from './cgroups-apply.js';

export function hostFacts(): HostFacts {
  return {
    kind: pathKind,
    hostname: hostname(),
    hostNetns(path) {
      // The same namespace is the same nsfs inode (namespaces(7)); unreadable: assume it is.
      try {
        const a = statSync(path);
        const b = statSync('/proc/self/ns/net');
        return a.dev === b.dev && a.ino === b.ino;
      } catch {
        return true;
      }
    },
  };
}

export function loadConfig(bundle: string): OciConfig & { raw: { linux?: { cgroupsPath?: unknown; resources?: unknown } } } {
  let text: string;
  try {
    text = readFileSync(join(bundle, 'config.json'), 'utf8');
  } catch (err) {
    throw new MinidockError(`cannot read ${join(bundle, 'config.json')}: ${(err as NodeJS.ErrnoException).code ?? err}`, { step: 'oci.cli', hint: 'give the bundle directory with --bundle (it holds config.json)', exitCode: 1 });
  }
  // The parsed config keeps which resources are set; their values are read by oci/cgroups.ts.
  return { ...parseConfigText(text), raw: JSON.parse(text) as { linux?: { cgroupsPath?: unknown; resources?: unknown } } };
}

/** The config's cgroups on this host's layout: pure planning over the two files it reads. */
export function ociCgroups(config: ReturnType<typeof loadConfig>, id: string): OciCgroups {
  const layout = readCgroupLayout();
  // The cgroup2 root's controllers beyond minidock's own (a hybrid host's hugetlb).
  const v2 = layout.hierarchies.find((h) => h.version === 2);
  const v2Controllers = v2 && existsSync(`${v2.mount}/cgroup.controllers`) ? readFileSync(`${v2.mount}/cgroup.controllers`, 'utf8') : '';
  return planOciCgroups(layout, readFileSync('/proc/self/mountinfo', 'utf8'), config.raw.linux, id, v2Controllers);
}

/** runtime-spec features.md, true to what the translation carries out today. */
export function features(version: string): Record<string, unknown> {
  return {
    ociVersionMin: '1.0.0',
    ociVersionMax: '1.2.1',
    hooks: [...HOOK_NAMES],
    mountOptions: [...MOUNT_OPTIONS].sort(),
    linux: {
      namespaces: NAMESPACE_TYPES.filter((t) => t !== 'time'),
      capabilities: CAP_NAMES.map((n) => `CAP_${n}`),
      // v1 through minidock's cgroup plan (oci/cgroups.ts); v2 planned the same way but never
      // run on a real v2 host here (this machine kind is hybrid).
      cgroup: { v1: true, v2: false, systemd: false, systemdUser: false, rdma: false },
      // Compiled by oci/seccomp.ts (x86_64 only; NOTIFY refused).
      seccomp: {
        enabled: true,
        actions: [...SECCOMP_ACTIONS],
        operators: [...SECCOMP_OPS],
        archs: ['SCMP_ARCH_X86_64'],
        knownFlags: [...SECCOMP_FLAGS],
        supportedFlags: [...SECCOMP_FLAGS],
      },
      apparmor: { enabled: false },
      selinux: { enabled: false },
      intelRdt: { enabled: false },
      mountExtensions: { idmap: { enabled: false } },
    },
    annotations: { 'org.minidock.runc.version': version },
  };
}
