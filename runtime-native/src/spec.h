// The RunSpec as the helper receives it: the TypeScript side has validated it and
// filled in every default, so this is plain data with no policy of its own.
#ifndef TSB_SPEC_H_
#define TSB_SPEC_H_

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "common.h"

namespace tsb {

struct IdMapEntry {
  uint32_t container = 0;
  uint32_t host = 0;
  uint32_t size = 0;
};

struct MountSpec {
  std::string type;  // "bind" or "tmpfs"
  std::string source;
  std::string destination;
  bool readonly = false;
  std::vector<std::string> options;  // tmpfs data, e.g. "size=65536k"
};

struct FileSpec {
  std::string path;
  std::string content;
  bool readonly = false;
};

struct RlimitSpec {
  int resource = 0;
  int64_t soft = -1;  // -1 is RLIM_INFINITY
  int64_t hard = -1;
};

struct CgroupSpec {
  bool enabled = false;
  std::string name;
  int64_t memory = -1;
  int64_t memory_swap = -1;  // memory + swap, as Docker's --memory-swap; -1 means unlimited swap
  int64_t cpu_quota = -1;    // microseconds per period
  int64_t cpu_period = 100000;
  int64_t pids = -1;
  bool has_limits() const { return memory >= 0 || cpu_quota >= 0 || pids >= 0; }
};

struct Spec {
  std::string rootfs_type;  // "bind" or "overlay"
  std::string rootfs_path;
  std::vector<std::string> lowerdirs;  // top first, as overlayfs lowerdir=
  std::string upperdir;
  std::string workdir;
  std::vector<std::string> rootfs_options;  // more overlay options ("index=off")
  bool readonly_rootfs = false;
  std::string mountpoint;

  std::vector<std::string> args;
  std::vector<std::string> env;
  std::string cwd = "/";
  uint32_t uid = 0;
  uint32_t gid = 0;
  std::vector<uint32_t> additional_gids;
  std::string hostname;

  bool ns_mount = true, ns_pid = true, ns_uts = true, ns_ipc = true, ns_net = true, ns_cgroup = false, ns_user = false;
  std::vector<IdMapEntry> uid_map;
  std::vector<IdMapEntry> gid_map;
  std::string newuidmap;  // set when the maps go through the setuid tools
  std::string newgidmap;

  std::vector<MountSpec> mounts;
  std::vector<FileSpec> files;
  std::vector<std::string> masked_paths;
  std::vector<std::string> readonly_paths;

  uint64_t cap_bounding = 0;
  uint64_t cap_effective = 0;  // also permitted
  bool no_new_privileges = false;
  bool seccomp = false;
  std::vector<RlimitSpec> rlimits;
  CgroupSpec cgroup;

  bool tty = false;
  uint16_t rows = 24;
  uint16_t cols = 80;
  bool init = false;
  uint32_t umask = 022;
};

// Parses the helper's JSON RunSpec.
Status ParseSpec(const std::string& text, Spec* spec);

}  // namespace tsb

#endif  // TSB_SPEC_H_
