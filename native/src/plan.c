/* Parses the key/value plan that TypeScript serialises (see plan.h). Runs in the parent only. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "plan.h"
#include "container.h"

#include <errno.h>
#include <limits.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

struct flag_name { const char *name; unsigned long bit; };

static const struct flag_name ns_names[] = {
  {"mnt", CLONE_NEWNS}, {"uts", CLONE_NEWUTS}, {"ipc", CLONE_NEWIPC}, {"pid", CLONE_NEWPID},
  {"net", CLONE_NEWNET}, {"user", CLONE_NEWUSER}, {"cgroup", CLONE_NEWCGROUP}, {NULL, 0}};

#ifndef MS_NOSYMFOLLOW
#define MS_NOSYMFOLLOW 256 /* Linux 5.10 */
#endif
#ifndef MOUNT_ATTR_NOSYMFOLLOW
#define MOUNT_ATTR_NOSYMFOLLOW 0x00200000 /* Linux 5.14 */
#endif

static const struct flag_name mount_names[] = {
  {"ro", MS_RDONLY}, {"nosuid", MS_NOSUID}, {"nodev", MS_NODEV}, {"noexec", MS_NOEXEC},
  {"rec", MS_REC}, {"strictatime", MS_STRICTATIME}, {"relatime", MS_RELATIME},
  {"noatime", MS_NOATIME}, {"nodiratime", MS_NODIRATIME}, {"sync", MS_SYNCHRONOUS}, {"dirsync", MS_DIRSYNC},
  {"mand", MS_MANDLOCK}, {"nosymfollow", MS_NOSYMFOLLOW}, {"remount", MS_REMOUNT}, {"silent", MS_SILENT},
  {"iversion", MS_I_VERSION}, {"lazytime", MS_LAZYTIME}, {NULL, 0}};

/* One propagation change: a type, MS_REC optional. mount(2) takes one type per call. */
static const struct flag_name prop_names[] = {
  {"private", MS_PRIVATE}, {"slave", MS_SLAVE}, {"shared", MS_SHARED}, {"unbindable", MS_UNBINDABLE},
  {"rec", MS_REC}, {NULL, 0}};

/* mount_setattr(2)'s attributes. "relatime" is 0 in the atime field: it means something only
 * with "atime" (MOUNT_ATTR__ATIME, the whole field) in the cleared set. */
static const struct flag_name attr_names[] = {
  {"ro", MOUNT_ATTR_RDONLY}, {"nosuid", MOUNT_ATTR_NOSUID}, {"nodev", MOUNT_ATTR_NODEV},
  {"noexec", MOUNT_ATTR_NOEXEC}, {"nodiratime", MOUNT_ATTR_NODIRATIME}, {"nosymfollow", MOUNT_ATTR_NOSYMFOLLOW},
  {"atime", MOUNT_ATTR__ATIME}, {"relatime", MOUNT_ATTR_RELATIME}, {"noatime", MOUNT_ATTR_NOATIME},
  {"strictatime", MOUNT_ATTR_STRICTATIME}, {NULL, 0}};

/* "a,b,c" -> OR of the named bits; returns -1 on an unknown name. */
static int parse_flags(const char *s, const struct flag_name *names, unsigned long *out) {
  *out = 0;
  while (*s) {
    const char *end = strchr(s, ',');
    size_t n = end ? (size_t)(end - s) : strlen(s);
    int found = 0;
    for (const struct flag_name *f = names; f->name; f++)
      if (strlen(f->name) == n && strncmp(f->name, s, n) == 0) { *out |= f->bit; found = 1; }
    if (!found && n) return -1;
    s += n + (end ? 1 : 0);
  }
  return 0;
}

/* A propagation change is exactly one type, with or without MS_REC. */
static int parse_prop(const char *s, unsigned long *out) {
  if (parse_flags(s, prop_names, out)) return -1;
  unsigned long type = *out & ~MS_REC;
  return type && !(type & (type - 1)) ? 0 : -1;
}

/* True when any "/"-separated component of `path` is "..". */
static int has_dotdot(const char *path) {
  for (const char *c = path; *c; ) {
    while (*c == '/') c++;
    size_t n = strcspn(c, "/");
    if (n == 2 && c[0] == '.' && c[1] == '.') return 1;
    c += n;
  }
  return 0;
}

static int parse_ulong(const char *s, unsigned long max, unsigned long *out) {
  char *end;
  if (!*s) return -1;
  unsigned long v = strtoul(s, &end, 10);
  if (*end || v > max) return -1;
  *out = v;
  return 0;
}

static int parse_hex64(const char *s, unsigned long long *out) {
  char *end;
  if (!*s || *s == '-' || *s == '+') return -1;
  errno = 0;
  *out = strtoull(s, &end, 16);
  return *end || errno ? -1 : 0;
}

/* The names of the resources setrlimit(2) takes, by number: a failure names the one refused. */
static const char *const rlimit_names[PLAN_MAX_RLIMITS] = {
  [RLIMIT_CPU] = "RLIMIT_CPU", [RLIMIT_FSIZE] = "RLIMIT_FSIZE", [RLIMIT_DATA] = "RLIMIT_DATA",
  [RLIMIT_STACK] = "RLIMIT_STACK", [RLIMIT_CORE] = "RLIMIT_CORE", [RLIMIT_RSS] = "RLIMIT_RSS",
  [RLIMIT_NPROC] = "RLIMIT_NPROC", [RLIMIT_NOFILE] = "RLIMIT_NOFILE", [RLIMIT_MEMLOCK] = "RLIMIT_MEMLOCK",
  [RLIMIT_AS] = "RLIMIT_AS", [RLIMIT_LOCKS] = "RLIMIT_LOCKS", [RLIMIT_SIGPENDING] = "RLIMIT_SIGPENDING",
  [RLIMIT_MSGQUEUE] = "RLIMIT_MSGQUEUE", [RLIMIT_NICE] = "RLIMIT_NICE", [RLIMIT_RTPRIO] = "RLIMIT_RTPRIO",
  [RLIMIT_RTTIME] = "RLIMIT_RTTIME"};

/* A decimal limit, up to RLIM_INFINITY (2^64-1). */
static int parse_limit(const char *s, size_t n, rlim_t *out) {
  if (n == 0 || n > 20) return -1;
  unsigned long long v = 0;
  for (size_t i = 0; i < n; i++) {
    if (s[i] < '0' || s[i] > '9') return -1;
    unsigned d = (unsigned)(s[i] - '0');
    if (v > (ULLONG_MAX - d) / 10) return -1;
    v = v * 10 + d;
  }
  *out = (rlim_t)v;
  return 0;
}

/* "RESOURCE SOFT HARD", all decimal: "7 1024 4096" is RLIMIT_NOFILE. */
static int parse_rlimit(const char *v, struct plan *p) {
  const char *a = strchr(v, ' ');
  const char *b = a ? strchr(a + 1, ' ') : NULL;
  if (!a || !b || strchr(b + 1, ' ')) return -1;
  rlim_t res, soft, hard;
  if (parse_limit(v, (size_t)(a - v), &res) || res >= PLAN_MAX_RLIMITS) return -1;
  if (parse_limit(a + 1, (size_t)(b - a - 1), &soft) || parse_limit(b + 1, strlen(b + 1), &hard) || soft > hard) return -1;
  for (size_t i = 0; i < p->nrlimits; i++)
    if (p->rlimits[i].resource == (int)res) return -1;
  if (p->nrlimits == PLAN_MAX_RLIMITS) return -1;
  struct plan_rlimit *r = &p->rlimits[p->nrlimits++];
  r->resource = (int)res;
  r->name = rlimit_names[res];
  r->limit.rlim_cur = soft;
  r->limit.rlim_max = hard;
  return 0;
}

/* Which of OCI's capability sets a key names, in the order of struct cap_sets; -1: none. */
static int cap_set_key(const char *k) {
  if (!strcmp(k, "cap_bounding")) return 0;
  if (!strcmp(k, "cap_effective")) return 1;
  if (!strcmp(k, "cap_inheritable")) return 2;
  if (!strcmp(k, "cap_permitted")) return 3;
  if (!strcmp(k, "cap_ambient")) return 4;
  return -1;
}

static int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

/* An OCI config's filter, compiled by TypeScript (src/oci/seccomp.ts): the raw bytes of a
 * struct sock_filter array in lowercase hex. Allocated here, in the parent, as the default
 * program is; plan_free releases it. */
static int parse_seccomp_prog(const char *v, struct sock_fprog *out, char *err, size_t errlen) {
  size_t n = strlen(v);
  size_t unit = 2 * sizeof(struct sock_filter);
  if (n == 0 || n % unit || n / unit > BPF_MAXINSNS) {
    snprintf(err, errlen, "plan: seccomp_prog has %zu hex digits: not 1 to %d instructions of %zu bytes", n, BPF_MAXINSNS, sizeof(struct sock_filter));
    return -1;
  }
  unsigned char *bytes = malloc(n / 2);
  if (!bytes) { snprintf(err, errlen, "plan: out of memory for the seccomp filter"); return -1; }
  for (size_t i = 0; i < n / 2; i++) {
    int hi = hex_digit(v[2 * i]), lo = hex_digit(v[2 * i + 1]);
    if (hi < 0 || lo < 0) {
      free(bytes);
      snprintf(err, errlen, "plan: seccomp_prog has a character that is not a lowercase hex digit at %zu", hi < 0 ? 2 * i : 2 * i + 1);
      return -1;
    }
    bytes[i] = (unsigned char)(hi << 4 | lo);
  }
  out->filter = (struct sock_filter *)bytes;
  out->len = (unsigned short)(n / unit);
  return 0;
}

int plan_parse(const char *buf, size_t len, struct plan *p, char *err, size_t errlen) {
  memset(p, 0, sizeof *p);
  p->stdio[0] = 0; p->stdio[1] = 1; p->stdio[2] = 2;
  p->tty_uid = p->tty_gid = -1;
  p->cwd = "/";
  p->umask = -1;
  p->tree_prop = MS_REC | MS_PRIVATE; /* nothing mounted in the container reaches the host */
  if (len == 0 || buf[len - 1] != '\0') {
    snprintf(err, errlen, "plan: not NUL-terminated");
    return -1;
  }
  /* First pass: count list entries so one allocation holds strings and arrays. */
  size_t nargs = 0, nenv = 0, nops = 0, ngroups = 0, nstr = 0, nhooks = 0, nhook_strs = 0;
  for (const char *k = buf; k < buf + len; ) {
    const char *v = k + strlen(k) + 1;
    if (v >= buf + len) { snprintf(err, errlen, "plan: key \"%s\" has no value", k); return -1; }
    if (!strcmp(k, "arg")) nargs++;
    else if (!strcmp(k, "env")) nenv++;
    else if (!strcmp(k, "op")) nops++;
    else if (!strcmp(k, "group")) ngroups++;
    else if (!strcmp(k, "hook")) nhooks++;
    else if (!strcmp(k, "hook_arg") || !strcmp(k, "hook_env")) nhook_strs++;
    nstr++;
    k = v + strlen(v) + 1;
  }
  size_t size = len + (nargs + 1 + nenv + 1) * sizeof(char *) + nops * sizeof(struct plan_op)
              + ngroups * sizeof(gid_t) + nhooks * sizeof(struct plan_hook)
              /* each hook's argv and envp: its strings and two NULLs, in one pool */
              + (nhook_strs + 2 * nhooks) * sizeof(char *) + 16;
  char *block = calloc(1, size);
  if (!block) { snprintf(err, errlen, "plan: out of memory"); return -1; }
  p->block = block;
  p->argv = (char **)block;
  p->envp = p->argv + nargs + 1;
  p->ops = (struct plan_op *)(p->envp + nenv + 1);
  char **hook_pool = (char **)(p->ops + nops);
  p->hooks = (struct plan_hook *)(hook_pool + nhook_strs + 2 * nhooks);
  p->groups = (gid_t *)(p->hooks + nhooks);
  char *strings = (char *)(p->groups + ngroups);
  size_t pool_used = 0;
  struct plan_hook *hook = NULL;
  memcpy(strings, buf, len);

  struct plan_op *op = NULL;
  unsigned long num;
  int want_seccomp = 0;
  unsigned cap_keys = 0; /* which of the five cap_* keys were given */
  unsigned long long *cap_fields[5] = {&p->cap_sets.bounding, &p->cap_sets.effective, &p->cap_sets.inheritable, &p->cap_sets.permitted, &p->cap_sets.ambient};
  int ci;
  for (char *k = strings; k < strings + len; ) {
    char *v = k + strlen(k) + 1;
    char *next = v + strlen(v) + 1;
#define BAD(...) do { snprintf(err, errlen, __VA_ARGS__); plan_free(p); return -1; } while (0)
    if (!strcmp(k, "ns")) {
      if (parse_flags(v, ns_names, &p->clone_flags)) BAD("plan: bad ns \"%s\"", v);
    } else if (!strcmp(k, "late_cgroupns")) p->late_cgroupns = v[0] == '1';
    else if (!strcmp(k, "uid_map")) p->uid_map = v;
    else if (!strcmp(k, "gid_map")) p->gid_map = v;
    /* Empty: leave the hostname alone (an OCI config without a UTS namespace of its own
     * would otherwise blank the host's). */
    else if (!strcmp(k, "hostname")) p->hostname = *v ? v : NULL;
    else if (!strcmp(k, "lo_up")) p->lo_up = v[0] == '1';
    else if (!strcmp(k, "netns")) p->netns = v;
    else if (!strcmp(k, "pidns")) p->pidns = v;
    else if (!strcmp(k, "shared_mnt")) p->shared_mnt = v[0] == '1';
    else if (!strcmp(k, "join")) {
      /* "TYPE PATH"; net and pid are joined by the parent around clone3 (netns, pidns keys). */
      char *sp = strchr(v, ' ');
      unsigned long type = 0;
      if (sp) *sp = '\0';
      int bad = !sp || parse_flags(v, ns_names, &type) || !type || (type & (type - 1)) || (type & (CLONE_NEWNET | CLONE_NEWPID));
      if (sp) *sp = ' ';
      if (bad || sp[1] != '/') BAD("plan: bad join \"%s\" (TYPE PATH: mnt, uts, ipc, user or cgroup, an absolute path)", v);
      for (size_t i = 0; i < p->njoins; i++)
        if (p->joins[i].type == type) BAD("plan: join \"%s\": that type twice", v);
      p->joins[p->njoins].type = type;
      p->joins[p->njoins++].path = sp + 1;
      if (type == CLONE_NEWUSER) p->joins_user = 1;
    }
    else if (!strcmp(k, "caps")) {
      char *end;
      p->caps = strtoull(v, &end, 16);
      if (*end || !*v) BAD("plan: bad caps \"%s\"", v);
      p->has_caps = 1;
    } else if ((ci = cap_set_key(k)) >= 0) {
      if (parse_hex64(v, cap_fields[ci])) BAD("plan: bad %s \"%s\"", k, v);
      cap_keys |= 1u << ci;
    } else if (!strcmp(k, "nnp")) p->no_new_privs = v[0] == '1';
    else if (!strcmp(k, "seccomp")) {
      if (!strcmp(v, "default")) want_seccomp = 1;
      else if (strcmp(v, "unconfined")) BAD("plan: bad seccomp \"%s\"", v);
    } else if (!strcmp(k, "seccomp_prog")) {
      if (p->seccomp.filter) BAD("plan: seccomp_prog given twice");
      if (parse_seccomp_prog(v, &p->seccomp, err, errlen) < 0) { plan_free(p); return -1; }
    } else if (!strcmp(k, "seccomp_flags")) {
      /* TSYNC (1), LOG (2), SPEC_ALLOW (4); NEW_LISTENER would need a descriptor nobody reads. */
      if (parse_ulong(v, 7, &num)) BAD("plan: bad seccomp_flags \"%s\" (TSYNC 1, LOG 2, SPEC_ALLOW 4)", v);
      p->seccomp_flags = (unsigned)num;
    } else if (!strcmp(k, "rlimit")) {
      if (parse_rlimit(v, p) < 0) BAD("plan: bad rlimit \"%s\" (RESOURCE SOFT HARD, decimal, soft <= hard, each resource once)", v);
    } else if (!strcmp(k, "umask")) {
      char *end;
      unsigned long m = strtoul(v, &end, 8);
      if (!*v || *end || m > 0777) BAD("plan: bad umask \"%s\" (octal, at most 0777)", v);
      p->umask = (int)m;
    } else if (!strcmp(k, "oom_score_adj")) {
      char *end;
      long a = strtol(v, &end, 10);
      if (!*v || *end || a < -1000 || a > 1000) BAD("plan: bad oom_score_adj \"%s\" (-1000 to 1000)", v);
      p->oom_score_adj = a;
      p->has_oom_score_adj = 1;
    } else if (!strcmp(k, "domainname")) p->domainname = *v ? v : NULL;
    else if (!strcmp(k, "hook")) {
      /* argv, then envp, each NULL-terminated in the pool: hook_arg keys come before
       * hook_env_set (serializePlan writes them so), and a hook's envp ends its strings. */
      if (hook) pool_used++; /* the previous hook's last array keeps its NULL (calloc) */
      hook = &p->hooks[p->nhooks++];
      if (!strcmp(v, "createContainer")) hook->when = HOOK_CREATE_CONTAINER;
      else if (!strcmp(v, "startContainer")) hook->when = HOOK_START_CONTAINER;
      else BAD("plan: bad hook \"%s\" (createContainer or startContainer)", v);
      hook->argv = hook_pool + pool_used;
    } else if (hook && !strcmp(k, "hook_path")) {
      if (v[0] != '/') BAD("plan: hook_path \"%s\" must be absolute", v);
      hook->path = v;
    } else if (hook && !strcmp(k, "hook_arg")) {
      if (hook->envp) BAD("plan: hook_arg after hook_env_set");
      hook_pool[pool_used++] = v;
    } else if (hook && !strcmp(k, "hook_env_set")) {
      if (hook->envp) BAD("plan: hook_env_set given twice");
      hook->envp = hook_pool + ++pool_used;
    } else if (hook && !strcmp(k, "hook_env")) {
      if (!hook->envp) BAD("plan: hook_env before hook_env_set");
      hook_pool[pool_used++] = v;
    } else if (hook && !strcmp(k, "hook_timeout")) {
      if (parse_ulong(v, 86400 * 365, &num) || !num) BAD("plan: bad hook_timeout \"%s\" (seconds, 1 or more)", v);
      hook->timeout = (unsigned)num;
    } else if (!strcmp(k, "hook_state_pre")) p->hook_state_pre = v;
    else if (!strcmp(k, "hook_state_post")) p->hook_state_post = v;
    else if (!strcmp(k, "eth_addr")) p->eth_addr = v;
    else if (!strcmp(k, "eth_gw")) p->eth_gw = v;
    else if (!strcmp(k, "eth_prefix")) {
      if (parse_ulong(v, 32, &num)) BAD("plan: bad eth_prefix \"%s\"", v);
      p->eth_prefix = (unsigned)num;
    }
    else if (!strcmp(k, "rootfs")) p->rootfs = v;
    else if (!strcmp(k, "tree_prop")) {
      if (parse_prop(v, &p->tree_prop)) BAD("plan: bad tree_prop \"%s\" (one of private, slave, shared, unbindable; \"rec,\" optional)", v);
    } else if (!strcmp(k, "newroot_prop")) {
      if (parse_prop(v, &p->newroot_prop)) BAD("plan: bad newroot_prop \"%s\" (one of private, slave, shared, unbindable; \"rec,\" optional)", v);
    }
    else if (!strcmp(k, "overlay")) p->overlay = v;
    else if (!strcmp(k, "overlay_cwd")) p->overlay_cwd = v;
    else if (!strcmp(k, "idmap_lower")) p->idmap_lower = v;
    else if (!strcmp(k, "lower_mnt")) p->lower_mnt = v;
    else if (!strcmp(k, "tty_uid") || !strcmp(k, "tty_gid")) {
      if (parse_ulong(v, 0xfffffffeUL, &num)) BAD("plan: bad %s \"%s\"", k, v);
      if (k[4] == 'u') p->tty_uid = (long)num; else p->tty_gid = (long)num;
    }
    else if (!strcmp(k, "readonly_root")) p->readonly_root = v[0] == '1';
    else if (!strcmp(k, "exec_fifo")) {
      if (v[0] != '/') BAD("plan: exec_fifo \"%s\" must be absolute", v);
      p->exec_fifo = v;
    }
    else if (!strcmp(k, "tty")) p->tty = v;
    else if (!strcmp(k, "cwd")) p->cwd = v;
    else if (!strcmp(k, "stdin") || !strcmp(k, "stdout") || !strcmp(k, "stderr")) {
      if (parse_ulong(v, 1 << 20, &num)) BAD("plan: bad %s fd \"%s\"", k, v);
      p->stdio[k[3] == 'i' ? 0 : k[3] == 'o' ? 1 : 2] = (int)num;
    } else if (!strcmp(k, "uid") || !strcmp(k, "gid")) {
      if (parse_ulong(v, 0xfffffffeUL, &num)) BAD("plan: bad %s \"%s\"", k, v);
      if (k[0] == 'u') p->uid = (uid_t)num; else p->gid = (gid_t)num;
    } else if (!strcmp(k, "group")) {
      if (parse_ulong(v, 0xfffffffeUL, &num)) BAD("plan: bad group \"%s\"", v);
      p->groups[p->ngroups++] = (gid_t)num;
    } else if (!strcmp(k, "arg")) {
      size_t i = 0; while (p->argv[i]) i++;
      p->argv[i] = v;
    } else if (!strcmp(k, "env")) {
      size_t i = 0; while (p->envp[i]) i++;
      p->envp[i] = v;
    } else if (!strcmp(k, "op")) {
      op = &p->ops[p->nops++];
      if (!strcmp(v, "mount")) op->kind = OP_MOUNT;
      else if (!strcmp(v, "bind")) op->kind = OP_BIND;
      else if (!strcmp(v, "symlink")) op->kind = OP_SYMLINK;
      else if (!strcmp(v, "mkdir")) op->kind = OP_MKDIR;
      else if (!strcmp(v, "mknod")) op->kind = OP_MKNOD;
      else if (!strcmp(v, "sysctl")) op->kind = OP_SYSCTL;
      else BAD("plan: unknown op \"%s\"", v);
    } else if (op && !strcmp(k, "src")) op->src = v;
    else if (op && !strcmp(k, "dst")) {
      /* The child resolves dst component by component under the rootfs; ".." would climb. */
      if (v[0] != '/' || has_dotdot(v))
        BAD("plan: dst \"%s\" must be absolute and free of \"..\"", v);
      op->dst = v;
    } else if (op && !strcmp(k, "type")) op->fstype = v;
    else if (op && !strcmp(k, "data")) op->data = v;
    else if (op && !strcmp(k, "flags")) {
      if (parse_flags(v, mount_names, &op->flags)) BAD("plan: bad mount flags \"%s\"", v);
    } else if (op && !strcmp(k, "prop")) {
      if (op->nprop == PLAN_MAX_PROP) BAD("plan: more than %d propagation changes for one mount", PLAN_MAX_PROP);
      if (parse_prop(v, &op->prop[op->nprop++])) BAD("plan: bad prop \"%s\" (one of private, slave, shared, unbindable; \"rec,\" optional)", v);
    } else if (op && (!strcmp(k, "rec_set") || !strcmp(k, "rec_clr"))) {
      if (parse_flags(v, attr_names, !strcmp(k, "rec_set") ? &op->rec_set : &op->rec_clr)) BAD("plan: bad %s \"%s\"", k, v);
      op->has_rec_attr = 1;
    } else if (op && !strcmp(k, "dev")) {
      /* "c 10 229": the node's type (c, u: character, b: block, p: FIFO) and numbers. */
      unsigned maj, min;
      char t, extra;
      if (sscanf(v, "%c %u %u%c", &t, &maj, &min, &extra) != 3 || !strchr("cubp", t)) BAD("plan: bad dev \"%s\" (TYPE MAJOR MINOR)", v);
      op->mode = (op->mode & 07777) | (t == 'b' ? S_IFBLK : t == 'p' ? S_IFIFO : S_IFCHR);
      op->rdev = makedev(maj, min);
    } else if (op && !strcmp(k, "mode")) {
      char *end;
      unsigned long m = strtoul(v, &end, 8);
      if (!*v || *end || m > 07777) BAD("plan: bad mode \"%s\" (octal, at most 07777)", v);
      op->mode = (op->mode & S_IFMT) | (mode_t)m;
    } else if (op && !strcmp(k, "owner")) {
      unsigned long u, g;
      char *sp = strchr(v, ' ');
      if (!sp) BAD("plan: bad owner \"%s\" (UID GID)", v);
      *sp = '\0';
      int bad = parse_ulong(v, 0xfffffffeUL, &u) || parse_ulong(sp + 1, 0xfffffffeUL, &g);
      *sp = ' ';
      if (bad) BAD("plan: bad owner \"%s\" (UID GID)", v);
      op->uid = (uid_t)u;
      op->gid = (gid_t)g;
    } else if (op && !strcmp(k, "file")) op->file = v[0] == '1';
    else if (op && !strcmp(k, "optional")) op->optional = v[0] == '1';
    else BAD("plan: unknown key \"%s\"", k);
#undef BAD
    k = next;
  }
  if (cap_keys && cap_keys != 0x1f) {
    snprintf(err, errlen, "plan: the cap_* keys come all five or none"); plan_free(p); return -1;
  }
  p->has_cap_sets = cap_keys != 0;
  if (p->seccomp_flags && !p->seccomp.filter) {
    snprintf(err, errlen, "plan: seccomp_flags without seccomp_prog"); plan_free(p); return -1;
  }
  if (want_seccomp && p->seccomp.filter) {
    snprintf(err, errlen, "plan: seccomp default and seccomp_prog exclude each other"); plan_free(p); return -1;
  }
  /* Built once every key is read: which calls the filter allows depends on the capabilities. */
  unsigned long long kept = p->has_cap_sets ? p->cap_sets.bounding : p->has_caps ? p->caps : ~0ULL;
  if (want_seccomp && seccomp_default_program(&p->seccomp, kept) < 0) {
    snprintf(err, errlen, "plan: out of memory for the seccomp filter"); plan_free(p); return -1;
  }
  if (!p->argv[0]) { snprintf(err, errlen, "plan: no command"); plan_free(p); return -1; }
  for (size_t i = 0; i < p->njoins; i++)
    if (p->clone_flags & p->joins[i].type) { snprintf(err, errlen, "plan: a namespace both joined and new (%s)", p->joins[i].path); plan_free(p); return -1; }
  /* A new PID namespace must exist at clone time, owned by the user namespace the child is
   * cloned in: with a joined one it would belong to the host's, and the container root could
   * not mount its /proc (a double fork, as runc's nsexec, would be needed). */
  if (p->joins_user && (p->clone_flags & CLONE_NEWUSER)) { snprintf(err, errlen, "plan: a joined user namespace with a new user namespace"); plan_free(p); return -1; }
  for (size_t i = 0; i < p->nhooks; i++)
    if (!p->hooks[i].path || !p->hook_state_pre || !p->hook_state_post) {
      snprintf(err, errlen, "plan: hook %zu lacks hook_path, or the plan hook_state_pre/post", i); plan_free(p); return -1;
    }
  if (!p->rootfs || p->rootfs[0] != '/') { snprintf(err, errlen, "plan: rootfs must be absolute"); plan_free(p); return -1; }
  for (size_t i = 0; i < p->nops; i++) {
    const struct plan_op *o = &p->ops[i];
    int needs_src = o->kind == OP_MOUNT || o->kind == OP_BIND || o->kind == OP_SYMLINK;
    if (!o->dst || (needs_src && !o->src) || (o->kind == OP_SYSCTL && !o->data) || (o->kind == OP_MKNOD && !(o->mode & S_IFMT))) {
      snprintf(err, errlen, "plan: op %zu lacks %s", i, !o->dst ? "dst" : o->kind == OP_SYSCTL ? "data" : o->kind == OP_MKNOD ? "dev" : "src");
      plan_free(p);
      return -1;
    }
  }
  return 0;
}

void plan_free(struct plan *p) {
  free(p->block);
  p->block = NULL;
  free(p->seccomp.filter);
  p->seccomp.filter = NULL;
  p->seccomp.len = 0;
}
