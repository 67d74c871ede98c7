// Facts about host processes from /proc, used to tell a live container from a recycled pid.
import { readFileSync } from 'node:fs';

/** Field 22 of /proc/PID/stat (start time in clock ticks since boot), or undefined if gone. */
export function processStartTime(pid: number): number | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
  } catch {
    return undefined;
  }
  return parseStartTime(stat);
}

/** Pure: the comm field may contain spaces and parentheses, so count fields after the last ')'. */
export function parseStartTime(stat: string): number | undefined {
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // rest[0] is field 3 (state); field 22 is rest[19].
  const v = Number(rest[19]);
  return Number.isFinite(v) ? v : undefined;
}

/** True when `pid` is still the process that had `startTime`. */
export function isSameProcess(pid: number, startTime: number): boolean {
  return pid > 0 && processStartTime(pid) === startTime;
}
