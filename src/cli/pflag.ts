// docker's flag syntax (spf13/pflag) where commander's differs, rewritten into commander's before
// it parses. Pure. pflag takes a value for a boolean flag after `=` (`--rm=true`, `-d=false`,
// `--tty=false`) and a short flag's value after `=` (`-p=8080:80`); commander reads the former
// as an unknown value and the latter as the value "=8080:80".
import { flagError } from '../core/errors.js';

export interface FlagShape {
  short?: string; // "-d"
  long?: string; // "--detach"
  /** Takes a value (`--name x`); false for a boolean flag. */
  takesValue: boolean;
}

/** pflag's strconv.ParseBool. */
const BOOLS: Record<string, boolean> = { '1': true, t: true, T: true, TRUE: true, true: true, True: true, '0': false, f: false, F: false, FALSE: false, false: false, False: false };

/** Rewrites `args` (what follows the command's name) up to the first operand or `--`: after
 *  them, the arguments belong to the container's command. */
export function pflagArgs(args: string[], flags: FlagShape[]): string[] {
  const byName = new Map<string, FlagShape>();
  for (const f of flags) {
    if (f.short) byName.set(f.short, f);
    if (f.long) byName.set(f.long, f);
  }
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--' || !a.startsWith('-') || a === '-') return [...out, ...args.slice(i)];
    const eq = a.indexOf('=');
    const name = eq > 0 ? a.slice(0, eq) : a;
    const f = byName.get(name);
    const negation = !f && name.startsWith('--') ? byName.get(`--no-${name.slice(2)}`) : undefined;
    if (negation) {
      // A flag that defaults on (`--sig-proxy`), defined as its negation: `--sig-proxy` and
      // `=true` leave it on, `=false` is the negation.
      const value = eq < 0 ? 'true' : a.slice(eq + 1);
      const b = BOOLS[value];
      if (b === undefined) throw flagError(`invalid argument "${value}" for "${name}" flag: strconv.ParseBool: parsing "${value}": invalid syntax`, 'true or false');
      if (!b) out.push(negation.long!);
      continue;
    }
    if (!f) {
      out.push(a);
      continue;
    }
    if (eq < 0) {
      out.push(a);
      if (f.takesValue && i + 1 < args.length) out.push(args[++i]!); // its value, even one starting with -
      continue;
    }
    const value = a.slice(eq + 1);
    if (f.takesValue) {
      // `-p=8080:80` is `-p 8080:80`; `--name=x` commander reads as it is.
      out.push(...(name.startsWith('--') ? [a] : [name, value]));
      continue;
    }
    const b = BOOLS[value];
    if (b === undefined) {
      throw flagError(`invalid argument "${value}" for "${[f.short, f.long].filter(Boolean).join(', ')}" flag: strconv.ParseBool: parsing "${value}": invalid syntax`, 'true or false');
    }
    // true is the flag itself; false leaves the default (every such flag of ours defaults off).
    if (b) out.push(name);
  }
  return out;
}
