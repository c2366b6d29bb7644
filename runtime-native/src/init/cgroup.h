// cgroupfs writers for v1 and v2, chosen by what /sys/fs/cgroup is. On a hybrid
// host (v1 controllers, cgroup2 at /sys/fs/cgroup/unified) the limits go to v1 and
// the unified directory tracks the processes and gives cgroup.kill.
#ifndef TSB_INIT_CGROUP_H_
#define TSB_INIT_CGROUP_H_

#include <sys/types.h>

#include <string>
#include <utility>
#include <vector>

#include "../common.h"
#include "../spec.h"

namespace tsb {

class Cgroup {
 public:
  // Creates the container's cgroup directories and writes the limits.
  static Result<Cgroup> Create(const CgroupSpec& spec);

  // Moves pid into every directory, or only the v1 ones / only the unified one.
  enum class Which { kAll, kV1, kUnified };
  Status Join(pid_t pid, Which which = Which::kAll) const;
  // The `tasks` files of the v1 directories, opened for writing: a process writing "0" to them moves itself
  // (a single thread) without the global threadgroup lock, so without the RCU wait a migration of another
  // process takes (~10-20 ms after a quiet spell). Empty on v2.
  Result<std::vector<UniqueFd>> OpenV1Tasks() const;
  // The cgroup2 directory a child can be born in (clone3 CLONE_INTO_CGROUP): v2's own, or the unified one.
  std::string Cgroup2Dir() const { return Dir("unified"); }
  // Whether the kernel's OOM killer killed a process in the cgroup.
  bool OomKilled() const;
  // Kills what is left and removes the directories.
  Status Destroy();
  // {"version":N,"memory":"dir",...} for the stats reader in TypeScript.
  std::string Describe() const;
  bool empty() const { return dirs_.empty(); }
  int version() const { return version_; }
  // (role, directory) pairs: "memory", "cpu", "cpuacct", "pids", "devices", "unified".
  const std::vector<std::pair<std::string, std::string>>& dirs() const { return dirs_; }
  // What /sys/fs/cgroup shows the container on v1, as Docker does: (name under /sys/fs/cgroup, host directory)
  // for every hierarchy mounted there, the container's own directory where tsbuild manages the controller and
  // the directory the container's processes are in otherwise (cpuset, blkio, freezer, name=systemd…); not the
  // hybrid host's unified cgroup2, which runc leaves out too.
  std::vector<std::pair<std::string, std::string>> V1View() const;
  // Whether a device allow-list is in force (v1 devices controller); without one CAP_MKNOD must go.
  bool limits_devices() const { return devices_; }

 private:
  int version_ = 0;
  bool devices_ = false;
  std::vector<std::pair<std::string, std::string>> dirs_;  // role ("memory", "cpu", "pids", "unified", ...) and path
  std::string Dir(const char* role) const;
};

}  // namespace tsb

#endif  // TSB_INIT_CGROUP_H_
