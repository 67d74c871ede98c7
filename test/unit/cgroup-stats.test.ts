// Unit tests for src/cgroup/stats.ts: parsing cgroup and /proc files, docker's CPU % and memory
// arithmetic, and the `docker stats` table. The v1 and /proc samples were read on a hybrid
// development host (kernel 6.18); the v2 samples follow the kernel's cgroup-v2 documentation.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  bytesSize,
  cpuPercent,
  emptyStatsRow,
  formatStatsRow,
  formatStatsTable,
  memoryUsageNoCache,
  parseBlkioV1,
  parseCounter,
  parseIoStat,
  parseKeyedCounters,
  parseLimit,
  parseMemTotal,
  parseNetDev,
  parseProcStat,
  statsRow,
  type CgroupSample,
} from '../../src/cgroup/stats.js';

// ---------------------------------------------------------------- samples (cgroup v1, this host)

const V1_MEMORY_STAT = `cache 28672
rss 1744896
rss_huge 0
shmem 0
mapped_file 0
dirty 16384
writeback 0
workingset_refault_anon 0
workingset_refault_file 0
swap 0
swapcached 0
pgpgin 20101
pgpgout 19668
pgfault 46447
pgmajfault 0
inactive_anon 1536000
active_anon 8192
inactive_file 16384
active_file 12288
unevictable 0
hierarchical_memory_limit 9223372036854771712
hierarchical_memsw_limit 9223372036854771712
total_cache 28672
total_rss 1744896
total_rss_huge 0
total_shmem 0
total_mapped_file 0
total_dirty 16384
total_writeback 0
total_workingset_refault_anon 0
total_workingset_refault_file 0
total_swap 0
total_swapcached 0
total_pgpgin 20101
total_pgpgout 19668
total_pgfault 46447
total_pgmajfault 0
total_inactive_anon 1536000
total_active_anon 8192
total_inactive_file 16384
total_active_file 12288
total_unevictable 0
`;
const V1_USAGE = '2985984\n';
const V1_NO_LIMIT = '9223372036854771712\n';
const V1_OOM_CONTROL = 'oom_kill_disable 0\nunder_oom 0\noom_kill 1\n';
/** With a throttle rule on the device: without one, this kernel leaves these counters at 0. */
const V1_BLKIO = `254:0 Read 8388608
254:0 Write 8388608
254:0 Sync 16777216
254:0 Async 0
254:0 Discard 0
254:0 Total 16777216
Total 16777216
`;
/** A busy loop under --cpus 0.5 on 2 CPUs, sampled 1 s apart: cpuacct.usage and /proc/stat. */
const CPU_A = {
  usage: '215567971\n',
  stat: `cpu  602119 0 155744 1156429 4751 0 3454 24995 0 0
cpu0 306374 0 79865 571164 2855 0 1310 12218 0 0
cpu1 295744 0 75878 585264 1896 0 2144 12777 0 0
intr 9510506 0 0 0
ctxt 20008898
btime 1700000000
`,
};
const CPU_B = {
  usage: '718575416\n',
  stat: `cpu  602247 0 155810 1156433 4751 0 3454 24995 0 0
cpu0 306453 0 79885 571166 2855 0 1310 12218 0 0
cpu1 295794 0 75925 585266 1896 0 2144 12777 0 0
intr 9510999 0 0 0
`,
};
const MEMINFO = 'MemTotal:       24684084 kB\nMemFree:        22024636 kB\nMemAvailable:   23984884 kB\n';
const NET_DEV = `Inter-|   Receive                                                |  Transmit
 face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
    lo:    6386      58    0    0    0     0          0         0     6386      58    0    0    0     0       0          0
  ifb0:       0       0    0    0    0     0          0         0        0       0    0    0    0     0       0          0
  ifb1:       0       0    0    0    0     0          0         0        0       0    0    0    0     0       0          0
  eth0: 884487953   35403    0    0    0     0          0         0  2304463   24738    0    0    0     0       0          0
`;

// ---------------------------------------------------------------- samples (cgroup v2)

const V2_MEMORY_STAT = `anon 1736704
file 1224704
kernel 466944
kernel_stack 16384
pagetables 49152
percpu 0
sock 0
shmem 0
file_mapped 536576
file_dirty 0
file_writeback 0
swapcached 0
anon_thp 0
inactive_anon 1732608
active_anon 4096
inactive_file 1003520
active_file 221184
unevictable 0
slab_reclaimable 155248
slab_unreclaimable 205936
slab 361184
pgfault 2409
pgmajfault 0
`;
const V2_CPU_STAT = `usage_usec 52301
user_usec 31270
system_usec 21031
nr_periods 12
nr_throttled 3
throttled_usec 104170
nr_bursts 0
burst_usec 0
`;
const V2_IO_STAT = `254:0 rbytes=1130496 wbytes=8388608 rios=37 wios=8 dbytes=0 dios=0
8:16 rbytes=4096 wbytes=0 rios=1 wios=0 dbytes=0 dios=0
`;
const V2_EVENTS = 'low 0\nhigh 0\nmax 41\noom 1\noom_kill 1\noom_group_kill 0\n';

const HOST_MEMORY = 24684084 * 1024;

// ---------------------------------------------------------------- parsers

test('parseKeyedCounters: memory.stat, cpu.stat, memory.events, memory.oom_control', () => {
  const v1 = parseKeyedCounters(V1_MEMORY_STAT);
  assert.is(v1['total_inactive_file'], 16384);
  assert.is(v1['rss'], 1744896);
  assert.is(parseKeyedCounters(V2_CPU_STAT)['usage_usec'], 52301);
  assert.is(parseKeyedCounters(V2_EVENTS)['oom_kill'], 1);
  assert.is(parseKeyedCounters(V1_OOM_CONTROL)['oom_kill'], 1);
  assert.equal(parseKeyedCounters('garbage\nkey notanumber\na 1 2\n'), {});
});

test('parseCounter and parseLimit', () => {
  assert.is(parseCounter(V1_USAGE), 2985984);
  assert.is(parseCounter('max\n'), undefined);
  assert.is(parseLimit('67108864\n'), 67108864);
  assert.is(parseLimit(V1_NO_LIMIT), Infinity);
  assert.is(parseLimit('max\n'), Infinity);
  assert.is(parseLimit(''), undefined);
});

test('parseBlkioV1 sums Read and Write, skipping Total lines', () => {
  assert.equal(parseBlkioV1(V1_BLKIO), { read: 8388608, write: 8388608 });
  assert.equal(parseBlkioV1('Total 0\n'), { read: 0, write: 0 });
  assert.equal(parseBlkioV1('8:0 Read 10\n8:16 Read 5\n8:16 Write 7\n'), { read: 15, write: 7 });
});

test('parseIoStat sums rbytes and wbytes over devices', () => {
  assert.equal(parseIoStat(V2_IO_STAT), { read: 1134592, write: 8388608 });
  assert.equal(parseIoStat(''), { read: 0, write: 0 });
});

test('parseNetDev excludes lo', () => {
  assert.equal(parseNetDev(NET_DEV), { rx: 884487953, tx: 2304463 });
  assert.equal(parseNetDev(NET_DEV.split('\n').slice(0, 3).join('\n')), { rx: 0, tx: 0 });
});

test('parseProcStat: first seven fields of cpu, in ns; cpuN lines counted', () => {
  const s = parseProcStat(CPU_A.stat);
  assert.is(s.onlineCpus, 2);
  assert.is(s.systemNs, (602119 + 155744 + 1156429 + 4751 + 3454) * 1e7);
});

test('parseMemTotal', () => {
  assert.is(parseMemTotal(MEMINFO), HOST_MEMORY);
  assert.is(parseMemTotal('nothing'), undefined);
});

// ---------------------------------------------------------------- docker's arithmetic

test('memory usage without the inactive file cache: v1 total_inactive_file, v2 inactive_file', () => {
  const v1: CgroupSample = { memoryVersion: 1, memoryUsage: parseCounter(V1_USAGE), memoryStat: parseKeyedCounters(V1_MEMORY_STAT) };
  assert.is(memoryUsageNoCache(v1), 2985984 - 16384);
  const v2: CgroupSample = { memoryVersion: 2, memoryUsage: 3489792, memoryStat: parseKeyedCounters(V2_MEMORY_STAT) };
  assert.is(memoryUsageNoCache(v2), 3489792 - 1003520);
  // more inactive file than usage (racing reads): usage as is
  assert.is(memoryUsageNoCache({ memoryVersion: 2, memoryUsage: 100, memoryStat: { inactive_file: 200 } }), 100);
  assert.is(memoryUsageNoCache({}), 0);
});

test('CPU %: the busy loop at --cpus 0.5 reads about 50%', () => {
  const a = { cpuNs: parseCounter(CPU_A.usage), ...parseProcStat(CPU_A.stat) };
  const b = { cpuNs: parseCounter(CPU_B.usage), ...parseProcStat(CPU_B.stat) };
  assert.is(cpuPercent(a, b).toFixed(2), '50.81');
  // v2 counts microseconds
  assert.is(parseKeyedCounters(V2_CPU_STAT)['usage_usec']! * 1000, 52301000);
  assert.is(cpuPercent(undefined, b), 0);
  assert.is(cpuPercent(b, b), 0);
});

// ---------------------------------------------------------------- formatting

test('bytesSize: go-units BytesSize (%.4g, binary units)', () => {
  const table: Array<[number, string]> = [
    [0, '0B'],
    [1023, '1023B'],
    [1024, '1KiB'],
    [1536 * 1024, '1.5MiB'],
    [64 * 1024 * 1024, '64MiB'],
    [2969600, '2.832MiB'],
    [HOST_MEMORY, '23.54GiB'],
    [1023.99 * 1024, '1024KiB'],
  ];
  for (const [n, s] of table) assert.is(bytesSize(n), s, String(n));
});

test('a v1 row: no limit shows the host memory', () => {
  const sample = {
    memoryVersion: 1 as const,
    memoryUsage: parseCounter(V1_USAGE),
    memoryStat: parseKeyedCounters(V1_MEMORY_STAT),
    memoryLimit: parseLimit(V1_NO_LIMIT),
    cpuNs: parseCounter(CPU_B.usage),
    pids: 3,
    ...parseBlkioV1(V1_BLKIO),
    ...parseProcStat(CPU_B.stat),
  };
  const { read, write, ...rest } = sample;
  const cur = { ...rest, blockRead: read, blockWrite: write };
  const prev = { cpuNs: parseCounter(CPU_A.usage), ...parseProcStat(CPU_A.stat) };
  const row = statsRow({ id: '4f3c2a1b0e9d8c7b6a5f', name: 'web' }, prev, cur, parseNetDev(NET_DEV), HOST_MEMORY);
  assert.is(row.memLimit, HOST_MEMORY);
  assert.equal(formatStatsRow(row), ['4f3c2a1b0e9d', 'web', '50.81%', '2.832MiB / 23.54GiB', '0.01%', '884MB / 2.3MB', '8.39MB / 8.39MB', '3']);
});

test('a v2 row with a 64 MiB limit', () => {
  const cur = {
    memoryVersion: 2 as const,
    memoryUsage: 3489792,
    memoryStat: parseKeyedCounters(V2_MEMORY_STAT),
    memoryLimit: parseLimit('67108864\n'),
    cpuNs: parseKeyedCounters(V2_CPU_STAT)['usage_usec']! * 1000,
    pids: 1,
    systemNs: 0,
    onlineCpus: 2,
  };
  const row = statsRow({ id: 'abc', name: '/db' }, undefined, { ...cur, blockRead: 1134592, blockWrite: 8388608 }, { rx: 916, tx: 0 }, HOST_MEMORY);
  assert.equal(formatStatsRow(row), ['abc', 'db', '0.00%', '2.371MiB / 64MiB', '3.70%', '916B / 0B', '1.13MB / 8.39MB', '1']);
});

test('a container without a memory controller shows 0B limits and 0.00%', () => {
  const row = statsRow({ id: 'x', name: 'x' }, undefined, { systemNs: 1, onlineCpus: 1 }, { rx: 0, tx: 0 }, HOST_MEMORY);
  assert.equal(formatStatsRow(row).slice(2), ['0.00%', '0B / 0B', '0.00%', '0B / 0B', '0B / 0B', '0']);
});

test('formatStatsTable: docker\'s header and tabwriter layout', () => {
  const rows = [
    { ...emptyStatsRow({ id: 'b95a83497c9161c2', name: 'awesome_brattain' }), cpuPercent: 0.28, memUsage: 5.629 * 1024 * 1024, memLimit: 1.952 * 1024 ** 3, memPercent: 0.28, netRx: 916, blockRead: 147000, pids: 9 },
    emptyStatsRow({ id: '5a7b1e2c3d4f', name: 'db' }),
  ];
  assert.is(
    formatStatsTable(rows),
    [
      'CONTAINER ID   NAME               CPU %     MEM USAGE / LIMIT     MEM %     NET I/O     BLOCK I/O    PIDS',
      'b95a83497c91   awesome_brattain   0.28%     5.629MiB / 1.952GiB   0.28%     916B / 0B   147kB / 0B   9',
      '5a7b1e2c3d4f   db                 0.00%     0B / 0B               0.00%     0B / 0B     0B / 0B      0',
      '',
    ].join('\n'),
  );
});

test.run();
