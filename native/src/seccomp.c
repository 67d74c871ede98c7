/* The default seccomp filter: a classic-BPF program, built once in the parent (it allocates)
 * and installed by the child with one prctl just before execve (which allocates nothing).
 *
 * The policy, modelled on docker's default profile but written for x86_64 only:
 *   - a syscall from another ABI (i386 via int 0x80, x32 via the 0x40000000 bit) is refused with
 *     EPERM: their numbers differ from x86_64's, so a filter keyed on x86_64 numbers must not
 *     see them, or they would slip past it;
 *   - clone3 returns ENOSYS, so libc falls back to clone, whose flags a filter can inspect;
 *     clone itself is allowed only without namespace flags;
 *   - calls that reach past the container (mounts, namespaces, modules, kexec, keyrings, bpf,
 *     perf, swap, the clock, reboot...) return EPERM;
 *   - an allow-list of ordinary calls returns ALLOW;
 *   - everything else returns ENOSYS, as for a syscall the kernel does not have, so programs
 *     probing for new calls fall back gracefully.
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

/* Calls that reach past the container, each with the capability that unlocks it (as in docker's
 * profile: a container given that capability may make the call; the capability is still what the
 * kernel checks). */
struct gated { int nr; int cap; };
static const struct gated denied[] = {
  {SYS_mount, 21}, {SYS_umount2, 21}, {SYS_pivot_root, 21}, {SYS_unshare, 21}, {SYS_setns, 21},
  {SYS_fsopen, 21}, {SYS_fsconfig, 21}, {SYS_fsmount, 21}, {SYS_fspick, 21}, {SYS_move_mount, 21},
  {SYS_open_tree, 21}, {SYS_mount_setattr, 21}, {SYS_sethostname, 21}, {SYS_setdomainname, 21},
  {SYS_quotactl, 21}, {SYS_lookup_dcookie, 21}, {SYS_fanotify_init, 21}, {SYS_syslog, 34},
  {SYS_bpf, 39}, {SYS_perf_event_open, 38}, {SYS_chroot, 18},
  {SYS_init_module, 16}, {SYS_finit_module, 16}, {SYS_delete_module, 16},
  {SYS_kexec_load, -1}, {SYS_kexec_file_load, -1}, {SYS_keyctl, -1}, {SYS_add_key, -1}, {SYS_request_key, -1},
  {SYS_userfaultfd, -1}, {SYS_nfsservctl, -1}, {SYS_swapon, -1}, {SYS_swapoff, -1},
  {SYS_open_by_handle_at, 2}, {SYS_reboot, 22}, {SYS_acct, 20},
  {SYS_settimeofday, 25}, {SYS_clock_settime, 25}, {SYS_clock_adjtime, 25}, {SYS_adjtimex, 25},
  {SYS_vhangup, 26}, {SYS_iopl, 17}, {SYS_ioperm, 17},
  {SYS_process_vm_readv, 19}, {SYS_process_vm_writev, 19}, {SYS_kcmp, 19}, {SYS_pidfd_getfd, 19},
  {SYS_get_mempolicy, 23}, {SYS_set_mempolicy, 23}, {SYS_mbind, 23}, {SYS_move_pages, 23}, {SYS_migrate_pages, 23},
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
  SYS_io_pgetevents, SYS_ioprio_get, SYS_ioprio_set, SYS_io_setup, SYS_io_submit, SYS_io_uring_enter,
  SYS_io_uring_register, SYS_io_uring_setup, SYS_kill, SYS_landlock_add_rule, SYS_landlock_create_ruleset,
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
  SYS_writev, SYS_arch_prctl, SYS_modify_ldt, SYS_personality,
};

#define N(a) (sizeof(a) / sizeof *(a))
#define RET(v) BPF_STMT(BPF_RET | BPF_K, (v))
#define ERRNO(e) RET(SECCOMP_RET_ERRNO | ((e) & SECCOMP_RET_DATA))

#define HAS(caps, c) ((c) >= 0 && ((caps) >> (c) & 1ULL))

int seccomp_default_program(struct sock_fprog *out, unsigned long long caps) {
  int sys_admin = HAS(caps, 21);
  size_t max = 16 + 2 * (N(denied) + N(allowed));
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
  for (size_t i = 0; i < N(denied); i++) {
    f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned)denied[i].nr, 0, 1);
    f[n++] = HAS(caps, denied[i].cap) ? (struct sock_filter)RET(SECCOMP_RET_ALLOW) : (struct sock_filter)ERRNO(EPERM);
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
