// `logs --since` and `--until`: docker's timestamp syntax (its api/types/time GetTimestamp).
// Pure: the caller passes the clock.
//   10m  1h30m  1.5h  300ms      a Go duration: that long before now
//   1700000000  1700000000.5     Unix seconds, with an optional fraction
//   2024-05-01T10:20:30Z         RFC 3339 (with nanoseconds, with an offset)
//   2024-05-01T10:20:30  2024-05-01T10:20  2024-05-01   without a zone: local time, as docker
import { flagError } from '../core/errors.js';

const UNIT_MS: Record<string, number> = { ns: 1e-6, us: 1e-3, 'µs': 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Go's time.ParseDuration, in milliseconds; undefined when `v` is not one. */
export function goDurationMs(v: string): number | undefined {
  const m = /^([+-])?((?:\d+(?:\.\d*)?|\.\d+)(?:ns|us|µs|ms|s|m|h))+$/.exec(v);
  if (!m) return v === '0' ? 0 : undefined;
  let total = 0;
  for (const part of v.replace(/^[+-]/, '').matchAll(/(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)/g)) total += Number(part[1]) * UNIT_MS[part[2]!]!;
  return m[1] === '-' ? -total : total;
}

/** The instant `v` names, in milliseconds since the epoch; a flag error naming `flag` if none. */
export function parseLogTime(v: string, nowMs: number, flag: string): number {
  const d = goDurationMs(v);
  if (d !== undefined) return nowMs - d;
  if (/^\d+(\.\d+)?$/.test(v)) return Number(v) * 1000;
  const local = /^\d{4}-\d{2}-\d{2}$/.test(v) ? `${v}T00:00:00` : v;
  if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?$/.test(local)) {
    const t = Date.parse(local);
    if (!Number.isNaN(t)) return t;
  }
  throw flagError(`invalid value for "${flag}": failed to parse value as time or duration: "${v}"`, 'a duration (10m, 1h30m), Unix seconds, or an RFC 3339 time');
}
