#include "seccomp.h"

#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/syscall.h>

#include <cstddef>
#include <vector>

namespace tsb {
namespace {

// clone flags that create namespaces (Docker's mask 0x7E020000).
constexpr uint32_t kNamespaceFlags = 0x7E020000;

struct ArchTable {
  uint32_t arch;
  std::vector<int> denied;
  int clone;
  int clone3;
};

#if defined(__x86_64__)
const ArchTable kNative = {AUDIT_ARCH_X86_64,
                           {__NR_mount, __NR_umount2, __NR_pivot_root, __NR_unshare, __NR_setns,
                            __NR_open_by_handle_at, __NR_fsopen, __NR_fsconfig, __NR_fsmount, __NR_fspick,
                            __NR_move_mount, __NR_open_tree, __NR_mount_setattr, __NR_keyctl, __NR_add_key,
                            __NR_request_key, __NR_bpf, __NR_perf_event_open, __NR_userfaultfd, __NR_kexec_load,
                            __NR_kexec_file_load, __NR_init_module, __NR_finit_module, __NR_delete_module,
                            __NR_reboot, __NR_syslog, __NR_swapon, __NR_swapoff, __NR_acct, __NR_settimeofday,
                            __NR_clock_settime, __NR_clock_adjtime, __NR_quotactl, __NR_iopl, __NR_ioperm,
                            __NR_io_uring_setup, __NR_io_uring_enter, __NR_io_uring_register},
                           __NR_clone,
                           __NR_clone3};
// The i386 ABI on x86_64 (int 0x80): the same calls by their i386 numbers.
const ArchTable kCompat = {AUDIT_ARCH_I386,
                           {21, 22, 52, 217, 310, 346, 342, 430, 431, 432, 433, 429, 428, 442, 288, 286, 287, 357, 336,
                            374, 283, 128, 350, 129, 88, 103, 87, 115, 51, 79, 264, 343, 131, 110, 101, 425, 426, 427},
                           120,
                           435};
#elif defined(__aarch64__)
const ArchTable kNative = {AUDIT_ARCH_AARCH64,
                           {__NR_mount, __NR_umount2, __NR_pivot_root, __NR_unshare, __NR_setns,
                            __NR_open_by_handle_at, __NR_fsopen, __NR_fsconfig, __NR_fsmount, __NR_fspick,
                            __NR_move_mount, __NR_open_tree, __NR_mount_setattr, __NR_keyctl, __NR_add_key,
                            __NR_request_key, __NR_bpf, __NR_perf_event_open, __NR_userfaultfd, __NR_kexec_load,
                            __NR_kexec_file_load, __NR_init_module, __NR_finit_module, __NR_delete_module,
                            __NR_reboot, __NR_syslog, __NR_swapon, __NR_swapoff, __NR_acct, __NR_settimeofday,
                            __NR_clock_settime, __NR_clock_adjtime, __NR_quotactl, __NR_io_uring_setup,
                            __NR_io_uring_enter, __NR_io_uring_register},
                           __NR_clone,
                           __NR_clone3};
const ArchTable kCompat = {0, {}, -1, -1};
#else
#error "tsbuild-init: no seccomp table for this architecture"
#endif

void Stmt(std::vector<sock_filter>* p, uint16_t code, uint32_t k) { p->push_back(BPF_STMT(code, k)); }

// The checks for one architecture, starting with the syscall number loaded.
void ArchBlock(std::vector<sock_filter>* p, const ArchTable& t) {
  constexpr uint32_t kDeny = SECCOMP_RET_ERRNO | EPERM;
  Stmt(p, BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr));
#if defined(__x86_64__)
  if (t.arch == AUDIT_ARCH_X86_64) {
    // x32 system calls (bit 30): not supported in containers here.
    p->push_back(BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, 0x40000000, 0, 1));
    Stmt(p, BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS);
  }
#endif
  for (int nr : t.denied) {
    p->push_back(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, static_cast<uint32_t>(nr), 0, 1));
    Stmt(p, BPF_RET | BPF_K, kDeny);
  }
  // clone3 hides its flags in memory: ENOSYS makes libc fall back to clone, whose flags we can see.
  p->push_back(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, static_cast<uint32_t>(t.clone3), 0, 1));
  Stmt(p, BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS);
  p->push_back(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, static_cast<uint32_t>(t.clone), 0, 4));
  Stmt(p, BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[0]));
  p->push_back(BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, kNamespaceFlags, 0, 1));
  Stmt(p, BPF_RET | BPF_K, kDeny);
  Stmt(p, BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
  Stmt(p, BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
}

}  // namespace

Status InstallSeccompFilter() {
  std::vector<sock_filter> native;
  ArchBlock(&native, kNative);
  std::vector<sock_filter> compat;
  if (kCompat.arch != 0) ArchBlock(&compat, kCompat);

  std::vector<sock_filter> prog;
  Stmt(&prog, BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch));
  // native arch: fall into the native block; else jump past it.
  prog.push_back(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, kNative.arch, 0, static_cast<uint8_t>(native.size())));
  prog.insert(prog.end(), native.begin(), native.end());
  if (!compat.empty()) {
    prog.push_back(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, kCompat.arch, 0, static_cast<uint8_t>(compat.size())));
    prog.insert(prog.end(), compat.begin(), compat.end());
  }
  Stmt(&prog, BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS);
  if (native.size() > 255 || compat.size() > 255) return Fail(E2BIG, "seccomp", "filter too long for a jump");
  struct sock_fprog fprog;
  fprog.len = static_cast<unsigned short>(prog.size());  // NOLINT(runtime/int)
  fprog.filter = prog.data();
  if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &fprog, 0, 0) < 0) return Errno("seccomp", "install the filter");
  return Status();
}

}  // namespace tsb
