#include "container.h"

#include <fcntl.h>
#include <dirent.h>
#include <fnmatch.h>
#include <grp.h>
#include <linux/capability.h>
#include <linux/openat2.h>
#include <sched.h>
#include <net/if.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <climits>
#include <cstring>
#include <string>
#include <vector>

#include "../channel.h"
#include "../json.h"
#include "mount-util.h"
#include "seccomp.h"

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

namespace tsb {
namespace {

constexpr unsigned kNoSuidDevExec = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC;

struct Device {
  const char* name;
  unsigned major;
  unsigned minor;
};
constexpr Device kDevices[] = {{"null", 1, 3},    {"zero", 1, 5},    {"full", 1, 7},
                               {"random", 1, 8}, {"urandom", 1, 9}, {"tty", 5, 0}};

// Mount sources opened in the host's view before anything is mounted over it.
struct HostTrees {
  UniqueFd rootfs;
  std::vector<UniqueFd> binds;  // one per spec mount (invalid for tmpfs)
  std::vector<bool> bind_is_dir;
  std::vector<UniqueFd> devices;  // host device nodes, in a user namespace
  UniqueFd sysfs;                 // host /sys, when sysfs cannot be mounted
};

// State carried from one step to the next.
struct Context {
  const Spec* spec = nullptr;
  const Cgroup* cgroup = nullptr;
  int sync_fd = -1;
  HostTrees host;
  UniqueFd staging;  // tmpfs on spec.mountpoint: holds root/ and the /etc files
  UniqueFd root;     // the container's root mount
  UniqueFd pty_slave;
  bool setgroups_allowed = true;
  bool in_userns = false;
  std::vector<std::string> stubs;  // mount points this run had to create in the rootfs
};

bool MapsId(const std::vector<IdMapEntry>& map, uint32_t id) {
  for (const IdMapEntry& e : map) {
    if (id >= e.container && id - e.container < e.size) return true;
  }
  return false;
}

Status WaitForParent(Context* c) {
  std::string msg;
  int fd = -1;
  int r = RecvPacket(c->sync_fd, &msg, &fd);
  if (fd >= 0) close(fd);
  if (r <= 0) return Fail(r == 0 ? EPIPE : errno, "start", "the helper went away before the container started");
  if (msg != "go") return Fail(EPROTO, "start", "unexpected message from the helper");
  return Status();
}

Status EnterIdentity(Context* c) {
  const Spec& s = *c->spec;
  if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0) return Errno("start", "prctl PR_SET_DUMPABLE");
  if (s.ns_user) {
    c->in_userns = true;
    // A gid map written without newgidmap comes with setgroups "deny".
    UniqueFd sg(open("/proc/self/setgroups", O_RDONLY | O_CLOEXEC));
    char buf[8] = {};
    if (sg.valid() && read(sg.get(), buf, sizeof(buf) - 1) > 0) c->setgroups_allowed = strncmp(buf, "allow", 5) == 0;
    if (setresgid(0, 0, 0) < 0) return Errno("user namespace", "setresgid 0 (is container gid 0 mapped?)");
    if (setresuid(0, 0, 0) < 0) return Errno("user namespace", "setresuid 0 (is container uid 0 mapped?)");
  }
  if (c->setgroups_allowed && setgroups(0, nullptr) < 0) return Errno("user namespace", "setgroups");
  if (s.ns_cgroup && unshare(CLONE_NEWCGROUP) < 0) return Errno("cgroup namespace", "unshare CLONE_NEWCGROUP");
  umask(0);
  return Status();
}

Status OpenHostTrees(Context* c) {
  const Spec& s = *c->spec;
  const std::string step = "rootfs";
  if (mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) < 0) {
    return SysErr("mount", "mount propagation", "make / private");
  }
  for (const MountSpec& m : s.mounts) {
    if (m.type != "bind") {
      c->host.binds.emplace_back();
      c->host.bind_is_dir.push_back(true);
      continue;
    }
    UniqueFd src(open(m.source.c_str(), O_PATH | O_CLOEXEC));
    if (!src.valid()) return SysErr("open", "mounts", "open bind source " + m.source);
    struct stat st;
    if (fstat(src.get(), &st) < 0) return Errno("mounts", "stat " + m.source);
    auto tree = CloneTree(src.get(), "", true, "mounts");
    if (!tree.ok()) return tree.status();
    if (m.readonly) {
      TSB_TRY(SetMountAttrs(tree.value().get(), MOUNT_ATTR_RDONLY, 0, true, "mounts"));
    }
    c->host.binds.push_back(std::move(tree.value()));
    c->host.bind_is_dir.push_back(S_ISDIR(st.st_mode));
  }
  if (c->in_userns) {
    for (const Device& d : kDevices) {
      std::string path = std::string("/dev/") + d.name;
      auto tree = CloneTree(AT_FDCWD, path.c_str(), false, "dev");
      if (!tree.ok()) return tree.status();
      c->host.devices.push_back(std::move(tree.value()));
    }
    if (!s.ns_net) {
      auto tree = CloneTree(AT_FDCWD, "/sys", true, "sys");
      if (!tree.ok()) return tree.status();
      c->host.sysfs = std::move(tree.value());
    }
  }
  if (s.rootfs_type == "bind") {
    auto tree = CloneTree(AT_FDCWD, s.rootfs_path.c_str(), true, step);
    if (!tree.ok()) return Fail(tree.error().err, step, "open rootfs " + s.rootfs_path);
    // Read-only from the start: not even a mount point may be created in the caller's directory.
    if (s.readonly_rootfs) TSB_TRY(SetMountAttrs(tree.value().get(), MOUNT_ATTR_RDONLY, 0, false, step));
    c->host.rootfs = std::move(tree.value());
  } else {
    FsOptions opts;
    bool plus = true;
    UniqueFd probe(fsopen("overlay", FSOPEN_CLOEXEC));
    if (!probe.valid()) return Errno(step, "fsopen overlay");
    // "lowerdir+" (Linux 6.8) takes one layer per call, so any number of layers fits.
    if (fsconfig(probe.get(), FSCONFIG_SET_STRING, "lowerdir+", s.lowerdirs[0].c_str(), 0) < 0) plus = false;
    if (plus) {
      for (const std::string& l : s.lowerdirs) opts.emplace_back("lowerdir+", l);
    } else {
      std::string joined;
      for (const std::string& l : s.lowerdirs) {
        if (!joined.empty()) joined += ":";
        for (char ch : l) {
          if (ch == ':' || ch == '\\' || ch == ',') joined += '\\';
          joined += ch;
        }
      }
      opts.emplace_back("lowerdir", joined);
    }
    if (!s.upperdir.empty()) {
      opts.emplace_back("upperdir", s.upperdir);
      opts.emplace_back("workdir", s.workdir);
    }
    if (c->in_userns) opts.emplace_back("userxattr", "");
    for (const std::string& o : s.rootfs_options) {
      size_t eq = o.find('=');
      opts.emplace_back(o.substr(0, eq), eq == std::string::npos ? "" : o.substr(eq + 1));
    }
    auto fs = NewFs("overlay", opts, 0, step);
    if (!fs.ok()) return fs.status();
    c->host.rootfs = std::move(fs.value());
  }
  return Status();
}

Status WriteAllAt(int dirfd, const std::string& name, const std::string& content, const std::string& step) {
  UniqueFd fd(openat(dirfd, name.c_str(), O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0644));
  if (!fd.valid()) return Errno(step, "create " + name);
  if (!WriteAll(fd.get(), content.data(), content.size())) return Errno(step, "write " + name);
  return Status();
}

Status MountRootfs(Context* c) {
  const Spec& s = *c->spec;
  UniqueFd mp(open(s.mountpoint.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!mp.valid()) return Errno("rootfs", "open the mount point " + s.mountpoint);
  auto staging = NewFs("tmpfs", {{"mode", "0700"}, {"size", "4m"}}, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV, "rootfs");
  if (!staging.ok()) return staging.status();
  TSB_TRY(Attach(staging.value().get(), mp.get(), "rootfs"));
  c->staging = std::move(staging.value());
  if (mkdirat(c->staging.get(), "root", 0755) < 0) return Errno("rootfs", "mkdir the staging root");
  for (size_t i = 0; i < s.files.size(); i++) {
    TSB_TRY(WriteAllAt(c->staging.get(), "f" + std::to_string(i), s.files[i].content, "etc files"));
  }
  UniqueFd target(openat(c->staging.get(), "root", O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!target.valid()) return Errno("rootfs", "open the staging root");
  TSB_TRY(Attach(c->host.rootfs.get(), target.get(), "rootfs"));
  c->root = std::move(c->host.rootfs);
  return Status();
}

// /proc, /sys and /dev must be real directories in the image: a symlink there could point anywhere.
Result<UniqueFd> SpecialDir(Context* c, const char* path, const std::string& step) {
  int fd = OpenInRoot(c->root.get(), path, O_PATH | O_NOFOLLOW, RESOLVE_NO_SYMLINKS);
  if (fd >= 0) {
    struct stat st;
    int r = fstat(fd, &st);
    if (r == 0 && S_ISDIR(st.st_mode)) return UniqueFd(fd);
    close(fd);
    if (r == 0 && S_ISLNK(st.st_mode)) {
      return Fail(ELOOP, step, Format("%s in the image is a symlink: refusing to start", path));
    }
    return Fail(ENOTDIR, step, Format("%s in the image is not a directory", path));
  }
  if (errno == ELOOP) return Fail(ELOOP, step, Format("%s in the image is a symlink: refusing to start", path));
  if (errno != ENOENT) return Errno(step, Format("open %s", path));
  return MkdirAllInRoot(c->root.get(), path, 0555, step, &c->stubs);
}

Status MountProc(Context* c) {
  auto target = SpecialDir(c, "/proc", "proc");
  if (!target.ok()) return target.status();
  auto fs = NewFs("proc", {}, kNoSuidDevExec, "proc");
  if (!fs.ok()) return fs.status();
  return Attach(fs.value().get(), target.value().get(), "proc");
}

Status MountDev(Context* c) {
  const Spec& s = *c->spec;
  auto target = SpecialDir(c, "/dev", "dev");
  if (!target.ok()) return target.status();
  auto fs = NewFs("tmpfs", {{"mode", "755"}, {"size", "65536k"}}, MOUNT_ATTR_NOSUID | MOUNT_ATTR_STRICTATIME, "dev");
  if (!fs.ok()) return fs.status();
  TSB_TRY(Attach(fs.value().get(), target.value().get(), "dev"));
  int dev = fs.value().get();
  for (size_t i = 0; i < sizeof(kDevices) / sizeof(kDevices[0]); i++) {
    const Device& d = kDevices[i];
    if (c->in_userns) {
      // No mknod in a user namespace: bind the host's node onto an empty file.
      UniqueFd f(openat(dev, d.name, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0666));
      if (!f.valid()) return Errno("dev", Format("create /dev/%s", d.name));
      UniqueFd mpfd(openat(dev, d.name, O_PATH | O_NOFOLLOW | O_CLOEXEC));
      TSB_TRY(Attach(c->host.devices[i].get(), mpfd.get(), "dev"));
    } else if (mknodat(dev, d.name, S_IFCHR | 0666, makedev(d.major, d.minor)) < 0) {
      return SysErr("mknodat", "dev", Format("mknod /dev/%s", d.name));
    }
  }
  struct Link {
    const char* target;
    const char* name;
  };
  // runc's set without /dev/core, as docker run and BuildKit's RUN show /dev.
  const Link links[] = {{"pts/ptmx", "ptmx"},         {"/proc/self/fd", "fd"},       {"/proc/self/fd/0", "stdin"},
                        {"/proc/self/fd/1", "stdout"}, {"/proc/self/fd/2", "stderr"}};
  for (const Link& l : links) {
    if (symlinkat(l.target, dev, l.name) < 0) return Errno("dev", Format("symlink /dev/%s", l.name));
  }
  for (const char* d : {"pts", "shm", "mqueue"}) {
    if (mkdirat(dev, d, 0755) < 0) return Errno("dev", Format("mkdir /dev/%s", d));
  }
  auto sub = [dev](const char* name) { return UniqueFd(openat(dev, name, O_PATH | O_DIRECTORY | O_CLOEXEC)); };

  FsOptions pts = {{"newinstance", ""}, {"ptmxmode", "0666"}, {"mode", "0620"}};
  if (!c->in_userns || MapsId(s.gid_map, 5)) pts.emplace_back("gid", "5");
  auto devpts = NewFs("devpts", pts, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC, "dev/pts");
  if (!devpts.ok()) return devpts.status();
  TSB_TRY(Attach(devpts.value().get(), sub("pts").get(), "dev/pts"));

  auto shm = NewFs("tmpfs", {{"mode", "1777"}, {"size", "65536k"}}, kNoSuidDevExec, "dev/shm");
  if (!shm.ok()) return shm.status();
  TSB_TRY(Attach(shm.value().get(), sub("shm").get(), "dev/shm"));

  if (s.ns_ipc || !c->in_userns) {
    auto mq = NewFs("mqueue", {}, kNoSuidDevExec, "dev/mqueue");
    if (!mq.ok()) return mq.status();
    TSB_TRY(Attach(mq.value().get(), sub("mqueue").get(), "dev/mqueue"));
  }
  return Status();
}

// /sys/fs/cgroup as Docker shows it: on v1 a tmpfs with every hierarchy bound read-only at the
// container's own directory (or, for controllers without one, the directory its processes are in); on v2 with a cgroup namespace, a fresh cgroup2 mount.
Status MountCgroups(Context* c) {
  const std::string step = "sys/fs/cgroup";
  if (c->cgroup == nullptr || c->cgroup->empty()) return Status();
  UniqueFd target(OpenInRoot(c->root.get(), "/sys/fs/cgroup", O_PATH | O_DIRECTORY));
  if (!target.valid()) return Status();  // a sysfs without the directory: nothing to show
  if (c->cgroup->version() == 2) {
    if (!c->spec->ns_cgroup) return Status();
    auto fs = NewFs("cgroup2", {}, MOUNT_ATTR_RDONLY | kNoSuidDevExec, step);
    if (!fs.ok()) return fs.status();
    return Attach(fs.value().get(), target.get(), step);
  }
  auto tmp = NewFs("tmpfs", {{"mode", "755"}, {"size", "64k"}}, kNoSuidDevExec, step);
  if (!tmp.ok()) return tmp.status();
  TSB_TRY(Attach(tmp.value().get(), target.get(), step));
  for (const auto& d : c->cgroup->V1View()) {
    if (mkdirat(tmp.value().get(), d.first.c_str(), 0755) < 0) return Errno(step, "mkdir " + d.first);
    UniqueFd mp(openat(tmp.value().get(), d.first.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    auto tree = CloneTree(AT_FDCWD, d.second.c_str(), false, step);
    if (!tree.ok()) return tree.status();
    TSB_TRY(SetMountAttrs(tree.value().get(), MOUNT_ATTR_RDONLY | kNoSuidDevExec, 0, false, step));
    TSB_TRY(Attach(tree.value().get(), mp.get(), step));
  }
  return SetMountAttrs(tmp.value().get(), MOUNT_ATTR_RDONLY, 0, false, step);
}

// Docker's sysctls for a container with its own network namespace.
Status SetNetworkSysctls(Context* c) {
  if (!c->spec->ns_net) return Status();
  struct Sysctl {
    const char* path;
    const char* value;
    bool in_userns;
  };
  const Sysctl sysctls[] = {{"/proc/sys/net/ipv4/ip_unprivileged_port_start", "0", true},
                            {"/proc/sys/net/ipv4/ping_group_range", "0 2147483647", false}};
  for (const Sysctl& s : sysctls) {
    if (c->in_userns && !s.in_userns) continue;
    UniqueFd fd(open(s.path, O_WRONLY | O_CLOEXEC));
    if (!fd.valid()) continue;  // an older kernel without it
    if (!WriteAll(fd.get(), s.value, strlen(s.value))) return Errno("sysctl", Format("write %s", s.path));
  }
  return Status();
}

Status MountSys(Context* c) {
  auto target = SpecialDir(c, "/sys", "sys");
  if (!target.ok()) return target.status();
  if (c->host.sysfs.valid()) {
    // sysfs needs a network namespace of our own; with the host's, bind the host's /sys read-only.
    TSB_TRY(SetMountAttrs(c->host.sysfs.get(), MOUNT_ATTR_RDONLY | kNoSuidDevExec, 0, true, "sys"));
    return Attach(c->host.sysfs.get(), target.value().get(), "sys");
  }
  auto fs = NewFs("sysfs", {}, MOUNT_ATTR_RDONLY | kNoSuidDevExec, "sys");
  if (!fs.ok()) return fs.status();
  TSB_TRY(Attach(fs.value().get(), target.value().get(), "sys"));
  return MountCgroups(c);
}

Status MountSpecMounts(Context* c) {
  const Spec& s = *c->spec;
  for (size_t i = 0; i < s.mounts.size(); i++) {
    const MountSpec& m = s.mounts[i];
    const std::string step = "mount " + m.destination;
    auto target = MountpointInRoot(c->root.get(), m.destination, !c->host.bind_is_dir[i], step, &c->stubs);
    if (!target.ok()) return target.status();
    if (m.type == "bind") {
      TSB_TRY(Attach(c->host.binds[i].get(), target.value().get(), step));
      continue;
    }
    unsigned attrs = m.readonly ? MOUNT_ATTR_RDONLY : 0;
    FsOptions opts;
    for (const std::string& o : m.options) {
      if (o == "nosuid") {
        attrs |= MOUNT_ATTR_NOSUID;
      } else if (o == "nodev") {
        attrs |= MOUNT_ATTR_NODEV;
      } else if (o == "noexec") {
        attrs |= MOUNT_ATTR_NOEXEC;
      } else if (o == "ro") {
        attrs |= MOUNT_ATTR_RDONLY;
      } else if (o != "rw" && o != "exec" && o != "suid" && o != "dev") {
        size_t eq = o.find('=');
        opts.emplace_back(o.substr(0, eq), eq == std::string::npos ? "" : o.substr(eq + 1));
      }
    }
    auto fs = NewFs("tmpfs", opts, attrs, step);
    if (!fs.ok()) return fs.status();
    TSB_TRY(Attach(fs.value().get(), target.value().get(), step));
  }
  return Status();
}

Status MountFiles(Context* c) {
  const Spec& s = *c->spec;
  for (size_t i = 0; i < s.files.size(); i++) {
    const std::string step = "etc files";
    auto target = MountpointInRoot(c->root.get(), s.files[i].path, true, step, &c->stubs);
    if (!target.ok()) {
      // A root that cannot take the mount point (read-only, or owned by an unmapped user when
      // rootless) keeps its own file, or none: these files are a convenience, not a requirement.
      int err = target.error().err;
      if (err == EACCES || err == EPERM || err == EROFS) continue;
      return target.status();
    }
    struct stat st;
    if (fstat(target.value().get(), &st) < 0) return Errno(step, "stat " + s.files[i].path);
    if (!S_ISREG(st.st_mode)) return Fail(EISDIR, step, s.files[i].path + " in the image is not a regular file");
    auto tree = CloneTree(c->staging.get(), ("f" + std::to_string(i)).c_str(), false, step);
    if (!tree.ok()) return tree.status();
    if (s.files[i].readonly) {
      // BuildKit's RUN binds them read-only with nosuid,nodev,noexec; docker run --read-only, read-only.
      TSB_TRY(SetMountAttrs(tree.value().get(), MOUNT_ATTR_RDONLY | kNoSuidDevExec, 0, false, step));
    }
    TSB_TRY(Attach(tree.value().get(), target.value().get(), step));
  }
  return Status();
}

// Tells the helper which mount points were created, so that the caller can remove them
// from a layer afterwards (BuildKit does the same for RUN steps).
Status ReportStubs(Context* c) {
  if (c->stubs.empty()) return Status();
  std::string msg = "{\"type\":\"stubs\",\"paths\":[";
  for (size_t i = 0; i < c->stubs.size(); i++) msg += (i > 0 ? "," : "") + JsonQuote(c->stubs[i]);
  msg += "]}";
  if (!SendPacket(c->sync_fd, msg)) return Errno("start", "report mount points");
  return Status();
}

Status PivotRoot(Context* c) {
  if (fchdir(c->root.get()) < 0) return SysErr("fchdir", "pivot_root", "chdir to the new root");
  if (syscall(SYS_pivot_root, ".", ".") < 0) return SysErr("pivot_root", "pivot_root", "pivot_root");
  if (umount2(".", MNT_DETACH) < 0) return SysErr("umount2", "pivot_root", "detach the old root");
  if (chdir("/") < 0) return Errno("pivot_root", "chdir /");
  c->staging.reset();
  c->root.reset(open("/", O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!c->root.valid()) return Errno("pivot_root", "open /");
  return Status();
}

Status MaskPath(Context* c, const std::string& path, int null_fd) {
  const std::string step = "masked paths";
  UniqueFd target(OpenInRoot(c->root.get(), path, O_PATH | O_NOFOLLOW));
  if (!target.valid()) {
    if (errno == ENOENT) return Status();
    return Errno(step, "open " + path);
  }
  struct stat st;
  if (fstat(target.get(), &st) < 0) return Errno(step, "stat " + path);
  if (S_ISDIR(st.st_mode)) {
    auto fs = NewFs("tmpfs", {{"nr_blocks", "1"}, {"nr_inodes", "1"}, {"mode", "0555"}}, MOUNT_ATTR_RDONLY | kNoSuidDevExec,
                    step);
    if (!fs.ok()) return fs.status();
    return Attach(fs.value().get(), target.get(), step);
  }
  auto tree = CloneTree(null_fd, "", false, step);
  if (!tree.ok()) return tree.status();
  return Attach(tree.value().get(), target.get(), step);
}

// Expands one '*' component ("/sys/devices/system/cpu/cpu*/thermal_throttle"), without glob(3) and its nss use.
std::vector<std::string> Expand(const std::string& pattern) {
  size_t star = pattern.find('*');
  if (star == std::string::npos) return {pattern};
  size_t begin = pattern.rfind('/', star);
  size_t end = pattern.find('/', star);
  std::string dir = pattern.substr(0, begin == 0 ? 1 : begin);
  std::string component = pattern.substr(begin + 1, end == std::string::npos ? std::string::npos : end - begin - 1);
  std::string rest = end == std::string::npos ? "" : pattern.substr(end);
  std::vector<std::string> out;
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return out;
  while (struct dirent* e = readdir(d)) {
    if (e->d_name[0] == '.') continue;
    if (fnmatch(component.c_str(), e->d_name, FNM_PATHNAME) == 0) {
      out.push_back((dir == "/" ? "" : dir) + "/" + e->d_name + rest);
    }
  }
  closedir(d);
  return out;
}

Status MaskAndProtect(Context* c) {
  const Spec& s = *c->spec;
  if (!s.masked_paths.empty()) {
    // The node bound over masked files must really be the null device (CVE-2025-31133).
    UniqueFd null_fd(OpenInRoot(c->root.get(), "/dev/null", O_PATH | O_NOFOLLOW));
    struct stat st;
    if (!null_fd.valid() || fstat(null_fd.get(), &st) < 0) return Errno("masked paths", "open /dev/null");
    if (!S_ISCHR(st.st_mode) || st.st_rdev != makedev(1, 3)) {
      return Fail(EPERM, "masked paths", "/dev/null is not the null device");
    }
    for (const std::string& p : s.masked_paths) {
      for (const std::string& path : Expand(p)) TSB_TRY(MaskPath(c, path, null_fd.get()));
    }
  }
  for (const std::string& p : s.readonly_paths) {
    const std::string step = "readonly paths";
    UniqueFd target(OpenInRoot(c->root.get(), p, O_PATH | O_NOFOLLOW));
    if (!target.valid()) {
      if (errno == ENOENT) continue;
      return Errno(step, "open " + p);
    }
    auto tree = CloneTree(target.get(), "", true, step);
    if (!tree.ok()) return tree.status();
    TSB_TRY(SetMountAttrs(tree.value().get(), MOUNT_ATTR_RDONLY | kNoSuidDevExec, 0, true, step));
    TSB_TRY(Attach(tree.value().get(), target.get(), step));
  }
  if (s.readonly_rootfs) TSB_TRY(SetMountAttrs(c->root.get(), MOUNT_ATTR_RDONLY, 0, false, "readonly rootfs"));
  return Status();
}

Status SetHostnameAndNetwork(Context* c) {
  const Spec& s = *c->spec;
  if (s.ns_uts && !s.hostname.empty() && sethostname(s.hostname.data(), s.hostname.size()) < 0) {
    return SysErr("sethostname", "hostname", "sethostname " + s.hostname);
  }
  if (s.ns_net) {
    UniqueFd sock(socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    if (!sock.valid()) return Errno("network", "socket");
    struct ifreq ifr;
    memset(&ifr, 0, sizeof(ifr));
    strncpy(ifr.ifr_name, "lo", IFNAMSIZ - 1);
    if (ioctl(sock.get(), SIOCGIFFLAGS, &ifr) < 0) return Errno("network", "get lo flags");
    ifr.ifr_flags = static_cast<int16_t>(ifr.ifr_flags | IFF_UP);
    if (ioctl(sock.get(), SIOCSIFFLAGS, &ifr) < 0) return Errno("network", "bring lo up");
  }
  return Status();
}

Status SetUpTerminal(Context* c) {
  const Spec& s = *c->spec;
  if (!s.tty) return Status();
  const std::string step = "tty";
  // The pty comes from the container's own devpts; the slave is reached through
  // the master fd (TIOCGPTPEER), never through a path in /dev/pts (CVE-2025-52565).
  UniqueFd master(open("/dev/pts/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC));
  if (!master.valid()) return Errno(step, "open /dev/pts/ptmx");
  int unlock = 0;
  if (ioctl(master.get(), TIOCSPTLCK, &unlock) < 0) return Errno(step, "unlock the pty");
  int slave = ioctl(master.get(), TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (slave < 0) return Errno(step, "open the pty slave");
  c->pty_slave.reset(slave);
  struct winsize ws = {};
  ws.ws_row = s.rows;
  ws.ws_col = s.cols;
  if (ioctl(master.get(), TIOCSWINSZ, &ws) < 0) return Errno(step, "set the window size");
  // The user owns the slave; its group stays devpts's gid=5 (tty), as runc leaves it.
  if (fchown(slave, s.uid, static_cast<gid_t>(-1)) < 0 && errno != EINVAL) return Errno(step, "chown the pty");
  auto console = MountpointInRoot(c->root.get(), "/dev/console", true, step);
  if (!console.ok()) return console.status();
  auto tree = CloneTree(slave, "", false, step);
  if (!tree.ok()) return tree.status();
  TSB_TRY(Attach(tree.value().get(), console.value().get(), step));
  if (!SendPacket(c->sync_fd, "{\"type\":\"pty\"}", master.get())) return Errno(step, "pass the pty to the helper");
  return Status();
}

Status SetLimits(Context* c) {
  for (const RlimitSpec& r : c->spec->rlimits) {
    struct rlimit cur;
    if (getrlimit(r.resource, &cur) < 0) return Errno("rlimits", Format("getrlimit %d", r.resource));
    rlim_t hard = r.hard < 0 ? RLIM_INFINITY : static_cast<rlim_t>(r.hard);
    rlim_t soft = r.soft < 0 ? RLIM_INFINITY : static_cast<rlim_t>(r.soft);
    // Never raise a hard limit: without CAP_SYS_RESOURCE that fails, and with it it would escape the caller's limits.
    if (hard > cur.rlim_max) hard = cur.rlim_max;
    if (soft > hard) soft = hard;
    struct rlimit next = {soft, hard};
    if (setrlimit(r.resource, &next) < 0) return SysErr("setrlimit", "rlimits", Format("setrlimit %d", r.resource));
  }
  return Status();
}

Status DropBounding(uint64_t keep) {
  for (int cap = 0; cap < 64; cap++) {
    if (keep & (uint64_t{1} << cap)) continue;
    if (prctl(PR_CAPBSET_READ, cap, 0, 0, 0) <= 0) continue;
    if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0) return Errno("capabilities", Format("drop capability %d", cap));
  }
  return Status();
}

Status SetCaps(uint64_t effective) {
  struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
  struct __user_cap_data_struct data[2] = {};
  data[0].effective = data[0].permitted = static_cast<uint32_t>(effective);
  data[1].effective = data[1].permitted = static_cast<uint32_t>(effective >> 32);
  if (syscall(SYS_capset, &hdr, data) < 0) return SysErr("capset", "capabilities", "capset");
  if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL) {
    return Errno("capabilities", "clear the ambient set");
  }
  return Status();
}

Status SwitchUser(Context* c) {
  const Spec& s = *c->spec;
  TSB_TRY(DropBounding(s.cap_bounding));
  if (c->setgroups_allowed) {
    std::vector<gid_t> gids(s.additional_gids.begin(), s.additional_gids.end());
    if (setgroups(gids.size(), gids.data()) < 0) return SysErr("setgroups", "user", "setgroups");
  } else if (!s.additional_gids.empty()) {
    return Fail(EPERM, "user", "supplementary groups need a gid map written by newgidmap");
  }
  if (setresgid(s.gid, s.gid, s.gid) < 0) {
    return SysErr("setresgid", "user", errno == EINVAL ? Format("cannot setgid to unmapped gid %u", s.gid) : "setgid");
  }
  if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0) return Errno("user", "PR_SET_KEEPCAPS");
  if (setresuid(s.uid, s.uid, s.uid) < 0) {
    return SysErr("setresuid", "user", errno == EINVAL ? Format("cannot setuid to unmapped uid %u", s.uid) : "setuid");
  }
  TSB_TRY(SetCaps(s.cap_effective));
  if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0) return Errno("user", "PR_SET_KEEPCAPS");
  return Status();
}

Status EnterCwd(Context* c) {
  const std::string& cwd = c->spec->cwd;
  // RESOLVE_IN_ROOT + RESOLVE_NO_MAGICLINKS: no /proc/self/fd/N escape (CVE-2024-21626).
  UniqueFd fd(OpenInRoot(c->root.get(), cwd, O_PATH | O_DIRECTORY));
  if (!fd.valid()) return SysErr("openat2", "cwd", "open working directory " + cwd);
  if (fchdir(fd.get()) < 0) return SysErr("fchdir", "cwd", "chdir " + cwd);
  char buf[PATH_MAX];
  if (getcwd(buf, sizeof(buf)) == nullptr || buf[0] != '/') {
    return Fail(EPERM, "cwd", "working directory " + cwd + " is outside the container");
  }
  return Status();
}

void ResetSignals() {
  struct sigaction sa;
  memset(&sa, 0, sizeof(sa));
  sa.sa_handler = SIG_DFL;
  for (int sig = 1; sig < NSIG; sig++) sigaction(sig, &sa, nullptr);
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
}

std::string EnvValue(const std::vector<std::string>& env, const char* key) {
  size_t n = strlen(key);
  std::string value;
  for (const std::string& e : env) {
    if (e.size() > n && e.compare(0, n, key) == 0 && e[n] == '=') value = e.substr(n + 1);
  }
  return value;
}

void ExecFailed(int sync_fd, const std::string& cmd, int err, const std::string& detail) {
  if (err == ENOENT || err == EACCES || err == ENOEXEC || err == ENOTDIR || err == EISDIR) {
    std::string msg = "tsbuild: exec: " + JsonQuote(cmd) + ": " + detail + "\n";
    WriteAll(2, msg.data(), msg.size());
    _exit(err == ENOENT || err == ENOTDIR ? 127 : 126);
  }
  std::string m = "{\"type\":\"error\",\"step\":\"exec\",\"syscall\":\"execve\",\"errno\":" + std::to_string(err) +
                  ",\"message\":" + JsonQuote("exec " + cmd + ": " + strerror(err)) + "}";
  SendPacket(sync_fd, m);
  _exit(125);
}

[[noreturn]] void Exec(Context* c) {
  const Spec& s = *c->spec;
  std::vector<char*> argv;
  for (const std::string& a : s.args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  std::vector<char*> envp;
  for (const std::string& e : s.env) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);
  const std::string& cmd = s.args[0];
  if (cmd.find('/') != std::string::npos) {
    execve(cmd.c_str(), argv.data(), envp.data());
    int err = errno;
    ExecFailed(c->sync_fd, cmd, err, err == ENOENT ? "no such file or directory" : strerror(err));
  }
  std::string path = EnvValue(s.env, "PATH");
  if (path.empty()) path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
  int seen = ENOENT;
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find(':', start);
    if (end == std::string::npos) end = path.size();
    std::string dir = path.substr(start, end - start);
    if (dir.empty()) dir = ".";
    std::string candidate = dir + "/" + cmd;
    execve(candidate.c_str(), argv.data(), envp.data());
    if (errno == EACCES || errno == ENOEXEC) {
      seen = errno;
    } else if (errno != ENOENT && errno != ENOTDIR) {
      ExecFailed(c->sync_fd, cmd, errno, strerror(errno));
    }
    start = end + 1;
  }
  ExecFailed(c->sync_fd, cmd, seen, seen == ENOENT ? "executable file not found in $PATH" : strerror(seen));
  _exit(127);
}

// The process side: identity, directory, descriptors, then execve.
Status BecomeProcess(Context* c) {
  const Spec& s = *c->spec;
  if (setsid() < 0) return Errno("session", "setsid");
  if (c->pty_slave.valid()) {
    int slave = c->pty_slave.get();
    if (ioctl(slave, TIOCSCTTY, 0) < 0) return Errno("tty", "set the controlling terminal");
    for (int fd = 0; fd < 3; fd++) {
      if (dup2(slave, fd) < 0) return Errno("tty", "dup the pty onto stdio");
    }
    c->pty_slave.reset();
  }
  // Pipes and sockets given as stdio belong to the process's user, so that it can reopen
  // them (/dev/stdout) as runc's fixStdioPermissions does; terminals and files are left alone.
  for (int fd = 0; fd < 3; fd++) {
    struct stat st;
    if (fstat(fd, &st) == 0 && (S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode)) && fchown(fd, s.uid, s.gid) < 0 &&
        errno != EINVAL && errno != EPERM) {
      return Errno("stdio", Format("chown fd %d", fd));
    }
  }
  if (s.seccomp) TSB_TRY(InstallSeccompFilter());
  TSB_TRY(SwitchUser(c));
  TSB_TRY(EnterCwd(c));
  umask(s.umask);
  if (s.no_new_privileges && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) return Errno("no_new_privs", "prctl");
  // The parent-death signal is cleared by a credential change: set it again.
  if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0) return Errno("start", "PR_SET_PDEATHSIG");
  // Only 0, 1 and 2 reach the container; the sync socket closes on a successful exec.
  if (syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC) < 0) return Errno("close fds", "close_range");
  ResetSignals();
  Exec(c);
}

// PID 1 with --init: reap every child, forward signals to the process, exit with its status.
[[noreturn]] void RunInit(Context* c, pid_t child) {
  int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
  if (devnull >= 0) {
    for (int fd = 0; fd < 3; fd++) dup2(devnull, fd);
    close(devnull);
  }
  c->pty_slave.reset();
  DropBounding(uint64_t{1} << CAP_KILL);
  SetCaps(uint64_t{1} << CAP_KILL);
  close(c->sync_fd);
  sigset_t all;
  sigfillset(&all);
  sigprocmask(SIG_SETMASK, &all, nullptr);
  for (;;) {
    siginfo_t info;
    int sig = sigwaitinfo(&all, &info);
    if (sig < 0) continue;
    if (sig != SIGCHLD) {
      kill(child, sig);
      continue;
    }
    int status;
    pid_t p;
    while ((p = waitpid(-1, &status, WNOHANG)) > 0) {
      if (p != child) continue;
      _exit(WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
    }
  }
}

// A single thread writing "0" to a v1 `tasks` file moves itself; the process is one thread here, so all of it
// moves, before anything else happens (set-up memory is charged to the container, forks count against pids).
Status JoinOwnCgroup(const std::vector<int>& v1_tasks) {
  for (int fd : v1_tasks) {
    if (write(fd, "0", 1) != 1) return Errno("cgroup", "join the cgroup (write 0 to tasks)");
    close(fd);
  }
  return Status();
}

Status Setup(Context* c) {
  // The helper's `go` says the id maps are written and the cgroup is joined. A user namespace needs the maps
  // and a cgroup namespace the cgroup before the first step; otherwise the mounts are made while the helper
  // joins the cgroup (a v1 migration can wait ~10-20 ms for RCU), and `go` is awaited before anything of the
  // container's own runs: the process, and the init's fork, start inside the cgroup.
  const bool early = c->spec->ns_user || c->spec->ns_cgroup;
  if (early) TSB_TRY(WaitForParent(c));
  TSB_TRY(EnterIdentity(c));
  TSB_TRY(OpenHostTrees(c));
  TSB_TRY(MountRootfs(c));
  TSB_TRY(MountProc(c));
  TSB_TRY(MountDev(c));
  TSB_TRY(MountSys(c));
  TSB_TRY(MountSpecMounts(c));
  TSB_TRY(MountFiles(c));
  // Docker creates a missing working directory (as root, inside the root; magic links refused).
  auto cwd = MkdirAllInRoot(c->root.get(), c->spec->cwd, 0755, "cwd");
  if (!cwd.ok() && cwd.error().err == ENOTDIR) {
    return Fail(ENOTDIR, "cwd", "cannot mkdir: " + c->spec->cwd + " is not a directory");  // Docker's words
  }
  if (!cwd.ok()) return cwd.status();
  TSB_TRY(ReportStubs(c));
  TSB_TRY(PivotRoot(c));
  TSB_TRY(SetNetworkSysctls(c));
  TSB_TRY(MaskAndProtect(c));
  TSB_TRY(SetHostnameAndNetwork(c));
  TSB_TRY(SetUpTerminal(c));
  TSB_TRY(SetLimits(c));
  if (!early) TSB_TRY(WaitForParent(c));
  if (c->spec->init) {
    pid_t child = fork();
    if (child < 0) return Errno("init", "fork");
    if (child > 0) RunInit(c, child);
  }
  return BecomeProcess(c);
}

}  // namespace

[[noreturn]] void ContainerMain(const Spec& spec, const Cgroup& cgroup, int sync_fd, const std::vector<int>& v1_tasks) {
  Context c;
  c.spec = &spec;
  c.cgroup = &cgroup;
  c.sync_fd = sync_fd;
  prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
  Status s = JoinOwnCgroup(v1_tasks);
  if (s.ok()) s = Setup(&c);
  ReportStubs(&c);
  const Error& e = s.error();
  std::string msg = "{\"type\":\"error\",\"step\":" + JsonQuote(e.step) + ",\"syscall\":" + JsonQuote(e.syscall) +
                    ",\"errno\":" + std::to_string(e.err) + ",\"message\":" + JsonQuote(e.msg) + "}";
  SendPacket(sync_fd, msg);
  _exit(125);
}

}  // namespace tsb
