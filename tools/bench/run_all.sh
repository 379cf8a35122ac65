#!/usr/bin/env bash
# `make bench`: runs every peer benchmark script in tools/bench/ (*_peers.sh)
# against the given build tree, one after another.
#   tools/bench/run_all.sh [BUILD_DIR]
set -euo pipefail
BUILD=${1:-build}
cd "$(dirname "$0")/../.."
status=0
for script in tools/bench/*_peers.sh; do
  [ -x "$script" ] || continue
  echo "== $script"
  "$script" "$BUILD" || { echo "$script failed" >&2; status=1; }
done
exit $status
