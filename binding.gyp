{
  "targets": [
    {
      "target_name": "vigint_scan",
      "sources": ["native/scan.c"],
      "defines": ["NAPI_VERSION=8"],
      "cflags": ["-O2", "-Wall", "-Wextra", "-pthread"],
      "ldflags": ["-pthread"]
    }
  ]
}
