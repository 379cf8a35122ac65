#!/usr/bin/env bash
# GPT-2 124M training step (B=4, T=64, fp32, AdamW) : aligners vs PyTorch CPU,
# same config and thread count, interleaved in one run. Prints wall and
# process CPU time per step (CPU time is less distorted by a loaded machine). Optional (needs PyPI
# torch + transformers, installed on demand). Usage: tools/bench/train_peers.sh [build] [threads] [steps]
set -euo pipefail
BUILD=${1:-build}; THREADS=${2:-$(nproc)}; STEPS=${3:-3}
python3 -c "import torch, transformers" 2>/dev/null || python3 -m pip install -q torch transformers
echo "== aligners =="
ALIGNERS_THREADS=$THREADS "$BUILD/aligners" bench train --arch gpt2 --batch 4 --seq 64 --steps "$STEPS" --threads "$THREADS" | tail -3
echo "== pytorch =="
python3 - "$THREADS" "$STEPS" <<'PY'
import sys, time, torch, transformers
threads, steps = int(sys.argv[1]), int(sys.argv[2])
torch.set_num_threads(threads)
cfg = transformers.GPT2Config(resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0)
model = transformers.GPT2LMHeadModel(cfg).float().train()
opt = torch.optim.AdamW(model.parameters(), lr=1e-4, weight_decay=0.1)
ids = torch.randint(0, cfg.vocab_size, (4, 64))
times, cpu = [], []
for s in range(steps + 1):
    t0, c0 = time.perf_counter(), time.process_time()
    loss = model(input_ids=ids, labels=ids).loss
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    opt.step(); opt.zero_grad()
    times.append(time.perf_counter() - t0)
    cpu.append(time.process_time() - c0)
dt = sum(times[1:]) / steps
print(f"cpu ms/step: {sum(cpu[1:]) / steps * 1e3:.1f} (all threads)")
print(f"ms/step: {dt*1e3:.1f}")
print(f"tokens/s: {4*64/dt:.1f}")
PY
