// Unit tests for src/oci/resources.ts and src/oci/cgroups.ts: linux.resources read into typed
// values, the directories of an OCI container on hybrid, v1 and v2 hosts, the exact writes for
// create and update (against the files a kernel shows), and runc update's merge and flags.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { MinidockError } from '../../src/core/errors.js';
import { parseCgroupLayout } from '../../src/cgroup/layout.js';
import type { CgroupDir } from '../../src/cgroup/plan.js';
import { KERNEL_MEMORY_IGNORED, blkioToIoWeight, cgroupLocation, missingControllers, planOciCgroups, planOciLimits } from '../../src/oci/cgroups.js';
import { mergeResources, parseBytes, parseResources, resourcesFromFlags, type OciResources } from '../../src/oci/resources.js';

const M = 1024 * 1024;

// ---------------------------------------------------------------- fixtures

/** mountinfo lines for v1 hierarchies, each named for its controllers. */
const v1Mounts = (names: string[], first = 32): string =>
  names.map((n, i) => `${first + i} 31 0:${first + i} / /sys/fs/cgroup/${n} rw,relatime - cgroup cgroup rw,${n}\n`).join('');
/** This machine's shape: v1 controllers on their own hierarchies, cgroup2 holding only hugetlb. */
const HYBRID = `${v1Mounts(['cpu', 'cpuacct', 'cpuset', 'memory', 'devices', 'freezer', 'blkio', 'pids'])}99 31 0:99 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
`;
/** A classic v1 host with net_cls and net_prio co-mounted (and hugetlb on v1). */
const V1_NET = v1Mounts(['cpu', 'cpuacct', 'cpuset', 'memory', 'devices', 'freezer', 'blkio', 'pids', 'net_cls,net_prio', 'hugetlb']);
const V2 = '30 23 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime - cgroup2 cgroup2 rw,nsdelegate\n';
const V2_CONTROLLERS = 'cpuset cpu io memory hugetlb pids rdma misc';

const hybrid = () => parseCgroupLayout(HYBRID, '', 'hugetlb');
const v1net = () => parseCgroupLayout(V1_NET, '');
const v2 = () => parseCgroupLayout(V2, '', V2_CONTROLLERS);

const writes = (ops: { op: string }[]): string[] => ops.flatMap((o: any) => (o.op === 'write' ? [`${o.file}=${o.value}`] : []));
const dir = (version: 1 | 2, path: string, ...controllers: string[]): CgroupDir => ({ version, path, controllers: controllers as any });

// ---------------------------------------------------------------- parseResources

test('parseResources: every field runc carries out, read as written; devices as v1 lines', () => {
  const json = {
    memory: { limit: 64 * M, reservation: 32 * M, swap: 128 * M, kernel: 1, kernelTCP: 2, swappiness: 10, disableOOMKiller: true, useHierarchy: true },
    cpu: { shares: 512, quota: 20000, period: 50000, burst: 1000, realtimeRuntime: 950, realtimePeriod: 1000, cpus: '0-1', mems: '0', idle: 0 },
    pids: { limit: 10 },
    blockIO: {
      weight: 300, leafWeight: 200, weightDevice: [{ major: 8, minor: 0, weight: 500, leafWeight: 300 }],
      throttleReadBpsDevice: [{ major: 8, minor: 0, rate: 600 }], throttleWriteIOPSDevice: [{ major: 8, minor: 16, rate: 30 }],
    },
    hugepageLimits: [{ pageSize: '2MB', limit: 4 * M }],
    network: { classID: 1048577, priorities: [{ name: 'eth0', priority: 5 }] },
    devices: [{ allow: false, access: 'rwm' }, { allow: true, type: 'c', major: 10, minor: 229, access: 'rw' }],
  };
  const { devices: _d, ...limits } = json;
  const r = parseResources(json);
  assert.equal(r.resources, limits);
  assert.equal(r.devices, [['devices.deny', 'a'], ['devices.allow', 'c 10:229 rw']]);
  assert.equal(r.unsupported, []);
});

test('parseResources: unknown fields are named unsupported; bad values are refused with the field', () => {
  const r = parseResources({ memory: { limit: 1, highWater: 2 }, rdma: { mlx5_1: { hcaHandles: 3 } }, network: { classID: 1, other: 1 } });
  assert.equal(r.unsupported, ['linux.resources.memory.highWater', 'linux.resources.rdma', 'linux.resources.network.other']);
  assert.equal(parseResources({ unified: {}, rdma: {}, hugepageLimits: [], devices: [] }), { resources: {}, devices: [], unsupported: [] }, 'empty is nothing asked');
  const cases: [unknown, RegExp][] = [
    [{ memory: { swappiness: 101 } }, /memory\.swappiness must be between -1 and 100/],
    [{ memory: { limit: '1g' } }, /memory\.limit must be an integer/],
    [{ blockIO: { weight: 5 } }, /blockIO\.weight must be between 10 and 1000/],
    [{ blockIO: { throttleReadBpsDevice: [{ major: 8, rate: 1 }] } }, /throttleReadBpsDevice needs major, minor and rate/],
    [{ hugepageLimits: [{ pageSize: '../2MB', limit: 1 }] }, /pageSize must be a size such as "2MB"/],
    [{ network: { priorities: [{ name: 'a b', priority: 1 }] } }, /priorities\[0\]\.name must be an interface name/],
    [{ cpu: { idle: 2 } }, /cpu\.idle must be between 0 and 1/],
    [{ unified: { '../memory.max': '1' } }, /unified\["\.\.\/memory\.max"\] must name a cgroup v2 file/],
    [{ unified: { 'memory.high': 5 } }, /unified\["memory\.high"\] must be a string/],
  ];
  for (const [res, re] of cases) {
    const err = (() => { try { parseResources(res); } catch (e) { return e; } return undefined; })();
    assert.instance(err, MinidockError, JSON.stringify(res));
    assert.match((err as Error).message, re);
  }
});

// ---------------------------------------------------------------- directories

test('cgroupLocation: "/name" is at each hierarchy\'s top, as runc puts it; a/b/c below a/b', () => {
  assert.equal(cgroupLocation('/cgrouptest', 'x'), { parent: '', name: 'cgrouptest' });
  assert.equal(cgroupLocation('testdir/cgrouptest/container', 'x'), { parent: 'testdir/cgrouptest', name: 'container' });
  assert.equal(cgroupLocation(undefined, 'x'), { parent: 'minidock-runc', name: 'x' });
});

test('planOciCgroups, hybrid: "/name" makes no parent level; hugetlb enabled on cgroup2 only for a container that limits it', () => {
  const plain = planOciCgroups(hybrid(), HYBRID, { cgroupsPath: '/top' }, 'id', 'hugetlb');
  assert.ok(plain.plan.ops.some((o: any) => o.op === 'mkdir' && o.path === '/sys/fs/cgroup/memory/top'));
  assert.not.ok(plain.plan.ops.some((o: any) => o.op === 'write' && /subtree_control/.test(o.file)), 'nothing enabled on cgroup2');
  const huge = planOciCgroups(hybrid(), HYBRID, { cgroupsPath: '/p/c', resources: { hugepageLimits: [{ pageSize: '2MB', limit: 1 }] } }, 'id', 'hugetlb');
  assert.equal(huge.unsupported, []);
  const v2ops = huge.plan.ops.filter((o: any) => (o.path ?? o.file).startsWith('/sys/fs/cgroup/unified'));
  assert.equal(v2ops, [
    { op: 'write', file: '/sys/fs/cgroup/unified/cgroup.subtree_control', value: '+hugetlb' },
    { op: 'mkdir', path: '/sys/fs/cgroup/unified/p' },
    { op: 'write', file: '/sys/fs/cgroup/unified/p/cgroup.subtree_control', value: '+hugetlb' },
    { op: 'mkdir', path: '/sys/fs/cgroup/unified/p/c' },
  ]);
  assert.equal(huge.plan.dirs.find((d) => d.version === 2)!.controllers, ['hugetlb'], 'found there by update');
  // No net_cls or net_prio mounted here: runc fails such a container, so does minidock-runc.
  const net = planOciCgroups(hybrid(), HYBRID, { cgroupsPath: '/p/c', resources: { network: { classID: 1, priorities: [{ name: 'lo', priority: 1 }] } } }, 'id', 'hugetlb');
  assert.equal(net.unsupported, [
    'linux.resources.network.classID (no net_cls cgroup controller on this host)',
    'linux.resources.network.priorities (no net_prio cgroup controller on this host)',
  ]);
});

test('planOciCgroups, v1: co-mounted net_cls,net_prio is one directory named for both; hugetlb on v1', () => {
  const cg = planOciCgroups(v1net(), V1_NET, { cgroupsPath: '/p/c', resources: { network: { classID: 1 }, hugepageLimits: [{ pageSize: '2MB', limit: 1 }] } }, 'id');
  assert.equal(cg.unsupported, []);
  const extras = cg.plan.dirs.filter((d) => !['memory', 'cpu', 'cpuacct', 'cpuset', 'pids', 'blkio'].includes(d.controllers[0]!));
  assert.equal(extras, [
    dir(1, '/sys/fs/cgroup/devices/p/c', 'devices'),
    dir(1, '/sys/fs/cgroup/freezer/p/c', 'freezer'),
    dir(1, '/sys/fs/cgroup/hugetlb/p/c', 'hugetlb'),
    dir(1, '/sys/fs/cgroup/net_cls,net_prio/p/c', 'net_cls', 'net_prio'),
  ]);
  assert.equal(cg.plan.procs.filter((p) => /net_cls/.test(p)), ['/sys/fs/cgroup/net_cls,net_prio/p/c/cgroup.procs'], 'joined once');
});

test('planOciCgroups, v2: hugetlb enabled beside minidock\'s controllers; net_cls and net_prio have no v2 form', () => {
  const cg = planOciCgroups(v2(), V2, { cgroupsPath: '/c', resources: { hugepageLimits: [{ pageSize: '2MB', limit: 1 }], network: { classID: 1 } } }, 'id', V2_CONTROLLERS);
  assert.equal(writes(cg.plan.ops), ['+memory', '+cpu', '+cpuset', '+pids', '+io', '+hugetlb'].map((v) => `/sys/fs/cgroup/cgroup.subtree_control=${v}`));
  assert.equal(cg.plan.dirs, [dir(2, '/sys/fs/cgroup/c', 'memory', 'cpu', 'cpuacct', 'cpuset', 'pids', 'blkio', 'hugetlb')]);
  assert.equal(cg.unsupported, ['linux.resources.network.classID (no net_cls cgroup controller on this host)']);
});

// ---------------------------------------------------------------- limits, v1

const V1_DIRS = [
  dir(1, '/m', 'memory'), dir(1, '/c', 'cpu'), dir(1, '/s', 'cpuset'), dir(1, '/p', 'pids'), dir(1, '/b', 'blkio'),
  dir(1, '/h', 'hugetlb'), dir(1, '/n', 'net_cls', 'net_prio'),
];
/** The files a 6.x kernel shows (this host): BFQ's blkio files, no CFQ; .rsvd hugetlb files. */
const V1_FILES = {
  '/m': ['memory.limit_in_bytes', 'memory.memsw.limit_in_bytes', 'memory.soft_limit_in_bytes', 'memory.oom_control', 'memory.swappiness', 'memory.kmem.tcp.limit_in_bytes'],
  '/c': ['cpu.shares', 'cpu.cfs_period_us', 'cpu.cfs_quota_us', 'cpu.cfs_burst_us', 'cpu.idle', 'cpu.rt_period_us', 'cpu.rt_runtime_us'],
  '/b': ['blkio.bfq.weight', 'blkio.bfq.weight_device', 'blkio.throttle.read_bps_device'],
  '/h': ['hugetlb.2MB.limit_in_bytes', 'hugetlb.2MB.rsvd.limit_in_bytes'],
};
const FULL: OciResources = parseResources({
  memory: { limit: 64 * M, reservation: 32 * M, swap: 128 * M, kernel: 1, kernelTCP: 2, swappiness: 10, disableOOMKiller: true, useHierarchy: true },
  cpu: { shares: 512, quota: 20000, period: 50000, burst: 1000, realtimeRuntime: 950, realtimePeriod: 1000, cpus: '0-1', mems: '0', idle: 0 },
  pids: { limit: 10 },
  blockIO: { weight: 300, leafWeight: 200, weightDevice: [{ major: 8, minor: 0, weight: 500 }], throttleReadBpsDevice: [{ major: 8, minor: 0, rate: 600 }], throttleWriteIOPSDevice: [{ major: 8, minor: 16, rate: 30 }] },
  hugepageLimits: [{ pageSize: '2MB', limit: 4 * M }],
  network: { classID: 1048577, priorities: [{ name: 'eth0', priority: 5 }, { name: 'lo', priority: 1 }] },
}).resources;

test('planOciLimits v1: every file, in the kernel\'s order, where this kernel keeps it', () => {
  const { ops, warnings } = planOciLimits(V1_DIRS, FULL, { files: V1_FILES, memoryLimit: Infinity });
  assert.equal(writes(ops), [
    `/m/memory.limit_in_bytes=${64 * M}`, `/m/memory.memsw.limit_in_bytes=${128 * M}`, `/m/memory.soft_limit_in_bytes=${32 * M}`,
    '/m/memory.oom_control=1', '/m/memory.swappiness=10', '/m/memory.use_hierarchy=1', '/m/memory.kmem.tcp.limit_in_bytes=2',
    // A period the old quota (runtime) does not fit yet is passed over, and written again after.
    '/c/cpu.shares=512', '/c/cpu.cfs_period_us=50000', '/c/cpu.cfs_burst_us=1000', '/c/cpu.cfs_quota_us=20000', '/c/cpu.cfs_period_us=50000',
    '/c/cpu.idle=0', '/c/cpu.rt_period_us=1000', '/c/cpu.rt_runtime_us=950', '/c/cpu.rt_period_us=1000',
    '/s/cpuset.cpus=0-1', '/s/cpuset.mems=0',
    '/p/pids.max=10',
    // BFQ's weight files (no blkio.weight here); leaf weights have no BFQ file: written, so the
    // kernel's ENOENT fails the container as it fails runc's.
    '/b/blkio.bfq.weight=300', '/b/blkio.leaf_weight=200', '/b/blkio.bfq.weight_device=8:0 500',
    '/b/blkio.throttle.read_bps_device=8:0 600', '/b/blkio.throttle.write_iops_device=8:16 30',
    `/h/hugetlb.2MB.limit_in_bytes=${4 * M}`, `/h/hugetlb.2MB.rsvd.limit_in_bytes=${4 * M}`,
    '/n/net_cls.classid=1048577', '/n/net_prio.ifpriomap=eth0 5', '/n/net_prio.ifpriomap=lo 1',
  ]);
  assert.equal(warnings, [KERNEL_MEMORY_IGNORED]);
  const tolerant = ops.filter((o: any) => o.einvalLater).map((o: any) => o.file);
  assert.equal(tolerant, ['/c/cpu.cfs_period_us', '/c/cpu.rt_period_us'], 'only the first period writes pass EINVAL over');
  // A period alone is written once, and fails as the kernel says.
  const alone = planOciLimits(V1_DIRS, { cpu: { period: 50000 } }, { files: V1_FILES }).ops;
  assert.equal(alone, [{ op: 'write', file: '/c/cpu.cfs_period_us', value: '50000' }]);
});

test('planOciLimits v1: an older kernel\'s files choose CFQ\'s weight and no .rsvd; no cpu.idle or burst is skipped', () => {
  const files = { '/b': ['blkio.weight', 'blkio.weight_device'], '/h': ['hugetlb.2MB.limit_in_bytes'], '/c': ['cpu.shares'] };
  const r: OciResources = { blockIO: { weight: 300, weightDevice: [{ major: 8, minor: 0, weight: 500 }] }, hugepageLimits: [{ pageSize: '2MB', limit: 1 }], cpu: { idle: 1, burst: 5 } };
  const { ops, warnings } = planOciLimits(V1_DIRS, r, { files });
  assert.equal(writes(ops), ['/b/blkio.weight=300', '/b/blkio.weight_device=8:0 500', '/h/hugetlb.2MB.limit_in_bytes=1']);
  assert.equal(warnings, ['cpu.idle: the kernel has no /c/cpu.idle (added in 5.15): ignored']);
});

test('planOciLimits v1 update: memsw first when it covers the limit in force, memory first when lowering; -1 frees both', () => {
  const files = V1_FILES;
  const up = planOciLimits(V1_DIRS, { memory: { limit: 256 * M, swap: 512 * M } }, { files, memoryLimit: 64 * M });
  assert.equal(writes(up.ops), [`/m/memory.memsw.limit_in_bytes=${512 * M}`, `/m/memory.limit_in_bytes=${256 * M}`]);
  const down = planOciLimits(V1_DIRS, { memory: { limit: 32 * M, swap: 32 * M } }, { files, memoryLimit: 64 * M });
  assert.equal(writes(down.ops), [`/m/memory.limit_in_bytes=${32 * M}`, `/m/memory.memsw.limit_in_bytes=${32 * M}`]);
  const free = planOciLimits(V1_DIRS, { memory: { limit: -1 } }, { files, memoryLimit: 64 * M });
  assert.equal(writes(free.ops), ['/m/memory.memsw.limit_in_bytes=-1', '/m/memory.limit_in_bytes=-1']);
  // An idle group's shares are the kernel's: not written (EINVAL) while idle is 1.
  assert.equal(writes(planOciLimits(V1_DIRS, { cpu: { shares: 512, idle: 1 } }, { files }).ops), ['/c/cpu.idle=1']);
  // pids: -1 is max, 0 leaves it (runtime-spec 1.2's int64 with runc 1.1's reading).
  assert.equal(writes(planOciLimits(V1_DIRS, { pids: { limit: -1 } }, { files }).ops), ['/p/pids.max=max']);
  assert.equal(writes(planOciLimits(V1_DIRS, { pids: { limit: 0 } }, { files }).ops), []);
});

// ---------------------------------------------------------------- limits, v2

const V2_DIRS = [dir(2, '/u', 'memory', 'cpu', 'cpuacct', 'cpuset', 'pids', 'blkio', 'hugetlb')];

test('planOciLimits v2: swap alone, weights converted, one io.max line per limit, what v2 lacks warned', () => {
  const files = { '/u': ['memory.max', 'memory.swap.max', 'memory.low', 'cpu.weight', 'cpu.max', 'io.weight', 'io.max', 'hugetlb.2MB.max'] };
  const { ops, warnings } = planOciLimits(V2_DIRS, FULL, { files });
  assert.equal(writes(ops), [
    `/u/memory.swap.max=${64 * M}`, `/u/memory.max=${64 * M}`, `/u/memory.low=${32 * M}`,
    '/u/cpu.idle=0', '/u/cpu.weight=59', '/u/cpu.max.burst=1000', '/u/cpu.max=20000 50000',
    '/u/cpuset.cpus=0-1', '/u/cpuset.mems=0',
    '/u/pids.max=10',
    `/u/io.weight=${blkioToIoWeight(300)}`,
    '/u/io.max=8:0 rbps=600', '/u/io.max=8:16 wiops=30',
    `/u/hugetlb.2MB.max=${4 * M}`,
  ]);
  assert.is(blkioToIoWeight(300), 2930);
  assert.equal(warnings, [
    KERNEL_MEMORY_IGNORED,
    'memory.swappiness is not supported on cgroup v2 (/u): ignored',
    'memory.disableOOMKiller is not supported on cgroup v2 (/u): ignored',
    'cpu.realtimePeriod/realtimeRuntime is not supported on cgroup v2 (/u): ignored',
    'blockIO.weightDevice needs the BFQ scheduler on cgroup v2 (no /u/io.bfq.weight): ignored',
    'blockIO leaf weights is not supported on cgroup v2 (/u): ignored',
  ]);
});

test('planOciLimits v2: BFQ\'s io.bfq.weight takes the weight as given; swap "max" skipped without swap files; swap below memory refused', () => {
  const bfq = planOciLimits(V2_DIRS, { blockIO: { weight: 300, weightDevice: [{ major: 8, minor: 0, weight: 500 }] } }, { files: { '/u': ['io.bfq.weight'] } });
  assert.equal(writes(bfq.ops), ['/u/io.bfq.weight=300', '/u/io.bfq.weight=8:0 500']);
  assert.equal(writes(planOciLimits(V2_DIRS, { memory: { limit: 64 * M, swap: -1 } }, { files: { '/u': [] } }).ops), [`/u/memory.max=${64 * M}`]);
  assert.equal(writes(planOciLimits(V2_DIRS, { cpu: { period: 50000 } }, { files: {} }).ops), ['/u/cpu.max=max 50000']);
  assert.throws(() => planOciLimits(V2_DIRS, { memory: { limit: 64 * M, swap: 32 * M } }, { files: {} }), /memory\+swap limit should be >= memory limit/);
  assert.throws(() => planOciLimits(V2_DIRS, { memory: { swap: 32 * M } }, { files: {} }), /unable to set swap limit without memory limit/);
});

test('unified: v2 files written as given, after the fields; refused where any controller is on v1 (runc\'s rule)', () => {
  const r: OciResources = { memory: { limit: 64 * M }, unified: { 'memory.high': '50000000', 'pids.max': '9' } };
  assert.equal(writes(planOciLimits(V2_DIRS, r, { files: {} }).ops), [`/u/memory.max=${64 * M}`, '/u/memory.high=50000000', '/u/pids.max=9']);
  assert.equal(missingControllers(V2_DIRS, r), []);
  const hy = planOciCgroups(hybrid(), HYBRID, { cgroupsPath: '/c', resources: { unified: { 'hugetlb.2MB.max': '1' } } }, 'id', 'hugetlb');
  assert.equal(hy.unsupported, ['linux.resources.unified (a cgroup v2 host only)']);
  assert.equal(mergeResources({ unified: { 'memory.high': '1' } }, { unified: { 'memory.low': '2' } }).unified, { 'memory.high': '1', 'memory.low': '2' });
});

test('missingControllers: names each field whose controller the container has no directory for', () => {
  assert.equal(missingControllers([dir(1, '/m', 'memory')], { memory: { limit: 1 }, cpu: { cpus: '0' }, pids: { limit: 1 } }), [
    'linux.resources.cpu.cpus/mems (no cpuset cgroup controller on this host)',
    'linux.resources.pids (no pids cgroup controller on this host)',
  ]);
  assert.equal(missingControllers([], { memory: { kernel: 1 } }), [], 'kernel memory is ignored, not needed');
});

// ---------------------------------------------------------------- update

test('mergeResources: values given replace; quota or period alone keeps the other; devices upserted; -1 memory frees swap', () => {
  const old: OciResources = { memory: { limit: 64 * M, swap: 64 * M, swappiness: 10 }, cpu: { quota: 20000, period: 50000, shares: 512 }, blockIO: { weight: 300, throttleReadBpsDevice: [{ major: 8, minor: 0, rate: 1 }] }, hugepageLimits: [{ pageSize: '2MB', limit: 1 }] };
  assert.equal(mergeResources(old, { cpu: { quota: 30000 } }).cpu, { quota: 30000, period: 50000, shares: 512 });
  assert.equal(mergeResources(old, { cpu: { period: 100000 } }).cpu, { quota: 20000, period: 100000, shares: 512 });
  assert.equal(mergeResources(old, { cpu: { quota: 10000, period: 100000 } }).cpu, { quota: 10000, period: 100000, shares: 512 });
  const b = mergeResources(old, { blockIO: { throttleReadBpsDevice: [{ major: 8, minor: 0, rate: 2 }, { major: 8, minor: 16, rate: 3 }] } }).blockIO;
  assert.equal(b, { weight: 300, throttleReadBpsDevice: [{ major: 8, minor: 0, rate: 2 }, { major: 8, minor: 16, rate: 3 }] });
  const m = mergeResources(old, { memory: { limit: -1, swappiness: 90, kernel: 5 } });
  assert.equal(m.memory, { limit: -1, swap: -1, swappiness: 10 }, 'swappiness and kernel memory are not updated (runc)');
  assert.equal(m.hugepageLimits, old.hugepageLimits);
  assert.equal(old.memory!.limit, 64 * M, 'the old value is untouched');
});

test('resourcesFromFlags: runc update\'s flags (docker\'s sizes, -1), and refusals naming the flag', () => {
  assert.equal(resourcesFromFlags({ memory: '64m', memorySwap: '-1', memoryReservation: '1g', cpuShares: '700', cpuQuota: '-1', cpusetCpus: '0', cpusetMems: '0', pidsLimit: '-1', blkioWeight: '500' }), {
    memory: { limit: 64 * M, swap: -1, reservation: 1024 * M },
    cpu: { shares: 700, quota: -1, cpus: '0', mems: '0' },
    pids: { limit: -1 },
    blockIO: { weight: 500 },
  });
  assert.equal(resourcesFromFlags({ cpuShare: '2' }), { cpu: { shares: 2 } }, 'runc\'s own spelling');
  assert.equal(resourcesFromFlags({}), {});
  assert.is(parseBytes('--memory', '1.5k'), 1536);
  assert.is(parseBytes('--memory', '64MiB'), 64 * M);
  assert.throws(() => resourcesFromFlags({ memory: 'lots' }), /invalid value for --memory: "lots"/);
  assert.throws(() => resourcesFromFlags({ blkioWeight: '5' }), /--blkio-weight/);
  assert.throws(() => resourcesFromFlags({ pidsLimit: '1.5' }), /--pids-limit/);
});

test.run();
