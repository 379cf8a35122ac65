#!/usr/bin/env bash
# Where a training step's CPU time goes: `perf record` (cpu-clock sampling:
# works without hardware counters, e.g. in a VM) around `aligners bench
# train`, then the leaf symbols of the samples taken during the timed step
# (after model creation and the warm-up step) grouped by op.
# Usage: tools/bench/train_profile.sh [build] [threads] [bench-train args...]
#   e.g. tools/bench/train_profile.sh build 2 --preset gpt2-124m --batch 8 --seq 256
set -euo pipefail
BUILD=${1:-build}; THREADS=${2:-2}; shift 2 || true
[ $# -gt 0 ] || set -- --preset gpt2-124m --batch 8 --seq 256
DATA=$(mktemp /tmp/train_profile.XXXXXX.data); OUT=$(mktemp /tmp/train_profile.XXXXXX.txt)
trap 'rm -f "$DATA" "$OUT"' EXIT
perf record -q -k CLOCK_MONOTONIC -e cpu-clock -F 499 -o "$DATA" -- "$BUILD/aligners" bench train "$@" \
  --threads "$THREADS" --warmup 1 --steps 1 --no-sgemm-reference >"$OUT"
grep -E "^(model|step|cpu ms)" "$OUT"
T0=$(sed -n 's/^timed steps from CLOCK_MONOTONIC \([0-9.]*\) s$/\1/p' "$OUT")
perf report -i "$DATA" --time "$T0," --no-children --sort symbol --stdio 2>/dev/null | python3 -c '
import re, sys
groups = [  # (name, regex on the symbol), first match wins
  ("model creation (excluded)", r"Model::create|rng_uniform|randn|__sincos_fma|__ieee754_log|_dl_|dl_main|do_lookup|tok::"),
  ("sgemm micro-kernel", r"gemm::.*(tile|micro)\b|gemm::.*::tile<|gemm::.*::micro"),
  ("sgemm packing + driver", r"pack_|sgemm|wait_for|small_n[nt]"),
  ("attention", r"attention|attend_one|attn_|::dot\b|::axpy\b|__expf"),
  ("cross-entropy", r"cross_entropy"),
  ("norms", r"layernorm|rmsnorm|residual_norm|head_rms|head_layer"),
  ("activations", r"gelu|swiglu|geglu|sigmoid|tanh"),
  ("rope", r"rope|__sincosf"),
  ("bias add / dbias", r"matmul_forward|matmul_backward"),
  ("optimizer (AdamW, norm)", r"adamw|sum_squares"),
  ("memset / copy", r"memset|memmove|memcpy|::fill"),
  ("embedding", r"embedding"),
  ("pool wait / scheduler", r"ThreadPool|spin_until|sched|futex|yield|switch|_raw_spin|cpu_relax|do_syscall|entry_SYSCALL|irqentry|syscall"),
  ("page faults / kernel memory", r"page|mm_fault|lruvec|folio|memcg|rmap|vma|pte|tlb"),
]
tot, other = {}, []
for line in sys.stdin:
    m = re.match(r"\s*([0-9.]+)%\s+\[[.k]\]\s+(.*?)\s*$", line)
    if not m: continue
    pct, sym = float(m.group(1)), m.group(2)
    name = next((n for n, r in groups if re.search(r, sym)), "other")
    tot[name] = tot.get(name, 0.0) + pct
    if name == "other": other.append((pct, sym))
tot.pop("model creation (excluded)", 0.0)
step = sum(tot.values())
print("shares of the timed step (CPU time, all threads):")
for n, v in sorted(tot.items(), key=lambda kv: -kv[1]):
    print(f"  {n:30s} {100*v/step:5.1f}%")
print("largest in other:", "; ".join(f"{100*p/step:.1f}% {s[:60]}" for p, s in sorted(other, reverse=True)[:5]))
'
