// docker's resource flags: -m/--memory, --memory-swap, --cpus, -c/--cpu-shares, --cpuset-cpus
// and --pids-limit, parsed and validated as docker's CLI and daemon do. Pure: the host's CPU
// count is passed in; src/cgroup/plan.ts turns the result into cgroup file writes.
//
// Sizes are go-units RAMInBytes: a decimal number, an optional single space, and an optional
// binary unit, case-insensitive: `100`, `100b`, `512k`, `64m`, `64mb`, `64MiB`, `1.5g`, `1 g`,
// `2t`, `1p`. A fraction is truncated to whole bytes after scaling (`1.5k` = 1536).
//
// Values, as docker stores them in HostConfig (so inspect can show the same numbers):
//   memory      bytes; unset or 0 = no limit; else at least 6 MiB (docker's linuxMinMemory)
//   memorySwap  memory + swap, bytes; -1 = unlimited swap; at run, unset or 0 with a memory
//               limit becomes 2 × memory (swap as large as memory, docker's default)
//   nanoCpus    CPUs × 1e9, an integer (`--cpus 0.5` = 500000000); 0 = no limit
//   cpuShares   relative weight; unset or 0 = the kernel's default (1024)
//   cpusetCpus  the list as given (`0-2,4`), checked against the host's CPUs
//   pidsLimit   as given; <= 0 = unlimited (docker accepts both 0 and -1 for that)
//
// Where minidock is stricter than docker (each a usage error, exit 125, naming the fix):
//   - A size's number is plain decimal (`1e3m` is fine, Go's hex floats `0x1p4` are not), and
//     sizes above 2^53 bytes (8 PiB) are refused rather than wrapped.
//   - --cpus below 0.01 but above 0: docker passes it on and the kernel refuses the quota
//     (CFS needs at least 1 ms per 100 ms period), so it is refused here, with docker's range
//     message.
//   - --cpu-shares outside 2..262144 (the kernel's range; 0 = default): docker silently passes
//     it on (the kernel clamps, and negative values wrap to huge ones).
//   - --cpuset-cpus numbers are plain digits (Go's Atoi also takes `+1`).

import { flagError, usageError } from '../core/errors.js';

export interface Resources {
  memory?: number;
  /** memory + swap in bytes; -1 = unlimited. */
  memorySwap?: number;
  nanoCpus?: number;
  cpuShares?: number;
  cpusetCpus?: string;
  /** <= 0 = unlimited, as docker. */
  pidsLimit?: number;
  /** --cpu-quota (microseconds per period; -1 unlimited) and --cpu-period (microseconds). */
  cpuQuota?: number;
  cpuPeriod?: number;
  /** --memory-reservation in bytes (a soft limit). */
  memoryReservation?: number;
  /** --oom-kill-disable. */
  oomKillDisable?: boolean;
}

/** The flags as the user typed them; undefined = not given. */
export interface ResourceFlags {
  memory?: string;
  memorySwap?: string;
  cpus?: string;
  cpuShares?: string;
  cpusetCpus?: string;
  pidsLimit?: string;
  cpuQuota?: string;
  cpuPeriod?: string;
  memoryReservation?: string;
  oomKillDisable?: boolean;
}

/** `run` fills docker's defaults and requires --memory with --memory-swap; `update` changes
 *  only what is given (mergeResources combines it with the container's current values). */
export type ResourceMode = 'run' | 'update';

/** docker's linuxMinMemory: not a kernel limit, a floor for a container that can start. */
export const MIN_MEMORY = 6 * 1024 * 1024;
/** The kernel's cpu.shares range (MIN_SHARES, MAX_SHARES in kernel/sched/sched.h). */
export const MIN_CPU_SHARES = 2;
export const MAX_CPU_SHARES = 262144;
const NANO = 1_000_000_000n;
/** 0.01 CPU: a 1 ms CFS quota per 100 ms period, the smallest the kernel accepts. */
const MIN_NANO_CPUS = 10_000_000;

const UNITS: Readonly<Record<string, number>> = {
  k: 1024,
  m: 1024 ** 2,
  g: 1024 ** 3,
  t: 1024 ** 4,
  p: 1024 ** 5,
};
/** A decimal float as strconv.ParseFloat reads it, without Go's hex, inf and nan forms. */
const DECIMAL_FLOAT = /^\+?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$/;
const SIZE_HINT = 'a size is a number with an optional unit b, k, m, g, t or p, e.g. 64m or 1.5g';

export type SizeResult = { bytes: number } | { error: string };

/**
 * go-units RAMInBytes. The number and the unit are split at the first space, or else after the
 * last digit or dot; the unit is `b`, or k/m/g/t/p optionally followed by `b` or `ib`.
 */
export function ramInBytes(text: string): SizeResult {
  const invalid = { error: `invalid size: '${text}'` };
  let num: string;
  let suffix: string;
  const space = text.indexOf(' ');
  if (space >= 0) {
    num = text.slice(0, space);
    suffix = text.slice(space + 1);
  } else {
    const sep = Math.max(...[...'0123456789.'].map((c) => text.lastIndexOf(c)));
    if (sep < 0) return invalid;
    num = text.slice(0, sep + 1);
    suffix = text.slice(sep + 1);
  }
  // A leading '-' is how docker's "reject negative sizes" shows up here.
  if (!DECIMAL_FLOAT.test(num)) return invalid;
  let size = Number(num);
  const sfx = suffix.toLowerCase();
  const badSuffix = { error: `invalid suffix: '${sfx}'` };
  if (sfx !== '') {
    if (sfx.length > 3) return badSuffix;
    if (sfx[0] === 'b') {
      if (sfx.length > 1) return badSuffix;
    } else {
      const mul = UNITS[sfx[0] as string];
      if (mul === undefined) return badSuffix;
      if ((sfx.length === 2 && sfx[1] !== 'b') || (sfx.length === 3 && sfx.slice(1) !== 'ib')) return badSuffix;
      size *= mul;
    }
  }
  if (size > Number.MAX_SAFE_INTEGER) return { error: `size '${text}' is too large` };
  return { bytes: Math.trunc(size) };
}

/** docker's pflag wording: `invalid argument "64x" for "-m, --memory" flag: <why>`: a flag error
 *  (exit 125 in every command). */
function badFlag(flag: string, value: string, why: string, hint?: string): never {
  throw flagError(`invalid argument ${JSON.stringify(value)} for "${flag}" flag: ${why}`, hint);
}

function sizeFlag(flag: string, value: string): number {
  const r = ramInBytes(value);
  if ('error' in r) badFlag(flag, value, r.error, SIZE_HINT);
  return r.bytes;
}

/** An int64 flag as Go's strconv.ParseInt reads it (base 10, optional sign). */
function intFlag(flag: string, value: string, hint: string): number {
  if (!/^[+-]?[0-9]+$/.test(value)) badFlag(flag, value, `strconv.ParseInt: parsing ${JSON.stringify(value)}: invalid syntax`, hint);
  const n = Number(value);
  if (!Number.isSafeInteger(n)) badFlag(flag, value, `strconv.ParseInt: parsing ${JSON.stringify(value)}: value out of range`, hint);
  return n;
}

/**
 * docker's ParseCPUs: the value is read as an exact rational (big.Rat: `1.5`, `1e-1`, `3/2`),
 * multiplied by 1e9, and must come out whole. Exact arithmetic, so `0.1` is 100000000 and not
 * 100000000.00000001.
 */
export function parseNanoCpus(value: string): { nano: bigint } | { error: string } {
  const notRational = { error: `failed to parse ${value} as a rational number` };
  let num: bigint;
  let den: bigint;
  const frac = /^([+-]?[0-9]+)\/([0-9]+)$/.exec(value);
  const dec = /^([+-]?)([0-9]*)(?:\.([0-9]*))?(?:[eE]([+-]?[0-9]+))?$/.exec(value);
  if (frac) {
    num = BigInt(frac[1] as string);
    den = BigInt(frac[2] as string);
    if (den === 0n) return notRational;
  } else if (dec && ((dec[2] ?? '') + (dec[3] ?? '')).length > 0) {
    const intPart = dec[2] ?? '';
    const fracPart = dec[3] ?? '';
    const exp = Number(dec[4] ?? '0');
    // An exponent this size is either far above any CPU count or far below a nanosecond.
    if (Math.abs(exp) > 100) return exp > 0 ? { nano: BigInt(Number.MAX_SAFE_INTEGER) * NANO } : { error: 'value is too precise' };
    num = BigInt(`${dec[1]}${intPart}${fracPart}` || '0');
    den = 10n ** BigInt(fracPart.length);
    if (exp >= 0) num *= 10n ** BigInt(exp);
    else den *= 10n ** BigInt(-exp);
  } else {
    return notRational;
  }
  const scaled = num * NANO;
  if (scaled % den !== 0n) return { error: 'value is too precise' };
  return { nano: scaled / den };
}

/**
 * A cpuset list as docker's parsers.ParseUintList reads it: `N` or `N-M` items joined by
 * commas, M >= N. Returns the ranges as written (never expanded, so `0-99999999` costs
 * nothing), or undefined when malformed.
 */
export function parseCpuList(text: string): Array<[number, number]> | undefined {
  const ranges: Array<[number, number]> = [];
  for (const item of text.split(',')) {
    const m = /^([0-9]+)(?:-([0-9]+))?$/.exec(item);
    if (!m) return undefined;
    const lo = Number(m[1]);
    const hi = m[2] === undefined ? lo : Number(m[2]);
    if (hi < lo) return undefined;
    ranges.push([lo, hi]);
  }
  return ranges;
}

/** `0-1` for 2 CPUs: what docker prints as "available". */
function hostCpuList(n: number): string {
  return n === 1 ? '0' : `0-${n - 1}`;
}

function parseCpus(value: string, host: { cpus: number }): number | undefined {
  const r = parseNanoCpus(value);
  if ('error' in r) badFlag('--cpus', value, r.error, 'a number of CPUs such as 0.5 or 2');
  const max = BigInt(host.cpus) * NANO;
  if (r.nano === 0n) return undefined;
  if (r.nano < BigInt(MIN_NANO_CPUS) || r.nano > max) {
    throw usageError(
      `range of CPUs is from 0.01 to ${host.cpus}.00, as there are only ${host.cpus} CPUs available`,
      `use --cpus between 0.01 and ${host.cpus}`,
    );
  }
  return Number(r.nano);
}

function parseShares(value: string): number | undefined {
  const range = `0 (the default, 1024) or ${MIN_CPU_SHARES} to ${MAX_CPU_SHARES}`;
  const n = intFlag('-c, --cpu-shares', value, `a relative weight: ${range}`);
  if (n === 0) return undefined;
  if (n < MIN_CPU_SHARES || n > MAX_CPU_SHARES) {
    throw usageError(`invalid --cpu-shares ${n}: the kernel's range is ${MIN_CPU_SHARES} to ${MAX_CPU_SHARES}`, `use ${range}`);
  }
  return n;
}

function parseCpuset(value: string, host: { cpus: number }): string | undefined {
  if (value === '') return undefined;
  const available = hostCpuList(host.cpus);
  const ranges = parseCpuList(value);
  if (ranges === undefined) {
    throw usageError(`Invalid value ${value} for cpuset cpus: invalid format: ${value}`, `a list such as 0-2,4 of CPUs ${available}`);
  }
  if (ranges.some(([, hi]) => hi >= host.cpus)) {
    throw usageError(`Requested CPUs are not available - requested ${value}, available: ${available}`, `choose CPUs among ${available}`);
  }
  return value;
}

// docker's daemon messages for an impossible memory/swap pair, shared by run and update.
const swapBelowMemory = () =>
  usageError(
    'Minimum memoryswap limit should be larger than memory limit, see usage',
    '--memory-swap is memory plus swap: at least --memory, or -1 for unlimited swap',
  );
const swapWithoutMemory = () =>
  usageError('You should always set the Memory limit when using Memoryswap limit, see usage', 'add --memory, e.g. --memory 64m --memory-swap 128m');

/** The memory pair, validated as docker's daemon does (verifyPlatformContainerResources). */
function memoryPair(flags: ResourceFlags, mode: ResourceMode): Pick<Resources, 'memory' | 'memorySwap'> {
  const memory = flags.memory === undefined ? 0 : sizeFlag('-m, --memory', flags.memory);
  // docker's MemSwapBytes: the literal "-1" is "unlimited"; anything else is a size.
  const swap = flags.memorySwap === undefined ? 0 : flags.memorySwap === '-1' ? -1 : sizeFlag('--memory-swap', flags.memorySwap);
  if (memory !== 0 && memory < MIN_MEMORY) throw usageError('Minimum memory limit allowed is 6MB', 'use --memory 6m or more');
  if (memory > 0 && swap > 0 && swap < memory) {
    throw swapBelowMemory();
  }
  if (memory === 0 && swap > 0 && mode === 'run') {
    throw swapWithoutMemory();
  }
  const out: Pick<Resources, 'memory' | 'memorySwap'> = {};
  if (memory > 0) out.memory = memory;
  if (swap !== 0) out.memorySwap = swap;
  // docker's adaptContainerSettings: with a memory limit and no swap setting, swap may be as
  // large as memory.
  else if (memory > 0 && mode === 'run') out.memorySwap = memory * 2;
  return out;
}

/** Parses and validates the resource flags; only the limits that were asked for are set. */
export function parseResources(flags: ResourceFlags, host: { cpus: number }, mode: ResourceMode = 'run'): Resources {
  const r: Resources = memoryPair(flags, mode);
  if (flags.cpus !== undefined) {
    const nano = parseCpus(flags.cpus, host);
    if (nano !== undefined) r.nanoCpus = nano;
  }
  if (flags.cpuShares !== undefined) {
    const shares = parseShares(flags.cpuShares);
    if (shares !== undefined) r.cpuShares = shares;
  }
  if (flags.cpusetCpus !== undefined) {
    const set = parseCpuset(flags.cpusetCpus, host);
    if (set !== undefined) r.cpusetCpus = set;
  }
  if (flags.pidsLimit !== undefined) {
    r.pidsLimit = intFlag('--pids-limit', flags.pidsLimit, 'a number of processes; 0 or -1 for unlimited');
  }
  if (flags.cpuPeriod !== undefined) {
    const p = intFlag('--cpu-period', flags.cpuPeriod, 'microseconds, 1000 to 1000000');
    // docker's daemon: "CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s".
    if (p !== 0 && (p < 1000 || p > 1_000_000)) throw usageError('CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s (i.e. 1000000)', 'give --cpu-period from 1000 to 1000000');
    if (p) r.cpuPeriod = p;
  }
  if (flags.cpuQuota !== undefined) {
    const q = intFlag('--cpu-quota', flags.cpuQuota, 'microseconds per period, at least 1000; -1 for unlimited');
    if (q > 0 && q < 1000) throw usageError('CPU cfs quota can not be less than 1ms (i.e. 1000)', 'give --cpu-quota of at least 1000, or -1');
    if (q) r.cpuQuota = q;
  }
  if (r.nanoCpus !== undefined && (r.cpuQuota !== undefined || r.cpuPeriod !== undefined)) {
    throw usageError(`Conflicting options: Nano CPUs and CPU ${r.cpuPeriod !== undefined ? 'Period' : 'Quota'} cannot both be set`, 'give --cpus, or --cpu-quota and --cpu-period');
  }
  if (flags.memoryReservation !== undefined) {
    const m = ramInBytes(flags.memoryReservation);
    if ('error' in m) badFlag('--memory-reservation', flags.memoryReservation, m.error, SIZE_HINT);
    if (m.bytes) r.memoryReservation = m.bytes;
    if (r.memory !== undefined && m.bytes > r.memory) throw usageError('Minimum memory limit can not be less than memory reservation limit, see usage', 'give a --memory-reservation below --memory');
  }
  if (flags.oomKillDisable) r.oomKillDisable = true;
  return r;
}

/**
 * `update`: the container's resources with the given changes, as docker's UpdateContainer
 * merges them. Raising --memory above the swap limit already set, without a new
 * --memory-swap, is refused as docker refuses it (the kernel would refuse memory > memory+swap
 * on cgroup v1). Unlike docker, a container whose swap is unlimited or unset may raise its
 * memory alone: there is no limit to conflict with.
 */
export function mergeResources(current: Resources, change: Resources): Resources {
  const out: Resources = { ...current };
  if (change.memory !== undefined) {
    const swap = current.memorySwap ?? 0;
    if (change.memorySwap === undefined && swap > 0 && change.memory > swap) {
      throw usageError(
        'Memory limit should be smaller than already set memoryswap limit, update the memoryswap at the same time',
        `add --memory-swap (at least the new memory, or -1 for unlimited swap)`,
      );
    }
    out.memory = change.memory;
  }
  if (change.memorySwap !== undefined) out.memorySwap = change.memorySwap;
  if (out.memorySwap !== undefined && out.memorySwap > 0) {
    if (out.memory === undefined) {
      throw swapWithoutMemory();
    }
    if (out.memorySwap < out.memory) {
      throw swapBelowMemory();
    }
  }
  for (const key of ['nanoCpus', 'cpuShares', 'cpusetCpus', 'pidsLimit'] as const) {
    if (change[key] !== undefined) (out as Record<string, unknown>)[key] = change[key];
  }
  return out;
}
