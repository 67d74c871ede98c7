// minidock's default seccomp filter (native/src/seccomp.c) as an OCI linux.seccomp profile, for the
// config.json of `minidock run --dry-run --bundle` (from-spec.ts): for every x86_64 call and argument,
// the verdict the native filter gives, under runc, crun and minidock-runc alike. Pure.
//
// The tables below copy seccomp.c's denied[], allowed[], personalities[], NS_FLAGS and socket
// families; test/unit/oci-from-spec.test.ts reads them out of the C and compares, so they cannot drift.
//
// What a profile has to spell out that the BPF says by falling through:
//   - libseccomp (so runc and crun) ORs a call's entries and gives the default action (ENOSYS here)
//     when none holds, where the native filter answers EPERM: a clone with namespace flags, a refused
//     socket family, a refused persona. So each call with argument checks gets entries for both
//     answers, together covering every value: ALLOW where the C allows, ERRNO(EPERM) elsewhere.
//   - A call's ALLOW and EPERM entries never overlap: libseccomp orders a call's comparisons by operator
//     and value (db.c, _db_chain_lt), not as the profile lists them, and minidock-runc takes the first
//     that holds, so only disjoint answers mean one verdict everywhere. Entries with the same answer
//     may overlap (libseccomp merges them).
//   - Every entry has one condition: runc turns two conditions on one argument into two entries (OR),
//     crun ANDs them.
//   - The C compares the low 32 bits of clone's and socket's first argument (the kernel reads an int),
//     all 64 bits of personality's. A MASKED_EQ whose mask has no high bits compares the low word only.
// What a profile cannot say: the native filter answers EPERM to another ABI (i386's int 0x80, x32's
// syscall bit), libseccomp and minidock-runc kill the thread (the bad-arch action, which runtime-spec
// has no field for). And a name the runtime's libseccomp (or minidock-runc's table) does not know is
// skipped, so such a call, newer than that library, gets ENOSYS where the native filter lets it through.
import { CAP_NAMES } from '../spec/caps.js';

type CapName = (typeof CAP_NAMES)[number];

/** seccomp.c's denied[]: calls that reach past the container, with the capabilities (either one)
 *  that unlock them, as docker's profile has them; none: always EPERM. In the C's order. */
export const DENIED: ReadonlyArray<readonly [string, ...CapName[]]> = [
  ['mount', 'SYS_ADMIN'], ['umount2', 'SYS_ADMIN'], ['unshare', 'SYS_ADMIN'], ['setns', 'SYS_ADMIN'],
  ['fsopen', 'SYS_ADMIN'], ['fsconfig', 'SYS_ADMIN'], ['fsmount', 'SYS_ADMIN'], ['fspick', 'SYS_ADMIN'], ['move_mount', 'SYS_ADMIN'],
  ['open_tree', 'SYS_ADMIN'], ['mount_setattr', 'SYS_ADMIN'], ['sethostname', 'SYS_ADMIN'], ['setdomainname', 'SYS_ADMIN'],
  ['quotactl', 'SYS_ADMIN'], ['quotactl_fd', 'SYS_ADMIN'], ['lookup_dcookie', 'SYS_ADMIN'], ['fanotify_init', 'SYS_ADMIN'],
  ['lsm_get_self_attr', 'SYS_ADMIN'], ['lsm_set_self_attr', 'SYS_ADMIN'], ['lsm_list_modules', 'SYS_ADMIN'],
  ['syslog', 'SYSLOG', 'SYS_ADMIN'], ['bpf', 'BPF', 'SYS_ADMIN'], ['perf_event_open', 'PERFMON', 'SYS_ADMIN'], ['chroot', 'SYS_CHROOT'],
  ['init_module', 'SYS_MODULE'], ['finit_module', 'SYS_MODULE'], ['delete_module', 'SYS_MODULE'],
  ['pivot_root'],
  ['kexec_load'], ['kexec_file_load'], ['keyctl'], ['add_key'], ['request_key'],
  ['userfaultfd'], ['nfsservctl'], ['swapon'], ['swapoff'],
  ['io_uring_setup'], ['io_uring_enter'], ['io_uring_register'],
  ['open_by_handle_at', 'DAC_READ_SEARCH'], ['reboot', 'SYS_BOOT'], ['acct', 'SYS_PACCT'],
  ['settimeofday', 'SYS_TIME'], ['clock_settime', 'SYS_TIME'],
  ['vhangup', 'SYS_TTY_CONFIG'], ['iopl', 'SYS_RAWIO'], ['ioperm', 'SYS_RAWIO'],
  ['kcmp', 'SYS_PTRACE'], ['pidfd_getfd', 'SYS_PTRACE'], ['process_madvise', 'SYS_PTRACE'],
  ['get_mempolicy', 'SYS_NICE'], ['set_mempolicy', 'SYS_NICE'], ['set_mempolicy_home_node', 'SYS_NICE'], ['mbind', 'SYS_NICE'],
  ['move_pages'], ['migrate_pages'],
];

/** seccomp.c's allowed[], in its order (socket among them: its argument rules come first there). */
export const ALLOWED: readonly string[] = [
  'accept', 'accept4', 'access', 'alarm', 'bind', 'brk', 'capget', 'capset', 'chdir', 'chmod', 'chown',
  'clock_getres', 'clock_gettime', 'clock_nanosleep', 'close', 'close_range', 'connect',
  'copy_file_range', 'creat', 'dup', 'dup2', 'dup3', 'epoll_create', 'epoll_create1', 'epoll_ctl',
  'epoll_pwait', 'epoll_pwait2', 'epoll_wait', 'eventfd', 'eventfd2', 'execve', 'execveat', 'exit',
  'exit_group', 'faccessat', 'faccessat2', 'fadvise64', 'fallocate', 'fanotify_mark', 'fchdir',
  'fchmod', 'fchmodat', 'fchown', 'fchownat', 'fcntl', 'fdatasync', 'fgetxattr', 'flistxattr', 'flock',
  'fork', 'fremovexattr', 'fsetxattr', 'fstat', 'fstatfs', 'fsync', 'ftruncate', 'futex',
  'futex_waitv', 'futimesat', 'getcpu', 'getcwd', 'getdents', 'getdents64', 'getegid', 'geteuid',
  'getgid', 'getgroups', 'getitimer', 'getpeername', 'getpgid', 'getpgrp', 'getpid', 'getppid',
  'getpriority', 'getrandom', 'getresgid', 'getresuid', 'getrlimit', 'get_robust_list', 'getrusage',
  'getsid', 'getsockname', 'getsockopt', 'get_thread_area', 'gettid', 'gettimeofday', 'getuid',
  'getxattr', 'inotify_add_watch', 'inotify_init', 'inotify_init1', 'inotify_rm_watch', 'io_cancel',
  'ioctl', 'io_destroy', 'io_getevents', 'io_pgetevents', 'ioprio_get', 'ioprio_set', 'io_setup',
  'io_submit', 'kill', 'landlock_add_rule', 'landlock_create_ruleset', 'landlock_restrict_self',
  'lchown', 'lgetxattr', 'link', 'linkat', 'listen', 'listxattr', 'llistxattr', 'lremovexattr',
  'lseek', 'lsetxattr', 'lstat', 'madvise', 'membarrier', 'memfd_create', 'memfd_secret', 'mincore',
  'mkdir', 'mkdirat', 'mknod', 'mknodat', 'mlock', 'mlock2', 'mlockall', 'mmap', 'mprotect',
  'mq_getsetattr', 'mq_notify', 'mq_open', 'mq_timedreceive', 'mq_timedsend', 'mq_unlink', 'mremap',
  'msgctl', 'msgget', 'msgrcv', 'msgsnd', 'msync', 'munlock', 'munlockall', 'munmap',
  'name_to_handle_at', 'nanosleep', 'newfstatat', 'open', 'openat', 'openat2', 'pause', 'pidfd_open',
  'pidfd_send_signal', 'pipe', 'pipe2', 'pkey_alloc', 'pkey_free', 'pkey_mprotect', 'poll', 'ppoll',
  'prctl', 'pread64', 'preadv', 'preadv2', 'prlimit64', 'process_mrelease', 'pselect6', 'ptrace',
  'pwrite64', 'pwritev', 'pwritev2', 'read', 'readahead', 'readlink', 'readlinkat', 'readv',
  'recvfrom', 'recvmmsg', 'recvmsg', 'remap_file_pages', 'removexattr', 'rename', 'renameat',
  'renameat2', 'restart_syscall', 'rmdir', 'rseq', 'rt_sigaction', 'rt_sigpending', 'rt_sigprocmask',
  'rt_sigqueueinfo', 'rt_sigreturn', 'rt_sigsuspend', 'rt_sigtimedwait', 'rt_tgsigqueueinfo',
  'sched_getaffinity', 'sched_getattr', 'sched_getparam', 'sched_get_priority_max',
  'sched_get_priority_min', 'sched_getscheduler', 'sched_rr_get_interval', 'sched_setaffinity',
  'sched_setattr', 'sched_setparam', 'sched_setscheduler', 'sched_yield', 'seccomp', 'select',
  'semctl', 'semget', 'semop', 'semtimedop', 'sendfile', 'sendmmsg', 'sendmsg', 'sendto', 'setfsgid',
  'setfsuid', 'setgid', 'setgroups', 'setitimer', 'setpgid', 'setpriority', 'setregid', 'setresgid',
  'setresuid', 'setreuid', 'setrlimit', 'set_robust_list', 'setsid', 'setsockopt', 'set_thread_area',
  'set_tid_address', 'setuid', 'setxattr', 'shmat', 'shmctl', 'shmdt', 'shmget', 'shutdown',
  'sigaltstack', 'signalfd', 'signalfd4', 'socket', 'socketpair', 'splice', 'stat', 'statfs', 'statx',
  'symlink', 'symlinkat', 'sync', 'sync_file_range', 'syncfs', 'sysinfo', 'tee', 'tgkill', 'time',
  'timer_create', 'timer_delete', 'timer_getoverrun', 'timer_gettime', 'timer_settime',
  'timerfd_create', 'timerfd_gettime', 'timerfd_settime', 'times', 'tkill', 'truncate', 'umask',
  'uname', 'unlink', 'unlinkat', 'utime', 'utimensat', 'utimes', 'vfork', 'vmsplice', 'wait4',
  'waitid', 'write', 'writev', 'arch_prctl', 'modify_ldt', 'adjtimex', 'clock_adjtime',
  'process_vm_readv', 'process_vm_writev', 'uretprobe', 'cachestat', 'fchmodat2', 'map_shadow_stack',
  'futex_wake', 'futex_wait', 'futex_requeue', 'statmount', 'listmount', 'mseal', 'setxattrat',
  'getxattrat', 'listxattrat', 'removexattrat',
];

/** clone(2)'s namespace flags (linux/sched.h), seccomp.c's NS_FLAGS: without CAP_SYS_ADMIN a clone
 *  with any of them gets EPERM, clone3 (whose flags sit in memory a filter cannot read) ENOSYS. */
export const NS_FLAGS: Readonly<Record<string, number>> = {
  CLONE_NEWNS: 0x00020000, CLONE_NEWUTS: 0x04000000, CLONE_NEWIPC: 0x08000000, CLONE_NEWUSER: 0x10000000,
  CLONE_NEWPID: 0x20000000, CLONE_NEWNET: 0x40000000, CLONE_NEWCGROUP: 0x02000000,
};

/** socket(2) families refused with EPERM: AF_ALG (the host's crypto API), AF_VSOCK (hypervisor sockets). */
export const REFUSED_FAMILIES: readonly number[] = [38, 40];

/** personality(2) arguments allowed (all 64 bits): PER_LINUX, PER_LINUX32, UNAME26, both, and the
 *  0xffffffff query. Any other gets EPERM. */
export const PERSONALITIES: readonly number[] = [0x0, 0x8, 0x20000, 0x20008, 0xffffffff];

const EPERM = 1;
const ENOSYS = 38;
const LOW_WORD = 0xffffffff;

export interface ProfileArg {
  index: number;
  value: number;
  valueTwo?: number;
  op: 'SCMP_CMP_EQ' | 'SCMP_CMP_GT' | 'SCMP_CMP_MASKED_EQ';
}

export interface ProfileRule {
  names: string[];
  action: 'SCMP_ACT_ALLOW' | 'SCMP_ACT_ERRNO';
  errnoRet?: number;
  args?: ProfileArg[];
}

/** linux.seccomp as config.json carries it. */
export interface SeccompProfile {
  defaultAction: 'SCMP_ACT_ERRNO';
  defaultErrnoRet: number;
  architectures: string[];
  flags: string[];
  syscalls: ProfileRule[];
}

/** arg0 & mask == value, where the mask has low bits only: the low word's bits in `mask` equal `value`'s. */
const bits = (mask: number, value: number): ProfileArg => ({ index: 0, value: mask >>> 0, valueTwo: value >>> 0, op: 'SCMP_CMP_MASKED_EQ' });
const allow = (name: string, arg: ProfileArg): ProfileRule => ({ names: [name], action: 'SCMP_ACT_ALLOW', args: [arg] });
const refuse = (name: string, arg: ProfileArg): ProfileRule => ({ names: [name], action: 'SCMP_ACT_ERRNO', errnoRet: EPERM, args: [arg] });
/** Bit i of a word, counted cyclically (bit 32 is bit 0, bit -1 is bit 31). */
const bit = (i: number): number => (1 << (i & 31)) >>> 0;
const popcount = (w: number): number => [...Array(32).keys()].filter((i) => w & bit(i)).length;

/**
 * The low words that are none of `points`, as bit patterns (mask, value), possibly overlapping.
 * A word differs from every point either in a bit where all the points agree (one pattern for
 * each such bit: its other value), or, agreeing with them there, in the few bits where they
 * differ (one pattern for each combination of those bits that no point has).
 */
export function wordsOutside(points: readonly number[]): Array<[number, number]> {
  const all = points.reduce((m, p) => (m & p) >>> 0, LOW_WORD);
  const any = points.reduce((m, p) => (m | p) >>> 0, 0);
  const differ = (all ^ any) >>> 0;
  const free = [...Array(32).keys()].filter((i) => differ & bit(i));
  // 2^free patterns of the second kind: a few points that differ in a few bits (socket's two families).
  if (free.length > 4) throw new Error(`wordsOutside: ${free.length} bits differ among the points`);
  const out: Array<[number, number]> = [];
  for (let i = 0; i < 32; i++) if (!(differ & bit(i))) out.push([bit(i), all & bit(i) ? 0 : bit(i)]);
  for (let c = 0; c < 1 << free.length; c++) {
    const v = free.reduce((w, b, j) => (c & (1 << j) ? (w | bit(b)) >>> 0 : w), (all & ~differ) >>> 0);
    if (!points.includes(v)) out.push([differ, (v & differ) >>> 0]);
  }
  return out;
}

/**
 * The low words that are neither a combination of the bits in `set` nor 0xffffffff, as
 * overlapping bit patterns. Such a word has a run of ones (read cyclically) and a zero; if some
 * run ends at a bit k outside `set`, the pattern "k set, k+1 clear" holds; otherwise a run holding
 * a bit outside `set` ends at some e in `set` and is longer than one bit: "e-1 and e set, e+1
 * clear" holds. Neither pattern matches a combination of `set` (k, e-1 are outside it) nor
 * 0xffffffff (a clear bit). Needs no two bits of `set` to be neighbours.
 */
export function wordsNeitherSubsetNorOnes(set: number): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (let k = 0; k < 32; k++) {
    const inSet = (set & bit(k)) !== 0;
    if (inSet && set & (bit(k - 1) | bit(k + 1))) throw new Error('wordsNeitherSubsetNorOnes: neighbouring bits');
    if (!inSet) out.push([(bit(k) | bit(k + 1)) >>> 0, bit(k)]);
    else out.push([(bit(k - 1) | bit(k) | bit(k + 1)) >>> 0, (bit(k - 1) | bit(k)) >>> 0]);
  }
  return out;
}

const has = (caps: bigint, cap: CapName): boolean => ((caps >> BigInt(CAP_NAMES.indexOf(cap))) & 1n) === 1n;

/** The entries of the calls seccomp.c checks arguments of, for a container without CAP_SYS_ADMIN. */
function argumentRules(): ProfileRule[] {
  const rules: ProfileRule[] = [];
  // clone: no namespace flag → ALLOW; any one of them → EPERM (the low word, as the C's JSET).
  const ns = Object.values(NS_FLAGS).reduce((m, f) => (m | f) >>> 0, 0);
  rules.push(allow('clone', bits(ns, 0)), ...Object.values(NS_FLAGS).map((f) => refuse('clone', bits(f, f))));
  // socket: a refused family in the low word → EPERM; any other low word → ALLOW.
  rules.push(...REFUSED_FAMILIES.map((f) => refuse('socket', bits(LOW_WORD, f))));
  rules.push(...wordsOutside(REFUSED_FAMILIES).map(([m, v]) => allow('socket', bits(m, v))));
  // personality: one of the values, all 64 bits → ALLOW; a high bit set, or another low word → EPERM.
  // The allowed personas are every combination of a few bits (PER_LINUX32, UNAME26) and the query.
  const subsets = PERSONALITIES.filter((p) => p !== LOW_WORD);
  const set = subsets.reduce((m, p) => (m | p) >>> 0, 0);
  if (subsets.length !== PERSONALITIES.length - 1 || subsets.length !== 2 ** popcount(set)) {
    throw new Error('PERSONALITIES: expected every combination of a few bits, and 0xffffffff');
  }
  rules.push(...PERSONALITIES.map((p) => allow('personality', { index: 0, value: p, op: 'SCMP_CMP_EQ' })));
  rules.push(refuse('personality', { index: 0, value: LOW_WORD, op: 'SCMP_CMP_GT' }));
  rules.push(...wordsNeitherSubsetNorOnes(set).map(([m, v]) => refuse('personality', bits(m, v))));
  return rules;
}

/** Calls with argument rules: seccomp.c decides them before its lists. */
const CHECKED = new Set(['clone', 'clone3', 'socket', 'personality']);

/**
 * linux.seccomp for a container whose bounding set is `capsHex` (the spec's mask): what
 * seccomp_default_program() builds for those capabilities. Default ENOSYS; x86_64 only; no
 * filter flags (the C installs with prctl, without SECCOMP_FILTER_FLAG_SPEC_ALLOW, which runc
 * would add for a profile with no `flags` at all).
 */
export function defaultSeccompProfile(capsHex: string): SeccompProfile {
  const caps = BigInt(`0x${capsHex || '0'}`);
  const sysAdmin = has(caps, 'SYS_ADMIN');
  const deniedNames = new Set(DENIED.map(([n]) => n));
  const unlocked = DENIED.filter(([, ...c]) => c.some((cap) => has(caps, cap))).map(([n]) => n);
  const locked = DENIED.filter(([, ...c]) => !c.some((cap) => has(caps, cap))).map(([n]) => n);
  // seccomp.c checks denied[] before allowed[]: a name in both is denied's.
  const allowed = ALLOWED.filter((n) => !CHECKED.has(n) && !deniedNames.has(n));
  const syscalls: ProfileRule[] = [
    // With CAP_SYS_ADMIN clone3 and clone go unchecked (docker's rule); without, clone3 is left to
    // the default (ENOSYS: libc falls back to clone).
    { names: [...allowed, ...unlocked, ...(sysAdmin ? ['clone', 'clone3'] : [])], action: 'SCMP_ACT_ALLOW' },
    ...(locked.length ? [{ names: locked, action: 'SCMP_ACT_ERRNO' as const, errnoRet: EPERM }] : []),
    ...argumentRules().filter((r) => !(sysAdmin && r.names[0] === 'clone')),
  ];
  return { defaultAction: 'SCMP_ACT_ERRNO', defaultErrnoRet: ENOSYS, architectures: ['SCMP_ARCH_X86_64'], flags: [], syscalls };
}
