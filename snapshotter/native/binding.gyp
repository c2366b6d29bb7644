{
  "targets": [
    {
      "target_name": "tsbuild_fsops",
      "sources": ["fs-ops.cc"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=9", "NODE_ADDON_API_DISABLE_DEPRECATED", "NAPI_DISABLE_CPP_EXCEPTIONS"],
      "cflags_cc": ["-std=c++17", "-fvisibility=hidden", "-O2"],
      "cflags_cc!": ["-fno-exceptions"]
    }
  ]
}
