// Signal names and numbers as docker's `kill -s` and `--stop-signal` take them. Pure.
import { usageError } from '../core/errors.js';

/** Signal names and numbers as docker's kill -s takes them. */
export const SIGNALS: Record<string, number> = {
  HUP: 1, INT: 2, QUIT: 3, ILL: 4, TRAP: 5, ABRT: 6, BUS: 7, FPE: 8, KILL: 9, USR1: 10, SEGV: 11, USR2: 12,
  PIPE: 13, ALRM: 14, TERM: 15, STKFLT: 16, CHLD: 17, CONT: 18, STOP: 19, TSTP: 20, TTIN: 21, TTOU: 22, URG: 23,
  XCPU: 24, XFSZ: 25, VTALRM: 26, PROF: 27, WINCH: 28, IO: 29, PWR: 30, SYS: 31,
};

export function parseSignal(s: string): number {
  if (/^[0-9]+$/.test(s)) {
    const n = Number(s);
    if (n >= 1 && n <= 64) return n;
    throw usageError(`invalid signal: ${s}`, 'valid signals are 1 through 64, or names such as TERM');
  }
  const name = s.toUpperCase().replace(/^SIG/, '');
  const rt = /^RTMIN(\+(\d+))?$/.exec(name);
  if (rt) return 34 + Number(rt[2] ?? 0);
  const n = SIGNALS[name];
  if (!n) throw usageError(`invalid signal: ${s}`, 'e.g. TERM, KILL, HUP, USR1 or a number 1-64');
  return n;
}
