#include "spec.h"

#include "json.h"

namespace tsb {
namespace {

Error Bad(const std::string& field, const char* what) { return Fail(EINVAL, "spec", field + ": " + what); }

Status GetString(const Json& o, const char* key, std::string* out, bool required) {
  const Json* v = o.Get(key);
  if (v == nullptr || v->is_null()) return required ? Status(Bad(key, "missing")) : Status();
  if (!v->is_string()) return Bad(key, "not a string");
  *out = v->string();
  return Status();
}

Status GetBool(const Json& o, const char* key, bool* out) {
  const Json* v = o.Get(key);
  if (v == nullptr || v->is_null()) return Status();
  if (!v->is_bool()) return Bad(key, "not a boolean");
  *out = v->boolean();
  return Status();
}

template <typename T>
Status GetInt(const Json& o, const char* key, T* out) {
  const Json* v = o.Get(key);
  if (v == nullptr || v->is_null()) return Status();
  if (!v->is_number()) return Bad(key, "not a number");
  *out = static_cast<T>(v->integer());
  return Status();
}

Status GetStrings(const Json& o, const char* key, std::vector<std::string>* out) {
  const Json* v = o.Get(key);
  if (v == nullptr || v->is_null()) return Status();
  if (!v->is_array()) return Bad(key, "not an array");
  for (const Json& e : v->array()) {
    if (!e.is_string()) return Bad(key, "not an array of strings");
    out->push_back(e.string());
  }
  return Status();
}

Status GetIdMap(const Json& o, const char* key, std::vector<IdMapEntry>* out) {
  const Json* v = o.Get(key);
  if (v == nullptr || v->is_null()) return Status();
  if (!v->is_array()) return Bad(key, "not an array");
  for (const Json& e : v->array()) {
    if (!e.is_array() || e.array().size() != 3) return Bad(key, "entries must be [container, host, size]");
    IdMapEntry m;
    m.container = static_cast<uint32_t>(e.array()[0].integer());
    m.host = static_cast<uint32_t>(e.array()[1].integer());
    m.size = static_cast<uint32_t>(e.array()[2].integer());
    out->push_back(m);
  }
  return Status();
}

Status GetCaps(const Json& o, const char* key, uint64_t* out) {
  const Json* v = o.Get(key);
  if (v == nullptr || v->is_null()) return Status();
  if (!v->is_array()) return Bad(key, "not an array");
  for (const Json& e : v->array()) {
    if (!e.is_number() || e.integer() < 0 || e.integer() > 63) return Bad(key, "capability numbers are 0..63");
    *out |= uint64_t{1} << e.integer();
  }
  return Status();
}

}  // namespace

Status ParseSpec(const std::string& text, Spec* spec) {
  Json root;
  std::string error;
  if (!Json::Parse(text, &root, &error)) return Fail(EINVAL, "spec", "invalid json: " + error);
  if (!root.is_object()) return Bad("spec", "not an object");

  const Json* rootfs = root.Get("rootfs");
  if (rootfs == nullptr || !rootfs->is_object()) return Bad("rootfs", "missing");
  TSB_TRY(GetString(*rootfs, "type", &spec->rootfs_type, true));
  if (spec->rootfs_type == "bind") {
    TSB_TRY(GetString(*rootfs, "path", &spec->rootfs_path, true));
  } else if (spec->rootfs_type == "overlay") {
    TSB_TRY(GetStrings(*rootfs, "lowerdirs", &spec->lowerdirs));
    TSB_TRY(GetString(*rootfs, "upperdir", &spec->upperdir, false));
    TSB_TRY(GetString(*rootfs, "workdir", &spec->workdir, false));
    TSB_TRY(GetStrings(*rootfs, "options", &spec->rootfs_options));
    if (spec->lowerdirs.empty()) return Bad("rootfs.lowerdirs", "empty");
  } else {
    return Bad("rootfs.type", "must be bind or overlay");
  }
  TSB_TRY(GetBool(root, "readonlyRootfs", &spec->readonly_rootfs));
  TSB_TRY(GetString(root, "mountpoint", &spec->mountpoint, true));

  TSB_TRY(GetStrings(root, "args", &spec->args));
  if (spec->args.empty()) return Bad("args", "empty");
  TSB_TRY(GetStrings(root, "env", &spec->env));
  TSB_TRY(GetString(root, "cwd", &spec->cwd, false));
  TSB_TRY(GetInt(root, "uid", &spec->uid));
  TSB_TRY(GetInt(root, "gid", &spec->gid));
  if (const Json* g = root.Get("additionalGids"); g != nullptr && g->is_array()) {
    for (const Json& e : g->array()) spec->additional_gids.push_back(static_cast<uint32_t>(e.integer()));
  }
  TSB_TRY(GetString(root, "hostname", &spec->hostname, false));

  std::vector<std::string> ns;
  TSB_TRY(GetStrings(root, "namespaces", &ns));
  spec->ns_mount = spec->ns_pid = spec->ns_uts = spec->ns_ipc = spec->ns_net = spec->ns_cgroup = spec->ns_user = false;
  for (const std::string& n : ns) {
    if (n == "mount") {
      spec->ns_mount = true;
    } else if (n == "pid") {
      spec->ns_pid = true;
    } else if (n == "uts") {
      spec->ns_uts = true;
    } else if (n == "ipc") {
      spec->ns_ipc = true;
    } else if (n == "net") {
      spec->ns_net = true;
    } else if (n == "cgroup") {
      spec->ns_cgroup = true;
    } else if (n == "user") {
      spec->ns_user = true;
    } else {
      return Bad("namespaces", "unknown namespace");
    }
  }
  if (!spec->ns_mount) return Bad("namespaces", "the mount namespace is required");
  TSB_TRY(GetIdMap(root, "uidMap", &spec->uid_map));
  TSB_TRY(GetIdMap(root, "gidMap", &spec->gid_map));
  if (const Json* tool = root.Get("idMapTool"); tool != nullptr && tool->is_object()) {
    TSB_TRY(GetString(*tool, "uid", &spec->newuidmap, true));
    TSB_TRY(GetString(*tool, "gid", &spec->newgidmap, true));
  }

  if (const Json* mounts = root.Get("mounts"); mounts != nullptr && mounts->is_array()) {
    for (const Json& m : mounts->array()) {
      MountSpec ms;
      TSB_TRY(GetString(m, "type", &ms.type, true));
      if (ms.type != "bind" && ms.type != "tmpfs") return Bad("mounts.type", "must be bind or tmpfs");
      TSB_TRY(GetString(m, "source", &ms.source, ms.type == "bind"));
      TSB_TRY(GetString(m, "destination", &ms.destination, true));
      TSB_TRY(GetBool(m, "readonly", &ms.readonly));
      TSB_TRY(GetStrings(m, "options", &ms.options));
      spec->mounts.push_back(std::move(ms));
    }
  }
  if (const Json* files = root.Get("files"); files != nullptr && files->is_array()) {
    for (const Json& f : files->array()) {
      FileSpec fs;
      TSB_TRY(GetString(f, "path", &fs.path, true));
      TSB_TRY(GetString(f, "content", &fs.content, true));
      TSB_TRY(GetBool(f, "readonly", &fs.readonly));
      spec->files.push_back(std::move(fs));
    }
  }
  TSB_TRY(GetStrings(root, "maskedPaths", &spec->masked_paths));
  TSB_TRY(GetStrings(root, "readonlyPaths", &spec->readonly_paths));

  if (const Json* caps = root.Get("capabilities"); caps != nullptr && caps->is_object()) {
    TSB_TRY(GetCaps(*caps, "bounding", &spec->cap_bounding));
    TSB_TRY(GetCaps(*caps, "effective", &spec->cap_effective));
  }
  TSB_TRY(GetBool(root, "noNewPrivileges", &spec->no_new_privileges));
  TSB_TRY(GetBool(root, "seccomp", &spec->seccomp));
  if (const Json* rl = root.Get("rlimits"); rl != nullptr && rl->is_array()) {
    for (const Json& r : rl->array()) {
      RlimitSpec rs;
      TSB_TRY(GetInt(r, "resource", &rs.resource));
      TSB_TRY(GetInt(r, "soft", &rs.soft));
      TSB_TRY(GetInt(r, "hard", &rs.hard));
      spec->rlimits.push_back(rs);
    }
  }
  if (const Json* cg = root.Get("cgroup"); cg != nullptr && cg->is_object()) {
    spec->cgroup.enabled = true;
    TSB_TRY(GetString(*cg, "name", &spec->cgroup.name, true));
    TSB_TRY(GetInt(*cg, "memory", &spec->cgroup.memory));
    TSB_TRY(GetInt(*cg, "memorySwap", &spec->cgroup.memory_swap));
    TSB_TRY(GetInt(*cg, "cpuQuota", &spec->cgroup.cpu_quota));
    TSB_TRY(GetInt(*cg, "cpuPeriod", &spec->cgroup.cpu_period));
    TSB_TRY(GetInt(*cg, "pids", &spec->cgroup.pids));
    if (spec->cgroup.name.empty() || spec->cgroup.name.find('/') != std::string::npos || spec->cgroup.name[0] == '.') {
      return Bad("cgroup.name", "must be a plain name");
    }
  }
  if (const Json* tty = root.Get("tty"); tty != nullptr && tty->is_object()) {
    spec->tty = true;
    TSB_TRY(GetInt(*tty, "rows", &spec->rows));
    TSB_TRY(GetInt(*tty, "cols", &spec->cols));
  }
  TSB_TRY(GetBool(root, "init", &spec->init));
  TSB_TRY(GetInt(root, "umask", &spec->umask));
  return Status();
}

}  // namespace tsb
