// Filesystem calls that Node's fs module lacks and the snapshotter needs:
// extended attributes on a path without following a final symlink, and mknod.
// Each function is synchronous (one quick syscall) and throws an Error with
// `code` (e.g. "ENOENT"), `errno`, `syscall` and `path`, as Node's fs does.
#include <napi.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <sys/xattr.h>

namespace tsb {
namespace {

const char *ErrnoName(int err) {
  switch (err) {
    case ENOENT: return "ENOENT";
    case EEXIST: return "EEXIST";
    case EPERM: return "EPERM";
    case EACCES: return "EACCES";
    case ENOTDIR: return "ENOTDIR";
    case EISDIR: return "EISDIR";
    case EINVAL: return "EINVAL";
    case ENOSPC: return "ENOSPC";
    case EROFS: return "EROFS";
    case ENAMETOOLONG: return "ENAMETOOLONG";
    case ELOOP: return "ELOOP";
    case ERANGE: return "ERANGE";
    case E2BIG: return "E2BIG";
    case EDQUOT: return "EDQUOT";
    case ENODATA: return "ENODATA";
    case EOPNOTSUPP: return "EOPNOTSUPP";
    default: return "EIO";
  }
}

void ThrowErrno(Napi::Env env, int err, const char *syscall, const std::string &path) {
  std::string message = std::string(ErrnoName(err)) + ": " + std::strerror(err) + ", " + syscall + " '" + path + "'";
  Napi::Error error = Napi::Error::New(env, message);
  error.Set("code", Napi::String::New(env, ErrnoName(err)));
  error.Set("errno", Napi::Number::New(env, -err));
  error.Set("syscall", Napi::String::New(env, syscall));
  error.Set("path", Napi::String::New(env, path));
  error.ThrowAsJavaScriptException();
}

bool StringArg(const Napi::CallbackInfo &info, size_t i, std::string *out) {
  if (info.Length() <= i || !info[i].IsString()) {
    Napi::TypeError::New(info.Env(), "argument " + std::to_string(i) + " must be a string").ThrowAsJavaScriptException();
    return false;
  }
  *out = info[i].As<Napi::String>().Utf8Value();
  return true;
}

// llistxattr(path) -> string[]; [] when the filesystem has no xattr support.
Napi::Value ListXattrs(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  std::string path;
  if (!StringArg(info, 0, &path)) return env.Undefined();
  std::vector<char> buf(1024);
  ssize_t n;
  for (;;) {
    n = llistxattr(path.c_str(), buf.data(), buf.size());
    if (n >= 0) break;
    if (errno == ENOTSUP) return Napi::Array::New(env, 0);
    if (errno != ERANGE) {
      ThrowErrno(env, errno, "llistxattr", path);
      return env.Undefined();
    }
    ssize_t need = llistxattr(path.c_str(), nullptr, 0);
    if (need < 0) {
      ThrowErrno(env, errno, "llistxattr", path);
      return env.Undefined();
    }
    buf.resize(static_cast<size_t>(need) + 1);
  }
  Napi::Array names = Napi::Array::New(env);
  uint32_t count = 0;
  for (ssize_t i = 0; i < n;) {
    size_t len = strnlen(buf.data() + i, static_cast<size_t>(n - i));
    if (len > 0) names.Set(count++, Napi::String::New(env, buf.data() + i, len));
    i += static_cast<ssize_t>(len) + 1;
  }
  return names;
}

// lgetxattr(path, name) -> Buffer, or null when the attribute is absent.
Napi::Value GetXattr(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  std::string path, name;
  if (!StringArg(info, 0, &path) || !StringArg(info, 1, &name)) return env.Undefined();
  std::vector<char> buf(256);
  ssize_t n;
  for (;;) {
    n = lgetxattr(path.c_str(), name.c_str(), buf.data(), buf.size());
    if (n >= 0) break;
    if (errno == ENODATA || errno == ENOTSUP) return env.Null();
    if (errno != ERANGE) {
      ThrowErrno(env, errno, "lgetxattr", path);
      return env.Undefined();
    }
    ssize_t need = lgetxattr(path.c_str(), name.c_str(), nullptr, 0);
    if (need < 0) {
      ThrowErrno(env, errno, "lgetxattr", path);
      return env.Undefined();
    }
    buf.resize(static_cast<size_t>(need) + 1);
  }
  return Napi::Buffer<char>::Copy(env, buf.data(), static_cast<size_t>(n));
}

// lsetxattr(path, name, value: Buffer)
Napi::Value SetXattr(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  std::string path, name;
  if (!StringArg(info, 0, &path) || !StringArg(info, 1, &name)) return env.Undefined();
  if (info.Length() < 3 || !info[2].IsBuffer()) {
    Napi::TypeError::New(env, "argument 2 must be a Buffer").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  Napi::Buffer<char> value = info[2].As<Napi::Buffer<char>>();
  if (lsetxattr(path.c_str(), name.c_str(), value.Data(), value.Length(), 0) != 0) {
    ThrowErrno(env, errno, "lsetxattr", path);
  }
  return env.Undefined();
}

// lremovexattr(path, name); absent attributes are not an error.
Napi::Value RemoveXattr(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  std::string path, name;
  if (!StringArg(info, 0, &path) || !StringArg(info, 1, &name)) return env.Undefined();
  if (lremovexattr(path.c_str(), name.c_str()) != 0 && errno != ENODATA && errno != ENOTSUP) {
    ThrowErrno(env, errno, "lremovexattr", path);
  }
  return env.Undefined();
}

// mknod(path, mode, major, minor): mode carries the file type (S_IFCHR, S_IFBLK, S_IFIFO, S_IFSOCK).
Napi::Value Mknod(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  std::string path;
  if (!StringArg(info, 0, &path)) return env.Undefined();
  if (info.Length() < 4 || !info[1].IsNumber() || !info[2].IsNumber() || !info[3].IsNumber()) {
    Napi::TypeError::New(env, "mode, major and minor must be numbers").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  mode_t mode = static_cast<mode_t>(info[1].As<Napi::Number>().Uint32Value());
  dev_t dev = makedev(info[2].As<Napi::Number>().Uint32Value(), info[3].As<Napi::Number>().Uint32Value());
  if (mknod(path.c_str(), mode, dev) != 0) ThrowErrno(env, errno, "mknod", path);
  return env.Undefined();
}

}  // namespace

Napi::Object Register(Napi::Env env, Napi::Object exports) {
  exports.Set("listXattrs", Napi::Function::New(env, ListXattrs));
  exports.Set("getXattr", Napi::Function::New(env, GetXattr));
  exports.Set("setXattr", Napi::Function::New(env, SetXattr));
  exports.Set("removeXattr", Napi::Function::New(env, RemoveXattr));
  exports.Set("mknod", Napi::Function::New(env, Mknod));
  return exports;
}

}  // namespace tsb

static Napi::Object Init(Napi::Env env, Napi::Object exports) { return tsb::Register(env, exports); }

NODE_API_MODULE(tsbuild_fsops, Init)
