#ifndef WARDEN_FUZZER_DRIVER_H
#define WARDEN_FUZZER_DRIVER_H
#include <stddef.h>
#include <stdint.h>

/// libFuzzer's documented entry point for programs that own `main` (compiler-rt,
/// FuzzerDriver.cpp). SwiftPM renames an executable's `main` to `MODULE_main` and links
/// with `--defsym main=MODULE_main`, so libFuzzer's own `main` never runs; each target's
/// main.swift calls this instead.
int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));

#endif
