{
  "targets": [
    {
      "target_name": "minidock",
      "sources": [
        "src/addon.cc",
        "src/container.c",
        "src/plan.c",
        "src/seccomp.c"
      ],
      "include_dirs": [
        "<!@(node -p \"require('node-addon-api').include\")"
      ],
      "defines": [
        "NAPI_VERSION=8",
        "NAPI_CPP_EXCEPTIONS",
        "_GNU_SOURCE"
      ],
      "cflags": [
        "-Wall",
        "-Wextra",
        "-O2"
      ],
      "cflags_c": [
        "-std=gnu11"
      ],
      "cflags!": [
        "-fno-exceptions"
      ],
      "cflags_cc!": [
        "-fno-exceptions"
      ],
      "cflags_cc": [
        "-fexceptions",
        "-std=gnu++17"
      ]
    },
    {
      "target_name": "minidock-shim",
      "type": "executable",
      "sources": [
        "src/shim.c",
        "src/container.c",
        "src/plan.c",
        "src/seccomp.c"
      ],
      "defines": [
        "_GNU_SOURCE"
      ],
      "cflags": [
        "-Wall",
        "-Wextra",
        "-O2"
      ],
      "cflags_c": [
        "-std=gnu11"
      ]
    }
  ]
}
