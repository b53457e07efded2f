/* libFuzzer harnesses (docs/reliability.md). Each file defines
 * LLVMFuzzerTestOneInput; built with clang -fsanitize=fuzzer,address,
 * undefined by tests/fuzz/run.sh, and replayed over its committed corpus
 * (tests/fuzz/corpus/<harness>/) by replay_main.c in every build. */
#ifndef EAUDIT_FUZZ_H
#define EAUDIT_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A property that must hold: otherwise say which and stop: abort() under
 * libFuzzer (a finding), exit status 70 in a corpus replay (so that ctest
 * can also match the message, as the planted-defect tests do). */
#ifdef EAUDIT_FUZZ_REPLAY
#define FUZZ_STOP() exit(70)
#else
#define FUZZ_STOP() abort()
#endif
#define FUZZ_CHECK(cond, what)                                             \
  do {                                                                     \
    if (!(cond)) {                                                         \
      fprintf(stderr, "fuzz check failed: %s\n", what);                    \
      FUZZ_STOP();                                                         \
    }                                                                      \
  } while (0)

#endif
