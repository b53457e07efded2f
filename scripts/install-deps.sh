#!/usr/bin/env bash
# Install the Debian packages of scripts/debian-packages.txt that are
# missing, when running as root; otherwise only name them. Used by
# scripts/test.sh and scripts/demo.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
mapfile -t pkgs < <(sed 's/#.*//; /^[[:space:]]*$/d' scripts/debian-packages.txt)
missing=()
if command -v dpkg-query >/dev/null; then
  for p in "${pkgs[@]}"; do
    dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null | grep -q '^ii' || missing+=("$p")
  done
fi
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -eq 0 ]; then
    apt-get update
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
  else
    echo "install-deps.sh: missing Debian packages (not root, not installing): ${missing[*]}" >&2
  fi
fi
