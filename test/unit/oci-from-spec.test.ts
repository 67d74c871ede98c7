// src/oci/from-spec.ts: a container spec as the config.json dockerd would give runc, and the
// round trip back through minidock-runc's parser and planner.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseConfig } from '../../src/oci/config.js';
import { cgroupLocation } from '../../src/oci/cgroups.js';
import { parseResources } from '../../src/oci/resources.js';
import { DEFAULT_DEVICES, ociConfigFor } from '../../src/oci/from-spec.js';
import { planOci, type HostFacts } from '../../src/oci/plan.js';
import { IDENTITY_MAP, type ContainerSpec } from '../../src/spec/container-spec.js';
import { capabilityMask } from '../../src/spec/caps.js';
import { remapMapping } from '../../src/spec/userns.js';

const ID = 'ab'.repeat(32);
const BUNDLE = '/b';

/** `minidock run --network none busybox sh -c 'id'` with the default remapping. */
const remappedSpec = (): ContainerSpec => ({
  id: ID,
  name: 'eager_turing',
  hostname: ID.slice(0, 12),
  image: { ref: 'busybox', id: 'i'.repeat(64), rootfs: '/img/rootfs', idmapped: true },
  argv: ['sh', '-c', 'id'],
  env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', `HOSTNAME=${ID.slice(0, 12)}`, 'HOME=/root'],
  cwd: '/',
  user: { uid: 0, gid: 0, additionalGids: [] },
  tty: false,
  interactive: false,
  network: { mode: 'none' },
  autoRemove: true,
  caps: capabilityMask({ add: [], drop: [], privileged: false }),
  noNewPrivs: true,
  seccomp: 'default',
  idMap: remapMapping(100000, 65536),
  createdAt: 0,
});

/** `-u 1000:1000 --group-add... --network host --userns=host -v /srv/data:/data:ro --tmpfs /run:size=1m
 *  --read-only --init -m 64m --cpus 0.5 --pids-limit 100 --cap-drop ALL --cap-add NET_BIND_SERVICE -t -w /work`. */
const hostSpec = (): ContainerSpec => ({
  ...remappedSpec(),
  image: { ref: 'busybox', rootfs: '/img/rootfs' },
  argv: ['httpd', '-f'],
  cwd: '/work',
  user: { uid: 1000, gid: 1000, additionalGids: [10, 20] },
  tty: true,
  network: { mode: 'host' },
  init: true,
  caps: capabilityMask({ add: ['NET_BIND_SERVICE'], drop: ['ALL'], privileged: false }),
  volumes: [{ src: '/srv/data', dst: '/data', ro: true, file: false }],
  tmpfs: [{ dst: '/run', data: 'size=1m', ro: false }],
  readOnly: true,
  resources: { memory: 64 * 1024 * 1024, memorySwap: 128 * 1024 * 1024, nanoCpus: 500_000_000, pidsLimit: 100 },
  idMap: IDENTITY_MAP,
});

const DEFAULT_CAP_NAMES = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FOWNER', 'CAP_FSETID', 'CAP_KILL', 'CAP_SETGID', 'CAP_SETUID', 'CAP_SETPCAP',
  'CAP_NET_BIND_SERVICE', 'CAP_NET_RAW', 'CAP_SYS_CHROOT', 'CAP_MKNOD', 'CAP_AUDIT_WRITE', 'CAP_SETFCAP',
];

const DEFAULT_MOUNTS = [
  { destination: '/proc', type: 'proc', source: 'proc', options: ['nosuid', 'noexec', 'nodev'] },
  { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
  { destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'] },
  { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] },
  { destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['ro', 'nosuid', 'noexec', 'nodev'] },
  { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
  { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=65536k'] },
];

const ETC_MOUNTS = ['hostname', 'hosts', 'resolv.conf'].map((f) => ({ destination: `/etc/${f}`, type: 'bind', source: `${BUNDLE}/${f}`, options: ['rbind', 'rprivate'] }));

const MASKED = ['/proc/acpi', '/proc/asound', '/proc/scsi', '/proc/kcore', '/proc/keys', '/proc/latency_stats', '/proc/timer_list', '/proc/timer_stats', '/proc/sched_debug', '/sys/firmware', '/sys/devices/virtual/powercap'];
const READONLY = ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'];

test('a remapped root container with --network none: the whole config', () => {
  assert.equal(ociConfigFor(remappedSpec(), { bundle: BUNDLE, cgroupParent: 'minidock' }), {
    ociVersion: '1.1.0',
    process: {
      terminal: false,
      user: { uid: 0, gid: 0 },
      args: ['sh', '-c', 'id'],
      env: remappedSpec().env,
      cwd: '/',
      capabilities: { bounding: DEFAULT_CAP_NAMES, effective: DEFAULT_CAP_NAMES, inheritable: [], permitted: DEFAULT_CAP_NAMES, ambient: [] },
      noNewPrivileges: true,
    },
    root: { path: 'rootfs', readonly: false },
    hostname: ID.slice(0, 12),
    mounts: [...DEFAULT_MOUNTS, ...ETC_MOUNTS],
    linux: {
      uidMappings: [{ containerID: 0, hostID: 100000, size: 65536 }],
      gidMappings: [{ containerID: 0, hostID: 100000, size: 65536 }],
      resources: { devices: DEFAULT_DEVICES },
      cgroupsPath: `/minidock/${ID}`,
      namespaces: [{ type: 'pid' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' }, { type: 'network' }, { type: 'cgroup' }, { type: 'user' }],
      maskedPaths: MASKED,
      readonlyPaths: READONLY,
    },
  });
});

test('a non-root user, host network, identity map, volumes, tmpfs, --init, limits: the fields that differ', () => {
  const c = ociConfigFor(hostSpec(), { bundle: `${BUNDLE}/`, cgroupParent: '/mdktest1/' }) as any;
  assert.equal(c.process.user, { uid: 1000, gid: 1000, additionalGids: [10, 20] });
  assert.equal(c.process.args, ['/sbin/minidock-init', '--', 'httpd', '-f']);
  assert.is(c.process.cwd, '/work');
  assert.is(c.process.terminal, true);
  // Another uid keeps the bounding set only, as minidock's child gives it.
  assert.equal(c.process.capabilities, { bounding: ['CAP_NET_BIND_SERVICE'], effective: [], inheritable: [], permitted: [], ambient: [] });
  assert.equal(c.root, { path: 'rootfs', readonly: true });
  assert.equal(c.mounts, [
    ...DEFAULT_MOUNTS,
    { destination: '/sbin/minidock-init', type: 'bind', source: '/b/minidock-init', options: ['rbind', 'rprivate', 'ro', 'nosuid', 'nodev'] },
    { destination: '/data', type: 'bind', source: '/srv/data', options: ['rbind', 'rprivate', 'ro'] },
    { destination: '/run', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev', 'noexec', 'size=1m'] },
    ...ETC_MOUNTS,
  ]);
  // --network host: no network namespace; the identity map: no user namespace, no mappings.
  assert.equal(c.linux.namespaces, [{ type: 'pid' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' }, { type: 'cgroup' }]);
  assert.is(c.linux.uidMappings, undefined);
  assert.is(c.linux.gidMappings, undefined);
  assert.is(c.linux.cgroupsPath, `/mdktest1/${ID}`);
  assert.is(c.linux.seccomp, undefined);
  assert.equal(c.linux.resources, {
    devices: DEFAULT_DEVICES,
    memory: { limit: 67108864, swap: 134217728 },
    cpu: { quota: 50000, period: 100000 },
    pids: { limit: 100 },
  });
});

test('container:NAME joins the other network namespace by path; shares, cpuset and an unlimited pids', () => {
  const spec: ContainerSpec = { ...remappedSpec(), network: { mode: 'container', container: 'web' }, resources: { cpuShares: 512, cpusetCpus: '0-1', pidsLimit: -1 } };
  const c = ociConfigFor(spec, { bundle: BUNDLE, cgroupParent: 'minidock', netnsPath: '/proc/42/ns/net' }) as any;
  assert.ok(c.linux.namespaces.some((n: any) => n.type === 'network' && n.path === '/proc/42/ns/net'));
  assert.equal(c.linux.resources.cpu, { shares: 512, cpus: '0-1' });
  assert.equal(c.linux.resources.pids, { limit: -1 });
});

/** A host where the bundle's files, the volume and the masked/read-only paths exist. */
const facts: HostFacts = {
  kind: (p) => (['/b/hostname', '/b/hosts', '/b/resolv.conf', '/b/minidock-init', '/proc/kcore', '/proc/sysrq-trigger'].includes(p) ? 'file' : ['/srv/data', '/proc/sys', '/proc/acpi'].includes(p) ? 'dir' : undefined),
  hostname: 'hosty',
};
const CGROUPS = [{ version: 1 as const, path: `/sys/fs/cgroup/memory/minidock/${ID}`, controllers: ['memory' as any] }];

for (const [name, make] of [['remapped root', remappedSpec], ['non-root, host network, identity', hostSpec]] as const) {
  test(`round trip (${name}): parseConfig and planOci accept it with nothing unsupported, the plan keeps the spec`, () => {
    const spec = make();
    const json = JSON.parse(JSON.stringify(ociConfigFor(spec, { bundle: BUNDLE, cgroupParent: 'minidock' })));
    const config = parseConfig(json);
    const plan = planOci(config, { bundle: BUNDLE, cgroups: CGROUPS, ...(spec.tty ? { tty: '/dev/pts/9' } : {}) }, facts);
    // linux.cgroupsPath and linux.resources are carried out by minidock-runc's cgroup code
    // (src/oci/cgroups.ts), as src/oci/cli.ts filters them: they must be all it can do there.
    assert.equal(plan.unsupported.filter((u) => u !== 'linux.cgroupsPath' && !u.startsWith('linux.resources.')), []);
    const res = parseResources(json.linux.resources);
    assert.equal(res.unsupported, []);
    // Read back as written, less the device list (rules, not limits).
    const { devices: _devices, ...limits } = json.linux.resources;
    assert.equal(res.resources, limits);
    assert.equal(cgroupLocation(json.linux.cgroupsPath, 'other'), { parent: 'minidock', name: ID });
    const child = plan.child;
    assert.is(child.caps, spec.caps);
    assert.is(child.capSets, undefined); // the one-mask path, as `minidock run`'s
    assert.is(child.uidMap, spec.idMap === IDENTITY_MAP ? '' : spec.idMap.uidMap);
    assert.is(child.gidMap, spec.idMap === IDENTITY_MAP ? '' : spec.idMap.gidMap);
    assert.equal([child.uid, child.gid, child.groups], [spec.user.uid, spec.user.gid, spec.user.additionalGids]);
    assert.is(child.hostname, spec.hostname);
    assert.is(child.noNewPrivs, true);
    assert.is(child.readOnlyRoot, spec.readOnly ?? false);
    assert.is(child.loUp, spec.network.mode !== 'host');
    assert.equal([...child.ns].sort(), (spec.network.mode === 'host' ? ['cgroup', 'ipc', 'mnt', 'pid', 'uts'] : ['cgroup', 'ipc', 'mnt', 'net', 'pid', 'user', 'uts']));
    assert.is(child.lateCgroupns, true);
    for (const dst of ['/etc/hostname', '/etc/hosts', '/etc/resolv.conf', ...(spec.volumes ?? []).map((v) => v.dst)]) {
      assert.ok(child.ops.some((op) => op.op === 'bind' && op.dst === dst), dst);
    }
  });
}

test.run();
