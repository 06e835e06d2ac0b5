{
  "targets": [
    {
      "target_name": "vigint_scan",
      "sources": ["native/scan.c"],
      "cflags": ["-O2", "-Wall", "-Wextra"]
    }
  ]
}
