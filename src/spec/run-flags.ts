// docker run flags that become parts of the OCI config directly: --sysctl, --domainname,
// --ulimit, and --mount (which is -v and --tmpfs in another syntax). Pure.
import { flagError, usageError } from '../core/errors.js';

/** --sysctl K=V: only what the container's own namespaces hold (docker's rule): IPC sysctls, net.*
 *  unless --network host (the host's); the UTS names are -h's and --domainname's. */
export function parseSysctls(values: string[], o: { hostNetwork: boolean; hostIpc?: boolean; namespaceOf: (key: string) => string | undefined }): Record<string, string> {
  const out: Record<string, string> = {};
  for (const v of values) {
    const eq = v.indexOf('=');
    if (eq <= 0) throw flagError(`invalid argument "${v}" for "--sysctl" flag: sysctl '${v}' is not in the form key=value`);
    const key = v.slice(0, eq).trim().replace(/\//g, '.');
    const ns = o.namespaceOf(key);
    if (ns === 'ipc' && o.hostIpc) throw usageError(`sysctl '${key}' is not allowed with --ipc=host`, 'IPC sysctls set the container\'s own IPC namespace: leave --ipc out');
    if (ns === undefined || ns === 'user' || ns === 'uts' || (ns === 'network' && o.hostNetwork)) {
      throw usageError(`sysctl '${key}' is not whitelisted`, ns === 'network' ? 'net.* sysctls need a network namespace of the container\'s own (not --network host)' : 'only IPC and net.* sysctls are namespaced (--domainname sets kernel.domainname)');
    }
    out[key] = v.slice(eq + 1);
  }
  return out;
}

/** --domainname: setdomainname(2)'s limit (64 bytes) and a host name's characters. */
export function parseDomainname(v: string): string {
  if (Buffer.byteLength(v) > 64 || !/^[a-zA-Z0-9.-]*$/.test(v)) throw usageError(`invalid domainname "${v}"`, 'letters, digits, "." and "-", at most 64 characters');
  return v;
}

const ULIMITS = ['core', 'cpu', 'data', 'fsize', 'locks', 'memlock', 'msgqueue', 'nice', 'nofile', 'nproc', 'rss', 'rtprio', 'rttime', 'sigpending', 'stack'] as const;

export interface Rlimit {
  type: string;
  soft: number;
  hard: number;
}

/** --ulimit NAME=SOFT[:HARD] as go-units ParseUlimit reads it. A hard limit above the one this
 *  process has fails at start (raising it takes CAP_SYS_RESOURCE). */
export function parseUlimits(values: string[]): Rlimit[] {
  const byType = new Map<string, Rlimit>();
  for (const v of values) {
    const m = /^([a-z]+)=(-?\d+)(?::(-?\d+))?$/.exec(v);
    if (!m) throw flagError(`invalid argument "${v}" for "--ulimit" flag: invalid ulimit argument: ${v}`, 'NAME=SOFT[:HARD], e.g. nofile=1024:2048');
    const [, name, softText, hardText] = m;
    if (!(ULIMITS as readonly string[]).includes(name!)) throw flagError(`invalid argument "${v}" for "--ulimit" flag: invalid ulimit type: ${name}`, `one of ${ULIMITS.join(', ')}`);
    // docker's -1 (RLIM_INFINITY) does not fit the config's integers (at most 2^53-1 here).
    const toLimit = (t: string): number => {
      if (Number(t) < 0 || Number(t) > Number.MAX_SAFE_INTEGER) throw flagError(`invalid argument "${v}" for "--ulimit" flag: ${t} is not a limit minidock can set`, 'give a number from 0 to 2^53-1 (-1, unlimited, is not supported)');
      return Number(t);
    };
    const soft = toLimit(softText!);
    const hard = hardText === undefined ? soft : toLimit(hardText);
    if (soft > hard) throw flagError(`invalid argument "${v}" for "--ulimit" flag: ulimit soft limit must be less than or equal to hard limit: ${softText} > ${hardText}`);
    byType.set(name!, { type: `RLIMIT_${name!.toUpperCase()}`, soft, hard });
  }
  return [...byType.values()];
}

/**
 * --mount type=bind|tmpfs,... as the -v and --tmpfs values it stands for. Keys: type,
 * source/src, destination/dst/target, readonly/ro[=true|false], bind-propagation (only
 * rprivate, minidock's), tmpfs-size, tmpfs-mode. type=volume waits for named volumes.
 */
export function parseMount(v: string): { volume?: string; tmpfs?: string; bindSource?: string } {
  const kv = new Map<string, string>();
  for (const part of v.split(',')) {
    const eq = part.indexOf('=');
    const key = (eq < 0 ? part : part.slice(0, eq)).trim().toLowerCase();
    if (key === '') continue;
    kv.set(key, eq < 0 ? 'true' : part.slice(eq + 1));
  }
  const bad = (why: string): never => { throw flagError(`invalid argument "${v}" for "--mount" flag: ${why}`); };
  const type = kv.get('type') ?? 'volume';
  const dst = kv.get('destination') ?? kv.get('dst') ?? kv.get('target');
  if (!dst) bad('target is required');
  const src = kv.get('source') ?? kv.get('src');
  const roText = kv.get('readonly') ?? kv.get('ro');
  if (roText !== undefined && !['true', 'false', '1', '0'].includes(roText)) bad(`invalid value for readonly: ${roText}`);
  const ro = roText === 'true' || roText === '1';
  const known = new Set(['type', 'source', 'src', 'destination', 'dst', 'target', 'readonly', 'ro', 'bind-propagation', 'tmpfs-size', 'tmpfs-mode', 'consistency', 'volume-nocopy']);
  for (const k of kv.keys()) if (!known.has(k)) bad(`unexpected key '${k}'`);
  const prop = kv.get('bind-propagation');
  if (prop !== undefined && prop !== 'rprivate') bad(`bind-propagation ${prop}: minidock's binds are rprivate`);
  switch (type) {
    case 'bind':
      if (!src) bad('source is required when specifying bind mounts');
      return { volume: `${src}:${dst}${ro ? ':ro' : ''}`, bindSource: src! };
    case 'tmpfs': {
      if (src) bad('source is not supported for tmpfs mounts');
      const opts = [kv.has('tmpfs-size') ? `size=${kv.get('tmpfs-size')}` : '', kv.has('tmpfs-mode') ? `mode=${kv.get('tmpfs-mode')}` : '', ro ? 'ro' : ''].filter(Boolean);
      return { tmpfs: opts.length ? `${dst}:${opts.join(',')}` : dst! };
    }
    case 'volume': {
      // -v's syntax: NAME:DST[:opts] a named volume, DST alone an anonymous one.
      const nocopy = kv.get('volume-nocopy');
      const opts = [ro ? 'ro' : '', nocopy === 'true' || nocopy === '1' ? 'nocopy' : ''].filter(Boolean).join(',');
      if (!src) return { volume: dst! };
      return { volume: `${src}:${dst}${opts ? `:${opts}` : ''}` };
    }
    default:
      return bad(`invalid mount type: ${type}`);
  }
}

/** --device HOST[:CTR[:PERMS]] as docker parses it: PERMS of r, w, m (default rwm); a CTR that
 *  is only letters of rwm is the PERMS (`--device /dev/fuse:rw`). The node is stat'ed by the
 *  caller (run.ts), which gives its type and numbers. */
export function parseDeviceFlag(v: string): { host: string; path: string; perms: string } {
  const parts = v.split(':');
  if (parts.length > 3 || parts.some((p) => p === '')) throw flagError(`invalid argument "${v}" for "--device" flag: bad format for path: ${v}`, 'HOST[:CONTAINER[:PERMISSIONS]], e.g. /dev/fuse or /dev/sdb:/dev/xvdc:r');
  const isPerms = (p: string): boolean => /^[rwm]{1,3}$/.test(p) && new Set(p).size === p.length;
  let [host, path, perms] = parts as [string, string | undefined, string | undefined];
  if (path !== undefined && perms === undefined && isPerms(path)) [path, perms] = [undefined, path];
  if (!host.startsWith('/') || (path !== undefined && !path.startsWith('/'))) throw flagError(`invalid argument "${v}" for "--device" flag: ${!host.startsWith('/') ? host : path} is not an absolute path`);
  if (perms !== undefined && !isPerms(perms)) throw flagError(`invalid argument "${v}" for "--device" flag: invalid device mode: ${perms}`, 'permissions are r, w and m');
  return { host, path: path ?? host, perms: perms ?? 'rwm' };
}

/** --pid, --ipc and --uts as docker's HostConfig PidMode, IpcMode and UTSMode: "host" shares
 *  the host's namespace; the default (and --ipc private or shareable) is the container's own.
 *  container:NAME is not supported yet. */
export interface NamespaceModes {
  pidMode?: 'host';
  ipcMode?: 'host';
  utsMode?: 'host';
}

export function parseNamespaceModes(o: { pid?: string; ipc?: string; uts?: string; hostname?: string; domainname?: string }): NamespaceModes {
  const mode = (flag: string, v: string | undefined, own: readonly string[]): 'host' | undefined => {
    if (v === undefined || own.includes(v)) return undefined;
    if (v === 'host') return 'host';
    if (v.startsWith('container:')) throw usageError(`--${flag} ${v}: sharing another container's namespace is not supported yet`, `use --${flag}=host, or leave --${flag} out for the container's own`);
    throw usageError(`invalid --${flag} "${v}"`, `use --${flag}=host${own.length > 1 ? ` or ${own.filter(Boolean).join(', ')}` : ''}, or leave it out for the container's own`);
  };
  const out: NamespaceModes = {};
  const pid = mode('pid', o.pid, ['']);
  const ipc = mode('ipc', o.ipc, ['', 'private', 'shareable']);
  const uts = mode('uts', o.uts, ['']);
  if (uts && o.hostname !== undefined) throw usageError('conflicting options: hostname and the UTS mode', '-h cannot be used with --uts=host');
  if (uts && o.domainname) throw usageError('conflicting options: domainname and the UTS mode', '--domainname cannot be used with --uts=host');
  if (pid) out.pidMode = pid;
  if (ipc) out.ipcMode = ipc;
  if (uts) out.utsMode = uts;
  return out;
}
