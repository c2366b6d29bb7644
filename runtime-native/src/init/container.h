// The container side of the helper: what the cloned child does, step by step,
// from the new namespaces to execve.
#ifndef TSB_INIT_CONTAINER_H_
#define TSB_INIT_CONTAINER_H_

#include <vector>

#include "../spec.h"
#include "cgroup.h"

namespace tsb {

// Runs in the child created by clone with the namespace flags. Waits for the
// parent's "go" on sync_fd, sets up the container and execs the process. A set-up
// failure is sent on sync_fd as {"type":"error",...} before exiting. Never returns.
// cgroup is the container's, shown read-only at /sys/fs/cgroup. v1_tasks are the v1 `tasks` files the child
// writes "0" to first, to join its cgroup itself; the parent joins it where they are empty.
[[noreturn]] void ContainerMain(const Spec& spec, const Cgroup& cgroup, int sync_fd, const std::vector<int>& v1_tasks);

}  // namespace tsb

#endif  // TSB_INIT_CONTAINER_H_
