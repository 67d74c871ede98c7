// User namespace remapping: which host uids and gids a container's ids stand for. Pure.
//
// By default a container's root is not the host's root: uid 0 inside is uid 100000 outside, and
// ids 0..65535 inside map onto 100000..165535 (docker's --userns-remap, on by default here). A
// process that escapes the container's namespaces is then an unprivileged nobody on the host,
// and a file it writes into a bind mount belongs to 100000, not to root.
import { usageError } from '../core/errors.js';
import { IDENTITY_MAP, type IdMapping } from './container-spec.js';

export interface IdRange {
  /** First id inside the namespace. */
  inside: number;
  /** The host id it stands for. */
  outside: number;
  count: number;
}

/** minidock's default range, the one docker's dockremap user usually gets in /etc/subuid. */
export const DEFAULT_REMAP = { base: 100000, count: 65536 } as const;

/** Parses the text of /proc/PID/uid_map (or what we write there): "inside outside count" lines. */
export function parseIdMap(text: string): IdRange[] {
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .map((l) => {
      const [inside, outside, count] = l.split(/\s+/).map(Number);
      return { inside: inside!, outside: outside!, count: count! };
    });
}

/** The host id for `id` inside the namespace, or undefined when the map leaves it out. */
export function hostId(map: string, id: number): number | undefined {
  for (const r of parseIdMap(map)) if (id >= r.inside && id < r.inside + r.count) return r.outside + (id - r.inside);
  return undefined;
}

export function isIdentity(m: IdMapping): boolean {
  return m.uidMap === IDENTITY_MAP.uidMap && m.gidMap === IDENTITY_MAP.gidMap;
}

/** The host ids of the container's root, or undefined under the identity mapping. */
export function mappedRoot(m: IdMapping): { uid: number; gid: number } | undefined {
  if (isIdentity(m)) return undefined;
  return { uid: hostId(m.uidMap, 0) ?? 0, gid: hostId(m.gidMap, 0) ?? 0 };
}

export function remapMapping(base: number, count: number): IdMapping {
  const line = `0 ${base} ${count}`;
  return { uidMap: line, gidMap: line };
}

/**
 * MINIDOCK_USERNS_REMAP: "BASE:COUNT" (default 100000:65536), or "host" to make the identity
 * mapping the default, as a docker daemon without --userns-remap has it.
 */
export function parseRemapSetting(value: string | undefined): { base: number; count: number } | 'host' {
  if (value === undefined || value === '') return DEFAULT_REMAP;
  if (value === 'host') return 'host';
  const m = /^(\d+):(\d+)$/.exec(value);
  const base = m ? Number(m[1]) : NaN;
  const count = m ? Number(m[2]) : NaN;
  // The range must hold root and the usual system ids (a container's nobody is 65534), and it
  // must not start at 0: that would be host root again.
  if (!m || base < 1 || count < 65536 || base + count > 0xffffffff) {
    throw usageError(
      `invalid MINIDOCK_USERNS_REMAP "${value}": expected BASE:COUNT with BASE >= 1 and COUNT >= 65536, or "host"`,
      'for example MINIDOCK_USERNS_REMAP=100000:65536',
    );
  }
  return { base, count };
}

/** docker's `--userns`: empty for the (remapped) default, or "host". */
export function parseUsernsFlag(value: string | undefined): 'default' | 'host' {
  if (value === undefined || value === '') return 'default';
  if (value === 'host') return 'host';
  throw usageError(`invalid --userns "${value}": the only mode is "host"`, 'leave --userns out for the remapped default, or use --userns=host');
}

/**
 * The mapping a container gets. --privileged, --network host and --pid host give the container
 * the host's powers, network stack or processes, which a remapped root could not use (it has no
 * capability over the host's namespaces, nor the host's uids to signal its processes with): all
 * keep the identity mapping, as --userns=host does (docker refuses them under userns-remap).
 */
export function chooseMapping(o: { userns: 'default' | 'host'; privileged: boolean; hostNetwork: boolean; hostPid?: boolean }, setting: ReturnType<typeof parseRemapSetting>): IdMapping {
  if (o.userns === 'host' || o.privileged || o.hostNetwork || o.hostPid || setting === 'host') return IDENTITY_MAP;
  return remapMapping(setting.base, setting.count);
}

/** Overlayfs accepts idmapped lower layers since Linux 5.19. */
export function kernelHasIdmappedOverlay(release: string): boolean {
  const m = /^(\d+)\.(\d+)/.exec(release);
  if (!m) return false;
  const major = Number(m[1]);
  const minor = Number(m[2]);
  return major > 5 || (major === 5 && minor >= 19);
}

/** Where a mapping's shifted copy of an image lives (the fallback without idmapped mounts). */
export function shiftedDirName(m: IdMapping): string {
  const r = parseIdMap(m.uidMap)[0]!;
  const g = parseIdMap(m.gidMap)[0]!;
  return `rootfs-${r.outside}-${r.count}-${g.outside}-${g.count}`;
}

/** The container's ids that the mapping cannot hold: setuid/setgid to one of them fails with
 *  EINVAL after clone, far from the flag that asked for it, so refuse it up front. */
export function checkUserMapped(user: { uid: number; gid: number; additionalGids?: number[] }, m: IdMapping, flag = '-u'): void {
  const out = (kind: 'uid' | 'gid', id: number, map: string): void => {
    if (hostId(map, id) !== undefined) return;
    const ranges = parseIdMap(map).map((r) => `${r.inside}-${r.inside + r.count - 1} are host ${r.outside}-${r.outside + r.count - 1}`).join(', ');
    throw usageError(
      `invalid ${flag}: ${kind} ${id} is outside the container's user namespace (its ${kind}s ${ranges})`,
      `use a ${kind} the range holds, a larger MINIDOCK_USERNS_REMAP count, or --userns=host`,
    );
  };
  out('uid', user.uid, m.uidMap);
  for (const g of [user.gid, ...(user.additionalGids ?? [])]) out('gid', g, m.gidMap);
}
