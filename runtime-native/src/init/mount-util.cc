#include "mount-util.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/mount.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <vector>

namespace tsb {

int OpenInRoot(int rootfd, const std::string& path, int flags, uint64_t extra_resolve) {
  struct open_how how = {};
  how.flags = static_cast<uint64_t>(flags | O_CLOEXEC);
  how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS | extra_resolve;
  std::string rel = path;
  while (!rel.empty() && rel[0] == '/') rel.erase(0, 1);
  if (rel.empty()) rel = ".";
  int fd;
  do {
    fd = static_cast<int>(syscall(SYS_openat2, rootfd, rel.c_str(), &how, sizeof(how)));
  } while (fd < 0 && (errno == EAGAIN || errno == EINTR));
  return fd;
}

namespace {

std::vector<std::string> Components(const std::string& path) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < path.size()) {
    while (i < path.size() && path[i] == '/') i++;
    size_t j = i;
    while (j < path.size() && path[j] != '/') j++;
    if (j > i) {
      std::string c = path.substr(i, j - i);
      if (c == "..") {
        if (!out.empty()) out.pop_back();
      } else if (c != ".") {
        out.push_back(c);
      }
    }
    i = j;
  }
  return out;
}

std::string Join(const std::vector<std::string>& parts, size_t n) {
  std::string out = "/";
  for (size_t i = 0; i < n; i++) {
    if (i > 0) out += "/";
    out += parts[i];
  }
  return out;
}

// Resolves the symlinks of path inside root as far as it exists, so that the
// missing rest can be created where the link points (still inside root), as
// filepath-securejoin does. Lexical "..", never above root.
Result<std::string> SecureJoin(int rootfd, const std::string& path, const std::string& step) {
  std::vector<std::string> pending;
  {
    size_t i = 0;
    while (i < path.size()) {
      while (i < path.size() && path[i] == '/') i++;
      size_t j = i;
      while (j < path.size() && path[j] != '/') j++;
      if (j > i) pending.push_back(path.substr(i, j - i));
      i = j;
    }
  }
  std::vector<std::string> done;
  int hops = 0;
  size_t next = 0;
  while (next < pending.size()) {
    std::string c = pending[next++];
    if (c == ".") continue;
    if (c == "..") {
      if (!done.empty()) done.pop_back();
      continue;
    }
    done.push_back(c);
    UniqueFd fd(OpenInRoot(rootfd, Join(done, done.size()), O_PATH | O_NOFOLLOW));
    if (!fd.valid()) {
      if (errno != ENOENT) return SysErr("openat2", step, "open " + Join(done, done.size()));
      // Missing from here on: keep the rest as it is.
      for (; next < pending.size(); next++) {
        if (pending[next] == "..") {
          if (!done.empty()) done.pop_back();
        } else if (pending[next] != ".") {
          done.push_back(pending[next]);
        }
      }
      break;
    }
    struct stat st;
    if (fstat(fd.get(), &st) < 0) return SysErr("fstat", step, "stat " + Join(done, done.size()));
    if (!S_ISLNK(st.st_mode)) continue;
    // A /proc magic link reads like a path but is not one: never follow it (CVE-2024-21626).
    struct statfs sfs;
    if (fstatfs(fd.get(), &sfs) == 0 && sfs.f_type == PROC_SUPER_MAGIC) {
      return Fail(ELOOP, step, Format("%s goes through a /proc magic link", path.c_str()));
    }
    if (++hops > 255) return Fail(ELOOP, step, "too many symlinks in " + path);
    char buf[4096];
    ssize_t n = readlinkat(fd.get(), "", buf, sizeof(buf) - 1);
    if (n < 0) return SysErr("readlinkat", step, "readlink " + Join(done, done.size()));
    std::string target(buf, static_cast<size_t>(n));
    done.pop_back();
    if (!target.empty() && target[0] == '/') done.clear();
    std::vector<std::string> rest(pending.begin() + static_cast<long>(next), pending.end());  // NOLINT(runtime/int)
    pending.clear();
    size_t i = 0;
    while (i < target.size()) {
      while (i < target.size() && target[i] == '/') i++;
      size_t j = i;
      while (j < target.size() && target[j] != '/') j++;
      if (j > i) pending.push_back(target.substr(i, j - i));
      i = j;
    }
    pending.insert(pending.end(), rest.begin(), rest.end());
    next = 0;
  }
  return Join(done, done.size());
}

}  // namespace

Result<UniqueFd> MkdirAllInRoot(int rootfd, const std::string& path, mode_t mode, const std::string& step,
                                std::vector<std::string>* created) {
  auto resolved = SecureJoin(rootfd, path, step);
  if (!resolved.ok()) return resolved.error();
  std::vector<std::string> parts = Components(resolved.value());
  UniqueFd cur(OpenInRoot(rootfd, "/", O_PATH | O_DIRECTORY));
  if (!cur.valid()) return SysErr("openat2", step, "open the container root");
  for (size_t i = 0; i < parts.size(); i++) {
    std::string prefix = Join(parts, i + 1);
    int fd = OpenInRoot(rootfd, prefix, O_PATH | O_DIRECTORY);
    if (fd < 0 && errno == ENOENT) {
      // The parent (cur) is resolved inside root; create the one missing component in it.
      if (mkdirat(cur.get(), parts[i].c_str(), mode) < 0) {
        if (errno != EEXIST) return SysErr("mkdirat", step, "mkdir " + prefix);
      } else if (created != nullptr) {
        created->push_back(prefix);
      }
      fd = OpenInRoot(rootfd, prefix, O_PATH | O_DIRECTORY);
    }
    if (fd < 0) return SysErr("openat2", step, "open " + prefix);
    cur.reset(fd);
  }
  return cur;
}

Result<UniqueFd> MountpointInRoot(int rootfd, const std::string& path, bool want_file, const std::string& step,
                                  std::vector<std::string>* created) {
  int fd = OpenInRoot(rootfd, path, O_PATH);
  if (fd >= 0) return UniqueFd(fd);
  if (errno != ENOENT) return SysErr("openat2", step, "open " + path);
  if (!want_file) return MkdirAllInRoot(rootfd, path, 0755, step, created);
  auto resolved = SecureJoin(rootfd, path, step);
  if (!resolved.ok()) return resolved.error();
  std::vector<std::string> parts = Components(resolved.value());
  if (parts.empty()) return Fail(EINVAL, step, "a file mount cannot target /");
  std::string name = parts.back();
  parts.pop_back();
  auto parent = MkdirAllInRoot(rootfd, Join(parts, parts.size()), 0755, step, created);
  if (!parent.ok()) return parent.error();
  int made = openat(parent.value().get(), name.c_str(), O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0644);
  if (made < 0 && errno != EEXIST) return SysErr("openat", step, "create " + path);
  if (made >= 0) {
    close(made);
    if (created != nullptr) created->push_back(Join(parts, parts.size()) == "/" ? "/" + name : Join(parts, parts.size()) + "/" + name);
  }
  fd = OpenInRoot(rootfd, resolved.value(), O_PATH);
  if (fd < 0) return SysErr("openat2", step, "open " + path);
  return UniqueFd(fd);
}

Result<UniqueFd> NewFs(const char* fstype, const FsOptions& options, unsigned attrs, const std::string& step) {
  UniqueFd fs(fsopen(fstype, FSOPEN_CLOEXEC));
  if (!fs.valid()) return SysErr("fsopen", step, Format("fsopen %s", fstype));
  // The source shown in /proc/mounts, as Docker's ("proc", "tmpfs", "devpts").
  fsconfig(fs.get(), FSCONFIG_SET_STRING, "source", fstype, 0);
  for (const auto& kv : options) {
    int r = kv.second.empty() ? fsconfig(fs.get(), FSCONFIG_SET_FLAG, kv.first.c_str(), nullptr, 0)
                              : fsconfig(fs.get(), FSCONFIG_SET_STRING, kv.first.c_str(), kv.second.c_str(), 0);
    if (r < 0) {
      return SysErr("fsconfig", step, Format("%s option %s%s%s", fstype, kv.first.c_str(), kv.second.empty() ? "" : "=",
                                kv.second.c_str()));
    }
  }
  if (fsconfig(fs.get(), FSCONFIG_CMD_CREATE, nullptr, nullptr, 0) < 0) {
    return SysErr("fsconfig", step, Format("create the %s filesystem", fstype));
  }
  int m = fsmount(fs.get(), FSMOUNT_CLOEXEC, attrs);
  if (m < 0) return SysErr("fsmount", step, Format("fsmount %s", fstype));
  return UniqueFd(m);
}

Result<UniqueFd> CloneTree(int fd, const char* path, bool recursive, const std::string& step) {
  unsigned flags = OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC;
  if (recursive) flags |= AT_RECURSIVE;
  if (path == nullptr || *path == '\0') {
    flags |= AT_EMPTY_PATH;
    path = "";
  }
  int m = open_tree(fd, path, flags);
  if (m < 0) return SysErr("open_tree", step, "clone the mount");
  return UniqueFd(m);
}

Status SetMountAttrs(int fd, unsigned set, unsigned clear, bool recursive, const std::string& step) {
  struct mount_attr attr = {};
  attr.attr_set = set;
  attr.attr_clr = clear;
  unsigned flags = AT_EMPTY_PATH | (recursive ? AT_RECURSIVE : 0);
  if (mount_setattr(fd, "", flags, &attr, sizeof(attr)) < 0) return SysErr("mount_setattr", step, "set mount attributes");
  return Status();
}

Status Attach(int mount_fd, int target_fd, const std::string& step) {
  if (move_mount(mount_fd, "", target_fd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0) {
    return SysErr("move_mount", step, "attach the mount");
  }
  return Status();
}

}  // namespace tsb
