#!/usr/bin/env bash
# Register/shared-memory/spill report for every CUDA kernel, and the checks the
# CUDA backend promises (issue 5):
#   - no register spills in the attention, cross-entropy and AdamW kernels;
#   - the attention kernels use the tensor cores.
# This toolkit ships no cuobjdump/nvdisasm, so resources come from ptxas
# (-Xptxas -v) and tensor-core use from the PTX (wmma.mma.sync instructions,
# which ptxas lowers to HMMA on sm_80/sm_90), not from SASS.
#
# usage: tools/check_cuda_resources.sh [--markdown]   (prints the table; exit 1 on a failed check)
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/local/cuda/bin"
command -v nvcc >/dev/null || { echo "check_cuda_resources: nvcc not found" >&2; exit 2; }
markdown=0
[ "${1:-}" = --markdown ] && markdown=1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
nvflags=(-std=c++20 --expt-relaxed-constexpr -I. -O3)

[ $markdown = 1 ] && { echo "| file | kernel | arch | registers | static smem (B) | spill st/ld (B) |"; echo "|---|---|---|---|---|---|"; }
for cu in kernels/cuda/*.cu; do
  name=$(basename "$cu" .cu)
  for arch in 80 90; do
    log="$tmp/$name.$arch.log"
    nvcc "${nvflags[@]}" -arch=sm_$arch -Xptxas -v -c "$cu" -o "$tmp/$name.$arch.o" > "$log" 2>&1 || { cat "$log"; exit 1; }
    # ptxas prints, per entry function: "Compiling entry function 'X'",
    # "... N bytes spill stores, M bytes spill loads", "Used R registers, ... S bytes smem".
    awk -v file="$name" -v arch="$arch" -v md=$markdown '
      /Compiling entry function/ { match($0, /'"'"'[^'"'"']+'"'"'/); fn = substr($0, RSTART+1, RLENGTH-2); st = 0; ld = 0 }
      /bytes spill stores/ { st = $5; ld = $9 }
      /Used [0-9]+ registers/ {
        regs = $5; smem = 0
        if (match($0, /[0-9]+ bytes smem/)) smem = substr($0, RSTART, RLENGTH) + 0
        if (fn != "") {
          print file "\t" fn "\t" arch "\t" regs "\t" smem "\t" st "\t" ld
          fn = ""
        }
      }' "$log" >> "$tmp/rows.tsv"
  done
done

while IFS=$'\t' read -r file fn arch regs smem st ld; do
  pretty=$(echo "$fn" | c++filt | sed 's/(.*//; s/aligners::cuda:://')
  if [ $markdown = 1 ]; then
    echo "| $file | \`$pretty\` | sm_$arch | $regs | $smem | $st/$ld |"
  else
    printf '%-20s %-50s sm_%s regs=%-4s smem=%-6s spill=%s/%s\n' "$file" "$pretty" "$arch" "$regs" "$smem" "$st" "$ld"
  fi
  case "$file" in
    attention*|cross_entropy|adamw)
      if [ "$st" != 0 ] || [ "$ld" != 0 ]; then
        echo "check_cuda_resources: FAIL: $pretty (sm_$arch) spills registers ($st bytes stored, $ld loaded)" >&2
        fail=1
      fi ;;
  esac
done < "$tmp/rows.tsv"

# Tensor cores: the attention kernels' PTX must contain wmma.mma.sync.
for cu in kernels/cuda/attention.cu kernels/cuda/attention_backward.cu; do
  for arch in 80 90; do
    nvcc "${nvflags[@]}" -arch=sm_$arch -ptx "$cu" -o "$tmp/a.ptx"
    n=$(grep -c 'wmma.mma.sync' "$tmp/a.ptx" || true)
    [ $markdown = 1 ] || echo "tensor cores: $cu sm_$arch: $n wmma.mma.sync instructions in the PTX"
    if [ "$n" -eq 0 ]; then
      echo "check_cuda_resources: FAIL: $cu (sm_$arch) has no wmma.mma.sync: attention is not on the tensor cores" >&2
      fail=1
    fi
  done
done
[ $fail = 0 ] && { [ $markdown = 1 ] || echo "check_cuda_resources: OK"; }
exit $fail
