/* The default seccomp filter: a classic-BPF program, built once in the parent (it allocates)
 * and installed by the child with one prctl just before execve (which allocates nothing).
 *
 * The policy, modelled on docker's default profile (moby profiles/seccomp/default.json, as of
 * 2025) but written for x86_64 only:
 *   - a syscall from another ABI (i386 via int 0x80, x32 via the 0x40000000 bit) is refused with
 *     EPERM: their numbers differ from x86_64's, so a filter keyed on x86_64 numbers must not
 *     see them, or they would slip past it;
 *   - clone3 returns ENOSYS, so libc falls back to clone, whose flags a filter can inspect;
 *     clone itself is allowed only without namespace flags;
 *   - calls that reach past the container (mounts, namespaces, modules, kexec, keyrings, bpf,
 *     perf, swap, the clock, reboot...) return EPERM, as does io_uring (docker dropped it from
 *     its profile in 2023: its own code path around seccomp and LSMs, and a long run of kernel
 *     exploits);
 *   - argument checks, as docker's: socket() with AF_ALG (38) or AF_VSOCK (40) gets EPERM (the
 *     host's crypto API and hypervisor sockets); personality() only with 0, PER_LINUX32 (8),
 *     UNAME26 (0x20000), both (0x20008), or the 0xffffffff query, else EPERM (no
 *     READ_IMPLIES_EXEC, ADDR_NO_RANDOMIZE...);
 *   - an allow-list of ordinary calls returns ALLOW;
 *   - everything else returns ENOSYS, as for a syscall the kernel does not have, so programs
 *     probing for new calls fall back gracefully (docker gives EPERM; runc answers ENOSYS too,
 *     for calls newer than its profile).
 * ptrace stays allowed, as in docker (kernel >= 4.8: a tracee's syscalls are filtered after the
 * tracer's changes). PTRACE_TRACEME on PID 1 is harmless: the waiters never take a ptrace-stop
 * for an exit (reap.h), and refusing it would break `gdb ./prog` inside containers.
 * The checks are a linear list: simple to read, ~1 µs per syscall.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "container.h"

#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <stddef.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/syscall.h>

#define NS_FLAGS (CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWCGROUP)

/* x86_64 numbers of calls newer than this libc's headers (Debian 12: glibc 2.36, Linux 6.1). */
#ifndef SYS_uretprobe
#define SYS_uretprobe 335
#endif
#ifndef SYS_cachestat
#define SYS_cachestat 451
#endif
#ifndef SYS_fchmodat2
#define SYS_fchmodat2 452
#endif
#ifndef SYS_map_shadow_stack
#define SYS_map_shadow_stack 453
#endif
#ifndef SYS_futex_wake
#define SYS_futex_wake 454
#endif
#ifndef SYS_futex_wait
#define SYS_futex_wait 455
#endif
#ifndef SYS_futex_requeue
#define SYS_futex_requeue 456
#endif
#ifndef SYS_statmount
#define SYS_statmount 457
#endif
#ifndef SYS_listmount
#define SYS_listmount 458
#endif
#ifndef SYS_lsm_get_self_attr
#define SYS_lsm_get_self_attr 459
#endif
#ifndef SYS_lsm_set_self_attr
#define SYS_lsm_set_self_attr 460
#endif
#ifndef SYS_lsm_list_modules
#define SYS_lsm_list_modules 461
#endif
#ifndef SYS_mseal
#define SYS_mseal 462
#endif
#ifndef SYS_setxattrat
#define SYS_setxattrat 463
#endif
#ifndef SYS_getxattrat
#define SYS_getxattrat 464
#endif
#ifndef SYS_listxattrat
#define SYS_listxattrat 465
#endif
#ifndef SYS_removexattrat
#define SYS_removexattrat 466
#endif

/* socket() families docker's profile refuses (its rules allow family < 38, == 39, > 40). */
#define FAMILY_ALG 38
#define FAMILY_VSOCK 40

/* Calls that reach past the container, each with the capabilities that unlock it (as in docker's
 * profile: a container given one of them may make the call; the capability is still what the
 * kernel checks). -1: no capability does; the call is always refused. */
struct gated { int nr; int cap; int cap2; };
static const struct gated denied[] = {
  {SYS_mount, 21, -1}, {SYS_umount2, 21, -1}, {SYS_unshare, 21, -1}, {SYS_setns, 21, -1},
  {SYS_fsopen, 21, -1}, {SYS_fsconfig, 21, -1}, {SYS_fsmount, 21, -1}, {SYS_fspick, 21, -1}, {SYS_move_mount, 21, -1},
  {SYS_open_tree, 21, -1}, {SYS_mount_setattr, 21, -1}, {SYS_sethostname, 21, -1}, {SYS_setdomainname, 21, -1},
  {SYS_quotactl, 21, -1}, {SYS_quotactl_fd, 21, -1}, {SYS_lookup_dcookie, 21, -1}, {SYS_fanotify_init, 21, -1},
  {SYS_lsm_get_self_attr, 21, -1}, {SYS_lsm_set_self_attr, 21, -1}, {SYS_lsm_list_modules, 21, -1},
  {SYS_syslog, 34, 21}, {SYS_bpf, 39, 21}, {SYS_perf_event_open, 38, 21}, {SYS_chroot, 18, -1},
  {SYS_init_module, 16, -1}, {SYS_finit_module, 16, -1}, {SYS_delete_module, 16, -1},
  {SYS_pivot_root, -1, -1}, /* docker allows it with no capability */
  {SYS_kexec_load, -1, -1}, {SYS_kexec_file_load, -1, -1}, {SYS_keyctl, -1, -1}, {SYS_add_key, -1, -1}, {SYS_request_key, -1, -1},
  {SYS_userfaultfd, -1, -1}, {SYS_nfsservctl, -1, -1}, {SYS_swapon, -1, -1}, {SYS_swapoff, -1, -1},
  {SYS_io_uring_setup, -1, -1}, {SYS_io_uring_enter, -1, -1}, {SYS_io_uring_register, -1, -1},
  {SYS_open_by_handle_at, 2, -1}, {SYS_reboot, 22, -1}, {SYS_acct, 20, -1},
  {SYS_settimeofday, 25, -1}, {SYS_clock_settime, 25, -1},
  {SYS_vhangup, 26, -1}, {SYS_iopl, 17, -1}, {SYS_ioperm, 17, -1},
  {SYS_kcmp, 19, -1}, {SYS_pidfd_getfd, 19, -1}, {SYS_process_madvise, 19, -1},
  {SYS_get_mempolicy, 23, -1}, {SYS_set_mempolicy, 23, -1}, {SYS_set_mempolicy_home_node, 23, -1}, {SYS_mbind, 23, -1},
  {SYS_move_pages, -1, -1}, {SYS_migrate_pages, -1, -1}, /* not in docker's profile at all */
};

static const int allowed[] = {
  SYS_accept, SYS_accept4, SYS_access, SYS_alarm, SYS_bind, SYS_brk, SYS_capget, SYS_capset,
  SYS_chdir, SYS_chmod, SYS_chown, SYS_clock_getres, SYS_clock_gettime, SYS_clock_nanosleep, SYS_close,
  SYS_close_range, SYS_connect, SYS_copy_file_range, SYS_creat, SYS_dup, SYS_dup2, SYS_dup3,
  SYS_epoll_create, SYS_epoll_create1, SYS_epoll_ctl, SYS_epoll_pwait, SYS_epoll_pwait2, SYS_epoll_wait,
  SYS_eventfd, SYS_eventfd2, SYS_execve, SYS_execveat, SYS_exit, SYS_exit_group, SYS_faccessat,
  SYS_faccessat2, SYS_fadvise64, SYS_fallocate, SYS_fanotify_mark, SYS_fchdir, SYS_fchmod, SYS_fchmodat,
  SYS_fchown, SYS_fchownat, SYS_fcntl, SYS_fdatasync, SYS_fgetxattr, SYS_flistxattr, SYS_flock, SYS_fork,
  SYS_fremovexattr, SYS_fsetxattr, SYS_fstat, SYS_fstatfs, SYS_fsync, SYS_ftruncate, SYS_futex,
  SYS_futex_waitv, SYS_futimesat, SYS_getcpu, SYS_getcwd, SYS_getdents, SYS_getdents64, SYS_getegid,
  SYS_geteuid, SYS_getgid, SYS_getgroups, SYS_getitimer, SYS_getpeername, SYS_getpgid, SYS_getpgrp,
  SYS_getpid, SYS_getppid, SYS_getpriority, SYS_getrandom, SYS_getresgid, SYS_getresuid, SYS_getrlimit,
  SYS_get_robust_list, SYS_getrusage, SYS_getsid, SYS_getsockname, SYS_getsockopt, SYS_get_thread_area,
  SYS_gettid, SYS_gettimeofday, SYS_getuid, SYS_getxattr, SYS_inotify_add_watch, SYS_inotify_init,
  SYS_inotify_init1, SYS_inotify_rm_watch, SYS_io_cancel, SYS_ioctl, SYS_io_destroy, SYS_io_getevents,
  SYS_io_pgetevents, SYS_ioprio_get, SYS_ioprio_set, SYS_io_setup, SYS_io_submit, SYS_kill, SYS_landlock_add_rule, SYS_landlock_create_ruleset,
  SYS_landlock_restrict_self, SYS_lchown, SYS_lgetxattr, SYS_link, SYS_linkat, SYS_listen, SYS_listxattr,
  SYS_llistxattr, SYS_lremovexattr, SYS_lseek, SYS_lsetxattr, SYS_lstat, SYS_madvise, SYS_membarrier,
  SYS_memfd_create, SYS_memfd_secret, SYS_mincore, SYS_mkdir, SYS_mkdirat, SYS_mknod, SYS_mknodat,
  SYS_mlock, SYS_mlock2, SYS_mlockall, SYS_mmap, SYS_mprotect, SYS_mq_getsetattr, SYS_mq_notify,
  SYS_mq_open, SYS_mq_timedreceive, SYS_mq_timedsend, SYS_mq_unlink, SYS_mremap, SYS_msgctl, SYS_msgget,
  SYS_msgrcv, SYS_msgsnd, SYS_msync, SYS_munlock, SYS_munlockall, SYS_munmap, SYS_name_to_handle_at,
  SYS_nanosleep, SYS_newfstatat, SYS_open, SYS_openat, SYS_openat2, SYS_pause, SYS_pidfd_open,
  SYS_pidfd_send_signal, SYS_pipe, SYS_pipe2, SYS_pkey_alloc, SYS_pkey_free, SYS_pkey_mprotect, SYS_poll,
  SYS_ppoll, SYS_prctl, SYS_pread64, SYS_preadv, SYS_preadv2, SYS_prlimit64, SYS_process_mrelease,
  SYS_pselect6, SYS_ptrace, SYS_pwrite64, SYS_pwritev, SYS_pwritev2, SYS_read, SYS_readahead,
  SYS_readlink, SYS_readlinkat, SYS_readv, SYS_recvfrom, SYS_recvmmsg, SYS_recvmsg, SYS_remap_file_pages,
  SYS_removexattr, SYS_rename, SYS_renameat, SYS_renameat2, SYS_restart_syscall, SYS_rmdir, SYS_rseq,
  SYS_rt_sigaction, SYS_rt_sigpending, SYS_rt_sigprocmask, SYS_rt_sigqueueinfo, SYS_rt_sigreturn,
  SYS_rt_sigsuspend, SYS_rt_sigtimedwait, SYS_rt_tgsigqueueinfo, SYS_sched_getaffinity, SYS_sched_getattr,
  SYS_sched_getparam, SYS_sched_get_priority_max, SYS_sched_get_priority_min, SYS_sched_getscheduler,
  SYS_sched_rr_get_interval, SYS_sched_setaffinity, SYS_sched_setattr, SYS_sched_setparam,
  SYS_sched_setscheduler, SYS_sched_yield, SYS_seccomp, SYS_select, SYS_semctl, SYS_semget, SYS_semop,
  SYS_semtimedop, SYS_sendfile, SYS_sendmmsg, SYS_sendmsg, SYS_sendto, SYS_setfsgid, SYS_setfsuid,
  SYS_setgid, SYS_setgroups, SYS_setitimer, SYS_setpgid, SYS_setpriority, SYS_setregid, SYS_setresgid,
  SYS_setresuid, SYS_setreuid, SYS_setrlimit, SYS_set_robust_list, SYS_setsid, SYS_setsockopt,
  SYS_set_thread_area, SYS_set_tid_address, SYS_setuid, SYS_setxattr, SYS_shmat, SYS_shmctl, SYS_shmdt,
  SYS_shmget, SYS_shutdown, SYS_sigaltstack, SYS_signalfd, SYS_signalfd4, SYS_socket, SYS_socketpair,
  SYS_splice, SYS_stat, SYS_statfs, SYS_statx, SYS_symlink, SYS_symlinkat, SYS_sync, SYS_sync_file_range,
  SYS_syncfs, SYS_sysinfo, SYS_tee, SYS_tgkill, SYS_time, SYS_timer_create, SYS_timer_delete,
  SYS_timer_getoverrun, SYS_timer_gettime, SYS_timer_settime, SYS_timerfd_create, SYS_timerfd_gettime,
  SYS_timerfd_settime, SYS_times, SYS_tkill, SYS_truncate, SYS_umask, SYS_uname, SYS_unlink, SYS_unlinkat,
  SYS_utime, SYS_utimensat, SYS_utimes, SYS_vfork, SYS_vmsplice, SYS_wait4, SYS_waitid, SYS_write,
  SYS_writev, SYS_arch_prctl, SYS_modify_ldt,
  /* The clock's read side (ntp_gettime); setting it needs CAP_SYS_TIME over the host, which no
   * container has. The memory of processes it may ptrace anyway. Both as in docker's profile. */
  SYS_adjtimex, SYS_clock_adjtime, SYS_process_vm_readv, SYS_process_vm_writev,
  /* Newer ordinary calls docker's profile allows. */
  SYS_uretprobe, SYS_cachestat, SYS_fchmodat2, SYS_map_shadow_stack, SYS_futex_wake, SYS_futex_wait,
  SYS_futex_requeue, SYS_statmount, SYS_listmount, SYS_mseal, SYS_setxattrat, SYS_getxattrat,
  SYS_listxattrat, SYS_removexattrat,
};

/* personality() arguments docker's profile allows: PER_LINUX, PER_LINUX32, UNAME26, both, and
 * 0xffffffff (a query: it changes nothing). */
static const unsigned personalities[] = {0x0, 0x8, 0x20000, 0x20008, 0xffffffff};

#define N(a) (sizeof(a) / sizeof *(a))
#define RET(v) BPF_STMT(BPF_RET | BPF_K, (v))
#define ERRNO(e) RET(SECCOMP_RET_ERRNO | ((e) & SECCOMP_RET_DATA))

#define HAS(caps, c) ((c) >= 0 && ((caps) >> (c) & 1ULL))

/* The low and high words of the first argument (x86_64 is little-endian). */
#define ARG0_LO offsetof(struct seccomp_data, args[0])
#define ARG0_HI (offsetof(struct seccomp_data, args[0]) + 4)

int seccomp_default_program(struct sock_fprog *out, unsigned long long caps) {
  int sys_admin = HAS(caps, 21);
  size_t max = 32 + 2 * (N(denied) + N(allowed)) + N(personalities);
  struct sock_filter *f = calloc(max, sizeof *f);
  if (!f) return -1;
  size_t n = 0;
  f[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch));
  f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0);
  f[n++] = (struct sock_filter)ERRNO(EPERM);
  f[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr));
  f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, 0x40000000, 0, 1); /* x32 */
  f[n++] = (struct sock_filter)ERRNO(EPERM);
  /* With CAP_SYS_ADMIN, clone3 and clone with namespace flags are allowed (docker's rule). */
  f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_clone3, 0, 1);
  f[n++] = sys_admin ? (struct sock_filter)RET(SECCOMP_RET_ALLOW) : (struct sock_filter)ERRNO(ENOSYS);
  /* clone: allowed only without namespace flags (its first argument, low word). */
  f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_clone, 0, 4);
  f[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[0]));
  f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, sys_admin ? 0 : NS_FLAGS, 0, 1);
  f[n++] = (struct sock_filter)ERRNO(EPERM);
  f[n++] = (struct sock_filter)RET(SECCOMP_RET_ALLOW);
  /* socket: the kernel reads the family as an int, so only the low word counts (checking it
   * alone also refuses 0x100000028, which docker's 64-bit comparison would let through). */
  f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_socket, 0, 5);
  f[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, ARG0_LO);
  f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, FAMILY_ALG, 2, 0);
  f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, FAMILY_VSOCK, 1, 0);
  f[n++] = (struct sock_filter)RET(SECCOMP_RET_ALLOW);
  f[n++] = (struct sock_filter)ERRNO(EPERM);
  /* personality: all 64 bits equal to one of the allowed values, as docker's SCMP_CMP_EQ. */
  f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_personality, 0, (unsigned char)(5 + N(personalities)));
  f[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, ARG0_HI);
  f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0, 0, (unsigned char)(1 + N(personalities)));
  f[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, ARG0_LO);
  for (size_t i = 0; i < N(personalities); i++)
    f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, personalities[i], (unsigned char)(N(personalities) - i), 0);
  f[n++] = (struct sock_filter)ERRNO(EPERM);
  f[n++] = (struct sock_filter)RET(SECCOMP_RET_ALLOW);
  for (size_t i = 0; i < N(denied); i++) {
    int unlocked = HAS(caps, denied[i].cap) || HAS(caps, denied[i].cap2);
    f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned)denied[i].nr, 0, 1);
    f[n++] = unlocked ? (struct sock_filter)RET(SECCOMP_RET_ALLOW) : (struct sock_filter)ERRNO(EPERM);
  }
  for (size_t i = 0; i < N(allowed); i++) {
    f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned)allowed[i], 0, 1);
    f[n++] = (struct sock_filter)RET(SECCOMP_RET_ALLOW);
  }
  f[n++] = (struct sock_filter)ERRNO(ENOSYS);
  out->len = (unsigned short)n;
  out->filter = f;
  return 0;
}
