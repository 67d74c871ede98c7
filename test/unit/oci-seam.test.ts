// The seam of issue #14: `minidock run` is to build an OCI config (src/oci/from-spec.ts) and run
// it through the same planner as minidock-runc (src/oci/plan.ts), instead of its own translator
// (src/runtime/child-plan.ts buildChildPlan). This pins where the two translators agree today and
// the exact list of where they still differ, so neither drifts unseen: a change on either side
// fails here until this list (and the seam work it stands for) is updated.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseConfig } from '../../src/oci/config.js';
import { ociConfigFor } from '../../src/oci/from-spec.js';
import { planOci, type HostFacts } from '../../src/oci/plan.js';
import { buildChildPlan, MASKED_DIRS, MASKED_FILES, READONLY_PATHS, type ChildPlan, type ContainerPaths, type PlanOp } from '../../src/runtime/child-plan.js';
import { capabilityMask } from '../../src/spec/caps.js';
import { IDENTITY_MAP, type ContainerSpec } from '../../src/spec/container-spec.js';
import { remapMapping } from '../../src/spec/userns.js';

const ID = 'cd'.repeat(32);
const DIR = '/c';
const paths: ContainerPaths = {
  dir: DIR, rootfs: `${DIR}/rootfs`, lower: `${DIR}/lower`, upper: `${DIR}/upper`, work: `${DIR}/work`,
  hostname: `${DIR}/hostname`, hosts: `${DIR}/hosts`, resolvConf: `${DIR}/resolv.conf`,
};

/** `minidock run --network none busybox sh` with the default remapping. */
const remapped = (): ContainerSpec => ({
  id: ID, name: 'n', hostname: 'h', image: { ref: 'busybox', id: 'i'.repeat(64), rootfs: '/img/rootfs', idmapped: true },
  argv: ['sh'], env: ['PATH=/bin', 'HOSTNAME=h', 'HOME=/root'], cwd: '/', user: { uid: 0, gid: 0, additionalGids: [] },
  tty: false, interactive: false, network: { mode: 'none' }, autoRemove: true,
  caps: capabilityMask({ add: [], drop: [], privileged: false }), noNewPrivs: true, seccomp: 'default',
  idMap: remapMapping(100000, 65536), createdAt: 0,
});
/** `-u 1000:1000 --userns=host --read-only -v /srv:/data:ro --cap-drop ALL`. */
const hostIds = (): ContainerSpec => ({
  ...remapped(), image: { ref: 'busybox', rootfs: '/img/rootfs' }, user: { uid: 1000, gid: 1000, additionalGids: [10] },
  caps: capabilityMask({ add: [], drop: ['ALL'], privileged: false }), readOnly: true,
  volumes: [{ src: '/srv', dst: '/data', ro: true, file: false }], idMap: IDENTITY_MAP,
});

/** A host where what minidock masks and makes read-only exists, as on this machine kind. */
const facts: HostFacts = {
  kind: (p) => {
    if ([...MASKED_FILES, '/proc/sysrq-trigger', paths.hostname, paths.hosts, paths.resolvConf].includes(p as never)) return 'file';
    if ([...MASKED_DIRS, ...READONLY_PATHS, '/srv'].includes(p as never) || p.startsWith(`${DIR}/rootfs/proc/`)) return 'dir';
    return undefined;
  },
  hostname: 'hosty',
};

const both = (spec: ContainerSpec): { run: ChildPlan; oci: ChildPlan } => ({
  run: buildChildPlan(spec, paths, { stdio: [0, 1, 2] }),
  oci: planOci(parseConfig(JSON.parse(JSON.stringify(ociConfigFor(spec, { bundle: DIR, cgroupParent: 'minidock' })))), { bundle: DIR }, facts).child,
});
const flagSet = (f?: string): string => (f ?? '').split(',').filter(Boolean).sort().join(',');
const key = (o: PlanOp): string => {
  const x = o as PlanOp & { type?: string; data?: string; flags?: string; src?: string };
  return [o.op, o.dst, x.type ?? '', x.src ?? '', flagSet(x.flags), x.data ?? ''].join(' ');
};
/** The ops one side has and the other lacks, order aside. */
const opDiff = (a: PlanOp[], b: PlanOp[]): { onlyRun: string[]; onlyOci: string[] } => {
  const ka = a.map(key);
  const kb = b.map(key);
  return { onlyRun: ka.filter((k) => !kb.includes(k)).sort(), onlyOci: kb.filter((k) => !ka.includes(k)).sort() };
};

for (const [name, make] of [['remapped root', remapped], ['host ids, read-only, a volume, no capabilities', hostIds]] as const) {
  test(`${name}: the process, the identity and the namespaces agree`, () => {
    const spec = make();
    const { run, oci } = both(spec);
    for (const k of ['hostname', 'cwd', 'uid', 'gid', 'groups', 'caps', 'noNewPrivs', 'argv', 'env', 'loUp', 'lateCgroupns'] as const) {
      assert.equal(oci[k], run[k], k);
    }
    assert.equal(!!oci.readOnlyRoot, !!run.readOnlyRoot, 'readOnlyRoot');
    assert.equal([...oci.ns].sort(), [...run.ns].sort().filter((n) => n !== 'user' || spec.idMap !== IDENTITY_MAP), 'namespaces');
    // The identity map: minidock writes "0 0 4294967295" into a user namespace it keeps; a
    // config without one has no maps (runc's reading), and the namespace list says so.
    if (spec.idMap === IDENTITY_MAP) assert.equal([oci.uidMap, oci.gidMap], ['', '']);
    else assert.equal([oci.uidMap, oci.gidMap], [run.uidMap, run.gidMap]);
  });

  test(`${name}: the filesystem ops differ only where listed (the seam's work)`, () => {
    const spec = make();
    const { run, oci } = both(spec);
    const d = opDiff(run.ops, oci.ops);
    // minidock's read-only /proc binds and masking tmpfs carry nosuid,nodev,noexec; OCI's
    // readonlyPaths and maskedPaths say only "ro" (runc remounts with the flags it finds).
    const hardened = (o: string): boolean => /^(bind \/proc\/(bus|fs|irq|sys|sysrq-trigger)|mount \/(proc\/(acpi|asound|scsi)|sys\/firmware|sys\/devices\/virtual\/powercap)) /.test(o);
    // The /etc files: bound recursively in the config (rbind), plainly by minidock.
    const etc = (o: string): boolean => /^bind \/etc\/(hostname|hosts|resolv\.conf) /.test(o);
    // runc's /dev/core -> /proc/kcore symlink (where the kernel has kcore); minidock run makes none.
    const core = (o: string): boolean => o.startsWith('symlink /dev/core ');
    const explained = (o: string): boolean => hardened(o) || etc(o) || core(o);
    assert.equal(d.onlyRun.filter((o) => !explained(o)), [], 'what only minidock run does, unexplained');
    assert.equal(d.onlyOci.filter((o) => !explained(o)), [], 'what only the OCI translation does, unexplained');
    // Every hardening op of minidock's has its OCI twin with only "ro": none is lost.
    for (const o of d.onlyRun.filter(hardened)) {
      const [op, dst] = o.split(' ');
      assert.ok(d.onlyOci.some((x) => x.startsWith(`${op} ${dst} `) && x.split(' ')[4]!.split(',').includes('ro')), `${op} ${dst} has a read-only twin`);
    }
  });

  test(`${name}: the fields only one side has (the root, the filter, umask, propagation)`, () => {
    const spec = make();
    const { run, oci } = both(spec);
    // minidock's root is an overlay of the image (idmapped when remapped); a config's root is
    // root.path bound onto itself.
    assert.match(run.overlay, /^lowerdir=/);
    assert.is(oci.overlay, '');
    assert.is(oci.idmapLower, undefined);
    // minidock's native default filter against the profile compiled from linux.seccomp.
    assert.is(run.seccomp, 'default');
    assert.is(oci.seccomp, undefined);
    assert.ok(oci.seccompProg, 'a compiled filter');
    // runc's umask default (0022) for a config; minidock run leaves the caller's.
    assert.is(oci.umask, 0o022);
    assert.is(run.umask, undefined);
    // runc's rslave for a config without rootfsPropagation; minidock run's rprivate (the
    // absent default of container.c).
    assert.is(oci.treePropagation, 'rec,slave');
    assert.is(run.treePropagation, undefined);
  });
}

test.run();
