// A seccomp filter that denies what Docker's default profile denies to a
// container without CAP_SYS_ADMIN: mounts, namespaces, module and kexec loading,
// keyrings, bpf, perf, userfaultfd, io_uring, reboot and clock setting.
#ifndef TSB_INIT_SECCOMP_H_
#define TSB_INIT_SECCOMP_H_

#include "../common.h"

namespace tsb {

// Installs the filter on the calling thread (needs CAP_SYS_ADMIN or no_new_privs).
Status InstallSeccompFilter();

}  // namespace tsb

#endif  // TSB_INIT_SECCOMP_H_
