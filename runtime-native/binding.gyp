{
  "target_defaults": {
    "cflags_cc": ["-std=c++17", "-Wall", "-Wextra", "-Wno-missing-field-initializers", "-O2"],
    "cflags_cc!": ["-std=gnu++17"]
  },
  "targets": [
    {
      "target_name": "tsbuild_native",
      "sources": ["src/addon.cc", "src/channel.cc"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=9", "NODE_ADDON_API_DISABLE_DEPRECATED", "NAPI_DISABLE_CPP_EXCEPTIONS"],
      "cflags_cc": ["-fvisibility=hidden"]
    },
    {
      "target_name": "tsbuild-init",
      "type": "executable",
      "sources": [
        "src/init/main.cc",
        "src/init/container.cc",
        "src/init/cgroup.cc",
        "src/init/mount-util.cc",
        "src/init/seccomp.cc",
        "src/channel.cc",
        "src/json.cc",
        "src/spec.cc"
      ],
      "cflags_cc": ["-fvisibility=hidden", "-ffunction-sections", "-fdata-sections"],
      "ldflags": ["-static", "-s", "-Wl,--gc-sections"]
    }
  ]
}
