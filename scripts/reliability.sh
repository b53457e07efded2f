#!/usr/bin/env bash
# The reliability checks that need their own builds (docs/reliability.md):
# libFuzzer for a short fixed time per harness, the TSan build of the
# multi-threaded tests, and valgrind memcheck over the unit tests. The
# crash, fault, contention and hostile-input harnesses and the planted
# defects run in scripts/test.sh's ctest (normal and ASan+UBSan builds).
# Run after scripts/test.sh (valgrind uses build/).
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)
bash tests/fuzz/run.sh
bash scripts/tsan.sh
bash scripts/valgrind.sh build
echo "RELIABILITY extra-builds seconds=$(( $(date +%s) - start ))"
