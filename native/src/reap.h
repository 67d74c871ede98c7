/* Reading the wait status of a container process: the one place that decides what counts as
 * an exit. Used by everything that waits on PID 1 or on an exec'd command: the addon's wait
 * (addon.cc), container_abort (container.c), the shim's monitor loop and `exec` (shim.c), and
 * minidock-init's reaper (init.c). Header-only, so that the static init can use it too.
 *
 * Only WIFEXITED and WIFSIGNALED are exits. A waiter that does not ask for WUNTRACED can still
 * be told of a stop: when the child called ptrace(PTRACE_TRACEME), its parent (us) became its
 * tracer, and the kernel reports every ptrace-stop of a tracee to its tracer. A hostile PID 1
 * does exactly that, then lets any signal stop it: a waiter that took the stop for an exit
 * would mark the container exited and hand its address and port to the next container while it
 * runs on. So a stop is never an exit: we detach (PTRACE_DETACH), passing the stop's signal on,
 * which leaves the process exactly as it would be had it never been traced, and wait on.
 *
 * Why not refuse PTRACE_TRACEME in the seccomp filter instead: docker's default profile allows
 * ptrace (kernel >= 4.8), and `gdb ./prog` inside a container forks a child that calls
 * PTRACE_TRACEME; refusing it would break debuggers for everyone to make up for our waiter.
 * With the waiter fixed, TRACEME on PID 1 gives it nothing: we never act as its debugger.
 */
#ifndef MINIDOCK_REAP_H
#define MINIDOCK_REAP_H

#include <errno.h>
#include <signal.h>
#include <sys/ptrace.h>
#include <sys/types.h>
#include <sys/wait.h>

static inline int reap_is_exit(int status) { return WIFEXITED(status) || WIFSIGNALED(status); }

/* After waitpid reported a stop (or a continue) of `pid`: lets it go on as if untraced.
 * Must run on the thread that created `pid` (the tracer of a TRACEME child is that thread;
 * ptrace from any other thread fails with ESRCH). Returns ptrace's result (0 or -1). */
static inline int reap_release_stop(pid_t pid, int status) {
  if (!WIFSTOPPED(status)) return 0; /* WIFCONTINUED: it runs already */
  int sig = WSTOPSIG(status);
  siginfo_t si;
  if (ptrace(PTRACE_GETSIGINFO, pid, 0, &si) < 0) {
    /* EINVAL: a group-stop (SIGSTOP and friends), not a signal-delivery-stop. Detaching leaves
     * it stopped, as it would be untraced, until a SIGCONT. */
    sig = 0;
  } else if (sig == SIGTRAP && si.si_code == SI_USER) {
    /* The SIGTRAP the kernel queues at execve for a PTRACE_TRACEME tracee (send_sig, SI_USER):
     * it exists only because the process is traced, and delivered it would kill it. */
    sig = 0;
  }
  return (int)ptrace(PTRACE_DETACH, pid, 0, (void *)(long)sig);
}

/* waitpid(pid, status, options | __WALL) until a real exit: stops are released and waited
 * past. Returns the reaped pid, 0 (WNOHANG: nothing has exited), or -1 with errno (EINTR is
 * retried). For single-threaded callers, or the thread that created `pid`. */
static inline pid_t reap_wait(pid_t pid, int *status, int options) {
  int st = 0;
  for (;;) {
    pid_t r = waitpid(pid, &st, options | __WALL);
    if (r < 0 && errno == EINTR) continue;
    if (r > 0 && !reap_is_exit(st)) {
      reap_release_stop(r, st);
      continue;
    }
    if (r > 0 && status) *status = st;
    return r;
  }
}

#endif
