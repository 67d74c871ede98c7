// docker CLI output formatting: go-units' HumanDuration and HumanSizeWithPrecision, the ps
// CREATED / STATUS / COMMAND columns, and text/tabwriter's table layout. Pure: the current
// time is always passed in.

// ---- durations -------------------------------------------------------------------------------

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;

/**
 * go-units HumanDuration: seconds and minutes truncate, hours round to nearest; above 48 hours
 * the unit is days, then weeks from 2 weeks, months (30 days) from 60 days, years from 730 days.
 */
export function humanDuration(ms: number): string {
  const seconds = Math.trunc(ms / SECOND);
  if (seconds < 1) return 'Less than a second';
  if (seconds === 1) return '1 second';
  if (seconds < 60) return `${seconds} seconds`;
  const minutes = Math.trunc(ms / MINUTE);
  if (minutes === 1) return 'About a minute';
  if (minutes < 60) return `${minutes} minutes`;
  const hours = Math.trunc(ms / HOUR + 0.5);
  if (hours === 1) return 'About an hour';
  if (hours < 48) return `${hours} hours`;
  if (hours < 24 * 7 * 2) return `${Math.trunc(hours / 24)} days`;
  if (hours < 24 * 30 * 2) return `${Math.trunc(hours / 24 / 7)} weeks`;
  if (hours < 24 * 365 * 2) return `${Math.trunc(hours / 24 / 30)} months`;
  // Years use the truncated hour count, as go-units does.
  return `${Math.trunc(Math.trunc(ms / HOUR) / 24 / 365)} years`;
}

/**
 * ps CREATED: `3 minutes ago`. docker's API carries the creation time in whole seconds, so the
 * creation instant is truncated to a second before measuring, which is what docker shows.
 */
/** Go's time.Time as docker's list formats print it (.CreatedAt): `2026-12-03 23:06:07 +0000 UTC`. */
export function goTime(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 19).replace('T', ' ')} +0000 UTC`;
}

export function createdText(createdMs: number, nowMs: number): string {
  const created = Math.floor(createdMs / SECOND) * SECOND;
  return `${humanDuration(nowMs - created)} ago`;
}

export interface StatusInput {
  status: 'created' | 'running' | 'exited' | 'dead' | 'broken';
  startedAt?: number;
  finishedAt?: number;
  exitCode?: number;
}

/** ps STATUS, as docker's State.String(): `Up 3 minutes`, `Exited (0) 5 seconds ago`, ... */
export function statusText(s: StatusInput, nowMs: number): string {
  switch (s.status) {
    case 'created':
      return 'Created';
    case 'running':
      return s.startedAt === undefined ? 'Up' : `Up ${humanDuration(nowMs - s.startedAt)}`;
    case 'exited': {
      const code = `Exited (${s.exitCode ?? 0})`;
      // docker prints nothing for a missing finish time; the exit code alone is more useful.
      return s.finishedAt === undefined ? code : `${code} ${humanDuration(nowMs - s.finishedAt)} ago`;
    }
    case 'dead':
      return 'Dead';
    case 'broken':
      // Not a docker state: the container's state file could not be read.
      return 'Broken';
  }
}

// ---- COMMAND column --------------------------------------------------------------------------

/** docker ps truncates COMMAND to this many display columns, the ellipsis included. */
export const COMMAND_WIDTH = 20;

/**
 * East Asian Wide and Fullwidth characters take two terminal columns (what docker's
 * charWidth asks golang.org/x/text/width). These ranges cover CJK, Hangul, fullwidth forms
 * and the emoji blocks; everything else counts as one.
 */
const WIDE_RANGES: ReadonlyArray<readonly [number, number]> = [
  [0x1100, 0x115f], [0x231a, 0x231b], [0x2329, 0x232a], [0x23e9, 0x23ec], [0x23f0, 0x23f0],
  [0x23f3, 0x23f3], [0x25fd, 0x25fe], [0x2614, 0x2615], [0x2648, 0x2653], [0x267f, 0x267f],
  [0x2693, 0x2693], [0x26a1, 0x26a1], [0x26aa, 0x26ab], [0x26bd, 0x26be], [0x26c4, 0x26c5],
  [0x26ce, 0x26ce], [0x26d4, 0x26d4], [0x26ea, 0x26ea], [0x26f2, 0x26f3], [0x26f5, 0x26f5],
  [0x26fa, 0x26fa], [0x26fd, 0x26fd], [0x2705, 0x2705], [0x270a, 0x270b], [0x2728, 0x2728],
  [0x274c, 0x274c], [0x274e, 0x274e], [0x2753, 0x2755], [0x2757, 0x2757], [0x2795, 0x2797],
  [0x27b0, 0x27b0], [0x27bf, 0x27bf], [0x2b1b, 0x2b1c], [0x2b50, 0x2b50], [0x2b55, 0x2b55],
  [0x2e80, 0x303e], [0x3041, 0x33ff], [0x3400, 0x4dbf], [0x4e00, 0x9fff], [0xa000, 0xa4cf],
  [0xa960, 0xa97f], [0xac00, 0xd7a3], [0xf900, 0xfaff], [0xfe10, 0xfe19], [0xfe30, 0xfe6f],
  [0xff00, 0xff60], [0xffe0, 0xffe6], [0x16fe0, 0x16fe4], [0x17000, 0x18cff], [0x1b000, 0x1b2ff],
  [0x1f004, 0x1f004], [0x1f0cf, 0x1f0cf], [0x1f18e, 0x1f18e], [0x1f191, 0x1f19a],
  [0x1f200, 0x1f251], [0x1f300, 0x1f64f], [0x1f680, 0x1f6ff], [0x1f7e0, 0x1f7eb],
  [0x1f90c, 0x1f9ff], [0x1fa70, 0x1faff], [0x20000, 0x2fffd], [0x30000, 0x3fffd],
];

export function charWidth(codePoint: number): 1 | 2 {
  for (const [lo, hi] of WIDE_RANGES) {
    if (codePoint < lo) return 1; // ranges are sorted
    if (codePoint <= hi) return 2;
  }
  return 1;
}

/**
 * docker's formatter.Ellipsis: keeps the longest prefix that fits in max-1 display columns
 * and appends `…`; a string that already fits is returned as is.
 */
export function ellipsis(s: string, maxWidth: number): string {
  if (maxWidth <= 0) return '';
  const runes = [...s];
  if (maxWidth === 1) return runes[0] ?? '';
  const widths = runes.map((r) => charWidth(r.codePointAt(0) as number));
  if (widths.reduce((a, b) => a + b, 0) <= maxWidth) return s;
  let used = 0;
  let keep = 0;
  while (keep < runes.length && used + (widths[keep] as number) <= maxWidth - 1) {
    used += widths[keep] as number;
    keep++;
  }
  // docker returns the string untouched when not even one character fits before the ellipsis.
  return keep === 0 ? s : `${runes.slice(0, keep).join('')}…`;
}

const PRINTABLE = /^[\p{L}\p{M}\p{N}\p{P}\p{S} ]$/u;
const C_ESCAPES: Readonly<Record<string, string>> = {
  '\x07': '\\a', '\b': '\\b', '\f': '\\f', '\n': '\\n', '\r': '\\r', '\t': '\\t', '\v': '\\v',
};

/** Go's strconv.Quote: double quotes, with `"` `\` and non-printable characters escaped. */
export function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const cp = ch.codePointAt(0) as number;
    if (ch === '"' || ch === '\\') out += `\\${ch}`;
    else if (PRINTABLE.test(ch)) out += ch;
    else if (C_ESCAPES[ch] !== undefined) out += C_ESCAPES[ch];
    else if (cp < 0x80) out += `\\x${cp.toString(16).padStart(2, '0')}`;
    // A lone surrogate cannot be encoded; Go would have seen U+FFFD.
    else if (cp >= 0xd800 && cp <= 0xdfff) out += '\ufffd';
    else if (cp < 0x10000) out += `\\u${cp.toString(16).padStart(4, '0')}`;
    else out += `\\U${cp.toString(16).padStart(8, '0')}`;
  }
  return `${out}"`;
}

/**
 * ps COMMAND: the daemon joins path and args with spaces, wrapping any arg that contains a
 * space in single quotes; the CLI truncates that to 20 columns and Go-quotes it.
 */
export function commandText(argv: string[], noTrunc = false): string {
  const [path = '', ...args] = argv;
  const shown = args.map((a) => (a.includes(' ') ? `'${a}'` : a));
  const command = args.length > 0 ? `${path} ${shown.join(' ')}` : path;
  return goQuote(noTrunc ? command : ellipsis(command, COMMAND_WIDTH));
}

// ---- sizes -----------------------------------------------------------------------------------

const DECIMAL_UNITS = ['B', 'kB', 'MB', 'GB', 'TB', 'PB', 'EB', 'ZB', 'YB'];

/** docker images SIZE: go-units HumanSizeWithPrecision(bytes, 3), i.e. `%.3g` + decimal unit. */
export function humanSize(bytes: number): string {
  let size = bytes;
  let i = 0;
  while (size >= 1000 && i < DECIMAL_UNITS.length - 1) {
    size /= 1000;
    i++;
  }
  return `${formatG(size, 3)}${DECIMAL_UNITS[i]}`;
}

/** The exact decimal digits of a finite positive double, and where the point goes. */
function exactDigits(x: number): { digits: string; dp: number } {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  const bits = view.getBigUint64(0);
  const biased = Number((bits >> 52n) & 0x7ffn);
  let mantissa = bits & ((1n << 52n) - 1n);
  let exp: number;
  if (biased === 0) exp = -1074;
  else {
    mantissa |= 1n << 52n;
    exp = biased - 1075;
  }
  // x = mantissa * 2^exp; for exp < 0 that is mantissa * 5^-exp / 10^-exp, exactly.
  const digits = exp >= 0 ? (mantissa << BigInt(exp)).toString() : (mantissa * 5n ** BigInt(-exp)).toString();
  const dp = exp >= 0 ? digits.length : digits.length + exp;
  return { digits: digits.replace(/0+$/, ''), dp };
}

/**
 * Go's fmt `%.<prec>g`: rounds the exact binary value half-to-even (JS toPrecision rounds
 * ties up, so 1.125 would differ), drops trailing zeros, and switches to `1e+03` style when
 * the exponent is < -4 or >= the precision.
 */
export function formatG(x: number, prec: number): string {
  if (x === 0) return '0';
  if (!Number.isFinite(x)) return Number.isNaN(x) ? 'NaN' : x > 0 ? '+Inf' : '-Inf';
  const sign = x < 0 ? '-' : '';
  let { digits, dp } = exactDigits(Math.abs(x));
  if (digits.length > prec) {
    const d = [...digits].map(Number);
    const next = d[prec] as number;
    const rest = d.slice(prec + 1).some((v) => v !== 0);
    const up = next > 5 || (next === 5 && (rest || (d[prec - 1] as number) % 2 === 1));
    const kept = d.slice(0, prec);
    if (up) {
      let i = prec - 1;
      while (i >= 0 && kept[i] === 9) kept[i--] = 0;
      if (i >= 0) kept[i] = (kept[i] as number) + 1;
      else {
        kept.unshift(1);
        kept.pop();
        dp++;
      }
    }
    digits = kept.join('').replace(/0+$/, '');
  }
  const nd = digits.length;
  const digitAt = (i: number): string => (i >= 0 && i < nd ? (digits[i] as string) : '0');

  let eprec = prec;
  if (eprec > nd && nd >= dp) eprec = nd;
  const exp = dp - 1;
  if (exp < -4 || exp >= eprec) {
    const p = Math.min(prec, nd);
    let mant = digitAt(0);
    if (p > 1) mant += `.${digits.slice(1, p).padEnd(p - 1, '0')}`;
    const e = Math.abs(exp).toString().padStart(2, '0');
    return `${sign}${mant}e${exp < 0 ? '-' : '+'}${e}`;
  }
  const p = prec > dp ? nd : prec;
  const decimals = Math.max(p - dp, 0);
  let int = '';
  for (let i = 0; i < dp; i++) int += digitAt(i);
  if (int === '') int = '0';
  let frac = '';
  for (let i = 0; i < decimals; i++) frac += digitAt(dp + i);
  return `${sign}${int}${frac === '' ? '' : `.${frac}`}`;
}

// ---- tables ----------------------------------------------------------------------------------

/** docker's tabwriter settings: minwidth 10, padding 3, padded with spaces. */
export const TABLE_MIN_WIDTH = 10;
export const TABLE_PADDING = 3;

/**
 * docker's table layout (text/tabwriter with minwidth 10, padding 3): every column but the
 * last is as wide as its widest cell plus 3, but at least 10; widths count characters, not
 * display columns, as tabwriter does. Every line ends with a newline.
 */
export function renderTable(headers: string[], rows: string[][]): string {
  const lines = [headers, ...rows];
  const cols = Math.max(...lines.map((l) => l.length));
  const len = (s: string): number => [...s].length;
  const widths: number[] = [];
  for (let c = 0; c < cols - 1; c++) {
    let w = TABLE_MIN_WIDTH;
    for (const l of lines) w = Math.max(w, len(l[c] ?? '') + TABLE_PADDING);
    widths.push(w);
  }
  return lines
    .map((l) => {
      let out = '';
      for (let c = 0; c < cols - 1; c++) {
        const cell = l[c] ?? '';
        out += cell + ' '.repeat((widths[c] as number) - len(cell));
      }
      return `${out}${l[cols - 1] ?? ''}\n`;
    })
    .join('');
}
