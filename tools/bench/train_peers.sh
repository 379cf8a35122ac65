#!/usr/bin/env bash
# Training steps (fp32, AdamW with clipping, random weights and tokens):
# aligners vs PyTorch CPU on issue 18's two cases,
#   GPT-2 124M at B=8, T=256   and   SmolLM2-135M (Llama, tied) at B=4, T=256,
# each engine at 1 and 2 threads, PyTorch also with flush-to-zero
# (torch.set_flush_denormal(True)). Runs are interleaved per round
# (aligners, then each PyTorch variant), so load changes hit every engine
# alike; each run prints median wall and process CPU time per step. Optional
# (needs PyPI torch + transformers, installed on demand).
# Usage: tools/bench/train_peers.sh [build] [rounds] [steps] [cases]
#   cases: "gpt2 llama" (default), or one of them.
set -euo pipefail
BUILD=${1:-build}; ROUNDS=${2:-1}; STEPS=${3:-2}; CASES=${4:-"gpt2 llama"}
python3 -c "import torch, transformers" 2>/dev/null || python3 -m pip install -q torch transformers
PEER=$(mktemp /tmp/train_peer.XXXXXX.py)
trap 'rm -f "$PEER"' EXIT
cat >"$PEER" <<'PY'
import statistics, sys, time, torch, transformers
arch, B, T, threads, ftz, steps = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5] == "1", int(sys.argv[6])
torch.set_num_threads(threads)
torch.set_flush_denormal(ftz)
torch.manual_seed(0)
if arch == "gpt2":
    cfg = transformers.GPT2Config(resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0)
    model = transformers.GPT2LMHeadModel(cfg)
else:  # HuggingFaceTB/SmolLM2-135M's config.json
    cfg = transformers.LlamaConfig(hidden_size=576, intermediate_size=1536, num_hidden_layers=30,
                                   num_attention_heads=9, num_key_value_heads=3, vocab_size=49152,
                                   max_position_embeddings=8192, rope_theta=100000.0, rms_norm_eps=1e-5,
                                   tie_word_embeddings=True)
    model = transformers.LlamaForCausalLM(cfg)
model = model.float().train()
opt = torch.optim.AdamW(model.parameters(), lr=1e-4, weight_decay=0.1)
ids = torch.randint(0, cfg.vocab_size, (B, T))
wall, cpu = [], []
for s in range(steps + 1):  # step 0: warm-up
    t0, c0 = time.perf_counter(), time.process_time()
    loss = model(input_ids=ids, labels=ids).loss
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    opt.step(); opt.zero_grad()
    if s: wall.append(time.perf_counter() - t0); cpu.append(time.process_time() - c0)
w, c = statistics.median(wall), statistics.median(cpu)
print(f"cpu ms/step: {c*1e3:.1f} (all threads, median)")
print(f"ms/step: {w*1e3:.1f} (median)")
print(f"tokens/s: {B*T/w:.1f}")
PY
echo "load: $(uptime)"
for round in $(seq "$ROUNDS"); do
  for c in $CASES; do
    if [ "$c" = gpt2 ]; then ARGS=(--preset gpt2-124m --batch 8 --seq 256); B=8
    else ARGS=(--preset smollm2-135m --batch 4 --seq 256); B=4; fi
    for thr in 1 2; do
      echo "== round $round, $c B=$B T=256, $thr thread(s): aligners"
      "$BUILD/aligners" bench train "${ARGS[@]}" --steps "$STEPS" --threads "$thr" | grep -E "^(cpu ms|ms/step|GFLOP per|sgemm|of the|tokens/s)"
      for ftz in 0 1; do
        echo "== round $round, $c B=$B T=256, $thr thread(s): pytorch, flush_denormal=$ftz"
        python3 "$PEER" "$c" "$B" 256 "$thr" "$ftz" "$STEPS"
      done
      echo "load: $(uptime)"
    done
  done
done
