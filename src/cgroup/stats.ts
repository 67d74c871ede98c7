// `minidock stats`: parsing the cgroup and /proc files, docker's arithmetic, and docker's
// table. Pure: src/cgroup/fs.ts reads the files.
//
// The numbers are the ones `docker stats` shows, computed as its CLI does:
//   CPU %        (Δ container CPU time / Δ host CPU time) × online CPUs × 100, between two
//                samples; host CPU time is the first seven fields of /proc/stat's `cpu` line
//                (user..softirq), in ticks of 1/100 s, as docker's collector reads it
//   MEM USAGE    usage minus the inactive file cache (v1: total_inactive_file of memory.stat,
//                v2: inactive_file), docker >= 19.03, the number cadvisor and the CRI also use
//   LIMIT        the cgroup's limit, or the host's memory when that is smaller (no limit: v1
//                reads 9223372036854771712, v2 reads "max")
//   NET I/O      bytes received / sent on the container's interfaces but lo
//   BLOCK I/O    bytes read / written to block devices (v1 blkio.throttle.io_service_bytes_recursive,
//                v2 io.stat rbytes/wbytes), page cache hits not included
//   PIDS         pids.current

import { formatG, humanSize, renderTable } from '../runtime/format.js';

/** One reading of a container's cgroup counters; a field is missing when its controller is. */
export interface CgroupSample {
  /** The memory controller's cgroup version, which decides what "cache" means. */
  memoryVersion?: 1 | 2;
  /** Total CPU time used, nanoseconds. */
  cpuNs?: number;
  /** memory.usage_in_bytes (v1) or memory.current (v2). */
  memoryUsage?: number;
  memoryStat?: Record<string, number>;
  /** Infinity when unlimited. */
  memoryLimit?: number;
  pids?: number;
  blockRead?: number;
  blockWrite?: number;
}

/** The host's side of a sample: /proc/stat. */
export interface SystemSample {
  /** Host CPU time, nanoseconds (docker's SystemUsage). */
  systemNs: number;
  /** `cpuN` lines in /proc/stat. */
  onlineCpus: number;
}

/** Values from cgroup files at or above this are "no limit": v1 writes PAGE_COUNTER_MAX pages
 *  (9223372036854771712 with 4 KiB pages), and no machine has 4 EiB. */
const UNLIMITED_FLOOR = 2 ** 62;
/** USER_HZ: /proc/stat counts in 1/100 s on every Linux architecture. */
const CLOCK_TICKS = 100;

/** "key value" lines (memory.stat, cpu.stat, memory.events, memory.oom_control). */
export function parseKeyedCounters(text: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of text.split('\n')) {
    const [key, value, extra] = line.trim().split(/\s+/);
    if (key && value !== undefined && extra === undefined && /^[0-9]+$/.test(value)) out[key] = Number(value);
  }
  return out;
}

/** A single number file (memory.current, pids.current, cpuacct.usage). */
export function parseCounter(text: string): number | undefined {
  const t = text.trim();
  return /^[0-9]+$/.test(t) ? Number(t) : undefined;
}

/** A limit file: v2 "max" and v1's huge sentinel are Infinity. */
export function parseLimit(text: string): number | undefined {
  const t = text.trim();
  if (t === 'max') return Infinity;
  const n = parseCounter(t);
  return n === undefined ? undefined : n >= UNLIMITED_FLOOR ? Infinity : n;
}

/** Sums the read and write bytes of an I/O file; `pairs` gives each line's (key, value)
 *  pairs, `keys` the read and the write key. */
function sumIo(text: string, pairs: (fields: string[]) => string[][], keys: [string, string]): { read: number; write: number } {
  const sum = { read: 0, write: 0 };
  for (const line of text.split('\n')) {
    for (const [k, v] of pairs(line.trim().split(/\s+/))) {
      if (k === keys[0]) sum.read += Number(v);
      else if (k === keys[1]) sum.write += Number(v);
    }
  }
  return sum;
}

/** v1 blkio.*io_service_bytes*: `MAJ:MIN Op bytes` lines and a `Total bytes` line; docker
 *  sums every device's Read and Write. */
export function parseBlkioV1(text: string): { read: number; write: number } {
  return sumIo(text, ([dev, op, value]) => (dev?.includes(':') && value !== undefined ? [[op as string, value]] : []), ['Read', 'Write']);
}

/** v2 io.stat: `MAJ:MIN rbytes=N wbytes=N rios=N ...` per device. */
export function parseIoStat(text: string): { read: number; write: number } {
  return sumIo(text, (fields) => fields.slice(1).map((f) => f.split('=')), ['rbytes', 'wbytes']);
}

/** /proc/PID/net/dev: bytes received and sent, summed over every interface but lo. */
export function parseNetDev(text: string): { rx: number; tx: number } {
  let rx = 0;
  let tx = 0;
  for (const line of text.split('\n')) {
    const colon = line.indexOf(':');
    // The two header lines have `|` where a data line has `name:`.
    if (colon < 0 || line.includes('|')) continue;
    if (line.slice(0, colon).trim() === 'lo') continue;
    const f = line.slice(colon + 1).trim().split(/\s+/);
    // 8 receive columns (bytes first), then 8 transmit columns (bytes first).
    rx += Number(f[0] ?? 0);
    tx += Number(f[8] ?? 0);
  }
  return { rx, tx };
}

/** /proc/stat as docker's collector reads it. */
export function parseProcStat(text: string): SystemSample {
  let systemNs = 0;
  let onlineCpus = 0;
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f[0] === 'cpu') {
      const ticks = f.slice(1, 8).reduce((sum, v) => sum + Number(v), 0);
      systemNs = (ticks * 1e9) / CLOCK_TICKS;
    } else if (/^cpu[0-9]+$/.test(f[0] ?? '')) {
      onlineCpus++;
    }
  }
  return { systemNs, onlineCpus };
}

/** /proc/meminfo MemTotal in bytes: the LIMIT shown when the container has none. */
export function parseMemTotal(text: string): number | undefined {
  const m = /^MemTotal:\s+([0-9]+) kB$/m.exec(text);
  return m ? Number(m[1]) * 1024 : undefined;
}

/** docker's calculateMemUsageUnixNoCache: usage minus the inactive file cache, which the
 *  kernel reclaims first and which is not the container's "own" memory. */
export function memoryUsageNoCache(s: CgroupSample): number {
  const usage = s.memoryUsage ?? 0;
  const stat = s.memoryStat ?? {};
  const inactive = s.memoryVersion === 1 ? stat['total_inactive_file'] : stat['inactive_file'];
  return inactive !== undefined && inactive < usage ? usage - inactive : usage;
}

/** docker's calculateCPUPercentUnix; 0 when there is no earlier sample or nothing moved. */
export function cpuPercent(
  prev: { cpuNs?: number; systemNs: number } | undefined,
  cur: { cpuNs?: number; systemNs: number; onlineCpus: number },
): number {
  if (!prev) return 0;
  const cpuDelta = (cur.cpuNs ?? 0) - (prev.cpuNs ?? 0);
  const systemDelta = cur.systemNs - prev.systemNs;
  return systemDelta > 0 && cpuDelta > 0 ? (cpuDelta / systemDelta) * cur.onlineCpus * 100 : 0;
}

/** One line of `docker stats`, as numbers. */
export interface StatsRow {
  id: string;
  name: string;
  cpuPercent: number;
  memUsage: number;
  memLimit: number;
  memPercent: number;
  netRx: number;
  netTx: number;
  blockRead: number;
  blockWrite: number;
  pids: number;
}

/**
 * The row for a running container from two samples (prev may be missing: CPU % is then 0).
 * A container without a limit shows the host's memory as its limit, as docker does.
 */
export function statsRow(
  c: { id: string; name: string },
  prev: (CgroupSample & SystemSample) | undefined,
  cur: CgroupSample & SystemSample,
  net: { rx: number; tx: number },
  hostMemory: number,
): StatsRow {
  const memUsage = memoryUsageNoCache(cur);
  const limit = cur.memoryLimit === undefined ? 0 : Math.min(cur.memoryLimit, hostMemory);
  return {
    id: c.id,
    name: c.name,
    cpuPercent: cpuPercent(prev, cur),
    memUsage,
    memLimit: limit,
    memPercent: limit > 0 ? (memUsage / limit) * 100 : 0,
    netRx: net.rx,
    netTx: net.tx,
    blockRead: cur.blockRead ?? 0,
    blockWrite: cur.blockWrite ?? 0,
    pids: cur.pids ?? 0,
  };
}

/** A stopped container's row: all zeros, as `docker stats -a --no-stream` shows it. */
export function emptyStatsRow(c: { id: string; name: string }): StatsRow {
  return { ...c, cpuPercent: 0, memUsage: 0, memLimit: 0, memPercent: 0, netRx: 0, netTx: 0, blockRead: 0, blockWrite: 0, pids: 0 };
}

const BINARY_UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB', 'ZiB', 'YiB'];

/** go-units BytesSize: `%.4g` in powers of 1024, e.g. 1.5MiB, 64MiB, 0B. */
export function bytesSize(bytes: number): string {
  let size = bytes;
  let i = 0;
  while (size >= 1024 && i < BINARY_UNITS.length - 1) {
    size /= 1024;
    i++;
  }
  return `${formatG(size, 4)}${BINARY_UNITS[i]}`;
}

/** Go's `%.2f%%`. (toFixed rounds an exact binary tie up where Go rounds it to even; a
 *  quotient of two counters essentially never lands on one.) */
function percent(x: number): string {
  return `${x.toFixed(2)}%`;
}

export const STATS_HEADERS = ['CONTAINER ID', 'NAME', 'CPU %', 'MEM USAGE / LIMIT', 'MEM %', 'NET I/O', 'BLOCK I/O', 'PIDS'];

/** The cells of one row: the id cut to 12 characters, sizes as docker prints them (memory in
 *  binary units, network and disk in decimal with 3 significant digits). */
export function formatStatsRow(r: StatsRow): string[] {
  return [
    r.id.slice(0, 12),
    r.name.replace(/^\//, ''),
    percent(r.cpuPercent),
    `${bytesSize(r.memUsage)} / ${bytesSize(r.memLimit)}`,
    percent(r.memPercent),
    `${humanSize(r.netRx)} / ${humanSize(r.netTx)}`,
    `${humanSize(r.blockRead)} / ${humanSize(r.blockWrite)}`,
    String(r.pids),
  ];
}

/** docker stats' table (tabwriter layout, header first, a newline after every line). */
export function formatStatsTable(rows: StatsRow[]): string {
  return renderTable(STATS_HEADERS, rows.map(formatStatsRow));
}

/** What `docker stats` writes before each refresh while streaming: clear screen, cursor home. */
export const CLEAR_SCREEN = '\x1b[2J\x1b[H';
