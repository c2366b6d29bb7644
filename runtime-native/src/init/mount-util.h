// Mounting by file descriptor (the new mount API) and path resolution confined
// to the container's root (openat2 RESOLVE_IN_ROOT), so that no symlink in the
// image can send a mount or a created file outside the rootfs.
#ifndef TSB_INIT_MOUNT_UTIL_H_
#define TSB_INIT_MOUNT_UTIL_H_

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "../common.h"

namespace tsb {

using FsOptions = std::vector<std::pair<std::string, std::string>>;  // key, value ("" for a flag)

// openat2(dirfd, path, flags, RESOLVE_IN_ROOT | extra): path is read as inside dirfd's tree.
int OpenInRoot(int rootfd, const std::string& path, int flags, uint64_t extra_resolve = 0);

// mkdir -p of path inside root; returns an O_PATH fd to the directory. Each directory it
// makes is appended to *created (paths inside root, symlinks resolved), when given.
Result<UniqueFd> MkdirAllInRoot(int rootfd, const std::string& path, mode_t mode, const std::string& step,
                                std::vector<std::string>* created = nullptr);

// An O_PATH fd to a mount point inside root, created when missing: a directory,
// or an empty file when want_file. What had to be made is appended to *created.
Result<UniqueFd> MountpointInRoot(int rootfd, const std::string& path, bool want_file, const std::string& step,
                                  std::vector<std::string>* created = nullptr);

// A new, detached filesystem mount (fsopen, fsconfig, fsmount) with MOUNT_ATTR_* attrs.
Result<UniqueFd> NewFs(const char* fstype, const FsOptions& options, unsigned attrs, const std::string& step);

// A detached copy of the tree at fd (open_tree OPEN_TREE_CLONE).
Result<UniqueFd> CloneTree(int fd, const char* path, bool recursive, const std::string& step);

// Sets MOUNT_ATTR_* on a mount (recursive: also its submounts).
Status SetMountAttrs(int fd, unsigned set, unsigned clear, bool recursive, const std::string& step);

// Attaches a detached mount onto the file or directory target_fd refers to.
Status Attach(int mount_fd, int target_fd, const std::string& step);

}  // namespace tsb

#endif  // TSB_INIT_MOUNT_UTIL_H_
