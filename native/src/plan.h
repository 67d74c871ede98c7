/* The child plan: what the cloned child does, prepared in full before clone().
 *
 * TypeScript builds the plan (src/runtime/child-plan.ts) and serialises it as a flat list of
 * NUL-terminated key/value strings ("hostname\0web\0arg\0python3\0..."). plan_parse() runs in
 * the parent, where malloc is allowed, and leaves every pointer pointing into one heap block,
 * so the child (a copy-on-write image of the parent) reads it without allocating. */
#ifndef MINIDOCK_PLAN_H
#define MINIDOCK_PLAN_H

#include <stddef.h>
#include <linux/filter.h>
#include <sys/resource.h>
#include <sys/types.h>

enum op_kind { OP_MOUNT = 1, OP_BIND, OP_SYMLINK, OP_MKDIR, OP_MKNOD, OP_SYSCTL };

#define PLAN_MAX_PROP 4 /* propagation changes after one mount (each its own mount(2) call) */

/* One step of building the container's filesystem, with its target relative to the rootfs. */
struct plan_op {
  enum op_kind kind;
  const char *src;    /* OP_MOUNT: fs source name; OP_BIND: host path; OP_SYMLINK: link text */
  const char *dst;    /* path inside the rootfs, no "..", resolved without following symlinks */
  const char *fstype; /* OP_MOUNT only */
  const char *data;   /* OP_MOUNT: fs options such as "mode=755"; OP_SYSCTL: the value written */
  unsigned long flags;/* MS_* flags */
  int file;           /* OP_BIND: the target is a file, not a directory */
  int optional;       /* skip when the target does not exist (never create it: e.g. in /proc) */
  /* OP_MOUNT, OP_BIND: after the mount, each propagation change in order (MS_SHARED|MS_REC...),
   * then mount_setattr(AT_RECURSIVE) with rec_set/rec_clr (MOUNT_ATTR_*) when has_rec_attr. */
  unsigned long prop[PLAN_MAX_PROP];
  size_t nprop;
  unsigned long rec_set, rec_clr;
  int has_rec_attr;
  /* OP_MKNOD: the node's type and permission bits (S_IFCHR|0660...), device number, owner. */
  mode_t mode;
  dev_t rdev;
  uid_t uid;
  gid_t gid;
};

/* The five capability sets of an OCI process, when they are not the one mask of `caps`. */
struct cap_sets {
  unsigned long long bounding, effective, inheritable, permitted, ambient;
};

/* One process.rlimits entry: setrlimit(resource, {soft, hard}) in the child. */
struct plan_rlimit {
  int resource;        /* RLIMIT_* */
  const char *name;    /* "RLIMIT_NOFILE": the failure report's detail */
  struct rlimit limit;
};

#define PLAN_MAX_RLIMITS 16 /* RLIM_NLIMITS on Linux; each resource at most once */

/* An OCI hook the child runs itself (plan keys hook, hook_path, hook_arg, hook_env_set,
 * hook_env, hook_timeout): createContainer in the container's namespaces before pivot_root,
 * startContainer after `start` released the exec FIFO, before execve. */
enum hook_when { HOOK_CREATE_CONTAINER = 1, HOOK_START_CONTAINER };

struct plan_hook {
  enum hook_when when;
  const char *path;    /* absolute; before pivot_root a host path, after it the container's */
  char **argv;         /* NULL-terminated; empty: the path is argv[0] */
  char **envp;         /* NULL-terminated, or NULL: the environment the runtime had */
  unsigned timeout;    /* seconds (0: none); the hook is killed past it */
};

/* linux.namespaces[].path for ipc, uts, cgroup, mnt, user: "TYPE PATH" (plan key join). */
struct plan_join {
  unsigned long type;  /* CLONE_NEW* */
  const char *path;
};

#define PLAN_MAX_JOINS 5

struct plan {
  unsigned long clone_flags; /* CLONE_NEW* given to clone3 */
  int late_cgroupns;         /* unshare(CLONE_NEWCGROUP) after "go": see child.c */
  const char *uid_map, *gid_map;
  const char *hostname;
  int lo_up;                 /* bring up "lo" in the new network namespace */
  const char *netns;         /* join this network namespace (a /proc/PID/ns/net path) instead */
  const char *pidns;         /* be cloned into this PID namespace (the parent's pid_for_children) */
  struct plan_join joins[PLAN_MAX_JOINS]; /* joined by the child itself, before "go" (key join) */
  size_t njoins;
  int joins_user;            /* one of them is a user namespace: what is new is unshared after it */
  int shared_mnt;            /* no mount namespace of our own (joined, or the runtime's): the
                              * tree's propagation is not ours to change, and chroot replaces
                              * pivot_root, which would move every process of that namespace */
  const char *eth_addr;      /* IPv4 address for eth0 (the veth end the parent moved in) */
  unsigned eth_prefix;       /* its prefix length */
  const char *eth_gw;        /* default route via this gateway */
  const char *rootfs;        /* host path of the container's root mount point */
  unsigned long tree_prop;   /* propagation of the whole inherited tree before the first mount
                              * (default MS_REC|MS_PRIVATE; OCI's default is MS_REC|MS_SLAVE) */
  unsigned long newroot_prop;/* applied to the container's / after pivot_root (0: none) */
  const char *overlay;       /* overlay options, or NULL to bind-mount rootfs onto itself */
  const char *overlay_cwd;   /* the directory overlay's relative lowerdirs are in (the layer
                              * store's, or the idmapped mount of it): mount runs there */
  const char *idmap_lower;   /* host path shown through an idmapped mount (the image's rootfs) */
  const char *lower_mnt;     /* where the child puts that mount: overlay's lowerdir */
  long tty_uid, tty_gid;     /* host ids the pty slave is given (-1: leave it) */
  int readonly_root;         /* remount / read-only after pivot_root (--read-only) */
  const char *exec_fifo;     /* OCI create: wait on this FIFO before execve (see container.c) */
  const char *tty;           /* host path of the pty slave, or NULL */
  int stdio[3];              /* parent's fds that become 0, 1, 2 (ignored for a tty) */
  const char *cwd;
  unsigned long long caps;   /* capability mask kept in bounding, permitted and effective */
  int has_caps;              /* 0: keep everything (the plan did not say) */
  struct cap_sets cap_sets;  /* OCI's sets, each kept as given (keys cap_bounding ... cap_ambient) */
  int has_cap_sets;          /* 1: cap_sets replaces the one-mask rule of `caps` */
  struct plan_rlimit rlimits[PLAN_MAX_RLIMITS];
  size_t nrlimits;
  int umask;                 /* umask(2) before execve; -1: leave the inherited one */
  long oom_score_adj;        /* written by the parent to /proc/PID/oom_score_adj before "go" */
  int has_oom_score_adj;
  const char *domainname;    /* setdomainname in the new UTS namespace, or NULL */
  int no_new_privs;          /* PR_SET_NO_NEW_PRIVS before execve */
  struct sock_fprog seccomp; /* the filter to install last (len 0: none); built in the parent:
                              * minidock's default, or an OCI config's (key seccomp_prog) */
  unsigned seccomp_flags;    /* seccomp(2)'s SECCOMP_FILTER_FLAG_* for seccomp_prog (LOG, SPEC_ALLOW) */
  uid_t uid;
  gid_t gid;
  gid_t *groups;
  size_t ngroups;
  char **argv;               /* NULL-terminated */
  char **envp;               /* NULL-terminated */
  struct plan_op *ops;
  size_t nops;
  struct plan_hook *hooks;   /* in config order; each kind's index counts within its kind */
  size_t nhooks;
  const char *hook_state_pre, *hook_state_post; /* the hooks' stdin: PRE + the child's pid + POST */
  void *block;               /* the single allocation holding everything above */
};

/* Parses `len` bytes at `buf`. Returns 0, or -1 with `err` (size errlen) saying what is wrong. */
int plan_parse(const char *buf, size_t len, struct plan *out, char *err, size_t errlen);
void plan_free(struct plan *p);

#endif
