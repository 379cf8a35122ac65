#!/usr/bin/env bash
# Long-prompt prefill on the CPU: aligners vs PyTorch (transformers, SDPA
# attention) on the same random-init SmolLM2-135M-shaped Llama model (hidden
# 576, 9 heads, 3 kv heads, 30 layers, intermediate 1536, vocabulary 49152),
# the same prompt lengths and thread counts, interleaved in one run. PyTorch
# runs with and without flush-to-zero (torch.set_flush_denormal). Both sides
# time one prefill of a T-token prompt (last-position logits only, as HF
# generate's prefill does, then one greedy token) and the attention op alone
# (one layer, causal, grouped-query). Reports medians of REPS, wall and
# process CPU-seconds (all threads; steadier on a loaded machine).
# Optional (needs PyPI torch + transformers, installed on demand).
#   tools/bench/prefill_peers.sh [BUILD] [THREADS...] [SEQS...] [REPS]
#   defaults: build, "1 2", "512 1024 2048", 3
set -euo pipefail
BUILD=${1:-build}; THREADS=${2:-"1 2"}; SEQS=${3:-"512 1024 2048"}; REPS=${4:-3}
python3 -c "import torch, transformers" 2>/dev/null || python3 -m pip install -q torch transformers
echo "load: $(uptime)"
for T in $SEQS; do
  for N in $THREADS; do
    echo "== T=$T threads=$N: aligners =="
    ALIGNERS_THREADS=$N "$BUILD/aligners" bench attention --seq "$T" --threads "$N" --reps "$REPS" --no-reference
    echo "== T=$T threads=$N: pytorch (sdpa) =="
    python3 - "$T" "$N" "$REPS" <<'PY'
import sys, time, statistics, torch, transformers
T, threads, reps = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
torch.set_num_threads(threads)
torch.manual_seed(0)
cfg = transformers.LlamaConfig(hidden_size=576, intermediate_size=1536, num_hidden_layers=30,
                               num_attention_heads=9, num_key_value_heads=3, vocab_size=49152,
                               max_position_embeddings=max(T + 1, 2048), rope_theta=100000.0,
                               tie_word_embeddings=False)
model = transformers.AutoModelForCausalLM.from_config(cfg, attn_implementation="sdpa").float().eval()
ids = torch.tensor([[(t * 31 + 11) % cfg.vocab_size for t in range(T)]])
q = torch.rand(1, 9, T, 64) * 2 - 1
k = torch.rand(1, 3, T, 64) * 2 - 1
v = torch.rand(1, 3, T, 64) * 2 - 1

def timed(fn):
    w, c = [], []
    for _ in range(reps):
        t0, c0 = time.perf_counter(), time.process_time()
        fn()
        w.append(time.perf_counter() - t0)
        c.append(time.process_time() - c0)
    return statistics.median(w), statistics.median(c)

def prefill():
    out = model(input_ids=ids, use_cache=True, logits_to_keep=1)
    out.logits[:, -1].argmax(-1)

def attn():
    torch.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=True, enable_gqa=True)

pairs = T * (T + 1) / 2 * 9
with torch.inference_mode():
    prefill()  # warm-up
    for ftz in (False, True):
        torch.set_flush_denormal(ftz)
        aw, ac = timed(attn)
        pw, pc = timed(prefill)
        tag = "ftz" if ftz else "default"
        print(f"[{tag}] attention forward (sdpa) {aw*1e3:9.1f} ms  {ac*1e3:9.1f} cpu-ms  "
              f"{pairs*4*64/1e9/aw:6.1f} GFLOP/s  {pairs*4*64/1e9/max(ac,1e-9):6.1f} GFLOP per cpu-s")
        print(f"[{tag}] prefill of {T} tokens: {pw:.2f} s wall, {pc:.2f} cpu-s (median of {reps})")
PY
  done
done
echo "load: $(uptime)"
