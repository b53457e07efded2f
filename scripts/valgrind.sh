#!/usr/bin/env bash
# valgrind memcheck over the unit-test suites of the normal build (build/),
# in-process (CK_FORK=no) so that every test runs under memcheck. Any error
# or definite leak fails the run. The suites that build large stores
# (integrity's mutation tables, 100,000-event queries, the 50,000-event rule
# stream) would take the better part of an hour under memcheck; they run
# under ASan+UBSan in every build instead. VALGRIND_SUITES overrides the
# list.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-build}
[ -d "$dir/tests" ] || { echo "valgrind: build $dir first" >&2; exit 1; }
status=0
suites=${VALGRIND_SUITES:-test_append test_store test_time test_search_parse test_devices test_report}
for name in $suites; do
  t=$dir/tests/$name
  [ -x "$t" ] || { echo "valgrind: $t is missing" >&2; status=1; continue; }
  log=$dir/valgrind-$name.log
  if CK_FORK=no CK_DEFAULT_TIMEOUT=3600 EAUDIT_TEST_TMP=$PWD/$dir/tests \
     valgrind --tool=memcheck --error-exitcode=99 --leak-check=full \
       --errors-for-leak-kinds=definite --track-origins=no --quiet \
       "$t" >"$log" 2>&1; then
    echo "RELIABILITY valgrind suite=$name errors=0"
  else
    echo "RELIABILITY valgrind suite=$name FAILED (see $log)" >&2
    tail -n 40 "$log" >&2
    status=1
  fi
done
exit $status
