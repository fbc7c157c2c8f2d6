#ifndef PALIER_FUZZ_DRIVER_H
#define PALIER_FUZZ_DRIVER_H
#include <stddef.h>
#include <stdint.h>

/// libFuzzer's driver (compiler-rt, FuzzerDriver.cpp): runs the fuzzing loop with the command
/// line's options, calling `callback` on every input. SwiftPM links an executable's own entry
/// point as `main`, so the targets call the driver instead of using libFuzzer's `main`.
int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));
#endif
