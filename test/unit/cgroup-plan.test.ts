// Unit tests for src/cgroup/layout.ts, src/cgroup/plan.ts and src/runtime/run-cgroup.ts: finding
// each controller on v1, hybrid and v2 hosts, the directories, and a run's limits as written.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { MinidockError } from '../../src/core/errors.js';
import { hierarchyOf, parseCgroupLayout, parseCgroupMounts, parseSelfCgroup, type CgroupLayout } from '../../src/cgroup/layout.js';
import { type CgroupOp, dirOf, planCgroup, sharesToWeight } from '../../src/cgroup/plan.js';
import { planOciCgroups, planOciLimits, type OciCgroups } from '../../src/oci/cgroups.js';
import { ociCgroupFields } from '../../src/oci/from-spec.js';
import { hostResources, planRunCgroupsOn } from '../../src/runtime/run-cgroup.js';
import type { Resources } from '../../src/spec/resources.js';

const M = 1024 * 1024;

// ---------------------------------------------------------------- fixtures

/** This machine (hybrid): v1 controllers each on their own hierarchy, an empty cgroup2 at
 *  /sys/fs/cgroup/unified, and the runtime itself in a non-root memory cgroup. */
const HYBRID_MOUNTINFO = `22 1 254:0 / / rw,relatime - ext4 /dev/vda rw,discard
31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct
34 31 0:31 / /sys/fs/cgroup/cpuset rw,relatime - cgroup cgroup rw,cpuset
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
36 31 0:33 / /sys/fs/cgroup/devices rw,relatime - cgroup cgroup rw,devices
37 31 0:34 / /sys/fs/cgroup/freezer rw,relatime - cgroup cgroup rw,freezer
38 31 0:35 / /sys/fs/cgroup/blkio rw,relatime - cgroup cgroup rw,blkio
39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids
40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
`;
const HYBRID_SELF = `9:name=systemd:/
8:pids:/
7:blkio:/
6:freezer:/
5:devices:/
4:memory:/process_api/a76cb9bea3fe4112c99dad5e44459bb2
3:cpuset:/
2:cpuacct:/
1:cpu:/
0::/
`;

/** A classic v1 host (CentOS 7 / Debian 10 shape): cpu and cpuacct co-mounted, no cgroup2. */
const V1_MOUNTINFO = `25 18 0:22 / /sys/fs/cgroup ro,nosuid,nodev,noexec shared:9 - tmpfs tmpfs ro,mode=755
26 25 0:23 / /sys/fs/cgroup/systemd rw,nosuid,nodev,noexec,relatime shared:10 - cgroup cgroup rw,xattr,release_agent=/usr/lib/systemd/systemd-cgroups-agent,name=systemd
29 25 0:26 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid,nodev,noexec,relatime shared:14 - cgroup cgroup rw,cpu,cpuacct
30 25 0:27 / /sys/fs/cgroup/memory rw,nosuid,nodev,noexec,relatime shared:15 - cgroup cgroup rw,memory
31 25 0:28 / /sys/fs/cgroup/cpuset rw,nosuid,nodev,noexec,relatime shared:16 - cgroup cgroup rw,cpuset
32 25 0:29 / /sys/fs/cgroup/pids rw,nosuid,nodev,noexec,relatime shared:17 - cgroup cgroup rw,pids
33 25 0:30 / /sys/fs/cgroup/blkio rw,nosuid,nodev,noexec,relatime shared:18 - cgroup cgroup rw,blkio
34 25 0:31 / /sys/fs/cgroup/devices rw,nosuid,nodev,noexec,relatime shared:19 - cgroup cgroup rw,devices
`;
const V1_SELF = `11:pids:/user.slice/user-0.slice/session-1.scope
7:blkio:/user.slice
6:memory:/user.slice
5:cpuset:/
4:cpu,cpuacct:/user.slice
2:devices:/user.slice
1:name=systemd:/user.slice/user-0.slice/session-1.scope
`;

/** A unified host (Debian 12, systemd). */
const V2_MOUNTINFO = `25 21 0:22 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot
`;
const V2_SELF = '0::/user.slice/user-0.slice/session-3.scope\n';
const V2_CONTROLLERS = 'cpuset cpu io memory hugetlb pids rdma misc\n';

const hybrid = (): CgroupLayout => ({ ...parseCgroupLayout(HYBRID_MOUNTINFO, HYBRID_SELF, 'hugetlb\n'), swapAccounting: true });
const v1 = (): CgroupLayout => ({ ...parseCgroupLayout(V1_MOUNTINFO, V1_SELF), swapAccounting: true });
const v2 = (): CgroupLayout => parseCgroupLayout(V2_MOUNTINFO, V2_SELF, V2_CONTROLLERS);

const FULL: Resources = {
  memory: 64 * M,
  memorySwap: 128 * M,
  nanoCpus: 500_000_000,
  cpuShares: 512,
  cpusetCpus: '0',
  pidsLimit: 100,
};

const writes = (ops: CgroupOp[]): string[] => ops.filter((o) => o.op === 'write').map((o) => `${(o as { file: string }).file}=${(o as { value: string }).value}`);
const describe = (ops: CgroupOp[]): string[] =>
  ops.map((o) => (o.op === 'mkdir' ? `mkdir ${o.path}` : o.op === 'inherit' ? `inherit ${o.file} < ${o.from}` : `${o.file}=${o.value}`));

// ---------------------------------------------------------------- layout

test('layout: hybrid (this machine)', () => {
  const l = hybrid();
  assert.is(l.mode, 'hybrid');
  assert.equal(
    l.hierarchies.map((h) => [h.version, h.mount, h.controllers.join(',')]),
    [
      [1, '/sys/fs/cgroup/cpu', 'cpu'],
      [1, '/sys/fs/cgroup/cpuacct', 'cpuacct'],
      [1, '/sys/fs/cgroup/cpuset', 'cpuset'],
      [1, '/sys/fs/cgroup/memory', 'memory'],
      [1, '/sys/fs/cgroup/blkio', 'blkio'],
      [1, '/sys/fs/cgroup/pids', 'pids'],
      // hugetlb is all cgroup2 offers; cpuacct is taken by v1
      [2, '/sys/fs/cgroup/unified', ''],
    ],
  );
  assert.is(hierarchyOf(l, 'memory')?.self, '/process_api/a76cb9bea3fe4112c99dad5e44459bb2');
  assert.is(hierarchyOf(l, 'cpu')?.self, '/');
  assert.is(l.hierarchies[6]?.self, '/');
});

test('layout: v1 with co-mounted cpu,cpuacct', () => {
  const l = parseCgroupLayout(V1_MOUNTINFO, V1_SELF);
  assert.is(l.mode, 'v1');
  assert.equal(l.hierarchies.map((h) => [h.mount, h.controllers.join(',')]), [
    ['/sys/fs/cgroup/cpu,cpuacct', 'cpu,cpuacct'],
    ['/sys/fs/cgroup/memory', 'memory'],
    ['/sys/fs/cgroup/cpuset', 'cpuset'],
    ['/sys/fs/cgroup/pids', 'pids'],
    ['/sys/fs/cgroup/blkio', 'blkio'],
  ]);
  assert.is(hierarchyOf(l, 'cpuacct'), hierarchyOf(l, 'cpu'));
  assert.is(hierarchyOf(l, 'cpu')?.self, '/user.slice');
  assert.is(hierarchyOf(l, 'pids')?.self, '/user.slice/user-0.slice/session-1.scope');
});

test('layout: v2, controllers from cgroup.controllers', () => {
  const l = v2();
  assert.is(l.mode, 'v2');
  assert.equal(l.hierarchies, [
    {
      version: 2,
      mount: '/sys/fs/cgroup',
      root: '/',
      self: '/user.slice/user-0.slice/session-3.scope',
      controllers: ['memory', 'cpu', 'cpuacct', 'cpuset', 'pids', 'blkio'],
    },
  ]);
  // a v2 host whose root offers only some controllers
  const some = parseCgroupLayout(V2_MOUNTINFO, V2_SELF, 'memory pids\n');
  assert.equal(some.hierarchies[0]?.controllers, ['memory', 'cpuacct', 'pids']);
  assert.is(hierarchyOf(some, 'cpu'), undefined);
});

test('layout: no cgroups at all', () => {
  assert.equal(parseCgroupLayout('22 1 254:0 / / rw - ext4 /dev/vda rw\n', ''), { mode: 'none', hierarchies: [] });
});

test('layout: a hierarchy mounted twice is used once, preferring the whole tree', () => {
  const info = `50 31 0:32 /docker/abc /sys/fs/cgroup/memory ro - cgroup cgroup rw,memory
51 31 0:32 / /mnt/memory rw - cgroup cgroup rw,memory
`;
  const l = parseCgroupLayout(info, '4:memory:/docker/abc\n');
  assert.equal(l.hierarchies, [{ version: 1, mount: '/mnt/memory', root: '/', self: '/docker/abc', controllers: ['memory'] }]);
});

test('layout: mount points with escaped characters', () => {
  const [m] = parseCgroupMounts('60 1 0:40 / /tmp/my\\040cgroups rw - cgroup2 cgroup2 rw\n');
  assert.is(m?.mount, '/tmp/my cgroups');
});

test('layout: a named v1 hierarchy alone does not make a host hybrid', () => {
  const info = `40 31 0:37 / /sys/fs/cgroup/systemd rw - cgroup cgroup rw,xattr,name=systemd
41 31 0:38 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw
`;
  assert.is(parseCgroupLayout(info, '', 'memory').mode, 'v2');
});

test('parseSelfCgroup', () => {
  assert.equal(parseSelfCgroup('4:cpu,cpuacct:/a\n1:name=systemd:/b\n0::/c\n'), { cpu: '/a', cpuacct: '/a', 'name=systemd': '/b', '': '/c' });
});

// ---------------------------------------------------------------- sharesToWeight

test('sharesToWeight: runc >= 1.3 / crun >= 1.23 quadratic', () => {
  const table: Array<[number, number]> = [[0, 0], [1, 1], [2, 1], [3, 2], [10, 4], [100, 17], [512, 59], [1024, 100], [2048, 174], [262143, 10000], [262144, 10000]];
  for (const [shares, weight] of table) assert.is(sharesToWeight(shares), weight, `shares ${shares}`);
});

// ---------------------------------------------------------------- planCgroup: the directories

test('plan v1: one directory per hierarchy, made top-down, cpuset copied from the parent', () => {
  const p = planCgroup(v1(), 'minidock', 'abc123');
  assert.equal(p.dirs.map((d) => [d.path, d.controllers.join(',')]), [
    ['/sys/fs/cgroup/cpu,cpuacct/minidock/abc123', 'cpu,cpuacct'],
    ['/sys/fs/cgroup/memory/minidock/abc123', 'memory'],
    ['/sys/fs/cgroup/cpuset/minidock/abc123', 'cpuset'],
    ['/sys/fs/cgroup/pids/minidock/abc123', 'pids'],
    ['/sys/fs/cgroup/blkio/minidock/abc123', 'blkio'],
  ]);
  assert.equal(describe(p.ops), [
    'mkdir /sys/fs/cgroup/cpu,cpuacct/minidock',
    'mkdir /sys/fs/cgroup/cpu,cpuacct/minidock/abc123',
    'mkdir /sys/fs/cgroup/memory/minidock',
    'mkdir /sys/fs/cgroup/memory/minidock/abc123',
    'mkdir /sys/fs/cgroup/cpuset/minidock',
    'inherit /sys/fs/cgroup/cpuset/minidock/cpuset.cpus < /sys/fs/cgroup/cpuset/cpuset.cpus',
    'inherit /sys/fs/cgroup/cpuset/minidock/cpuset.mems < /sys/fs/cgroup/cpuset/cpuset.mems',
    'mkdir /sys/fs/cgroup/cpuset/minidock/abc123',
    'inherit /sys/fs/cgroup/cpuset/minidock/abc123/cpuset.cpus < /sys/fs/cgroup/cpuset/minidock/cpuset.cpus',
    'inherit /sys/fs/cgroup/cpuset/minidock/abc123/cpuset.mems < /sys/fs/cgroup/cpuset/minidock/cpuset.mems',
    'mkdir /sys/fs/cgroup/pids/minidock',
    'mkdir /sys/fs/cgroup/pids/minidock/abc123',
    'mkdir /sys/fs/cgroup/blkio/minidock',
    'mkdir /sys/fs/cgroup/blkio/minidock/abc123',
  ]);
  assert.equal(p.procs, p.dirs.map((d) => `${d.path}/cgroup.procs`));
});

test('plan hybrid (this machine): v1 directories, plus a bare cgroup2 one', () => {
  const p = planCgroup(hybrid(), 'minidock', 'c1');
  assert.equal(p.dirs.map((d) => [d.version, d.path]), [
    [1, '/sys/fs/cgroup/cpu/minidock/c1'],
    [1, '/sys/fs/cgroup/cpuacct/minidock/c1'],
    [1, '/sys/fs/cgroup/cpuset/minidock/c1'],
    [1, '/sys/fs/cgroup/memory/minidock/c1'],
    [1, '/sys/fs/cgroup/blkio/minidock/c1'],
    [1, '/sys/fs/cgroup/pids/minidock/c1'],
    [2, '/sys/fs/cgroup/unified/minidock/c1'],
  ]);
  // the cgroup2 directory gets no subtree_control writes: none of ours live there
  assert.not.ok(p.ops.some((o) => o.op === 'write' && o.file.includes('subtree_control')));
  assert.ok(p.ops.some((o) => o.op === 'mkdir' && o.path === '/sys/fs/cgroup/unified/minidock/c1'));
  assert.is(p.procs.length, 7);
  assert.is(dirOf(p.dirs, 'cpuacct')?.path, '/sys/fs/cgroup/cpuacct/minidock/c1');
});

test('plan v2: controllers enabled top-down, at every level of a nested parent', () => {
  const p = planCgroup(v2(), 'minidock', 'c2');
  assert.equal(p.dirs, [
    { version: 2, path: '/sys/fs/cgroup/minidock/c2', controllers: ['memory', 'cpu', 'cpuacct', 'cpuset', 'pids', 'blkio'] },
  ]);
  const enable = (dir: string) => ['memory', 'cpu', 'cpuset', 'pids', 'io'].map((c) => `${dir}/cgroup.subtree_control=+${c}`);
  assert.equal(describe(p.ops), [...enable('/sys/fs/cgroup'), 'mkdir /sys/fs/cgroup/minidock', ...enable('/sys/fs/cgroup/minidock'), 'mkdir /sys/fs/cgroup/minidock/c2']);
  assert.equal(p.procs, ['/sys/fs/cgroup/minidock/c2/cgroup.procs']);
  assert.equal(describe(planCgroup(parseCgroupLayout(V2_MOUNTINFO, V2_SELF, 'memory'), '/a/b/', 'c').ops), [
    '/sys/fs/cgroup/cgroup.subtree_control=+memory',
    'mkdir /sys/fs/cgroup/a',
    '/sys/fs/cgroup/a/cgroup.subtree_control=+memory',
    'mkdir /sys/fs/cgroup/a/b',
    '/sys/fs/cgroup/a/b/cgroup.subtree_control=+memory',
    'mkdir /sys/fs/cgroup/a/b/c',
  ]);
});

test('plan: a bad parent or id is refused', () => {
  for (const parent of ['', '/', '..', 'a/../..', '../x']) {
    assert.throws(() => planCgroup(v2(), parent, 'x'), /invalid cgroup parent/, parent);
  }
  for (const id of ['', '../x', 'a/b', '.hidden']) assert.throws(() => planCgroup(v2(), 'minidock', id), /invalid cgroup name/, id);
});

// ---------------------------------------------------------------- a run's cgroups (run-cgroup.ts)
// docker's flags → linux.resources (from-spec.ts) → minidock-runc's planOciCgroups and
// planOciLimits: the same planner and writer a bundle's config gets.

/** What a new container's directories show (no swap accounting missing, CFQ gone). */
const FRESH_V1 = ['memory.limit_in_bytes', 'memory.memsw.limit_in_bytes', 'cpu.shares', 'cpu.cfs_period_us', 'cpu.cfs_quota_us', 'cpuset.cpus', 'pids.max'];
const limits = (cg: OciCgroups, files = FRESH_V1, memoryLimit?: number): string[] => {
  const facts = { files: Object.fromEntries(cg.plan.dirs.map((d) => [d.path, files])), ...(memoryLimit !== undefined ? { memoryLimit } : {}) };
  return writes(planOciLimits(cg.plan.dirs, cg.resources, facts).ops);
};

test("run v1: docker's limits as runc writes them, devices and freezer joined as runc joins them", () => {
  const cg = planRunCgroupsOn(v1(), V1_MOUNTINFO, { id: 'abc123', resources: FULL }, 'minidock');
  assert.equal(limits(cg, FRESH_V1, 2 ** 63 - 4096), [
    // memory before memsw: memsw >= memory must hold after every write
    '/sys/fs/cgroup/memory/minidock/abc123/memory.limit_in_bytes=67108864',
    '/sys/fs/cgroup/memory/minidock/abc123/memory.memsw.limit_in_bytes=134217728',
    '/sys/fs/cgroup/cpu,cpuacct/minidock/abc123/cpu.shares=512',
    '/sys/fs/cgroup/cpu,cpuacct/minidock/abc123/cpu.cfs_period_us=100000',
    '/sys/fs/cgroup/cpu,cpuacct/minidock/abc123/cpu.cfs_quota_us=50000',
    '/sys/fs/cgroup/cpu,cpuacct/minidock/abc123/cpu.cfs_period_us=100000',
    '/sys/fs/cgroup/cpuset/minidock/abc123/cpuset.cpus=0',
    '/sys/fs/cgroup/pids/minidock/abc123/pids.max=100',
  ]);
  // The device cgroup (V1_MOUNTINFO has devices, not freezer): docker's deny-all and defaults.
  const dev = writes(cg.plan.ops).filter((w) => w.includes('/devices/'));
  assert.equal(dev[0], '/sys/fs/cgroup/devices/minidock/abc123/devices.deny=a');
  assert.ok(dev.includes('/sys/fs/cgroup/devices/minidock/abc123/devices.allow=c 1:3 rwm'));
  assert.ok(cg.plan.procs.includes('/sys/fs/cgroup/devices/minidock/abc123/cgroup.procs'));
  assert.equal(cg.unsupported, []);
  // No limits: nothing written but the directories and device rules.
  assert.equal(limits(planRunCgroupsOn(v1(), V1_MOUNTINFO, { id: 'x', resources: {} }, 'minidock')), []);
});

test('run: --cpus truncates like docker\'s integer arithmetic; pids <= 0 is "max"', () => {
  const cg = planRunCgroupsOn(v1(), V1_MOUNTINFO, { id: 'x', resources: { nanoCpus: 10_000_100, pidsLimit: -1 } }, 'minidock');
  assert.ok(limits(cg).includes('/sys/fs/cgroup/cpu,cpuacct/minidock/x/cpu.cfs_quota_us=1000'));
  assert.ok(limits(cg).includes('/sys/fs/cgroup/pids/minidock/x/pids.max=max'));
});

test('run hybrid (this machine): the same v1 writes; the cgroup2 directory holds nothing of them', () => {
  const cg = planRunCgroupsOn(hybrid(), HYBRID_MOUNTINFO, { id: 'c1', resources: FULL }, 'minidock');
  assert.ok(cg.plan.dirs.some((d) => d.version === 2 && d.path === '/sys/fs/cgroup/unified/minidock/c1'));
  assert.ok(cg.plan.dirs.some((d) => d.path === '/sys/fs/cgroup/freezer/minidock/c1'), 'freezer, for pause');
  assert.not.ok(limits(cg).some((w) => w.includes('/unified/')));
  assert.ok(limits(cg).includes('/sys/fs/cgroup/memory/minidock/c1/memory.memsw.limit_in_bytes=134217728'));
});

test('run v2: v2 files; swap alone; no device rules (v2 has no devices controller)', () => {
  const cg = planRunCgroupsOn(v2(), V2_MOUNTINFO, { id: 'c2', resources: FULL }, 'minidock');
  assert.equal(limits(cg, ['memory.swap.max']), [
    // v2 limits swap alone: memory+swap - memory
    '/sys/fs/cgroup/minidock/c2/memory.swap.max=67108864',
    '/sys/fs/cgroup/minidock/c2/memory.max=67108864',
    '/sys/fs/cgroup/minidock/c2/cpu.weight=59',
    '/sys/fs/cgroup/minidock/c2/cpu.max=50000 100000',
    '/sys/fs/cgroup/minidock/c2/cpuset.cpus=0',
    '/sys/fs/cgroup/minidock/c2/pids.max=100',
  ]);
  assert.not.ok(cg.plan.ops.some((o) => o.op === 'write' && o.file.includes('devices')));
  const swap = (r: Resources, files: string[] = ['memory.swap.max']) => limits(planRunCgroupsOn(v2(), V2_MOUNTINFO, { id: 'x', resources: r }, 'minidock'), files).filter((w) => w.includes('swap'));
  assert.equal(swap({ memory: 64 * M, memorySwap: 64 * M }), ['/sys/fs/cgroup/minidock/x/memory.swap.max=0']);
  assert.equal(swap({ memory: 64 * M, memorySwap: -1 }), ['/sys/fs/cgroup/minidock/x/memory.swap.max=max']);
  assert.equal(swap({ memory: 64 * M }), []);
  // A kernel without swap files: "max" and "0" need no file, as runc's fs2 skips them.
  assert.equal(swap({ memory: 64 * M, memorySwap: -1 }, []), []);
});

test("hostResources: limits the host cannot apply are dropped with docker's warnings; --cpus is an error", () => {
  const onlyMemory = parseCgroupLayout(V2_MOUNTINFO, V2_SELF, 'memory');
  const r = hostResources(onlyMemory, { memory: 64 * M, cpuShares: 512, cpusetCpus: '0', pidsLimit: 10 });
  assert.equal(r.resources, { memory: 64 * M });
  assert.equal(r.warnings, [
    'Your kernel does not support CPU shares or the cgroup is not mounted. Shares discarded.',
    'Your kernel does not support cpuset or the cgroup is not mounted. Cpuset discarded.',
    'Your kernel does not support PIDs limit capabilities or the cgroup is not mounted. PIDs limit discarded.',
  ]);
  assert.throws(
    () => hostResources(onlyMemory, { nanoCpus: 1e9 }),
    (e: unknown) => e instanceof MinidockError && e.message.startsWith('NanoCPUs can not be set') && e.exitCode === 125,
  );
  assert.equal(hostResources(parseCgroupLayout('', ''), { memory: 64 * M, memorySwap: 128 * M }), {
    resources: {},
    warnings: ['Your kernel does not support memory limit capabilities or the cgroup is not mounted. Limitation discarded.'],
  });
  // v1 without swap accounting: memory alone.
  assert.equal(hostResources({ ...v1(), swapAccounting: false }, { memory: 64 * M, memorySwap: 128 * M }), {
    resources: { memory: 64 * M },
    warnings: ['Your kernel does not support swap limit capabilities or the cgroup is not mounted. Memory limited without swap.'],
  });
  assert.equal(hostResources(v1(), FULL), { resources: FULL, warnings: [] });
});

test('update v1: raising memory writes memsw first, lowering writes memory first (the limit in force decides)', () => {
  const mem = (r: Resources, now: number) => limits(planRunCgroupsOn(v1(), V1_MOUNTINFO, { id: 'u', resources: r }, 'minidock'), FRESH_V1, now).filter((w) => w.includes('/memory/'));
  assert.equal(mem({ memory: 128 * M, memorySwap: 256 * M }, 64 * M), [
    '/sys/fs/cgroup/memory/minidock/u/memory.memsw.limit_in_bytes=268435456',
    '/sys/fs/cgroup/memory/minidock/u/memory.limit_in_bytes=134217728',
  ]);
  assert.equal(mem({ memory: 32 * M, memorySwap: 32 * M }, 128 * M), [
    '/sys/fs/cgroup/memory/minidock/u/memory.limit_in_bytes=33554432',
    '/sys/fs/cgroup/memory/minidock/u/memory.memsw.limit_in_bytes=33554432',
  ]);
  assert.equal(mem({ memory: 32 * M, memorySwap: -1 }, 128 * M), [
    '/sys/fs/cgroup/memory/minidock/u/memory.memsw.limit_in_bytes=-1',
    '/sys/fs/cgroup/memory/minidock/u/memory.limit_in_bytes=33554432',
  ]);
});

test('a run\'s cgroups are its config\'s: planOciCgroups over ociConfigFor\'s linux gives the same plan', () => {
  const cg = planRunCgroupsOn(hybrid(), HYBRID_MOUNTINFO, { id: 'c1', resources: FULL }, 'minidock');
  const fields = ociCgroupFields({ id: 'c1', resources: FULL }, 'minidock');
  assert.equal(planOciCgroups(hybrid(), HYBRID_MOUNTINFO, fields, 'c1'), cg);
  assert.is(fields.cgroupsPath, '/minidock/c1');
});

test('plans are plain data (stored in the container state as JSON)', () => {
  const p = planRunCgroupsOn(hybrid(), HYBRID_MOUNTINFO, { id: 'c1', resources: FULL }, 'minidock').plan;
  assert.equal(JSON.parse(JSON.stringify(p)), p);
});

test.run();
