/* Creating a container from a parsed plan: the parent-side API of container.c. */
#ifndef MINIDOCK_CONTAINER_H
#define MINIDOCK_CONTAINER_H

#include "plan.h"

/* Exit status of a child that failed before execve (its report says why). */
#define CONTAINER_SETUP_FAILED 125

/* The step name of the one report that is not a failure: an OCI create's child is set up and
 * waits on its exec FIFO (plan key exec_fifo). */
#define CONTAINER_READY "ready"

/* The report a child with namespaces to join (plan key join) sends once it is in them, before
 * "go": container_create waits for it. */
#define CONTAINER_JOINED "joined"

/* What a child that joined a user namespace and made a PID namespace sends instead: it forked
 * the container's PID 1 (the new namespace holds only its children) and exits; `err` carries
 * PID 1's pid in the caller's PID namespace. container_create follows that process from then. */
#define CONTAINER_FORKED "forked"

/* What the child writes on the report pipe when a step fails. */
struct container_failure {
  char step[48];    /* e.g. "child.pivot_root" */
  int err;          /* errno */
  char detail[200]; /* the path or value involved */
};

struct container_handle {
  int pid;      /* in the caller's PID namespace */
  int pidfd;    /* for signals that cannot hit a recycled pid */
  int gofd;     /* write end of "go" */
  int reportfd; /* read end of the child's failure report */
  int lowerfd;  /* the idmapped image mount, handed to the child with "go" (-1: none) */
};

/* Clones the child into the plan's namespaces and writes its id maps. The child then waits for
 * container_start(). Returns 0, or -1 with `f` filled in and nothing left behind. */
int container_create(const struct plan *p, struct container_handle *h, struct container_failure *f);

/* Lets the child run and waits until it has exec'd (0) or reported a failure (-1, `f`). */
int container_start(struct container_handle *h, struct container_failure *f);

/* The last step before execve, shared by the child and `minidock-shim exec`.
 * One mask (`sets` NULL, what `minidock run` and exec use): bounding set reduced to `caps`,
 * ambient cleared, then the ids, then permitted/effective = `caps` for root (a non-root uid
 * loses them by setresuid), nothing inheritable.
 * OCI's five sets (`sets`): bounding reduced to sets->bounding, ambient cleared, the ids
 * changed with keep-caps, then effective/permitted/inheritable set as given and the ambient
 * ones raised.
 * Then no_new_privs, then the filter (with seccomp(2)'s `filter_flags` when not 0); without
 * no_new_privs the filter goes first instead, while the process still has CAP_SYS_ADMIN (as runc
 * orders it). Returns 0, or -1 with *step. */
int apply_privileges(unsigned long long caps, int has_caps, const struct cap_sets *sets, int nnp, uid_t uid, gid_t gid,
                     const gid_t *groups, size_t ngroups, const struct sock_fprog *filter, unsigned filter_flags,
                     const char **step);

/* Builds the default seccomp program for a capability set (native/src/seccomp.c). Allocates:
 * call before clone/fork. */
int seccomp_default_program(struct sock_fprog *out, unsigned long long caps);

/* Kills and reaps a created child that will not be started. */
void container_abort(struct container_handle *h);

#endif
