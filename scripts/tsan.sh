#!/usr/bin/env bash
# ThreadSanitizer build (build-tsan/, clang -fsanitize=thread) of the
# multi-threaded tests: the contention harness (8 processes x 4 threads,
# a handle each) and the append/store suites.
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=${JOBS:-2}
dir=build-tsan
cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=Debug \
  -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
  -DCMAKE_C_FLAGS="-fsanitize=thread -fno-omit-frame-pointer" \
  -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=thread" \
  -DEAUDIT_BUILD_BENCH=OFF -DEAUDIT_BUILD_TOOLS=OFF >/dev/null
cmake --build "$dir" -j"$jobs" --target test_rel_contention test_store test_append
export TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1"
# Fewer appends per thread: TSan makes each one ~10x slower; the
# interleavings are what it checks.
EAUDIT_REL_ROUNDS=${TSAN_ROUNDS:-200} ctest --test-dir "$dir" --output-on-failure \
  -R '^(test_rel_contention|test_store|test_append)$'
