// listStats(dir): the names in a directory and the lstat data of each, in one
// call: [names, Float64Array of STAT_FIELDS doubles per name]. Node's lstatSync
// builds a Stats object (and, on Node 20, four Dates) per call; for a build
// context of tens of thousands of files that costs more than the system calls.
// A name that is not valid UTF-8 is left out, as the readdirSync path leaves
// it out (its decoded name does not exist). Names are sorted by their bytes (for UTF-8, code point order: Go's, and
// compareNames'); an entry removed between getdents and fstatat is left out. Errors throw an Error with `code`, `errno`, `syscall` and `path`.
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <numeric>
#include <string>
#include <vector>

#include <napi.h>
#include <uv.h>

namespace {

// mode, uid, gid, size, mtimeMs, ctimeMs, dev, ino, nlink, rdev
constexpr size_t kFields = 10;

Napi::Value ThrowErrno(Napi::Env env, int err, const char* syscall, const std::string& path) {
  const char* code = uv_err_name(-err);
  Napi::Error e = Napi::Error::New(env, std::string(code) + ": " + strerror(err) + ", " + syscall + " '" + path + "'");
  e.Set("code", Napi::String::New(env, code));
  e.Set("errno", Napi::Number::New(env, -err));
  e.Set("syscall", Napi::String::New(env, syscall));
  e.Set("path", Napi::String::New(env, path));
  e.ThrowAsJavaScriptException();
  return env.Undefined();
}

bool ValidUtf8(const unsigned char* s) {
  while (*s) {
    unsigned char c = *s;
    int n = c < 0x80 ? 0 : (c >> 5) == 0x6 ? 1 : (c >> 4) == 0xe ? 2 : (c >> 3) == 0x1e ? 3 : -1;
    if (n < 0) return false;
    uint32_t cp = n == 0 ? c : n == 1 ? (c & 0x1f) : n == 2 ? (c & 0x0f) : (c & 0x07);
    for (int i = 1; i <= n; i++) {
      if ((s[i] & 0xc0) != 0x80) return false;
      cp = (cp << 6) | (s[i] & 0x3f);
    }
    // Overlong forms, surrogates and values past U+10FFFF are invalid.
    if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) || cp > 0x10ffff ||
        (cp >= 0xd800 && cp <= 0xdfff)) {
      return false;
    }
    s += n + 1;
  }
  return true;
}

// The same arithmetic as Node's msFromTimeSpec (no fused multiply-add: see binding.gyp), so both paths give equal doubles.
double Ms(const struct timespec& t) {
  return static_cast<double>(t.tv_sec) * 1e3 + static_cast<double>(t.tv_nsec) / 1e6;
}

Napi::Value ListStats(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsString()) {
    Napi::TypeError::New(env, "listStats(dir: string)").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  const std::string dir = info[0].As<Napi::String>().Utf8Value();
  int fd = open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return ThrowErrno(env, errno, "scandir", dir);
  DIR* d = fdopendir(fd);
  if (d == nullptr) {
    int err = errno;
    close(fd);
    return ThrowErrno(env, err, "scandir", dir);
  }
  std::vector<std::string> names;
  std::vector<double> nums;
  for (;;) {
    errno = 0;
    struct dirent* e = readdir(d);
    if (e == nullptr) {
      if (errno != 0) {
        int err = errno;
        closedir(d);
        return ThrowErrno(env, err, "scandir", dir);
      }
      break;
    }
    const char* n = e->d_name;
    if (n[0] == '.' && (n[1] == '\0' || (n[1] == '.' && n[2] == '\0'))) continue;
    if (!ValidUtf8(reinterpret_cast<const unsigned char*>(n))) continue;
    struct stat st;
    if (fstatat(fd, n, &st, AT_SYMLINK_NOFOLLOW) != 0) {
      int err = errno;
      if (err == ENOENT) continue;
      closedir(d);
      return ThrowErrno(env, err, "lstat", dir + "/" + n);
    }
    names.emplace_back(n);
    const double row[kFields] = {
        static_cast<double>(st.st_mode), static_cast<double>(st.st_uid),   static_cast<double>(st.st_gid),
        static_cast<double>(st.st_size), Ms(st.st_mtim),                   Ms(st.st_ctim),
        static_cast<double>(st.st_dev),  static_cast<double>(st.st_ino),   static_cast<double>(st.st_nlink),
        static_cast<double>(st.st_rdev),
    };
    nums.insert(nums.end(), row, row + kFields);
  }
  closedir(d);
  std::vector<size_t> order(names.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return names[a] < names[b]; });
  Napi::Array list = Napi::Array::New(env, names.size());
  Napi::Float64Array stats = Napi::Float64Array::New(env, nums.size());
  double* out_rows = stats.Data();
  for (size_t k = 0; k < order.size(); k++) {
    const size_t i = order[k];
    list.Set(static_cast<uint32_t>(k), Napi::String::New(env, names[i]));
    memcpy(out_rows + k * kFields, nums.data() + i * kFields, kFields * sizeof(double));
  }
  Napi::Array out = Napi::Array::New(env, 2);
  out.Set(0u, list);
  out.Set(1u, stats);
  return out;
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("listStats", Napi::Function::New(env, ListStats));
  exports.Set("fields", Napi::Number::New(env, kFields));
  return exports;
}

}  // namespace

NODE_API_MODULE(tsbuild_context, Init)
