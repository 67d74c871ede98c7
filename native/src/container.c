/* Creates a container: clone3() into new namespaces, then the child builds its root filesystem
 * and execs the user's command as PID 1. Plain C, shared by the Node addon and (later) the
 * detached-container monitor.
 *
 * The handshake between parent and child, over a socket pair ("go") and a pipe ("report"):
 *
 *   parent (Node's main thread)              child (new namespaces, only this thread exists)
 *   ─────────────────────────                ──────────────────────────────────────────────
 *   socketpair(go), pipe(report, O_CLOEXEC)
 *   [setns(net), setns(pid): this thread only]
 *   block all signals
 *   clone3(CLONE_NEW{NS,UTS,IPC,PID,NET,USER}) ──►  reset every signal to SIG_DFL, unblock
 *   restore signal mask [and our net, pid ns]    PR_SET_PDEATHSIG(SIGKILL)
 *   [read(report): "joined"]       ◄──────────   [setns: mnt, uts, ipc, cgroup, then user;
 *                                                 unshare what is new: join_namespaces]
 *   write /proc/PID/{uid,gid}_map                recvmsg(go) ... blocks
 *   [write /proc/PID/oom_score_adj]
 *   idmapped clone of the image (remapped)
 *   (Node: move a veth in, cgroups, OCI's
 *    prestart/createRuntime hooks, ...)
 *   sendmsg(go, 1 byte [+ image mount fd]) ──►   setresuid(0), PDEATHSIG again (*),
 *                                                unshare(CLONE_NEWCGROUP), sethostname,
 *                                                [setdomainname], mounts, [createContainer
 *                                                hooks], pivot_root (chroot: shared_mnt),
 *                                                stdio, close fds, chdir, [setrlimit],
 *   read(report) ... blocks                      privileges (apply_privileges: bounding,
 *                                                setgid/setuid, capset, nnp, seccomp),
 *                                                PDEATHSIG again (*), [OCI: "ready", wait
 *                                                on the exec FIFO, startContainer hooks],
 *                                                [umask], execve
 *                   ◄──────────────────────      on failure: write {step, errno, detail}, _exit
 *   EOF with no bytes: execve succeeded          (report is O_CLOEXEC: execve closes it)
 *
 * (*) The kernel clears the parent-death signal whenever the effective uid or gid changes
 *     (commit_creds; see prctl(2)), so it is armed again after each change of ids, and the
 *     child then checks that the parent did not die in between (arm_parent_death below).
 *
 * Why this shape:
 * - Node is multithreaded. After clone() only the calling thread exists in the child; locks
 *   held by other threads (malloc's, stdio's) stay locked forever. So the child calls only
 *   async-signal-safe syscalls and reads the plan that the parent parsed before clone().
 * - The uid/gid maps must be written from outside the new user namespace (user_namespaces(7)),
 *   so the child waits for "go" before it needs its capabilities.
 * - The cgroup namespace is created after "go" rather than by clone3: cgroup_namespaces(7) roots
 *   the namespace at the cgroup the process is in when it is created, and the parent can place
 *   the child in its own cgroup only after clone (clone3's CLONE_INTO_CGROUP is cgroup v2 only).
 * - Every mount happens inside the child's mount namespace, so none is ever visible on the host
 *   and all of them vanish with the container: a crash cannot leak a mount.
 * - With a remapped user namespace (container root = host uid 100000, say), the image's files,
 *   owned by host root, would look like nobody's inside. The parent makes an idmapped clone of
 *   the image directory (open_tree + mount_setattr(MOUNT_ATTR_IDMAP) with the child's user
 *   namespace: only host root may), so host uid N reads as N inside; that detached mount needs
 *   no path on the host and travels to the child as a file descriptor with "go" (SCM_RIGHTS).
 *   The child attaches it inside its own mount namespace and uses it as overlay's lower layer.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "container.h"
#include "reap.h"
#include "fdpass.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <linux/seccomp.h>
#include <linux/sched.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <net/route.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>

#ifndef P_PIDFD
#define P_PIDFD 3 /* waitid(2) by pidfd: Linux 5.4, glibc 2.36 */
#endif
#include <unistd.h>

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

/* ---------- helpers that are safe in the child: no malloc, no stdio, no locks ---------- */

static size_t str_len(const char *s) { size_t n = 0; while (s[n]) n++; return n; }

/* Appends `s` to buf (capacity cap, always NUL-terminated); returns the new length. */
static size_t str_append(char *buf, size_t len, size_t cap, const char *s) {
  while (*s && len + 1 < cap) buf[len++] = *s++;
  buf[len] = '\0';
  return len;
}

static size_t append_uint(char *buf, size_t len, size_t cap, unsigned long v) {
  char tmp[24];
  int i = 0;
  do { tmp[i++] = (char)('0' + v % 10); v /= 10; } while (v);
  while (i && len + 1 < cap) buf[len++] = tmp[--i];
  buf[len] = '\0';
  return len;
}

static int write_all(int fd, const void *data, size_t n) {
  const char *p = data;
  while (n) {
    ssize_t w = write(fd, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return -1;
    p += w; n -= (size_t)w;
  }
  return 0;
}

/* The child's failure report, read by container_start(). Fixed size: one write, one read. */
static void report(int fd, const char *step, int err, const char *detail) {
  struct container_failure f;
  memset(&f, 0, sizeof f);
  f.err = err;
  str_append(f.step, 0, sizeof f.step, step);
  if (detail) str_append(f.detail, 0, sizeof f.detail, detail);
  write_all(fd, &f, sizeof f);
}

#define FAIL(step, detail) do { report(rfd, step, errno, detail); _exit(CONTAINER_SETUP_FAILED); } while (0)

/* Opens `rel` (absolute inside the container) under `rootfd` one component at a time with
 * O_NOFOLLOW, creating missing directories (and the last component as a file when `file`).
 * A symlink anywhere on the path is refused (ELOOP/ENOTDIR): an image must not be able to
 * redirect one of our mounts outside its root filesystem. Returns an O_PATH fd. */
#define WALK_FILE 1     /* the last component is a file */
#define WALK_NOCREATE 2 /* create nothing: ENOENT if any component is missing */

static int open_in_root(int rootfd, const char *rel, int how) {
  int file = how & WALK_FILE, create = !(how & WALK_NOCREATE);
  char comp[256];
  int dirfd = dup(rootfd);
  if (dirfd < 0) return -1;
  const char *c = rel;
  for (;;) {
    while (*c == '/') c++;
    if (!*c) return dirfd; /* rel was "/" */
    size_t n = 0;
    while (c[n] && c[n] != '/') n++;
    if (n >= sizeof comp) { close(dirfd); errno = ENAMETOOLONG; return -1; }
    memcpy(comp, c, n);
    comp[n] = '\0';
    c += n;
    while (*c == '/') c++;
    int last = *c == '\0';
    int fd;
    if (last && file) {
      fd = openat(dirfd, comp, O_PATH | O_NOFOLLOW | O_CLOEXEC);
      if (fd < 0 && errno == ENOENT && create) {
        int made = openat(dirfd, comp, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0644);
        if (made >= 0) close(made);
        fd = openat(dirfd, comp, O_PATH | O_NOFOLLOW | O_CLOEXEC);
      }
      struct stat st;
      if (fd >= 0 && (fstat(fd, &st) < 0 || S_ISLNK(st.st_mode) || S_ISDIR(st.st_mode))) {
        close(fd);
        fd = -1;
        errno = S_ISDIR(st.st_mode) ? EISDIR : ELOOP;
      }
    } else {
      fd = openat(dirfd, comp, O_PATH | O_NOFOLLOW | O_DIRECTORY | O_CLOEXEC);
      if (fd < 0 && errno == ENOENT && create && mkdirat(dirfd, comp, 0755) == 0)
        fd = openat(dirfd, comp, O_PATH | O_NOFOLLOW | O_DIRECTORY | O_CLOEXEC);
    }
    close(dirfd);
    if (fd < 0) return -1;
    if (last) return fd;
    dirfd = fd;
  }
}

/* "/proc/self/fd/N": mount(2) on it reaches exactly the inode we opened. The host's /proc is
 * still mounted in our namespace at this point (pivot_root comes later). */
static void fd_path(char *buf, size_t cap, int fd) {
  size_t n = str_append(buf, 0, cap, "/proc/self/fd/");
  append_uint(buf, n, cap, (unsigned long)fd);
}

/* Splits "/a/b/name" into an O_PATH fd for "/a/b" under root and the final name. */
static int open_parent_in_root(int rootfd, const char *rel, char *name, size_t cap) {
  char parent[4096];
  size_t n = str_append(parent, 0, sizeof parent, rel);
  while (n > 1 && parent[n - 1] == '/') parent[--n] = '\0';
  size_t slash = n;
  while (slash > 0 && parent[slash - 1] != '/') slash--;
  str_append(name, 0, cap, parent + slash);
  parent[slash] = '\0';
  return open_in_root(rootfd, parent[0] ? parent : "/", 0);
}

/* Inside a user namespace the flags a mount already has (nosuid, nodev, noexec, atime) are
 * locked: a remount must repeat them or the kernel refuses it (EPERM). */
static unsigned long locked_flags(int fd) {
  unsigned long keep = 0;
  struct statvfs sv;
  if (fstatvfs(fd, &sv) == 0) {
    if (sv.f_flag & ST_NOSUID) keep |= MS_NOSUID;
    if (sv.f_flag & ST_NODEV) keep |= MS_NODEV;
    if (sv.f_flag & ST_NOEXEC) keep |= MS_NOEXEC;
    if (sv.f_flag & ST_NOATIME) keep |= MS_NOATIME;
    if (sv.f_flag & ST_NODIRATIME) keep |= MS_NODIRATIME;
    if (sv.f_flag & ST_RELATIME) keep |= MS_RELATIME;
  }
  return keep;
}

/* After a mount: the propagation changes and the recursive attributes the config asked for
 * (OCI's "shared", "rslave", "rro", "rnosuid"...). Both act on the new mount, so the target is
 * opened again: a descriptor taken before the mount names the directory below it. Propagation
 * takes one type per mount(2) call, as runc makes them; mount_setattr(2) with AT_RECURSIVE
 * reaches every mount below too, which MS_REMOUNT cannot. */
static void finish_mount(int rootfd, const struct plan_op *op, int how, int rfd) {
  if (!op->nprop && !op->has_rec_attr) return;
  char target[64];
  int fd = open_in_root(rootfd, op->dst, how | WALK_NOCREATE);
  if (fd < 0) FAIL("child.mount.reopen", op->dst);
  fd_path(target, sizeof target, fd);
  for (size_t i = 0; i < op->nprop; i++)
    if (mount(NULL, target, NULL, op->prop[i], NULL) < 0) FAIL("child.mount.propagation", op->dst);
  if (op->has_rec_attr) {
    struct mount_attr attr;
    memset(&attr, 0, sizeof attr);
    attr.attr_set = op->rec_set;
    attr.attr_clr = op->rec_clr;
    if (syscall(SYS_mount_setattr, fd, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof attr) < 0)
      FAIL("child.mount.setattr", op->dst);
  }
  close(fd);
}

/* linux.devices: a node made in the container's /dev (outside a user namespace; inside one the
 * planner binds the host's node instead, mknod being refused there). The parents are created as
 * for any mount target. A node already there is left as it is, as runc leaves it. The mode is
 * set again after mknod, which the umask (the caller's, still in force) would have trimmed, and
 * only once the new inode is checked to be the node just made, not something that replaced it. */
static void make_node(int rootfd, const struct plan_op *op, int rfd) {
  char name[256], path[64];
  int dirfd = open_parent_in_root(rootfd, op->dst, name, sizeof name);
  if (dirfd < 0) FAIL("child.mknod.parent", op->dst);
  if (mknodat(dirfd, name, op->mode, op->rdev) < 0) {
    if (errno == EEXIST) { close(dirfd); return; }
    FAIL("child.mknod", op->dst);
  }
  int fd = openat(dirfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) FAIL("child.mknod.open", op->dst);
  close(dirfd);
  struct stat st;
  if (fstat(fd, &st) < 0) FAIL("child.mknod.stat", op->dst);
  if ((st.st_mode & S_IFMT) != (op->mode & S_IFMT) || (!S_ISFIFO(st.st_mode) && st.st_rdev != op->rdev)) {
    errno = EEXIST;
    FAIL("child.mknod.verify", op->dst);
  }
  /* An O_PATH descriptor takes neither fchmod nor fchown; its /proc/self/fd link and
   * AT_EMPTY_PATH do, on exactly this inode. */
  fd_path(path, sizeof path, fd);
  if (chmod(path, op->mode & 07777) < 0) FAIL("child.mknod.chmod", op->dst);
  if (fchownat(fd, "", op->uid, op->gid, AT_EMPTY_PATH) < 0) FAIL("child.mknod.chown", op->dst);
  close(fd);
}

/* linux.sysctl: one value written under the container's own /proc (mounted by an earlier op,
 * still below the rootfs). A /proc/sys file shows the namespaces of whoever opens it, and the
 * child is in the container's (network, IPC, UTS) already. It runs before linux.readonlyPaths
 * makes /proc/sys read-only, as runc writes them before it applies readonlyPaths. */
static void write_sysctl(int rootfd, const struct plan_op *op, int rfd) {
  char path[64];
  int fd = open_in_root(rootfd, op->dst, WALK_FILE | WALK_NOCREATE);
  if (fd < 0) FAIL("child.sysctl.open", op->dst);
  fd_path(path, sizeof path, fd);
  int w = open(path, O_WRONLY | O_CLOEXEC);
  if (w < 0) FAIL("child.sysctl.open", op->dst);
  close(fd);
  if (write_all(w, op->data, str_len(op->data)) < 0) FAIL("child.sysctl.write", op->dst);
  close(w);
}

static void run_op(int rootfd, const struct plan_op *op, int rfd) {
  char target[64], name[256];
  int fd;
  switch (op->kind) {
  case OP_MKDIR:
    fd = open_in_root(rootfd, op->dst, 0);
    if (fd < 0) FAIL("child.mkdir", op->dst);
    close(fd);
    return;
  case OP_SYMLINK:
    fd = open_parent_in_root(rootfd, op->dst, name, sizeof name);
    if (fd < 0) FAIL("child.symlink", op->dst);
    if (symlinkat(op->src, fd, name) < 0 && errno != EEXIST) FAIL("child.symlink", op->dst);
    close(fd);
    return;
  case OP_MOUNT:
    fd = open_in_root(rootfd, op->dst, op->optional ? WALK_NOCREATE : 0);
    if (fd < 0 && op->optional && errno == ENOENT) return;
    if (fd < 0) FAIL("child.mount.target", op->dst);
    fd_path(target, sizeof target, fd);
    if (mount(op->src, target, op->fstype, op->flags, op->data) < 0) FAIL("child.mount", op->dst);
    close(fd);
    finish_mount(rootfd, op, 0, rfd);
    return;
  case OP_BIND: {
    int how = (op->file ? WALK_FILE : 0) | (op->optional ? WALK_NOCREATE : 0);
    fd = open_in_root(rootfd, op->dst, how);
    if (fd < 0 && op->optional && errno == ENOENT) return;
    if (fd < 0) FAIL("child.bind.target", op->dst);
    fd_path(target, sizeof target, fd);
    if (mount(op->src, target, NULL, MS_BIND | (op->flags & MS_REC), NULL) < 0) FAIL("child.bind", op->dst);
    if (op->flags & ~MS_REC) {
      /* Bind mounts ignore flags such as MS_RDONLY; they take effect on a remount. Reopen the
       * target: the old fd still names the directory below the new mount. */
      close(fd);
      fd = open_in_root(rootfd, op->dst, how);
      if (fd < 0) FAIL("child.bind.target", op->dst);
      fd_path(target, sizeof target, fd);
      if (mount(NULL, target, NULL, MS_REMOUNT | MS_BIND | locked_flags(fd) | (op->flags & ~MS_REC), NULL) < 0)
        FAIL("child.bind.remount", op->dst);
    }
    close(fd);
    finish_mount(rootfd, op, how, rfd);
    return;
  }
  case OP_MKNOD:
    make_node(rootfd, op, rfd);
    return;
  case OP_SYSCTL:
    write_sysctl(rootfd, op, rfd);
    return;
  }
}

/* execvpe() is not async-signal-safe (it may allocate), so search $PATH by hand with a stack
 * buffer, the way a shell does: ENOENT moves on; the first EACCES is remembered and reported if
 * nothing else runs. */
static void exec_command(const struct plan *p, int rfd) {
  const char *file = p->argv[0];
  if (!*file) { errno = ENOENT; FAIL("child.exec", file); }
  for (const char *c = file; *c; c++)
    if (*c == '/') { execve(file, p->argv, p->envp); FAIL("child.exec", file); }
  const char *path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
  for (char **e = p->envp; *e; e++)
    if (!strncmp(*e, "PATH=", 5)) path = *e + 5;
  int saw_eacces = 0;
  char buf[4096];
  for (const char *dir = path;; dir++) {
    size_t n = 0;
    while (dir[n] && dir[n] != ':') n++;
    size_t len = 0;
    if (n == 0) len = str_append(buf, 0, sizeof buf, "."); /* an empty entry means cwd */
    else { if (n >= sizeof buf - 2) n = sizeof buf - 2; memcpy(buf, dir, n); buf[n] = '\0'; len = n; }
    len = str_append(buf, len, sizeof buf, "/");
    str_append(buf, len, sizeof buf, file);
    execve(buf, p->argv, p->envp);
    if (errno == EACCES) saw_eacces = 1;
    else if (errno != ENOENT && errno != ENOTDIR) FAIL("child.exec", file);
    dir += n;
    if (!*dir) break;
  }
  errno = saw_eacces ? EACCES : ENOENT;
  FAIL(saw_eacces ? "child.exec" : "child.exec.path", file);
}

/* A new network namespace starts with "lo" down; docker's containers have it up. */
static int bring_up_lo(void) {
  int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s < 0) return -1;
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  str_append(ifr.ifr_name, 0, sizeof ifr.ifr_name, "lo");
  int rc = ioctl(s, SIOCGIFFLAGS, &ifr);
  if (rc == 0) {
    ifr.ifr_flags |= IFF_UP;
    rc = ioctl(s, SIOCSIFFLAGS, &ifr);
  }
  int saved = errno;
  close(s);
  errno = saved;
  return rc;
}

static void set_sockaddr(struct sockaddr *sa, in_addr_t addr) {
  struct sockaddr_in *in = (struct sockaddr_in *)sa;
  memset(in, 0, sizeof *in);
  in->sin_family = AF_INET;
  in->sin_addr.s_addr = addr;
}

/* Configures eth0, the veth end the parent created inside our network namespace: address,
 * netmask, up, default route. The same as `ip addr add`, `ip link set up` and `ip route add
 * default`, done with ioctls so that no process has to be started inside the namespace. */
static int configure_eth0(const struct plan *p, const char **step) {
  in_addr_t addr, gw, mask = p->eth_prefix ? htonl(~0U << (32 - p->eth_prefix)) : 0;
  if (inet_pton(AF_INET, p->eth_addr, &addr) != 1 || (p->eth_gw && inet_pton(AF_INET, p->eth_gw, &gw) != 1)) {
    errno = EINVAL;
    *step = "child.net.parse";
    return -1;
  }
  int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s < 0) { *step = "child.net.socket"; return -1; }
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  str_append(ifr.ifr_name, 0, sizeof ifr.ifr_name, "eth0");
  int rc = 0;
  set_sockaddr(&ifr.ifr_addr, addr);
  if ((rc = ioctl(s, SIOCSIFADDR, &ifr)) < 0) *step = "child.net.addr";
  if (!rc) {
    set_sockaddr(&ifr.ifr_netmask, mask);
    if ((rc = ioctl(s, SIOCSIFNETMASK, &ifr)) < 0) *step = "child.net.netmask";
  }
  if (!rc && (rc = ioctl(s, SIOCGIFFLAGS, &ifr)) < 0) *step = "child.net.flags";
  if (!rc) {
    ifr.ifr_flags |= IFF_UP;
    if ((rc = ioctl(s, SIOCSIFFLAGS, &ifr)) < 0) *step = "child.net.up";
  }
  if (!rc && p->eth_gw) {
    struct rtentry rt;
    memset(&rt, 0, sizeof rt);
    set_sockaddr(&rt.rt_dst, 0);
    set_sockaddr(&rt.rt_genmask, 0);
    set_sockaddr(&rt.rt_gateway, gw);
    rt.rt_flags = RTF_UP | RTF_GATEWAY;
    if ((rc = ioctl(s, SIOCADDRT, &rt)) < 0) *step = "child.net.route";
  }
  int saved = errno;
  close(s);
  errno = saved;
  return rc;
}

/* Drops from the bounding set every capability outside `keep`. Needs CAP_SETPCAP, which the
 * child still has; numbers this kernel does not know (EINVAL) are not in any set anyway. */
static int drop_bounding(unsigned long long keep) {
  for (int c = 0; c <= 63; c++) {
    if (keep & (1ULL << c)) continue;
    if (prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0 && errno != EINVAL) return -1;
  }
  return 0;
}

static int set_caps(unsigned long long effective, unsigned long long permitted, unsigned long long inheritable) {
  struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
  struct __user_cap_data_struct data[2];
  memset(data, 0, sizeof data);
  data[0].effective = (unsigned)(effective & 0xffffffffULL);
  data[1].effective = (unsigned)(effective >> 32);
  data[0].permitted = (unsigned)(permitted & 0xffffffffULL);
  data[1].permitted = (unsigned)(permitted >> 32);
  data[0].inheritable = (unsigned)(inheritable & 0xffffffffULL);
  data[1].inheritable = (unsigned)(inheritable >> 32);
  return (int)syscall(SYS_capset, &hdr, data);
}

/* With flags, seccomp(2) itself (prctl has no argument for them); without, prctl as always. */
static int install_filter(const struct sock_fprog *filter, unsigned flags) {
  if (flags) return (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, filter);
  return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, filter, 0, 0);
}

int apply_privileges(unsigned long long caps, int has_caps, const struct cap_sets *sets, int nnp, uid_t uid, gid_t gid,
                     const gid_t *groups, size_t ngroups, const struct sock_fprog *filter, unsigned filter_flags,
                     const char **step) {
  int has_filter = filter && filter->len;
  /* Without no_new_privs, installing a filter takes CAP_SYS_ADMIN in the process's user
   * namespace, which the sets below may not keep: then it goes first, while every capability
   * is still there (runc installs it before finalizeNamespace in that case). Every call from
   * here to execve must be one the filter allows. */
  if (has_filter && !nnp && install_filter(filter, filter_flags) < 0) { *step = "child.seccomp"; return -1; }
  if (sets || has_caps) {
    /* The bounding set limits what execve can ever grant (file capabilities, setuid root). */
    if (drop_bounding(sets ? sets->bounding : caps) < 0) { *step = "child.caps.bounding"; return -1; }
    if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL) { *step = "child.caps.ambient"; return -1; }
  }
  /* OCI's sets: permitted survives the change to a non-root uid only with keep-caps (the
   * kernel still clears effective); it is switched off again right after, as runc does. */
  if (sets && prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0) { *step = "child.keepcaps"; return -1; }
  if (setgroups(ngroups, groups) < 0) { *step = "child.setgroups"; return -1; }
  if (setresgid(gid, gid, gid) < 0) { *step = "child.setgid"; return -1; }
  if (setresuid(uid, uid, uid) < 0) { *step = "child.setuid"; return -1; }
  if (sets) {
    if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0) { *step = "child.keepcaps"; return -1; }
    /* capset(2): effective within permitted, permitted within what is left of root's,
     * inheritable within the bounding set. */
    if (set_caps(sets->effective, sets->permitted, sets->inheritable) < 0) { *step = "child.caps.set"; return -1; }
    /* An ambient capability must be permitted and inheritable already (prctl(2)); one that is
     * not (EPERM) is left out and the rest raised, as runc does (it only warns): runc's own
     * `spec` lists ambient capabilities with no inheritable set. */
    for (int c = 0; c <= 63; c++)
      if ((sets->ambient & (1ULL << c)) && prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, c, 0, 0) < 0 && errno != EPERM) {
        *step = "child.caps.ambient";
        return -1;
      }
  } else if (has_caps) {
    /* One mask: root keeps exactly the set in permitted and effective, nothing inheritable;
     * any other uid lost all of them with setresuid, as execve would have. */
    unsigned long long kept = uid == 0 ? caps : 0;
    if (set_caps(kept, kept, 0) < 0) { *step = "child.caps.set"; return -1; }
  }
  /* With no_new_privs, setuid bits and file capabilities in the image grant nothing. */
  if (nnp && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) { *step = "child.no_new_privs"; return -1; }
  /* Last: from here on only the filter's allowed calls work (execve, write, exit among them). */
  if (has_filter && nnp && install_filter(filter, filter_flags) < 0) { *step = "child.seccomp"; return -1; }
  return 0;
}

#ifndef MFD_CLOEXEC
#define MFD_CLOEXEC 1U
#endif

/*
 * The OCI hooks the container runs itself (createContainer, startContainer), one after the
 * other, in config order. Each gets the state JSON on stdin (the plan's PRE + our pid + POST:
 * our pid as this namespace sees it, which is what runc's init reports there too), from a
 * memfd: no pipe to fill and no host path needed. It is started with clone3(CLONE_PIDFD), not
 * fork(): glibc's fork runs atfork handlers, which are Node's, and poll() on the pidfd gives the
 * timeout. Its stdout and stderr are ours at this point (the runtime's for createContainer, the
 * container's for startContainer). Returns 0, or -1 with `msg` saying which hook failed and how
 * (errno is set for the report: ECHILD for an exit status, ETIME for a timeout).
 */
static int run_hooks(const struct plan *p, enum hook_when when, const char *kind, char *msg, size_t cap) {
  unsigned index = 0;
  for (size_t i = 0; i < p->nhooks; i++) {
    const struct plan_hook *h = &p->hooks[i];
    if (h->when != when) continue;
    size_t n = str_append(msg, 0, cap, kind);
    n = str_append(msg, n, cap, " hook #");
    n = append_uint(msg, n, cap, index++);
    n = str_append(msg, n, cap, " (");
    n = str_append(msg, n, cap, h->path);
    n = str_append(msg, n, cap, "): ");
    int mfd = (int)syscall(SYS_memfd_create, "oci-state", MFD_CLOEXEC);
    char pid[24];
    append_uint(pid, 0, sizeof pid, (unsigned long)getpid());
    if (mfd < 0 || write_all(mfd, p->hook_state_pre, str_len(p->hook_state_pre)) < 0 || write_all(mfd, pid, str_len(pid)) < 0
        || write_all(mfd, p->hook_state_post, str_len(p->hook_state_post)) < 0 || lseek(mfd, 0, SEEK_SET) < 0) {
      str_append(msg, n, cap, "cannot write its stdin");
      return -1;
    }
    /* The exec's errno comes back on a close-on-exec pipe: nothing read means it ran. */
    int ep[2];
    if (pipe2(ep, O_CLOEXEC) < 0) { str_append(msg, n, cap, "cannot make a pipe"); return -1; }
    int pidfd = -1;
    struct clone_args args;
    memset(&args, 0, sizeof args);
    args.flags = CLONE_PIDFD;
    args.pidfd = (uint64_t)(uintptr_t)&pidfd;
    args.exit_signal = SIGCHLD;
    long c = syscall(SYS_clone3, &args, sizeof args);
    /* startContainer runs under the container's seccomp filter, which may refuse clone3 (docker's
     * profile answers ENOSYS so that callers fall back): then plain clone(SIGCHLD), fork() without
     * glibc's atfork handlers, and the timeout polls waitpid instead of the pidfd. */
    if (c < 0 && (errno == ENOSYS || errno == EPERM)) {
      pidfd = -1;
      c = syscall(SYS_clone, SIGCHLD, 0, 0, 0, 0);
    }
    if (c == 0) {
      prctl(PR_SET_PDEATHSIG, SIGKILL);
      /* Only stdio reaches the hook, as only stdio reaches the container's program. */
      if (dup2(mfd, 0) < 0 || syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC) < 0) { int e = errno; write_all(ep[1], &e, sizeof e); _exit(127); }
      char *self_argv[2] = {(char *)h->path, NULL};
      execve(h->path, h->argv[0] ? h->argv : self_argv, h->envp ? h->envp : environ);
      int e = errno;
      write_all(ep[1], &e, sizeof e);
      _exit(127);
    }
    int clone_errno = errno;
    close(ep[1]);
    close(mfd);
    if (c < 0) { close(ep[0]); errno = clone_errno; str_append(msg, n, cap, "cannot start it"); return -1; }
    int timed_out = 0, status = 0, reaped = 0;
    if (h->timeout && pidfd >= 0) {
      struct pollfd pfd = {.fd = pidfd, .events = POLLIN, .revents = 0};
      long ms = (long)h->timeout * 1000;
      int r;
      do r = poll(&pfd, 1, ms > 0x7fffffff ? 0x7fffffff : (int)ms); while (r < 0 && errno == EINTR);
      if (r == 0) {
        timed_out = 1;
        syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0);
      }
    } else if (h->timeout) {
      /* No pidfd: our unreaped child's pid cannot be reused, so kill(2) by pid is safe. */
      struct timespec tick = {.tv_sec = 0, .tv_nsec = 10 * 1000 * 1000};
      for (unsigned long waited = 0; !reaped && !timed_out; waited += 10) {
        if (waitpid((pid_t)c, &status, WNOHANG | __WALL) == (pid_t)c && reap_is_exit(status)) reaped = 1;
        else if (waited >= (unsigned long)h->timeout * 1000) { timed_out = 1; kill((pid_t)c, SIGKILL); }
        else nanosleep(&tick, NULL);
      }
    }
    if (!reaped) reap_wait((int)c, &status, 0);
    if (pidfd >= 0) close(pidfd);
    int exec_errno = 0;
    ssize_t got;
    do got = read(ep[0], &exec_errno, sizeof exec_errno); while (got < 0 && errno == EINTR);
    close(ep[0]);
    if (got == sizeof exec_errno) {
      errno = exec_errno;
      str_append(msg, n, cap, "cannot run it");
      return -1;
    }
    if (timed_out) {
      n = str_append(msg, n, cap, "it ran past its timeout of ");
      n = append_uint(msg, n, cap, h->timeout);
      str_append(msg, n, cap, " s and was killed");
      errno = ETIME;
      return -1;
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status)) {
      if (WIFEXITED(status)) { n = str_append(msg, n, cap, "exit status "); append_uint(msg, n, cap, (unsigned long)WEXITSTATUS(status)); }
      else { n = str_append(msg, n, cap, "killed by signal "); append_uint(msg, n, cap, (unsigned long)WTERMSIG(status)); }
      errno = ECHILD;
      return -1;
    }
  }
  return 0;
}

static int sys_pivot_root(const char *new_root, const char *put_old) {
  return (int)syscall(SYS_pivot_root, new_root, put_old);
}

/* Everything the child does. Never returns. */
/* Reads the parent's one-byte "go", and the image mount descriptor riding with it, if any.
 * Returns -1 when the parent closed its end instead (it gave up). */
static int recv_go(int gofd, int *fd) {
  char go;
  struct iovec iov = {.iov_base = &go, .iov_len = 1};
  union { struct cmsghdr h; char buf[CMSG_SPACE(sizeof(int))]; } ctl;
  struct msghdr m;
  memset(&m, 0, sizeof m);
  m.msg_iov = &iov;
  m.msg_iovlen = 1;
  m.msg_control = ctl.buf;
  m.msg_controllen = sizeof ctl.buf;
  ssize_t r;
  do r = recvmsg(gofd, &m, MSG_CMSG_CLOEXEC); while (r < 0 && errno == EINTR);
  if (r != 1) return -1;
  struct cmsghdr *c = CMSG_FIRSTHDR(&m);
  if (c && c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) memcpy(fd, CMSG_DATA(c), sizeof *fd);
  return 0;
}

/* The container dies with its parent: the CLI in the foreground, the shim when detached (which
 * stays its parent until it has reaped it). PR_SET_PDEATHSIG does not survive a change of the
 * effective uid or gid (the kernel clears it in commit_creds), so this runs again after every
 * such change. A parent that died before the signal was armed again would go unnoticed, and
 * getppid() cannot tell (it is 0 in a new PID namespace); the report pipe can: the parent
 * holds its read end until our execve, and the child closed its own copy, so a write end
 * without a reader (POLLERR) means the parent is gone. */
static void arm_parent_death(int rfd) {
  if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0) FAIL("child.pdeathsig", NULL);
  struct pollfd pfd = {.fd = rfd, .events = POLLOUT, .revents = 0};
  if (poll(&pfd, 1, 0) == 1 && (pfd.revents & POLLERR)) _exit(CONTAINER_SETUP_FAILED);
}

/*
 * OCI create/start (runtime.md "Lifecycle"): the container is set up in full, and its process
 * waits before the user's program until `start`. As runc does, the wait is an open for writing
 * of a FIFO, which blocks until `start` opens it for reading. Before blocking, the child tells
 * `create` that it is set up ("ready" on the report pipe) and lets go of its parent: `create`
 * exits by design, and the waiting process must then be re-parented to the caller (a subreaper:
 * conmon, containerd-shim), not killed. If the parent died before that, it is caught the same
 * way as after arming (POLLERR on the report pipe) and the half-made container exits.
 */
static void wait_exec_fifo(const struct plan *p, int fifofd, int rfd) {
  if (prctl(PR_SET_PDEATHSIG, 0) < 0) FAIL("child.pdeathsig", NULL);
  struct pollfd pfd = {.fd = rfd, .events = POLLOUT, .revents = 0};
  if (poll(&pfd, 1, 0) == 1 && (pfd.revents & POLLERR)) _exit(CONTAINER_SETUP_FAILED);
  struct container_failure ready;
  memset(&ready, 0, sizeof ready);
  memcpy(ready.step, CONTAINER_READY, sizeof CONTAINER_READY);
  if (write_all(rfd, &ready, sizeof ready) < 0) _exit(CONTAINER_SETUP_FAILED);
  char path[40];
  append_uint(path, str_append(path, 0, sizeof path, "/proc/self/fd/"), sizeof path, (unsigned long)fifofd);
  int w;
  do w = open(path, O_WRONLY | O_CLOEXEC); while (w < 0 && errno == EINTR);
  if (w < 0) _exit(CONTAINER_SETUP_FAILED); /* nobody is listening for a report any more */
  /* startContainer (config.md): after `start`, before the user's program, in the container
   * as it will run (root, privileges, filter). `start` waits on the FIFO meanwhile; a failure
   * is told to it there ("1" and why), as nobody reads the report pipe any more. */
  char msg[240];
  if (run_hooks(p, HOOK_START_CONTAINER, "startContainer", msg, sizeof msg) < 0) {
    write_all(w, "1", 1);
    write_all(w, msg, str_len(msg));
    _exit(CONTAINER_SETUP_FAILED);
  }
  /* One byte tells `start` that this process is about to execve (runc writes "0"). */
  if (write_all(w, "0", 1) < 0) _exit(CONTAINER_SETUP_FAILED);
  close(w);
  close(fifofd);
}

/*
 * linux.namespaces[].path for ipc, uts, cgroup, mnt and user: setns(2) from here, the only
 * thread of this process (a user or mount namespace refuses a multithreaded caller: Node never
 * joins them itself). Every path is opened first, while the runtime's mount namespace still
 * names them. The others are joined while we are still the host's root, who may enter any of
 * them; the user namespace last, since inside it we would lose the host's capabilities. What the
 * config creates besides is then unshared, so that it belongs to the joined user namespace (as
 * runc's nsexec does it). setns with the type checks what the file is: EINVAL when it is no
 * namespace of that type. Before "go": the parent waits for "joined", so everything it does
 * meanwhile (cgroups, prestart hooks) sees the final namespaces.
 */
static void join_namespaces(const struct plan *p, int rfd) {
  static const struct { unsigned long type; const char *step; } steps[] = {
    {CLONE_NEWNS, "child.setns.mnt"}, {CLONE_NEWUTS, "child.setns.uts"}, {CLONE_NEWIPC, "child.setns.ipc"},
    {CLONE_NEWUSER, "child.setns.user"}, {CLONE_NEWCGROUP, "child.setns.cgroup"}};
  int fds[PLAN_MAX_JOINS];
  const char *step[PLAN_MAX_JOINS];
  for (size_t i = 0; i < p->njoins; i++) {
    step[i] = "child.setns";
    for (size_t k = 0; k < sizeof steps / sizeof steps[0]; k++)
      if (steps[k].type == p->joins[i].type) step[i] = steps[k].step;
    fds[i] = open(p->joins[i].path, O_RDONLY | O_CLOEXEC);
    if (fds[i] < 0) FAIL(step[i], p->joins[i].path);
  }
  for (int user = 0; user < 2; user++)
    for (size_t i = 0; i < p->njoins; i++) {
      if ((p->joins[i].type == CLONE_NEWUSER) != user) continue;
      if (setns(fds[i], (int)p->joins[i].type) < 0) FAIL(step[i], p->joins[i].path);
      close(fds[i]);
    }
  if (p->joins_user) {
    /* Our credentials are still the host's root (the ids change after "go", as for a new user
     * namespace), with every capability in the joined namespace: enough to unshare there. */
    unsigned long fresh = p->clone_flags & ~(p->late_cgroupns ? CLONE_NEWCGROUP : 0UL);
    if (fresh && unshare((int)fresh) < 0) FAIL("child.unshare", NULL);
    if (fresh & CLONE_NEWPID) {
      /* unshare(CLONE_NEWPID) moves our children, not us: the container's PID 1 must be a child
       * of ours (runc's nsexec does the same second fork). We report its pid and exit; it is
       * re-parented to the runtime (a subreaper for this: container_create), which follows it
       * from then on. It writes no "joined": our "forked" says it, and comes first. Its death
       * signal is armed again after "go" (arm_parent_death), once its parent is the runtime:
       * armed now, our exit would fire it. */
      struct clone_args a;
      memset(&a, 0, sizeof a);
      a.exit_signal = SIGCHLD;
      long pid1 = syscall(SYS_clone3, &a, sizeof a);
      if (pid1 < 0) FAIL("child.fork.pid1", NULL);
      if (pid1 > 0) {
        struct container_failure forked;
        memset(&forked, 0, sizeof forked);
        memcpy(forked.step, CONTAINER_FORKED, sizeof CONTAINER_FORKED);
        forked.err = (int)pid1;
        _exit(write_all(rfd, &forked, sizeof forked) < 0 ? CONTAINER_SETUP_FAILED : 0);
      }
      return;
    }
  }
  struct container_failure joined;
  memset(&joined, 0, sizeof joined);
  memcpy(joined.step, CONTAINER_JOINED, sizeof CONTAINER_JOINED);
  if (write_all(rfd, &joined, sizeof joined) < 0) _exit(CONTAINER_SETUP_FAILED);
}

static void child_main(const struct plan *p, int gofd, int gowfd, int rfd, int rrfd) {
  /* Node's handlers are addresses in a process image the child must not run, and signals
   * Node ignores (SIGPIPE) would stay ignored across execve: give the command the defaults. */
  struct sigaction dfl;
  memset(&dfl, 0, sizeof dfl);
  dfl.sa_handler = SIG_DFL;
  for (int s = 1; s < NSIG; s++) sigaction(s, &dfl, NULL);
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);

  /* The container dies with the CLI that runs it in the foreground. A parent that died before
   * prctl took effect is caught below: its end of "go" closes and read() returns EOF. (getppid()
   * cannot tell: in a new PID namespace it is always 0.) */
  close(gowfd);
  close(rrfd); /* the report pipe's read end is the parent's: see arm_parent_death */
  if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0) FAIL("child.pdeathsig", NULL);
  if (p->njoins) join_namespaces(p, rfd);

  int lowerfd = -1;
  if (recv_go(gofd, &lowerfd) < 0) _exit(CONTAINER_SETUP_FAILED); /* the parent gave up: nothing to report to */
  close(gofd);
  /* OCI create: the exec FIFO lives in the runtime's state directory on the host, which the
   * child cannot name after pivot_root. An O_PATH descriptor keeps it reachable as
   * /proc/self/fd/N without opening it (an open for writing would block here). */
  int fifofd = -1;
  if (p->exec_fifo) {
    fifofd = open(p->exec_fifo, O_PATH | O_CLOEXEC);
    if (fifofd < 0) FAIL("child.open.exec_fifo", p->exec_fifo);
  }

  /* Become the namespace's root now that the maps exist. Until this the child still holds the
   * host ids it was cloned with (uid 0), which a remapped namespace does not map: the kernel
   * would refuse it as the owner of anything it creates (overlay refuses to mount at all). */
  if ((p->clone_flags & CLONE_NEWUSER || p->joins_user) && (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0)) FAIL("child.setresuid", "0");
  arm_parent_death(rfd); /* the new euid (host uid 100000, say) cleared it */
  if (p->late_cgroupns && unshare(CLONE_NEWCGROUP) < 0) FAIL("child.unshare.cgroup", NULL);
  if (p->hostname && sethostname(p->hostname, str_len(p->hostname)) < 0) FAIL("child.sethostname", p->hostname);
  if (p->domainname && setdomainname(p->domainname, str_len(p->domainname)) < 0) FAIL("child.setdomainname", p->domainname);

  if (p->lo_up && bring_up_lo() < 0) FAIL("child.net.lo_up", "lo");
  if (p->eth_addr) {
    const char *step = "child.net";
    if (configure_eth0(p, &step) < 0) FAIL(step, p->eth_addr);
  }

  /* Nothing we mount may propagate back to the host (the host's / is usually shared): the whole
   * inherited tree becomes private, or a slave (host mounts still arrive; OCI's default, and
   * runc's, with linux.rootfsPropagation shared or unbindable applied after pivot_root). Either
   * way the rootfs's parent is not shared, which pivot_root(2) requires. */
  if (!p->shared_mnt && mount(NULL, "/", NULL, p->tree_prop, NULL) < 0) FAIL("child.mount.propagation", "/");
  if (p->lower_mnt) {
    /* The idmapped image from the parent, attached where overlay's lowerdir says. */
    if (lowerfd < 0) { errno = EBADF; FAIL("child.idmap.receive", p->lower_mnt); }
    if (syscall(SYS_move_mount, lowerfd, "", AT_FDCWD, p->lower_mnt, MOVE_MOUNT_F_EMPTY_PATH) < 0)
      FAIL("child.idmap.move_mount", p->lower_mnt);
    close(lowerfd);
  }
  if (p->overlay) {
    /* nodev: a device node shipped in an image must never open a host device. */
    /* A layered image names its layers relative to the layer store ("l/<short id>", docker's
     * trick): overlay's options are one page, and 120 absolute paths would not fit. The kernel
     * resolves relative lowerdirs against the mounter's working directory. */
    if (p->overlay_cwd && chdir(p->overlay_cwd) < 0) FAIL("child.mount.overlay.chdir", p->overlay_cwd);
    if (mount("overlay", p->rootfs, "overlay", MS_NODEV, p->overlay) < 0) FAIL("child.mount.overlay", p->rootfs);
    if (p->overlay_cwd && chdir("/") < 0) FAIL("child.mount.overlay.chdir", "/");
  } else if (mount(p->rootfs, p->rootfs, NULL, MS_BIND | MS_REC, NULL) < 0) {
    FAIL("child.mount.rootfs", p->rootfs); /* pivot_root needs a mount point */
  }
  /* In a mount namespace that is not ours only the container's own tree is made private: every
   * mount below it then stays in this namespace, and none reaches the namespace's peers. */
  if (p->shared_mnt && mount(NULL, p->rootfs, NULL, MS_REC | MS_PRIVATE, NULL) < 0) FAIL("child.mount.rootfs.private", p->rootfs);
  int rootfd = open(p->rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (rootfd < 0) FAIL("child.open.rootfs", p->rootfs);
  /* proc and sysfs are mounted before pivot_root on purpose: the kernel lets a user namespace
   * mount them only while a full instance is visible in the mount namespace (mount_too_revealing
   * in fs/namespace.c), and the host's goes away with the old root. */
  for (size_t i = 0; i < p->nops; i++) run_op(rootfd, &p->ops[i], rfd);
  close(rootfd);
  /* createContainer (config.md): in every namespace of the container, its mounts made, before
   * pivot_root, so the hook's path is still the host's (it "MUST resolve in the runtime
   * namespace"). Its failure is the container's: reported as any step, create fails. */
  char hook_msg[sizeof ((struct container_failure *)0)->detail];
  if (run_hooks(p, HOOK_CREATE_CONTAINER, "createContainer", hook_msg, sizeof hook_msg) < 0) FAIL("child.hook.createContainer", hook_msg);

  int ttyfd = -1;
  if (p->tty) {
    ttyfd = open(p->tty, O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (ttyfd < 0) FAIL("child.open.tty", p->tty);
  }

  /* pivot_root(".", ".") stacks the old root on top of the new one; detaching it leaves only
   * the container's tree (the trick pivot_root(2) documents; no put_old directory needed). */
  if (chdir(p->rootfs) < 0) FAIL("child.chdir.rootfs", p->rootfs);
  if (p->shared_mnt) {
    /* pivot_root(2) moves the root of every process of the mount namespace that has the old
     * one: in a namespace that is not ours, only our own root may change. chroot is weaker (a
     * root with CAP_SYS_CHROOT can climb out of it to that namespace's /), which is what
     * sharing a mount namespace gives away anyway; runc, too, chroots without one of its own. */
    if (chroot(".") < 0) FAIL("child.chroot", p->rootfs);
  } else {
    if (sys_pivot_root(".", ".") < 0) FAIL("child.pivot_root", p->rootfs);
    if (umount2(".", MNT_DETACH) < 0) FAIL("child.umount.oldroot", NULL);
  }
  if (chdir("/") < 0) FAIL("child.chdir", "/");
  /* linux.rootfsPropagation "shared"/"unbindable": only on the container's own root, now that it
   * is "/" (made shared before the rootfs bind, it would have joined the host's peer group). */
  if (p->newroot_prop && mount(NULL, "/", NULL, p->newroot_prop, NULL) < 0) FAIL("child.mount.rootfs_propagation", "/");
  /* --read-only: the root goes read-only only now, after every mount point was made in it.
   * Our own overlay may be remounted whole; a bundle's root is a bind mount of a directory of
   * the host's filesystem, and a remount without MS_BIND would make that whole filesystem
   * read-only, host included: only this mount changes (MS_BIND), its locked flags repeated. */
  if (p->readonly_root) {
    int rc;
    if (p->overlay) rc = mount(NULL, "/", NULL, MS_REMOUNT | MS_RDONLY | MS_NODEV, NULL);
    else {
      int rfd2 = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
      rc = rfd2 < 0 ? -1 : mount(NULL, "/", NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | locked_flags(rfd2), NULL);
      if (rfd2 >= 0) close(rfd2);
    }
    if (rc < 0) FAIL("child.remount.root.ro", "/");
  }

  /* A session of its own; with a tty, the pty becomes its controlling terminal. */
  if (setsid() < 0) FAIL("child.setsid", NULL);
  if (ttyfd >= 0) {
    for (int i = 0; i < 3; i++)
      if (dup2(ttyfd, i) < 0) FAIL("child.dup2", p->tty);
    if (ioctl(0, TIOCSCTTY, 0) < 0) FAIL("child.tiocsctty", p->tty);
  } else {
    /* dup2 in two rounds via fds above the report pipe, so fd 1 -> 0 style swaps cannot clobber. */
    int tmp[3];
    for (int i = 0; i < 3; i++) {
      tmp[i] = fcntl(p->stdio[i], F_DUPFD_CLOEXEC, 3);
      if (tmp[i] < 0) FAIL("child.stdio", NULL);
    }
    for (int i = 0; i < 3; i++)
      if (dup2(tmp[i], i) < 0) FAIL("child.stdio", NULL);
  }
  /* Node may leave stdio non-blocking; a command expects the blocking default. */
  for (int i = 0; i < 3; i++) {
    int fl = fcntl(i, F_GETFL);
    if (fl >= 0 && (fl & O_NONBLOCK)) fcntl(i, F_SETFL, fl & ~O_NONBLOCK);
  }
  /* Only stdio survives execve: every other descriptor Node or the caller had open becomes
   * close-on-exec (CVE-2024-21626 leaked one into a container). The report pipe is already. */
  if (syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC) < 0) FAIL("child.close_range", NULL);

  /* docker creates a missing working directory; a path through a symlink stays inside the
   * container because / is now the container's root. */
  if (chdir(p->cwd) < 0) {
    if (errno != ENOENT) FAIL("child.chdir.cwd", p->cwd);
    int fd = open_in_root(open("/", O_PATH | O_DIRECTORY | O_CLOEXEC), p->cwd, 0);
    if (fd < 0 || fchdir(fd) < 0) FAIL("child.chdir.cwd", p->cwd);
  }

  /* process.rlimits, while the child is still root: a hard limit above the current one needs
   * CAP_SYS_RESOURCE (in the initial user namespace), and fails here as it would for runc. */
  for (size_t i = 0; i < p->nrlimits; i++)
    if (setrlimit(p->rlimits[i].resource, &p->rlimits[i].limit) < 0) FAIL("child.setrlimit", p->rlimits[i].name);

  const char *pstep = "child.privileges";
  if (apply_privileges(p->caps, p->has_caps, p->has_cap_sets ? &p->cap_sets : NULL, p->no_new_privs, p->uid, p->gid,
                       p->groups, p->ngroups, &p->seccomp, p->seccomp_flags, &pstep) < 0)
    FAIL(pstep, NULL);
  /* setresuid/setresgid to the command's ids cleared it again (prctl is allowed by the filter;
   * execve keeps it, short of a setuid binary under --privileged). */
  arm_parent_death(rfd);

  if (fifofd >= 0) wait_exec_fifo(p, fifofd, rfd);
  if (p->umask >= 0) umask((mode_t)p->umask);
  exec_command(p, rfd);
}

/* ---------- parent side ---------- */

static int write_file(const char *path, const char *data) {
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  int rc = write_all(fd, data, str_len(data));
  int saved = errno;
  close(fd);
  errno = saved;
  return rc;
}

/* A detached copy of `dir` whose owners read through the child's id map (h->lowerfd). */
static int idmapped_clone(const char *dir, long pid, struct container_handle *h, struct container_failure *f) {
  char path[64];
  snprintf(path, sizeof path, "/proc/%ld/ns/user", pid);
  const char *step = "parent.idmap.userns";
  int userns = open(path, O_RDONLY | O_CLOEXEC);
  if (userns >= 0) {
    step = "parent.idmap.open_tree";
    h->lowerfd = (int)syscall(SYS_open_tree, AT_FDCWD, dir, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
    if (h->lowerfd >= 0) {
      struct mount_attr attr;
      memset(&attr, 0, sizeof attr);
      attr.attr_set = MOUNT_ATTR_IDMAP | MOUNT_ATTR_NODEV;
      attr.userns_fd = (uint64_t)userns;
      step = "parent.idmap.mount_setattr";
      if (syscall(SYS_mount_setattr, h->lowerfd, "", AT_EMPTY_PATH, &attr, sizeof attr) == 0) step = NULL;
    }
  }
  f->err = errno;
  if (userns >= 0) close(userns);
  if (!step) return 0;
  snprintf(f->step, sizeof f->step, "%s", step);
  snprintf(f->detail, sizeof f->detail, "%s", dir);
  return -1;
}

/* Reads one report off the child's pipe. Short of a whole one (the child died, or exec'd:
 * got 0), `f` says so with `why`; the strings are terminated either way. Returns the bytes got. */
static size_t read_report(int fd, struct container_failure *f, const char *why) {
  size_t got = 0;
  while (got < sizeof *f) {
    ssize_t r = read(fd, (char *)f + got, sizeof *f - got);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    got += (size_t)r;
  }
  if (got < sizeof *f) {
    memset(f, 0, sizeof *f);
    snprintf(f->step, sizeof f->step, "child.unknown");
    snprintf(f->detail, sizeof f->detail, "%s", why);
  }
  f->step[sizeof f->step - 1] = '\0';
  f->detail[sizeof f->detail - 1] = '\0';
  return got;
}

/* A namespace the calling thread enters just for clone3 and leaves right after: a network
 * namespace, or a PID namespace for its children. setns(2) allows both in a multithreaded
 * process, as they are per thread (a user or mount namespace it refuses there). `own` is the
 * thread's namespace to return to. */
struct thread_ns { int own, target, type; };

static int thread_ns_enter(struct thread_ns *t, const char *path, const char *self, const char *step, struct container_failure *f) {
  t->own = open(self, O_RDONLY | O_CLOEXEC);
  t->target = open(path, O_RDONLY | O_CLOEXEC);
  if (t->own >= 0 && t->target >= 0 && setns(t->target, t->type) == 0) return 0;
  f->err = errno;
  snprintf(f->step, sizeof f->step, "%s", step);
  snprintf(f->detail, sizeof f->detail, "%s", path);
  if (t->own >= 0) close(t->own);
  if (t->target >= 0) close(t->target);
  t->own = t->target = -1;
  return -1;
}

static void thread_ns_leave(struct thread_ns *t) {
  if (t->own < 0) return;
  /* Returning cannot fail for a namespace we were in a moment ago, short of the kernel running
   * out of memory; if it does, this thread must not go on in the wrong one. */
  if (setns(t->own, t->type) < 0) abort();
  close(t->own);
  close(t->target);
  t->own = t->target = -1;
}

int container_create(const struct plan *p, struct container_handle *h, struct container_failure *f) {
  int go[2], rep[2];
  memset(h, 0, sizeof *h);
  h->pidfd = h->lowerfd = -1;
  /* The pty slave must belong to the container's root, or a remapped root cannot open it. */
  if (p->tty && p->tty_uid >= 0 && chown(p->tty, (uid_t)p->tty_uid, (gid_t)p->tty_gid) < 0) {
    f->err = errno; snprintf(f->step, sizeof f->step, "parent.chown.tty");
    snprintf(f->detail, sizeof f->detail, "%s", p->tty);
    return -1;
  }
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, go) < 0) { snprintf(f->step, sizeof f->step, "parent.socketpair"); f->err = errno; return -1; }
  if (pipe2(rep, O_CLOEXEC) < 0) {
    f->err = errno; snprintf(f->step, sizeof f->step, "parent.pipe");
    close(go[0]); close(go[1]);
    return -1;
  }

  /* --network container:NAME / host: the child must start in an existing network namespace;
   * a joined PID namespace: it must be that namespace's process from its first instruction
   * (joining later would take a second fork, runc's nsexec stage 2). Both are this thread's
   * alone (pid_for_children too), so the calling thread enters them just for clone3 and
   * returns: no other Node thread is affected (see thread_ns_enter). */
  struct thread_ns net = {-1, -1, CLONE_NEWNET}, pidns = {-1, -1, CLONE_NEWPID};
  if ((p->netns && thread_ns_enter(&net, p->netns, "/proc/thread-self/ns/net", "parent.setns.net", f) < 0)
      || (p->pidns && thread_ns_enter(&pidns, p->pidns, "/proc/thread-self/ns/pid", "parent.setns.pid", f) < 0)) {
    thread_ns_leave(&net);
    close(go[0]); close(go[1]); close(rep[0]); close(rep[1]);
    return -1;
  }

  /* A PID namespace made inside a joined user namespace: the child forks PID 1 and exits, and
   * PID 1 must then be re-parented to us, not to the host's init (we wait for it, and an OCI
   * create's caller gets it from us when we exit). */
  if (p->joins_user && (p->clone_flags & CLONE_NEWPID) && prctl(PR_SET_CHILD_SUBREAPER, 1) < 0) {
    f->err = errno; snprintf(f->step, sizeof f->step, "parent.subreaper");
    thread_ns_leave(&pidns); thread_ns_leave(&net);
    close(go[0]); close(go[1]); close(rep[0]); close(rep[1]);
    return -1;
  }
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  struct clone_args args;
  memset(&args, 0, sizeof args);
  int pidfd = -1;
  /* With a joined user namespace the new ones are unshared by the child after it joined
   * (join_namespaces), so that they belong to it. */
  args.flags = (p->joins_user ? 0 : p->clone_flags & ~(p->late_cgroupns ? CLONE_NEWCGROUP : 0)) | CLONE_PIDFD;
  args.pidfd = (uint64_t)(uintptr_t)&pidfd;
  args.exit_signal = SIGCHLD;
  /* With no stack, clone3 behaves like fork(): the child continues here on a copy of ours. */
  long pid = syscall(SYS_clone3, &args, sizeof args);
  if (pid == 0) child_main(p, go[0], go[1], rep[1], rep[0]);
  int clone_errno = errno;
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  thread_ns_leave(&pidns);
  thread_ns_leave(&net);
  close(go[0]);
  close(rep[1]);
  if (pid < 0) {
    close(go[1]); close(rep[0]);
    f->err = clone_errno;
    snprintf(f->step, sizeof f->step, "parent.clone3");
    return -1;
  }
  h->pid = (int)pid;
  h->pidfd = pidfd;
  h->gofd = go[1];
  h->reportfd = rep[0];
  if (p->njoins) {
    /* The child joins before anything else (join_namespaces): its "joined", or its failure. */
    if (read_report(h->reportfd, f, "the child died joining namespaces without a report") != sizeof *f
        || (memcmp(f->step, CONTAINER_JOINED, sizeof CONTAINER_JOINED) && memcmp(f->step, CONTAINER_FORKED, sizeof CONTAINER_FORKED))) {
      container_abort(h);
      return -1;
    }
    if (!memcmp(f->step, CONTAINER_FORKED, sizeof CONTAINER_FORKED)) {
      /* The child has forked PID 1 and exits: reap it, then follow PID 1 by a pidfd of its own
       * (it is our child now, as we are a subreaper). */
      int pid1 = f->err;
      siginfo_t si;
      while (waitid((idtype_t)P_PIDFD, (id_t)h->pidfd, &si, WEXITED) < 0 && errno == EINTR) {}
      close(h->pidfd);
      h->pid = pid1;
      h->pidfd = (int)syscall(SYS_pidfd_open, pid1, 0);
      if (h->pidfd < 0) {
        f->err = errno; snprintf(f->step, sizeof f->step, "parent.pidfd_open");
        snprintf(f->detail, sizeof f->detail, "%d", pid1);
        kill(pid1, SIGKILL);
        while (waitpid(pid1, NULL, 0) < 0 && errno == EINTR) {}
        h->pid = 0;
        container_abort(h);
        return -1;
      }
    }
    memset(f, 0, sizeof *f);
  }

  if (p->clone_flags & CLONE_NEWUSER) {
    char path[64];
    const char *step = NULL;
    snprintf(path, sizeof path, "/proc/%d/uid_map", h->pid);
    if (p->uid_map && write_file(path, p->uid_map) < 0) step = "parent.uid_map";
    snprintf(path, sizeof path, "/proc/%d/gid_map", h->pid);
    if (!step && p->gid_map && write_file(path, p->gid_map) < 0) step = "parent.gid_map";
    if (step) {
      f->err = errno;
      snprintf(f->step, sizeof f->step, "%s", step);
      snprintf(f->detail, sizeof f->detail, "%s", step[7] == 'u' ? p->uid_map : p->gid_map);
      container_abort(h);
      return -1;
    }
  }
  if (p->has_oom_score_adj) {
    /* From the parent: the child would need nothing more to raise it, but lowering it below
     * the value it inherited takes CAP_SYS_RESOURCE either way (proc(5)). */
    char path[64], value[16];
    snprintf(path, sizeof path, "/proc/%d/oom_score_adj", h->pid);
    snprintf(value, sizeof value, "%ld", p->oom_score_adj);
    if (write_file(path, value) < 0) {
      f->err = errno;
      snprintf(f->step, sizeof f->step, "parent.oom_score_adj");
      snprintf(f->detail, sizeof f->detail, "%s", value);
      container_abort(h);
      return -1;
    }
  }
  if (p->idmap_lower && idmapped_clone(p->idmap_lower, h->pid, h, f) < 0) {
    container_abort(h);
    return -1;
  }
  return 0;
}

/* "go": one byte, with the image mount descriptor attached when there is one. */
static int send_go(int gofd, int fd) { return send_fd(gofd, fd, "g", 1); }

int container_start(struct container_handle *h, struct container_failure *f) {
  memset(f, 0, sizeof *f);
  int rc = send_go(h->gofd, h->lowerfd);
  close(h->gofd);
  h->gofd = -1;
  if (h->lowerfd >= 0) close(h->lowerfd); /* the child has its own reference now */
  h->lowerfd = -1;
  if (rc < 0) {
    f->err = errno;
    snprintf(f->step, sizeof f->step, "parent.go");
    close(h->reportfd);
    h->reportfd = -1;
    return -1;
  }
  size_t got = read_report(h->reportfd, f, "the child died before exec without a report");
  close(h->reportfd);
  h->reportfd = -1;
  if (got == 0) {
    memset(f, 0, sizeof *f);
    return 0; /* EOF: the report pipe was closed by a successful execve */
  }
  if (got == sizeof *f && !memcmp(f->step, CONTAINER_READY, sizeof CONTAINER_READY)) {
    memset(f, 0, sizeof *f);
    return 0; /* OCI create: set up, waiting on its exec FIFO */
  }
  return -1;
}

void container_abort(struct container_handle *h) {
  if (h->gofd >= 0) close(h->gofd); /* EOF on "go": the child exits by itself */
  if (h->reportfd >= 0) close(h->reportfd);
  if (h->lowerfd >= 0) close(h->lowerfd);
  h->gofd = h->reportfd = h->lowerfd = -1;
  if (h->pid > 0) {
    /* Through the pidfd: once a wait reaped the child, h->pid may name some other process.
     * ESRCH from it means reaped already: nothing to wait for. */
    int alive = 1;
    if (h->pidfd >= 0) alive = syscall(SYS_pidfd_send_signal, h->pidfd, SIGKILL, NULL, 0) == 0 || errno != ESRCH;
    else kill(h->pid, SIGKILL);
    if (alive) reap_wait(h->pid, NULL, 0);
  }
  if (h->pidfd >= 0) close(h->pidfd);
  h->pidfd = -1;
  h->pid = 0;
}
