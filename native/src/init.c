/*
 * minidock-init: a tiny PID 1 for `minidock run --init` (the role tini plays for docker).
 *
 * Build (static: the container image may have no libc at all):
 *     make -f native/init.mk        ->  native/build/minidock-init
 * which runs
 *     gcc -static -Os -Wall -Wextra -s -o native/build/minidock-init native/src/init.c
 *
 * Usage: minidock-init -- COMMAND [ARG...]
 *
 * What it does, and the choices made:
 *
 * - Signals. Every signal is blocked from the very start (before the fork, so nothing sent early
 *   is lost) and read synchronously from a signalfd: no asynchronous handlers at all. Blocked
 *   signals are queued even though PID 1 of a PID namespace would otherwise drop signals it has
 *   no handler for. The mask is set with the raw rt_sigprocmask syscall so that it covers all 64
 *   signals, including the two glibc keeps for itself (32 and 33), which then get forwarded too.
 *
 * - Forwarding. Every signal read except SIGCHLD is passed on to the child. The child is put in
 *   a process group of its own (setpgid in both parent and child, so there is no window where
 *   it is not yet true), and a signal goes to that whole group (kill(-pgid), as `tini -g` does
 *   and as a shell signals a job) as long as the child still leads it; if the child has moved
 *   itself into another group or session, only the child itself is signalled. So
 *   `sh -c 'a | b'` gets SIGTERM in every process of the pipeline, like a Ctrl-C would.
 *
 * - Terminal. If stdin is a terminal and init's process group is its foreground group, the child
 *   makes its new group the foreground group (tcsetpgrp, before exec) so that Ctrl-C, Ctrl-\ and
 *   Ctrl-Z and window-size changes go straight to it from the tty driver, and it may read the
 *   terminal. All signals are still blocked then, and SIGTTOU is additionally set to SIG_IGN
 *   around the call, so a background caller is not stopped by SIGTTOU. Init never touches the
 *   terminal again. (As with tini, a Ctrl-Z then stops the command; init does not intervene.)
 *
 * - The child starts clean: every signal disposition SIG_DFL and an empty signal mask, as a
 *   process docker starts would (whatever init itself inherited).
 *
 * - Reaping. On every SIGCHLD, waitpid(-1, WNOHANG) in a loop reaps all exited children:
 *   orphans reparented to PID 1 included. When init is not PID 1 (no PID namespace), it makes
 *   itself a child subreaper so that the command's orphans still come to it. A stop is never
 *   an exit: a child that called PTRACE_TRACEME made init its tracer, and its ptrace-stops are
 *   released with their signal passed on (reap.h, shared with the addon and the shim), so it
 *   can neither hang in a stop nor pass one off as its exit.
 *
 * - Exit. As soon as the main child is reaped, init exits with its exit code, or 128+N if a
 *   signal N killed it. It does not wait for the remaining processes: when PID 1 of a PID
 *   namespace exits, the kernel SIGKILLs everything left in the namespace and reaps it (docker
 *   with tini behaves the same). (If init is not PID 1, leftovers go to the next reaper up.)
 *
 * - Errors, with docker's codes: exec failure prints `minidock-init: exec "CMD": <reason>` and
 *   exits 127 when the command is not found (ENOENT, ENOTDIR), 126 when it cannot be run (EACCES,
 *   ENOEXEC, ...). A bad command line prints the usage and exits 125, as does an internal failure
 *   (fork, signalfd). Messages are written with a single write(2): no stdio buffering.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "reap.h"

#define KSIGSET_SIZE 8 /* the kernel's sigset_t: 64 signals (x86-64, arm64, ...) */
#define NSIGNALS 64

static void say(const char *a, const char *b, const char *c, const char *d) {
  char buf[512];
  size_t n = 0;
  const char *parts[] = {"minidock-init: ", a, b, c, d, "\n"};
  for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++) {
    for (const char *p = parts[i]; p && *p && n < sizeof buf - 1; p++) buf[n++] = *p;
  }
  if (n == sizeof buf - 1) buf[n++] = '\n';
  ssize_t w = write(STDERR_FILENO, buf, n);
  (void)w;
}

static int set_mask(uint64_t mask) {
  return (int)syscall(SYS_rt_sigprocmask, SIG_SETMASK, &mask, NULL, KSIGSET_SIZE);
}

/* Runs in the forked child: own process group, the terminal if init had it, an empty signal
 * mask (dispositions are SIG_DFL already), exec. Never returns. */
static void start_child(char **argv) {
  pid_t self = getpid();
  setpgid(0, 0);
  if (isatty(STDIN_FILENO) && tcgetpgrp(STDIN_FILENO) == getpgid(getppid())) {
    struct sigaction ign = {.sa_handler = SIG_IGN};
    sigaction(SIGTTOU, &ign, NULL);
    tcsetpgrp(STDIN_FILENO, self);
  }
  struct sigaction dfl = {.sa_handler = SIG_DFL};
  sigaction(SIGTTOU, &dfl, NULL);
  set_mask(0);
  execvp(argv[0], argv);
  int e = errno;
  say("exec \"", argv[0], "\": ", strerror(e));
  _exit(e == ENOENT || e == ENOTDIR ? 127 : 126);
}

static void forward(pid_t child, int sig) {
  if (getpgid(child) == child && kill(-child, sig) == 0) return;
  kill(child, sig);
}

int main(int argc, char **argv) {
  if (argc < 3 || strcmp(argv[1], "--") != 0) {
    static const char usage[] = "usage: minidock-init -- COMMAND [ARG...]\n";
    ssize_t w = write(STDERR_FILENO, usage, sizeof usage - 1);
    (void)w;
    return 125;
  }

  uint64_t all = ~(uint64_t)0; /* the kernel ignores SIGKILL and SIGSTOP in it */
  if (set_mask(all) != 0) {
    say("sigprocmask: ", strerror(errno), NULL, NULL);
    return 125;
  }
  /* Every disposition back to SIG_DFL, here and so in the child: an inherited SIG_IGN on SIGCHLD
   * would have the kernel reap children without a status (and send no SIGCHLD), and one on any
   * other signal would otherwise survive into the command's exec. */
  struct sigaction dfl = {.sa_handler = SIG_DFL};
  for (int s = 1; s <= NSIGNALS; s++) {
    if (s != SIGKILL && s != SIGSTOP) sigaction(s, &dfl, NULL); /* 32, 33: glibc's EINVAL */
  }
  int sfd = (int)syscall(SYS_signalfd4, -1, &all, KSIGSET_SIZE, SFD_CLOEXEC);
  if (sfd < 0) {
    say("signalfd: ", strerror(errno), NULL, NULL);
    return 125;
  }
  if (getpid() != 1) prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);

  pid_t child = fork();
  if (child < 0) {
    say("fork: ", strerror(errno), NULL, NULL);
    return 125;
  }
  if (child == 0) start_child(argv + 2);
  setpgid(child, child); /* also done by the child; whichever runs first wins, EACCES after exec */

  for (;;) {
    struct signalfd_siginfo si;
    ssize_t n = read(sfd, &si, sizeof si);
    if (n < 0 && errno == EINTR) continue;
    if (n != (ssize_t)sizeof si) {
      say("reading signals: ", n < 0 ? strerror(errno) : "short read", NULL, NULL);
      return 125;
    }
    if (si.ssi_signo != SIGCHLD) {
      forward(child, (int)si.ssi_signo);
      continue;
    }
    for (;;) {
      int status;
      pid_t pid = reap_wait(-1, &status, WNOHANG); /* exits only; EINTR retried */
      if (pid <= 0) break; /* none exited (0) or no children left (ECHILD) */
      if (pid != child) continue;
      if (WIFEXITED(status)) return WEXITSTATUS(status);
      if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
    }
  }
}
