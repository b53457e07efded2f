#!/usr/bin/env bash
# Install the build into a temporary prefix and build consumers against it:
# (a) pkg-config, shared; (b) CMake find_package, shared and static;
# (c) pkg-config --static, with the whole archive linked so that every
# dependency the library has, not only the ones these calls need, must be
# named by Requires.private/Libs.private.
# usage: run.sh BUILD_DIR WORK_DIR C_COMPILER
set -euo pipefail
build=$1 work=$2 cc=$3
here=$(cd "$(dirname "$0")" && pwd)
cflags=(-std=c11 -Wall -Wextra -Werror)

rm -rf "$work" && mkdir -p "$work"
cmake --install "$build" --prefix "$work/prefix" >/dev/null
pc=$(find "$work/prefix" -name libentryfy-audit.pc)
export PKG_CONFIG_PATH="$(dirname "$pc")"
libdir=$(pkg-config --variable=libdir libentryfy-audit)

echo "== (a) pkg-config, shared"
# shellcheck disable=SC2046
"$cc" "${cflags[@]}" "$here/consumer.c" -o "$work/pc_shared" \
  $(pkg-config --cflags --libs libentryfy-audit) -Wl,-rpath,"$libdir"
# Capture first: with pipefail, grep -q closing the pipe early would fail
# the pipeline through ldd's SIGPIPE.
deps=$(ldd "$work/pc_shared")
grep -qF "$libdir/libentryfy-audit.so.1" <<<"$deps" ||
  { echo "pc_shared is not linked with $libdir"; exit 1; }
"$work/pc_shared"

echo "== (b) CMake find_package(EntryfyAudit 1)"
cmake -S "$here/cmake" -B "$work/cmake" -DCMAKE_C_COMPILER="$cc" \
  -DCMAKE_PREFIX_PATH="$work/prefix" -DCMAKE_BUILD_TYPE=Debug >/dev/null
cmake --build "$work/cmake" >/dev/null
"$work/cmake/consumer_shared"
"$work/cmake/consumer_static"

echo "== (c) pkg-config --static"
rm -f "$libdir"/libentryfy-audit.so*
libs=$(pkg-config --static --libs libentryfy-audit)
libs=${libs/-lentryfy-audit/-Wl,--whole-archive -lentryfy-audit -Wl,--no-whole-archive}
# shellcheck disable=SC2046,SC2086
"$cc" "${cflags[@]}" "$here/consumer.c" -o "$work/pc_static" \
  $(pkg-config --static --cflags libentryfy-audit) $libs
dyn=$(readelf -d "$work/pc_static")
if grep -q 'libentryfy-audit' <<<"$dyn"; then
  echo "pc_static needs the shared library"; exit 1
fi
"$work/pc_static"
echo "consumers: OK"
