#!/usr/bin/env bash
# Build and test everything: a normal Debug build (build/) and an ASan+UBSan
# build (build-asan/), each with its ctest run. The normal build's tests
# include the ABI check, the constants and symbol records with their
# negative tests, and the consumer builds; the docs target runs when
# doxygen is present. Under CI=true, missing ABI or docs tools are errors.
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=${JOBS:-2}

bash scripts/install-deps.sh
if [ "${CI:-}" = true ]; then
  for tool in abidw abidiff doxygen; do
    command -v "$tool" >/dev/null || { echo "test.sh: $tool is required under CI" >&2; exit 1; }
  done
fi

# The central store tests (test_ship, the binding's test_ship.py) need a
# PostgreSQL server: a throwaway cluster when the server binaries exist,
# stopped on exit. Once it runs the suites must use it (EAUDIT_REQUIRE_PG);
# under CI=true it must start.
if ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  if bash scripts/pg-cluster.sh start; then
    trap 'bash scripts/pg-cluster.sh stop' EXIT
    eval "$(bash scripts/pg-cluster.sh env)"
    export EAUDIT_REQUIRE_PG=1
  elif [ "${CI:-}" = true ]; then
    echo "test.sh: the PostgreSQL test cluster did not start" >&2
    exit 1
  else
    echo "test.sh: no PostgreSQL test cluster; the central store tests skip" >&2
  fi
elif [ "${CI:-}" = true ]; then
  echo "test.sh: PostgreSQL server binaries are required under CI (postgresql)" >&2
  exit 1
fi

build_and_test() { # build-dir [cmake options...]
  local dir=$1
  shift
  cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=Debug "$@"
  cmake --build "$dir" -j"$jobs"
  ctest --test-dir "$dir" --output-on-failure -j"$jobs" | tee "$dir/ctest.log"
}

build_and_test build
if command -v doxygen >/dev/null; then
  cmake --build build --target docs
fi
build_and_test build-asan -DEAUDIT_SANITIZE=ON
# The optimised build the quick start makes, with warnings as errors: -O2
# finds maybe-uninitialized paths that the Debug builds do not.
cmake -S . -B build-release-check -DCMAKE_BUILD_TYPE=Release -DEAUDIT_WERROR=ON \
  -DEAUDIT_BUILD_TESTS=OFF -DEAUDIT_BUILD_BENCH=OFF >/dev/null
cmake --build build-release-check -j"$jobs"

for dir in build build-asan; do
  echo "== ctest summary: $dir"
  grep -E 'tests passed|tests failed|Total Test time' "$dir/ctest.log"
done
