#include "cgroup.h"

#include <fcntl.h>
#include <linux/magic.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <time.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>

#include "../json.h"

namespace tsb {
namespace {

constexpr const char* kRoot = "/sys/fs/cgroup";
constexpr const char* kStep = "cgroup";

bool ReadFile(const std::string& path, std::string* out) {
  UniqueFd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return false;
  out->clear();
  char buf[4096];
  for (;;) {
    ssize_t n = read(fd.get(), buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return false;
    if (n == 0) return true;
    out->append(buf, static_cast<size_t>(n));
  }
}

Status WriteFile(const std::string& path, const std::string& value) {
  UniqueFd fd(open(path.c_str(), O_WRONLY | O_CLOEXEC));
  if (!fd.valid()) return SysErr("open", kStep, "open " + path);
  if (!WriteAll(fd.get(), value.data(), value.size())) return SysErr("write", kStep, "write " + value + " to " + path);
  return Status();
}

bool Exists(const std::string& path) { return access(path.c_str(), F_OK) == 0; }

std::vector<std::string> Split(const std::string& s, char sep) {
  std::vector<std::string> out;
  size_t start = 0;
  for (size_t i = 0; i <= s.size(); i++) {
    if (i == s.size() || s[i] == sep) {
      out.push_back(s.substr(start, i - start));
      start = i + 1;
    }
  }
  return out;
}

// This process's cgroup path for a v1 controller ("memory") or for v2 (""), from /proc/self/cgroup.
std::string OwnPath(const std::string& controller) {
  std::string text;
  if (!ReadFile("/proc/self/cgroup", &text)) return "/";
  for (const std::string& line : Split(text, '\n')) {
    size_t a = line.find(':');
    size_t b = a == std::string::npos ? a : line.find(':', a + 1);
    if (b == std::string::npos) continue;
    std::string ctrls = line.substr(a + 1, b - a - 1);
    std::string path = line.substr(b + 1);
    if (controller.empty()) {
      if (line.compare(0, a, "0") == 0 && ctrls.empty()) return path;
      continue;
    }
    for (const std::string& c : Split(ctrls, ',')) {
      if (c == controller) return path;
    }
  }
  return "/";
}

struct V1Mount {
  std::string root;
  std::string mountpoint;
};

// Where the v1 hierarchy holding controller is mounted (from /proc/self/mountinfo).
bool FindV1Mount(const std::string& controller, V1Mount* out) {
  std::string text;
  if (!ReadFile("/proc/self/mountinfo", &text)) return false;
  for (const std::string& line : Split(text, '\n')) {
    size_t dash = line.find(" - ");
    if (dash == std::string::npos) continue;
    std::vector<std::string> left = Split(line.substr(0, dash), ' ');
    std::vector<std::string> right = Split(line.substr(dash + 3), ' ');
    if (left.size() < 5 || right.size() < 3 || right[0] != "cgroup") continue;
    for (const std::string& opt : Split(right[2], ',')) {
      if (opt == controller) {
        out->root = left[3];
        out->mountpoint = left[4];
        return true;
      }
    }
  }
  return false;
}

std::string Under(const std::string& mountpoint, const std::string& root, const std::string& own) {
  std::string rel = own;
  if (root != "/" && rel.compare(0, root.size(), root) == 0) rel = rel.substr(root.size());
  std::string out = mountpoint;
  if (!rel.empty() && rel != "/") out += rel;
  return out;
}

std::string Num(int64_t v) { return std::to_string(v); }

void SleepMs(int ms) {
  struct timespec ts = {0, ms * 1000000L};
  nanosleep(&ts, nullptr);
}

int64_t ReadCounter(const std::string& path, const char* key) {
  std::string text;
  if (!ReadFile(path, &text)) return -1;
  for (const std::string& line : Split(text, '\n')) {
    size_t sp = line.find(' ');
    if (sp != std::string::npos && line.compare(0, sp, key) == 0) return strtoll(line.c_str() + sp + 1, nullptr, 10);
  }
  return -1;
}

}  // namespace

std::string Cgroup::Dir(const char* role) const {
  for (const auto& d : dirs_) {
    if (d.first == role) return d.second;
  }
  return std::string();
}

Result<Cgroup> Cgroup::Create(const CgroupSpec& spec) {
  Cgroup cg;
  struct statfs st;
  if (statfs(kRoot, &st) < 0) return Errno(kStep, "statfs /sys/fs/cgroup");
  // Remove what was made so far if a later write fails.
  struct Cleanup {
    Cgroup* cg;
    bool armed = true;
    ~Cleanup() {
      if (armed) cg->Destroy();
    }
  } cleanup{&cg};

  if (st.f_type == CGROUP2_SUPER_MAGIC) {
    cg.version_ = 2;
    std::string own = OwnPath("");
    // Processes live only in leaves: put the container beside this process's cgroup, not under it.
    std::string parent_rel = own;
    if (parent_rel != "/") {
      size_t slash = parent_rel.rfind('/');
      parent_rel = slash == 0 ? "/" : parent_rel.substr(0, slash);
    }
    std::string parent = std::string(kRoot) + (parent_rel == "/" ? "" : parent_rel);
    if (spec.has_limits()) {
      for (const char* c : {"+memory", "+cpu", "+pids"}) {
        std::string available;
        ReadFile(parent + "/cgroup.controllers", &available);
        if (available.find(c + 1) == std::string::npos) continue;
        WriteFile(parent + "/cgroup.subtree_control", c);
      }
    }
    std::string dir = parent + "/" + spec.name;
    if (mkdir(dir.c_str(), 0755) < 0) return SysErr("mkdir", kStep, "mkdir " + dir);
    cg.dirs_.emplace_back("unified", dir);
    std::string enabled;
    ReadFile(dir + "/cgroup.controllers", &enabled);
    const struct {
      const char* name;
      bool wanted;
    } needs[] = {{"memory", spec.memory >= 0}, {"cpu", spec.cpu_quota >= 0}, {"pids", spec.pids >= 0}};
    for (const auto& n : needs) {
      bool found = false;
      for (const std::string& c : Split(enabled.substr(0, enabled.find('\n')), ' ')) found = found || c == n.name;
      if (n.wanted && !found) {
        return Fail(ENOTSUP, kStep, Format("the %s controller is not enabled in cgroup v2 for %s", n.name, dir.c_str()));
      }
    }
    if (spec.memory >= 0) {
      TSB_TRY(WriteFile(dir + "/memory.max", Num(spec.memory)));
      if (Exists(dir + "/memory.swap.max")) {
        std::string swap = spec.memory_swap >= 0 ? Num(spec.memory_swap - spec.memory) : "max";
        TSB_TRY(WriteFile(dir + "/memory.swap.max", swap));
      }
    }
    if (spec.cpu_quota >= 0) TSB_TRY(WriteFile(dir + "/cpu.max", Num(spec.cpu_quota) + " " + Num(spec.cpu_period)));
    if (spec.pids >= 0) TSB_TRY(WriteFile(dir + "/pids.max", Num(spec.pids)));
    cleanup.armed = false;
    return cg;
  }

  if (st.f_type != TMPFS_MAGIC) return Fail(ENOTSUP, kStep, "/sys/fs/cgroup is neither cgroup2 nor a v1 tmpfs");
  cg.version_ = 1;
  const char* controllers[] = {"memory", "cpu", "cpuacct", "pids", "devices"};
  for (const char* c : controllers) {
    V1Mount m;
    if (!FindV1Mount(c, &m)) {
      bool needed = (strcmp(c, "memory") == 0 && spec.memory >= 0) || (strcmp(c, "cpu") == 0 && spec.cpu_quota >= 0) ||
                    (strcmp(c, "pids") == 0 && spec.pids >= 0);
      if (needed) return Fail(ENOENT, kStep, Format("the %s cgroup controller is not mounted", c));
      continue;
    }
    std::string dir = Under(m.mountpoint, m.root, OwnPath(c)) + "/" + spec.name;
    bool shared = false;
    for (const auto& d : cg.dirs_) shared = shared || d.second == dir;
    if (!shared && mkdir(dir.c_str(), 0755) < 0) return SysErr("mkdir", kStep, "mkdir " + dir);
    cg.dirs_.emplace_back(c, dir);
  }
  struct statfs ust;
  std::string unified = std::string(kRoot) + "/unified";
  if (statfs(unified.c_str(), &ust) == 0 && ust.f_type == CGROUP2_SUPER_MAGIC) {
    std::string own = OwnPath("");
    std::string dir = unified + (own == "/" ? "" : own) + "/" + spec.name;
    if (mkdir(dir.c_str(), 0755) < 0) return SysErr("mkdir", kStep, "mkdir " + dir);
    cg.dirs_.emplace_back("unified", dir);
  }
  if (spec.memory >= 0) {
    std::string dir = cg.Dir("memory");
    TSB_TRY(WriteFile(dir + "/memory.limit_in_bytes", Num(spec.memory)));
    if (spec.memory_swap >= 0 && Exists(dir + "/memory.memsw.limit_in_bytes")) {
      TSB_TRY(WriteFile(dir + "/memory.memsw.limit_in_bytes", Num(spec.memory_swap)));
    }
  }
  if (spec.cpu_quota >= 0) {
    std::string dir = cg.Dir("cpu");
    TSB_TRY(WriteFile(dir + "/cpu.cfs_period_us", Num(spec.cpu_period)));
    TSB_TRY(WriteFile(dir + "/cpu.cfs_quota_us", Num(spec.cpu_quota)));
  }
  if (spec.pids >= 0) TSB_TRY(WriteFile(cg.Dir("pids") + "/pids.max", Num(spec.pids)));
  std::string devices = cg.Dir("devices");
  if (!devices.empty()) {
    // Docker's allow-list: mknod of anything, but open only of the default nodes and ptys.
    TSB_TRY(WriteFile(devices + "/devices.deny", "a"));
    for (const char* rule : {"c *:* m", "b *:* m", "c 1:3 rwm", "c 1:5 rwm", "c 1:7 rwm", "c 1:8 rwm", "c 1:9 rwm",
                             "c 5:0 rwm", "c 5:1 rwm", "c 5:2 rwm", "c 136:* rwm"}) {
      TSB_TRY(WriteFile(devices + "/devices.allow", rule));
    }
    cg.devices_ = true;
  }
  cleanup.armed = false;
  return cg;
}

std::vector<std::pair<std::string, std::string>> Cgroup::V1View() const {
  std::vector<std::pair<std::string, std::string>> view;
  std::string text;
  if (version_ != 1 || !ReadFile("/proc/self/mountinfo", &text)) return dirs_;
  const std::string prefix = std::string(kRoot) + "/";
  for (const std::string& line : Split(text, '\n')) {
    size_t dash = line.find(" - ");
    if (dash == std::string::npos) continue;
    std::vector<std::string> left = Split(line.substr(0, dash), ' ');
    std::vector<std::string> right = Split(line.substr(dash + 3), ' ');
    if (left.size() < 5 || right.size() < 3) continue;
    const std::string& mountpoint = left[4];
    if (mountpoint.compare(0, prefix.size(), prefix) != 0) continue;
    std::string name = mountpoint.substr(prefix.size());
    if (name.empty() || name.find('/') != std::string::npos) continue;
    bool seen = false;
    for (const auto& v : view) seen = seen || v.first == name;
    if (seen) continue;
    // runc mounts only the v1 hierarchies: a hybrid host's cgroup2 (unified) stays out of sight.
    if (right[0] != "cgroup") continue;
    std::string dir;
    std::string first;  // the hierarchy's first controller (or name=…), to find this process's place in it
    for (const std::string& opt : Split(right[2], ',')) {
      if (opt == "rw" || opt == "ro" || opt.compare(0, 13, "release_agent") == 0 || opt == "clone_children" ||
          opt == "noprefix" || opt == "xattr" || opt == "cpuset_v2_mode") {
        continue;
      }
      if (first.empty()) first = opt;
      if (dir.empty()) dir = Dir(opt.c_str());
    }
    if (first.empty()) continue;
    if (dir.empty()) dir = Under(mountpoint, left[3], OwnPath(first));
    view.emplace_back(name, dir);
  }
  return view;
}

Status Cgroup::Join(pid_t pid, Which which) const {
  std::string p = Num(pid);
  std::string last;
  for (const auto& d : dirs_) {
    if (d.second == last) continue;
    last = d.second;
    bool unified = d.first == "unified";
    if ((which == Which::kV1 && unified) || (which == Which::kUnified && !unified)) continue;
    TSB_TRY(WriteFile(d.second + "/cgroup.procs", p));
  }
  return Status();
}

Result<std::vector<UniqueFd>> Cgroup::OpenV1Tasks() const {
  std::vector<UniqueFd> fds;
  if (version_ != 1) return fds;
  std::string last;
  for (const auto& d : dirs_) {
    if (d.second == last || d.first == "unified") continue;
    last = d.second;
    std::string path = d.second + "/tasks";
    UniqueFd fd(open(path.c_str(), O_WRONLY | O_CLOEXEC));
    if (!fd.valid()) return SysErr("open", kStep, "open " + path);
    fds.push_back(std::move(fd));
  }
  return fds;
}

bool Cgroup::OomKilled() const {
  if (version_ == 2) return ReadCounter(Dir("unified") + "/memory.events", "oom_kill") > 0;
  std::string mem = Dir("memory");
  return !mem.empty() && ReadCounter(mem + "/memory.oom_control", "oom_kill") > 0;
}

Status Cgroup::Destroy() {
  if (dirs_.empty()) return Status();
  std::string unified = Dir("unified");
  bool killed = !unified.empty() && Exists(unified + "/cgroup.kill") && WriteFile(unified + "/cgroup.kill", "1").ok();
  Status result;
  for (auto it = dirs_.rbegin(); it != dirs_.rend(); ++it) {
    const std::string& dir = it->second;
    if (!Exists(dir)) continue;
    for (int attempt = 0;; attempt++) {
      if (rmdir(dir.c_str()) == 0 || errno == ENOENT) break;
      if (errno != EBUSY || attempt >= 400) {
        result = Errno(kStep, "rmdir " + dir);
        break;
      }
      if (!killed) {
        std::string procs;
        if (ReadFile(dir + "/cgroup.procs", &procs)) {
          for (const std::string& p : Split(procs, '\n')) {
            if (!p.empty()) kill(static_cast<pid_t>(strtol(p.c_str(), nullptr, 10)), SIGKILL);
          }
        }
      }
      SleepMs(attempt < 20 ? 1 : 5);
    }
  }
  dirs_.clear();
  return result;
}

std::string Cgroup::Describe() const {
  std::string out = "{\"version\":" + Num(version_);
  for (const auto& d : dirs_) out += "," + JsonQuote(d.first) + ":" + JsonQuote(d.second);
  return out + "}";
}

}  // namespace tsb
