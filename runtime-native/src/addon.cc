// The Node addon: seals the helper into a memfd, spawns it for each container
// (never forking Node itself), and reports its messages from a watcher thread
// through a ThreadSafeFunction. This is the only file that knows Napi types.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include <napi.h>

#include "channel.h"
#include "common.h"

namespace tsb {
namespace {

struct Message {
  std::string json;
  int fd;
};

struct Run {
  int sock = -1;
  int pidfd = -1;
  pid_t pid = 0;
  Napi::ThreadSafeFunction tsfn;
};

std::mutex g_mutex;
std::map<uint32_t, std::shared_ptr<Run>> g_runs;
uint32_t g_next_id = 1;
int g_helper_fd = -1;

Napi::Value ThrowErrno(Napi::Env env, int err, const char* syscall, const std::string& what) {
  Napi::Error e = Napi::Error::New(env, what + ": " + strerror(err));
  e.Set("errno", Napi::Number::New(env, err));
  e.Set("syscall", Napi::String::New(env, syscall));
  e.ThrowAsJavaScriptException();
  return env.Undefined();
}

Napi::Value ThrowType(Napi::Env env, const char* msg) {
  Napi::TypeError::New(env, msg).ThrowAsJavaScriptException();
  return env.Undefined();
}

// sealHelper(path): copies the helper into a sealed memfd once, so that the
// binary a container could reach through /proc/<pid>/exe can't be rewritten (CVE-2019-5736).
Napi::Value SealHelper(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsString()) return ThrowType(env, "Usage: sealHelper(path: string)");
  std::lock_guard<std::mutex> lock(g_mutex);
  if (g_helper_fd >= 0) return Napi::Number::New(env, g_helper_fd);
  std::string path = info[0].As<Napi::String>().Utf8Value();
  UniqueFd src(open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!src.valid()) return ThrowErrno(env, errno, "open", "open " + path);
  struct stat st;
  if (fstat(src.get(), &st) < 0) return ThrowErrno(env, errno, "fstat", "stat " + path);
  UniqueFd mem(memfd_create("tsbuild-init", MFD_CLOEXEC | MFD_ALLOW_SEALING));
  if (!mem.valid()) return ThrowErrno(env, errno, "memfd_create", "memfd_create");
  off_t left = st.st_size;
  while (left > 0) {
    ssize_t n = sendfile(mem.get(), src.get(), nullptr, static_cast<size_t>(left));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return ThrowErrno(env, n < 0 ? errno : EIO, "sendfile", "copy " + path);
    left -= n;
  }
  if (fchmod(mem.get(), 0555) < 0) return ThrowErrno(env, errno, "fchmod", "fchmod the helper");
  if (fcntl(mem.get(), F_ADD_SEALS, F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE) < 0) {
    return ThrowErrno(env, errno, "fcntl", "seal the helper");
  }
  g_helper_fd = mem.release();
  return Napi::Number::New(env, g_helper_fd);
}

void CallJs(Napi::Env env, Napi::Function callback, std::nullptr_t*, Message* msg) {
  if (env != nullptr && callback != nullptr) {
    callback.Call({Napi::String::New(env, msg->json), Napi::Number::New(env, msg->fd)});
  } else if (msg->fd >= 0) {
    close(msg->fd);
  }
  delete msg;
}

using Tsfn = Napi::TypedThreadSafeFunction<std::nullptr_t, Message, CallJs>;

struct Watch {
  int sock;
  int pidfd;
  uint32_t id;
  Tsfn tsfn;
};

void WatchHelper(Watch w) {
  bool sock_open = true;
  for (;;) {
    struct pollfd fds[2] = {{sock_open ? w.sock : -1, POLLIN, 0}, {w.pidfd, POLLIN, 0}};
    int r = poll(fds, 2, -1);
    if (r < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (fds[0].revents != 0) {
      std::string payload;
      int fd = -1;
      int got = RecvFrame(w.sock, &payload, &fd);
      if (got == 1) {
        w.tsfn.BlockingCall(new Message{std::move(payload), fd});
        continue;
      }
      if (fd >= 0) close(fd);
      sock_open = false;
    }
    // The helper has exited: finish once everything it wrote has been read.
    if (fds[1].revents != 0 && !sock_open) break;
    if (fds[1].revents != 0) {
      // Drain what is left without blocking, then stop.
      fcntl(w.sock, F_SETFL, O_NONBLOCK);
      for (;;) {
        std::string payload;
        int fd = -1;
        if (RecvFrame(w.sock, &payload, &fd) != 1) {
          if (fd >= 0) close(fd);
          break;
        }
        w.tsfn.BlockingCall(new Message{std::move(payload), fd});
      }
      break;
    }
  }
  siginfo_t si = {};
  int code = -1;
  int sig = 0;
  if (syscall(SYS_waitid, P_PIDFD, w.pidfd, &si, WEXITED, nullptr) == 0) {
    if (si.si_code == CLD_EXITED) {
      code = si.si_status;
    } else {
      sig = si.si_status;
    }
  }
  {
    std::lock_guard<std::mutex> lock(g_mutex);
    g_runs.erase(w.id);
    close(w.sock);
    close(w.pidfd);
  }
  w.tsfn.BlockingCall(new Message{
      "{\"type\":\"helper-exit\",\"code\":" + std::to_string(code) + ",\"signal\":" + std::to_string(sig) + "}", -1});
  w.tsfn.Release();
}

// spawn(spec: string, stdio: [in, out, err], onMessage: (json, fd) => void): {pid, id}
Napi::Value Spawn(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 3 || !info[0].IsString() || !info[1].IsArray() || !info[2].IsFunction()) {
    return ThrowType(env, "Usage: spawn(spec: string, stdio: number[3], onMessage: function)");
  }
  int helper;
  {
    std::lock_guard<std::mutex> lock(g_mutex);
    helper = g_helper_fd;
  }
  if (helper < 0) return ThrowType(env, "sealHelper must be called before spawn");
  std::string spec = info[0].As<Napi::String>().Utf8Value();
  Napi::Array stdio = info[1].As<Napi::Array>();
  if (stdio.Length() != 3) return ThrowType(env, "stdio must have three fds");

  // Copy each source above the target range first, so that no dup2 overwrites another's source.
  UniqueFd sources[3];
  for (uint32_t i = 0; i < 3; i++) {
    Napi::Value v = stdio.Get(i);
    if (!v.IsNumber()) return ThrowType(env, "stdio entries must be fds");
    int fd = v.As<Napi::Number>().Int32Value();
    sources[i].reset(fcntl(fd, F_DUPFD_CLOEXEC, 10));
    if (!sources[i].valid()) return ThrowErrno(env, errno, "fcntl", "dup stdio fd " + std::to_string(fd));
  }
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) return ThrowErrno(env, errno, "socketpair", "socketpair");
  UniqueFd parent_end(sv[0]);
  UniqueFd child_end(sv[1]);

  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  for (int i = 0; i < 3; i++) posix_spawn_file_actions_adddup2(&fa, sources[i].get(), i);
  posix_spawn_file_actions_adddup2(&fa, child_end.get(), 3);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none, all;
  sigemptyset(&none);
  sigfillset(&all);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &all);
  posix_spawnattr_setpgroup(&attr, 0);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP);
  std::string path = "/proc/self/fd/" + std::to_string(helper);
  char arg0[] = "tsbuild-init";
  char* argv[] = {arg0, nullptr};
  char env0[] = "PATH=/usr/sbin:/usr/bin:/sbin:/bin";
  char* envp[] = {env0, nullptr};
  pid_t pid;
  int r = posix_spawn(&pid, path.c_str(), &fa, &attr, argv, envp);
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&attr);
  if (r != 0) return ThrowErrno(env, r, "posix_spawn", "start the runtime helper");
  child_end.reset();
  for (auto& s : sources) s.reset();

  UniqueFd pidfd(static_cast<int>(syscall(SYS_pidfd_open, pid, 0)));
  if (!pidfd.valid()) {
    int err = errno;
    kill(pid, SIGKILL);
    waitpid(pid, nullptr, 0);
    return ThrowErrno(env, err, "pidfd_open", "watch the runtime helper");
  }
  if (!SendFrame(parent_end.get(), spec)) {
    int err = errno;
    kill(pid, SIGKILL);
    waitpid(pid, nullptr, 0);
    return ThrowErrno(env, err, "sendmsg", "send the run spec to the helper");
  }
  Tsfn tsfn = Tsfn::New(env, info[2].As<Napi::Function>(), "tsbuild-runtime-watch", 0, 1);
  uint32_t id;
  {
    std::lock_guard<std::mutex> lock(g_mutex);
    id = g_next_id++;
    auto run = std::make_shared<Run>();
    run->sock = parent_end.get();
    run->pidfd = pidfd.get();
    run->pid = pid;
    g_runs[id] = run;
  }
  std::thread(WatchHelper, Watch{parent_end.release(), pidfd.release(), id, tsfn}).detach();
  Napi::Object out = Napi::Object::New(env);
  out.Set("pid", Napi::Number::New(env, pid));
  out.Set("id", Napi::Number::New(env, id));
  return out;
}

// send(id, json): a control message to a running helper ({"signal": n}). False once it has exited.
Napi::Value Send(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsNumber() || !info[1].IsString()) {
    return ThrowType(env, "Usage: send(id: number, json: string)");
  }
  uint32_t id = info[0].As<Napi::Number>().Uint32Value();
  std::string msg = info[1].As<Napi::String>().Utf8Value();
  std::lock_guard<std::mutex> lock(g_mutex);
  auto it = g_runs.find(id);
  if (it == g_runs.end()) return Napi::Boolean::New(env, false);
  return Napi::Boolean::New(env, SendFrame(it->second->sock, msg));
}

// pipe(): [readFd, writeFd], both close-on-exec.
Napi::Value Pipe(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) < 0) return ThrowErrno(env, errno, "pipe2", "pipe");
  Napi::Array out = Napi::Array::New(env, 2);
  out.Set(uint32_t{0}, Napi::Number::New(env, fds[0]));
  out.Set(uint32_t{1}, Napi::Number::New(env, fds[1]));
  return out;
}

// setWindowSize(fd, rows, cols) on a pty master.
Napi::Value SetWindowSize(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 3 || !info[0].IsNumber() || !info[1].IsNumber() || !info[2].IsNumber()) {
    return ThrowType(env, "Usage: setWindowSize(fd: number, rows: number, cols: number)");
  }
  struct winsize ws = {};
  ws.ws_row = static_cast<uint16_t>(info[1].As<Napi::Number>().Uint32Value());
  ws.ws_col = static_cast<uint16_t>(info[2].As<Napi::Number>().Uint32Value());
  if (ioctl(info[0].As<Napi::Number>().Int32Value(), TIOCSWINSZ, &ws) < 0) {
    return ThrowErrno(env, errno, "ioctl", "set the window size");
  }
  return env.Undefined();
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("sealHelper", Napi::Function::New(env, SealHelper));
  exports.Set("spawn", Napi::Function::New(env, Spawn));
  exports.Set("send", Napi::Function::New(env, Send));
  exports.Set("pipe", Napi::Function::New(env, Pipe));
  exports.Set("setWindowSize", Napi::Function::New(env, SetWindowSize));
  return exports;
}

}  // namespace
}  // namespace tsb

static Napi::Object InitModule(Napi::Env env, Napi::Object exports) { return tsb::Init(env, exports); }

NODE_API_MODULE(tsbuild_native, InitModule)
