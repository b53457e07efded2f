#!/usr/bin/env bash
# Compare a built libentryfy-audit.so with the committed ABI baseline.
# usage: abi-check.sh BASELINE.abi LIBRARY.so HEADERS_DIR
# Fails on any nonzero abidiff exit: abidiff sets only bit 4 for some
# incompatible changes (a changed parameter list), so no single bit is enough.
set -euo pipefail
baseline=$1 lib=$2 headers=$3

echo "== additions since the baseline (informational)"
abidiff --headers-dir1 "$headers" --headers-dir2 "$headers" "$baseline" "$lib" || true

echo "== changes to the baseline's ABI"
rc=0
abidiff --no-added-syms --headers-dir1 "$headers" --headers-dir2 "$headers" \
  "$baseline" "$lib" || rc=$?
if [ "$rc" -ne 0 ]; then
  echo "abi-check: FAIL (abidiff exit $rc) against $baseline"
  exit 1
fi
echo "abi-check: OK"
