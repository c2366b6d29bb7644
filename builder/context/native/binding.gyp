{
  "targets": [
    {
      "target_name": "tsbuild_context",
      "sources": ["list-stats.cc"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=9", "NODE_ADDON_API_DISABLE_DEPRECATED", "NAPI_DISABLE_CPP_EXCEPTIONS"],
      "cflags_cc": ["-std=c++17", "-O2", "-ffp-contract=off", "-Wall", "-Wextra", "-fvisibility=hidden"],
      "cflags_cc!": ["-std=gnu++17"]
    }
  ]
}
