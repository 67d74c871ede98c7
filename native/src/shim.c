/* minidock-shim: the small process that stays with a detached container, and the helper that
 * runs `exec` inside one. Single-threaded C, started fresh by the CLI (never forked from Node).
 *
 *   minidock-shim run DIR [-- EXIT-COMMAND...]
 *     Creates the container described by DIR/plan.bin (the same plan the addon uses), talking to
 *     the CLI over fd 3 (shim -> CLI) and fd 4 (CLI -> shim):
 *
 *       shim                              CLI
 *       container_create()  ── "pid N" ─►  moves the veth in, records state
 *                           ◄─ "go" ────
 *       container_start()   ── "ok" ──►   publishes ports, prints the id, exits
 *                              (or "fail STEP ERRNO DETAIL")
 *
 *     Then it owns the container: its stdout and stderr (pipes, or a pty with -t) go to
 *     DIR/container.log in the CRI log format, one line per line of output:
 *       2026-11-22T04:20:01.123456789Z stdout F the line
 *     (F = full line, P = partial: a line longer than the buffer, or output without a final
 *     newline). When PID 1 exits it writes DIR/exit.json atomically and execs EXIT-COMMAND
 *     (`minidock cleanup ID`: network teardown, final state, --rm), as podman's conmon does.
 *
 *   minidock-shim exec [-u UID:GID[:G1,G2..]] [-w DIR] [-e K=V]... [-d] [-t] -- CMD ARGS...
 *     fd 3 is a pidfd of the container's PID 1, opened by the CLI after it checked the pid's
 *     start time (so a recycled pid cannot be entered). setns(pidfd, all seven flags) joins
 *     every namespace of that process in one call; joining a user or mount namespace needs a
 *     single-threaded process, which this is. The command then runs as a child (entering a PID
 *     namespace takes effect for children only); its status becomes ours.
 *     For minidock-runc's exec (src/oci/exec.ts) also:
 *       --ns user,mnt,...   join exactly these (an OCI container may share the caller's user or
 *                           network namespace, and setns of one's own user namespace is EINVAL)
 *       --oci KEY=VALUE     a plan key (plan.c) of the process's privileges: caps, cap_bounding
 *                           ... cap_ambient (all five), nnp, seccomp_prog, seccomp_flags, rlimit,
 *                           umask; parsed by plan_parse, applied as for create
 *       --report-fd N       write "pid N\n" there once the command is forked (its pid here)
 *       --console-socket P  with -t: connect to P before entering, then send it the pty master
 *                           (SCM_RIGHTS, the pty's name as payload) instead of relaying it
 *       --console-size RxC  the pty's size for --console-socket
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
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define TO_CLI 3
#define FROM_CLI 4

static void die(const char *what) {
  fprintf(stderr, "minidock-shim: %s: %s\n", what, strerror(errno));
  exit(125);
}

static char *read_file(const char *path, size_t *len) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return NULL;
  struct stat st;
  if (fstat(fd, &st) < 0) { close(fd); return NULL; }
  char *buf = malloc((size_t)st.st_size + 1);
  size_t got = 0;
  while (buf && got < (size_t)st.st_size) {
    ssize_t r = read(fd, buf + got, (size_t)st.st_size - got);
    if (r <= 0) break;
    got += (size_t)r;
  }
  close(fd);
  *len = got;
  return buf;
}

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...) {
  char line[512];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(line, sizeof line, fmt, ap);
  va_end(ap);
  if (n > 0 && write(TO_CLI, line, (size_t)n) < 0) { /* the CLI is gone; the container goes on */ }
}

/* ---------- the log ---------- */

struct stream {
  int fd;
  const char *name;
  char buf[16384];
  size_t len;
};

static int logfd = -1;

static void log_line(const char *stream, const char *data, size_t n, char tag) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  struct tm tm;
  gmtime_r(&ts.tv_sec, &tm);
  char head[96];
  int h = snprintf(head, sizeof head, "%04d-%02d-%02dT%02d:%02d:%02d.%09ldZ %s %c ", tm.tm_year + 1900, tm.tm_mon + 1,
                   tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec, stream, tag);
  /* One write per line (O_APPEND): a reader never sees half a line interleaved with another. */
  char *out = malloc((size_t)h + n + 1);
  if (!out) return;
  memcpy(out, head, (size_t)h);
  memcpy(out + h, data, n);
  out[(size_t)h + n] = '\n';
  if (write(logfd, out, (size_t)h + n + 1) < 0) { /* a full disk loses log lines, not the container */ }
  free(out);
}

/* Reads what is available; logs complete lines, keeps a partial one unless `flush`. Returns 0 at
 * EOF (or EIO: a pty whose last slave closed). */
static int pump(struct stream *s, int flush) {
  ssize_t r = read(s->fd, s->buf + s->len, sizeof s->buf - s->len);
  if (r > 0) s->len += (size_t)r;
  size_t start = 0;
  for (size_t i = 0; i < s->len; i++) {
    if (s->buf[i] == '\n') {
      size_t end = i;
      if (end > start && s->buf[end - 1] == '\r') end--; /* a pty turns \n into \r\n */
      log_line(s->name, s->buf + start, end - start, 'F');
      start = i + 1;
    }
  }
  memmove(s->buf, s->buf + start, s->len - start);
  s->len -= start;
  if (s->len == sizeof s->buf || (s->len && (flush || r <= 0))) {
    log_line(s->name, s->buf, s->len, 'P');
    s->len = 0;
  }
  if (r < 0 && errno == EINTR) return 1;
  return r > 0;
}

static void write_exit(const char *dir, int status) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  long long ms = (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
  char path[4096], tmp[4096], body[160];
  snprintf(path, sizeof path, "%s/exit.json", dir);
  snprintf(tmp, sizeof tmp, "%s/.exit.json.tmp", dir);
  int n = WIFEXITED(status)
    ? snprintf(body, sizeof body, "{\"exitCode\":%d,\"signal\":null,\"finishedAt\":%lld}\n", WEXITSTATUS(status), ms)
    : snprintf(body, sizeof body, "{\"exitCode\":%d,\"signal\":%d,\"finishedAt\":%lld}\n", 128 + WTERMSIG(status), WTERMSIG(status), ms);
  int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return;
  if (write(fd, body, (size_t)n) == n) fsync(fd);
  close(fd);
  rename(tmp, path);
}

static int cmd_run(int argc, char **argv) {
  if (argc < 3) { fprintf(stderr, "usage: minidock-shim run DIR [-- EXIT-COMMAND...]\n"); return 125; }
  const char *dir = argv[2];
  char **exit_cmd = NULL;
  for (int i = 3; i < argc; i++)
    if (!strcmp(argv[i], "--")) { exit_cmd = &argv[i + 1]; break; }

  char path[4096];
  size_t len;
  snprintf(path, sizeof path, "%s/plan.bin", dir);
  char *raw = read_file(path, &len);
  if (!raw) die("read plan.bin");
  struct plan p;
  char err[256];
  if (plan_parse(raw, len, &p, err, sizeof err) < 0) { say("fail native.plan 0 %s\n", err); return 125; }

  snprintf(path, sizeof path, "%s/container.log", dir);
  logfd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (logfd < 0) die("open container.log");

  /* The container's stdio: stdin reads EOF; stdout/stderr are pipes to us, or with a tty one
   * pty whose master we keep. */
  struct stream out = {.fd = -1, .name = "stdout"}, errs = {.fd = -1, .name = "stderr"};
  int devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
  char ttyname_buf[128];
  if (p.tty) {
    int master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (master < 0 || grantpt(master) < 0 || unlockpt(master) < 0 || ptsname_r(master, ttyname_buf, sizeof ttyname_buf))
      die("allocate a pty");
    /* The plan says "@tty" where the pty's path goes (the CLI cannot know it): tty and the
     * /dev/console bind. */
    p.tty = ttyname_buf;
    for (size_t i = 0; i < p.nops; i++)
      if (p.ops[i].src && !strcmp(p.ops[i].src, "@tty")) p.ops[i].src = ttyname_buf;
    out.fd = master;
  } else {
    int o[2], e[2];
    if (pipe2(o, O_CLOEXEC) < 0 || pipe2(e, O_CLOEXEC) < 0) die("pipe");
    out.fd = o[0];
    errs.fd = e[0];
    p.stdio[0] = devnull;
    p.stdio[1] = o[1];
    p.stdio[2] = e[1];
  }

  /* SIGCHLD through a signalfd: no handler ever runs asynchronously. Blocked before clone, so
   * the child starts with it blocked too; container.c resets the child's mask. */
  sigset_t chld;
  sigemptyset(&chld);
  sigaddset(&chld, SIGCHLD);
  sigprocmask(SIG_BLOCK, &chld, NULL);
  int sfd = signalfd(-1, &chld, SFD_CLOEXEC);
  if (sfd < 0) die("signalfd");

  struct container_handle h;
  struct container_failure f;
  memset(&f, 0, sizeof f);
  if (container_create(&p, &h, &f) < 0) {
    say("fail %s %d %s\n", f.step, f.err, f.detail);
    return 125;
  }
  say("pid %d\n", h.pid);
  char go[8] = {0};
  ssize_t r;
  do r = read(FROM_CLI, go, sizeof go - 1); while (r < 0 && errno == EINTR);
  if (r <= 0 || strncmp(go, "go", 2)) {
    container_abort(&h); /* the CLI died or gave up: nothing may be left running */
    return 125;
  }
  if (container_start(&h, &f) < 0) {
    say("fail %s %d %s\n", f.step, f.err, f.detail);
    reap_wait(h.pid, NULL, 0);
    return 125;
  }
  say("ok\n");
  close(TO_CLI);
  /* FROM_CLI stays open: see the wait for its end-of-file below. */
  /* Our copies of the write ends would keep the pipes open after the container exits. */
  if (!p.tty) { close(p.stdio[1]); close(p.stdio[2]); }
  close(devnull);

  struct pollfd fds[3] = {{.fd = out.fd, .events = POLLIN}, {.fd = errs.fd, .events = POLLIN}, {.fd = sfd, .events = POLLIN}};
  int status = 0, exited = 0;
  while (!exited) {
    if (poll(fds, 3, -1) < 0) {
      if (errno == EINTR) continue;
      /* poll itself failed (ENOMEM): stop pumping the log, but the exit recorded must still be
       * PID 1's own, so wait for it blocking rather than record a status nobody saw. */
      if (reap_wait(h.pid, &status, 0) == h.pid) exited = 1;
      break;
    }
    for (int i = 0; i < 2; i++)
      if (fds[i].fd >= 0 && (fds[i].revents & (POLLIN | POLLHUP | POLLERR)) && !pump(i ? &errs : &out, 0))
        fds[i].fd = -1; /* EOF: stop polling it */
    if (fds[2].revents & POLLIN) {
      struct signalfd_siginfo si;
      if (read(sfd, &si, sizeof si) < 0) { /* spurious */ }
      /* Only an exit ends the loop: a stop (PID 1 made us its tracer with PTRACE_TRACEME) is
       * released and waited past (reap.h). */
      if (reap_wait(h.pid, &status, WNOHANG) == h.pid) exited = 1;
    }
  }
  /* Whatever PID 1 wrote just before it died is still in the pipes: drain without blocking. */
  for (int i = 0; i < 2; i++) {
    struct stream *s = i ? &errs : &out;
    if (s->fd < 0) continue;
    fcntl(s->fd, F_SETFL, fcntl(s->fd, F_GETFL) | O_NONBLOCK);
    while (pump(s, 1)) {}
  }
  /* No record when PID 1's status was never seen: the CLI then says "exited (255) while no
   * minidock process watched it" rather than a made-up 0. */
  if (exited) write_exit(dir, status);
  close(logfd);
  /* The CLI that started us still has steps of its own after "go" (the published ports' rules,
   * the "running" record), and lets go of the control pipe only after them. The exit command
   * (`minidock cleanup`) must not run before: it would release the network and record "exited",
   * and the CLI would then add rules for an address given back and record "running" over the
   * exit. End-of-file: the CLI is done with us, or died (the kernel closed its end). */
  char rest[64];
  ssize_t got;
  do got = read(FROM_CLI, rest, sizeof rest); while (got > 0 || (got < 0 && errno == EINTR));
  close(FROM_CLI);
  if (exit_cmd && exit_cmd[0]) {
    execvp(exit_cmd[0], exit_cmd);
    fprintf(stderr, "minidock-shim: exec %s: %s\n", exit_cmd[0], strerror(errno));
  }
  return 0;
}

/* ---------- exec ---------- */

/* The exec'd command's pid, for the forwarding handler (kill(2) is async-signal-safe). */
static volatile pid_t exec_child;
static void forward_signal(int sig) {
  if (exec_child > 0) kill(exec_child, sig);
}

static int copy_some(int from, int to) {
  char buf[8192];
  ssize_t n = read(from, buf, sizeof buf);
  if (n <= 0) return n < 0 && errno == EINTR ? 1 : 0;
  for (ssize_t off = 0; off < n;) {
    ssize_t w = write(to, buf + off, (size_t)(n - off));
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return 0;
    off += w;
  }
  return 1;
}

/* Copies the user's terminal (our fds 0 and 1) to and from the pty master until the command
 * exits, passing window size changes on (SIGWINCH reaches us: we share the CLI's foreground
 * process group). Returns the command's wait status. */
static int relay_pty(int master, pid_t pid) {
  /* Blocked by the caller before it forked the command (see cmd_exec). */
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGCHLD);
  sigaddset(&set, SIGWINCH);
  int sfd = signalfd(-1, &set, SFD_CLOEXEC);
  struct pollfd fds[3] = {{.fd = 0, .events = POLLIN}, {.fd = master, .events = POLLIN}, {.fd = sfd, .events = POLLIN}};
  int status = 0, exited = 0;
  while (!exited) {
    if (poll(fds, 3, -1) < 0) { if (errno == EINTR) continue; break; }
    if (fds[0].revents & (POLLIN | POLLHUP)) if (!copy_some(0, master)) fds[0].fd = -1;
    if (fds[1].revents & (POLLIN | POLLHUP | POLLERR)) if (!copy_some(master, 1)) fds[1].fd = -1;
    if (fds[2].revents & POLLIN) {
      struct signalfd_siginfo si;
      if (read(sfd, &si, sizeof si) == sizeof si && si.ssi_signo == SIGWINCH) {
        struct winsize ws;
        if (ioctl(0, TIOCGWINSZ, &ws) == 0) ioctl(master, TIOCSWINSZ, &ws);
      }
      if (reap_wait(pid, &status, WNOHANG) == pid) exited = 1;
    }
  }
  /* The command's last words may still be in the pty. */
  fcntl(master, F_SETFL, fcntl(master, F_GETFL) | O_NONBLOCK);
  while (copy_some(master, 1)) {}
  return status;
}

/* The plan keys --oci may give: the exec'd process's privileges and limits, nothing that
 * would set up a container. */
static int exec_plan_key(const char *kv) {
  static const char *const keys[] = {"caps", "cap_bounding", "cap_effective", "cap_inheritable", "cap_permitted",
                                     "cap_ambient", "nnp", "seccomp_prog", "seccomp_flags", "rlimit", "umask"};
  size_t n = strcspn(kv, "=");
  if (!kv[n]) return 0;
  for (size_t i = 0; i < sizeof keys / sizeof *keys; i++)
    if (strlen(keys[i]) == n && !strncmp(kv, keys[i], n)) return 1;
  return 0;
}

/* Connects to the console socket by its path, while that path is still the caller's. */
static int connect_console(const char *path) {
  struct sockaddr_un sa;
  memset(&sa, 0, sizeof sa);
  sa.sun_family = AF_UNIX;
  if (strlen(path) >= sizeof sa.sun_path) { errno = ENAMETOOLONG; return -1; }
  memcpy(sa.sun_path, path, strlen(path));
  int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (s < 0) return -1;
  int rc;
  do rc = connect(s, (struct sockaddr *)&sa, sizeof sa); while (rc < 0 && errno == EINTR);
  if (rc < 0) { int e = errno; close(s); errno = e; return -1; }
  return s;
}

/* The OCI --console-socket protocol (as the addon's sendFd): one message, the pty's name as
 * payload, the master as SCM_RIGHTS. */
static int send_console(int sock, int fd, const char *name) { return send_fd(sock, fd, name, strlen(name)); }

static int ns_flags(const char *list, int *flags) {
  static const struct { const char *name; int flag; } names[] = {
    {"user", CLONE_NEWUSER}, {"mnt", CLONE_NEWNS}, {"uts", CLONE_NEWUTS}, {"ipc", CLONE_NEWIPC},
    {"net", CLONE_NEWNET}, {"pid", CLONE_NEWPID}, {"cgroup", CLONE_NEWCGROUP}};
  *flags = 0;
  for (const char *s = list; *s;) {
    size_t n = strcspn(s, ",");
    size_t k = 0;
    for (; k < sizeof names / sizeof *names; k++)
      if (strlen(names[k].name) == n && !strncmp(s, names[k].name, n)) break;
    if (k == sizeof names / sizeof *names) return -1;
    *flags |= names[k].flag;
    s += n + (s[n] == ',');
  }
  return 0;
}

static int cmd_exec(int argc, char **argv) {
  const char *cwd = NULL, *user = NULL;
  int detach = 0, tty = 0, i = 2, has_caps = 0, nnp = 0;
  struct sock_fprog filter = {0, NULL};
  int want_seccomp = 0;
  unsigned long long caps = 0;
  char **env = calloc((size_t)argc + 1, sizeof *env);
  size_t nenv = 0;
  /* --oci's keys, as a plan buffer for plan_parse (with the rootfs and command it demands). */
  size_t olen = 0, ocap = 64;
  char *obuf = malloc(ocap);
  int have_oci = 0, ns_given = 0, ns_want = 0, report_fd = -1, setup_code = -1;
  const char *console = NULL;
  unsigned short rows = 0, cols = 0;
  for (; i < argc && strcmp(argv[i], "--"); i++) {
    if (!strcmp(argv[i], "-w") && i + 1 < argc) cwd = argv[++i];
    else if (!strcmp(argv[i], "-u") && i + 1 < argc) user = argv[++i];
    else if (!strcmp(argv[i], "-e") && i + 1 < argc) env[nenv++] = argv[++i];
    else if (!strcmp(argv[i], "-d")) detach = 1;
    else if (!strcmp(argv[i], "-t")) tty = 1;
    else if (!strcmp(argv[i], "--caps") && i + 1 < argc) { caps = strtoull(argv[++i], NULL, 16); has_caps = 1; }
    else if (!strcmp(argv[i], "--nnp")) nnp = 1;
    /* docker exec's status when the command could not be started at all (not found, not
     * executable, a bad -w): 126 whatever the reason; run keeps 127 for "not found". */
    else if (!strcmp(argv[i], "--setup-failure-code") && i + 1 < argc) setup_code = atoi(argv[++i]);
    else if (!strcmp(argv[i], "--seccomp")) want_seccomp = 1;
    else if (!strcmp(argv[i], "--ns") && i + 1 < argc) {
      if (ns_flags(argv[++i], &ns_want) < 0) { fprintf(stderr, "minidock-shim exec: bad --ns %s\n", argv[i]); return 125; }
      ns_given = 1;
    } else if (!strcmp(argv[i], "--oci") && i + 1 < argc) {
      const char *kv = argv[++i];
      if (!exec_plan_key(kv)) { fprintf(stderr, "minidock-shim exec: --oci %.40s is not a key exec takes\n", kv); return 125; }
      size_t n = strlen(kv) + 1;
      while (olen + n + 32 > ocap) obuf = realloc(obuf, ocap *= 2);
      if (!obuf) die("--oci");
      memcpy(obuf + olen, kv, n);
      obuf[olen + strcspn(kv, "=")] = '\0'; /* KEY=VALUE -> KEY\0VALUE\0 */
      olen += n;
      have_oci = 1;
    } else if (!strcmp(argv[i], "--report-fd") && i + 1 < argc) report_fd = atoi(argv[++i]);
    else if (!strcmp(argv[i], "--console-socket") && i + 1 < argc) console = argv[++i];
    else if (!strcmp(argv[i], "--console-size") && i + 1 < argc) {
      unsigned r = 0, c = 0;
      if (sscanf(argv[++i], "%ux%u", &r, &c) != 2 || r > 65535 || c > 65535) { fprintf(stderr, "minidock-shim exec: bad --console-size %s\n", argv[i]); return 125; }
      rows = (unsigned short)r;
      cols = (unsigned short)c;
    }
    else if (!strcmp(argv[i], "--cgroup") && i + 1 < argc) {
      /* The container's cgroup.procs files: the exec'd command counts against its limits.
       * Joined first, so nothing runs in the container outside them. */
      const char *procs = argv[++i];
      char pid[24];
      int n = snprintf(pid, sizeof pid, "%d", (int)getpid());
      int fd = open(procs, O_WRONLY | O_CLOEXEC);
      if (fd < 0 || write(fd, pid, (size_t)n) != n) {
        fprintf(stderr, "minidock: exec: cannot join the container's cgroup %s: %s\n", procs, strerror(errno));
        return 125;
      }
      close(fd);
    }
    else { fprintf(stderr, "minidock-shim exec: unknown option %s\n", argv[i]); return 125; }
  }
  if (i + 1 >= argc) { fprintf(stderr, "usage: minidock-shim exec [opts] -- CMD...\n"); return 125; }
  if (want_seccomp && seccomp_default_program(&filter, has_caps ? caps : ~0ULL) < 0) die("build the seccomp filter");
  char **cmd = &argv[i + 1];

  /* --oci: the process's privileges through the plan's own parser, so exec reads the keys
   * exactly as create does. */
  struct plan op;
  memset(&op, 0, sizeof op);
  op.umask = -1;
  if (have_oci) {
    if (want_seccomp || has_caps) { fprintf(stderr, "minidock-shim exec: --oci excludes --caps and --seccomp\n"); return 125; }
    static const char tail[] = "rootfs\0/\0arg\0-\0";
    memcpy(obuf + olen, tail, sizeof tail - 1);
    char perr[256];
    if (plan_parse(obuf, olen + sizeof tail - 1, &op, perr, sizeof perr) < 0) {
      fprintf(stderr, "minidock-shim exec: %s\n", perr);
      return 125;
    }
    caps = op.caps;
    has_caps = op.has_caps;
    nnp |= op.no_new_privs;
    filter = op.seccomp;
  }
  if (console && !tty) { fprintf(stderr, "minidock-shim exec: --console-socket needs -t\n"); return 125; }
  int csock = -1;
  if (console && (csock = connect_console(console)) < 0) {
    fprintf(stderr, "minidock: exec: cannot connect to the console socket %s: %s\n", console, strerror(errno));
    return 125;
  }

  /* The container's root, opened before we leave our mount namespace: setns(CLONE_NEWNS) puts
   * us at the root of the container's mount namespace, which is the container's own only when
   * it pivot_root'ed there. An OCI container in a joined mount namespace (or none of its own)
   * chroot'ed into its tree instead (container.c), and so does the command, below. The pid is
   * the pidfd's (fdinfo), so it is the process the CLI checked. */
  int rootfd = -1;
  {
    char line[128], path[64];
    long pid = -1;
    FILE *fi = fopen("/proc/self/fdinfo/3", "re");
    while (fi && fgets(line, sizeof line, fi))
      if (!strncmp(line, "Pid:", 4)) pid = strtol(line + 4, NULL, 10);
    if (fi) fclose(fi);
    snprintf(path, sizeof path, "/proc/%ld/root", pid);
    if (pid <= 0 || (rootfd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0) {
      fprintf(stderr, "minidock: exec: cannot open the container's root (%s): %s\n", path, pid <= 0 ? "no pid for the pidfd" : strerror(errno));
      return 125;
    }
  }

  /* One call joins all seven namespaces of the process the pidfd names (Linux 5.8+), or with
   * --ns exactly those named. */
  int flags = CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWNET | CLONE_NEWPID | CLONE_NEWCGROUP;
  if (ns_given) {
    if (ns_want && setns(3, ns_want) < 0) {
      fprintf(stderr, "minidock: exec: cannot enter the container's namespaces: %s\n", strerror(errno));
      return 125;
    }
  } else if (setns(3, flags) < 0) {
    /* A container in the host's network (--network host) or another's shares that namespace:
     * retry without CLONE_NEWNET; the pidfd still puts us in the right one when it differs. */
    if (errno != EINVAL || setns(3, flags & ~CLONE_NEWNET) < 0) {
      fprintf(stderr, "minidock: exec: cannot enter the container's namespaces: %s\n", strerror(errno));
      return 125;
    }
  }
  close(3);
  if (fchdir(rootfd) < 0 || chroot(".") < 0) {
    fprintf(stderr, "minidock: exec: cannot enter the container's root: %s\n", strerror(errno));
    return 125;
  }
  close(rootfd);

  /* -t: the pty comes from the container's own devpts (its /dev/ptmx), as docker's does, so the
   * command sees /dev/pts/N inside. We keep the master and relay it to our stdin/stdout: the
   * user's terminal, which the CLI has put in raw mode. */
  int master = -1, slave = -1;
  if (tty) {
    master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (master < 0 || unlockpt(master) < 0) { fprintf(stderr, "minidock: exec: open the container's /dev/ptmx: %s\n", strerror(errno)); return 125; }
    /* TIOCGPTPEER opens the slave through the master, not by a path the container controls. */
    slave = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY);
    if (slave < 0) { fprintf(stderr, "minidock: exec: open the pty: %s\n", strerror(errno)); return 125; }
    struct winsize ws;
    if (csock >= 0) {
      if (rows || cols) {
        memset(&ws, 0, sizeof ws);
        ws.ws_row = rows;
        ws.ws_col = cols;
        ioctl(master, TIOCSWINSZ, &ws);
      }
      char name[64];
      if (ptsname_r(master, name, sizeof name)) snprintf(name, sizeof name, "/dev/pts/?");
      if (send_console(csock, master, name) < 0) { fprintf(stderr, "minidock: exec: send the pty to the console socket: %s\n", strerror(errno)); return 125; }
      close(csock);
      close(master); /* the receiver owns the terminal now */
      master = -1;
    } else if (ioctl(0, TIOCGWINSZ, &ws) == 0) ioctl(master, TIOCSWINSZ, &ws);
  }

  uid_t uid = 0;
  gid_t gid = 0, groups[64];
  size_t ngroups = 0;
  if (user) {
    char *end;
    uid = (uid_t)strtoul(user, &end, 10);
    if (*end == ':') gid = (gid_t)strtoul(end + 1, &end, 10);
    while (*end == ':' || *end == ',') {
      if (ngroups < 64) groups[ngroups++] = (gid_t)strtoul(end + 1, &end, 10);
      else break;
    }
  }

  /* SIGCHLD (and SIGWINCH) blocked before the fork, so the relay's signalfd sees them however
   * early the command exits: unblocked only after it, a SIGCHLD that came first was discarded
   * (its default action) and the relay waited for it for ever. The child gets the old mask back. */
  sigset_t relayed, oldmask;
  sigemptyset(&relayed);
  sigaddset(&relayed, SIGCHLD);
  sigaddset(&relayed, SIGWINCH);
  sigprocmask(SIG_BLOCK, &relayed, &oldmask);
  int rep[2];
  if (pipe2(rep, O_CLOEXEC) < 0) die("pipe");
  pid_t pid = fork();
  if (pid < 0) die("fork");
  if (pid == 0) {
    sigprocmask(SIG_SETMASK, &oldmask, NULL);
    close(rep[0]);
    /* With -t the command gets a session of its own and the pty (its stdin) as controlling
     * terminal, as in run. Left in the caller's session, an interactive shell would take the
     * user's terminal for its job control and stop the CLI relaying to it. */
    if (detach || tty) setsid();
    if (tty) {
      for (int k = 0; k < 3; k++) dup2(slave, k);
      if (ioctl(0, TIOCSCTTY, 0) < 0) { dprintf(rep[1], "tiocsctty %d pty", errno); _exit(125); }
    }
    /* After setns(CLONE_NEWNS) and the chroot above, our root and cwd are the container's. */
    if (cwd && chdir(cwd) < 0) { dprintf(rep[1], "chdir %d %s", errno, cwd); _exit(126); }
    /* process.rlimits while still root, as create's child sets them. */
    for (size_t k = 0; k < op.nrlimits; k++)
      if (setrlimit(op.rlimits[k].resource, &op.rlimits[k].limit) < 0) { dprintf(rep[1], "setrlimit %d %s", errno, op.rlimits[k].name); _exit(125); }
    /* The same privileges as the container's PID 1: exec must not be a way around them. */
    const char *pstep = "privileges";
    if (apply_privileges(caps, has_caps, op.has_cap_sets ? &op.cap_sets : NULL, nnp, uid, gid, groups, ngroups, &filter,
                         op.seccomp_flags, &pstep) < 0) {
      dprintf(rep[1], "%s %d %s", pstep, errno, user ? user : "");
      _exit(125);
    }
    if (op.umask >= 0) umask((mode_t)op.umask);
    syscall(SYS_close_range, 3U, ~0U, 4U /* CLOSE_RANGE_CLOEXEC */);
    const char *path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
    for (size_t k = 0; k < nenv; k++)
      if (!strncmp(env[k], "PATH=", 5)) path = env[k] + 5;
    if (strchr(cmd[0], '/')) execve(cmd[0], cmd, env);
    else {
      char buf[4096];
      int eacces = 0;
      for (const char *d = path; *d;) {
        size_t n = strcspn(d, ":");
        snprintf(buf, sizeof buf, "%.*s/%s", (int)(n ? n : 1), n ? d : ".", cmd[0]);
        execve(buf, cmd, env);
        if (errno == EACCES) eacces = 1;
        d += n + (d[n] == ':');
      }
      errno = eacces ? EACCES : ENOENT;
      dprintf(rep[1], "path %d %s", errno, cmd[0]);
      _exit(127);
    }
    dprintf(rep[1], "exec %d %s", errno, cmd[0]);
    _exit(errno == ENOENT ? 127 : 126);
  }
  close(rep[1]);
  if (report_fd >= 0) {
    dprintf(report_fd, "pid %d\n", (int)pid);
    close(report_fd);
  }
  /* Signals for us (the CLI passes on SIGTERM and SIGHUP) are for the command. */
  exec_child = pid;
  struct sigaction fw;
  memset(&fw, 0, sizeof fw);
  fw.sa_handler = forward_signal;
  fw.sa_flags = SA_RESTART;
  int forwarded[] = {SIGTERM, SIGHUP, SIGINT, SIGQUIT, SIGUSR1, SIGUSR2};
  for (size_t k = 0; k < sizeof forwarded / sizeof *forwarded; k++) sigaction(forwarded[k], &fw, NULL);
  char report[512] = {0};
  ssize_t got = read(rep[0], report, sizeof report - 1);
  close(rep[0]);
  if (got > 0) {
    char what[16];
    int e = 0, off = 0;
    sscanf(report, "%15s %d %n", what, &e, &off);
    const char *arg = report + off;
    if (!strcmp(what, "path"))
      fprintf(stderr, "minidock: exec: \"%s\": executable file not found in $PATH\n", arg);
    else
      fprintf(stderr, "minidock: exec: %s \"%s\": %s\n", what, arg, strerror(e));
  }
  if (detach && got <= 0) return 0;
  int status;
  if (got > 0 && setup_code >= 0) {
    if (slave >= 0) close(slave);
    if (reap_wait(pid, &status, 0) != pid) die("waitpid");
    return setup_code;
  }
  if (tty && master >= 0) {
    close(slave);
    status = relay_pty(master, pid);
  } else {
    /* With --console-socket the receiver holds the terminal: our copy of the slave would keep
     * it open after the command exits. */
    if (slave >= 0) close(slave);
    if (reap_wait(pid, &status, 0) != pid) die("waitpid");
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int main(int argc, char **argv) {
  if (argc >= 2 && !strcmp(argv[1], "run")) return cmd_run(argc, argv);
  if (argc >= 2 && !strcmp(argv[1], "exec")) return cmd_exec(argc, argv);
  fprintf(stderr, "usage: minidock-shim run DIR [-- EXIT-COMMAND...] | exec [opts] -- CMD...\n");
  return 125;
}
