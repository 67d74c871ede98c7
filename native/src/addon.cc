// The Node binding: turns the JavaScript calls of src/native/binding.ts into container.c calls.
// Nothing here runs in the child; clone3 happens inside container_create().
#include <napi.h>
#include <string>
#include <vector>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <termios.h>
#include <unistd.h>

extern "C" {
#include "container.h"
}
#include "reap.h"
#include "fdpass.h"

namespace {

const char *ErrnoName(int err) {
  const char *name = strerrorname_np(err);
  return name ? name : "EUNKNOWN";
}

Napi::Object FailureObject(Napi::Env env, const container_failure &f) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("step", f.step);
  o.Set("errno", f.err);
  o.Set("code", f.err ? ErrnoName(f.err) : "");
  o.Set("message", f.err ? strerror(f.err) : "");
  o.Set("detail", f.detail);
  return o;
}

Napi::Error SysError(Napi::Env env, const char *step, int err, const char *detail = "") {
  Napi::Error e = Napi::Error::New(env, std::string(step) + ": " + strerror(err));
  e.Set("step", step);
  e.Set("code", ErrnoName(err));
  e.Set("errno", Napi::Number::New(env, err));
  e.Set("detail", detail);
  return e;
}

container_handle HandleFrom(const Napi::Object &o) {
  container_handle h;
  h.pid = o.Get("pid").As<Napi::Number>().Int32Value();
  h.pidfd = o.Get("pidfd").As<Napi::Number>().Int32Value();
  h.gofd = o.Get("gofd").As<Napi::Number>().Int32Value();
  h.reportfd = o.Get("reportfd").As<Napi::Number>().Int32Value();
  h.lowerfd = o.Get("lowerfd").As<Napi::Number>().Int32Value();
  return h;
}

void StoreHandle(Napi::Object o, const container_handle &h) {
  o.Set("pid", h.pid);
  o.Set("pidfd", h.pidfd);
  o.Set("gofd", h.gofd);
  o.Set("reportfd", h.reportfd);
  o.Set("lowerfd", h.lowerfd);
}

// create(plan: Buffer) -> { pid, pidfd, gofd, reportfd }
Napi::Value Create(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  Napi::Buffer<char> buf = info[0].As<Napi::Buffer<char>>();
  plan p;
  char err[256];
  if (plan_parse(buf.Data(), buf.Length(), &p, err, sizeof err) < 0) {
    Napi::Error e = Napi::Error::New(env, err);
    e.Set("step", "native.plan");
    throw e;
  }
  container_handle h;
  container_failure f;
  memset(&f, 0, sizeof f);
  int rc = container_create(&p, &h, &f);
  // The child has its own copy of the plan; ours is no longer needed.
  plan_free(&p);
  if (rc < 0) throw SysError(env, f.step, f.err, f.detail);
  Napi::Object o = Napi::Object::New(env);
  StoreHandle(o, h);
  return o;
}

// start(handle) -> null when the command is running, else the child's failure report.
Napi::Value Start(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  Napi::Object o = info[0].As<Napi::Object>();
  container_handle h = HandleFrom(o);
  container_failure f;
  int rc = container_start(&h, &f);
  StoreHandle(o, h);
  if (rc == 0) return env.Null();
  return FailureObject(env, f);
}

Napi::Value Abort(const Napi::CallbackInfo &info) {
  Napi::Object o = info[0].As<Napi::Object>();
  container_handle h = HandleFrom(o);
  container_abort(&h);
  StoreHandle(o, h);
  return info.Env().Undefined();
}

// Waits for the container's PID 1 on a libuv worker thread, so the event loop keeps relaying
// the pty and forwarding signals meanwhile. libuv reaps only the children it spawned itself.
// Only an exit settles the promise (native/src/reap.h): a ptrace-stop (PID 1 called
// PTRACE_TRACEME, making Node's main thread its tracer) is released here, on the main thread,
// since ptrace answers only the tracer thread, and a fresh worker waits on.
class WaitWorker : public Napi::AsyncWorker {
 public:
  WaitWorker(Napi::Env env, int pid) : WaitWorker(env, pid, Napi::Promise::Deferred::New(env)) {}
  WaitWorker(Napi::Env env, int pid, Napi::Promise::Deferred deferred) : Napi::AsyncWorker(env), pid_(pid), deferred_(deferred) {}
  Napi::Promise Promise() { return deferred_.Promise(); }

  void Execute() override {
    int rc;
    do rc = waitpid(pid_, &status_, __WALL); while (rc < 0 && errno == EINTR);
    if (rc < 0) err_ = errno;
  }
  void OnOK() override {
    Napi::Env env = Env();
    if (err_) { deferred_.Reject(SysError(env, "parent.waitpid", err_).Value()); return; }
    if (!reap_is_exit(status_)) {
      reap_release_stop(pid_, status_);
      (new WaitWorker(env, pid_, deferred_))->Queue();
      return;
    }
    Napi::Object o = Napi::Object::New(env);
    if (WIFEXITED(status_)) {
      o.Set("exitCode", WEXITSTATUS(status_));
      o.Set("signal", env.Null());
    } else {
      o.Set("exitCode", env.Null());
      o.Set("signal", WTERMSIG(status_));
    }
    deferred_.Resolve(o);
  }
  void OnError(const Napi::Error &e) override { deferred_.Reject(e.Value()); }

 private:
  int pid_;
  int status_ = 0;
  int err_ = 0;
  Napi::Promise::Deferred deferred_;
};

Napi::Value Wait(const Napi::CallbackInfo &info) {
  int pid = info[0].As<Napi::Number>().Int32Value();
  auto *w = new WaitWorker(info.Env(), pid);
  Napi::Promise promise = w->Promise();
  w->Queue();
  return promise;
}

// pidfdWait(pidfd, ms) -> Promise<boolean>: true once the process has exited (a pidfd polls
// readable then; for PID 1 of a PID namespace, after every process in it was killed), false
// after `ms`. For a process that is not our child: a detached container's PID 1, whose shim is
// its parent.
class PidfdWaitWorker : public Napi::AsyncWorker {
 public:
  PidfdWaitWorker(Napi::Env env, int fd, int ms) : Napi::AsyncWorker(env), fd_(fd), ms_(ms), deferred_(Napi::Promise::Deferred::New(env)) {}
  Napi::Promise Promise() { return deferred_.Promise(); }
  void Execute() override {
    struct pollfd p = {fd_, POLLIN, 0};
    int rc;
    do rc = poll(&p, 1, ms_); while (rc < 0 && errno == EINTR);
    if (rc < 0) err_ = errno;
    exited_ = rc == 1;
  }
  void OnOK() override {
    if (err_) deferred_.Reject(SysError(Env(), "parent.pidfd_poll", err_).Value());
    else deferred_.Resolve(Napi::Boolean::New(Env(), exited_));
  }
  void OnError(const Napi::Error &e) override { deferred_.Reject(e.Value()); }

 private:
  int fd_, ms_, err_ = 0;
  bool exited_ = false;
  Napi::Promise::Deferred deferred_;
};

Napi::Value PidfdWait(const Napi::CallbackInfo &info) {
  auto *w = new PidfdWaitWorker(info.Env(), info[0].As<Napi::Number>().Int32Value(), info[1].As<Napi::Number>().Int32Value());
  Napi::Promise promise = w->Promise();
  w->Queue();
  return promise;
}

// signal(pidfd, sig): pidfd_send_signal cannot reach a process that reused the pid.
Napi::Value Signal(const Napi::CallbackInfo &info) {
  int pidfd = info[0].As<Napi::Number>().Int32Value();
  int sig = info[1].As<Napi::Number>().Int32Value();
  if (syscall(SYS_pidfd_send_signal, pidfd, sig, nullptr, 0) < 0 && errno != ESRCH)
    throw SysError(info.Env(), "parent.pidfd_send_signal", errno);
  return info.Env().Undefined();
}

// pidfdOpen(pid) -> fd. Opening first and then checking the start time makes a later signal
// race-free: if the pid was recycled before the open, the start time will not match.
Napi::Value PidfdOpen(const Napi::CallbackInfo &info) {
  int pid = info[0].As<Napi::Number>().Int32Value();
  int fd = (int)syscall(SYS_pidfd_open, pid, 0);
  if (fd < 0) {
    if (errno == ESRCH) return info.Env().Null();
    throw SysError(info.Env(), "parent.pidfd_open", errno);
  }
  fcntl(fd, F_SETFD, FD_CLOEXEC);
  return Napi::Number::New(info.Env(), fd);
}

// openPty(nonblock?) -> { master, slave }: the master stays with the CLI (or goes to a console
// socket), the child opens the slave.
Napi::Value OpenPty(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  int master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (master < 0) throw SysError(env, "parent.posix_openpt", errno);
  // Non-blocking, so that a write to a container that is not reading returns EAGAIN (the relay
  // queues the rest) instead of stopping Node's main thread. libuv's tty stream, which reads
  // the master, leaves a pty master in blocking mode.
  // Only for the relay: a master handed to a console socket keeps the flags its receiver
  // expects (O_NONBLOCK belongs to the open file, which SCM_RIGHTS shares).
  bool nonblock = info.Length() > 0 && info[0].IsBoolean() && info[0].As<Napi::Boolean>().Value();
  int fl = nonblock ? fcntl(master, F_GETFL) : 0;
  if (nonblock && (fl < 0 || fcntl(master, F_SETFL, fl | O_NONBLOCK) < 0)) {
    int e = errno;
    close(master);
    throw SysError(env, "parent.pty_nonblock", e);
  }
  char name[128];
  if (grantpt(master) < 0 || unlockpt(master) < 0 || ptsname_r(master, name, sizeof name) != 0) {
    int e = errno;
    close(master);
    throw SysError(env, "parent.ptsname", e);
  }
  Napi::Object o = Napi::Object::New(env);
  o.Set("master", master);
  o.Set("slave", name);
  return o;
}

// pipe() -> [read, write], both close-on-exec: a foreground container's stdout or stderr, which
// the CLI copies to its own and to the container's log (the child's dup2 clears the flag).
Napi::Value Pipe(const Napi::CallbackInfo &info) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) < 0) throw SysError(info.Env(), "parent.pipe", errno);
  Napi::Array a = Napi::Array::New(info.Env(), 2);
  a.Set(0u, fds[0]);
  a.Set(1u, fds[1]);
  return a;
}

Napi::Value SetWinsize(const Napi::CallbackInfo &info) {
  struct winsize ws;
  memset(&ws, 0, sizeof ws);
  int fd = info[0].As<Napi::Number>().Int32Value();
  ws.ws_row = (unsigned short)info[1].As<Napi::Number>().Uint32Value();
  ws.ws_col = (unsigned short)info[2].As<Napi::Number>().Uint32Value();
  if (ioctl(fd, TIOCSWINSZ, &ws) < 0) throw SysError(info.Env(), "parent.tiocswinsz", errno);
  return info.Env().Undefined();
}

// rawOutput(fd): clears OPOST on the terminal at fd, after Node's setRawMode(true). libuv's raw
// mode keeps ONLCR, so a container's pty output (already \r\n: the pty's own ONLCR) would reach
// the screen as \r\r\n and full-screen programs that move the cursor with \n would garble;
// docker makes the terminal fully raw (cfmakeraw). setRawMode(false) restores libuv's saved
// termios, OPOST included.
Napi::Value RawOutput(const Napi::CallbackInfo &info) {
  int fd = info[0].As<Napi::Number>().Int32Value();
  struct termios t;
  if (tcgetattr(fd, &t) < 0) throw SysError(info.Env(), "parent.tcgetattr", errno);
  t.c_oflag &= ~(tcflag_t)OPOST;
  if (tcsetattr(fd, TCSANOW, &t) < 0) throw SysError(info.Env(), "parent.tcsetattr", errno);
  return info.Env().Undefined();
}

// flock(fd[, nonBlocking]): the exclusive lock on fd's file; the kernel drops it if we die.
// Blocking, for short critical sections in the state store (name reservation); non-blocking
// (false when another holds it), for a lock held across awaits (a layer being downloaded),
// where a blocked event loop would stall the holder's own other work and can deadlock two
// processes that each hold one lock and wait for the other's.
Napi::Value Flock(const Napi::CallbackInfo &info) {
  int fd = info[0].As<Napi::Number>().Int32Value();
  bool nb = info.Length() > 1 && info[1].ToBoolean().Value();
  int rc;
  do rc = flock(fd, LOCK_EX | (nb ? LOCK_NB : 0)); while (rc < 0 && errno == EINTR);
  if (rc < 0 && nb && errno == EWOULDBLOCK) return Napi::Boolean::New(info.Env(), false);
  if (rc < 0) throw SysError(info.Env(), "state.flock", errno);
  return Napi::Boolean::New(info.Env(), true);
}

// sendFd(socketPath, fd, name): connects to a unix socket and passes `fd` with SCM_RIGHTS and
// `name` as the payload: the OCI --console-socket protocol, by which the caller (conmon,
// containerd-shim) receives a container's pty master. Node's net module cannot pass descriptors.
Napi::Value SendFd(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  std::string path = info[0].As<Napi::String>().Utf8Value();
  int fd = info[1].As<Napi::Number>().Int32Value();
  std::string name = info[2].As<Napi::String>().Utf8Value();
  struct sockaddr_un sa;
  memset(&sa, 0, sizeof sa);
  sa.sun_family = AF_UNIX;
  if (path.size() >= sizeof sa.sun_path) throw SysError(env, "parent.console_socket", ENAMETOOLONG, path.c_str());
  memcpy(sa.sun_path, path.c_str(), path.size());
  int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (s < 0) throw SysError(env, "parent.console_socket", errno, path.c_str());
  int rc;
  do rc = connect(s, (struct sockaddr *)&sa, sizeof sa); while (rc < 0 && errno == EINTR);
  if (rc < 0) {
    int e = errno;
    close(s);
    throw SysError(env, "parent.console_socket", e, path.c_str());
  }
  int r = send_fd(s, fd, name.data(), name.size());
  int e = errno;
  close(s);
  if (r < 0) throw SysError(env, "parent.console_socket", e, path.c_str());
  return env.Undefined();
}

// layerMark(root, rel, kind): overlayfs's form of an OCI whiteout in an unpacked layer
// (src/image/layer.ts). "whiteout": REL becomes a character device 0:0 (whatever the layer put
// there goes); "opaque": the directory REL gets user.overlay.opaque=y (minidock mounts its
// overlays with "userxattr": a container's overlay is mounted inside its user namespace, where
// trusted.* xattrs cannot be read, so a trusted marker would be ignored). Every component is
// opened below ROOT with O_NOFOLLOW, missing directories made: a symlink in the layer cannot
// steer the mark outside it (a layer is hostile input). Node has neither mknod nor setxattr.
Napi::Value LayerMark(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  std::string root = info[0].As<Napi::String>().Utf8Value();
  std::string rel = info[1].As<Napi::String>().Utf8Value();
  bool opaque = info[2].As<Napi::String>().Utf8Value() == "opaque";
  const char *step = opaque ? "image.layer.opaque" : "image.layer.whiteout";
  int dirfd = open(root.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (dirfd < 0) throw SysError(env, step, errno, root.c_str());
  std::vector<std::string> parts;
  size_t i = 0;
  while (i < rel.size()) {
    size_t j = rel.find('/', i);
    if (j == std::string::npos) j = rel.size();
    std::string c = rel.substr(i, j - i);
    if (c == "..") { close(dirfd); throw SysError(env, step, EINVAL, rel.c_str()); }
    if (!c.empty() && c != ".") parts.push_back(c);
    i = j + 1;
  }
  // The directories on the way (for opaque: the directory itself too).
  size_t walk = opaque ? parts.size() : (parts.empty() ? 0 : parts.size() - 1);
  if (!opaque && parts.empty()) { close(dirfd); throw SysError(env, step, EINVAL, rel.c_str()); }
  for (size_t k = 0; k < walk; k++) {
    int fd = openat(dirfd, parts[k].c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT && mkdirat(dirfd, parts[k].c_str(), 0755) == 0)
      fd = openat(dirfd, parts[k].c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    int e = errno;
    close(dirfd);
    if (fd < 0) throw SysError(env, step, e, rel.c_str());
    dirfd = fd;
  }
  int rc;
  if (opaque) {
    rc = fsetxattr(dirfd, "user.overlay.opaque", "y", 1, 0);
  } else {
    const char *name = parts.back().c_str();
    if (unlinkat(dirfd, name, 0) < 0 && errno == EISDIR) unlinkat(dirfd, name, AT_REMOVEDIR);
    rc = mknodat(dirfd, name, S_IFCHR | 0, makedev(0, 0));
  }
  int e = errno;
  close(dirfd);
  if (rc < 0) throw SysError(env, step, e, rel.c_str());
  return env.Undefined();
}

// isOpaque(path): whether overlay marked directory PATH opaque (its lower contents hidden), in
// either namespace: user.overlay.opaque (minidock's userxattr mounts) or trusted.overlay.opaque
// (a rootful overlay's). Read by `commit` and `diff` from a container's upper directory; a
// symlink is never followed (lgetxattr). Node has no getxattr.
Napi::Value IsOpaque(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  std::string path = info[0].As<Napi::String>().Utf8Value();
  for (const char *name : {"user.overlay.opaque", "trusted.overlay.opaque"}) {
    char v[4];
    ssize_t n = lgetxattr(path.c_str(), name, v, sizeof v);
    if (n == 1 && v[0] == 'y') return Napi::Boolean::New(env, true);
    if (n < 0 && errno != ENODATA && errno != ENOTSUP && errno != EPERM) throw SysError(env, "image.commit.xattr", errno, path.c_str());
  }
  return Napi::Boolean::New(env, false);
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("isOpaque", Napi::Function::New(env, IsOpaque));
  exports.Set("create", Napi::Function::New(env, Create));
  exports.Set("start", Napi::Function::New(env, Start));
  exports.Set("abort", Napi::Function::New(env, Abort));
  exports.Set("wait", Napi::Function::New(env, Wait));
  exports.Set("signal", Napi::Function::New(env, Signal));
  exports.Set("openPty", Napi::Function::New(env, OpenPty));
  exports.Set("pipe", Napi::Function::New(env, Pipe));
  exports.Set("setWinsize", Napi::Function::New(env, SetWinsize));
  exports.Set("rawOutput", Napi::Function::New(env, RawOutput));
  exports.Set("pidfdOpen", Napi::Function::New(env, PidfdOpen));
  exports.Set("pidfdWait", Napi::Function::New(env, PidfdWait));
  exports.Set("flock", Napi::Function::New(env, Flock));
  exports.Set("sendFd", Napi::Function::New(env, SendFd));
  exports.Set("layerMark", Napi::Function::New(env, LayerMark));
  // The OCI lifecycle (plan key exec_fifo: the child waits set up before execve) is built in;
  // 2: with the OCI process keys too (rlimit, cap_bounding..cap_ambient, seccomp_prog, umask,
  // oom_score_adj, domainname).
  exports.Set("ociLifecycle", Napi::Number::New(env, 2));
  return exports;
}

}  // namespace

NODE_API_MODULE(minidock, Init)
