/* Passing a file descriptor over a unix socket (SCM_RIGHTS), in one place for the three callers:
 * the "go" message with the idmapped image mount (container.c), and the OCI --console-socket
 * protocol, which sends a pty master with its name as the payload (addon.cc for create,
 * shim.c for exec). Header-only: container.c runs in the cloned child's parent, the shim is a
 * separate binary, and the addon is C++. */
#ifndef MINIDOCK_FDPASS_H
#define MINIDOCK_FDPASS_H

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>

/* Sends `len` bytes of `data` (at least one byte: a message with no payload carries no
 * control data) and, when fd >= 0, the descriptor. Returns 0, or -1 with errno. */
static inline int send_fd(int sock, int fd, const void *data, size_t len) {
  static const char zero = 0;
  struct iovec iov;
  iov.iov_base = (void *)(len ? data : &zero);
  iov.iov_len = len ? len : 1;
  union { struct cmsghdr h; char buf[CMSG_SPACE(sizeof(int))]; } ctl;
  struct msghdr m;
  memset(&m, 0, sizeof m);
  memset(&ctl, 0, sizeof ctl);
  m.msg_iov = &iov;
  m.msg_iovlen = 1;
  if (fd >= 0) {
    m.msg_control = ctl.buf;
    m.msg_controllen = sizeof ctl.buf;
    struct cmsghdr *c = CMSG_FIRSTHDR(&m);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(c), &fd, sizeof fd);
  }
  ssize_t r;
  do r = sendmsg(sock, &m, MSG_NOSIGNAL); while (r < 0 && errno == EINTR);
  if (r < 0) return -1;
  if ((size_t)r != iov.iov_len) { errno = EIO; return -1; }
  return 0;
}

#endif
