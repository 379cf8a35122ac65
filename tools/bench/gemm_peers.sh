#!/usr/bin/env bash
# SGEMM side by side: `aligners bench gemm` against OpenBLAS cblas_sgemm
# (Debian libopenblas-dev; a benchmark-only peer program compiled here into
# BUILD/bench/, never linked into aligners).
#
#   tools/bench/gemm_peers.sh [BUILD_DIR] [ROUNDS]      (default: build 3)
#
# OpenBLAS runs as a user gets it: OPENBLAS_* variables are cleared, so its
# DYNAMIC_ARCH picks its kernels from the CPU (on the Zen 5 development
# machine: Cooperlake, its AVX-512 kernels). Every (shape, threads) cell runs
# both programs ROUNDS times, interleaved, each run the best of 3 timed
# repetitions; the table shows the best per program, so background load hurts
# both sides alike. Env: SHAPES="M,N,K,ta,tb ..." overrides the shape list,
# THREADS="1 2", CLOCK=wall|cpu (cpu: process CPU time / threads, for when
# other work shares the machine).
set -euo pipefail
BUILD=${1:-build}
ROUNDS=${2:-3}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
AL="$BUILD/aligners"
[ -x "$AL" ] || { echo "gemm_peers.sh: $AL not built (run make)" >&2; exit 1; }

if [ ! -f /usr/include/x86_64-linux-gnu/cblas.h ] && [ ! -f /usr/include/cblas.h ]; then
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo=sudo
  echo "gemm_peers.sh: installing libopenblas-dev (benchmark peer only)" >&2
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y --no-install-recommends libopenblas-dev >/dev/null || {
    $sudo apt-get update >/dev/null &&
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y --no-install-recommends libopenblas-dev >/dev/null; }
fi
mkdir -p "$BUILD/bench"
PEER="$BUILD/bench/openblas_sgemm"
if [ ! -x "$PEER" ] || [ tools/bench/openblas_sgemm.cpp -nt "$PEER" ]; then
  ${CXX:-g++} -O2 -std=c++20 -Wall -Wextra tools/bench/openblas_sgemm.cpp -o "$PEER" -lopenblas
fi
openblas() { env $(env | sed -n 's/^\(OPENBLAS_[A-Z0-9_]*\)=.*/-u \1/p') "$PEER" "$@"; }

# M,N,K,trans_a,trans_b. Square sizes; then GPT-2-small layer shapes for a
# 256-token batch: QKV forward (x W^T: NT), MLP down-projection forward,
# backward dX (NN), dW (TN); square NT/TN; decode GEMVs (M = 1).
SHAPES=${SHAPES:-"1024,1024,1024,0,0 2048,2048,2048,0,0 3072,3072,3072,0,0 4096,4096,4096,0,0
256,2304,768,0,1 256,768,3072,0,1 256,768,2304,0,0 2304,768,256,1,0 2048,2048,2048,0,1 2048,2048,2048,1,0
1,2304,768,0,1 1,2304,768,0,0"}
THREADS=${THREADS:-"1 2"}
CLOCK=${CLOCK:-wall}

run() {  # prog threads m n k ta tb -> GFLOP/s
  local prog=$1 t=$2 m=$3 n=$4 k=$5 ta=$6 tb=$7 flags=()
  [ "$ta" = 1 ] && flags+=(--trans-a)
  [ "$tb" = 1 ] && flags+=(--trans-b)
  local common=(--m "$m" --n "$n" --k "$k" --threads "$t" --reps 3 --min-seconds 0.2 --clock "$CLOCK" "${flags[@]}")
  case $prog in
    aligners) "$AL" bench gemm "${common[@]}" ;;
    openblas) openblas "${common[@]}" ;;
  esac | awk '/^GFLOP\/s:/ {x = $2} END {print x + 0}'
}
max() { awk -v a="$1" -v b="$2" 'BEGIN { m = (a + 0 > b + 0) ? a : b; print m }'; }
pct() { awk -v a="$1" -v b="$2" 'BEGIN { r = (b + 0 > 0) ? 100 * a / b : 0; print r }'; }

core=$(openblas --m 8 --n 8 --k 8 --reps 1 --min-seconds 0 | sed -n 's/.*core=\([A-Za-z0-9]*\).*/\1/p')
path=$("$AL" bench gemm --m 8 --n 8 --k 8 --reps 1 --min-seconds 0 | sed -n 's/.*path=\([a-z0-9]*\).*/\1/p')
echo "# SGEMM GFLOP/s ($CLOCK clock), best of $ROUNDS interleaved rounds; $(date -u +%Y-%m-%d);" \
     "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# $(nproc) cores: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//');" \
     "aligners path: $path; OpenBLAS $(dpkg-query -W -f='${Version}' libopenblas0-pthread 2>/dev/null || echo '?') core: $core"
printf "| %-20s | %3s | %9s | %9s | %6s |\n" "MxNxK op" thr aligners OpenBLAS ratio
printf "|%s|%s|%s|%s|%s|\n" "----------------------" "-----" "-----------" "-----------" "--------"
for s in $SHAPES; do
  IFS=, read -r m n k ta tb <<<"$s"
  op="$([ "$ta" = 1 ] && echo T || echo N)$([ "$tb" = 1 ] && echo T || echo N)"
  for t in $THREADS; do
    a=0; o=0
    for r in $(seq "$ROUNDS"); do
      a=$(max "$a" "$(run aligners "$t" "$m" "$n" "$k" "$ta" "$tb")")
      o=$(max "$o" "$(run openblas "$t" "$m" "$n" "$k" "$ta" "$tb")")
    done
    printf "| %-20s | %3s | %9.1f | %9.1f | %5.0f%% |\n" "${m}x${n}x${k} $op" "$t" "$a" "$o" "$(pct "$a" "$o")"
  done
done
echo "# load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
