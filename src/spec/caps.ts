// Linux capabilities: names, docker's default set, and --cap-add/--cap-drop/--privileged turned
// into the mask the child keeps. Pure.
import { usageError } from '../core/errors.js';

/** capabilities(7), in kernel order (the index is the capability number). */
export const CAP_NAMES = [
  'CHOWN', 'DAC_OVERRIDE', 'DAC_READ_SEARCH', 'FOWNER', 'FSETID', 'KILL', 'SETGID', 'SETUID', 'SETPCAP',
  'LINUX_IMMUTABLE', 'NET_BIND_SERVICE', 'NET_BROADCAST', 'NET_ADMIN', 'NET_RAW', 'IPC_LOCK', 'IPC_OWNER',
  'SYS_MODULE', 'SYS_RAWIO', 'SYS_CHROOT', 'SYS_PTRACE', 'SYS_PACCT', 'SYS_ADMIN', 'SYS_BOOT', 'SYS_NICE',
  'SYS_RESOURCE', 'SYS_TIME', 'SYS_TTY_CONFIG', 'MKNOD', 'LEASE', 'AUDIT_WRITE', 'AUDIT_CONTROL', 'SETFCAP',
  'MAC_OVERRIDE', 'MAC_ADMIN', 'SYSLOG', 'WAKE_ALARM', 'BLOCK_SUSPEND', 'AUDIT_READ', 'PERFMON', 'BPF',
  'CHECKPOINT_RESTORE',
] as const;

/** docker's default set (moby's oci/caps/defaults.go): CapEff 00000000a80425fb. */
export const DEFAULT_CAPS = [
  'CHOWN', 'DAC_OVERRIDE', 'FSETID', 'FOWNER', 'MKNOD', 'NET_RAW', 'SETGID', 'SETUID', 'SETFCAP', 'SETPCAP',
  'NET_BIND_SERVICE', 'SYS_CHROOT', 'KILL', 'AUDIT_WRITE',
] as const;

const bit = (name: string): bigint => 1n << BigInt(CAP_NAMES.indexOf(name as (typeof CAP_NAMES)[number]));
const ALL = CAP_NAMES.reduce((m, n) => m | bit(n), 0n);

/** `NET_ADMIN`, `CAP_NET_ADMIN`, `net_admin` are the same; `ALL` is every capability. */
function normalise(name: string): string {
  const n = name.trim().toUpperCase().replace(/^CAP_/, '');
  if (n !== 'ALL' && !(CAP_NAMES as readonly string[]).includes(n)) {
    throw usageError(`unknown capability "${name}"`, 'names as in capabilities(7), e.g. NET_ADMIN or CAP_SYS_TIME, or ALL');
  }
  return n;
}

export interface CapOptions {
  add: string[];
  drop: string[];
  privileged: boolean;
}

/** The mask the container keeps, as hex for the plan. Docker's three cases (moby's
 *  TweakCapabilities): --cap-add ALL keeps every capability but those dropped (so
 *  --cap-add ALL --cap-drop SYS_ADMIN has no SYS_ADMIN); --cap-drop ALL keeps just those added;
 *  otherwise the drops apply to the defaults and the adds after them. */
export function capabilityMask(o: CapOptions): string {
  if (o.privileged) return ALL.toString(16);
  const add = o.add.map(normalise);
  const drop = o.drop.map(normalise);
  const only = (names: string[]): bigint => names.filter((n) => n !== 'ALL').reduce((m, n) => m | bit(n), 0n);
  if (add.includes('ALL')) return (ALL & ~only(drop)).toString(16);
  if (drop.includes('ALL')) return only(add).toString(16);
  return ((DEFAULT_CAPS.reduce((m, n) => m | bit(n), 0n) & ~only(drop)) | only(add)).toString(16);
}

/** Names of the capabilities in a mask, for inspect and error messages. */
export function capabilityNames(hex: string): string[] {
  const mask = BigInt(`0x${hex}`);
  return CAP_NAMES.filter((n) => (mask & bit(n)) !== 0n).map((n) => `CAP_${n}`);
}
