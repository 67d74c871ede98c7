// `--security-opt seccomp=PROFILE.json`: a seccomp profile in docker's format (moby's
// profiles/seccomp/default.json is one) turned into the OCI runtime spec's linux.seccomp for one
// container, as dockerd does before it hands the config to runc. Pure: the file's text, the
// container's capabilities and the kernel's version in, the OCI profile (or a one-line error) out.
//
// Docker's format is the OCI one plus what makes one file serve every host and container:
//   - archMap: [{architecture, subArchitectures}]: only the entry of the host's architecture
//     counts, giving it and its sub-architectures (x86_64: x86 and x32). `architectures` (the
//     OCI field) may be given instead, not both.
//   - per rule, `includes` and `excludes` with `caps` (the rule holds when the container has
//     every one of includes.caps, and none of excludes.caps), `arches` and `minKernel` ("4.8":
//     the rule holds from that kernel on); `name` for one call where OCI has `names`.
//   - `comment` anywhere, ignored.
// What comes out is checked by the same parser as an OCI bundle's config (oci/config.ts), so an
// unknown action, operator or architecture is refused with the field that holds it.
import { parseSeccomp, type OciSeccomp } from '../oci/config.js';
import { MinidockError, usageError } from '../core/errors.js';

export interface ProfileContext {
  /** The container's capabilities, as docker names them (CAP_SYS_ADMIN). */
  caps: readonly string[];
  /** The host's architecture, as libseccomp names it. */
  arch: string;
  /** The running kernel's release (os.release()), for minKernel. */
  kernel: string;
}

type Json = Record<string, unknown>;
const isObj = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);

/** "6.18.0-1-amd64" or "4.8" as [major, minor]; undefined when it is no version. */
export function kernelVersion(text: string): [number, number] | undefined {
  const m = /^(\d+)\.(\d+)/.exec(text);
  return m ? [Number(m[1]), Number(m[2])] : undefined;
}

const atLeast = (have: [number, number], want: [number, number]): boolean => have[0] !== want[0] ? have[0] > want[0] : have[1] >= want[1];

/** The parts of includes/excludes that docker reads, checked for their types. */
function filterOf(v: unknown, where: string): { caps: string[]; arches: string[]; minKernel?: [number, number] } {
  if (v === undefined) return { caps: [], arches: [] };
  if (!isObj(v)) throw bad(`${where} is not an object`);
  const out: { caps: string[]; arches: string[]; minKernel?: [number, number] } = { caps: strings(v.caps), arches: strings(v.arches) };
  if (v.minKernel !== undefined && v.minKernel !== '') {
    const k = typeof v.minKernel === 'string' ? kernelVersion(v.minKernel) : undefined;
    if (!k) throw bad(`${where}.minKernel ${JSON.stringify(v.minKernel)} is not a kernel version`, 'write it as "4.8"');
    out.minKernel = k;
  }
  return out;
}

function bad(problem: string, fix = 'fix the profile (docker\'s format: profiles/seccomp/default.json in moby)'): MinidockError {
  return usageError(`seccomp profile: ${problem}`, fix);
}

/** Docker's profile (its JSON text) as the OCI linux.seccomp for a container in `ctx`. */
export function dockerSeccompProfile(text: string, ctx: ProfileContext): OciSeccomp {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw bad(`decoding failed: ${(err as Error).message}`, 'the profile must be JSON');
  }
  if (!isObj(doc)) throw bad('it is not a JSON object');
  const kernel = kernelVersion(ctx.kernel);
  const caps = new Set(ctx.caps);
  if (doc.architectures !== undefined && doc.archMap !== undefined) throw bad("both 'architectures' and 'archMap' are specified", 'keep one of them');
  const architectures = doc.archMap !== undefined
    ? (Array.isArray(doc.archMap) ? doc.archMap : []).filter(isObj).filter((a) => a.architecture === ctx.arch).flatMap((a) => [ctx.arch, ...strings(a.subArchitectures)])
    : doc.architectures ?? [];
  const syscalls: Json[] = [];
  const rules = doc.syscalls === undefined ? [] : doc.syscalls;
  if (!Array.isArray(rules)) throw bad('syscalls is not a list');
  rules.forEach((r, i) => {
    const where = `syscalls[${i}]`;
    if (!isObj(r)) throw bad(`${where} is not an object`);
    if (r.name !== undefined && r.names !== undefined) throw bad(`${where}: 'name' and 'names' were specified`, "use either 'name' or 'names'");
    const ex = filterOf(r.excludes, `${where}.excludes`);
    const inc = filterOf(r.includes, `${where}.includes`);
    if (ex.arches.includes(ctx.arch)) return;
    if (ex.caps.some((c) => caps.has(c))) return;
    if (ex.minKernel && kernel && atLeast(kernel, ex.minKernel)) return;
    if (inc.arches.length && !inc.arches.includes(ctx.arch)) return;
    if (inc.caps.length && !inc.caps.every((c) => caps.has(c))) return;
    if (inc.minKernel && kernel && !atLeast(kernel, inc.minKernel)) return;
    const { name, includes: _i, excludes: _e, comment: _c, ...rest } = r;
    syscalls.push({ ...rest, names: name !== undefined ? [name] : rest.names });
  });
  const { archMap: _a, comment: _c, ...top } = doc;
  try {
    return parseSeccomp({ ...top, architectures, syscalls });
  } catch (err) {
    // The OCI parser's field names (linux.seccomp.X) are the profile's X; in syscalls[N], N
    // counts the rules this container keeps.
    if (err instanceof MinidockError) throw bad(err.message.replace(/^config\.json: linux\.seccomp\.?/, ''), err.hint);
    throw err;
  }
}
