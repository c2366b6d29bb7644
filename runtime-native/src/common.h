// Shared plumbing for the helper and the addon: errors as values, RAII fds.
// Nothing here throws; every fallible function returns Status or Result<T>.
#ifndef TSB_COMMON_H_
#define TSB_COMMON_H_

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <string>
#include <utility>

namespace tsb {

// One failure: the errno (0 when none applies), the set-up step that failed and a
// lower-case message naming the fault.
struct Error {
  int err = 0;
  std::string step;
  std::string msg;
  std::string syscall;  // the system call that failed, when one did and it is known
};

class Status {
 public:
  Status() = default;
  Status(Error e) : ok_(false), error_(std::move(e)) {}  // NOLINT(runtime/explicit)
  bool ok() const { return ok_; }
  const Error& error() const { return error_; }

 private:
  bool ok_ = true;
  Error error_;
};

template <typename T>
class Result {
 public:
  Result(T value) : ok_(true), value_(std::move(value)) {}  // NOLINT(runtime/explicit)
  Result(Error e) : ok_(false), error_(std::move(e)) {}     // NOLINT(runtime/explicit)
  Result(Status s) : ok_(false), error_(s.error()) {}       // NOLINT(runtime/explicit)
  bool ok() const { return ok_; }
  T& value() { return value_; }
  const Error& error() const { return error_; }
  Status status() const { return ok_ ? Status() : Status(error_); }

 private:
  bool ok_;
  T value_{};
  Error error_;
};

inline std::string Format(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
inline std::string Format(const char* fmt, ...) {
  char buf[1024];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(buf, sizeof(buf), fmt, ap);
  va_end(ap);
  if (n < 0) return std::string();
  if (static_cast<size_t>(n) < sizeof(buf)) return std::string(buf, n);
  std::string out(static_cast<size_t>(n) + 1, '\0');
  va_start(ap, fmt);
  vsnprintf(&out[0], out.size(), fmt, ap);
  va_end(ap);
  out.resize(static_cast<size_t>(n));
  return out;
}

// An error from the current errno.
inline Error Errno(const std::string& step, const std::string& msg) { return Error{errno, step, msg, ""}; }
// errno from a named system call.
inline Error SysErr(const char* syscall, const std::string& step, const std::string& msg) {
  return Error{errno, step, msg, syscall};
}
inline Error Fail(int err, const std::string& step, const std::string& msg) { return Error{err, step, msg, ""}; }

#define TSB_TRY(expr)                    \
  do {                                   \
    ::tsb::Status tsb_status_ = (expr);  \
    if (!tsb_status_.ok()) return tsb_status_; \
  } while (0)

// Owns a file descriptor and closes it on scope exit.
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  UniqueFd(UniqueFd&& o) noexcept : fd_(o.release()) {}
  UniqueFd& operator=(UniqueFd&& o) noexcept {
    if (this != &o) reset(o.release());
    return *this;
  }
  ~UniqueFd() { reset(); }
  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  int release() {
    int fd = fd_;
    fd_ = -1;
    return fd;
  }
  void reset(int fd = -1) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }

 private:
  int fd_ = -1;
};

// write(2) until done, retrying on EINTR.
inline bool WriteAll(int fd, const void* data, size_t len) {
  const char* p = static_cast<const char*>(data);
  while (len > 0) {
    ssize_t n = ::write(fd, p, len);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    p += n;
    len -= static_cast<size_t>(n);
  }
  return true;
}

}  // namespace tsb

#endif  // TSB_COMMON_H_
