{
  "targets": [
    {
      "target_name": "tftp_pump",
      "sources": ["native/tftp_pump.c"],
      "cflags": ["-O2", "-Wall", "-Wextra", "-Wno-unused-parameter"],
      "defines": ["_GNU_SOURCE"]
    }
  ]
}
