#!/usr/bin/env bash
# Build the libFuzzer harnesses with clang (-fsanitize=fuzzer,address,
# undefined, the library instrumented too) in build-fuzz/, then fuzz each
# for FUZZ_SECONDS (default 25) starting from its committed corpus. New
# inputs go to build-fuzz/corpus/<harness>/ (commit the interesting ones
# under tests/fuzz/corpus/). Crashes are saved as build-fuzz/crash-* and
# fail the run.
set -euo pipefail
cd "$(dirname "$0")/../.."
secs=${FUZZ_SECONDS:-25}
jobs=${JOBS:-2}
# A fixed seed makes a CI run repeatable; FUZZ_SEED=0 lets libFuzzer pick.
seed=${FUZZ_SEED:-1}
dir=build-fuzz
command -v clang >/dev/null || { echo "fuzz: clang is required" >&2; exit 1; }
cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=Debug \
  -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
  -DCMAKE_C_FLAGS="-fsanitize=fuzzer-no-link" \
  -DEAUDIT_SANITIZE=ON -DEAUDIT_FUZZ=ON \
  -DEAUDIT_BUILD_BENCH=OFF -DEAUDIT_BUILD_TOOLS=OFF >/dev/null
harnesses=$(cd tests/fuzz && ls fuzz_*.c | sed 's/^fuzz_//; s/\.c$//')
targets=$(for h in $harnesses; do printf 'fuzz_%s ' "$h"; done)
# shellcheck disable=SC2086
cmake --build "$dir" -j"$jobs" --target $targets
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
export TMPDIR=$PWD/$dir
status=0
for h in $harnesses; do
  work=$dir/corpus/$h
  mkdir -p "$work"
  bin=$(find "$dir" -type f -name "fuzz_$h" -perm -u+x | head -n1)
  log=$dir/fuzz_$h.log
  if "$bin" -seed="$seed" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
       -artifact_prefix="$dir/crash-$h-" -print_final_stats=1 \
       "$work" "tests/fuzz/corpus/$h" >"$log" 2>&1; then
    runs=$(grep -Eo 'stat::number_of_executed_units: *[0-9]+' "$log" | grep -Eo '[0-9]+$' || echo 0)
    echo "RELIABILITY fuzz harness=$h seconds=$secs executions=$runs findings=0"
    [ "${runs:-0}" -gt 0 ] || { echo "fuzz: $h ran no input" >&2; status=1; }
  else
    echo "RELIABILITY fuzz harness=$h FAILED (see $log)" >&2
    tail -n 40 "$log" >&2
    status=1
  fi
done
exit $status
