/* libFuzzer harnesses (docs/reliability.md). Each file defines
 * LLVMFuzzerTestOneInput; built with clang -fsanitize=fuzzer,address,
 * undefined by tests/fuzz/run.sh, and replayed over its committed corpus
 * (tests/fuzz/corpus/<harness>/) by replay_main.c in every build. */
#ifndef EAUDIT_FUZZ_H
#define EAUDIT_FUZZ_H

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#endif
