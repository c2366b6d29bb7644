// tsbuild-init: the helper the addon spawns for each container. It reads the
// RunSpec from fd 3, creates the cgroup, clones the container with its
// namespaces, writes the id maps, then watches it: it forwards signals, relays
// the pty, reports set-up errors and the exit status, and removes the cgroup.
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "../channel.h"
#include "../json.h"
#include "../spec.h"
#include "cgroup.h"
#include "container.h"

extern char** environ;

namespace tsb {
namespace {

constexpr int kControl = 3;
constexpr uint64_t kCloneIntoCgroup = 0x200000000ULL;

// struct clone_args (linux/sched.h, CLONE_ARGS_SIZE_VER2), spelled out to keep <sched.h> usable.
struct CloneArgs {
  uint64_t flags;
  uint64_t pidfd;
  uint64_t child_tid;
  uint64_t parent_tid;
  uint64_t exit_signal;
  uint64_t stack;
  uint64_t stack_size;
  uint64_t tls;
  uint64_t set_tid;
  uint64_t set_tid_size;
  uint64_t cgroup;
};

std::string ErrorJson(const Error& e) {
  return "{\"type\":\"error\",\"step\":" + JsonQuote(e.step) + ",\"syscall\":" + JsonQuote(e.syscall) +
         ",\"errno\":" + std::to_string(e.err) + ",\"message\":" + JsonQuote(e.msg) + "}";
}

int Report(const Error& e) {
  SendFrame(kControl, ErrorJson(e));
  return 125;
}

Status RunTool(const std::string& tool, pid_t pid, const std::vector<IdMapEntry>& map) {
  std::vector<std::string> args = {tool, std::to_string(pid)};
  for (const IdMapEntry& e : map) {
    args.push_back(std::to_string(e.container));
    args.push_back(std::to_string(e.host));
    args.push_back(std::to_string(e.size));
  }
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(&a[0]);
  argv.push_back(nullptr);
  int out[2];
  if (pipe2(out, O_CLOEXEC) < 0) return Errno("user namespace", "pipe");
  UniqueFd rd(out[0]), wr(out[1]);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, wr.get(), 1);
  posix_spawn_file_actions_adddup2(&fa, wr.get(), 2);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none;
  sigemptyset(&none);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK);
  pid_t child;
  int r = posix_spawn(&child, tool.c_str(), &fa, &attr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&attr);
  if (r != 0) return Fail(r, "user namespace", "run " + tool);
  wr.reset();
  std::string output;
  char buf[512];
  ssize_t n;
  while ((n = read(rd.get(), buf, sizeof(buf))) > 0) output.append(buf, static_cast<size_t>(n));
  int status = 0;
  while (waitpid(child, &status, 0) < 0 && errno == EINTR) {
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    while (!output.empty() && (output.back() == '\n' || output.back() == ' ')) output.pop_back();
    return Fail(EPERM, "user namespace", tool + " failed: " + output);
  }
  return Status();
}

Status WriteProcFile(pid_t pid, const char* name, const std::string& content) {
  std::string path = "/proc/" + std::to_string(pid) + "/" + name;
  UniqueFd fd(open(path.c_str(), O_WRONLY | O_CLOEXEC));
  if (!fd.valid()) return Errno("user namespace", "open " + path);
  if (write(fd.get(), content.data(), content.size()) < 0) return Errno("user namespace", "write " + path);
  return Status();
}

std::string MapText(const std::vector<IdMapEntry>& map) {
  std::string out;
  for (const IdMapEntry& e : map) {
    out += std::to_string(e.container) + " " + std::to_string(e.host) + " " + std::to_string(e.size) + "\n";
  }
  return out;
}

Status WriteIdMaps(const Spec& spec, pid_t pid) {
  if (!spec.newuidmap.empty()) {
    TSB_TRY(RunTool(spec.newuidmap, pid, spec.uid_map));
    return RunTool(spec.newgidmap, pid, spec.gid_map);
  }
  // Without the setuid tools an unprivileged process may map only itself, and must deny setgroups.
  if (geteuid() != 0) TSB_TRY(WriteProcFile(pid, "setgroups", "deny"));
  TSB_TRY(WriteProcFile(pid, "uid_map", MapText(spec.uid_map)));
  return WriteProcFile(pid, "gid_map", MapText(spec.gid_map));
}

// A datagram from the container: a set-up error (the first one wins) or the mount points it made.
void HandleContainerMessage(const std::string& msg, std::string* error, std::string* stubs) {
  Json j;
  std::string err;
  if (Json::Parse(msg, &j, &err) && j.Get("type") != nullptr && j.Get("type")->is_string() &&
      j.Get("type")->string() == "stubs") {
    const Json* paths = j.Get("paths");
    if (paths != nullptr && paths->is_array()) {
      std::string out = "[";
      for (const Json& p : paths->array()) {
        if (!p.is_string()) continue;
        out += (out.size() > 1 ? "," : "") + JsonQuote(p.string());
      }
      *stubs = out + "]";
    }
    return;
  }
  if (error->empty()) *error = msg;
}

int Monitor(Spec spec) {
  sigset_t watched;
  sigemptyset(&watched);
  for (int sig : {SIGCHLD, SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH, SIGALRM}) {
    sigaddset(&watched, sig);
  }
  sigprocmask(SIG_BLOCK, &watched, nullptr);
  signal(SIGPIPE, SIG_IGN);

  Cgroup cgroup;
  if (spec.cgroup.enabled) {
    auto cg = Cgroup::Create(spec.cgroup);
    if (!cg.ok()) return Report(cg.error());
    cgroup = std::move(cg.value());
  }
  if (!cgroup.limits_devices() && !spec.ns_user) {
    // Nothing stops a mknod'ed node from being opened without a device cgroup: no CAP_MKNOD then.
    spec.cap_bounding &= ~(uint64_t{1} << 27);
    spec.cap_effective &= ~(uint64_t{1} << 27);
  }
  int sync[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sync) < 0) {
    cgroup.Destroy();
    return Report(Errno("start", "socketpair"));
  }
  uint64_t flags = CLONE_NEWNS;
  if (spec.ns_pid) flags |= CLONE_NEWPID;
  if (spec.ns_uts) flags |= CLONE_NEWUTS;
  if (spec.ns_ipc) flags |= CLONE_NEWIPC;
  if (spec.ns_net) flags |= CLONE_NEWNET;
  if (spec.ns_user) flags |= CLONE_NEWUSER;
  // Moving another process into a cgroup takes the global cgroup threadgroup lock and, after a quiet
  // spell, waits ~10-20 ms for RCU. So the child is born in its cgroup2 directory (clone3
  // CLONE_INTO_CGROUP: v2's, or the unified one of a hybrid host), and on v1 it moves itself, a single
  // thread writing "0" to each `tasks` file, which needs no such lock. In a user namespace (the maps come
  // first) or where these fail (an old kernel), the helper migrates it.
  bool joined_unified = false;
  std::vector<UniqueFd> v1_tasks;
  if (!cgroup.empty() && cgroup.version() == 1 && !spec.ns_user) {
    auto tasks = cgroup.OpenV1Tasks();
    if (tasks.ok()) v1_tasks = std::move(tasks.value());
  }
  pid_t pid = -1;
  std::string cgroup2 = cgroup.empty() ? std::string() : cgroup.Cgroup2Dir();
  if (!cgroup2.empty()) {
    UniqueFd dir(open(cgroup2.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (dir.valid()) {
      CloneArgs args = {};
      args.flags = flags | kCloneIntoCgroup;
      args.exit_signal = SIGCHLD;
      args.cgroup = static_cast<uint64_t>(dir.get());
      pid = static_cast<pid_t>(syscall(SYS_clone3, &args, sizeof(args)));
      joined_unified = pid >= 0;  // else (an old kernel) clone and migrate below
    }
  }
  if (pid < 0) pid = static_cast<pid_t>(syscall(SYS_clone, flags | SIGCHLD, nullptr, nullptr, nullptr, nullptr));
  if (pid < 0) {
    Error e = SysErr("clone", "clone", "clone with the namespace flags");
    cgroup.Destroy();
    return Report(e);
  }
  if (pid == 0) {
    close(sync[0]);
    close(kControl);
    std::vector<int> tasks;
    for (const UniqueFd& fd : v1_tasks) tasks.push_back(fd.get());
    ContainerMain(spec, cgroup, sync[1], tasks);
  }
  close(sync[1]);
  bool self_joined = !v1_tasks.empty();
  v1_tasks.clear();
  UniqueFd sync_fd(sync[0]);

  std::string error;
  std::string start_error;  // the helper's own start failure: a set-up error the container reported wins
  std::string stubs = "[]";
  Status s;
  if (spec.ns_user) s = WriteIdMaps(spec, pid);
  if (s.ok() && !cgroup.empty()) {
    if (cgroup.version() == 2) {
      if (!joined_unified) s = cgroup.Join(pid);
    } else if (!self_joined || !joined_unified) {
      s = cgroup.Join(pid, self_joined ? Cgroup::Which::kUnified
                                       : (joined_unified ? Cgroup::Which::kV1 : Cgroup::Which::kAll));
    }
  }
  if (s.ok() && !SendPacket(sync_fd.get(), "go")) s = Errno("start", "start the container");
  if (!s.ok()) {
    // The container may have failed first (it sets up while the cgroup is joined): its report comes below.
    kill(pid, SIGKILL);
    start_error = ErrorJson(s.error());
  } else {
    std::string started = "{\"type\":\"started\",\"pid\":" + std::to_string(pid) +
                          ",\"cgroup\":" + (cgroup.empty() ? std::string("null") : cgroup.Describe()) + "}";
    SendFrame(kControl, started);
  }

  UniqueFd sigfd(signalfd(-1, &watched, SFD_CLOEXEC));
  bool control_open = true;
  bool sync_open = true;
  int status = 0;
  bool exited = false;
  while (!exited) {
    struct pollfd fds[3] = {{sigfd.get(), POLLIN, 0},
                            {sync_open ? sync_fd.get() : -1, POLLIN, 0},
                            {control_open ? kControl : -1, POLLIN, 0}};
    if (poll(fds, 3, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (fds[1].revents != 0) {
      std::string msg;
      int fd = -1;
      int r = RecvPacket(sync_fd.get(), &msg, &fd);
      if (r <= 0) {
        sync_open = false;
      } else if (fd >= 0) {
        if (control_open) SendFrame(kControl, msg, fd);
        close(fd);
      } else {
        HandleContainerMessage(msg, &error, &stubs);
      }
    }
    if (fds[2].revents != 0) {
      std::string msg;
      int fd = -1;
      int r = RecvFrame(kControl, &msg, &fd);
      if (fd >= 0) close(fd);
      if (r <= 0) {
        // The caller is gone: nothing may outlive it.
        control_open = false;
        kill(pid, SIGKILL);
      } else {
        Json j;
        std::string err;
        if (Json::Parse(msg, &j, &err) && j.Get("signal") != nullptr && j.Get("signal")->is_number()) {
          kill(pid, static_cast<int>(j.Get("signal")->integer()));
        }
      }
    }
    if (fds[0].revents != 0) {
      struct signalfd_siginfo si;
      while (read(sigfd.get(), &si, sizeof(si)) == static_cast<ssize_t>(sizeof(si))) {
        if (si.ssi_signo != SIGCHLD) {
          kill(pid, static_cast<int>(si.ssi_signo));
          continue;
        }
        pid_t p;
        int st;
        while ((p = waitpid(-1, &st, WNOHANG)) > 0) {
          if (p == pid) {
            status = st;
            exited = true;
          }
        }
        if (exited) break;
      }
    }
  }
  // Set-up errors sent just before the child exited.
  if (sync_open) {
    std::string msg;
    int fd = -1;
    fcntl(sync_fd.get(), F_SETFL, O_NONBLOCK);
    while (RecvPacket(sync_fd.get(), &msg, &fd) > 0) {
      if (fd >= 0) {
        close(fd);
        fd = -1;
      } else {
        HandleContainerMessage(msg, &error, &stubs);
      }
    }
  }
  if (error.empty()) error = start_error;
  bool oom = !cgroup.empty() && cgroup.OomKilled();
  Status cleaned = cgroup.Destroy();
  if (!control_open) return 125;
  if (!error.empty()) {
    if (error.size() > 1 && error.back() == '}') error.insert(error.size() - 1, ",\"mountStubs\":" + stubs);
    SendFrame(kControl, error);
    return 125;
  }
  if (!cleaned.ok()) {
    SendFrame(kControl, ErrorJson(cleaned.error()));
    return 125;
  }
  int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  int sig = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
  SendFrame(kControl, "{\"type\":\"exit\",\"exitCode\":" + std::to_string(code) + ",\"signal\":" + std::to_string(sig) +
                          ",\"oomKilled\":" + (oom ? "true" : "false") + ",\"mountStubs\":" + stubs + "}");
  return 0;
}

}  // namespace
}  // namespace tsb

int main() {
  prctl(PR_SET_NAME, "tsbuild-init", 0, 0, 0);
  std::string text;
  int fd = -1;
  if (tsb::RecvFrame(tsb::kControl, &text, &fd) != 1) return 125;
  if (fd >= 0) close(fd);
  tsb::Spec spec;
  tsb::Status s = tsb::ParseSpec(text, &spec);
  if (!s.ok()) return tsb::Report(s.error());
  return tsb::Monitor(std::move(spec));
}
