#!/usr/bin/env bash
# Decode speed, batch 1, against the memory-bandwidth floor: aligners
# (`bench generate`, fp32 and bf16 weights) vs transformers (PyTorch CPU,
# fp32, greedy generate with the KV cache) on random weights of the same
# shapes, at 1 and 2 threads, interleaved (aligners, then PyTorch, per
# thread count). Shapes: GPT-2 124M and SmolLM2-135M (hidden 576, 9 heads,
# 3 KV heads, 30 layers, intermediate 1536, vocabulary 49152, tied).
# Prints ms/token (wall) and CPU-ms/token per engine.
# Usage: tools/bench/decode_peers.sh [build] [new_tokens]
set -euo pipefail
BUILD=${1:-build}; NEW=${2:-32}
python3 -c "import torch, transformers" 2>/dev/null || python3 -m pip install -q torch transformers
uptime
for shape in gpt2 smollm2; do
  if [ "$shape" = gpt2 ]; then
    FLAGS=(--arch gpt2)
  else
    FLAGS=(--arch llama --layers 30 --heads 9 --kv-heads 3 --dim 576 --vocab 49152 --tied)
  fi
  for threads in 1 2; do
    for dtype in f32 bf16; do
      echo "== aligners $shape $dtype, $threads thread(s) =="
      "$BUILD/aligners" bench generate "${FLAGS[@]}" --dtype "$dtype" --threads "$threads" --new-tokens "$NEW" \
        | grep -E "floor|decode|CPU" || echo "(not supported here)"
    done
    echo "== transformers $shape fp32, $threads thread(s) =="
    python3 - "$shape" "$threads" "$NEW" <<'PY'
import sys, time, torch, transformers
shape, threads, new = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
torch.set_num_threads(threads)
if shape == "gpt2":
    model = transformers.GPT2LMHeadModel(transformers.GPT2Config())
else:
    model = transformers.LlamaForCausalLM(transformers.LlamaConfig(
        hidden_size=576, num_attention_heads=9, num_key_value_heads=3, num_hidden_layers=30,
        intermediate_size=1536, vocab_size=49152, tie_word_embeddings=True, max_position_embeddings=2048))
model = model.float().eval()
ids = torch.tensor([[(t * 31 + 11) % model.config.vocab_size for t in range(16)]])
def run(n):
    t0, c0 = time.perf_counter(), time.process_time()
    with torch.inference_mode():
        model.generate(ids, max_new_tokens=n, min_new_tokens=n, do_sample=False, pad_token_id=0)
    return time.perf_counter() - t0, time.process_time() - c0
run(2)
best1, bestn = (1e30, 1e30), (1e30, 1e30)
for _ in range(3):
    best1 = min(best1, run(1))
    bestn = min(bestn, run(new))
wall = (bestn[0] - best1[0]) / (new - 1)
cpu = (bestn[1] - best1[1]) / (new - 1)
print(f"decode: {wall*1e3:.1f} ms/token, {cpu*1e3:.1f} CPU-ms/token")
PY
  done
done
