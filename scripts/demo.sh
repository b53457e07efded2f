#!/usr/bin/env bash
# The quick start: install what is missing (as root), build a Release tree
# in build-release/, and run `entryfy-audit demo` on ./entryfy-demo.db (in
# the directory this is run from), replacing an earlier demo store. Extra
# arguments go to the demo (for example --seed 7 or --tz UTC). Warnings
# stay warnings here: the quick start must not fail on a newer compiler.
set -euo pipefail
here=$(pwd)
cd "$(dirname "$0")/.."
jobs=${JOBS:-2}
bash scripts/install-deps.sh
cmake -S . -B build-release -DCMAKE_BUILD_TYPE=Release -DEAUDIT_WERROR=OFF -DEAUDIT_BUILD_TESTS=OFF \
  -DEAUDIT_BUILD_BENCH=OFF >/dev/null
cmake --build build-release -j"$jobs" --target entryfy-audit-cli
bin=$(pwd)/build-release/tools/entryfy-audit/entryfy-audit
cd "$here"
exec "$bin" demo --db ./entryfy-demo.db --fresh "$@"
