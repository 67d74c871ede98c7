// Unit tests for src/runtime/run-plan.ts: `minidock run`'s child plan is the OCI planner's
// (src/oci/plan.ts) over the config the run builds (src/oci/from-spec.ts), plus only the overlay
// root, eth0 and the built-in seccomp filter. The default plan is written out in full, so any
// change to what a container gets shows here.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { MinidockError } from '../../src/core/errors.js';
import { parseConfig } from '../../src/oci/config.js';
import { ociConfigFor } from '../../src/oci/from-spec.js';
import { planOci } from '../../src/oci/plan.js';
import { MASKED_DIRS, MASKED_FILES, READONLY_PATHS, type ChildPlan, type PlanOp } from '../../src/runtime/child-plan.js';
import { planRunChild } from '../../src/runtime/run-plan.js';
import { capabilityMask } from '../../src/spec/caps.js';
import { IDENTITY_MAP, type ContainerSpec } from '../../src/spec/container-spec.js';
import { DIR, devOps, facts, paths, runPlan, runSpec as spec } from '../helpers/run-plan.js';

const OVERLAY = `lowerdir=/var/lib/minidock/images/abc/rootfs,upperdir=${DIR}/upper,workdir=${DIR}/work,userxattr`;
const ETH = { ip: '10.88.0.2', prefix: 16, gateway: '10.88.0.1' };
const TTY = '/dev/pts/4';
const io = { stdio: [7, 8, 9] as [number, number, number] };

// The ops of the default plan, in order: the config's mounts (docker's defaults, the user's, the
// etc files), then runc's /dev nodes and links, then the masked and read-only paths.
const nosuidNoexecNodev = 'nosuid,noexec,nodev';
const proc: PlanOp = { op: 'mount', src: 'proc', dst: '/proc', type: 'proc', flags: nosuidNoexecNodev };
const devTmpfs: PlanOp = { op: 'mount', src: 'tmpfs', dst: '/dev', type: 'tmpfs', flags: 'nosuid,strictatime', data: 'mode=755,size=65536k' };
const devpts: PlanOp = { op: 'mount', src: 'devpts', dst: '/dev/pts', type: 'devpts', flags: 'nosuid,noexec', data: 'newinstance,ptmxmode=0666,mode=0620,gid=5' };
const sysfs: PlanOp = { op: 'mount', src: 'sysfs', dst: '/sys', type: 'sysfs', flags: `${nosuidNoexecNodev},ro` };
const sysBind: PlanOp = { op: 'bind', src: '/sys', dst: '/sys', file: false, flags: `rec,${nosuidNoexecNodev},ro` };
const mqueue: PlanOp = { op: 'mount', src: 'mqueue', dst: '/dev/mqueue', type: 'mqueue', flags: nosuidNoexecNodev };
const shm: PlanOp = { op: 'mount', src: 'shm', dst: '/dev/shm', type: 'tmpfs', flags: nosuidNoexecNodev, data: 'mode=1777,size=65536k' };
const etc: PlanOp[] = (['hostname', 'hosts', 'resolv.conf'] as const).map((f): PlanOp => ({ op: 'bind', src: `${DIR}/${f}`, dst: `/etc/${f}`, file: true, flags: 'rec', propagation: ['rec,private'] }));
// docker's read-only and masked paths, written out so that a change to them shows here. The
// read-only binds keep the flags /proc has (container.c locked_flags): nosuid, nodev, noexec.
const hardening: PlanOp[] = [
  ...['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'].map((dst): PlanOp => ({ op: 'bind', src: `${DIR}/rootfs${dst}`, dst, file: dst === '/proc/sysrq-trigger', flags: 'rec,ro', optional: true })),
  ...['/proc/acpi', '/proc/asound', '/proc/scsi'].map((dst): PlanOp => ({ op: 'mount', src: 'tmpfs', dst, type: 'tmpfs', flags: 'ro,nosuid,nodev,noexec', data: 'size=0', optional: true })),
  ...['/proc/kcore', '/proc/keys', '/proc/latency_stats', '/proc/timer_list', '/proc/timer_stats', '/proc/sched_debug'].map((dst): PlanOp => ({ op: 'bind', src: '/dev/null', dst, file: true, optional: true })),
  ...['/sys/firmware', '/sys/devices/virtual/powercap'].map((dst): PlanOp => ({ op: 'mount', src: 'tmpfs', dst, type: 'tmpfs', flags: 'ro,nosuid,nodev,noexec', data: 'size=0', optional: true })),
];
const ops = (o: { sys?: PlanOp; tty?: string; cgroups?: PlanOp[]; user?: PlanOp[] } = {}): PlanOp[] => [
  proc, devTmpfs, devpts, o.sys ?? sysfs, ...(o.cgroups ?? []), mqueue, shm, ...(o.user ?? []), ...etc, ...devOps(o.tty), ...hardening,
];

/** The default plan: remapped, uid 1000, no capabilities or filter asked for. */
const base = (over: Partial<ChildPlan> = {}): ChildPlan => ({
  ns: ['pid', 'ipc', 'uts', 'mnt', 'net', 'cgroup', 'user'],
  lateCgroupns: true,
  uidMap: '0 100000 65536',
  gidMap: '0 200000 65536',
  hostname: 'web-host',
  loUp: true,
  rootfs: `${DIR}/rootfs`,
  // runc's default for a config without rootfsPropagation, and so docker's.
  treePropagation: 'rec,slave',
  overlay: OVERLAY,
  readOnlyRoot: false,
  stdio: [7, 8, 9],
  ops: ops(),
  cwd: '/app',
  uid: 1000,
  gid: 100,
  groups: [10, 27],
  caps: '0',
  noNewPrivs: false,
  seccomp: 'unconfined',
  umask: 0o022,
  argv: ['sh', '-c', 'echo "hi there"'],
  env: ['PATH=/usr/bin:/bin', 'A=b=c'],
  ...over,
});

const NO_NET = ['pid', 'ipc', 'uts', 'mnt', 'cgroup', 'user'];
const netCases: Array<[string, Parameters<typeof runPlan>[2], Partial<ChildPlan>]> = [
  ['none (own, lo only)', { kind: 'own' }, {}],
  ['bridge (own, with eth0)', { kind: 'own', eth: ETH }, { eth: ETH }],
  // sysfs cannot be mounted over a network namespace the container's user namespace does not own.
  ['host', { kind: 'host' }, { ns: NO_NET, loUp: false, ops: ops({ sys: sysBind }) }],
  ['container:NAME', { kind: 'join', netns: '/proc/4242/ns/net' }, { ns: NO_NET, netns: '/proc/4242/ns/net', loUp: false, ops: ops({ sys: sysBind }) }],
];
for (const [name, net, over] of netCases) {
  test(`network ${name}: the whole plan`, () => {
    const s = spec(name === 'host' ? { network: { mode: 'host' } } : name.startsWith('container') ? { network: { mode: 'container', container: 'db' } } : {});
    assert.equal(runPlan(s, io, net), base(over));
  });
}

test('a tty: /dev/console last of /dev, the pty given to the remapped root and tty group (5 -> 200005)', () => {
  assert.equal(
    runPlan(spec({ tty: true }), { stdio: [0, 1, 2], tty: TTY }, { kind: 'own', eth: ETH }),
    base({ tty: TTY, ttyOwner: { uid: 100000, gid: 200005 }, stdio: [0, 1, 2], eth: ETH, ops: ops({ tty: TTY }) }),
  );
});

test('the identity map (--userns=host): a user namespace all the same, every id mapped to itself', () => {
  const p = runPlan(spec({ idMap: IDENTITY_MAP, user: { uid: 0, gid: 0, additionalGids: [] } }), { stdio: [0, 1, 2], tty: TTY });
  assert.ok(p.ns.includes('user'));
  assert.equal([p.uidMap, p.gidMap], ['0 0 4294967295', '0 0 4294967295']);
  assert.equal([p.uid, p.gid, p.groups], [0, 0, []]);
  // Root's and the tty group's own ids already.
  assert.equal(p.ttyOwner, { uid: 0, gid: 5 });
});

test('docker\'s defaults: the default capabilities (bounding = permitted = effective for root), no_new_privs and the built-in seccomp filter', () => {
  const caps = capabilityMask({ add: [], drop: [], privileged: false });
  const p = runPlan(spec({ user: { uid: 0, gid: 0, additionalGids: [] }, caps, noNewPrivs: true, seccomp: 'default' }));
  assert.is(p.caps, caps);
  assert.is(p.capSets, undefined);
  assert.is(p.noNewPrivs, true);
  // native/src/seccomp.c's filter for these capabilities, the same verdicts as linux.seccomp's
  // profile (oci-from-spec.test.ts), not that profile compiled again on every run.
  assert.is(p.seccomp, 'default');
  assert.is(p.seccompProg, undefined);
});

test('--privileged or seccomp=unconfined: no linux.seccomp, so no filter', () => {
  const { child, config } = planRunChild(spec({ seccomp: 'unconfined' }), paths, io, { kind: 'own' }, { cgroupParent: 'minidock', facts });
  assert.is((config().linux as Record<string, unknown>).seccomp, undefined);
  assert.is(child.seccomp, 'unconfined');
});

test('cgroups: mounted on /sys before the queues and shm, read-only; the user\'s mounts come after them', () => {
  const cgroups = [{ version: 2 as const, path: '/sys/fs/cgroup/minidock/x', controllers: [] }];
  const volume = { src: '/srv/data', dst: '/data', ro: true, file: false };
  const p = runPlan(spec({ volumes: [volume], tmpfs: [{ dst: '/run', data: 'size=1m', ro: false }] }), { ...io, cgroups });
  assert.equal(p.ops, ops({
    cgroups: [{ op: 'mount', src: 'cgroup2', dst: '/sys/fs/cgroup', type: 'cgroup2', flags: 'ro,nosuid,noexec,nodev' }],
    user: [
      { op: 'bind', src: '/srv/data', dst: '/data', file: false, flags: 'rec,ro', propagation: ['rec,private'] },
      { op: 'mount', src: 'tmpfs', dst: '/run', type: 'tmpfs', flags: 'nosuid,nodev,noexec', data: 'size=1m' },
    ],
  }));
});

test('--init: the host\'s binary bound read-only, nosuid, nodev at /sbin/minidock-init, and the command behind it', () => {
  const p = runPlan(spec({ init: true }), { ...io, init: '/usr/libexec/minidock-init' });
  assert.equal(p.ops.find((o) => o.dst === '/sbin/minidock-init'), { op: 'bind', src: '/usr/libexec/minidock-init', dst: '/sbin/minidock-init', file: true, flags: 'rec,ro,nosuid,nodev', propagation: ['rec,private'] });
  assert.equal(p.argv, ['/sbin/minidock-init', '--', 'sh', '-c', 'echo "hi there"']);
});

test('a file volume is bound as a file; --read-only makes the root read-only after the mounts', () => {
  const p = runPlan(spec({ volumes: [{ src: '/srv/file', dst: '/cfg', ro: false, file: true }], readOnly: true }));
  assert.equal(p.ops.find((o) => o.dst === '/cfg'), { op: 'bind', src: '/srv/file', dst: '/cfg', file: true, flags: 'rec', propagation: ['rec,private'] });
  assert.is(p.readOnlyRoot, true);
});

test('order: /dev before everything under it, /dev/pts before /dev/ptmx points into it, the hardening after every mount', () => {
  const p = runPlan(spec(), { stdio: [0, 1, 2], tty: TTY });
  const at = (d: string): number => p.ops.findIndex((o) => o.dst === d);
  for (const o of p.ops.filter((x) => x.dst.startsWith('/dev/'))) assert.ok(at('/dev') < at(o.dst), o.dst);
  assert.ok(at('/dev/pts') < at('/dev/ptmx'));
  const firstHardening = Math.min(...[...READONLY_PATHS, ...MASKED_FILES, ...MASKED_DIRS].map(at));
  assert.ok(p.ops.slice(firstHardening).every((o) => [...READONLY_PATHS, ...MASKED_FILES, ...MASKED_DIRS].includes(o.dst as never)));
});

test('an idmapped image is overlay\'s lower layer at paths.lower, attached from the image', () => {
  const s = spec();
  const p = runPlan({ ...s, image: { ...s.image, idmapped: true } });
  assert.is(p.idmapLower, s.image.rootfs);
  assert.is(p.lowerMnt, paths.lower);
  assert.is(p.overlay, `lowerdir=${paths.lower},upperdir=${paths.upper},workdir=${paths.work},userxattr`);
});

const badLayers: Array<[string, (s: ContainerSpec) => [ContainerSpec, typeof paths], string]> = [
  ['image rootfs with ","', (s) => [{ ...s, image: { ...s.image, rootfs: '/img/a,b' } }, paths], '/img/a,b'],
  ['image rootfs with ":"', (s) => [{ ...s, image: { ...s.image, rootfs: '/img/a:b' } }, paths], '/img/a:b'],
  ['image rootfs with "\\"', (s) => [{ ...s, image: { ...s.image, rootfs: '/img/a\\b' } }, paths], '/img/a\\b'],
  ['upper with ":"', (s) => [s, { ...paths, upper: '/r:oot/upper' }], '/r:oot/upper'],
  ['work with ","', (s) => [s, { ...paths, work: '/ro,ot/work' }], '/ro,ot/work'],
];
for (const [name, mutate, dir] of badLayers) {
  test(`an overlay layer is refused: ${name}`, () => {
    const [s, p] = mutate(spec());
    try {
      runPlan(s, io, { kind: 'own' }, p);
      assert.unreachable('should have thrown');
    } catch (err) {
      assert.instance(err, MinidockError);
      const e = err as MinidockError;
      assert.is(e.message, `path ${JSON.stringify(dir)} cannot be used as an overlay layer: it contains "," ":" or "\\"`);
      assert.is(e.step, 'plan.overlay');
      assert.is(e.exitCode, 125);
    }
  });
}

test('layer paths with spaces, "=" and unicode are accepted (only , : \\ are separators)', () => {
  assert.is(runPlan(spec({ image: { ref: 'x', rootfs: '/img/with space/a=b/ünï' } })).overlay, `lowerdir=/img/with space/a=b/ünï,upperdir=${DIR}/upper,workdir=${DIR}/work,userxattr`);
});

test('the seam: the config is ociConfigFor\'s with the container directory as the bundle, and the plan is planOci\'s of it', () => {
  const s = spec({ init: true, volumes: [{ src: '/srv/data', dst: '/data', ro: false, file: false }], readOnly: true, seccomp: 'default', caps: capabilityMask({ add: [], drop: [], privileged: false }) });
  const cgroups = [{ version: 2 as const, path: '/sys/fs/cgroup/minidock/x', controllers: [] }];
  const r = planRunChild(s, paths, { ...io, init: '/usr/libexec/minidock-init', cgroups }, { kind: 'own', eth: ETH }, { cgroupParent: 'minidock', facts });
  const config = r.config();
  assert.equal(config, ociConfigFor(s, { bundle: DIR, cgroupParent: 'minidock', initSource: '/usr/libexec/minidock-init' }));
  assert.ok((config.linux as Record<string, unknown>).seccomp, 'the whole config has the profile');
  const oci = planOci(parseConfig(JSON.parse(JSON.stringify(config))), { bundle: DIR, stdio: io.stdio, cgroups }, facts);
  assert.equal(oci.unsupported, []);
  // Everything but the three parts the config cannot say (the root, eth0, the filter's form).
  const { overlay, eth, seccomp, ...rest } = r.child;
  const { overlay: noOverlay, seccomp: _s, seccompProg, ...ociRest } = oci.child;
  assert.equal(rest, ociRest);
  assert.equal([overlay, eth, seccomp], [OVERLAY, ETH, 'default']);
  assert.is(noOverlay, '');
  assert.ok(seccompProg, 'minidock-runc compiles the same profile');
});

test('a rootfs that is not the container directory\'s "rootfs" is refused (the config names it so)', () => {
  assert.throws(() => runPlan(spec(), io, { kind: 'own' }, { ...paths, rootfs: '/elsewhere' }), (e: Error) => e instanceof MinidockError && e.step === 'plan.paths');
});

test.run();
