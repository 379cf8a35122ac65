#!/usr/bin/env bash
# Installs what the build and tests need from Debian's packages. Only doctest
# is required (header-only test framework); `fuzz` adds clang's libFuzzer
# runtime. Runs as root on the machines here; uses sudo otherwise.
set -euo pipefail
need=()
[ -f /usr/include/doctest/doctest.h ] || need+=(doctest-dev)
command -v cmake >/dev/null || need+=(cmake)
command -v g++ >/dev/null || need+=(g++)
if [ "${1:-}" = fuzz ]; then
  command -v clang++ >/dev/null || need+=(clang)
  command -v jq >/dev/null || need+=(jq)  # run_fuzz.sh: tokenizer seeds from the component vectors
  ls /usr/lib/llvm-*/lib/clang/*/lib/linux/libclang_rt.fuzzer-x86_64.a >/dev/null 2>&1 || need+=(libclang-rt-dev)
fi
[ ${#need[@]} -eq 0 ] && exit 0
sudo=""
[ "$(id -u)" -eq 0 ] || sudo=sudo
echo "tools/deps.sh: installing ${need[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get install -y --no-install-recommends "${need[@]}" >/dev/null || {
  $sudo apt-get update >/dev/null && $sudo apt-get install -y --no-install-recommends "${need[@]}" >/dev/null
}
