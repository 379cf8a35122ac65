#!/usr/bin/env bash
# Sentence embeddings with all-MiniLM-L6-v2: `aligners embed` vs
# sentence-transformers, same sentences (text in, tokenization included on
# both sides), same thread count, batch 32, interleaved in one run (each side
# twice, the faster kept). Prints sentences/s (wall) and CPU seconds, and the
# worst cosine between the two sides' embeddings. Optional (installs torch +
# sentence-transformers from PyPI on demand).
#   tools/bench/embed_peers.sh [BUILD_DIR] [THREADS] [SENTENCES]
set -euo pipefail
BUILD=${1:-build}; THREADS=${2:-$(nproc)}; N=${3:-2000}
root="$(cd "$(dirname "$0")/../.." && pwd)"
shared="${ALIGNERS_SHARED:-$(dirname "$root")/shared}"
model="$shared/models/all-MiniLM-L6-v2"
python3 -c "import torch, sentence_transformers" 2>/dev/null || python3 -m pip install -q torch sentence-transformers
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# Sentences: the shared tokenizer corpus' documents cut into sentence-sized pieces.
python3 - "$shared/conformance/tokenizer/gpt2.jsonl.gz" "$N" "$work/in.jsonl" <<'PY'
import gzip, json, sys
src, n, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
sents = []
with gzip.open(src, "rt", encoding="utf-8", newline="\n") as f:
    for line in f.read().split("\n"):
        if not line: continue
        for s in json.loads(line)["text"].replace("\n", " ").split(". "):
            s = s.strip()
            if 20 <= len(s) <= 400: sents.append(s)
        if len(sents) >= n: break
with open(out, "w", encoding="utf-8") as f:
    for s in sents[:n]: f.write(json.dumps({"text": s}, ensure_ascii=False) + "\n")
PY
run_aligners() {
  /usr/bin/time -f "%e %U %S" -o "$work/t" "$BUILD/aligners" embed --model "$model" --input "$work/in.jsonl" \
      --output "$work/ours.jsonl" --threads "$THREADS" --batch-size 32 2>/dev/null
  read -r wall user sys < "$work/t"
  echo "$wall $(python3 -c "print($user + $sys)")"
}
run_peer() {
  python3 - "$model" "$work/in.jsonl" "$work/peer.json" "$THREADS" <<'PY'
import json, sys, time, torch
from sentence_transformers import SentenceTransformer
model_dir, inp, out, threads = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
torch.set_num_threads(threads)
texts = [json.loads(l)["text"] for l in open(inp, encoding="utf-8")]
m = SentenceTransformer(model_dir, device="cpu")
t0, c0 = time.perf_counter(), time.process_time()
e = m.encode(texts, batch_size=32, normalize_embeddings=False, convert_to_numpy=True)
print(f"{time.perf_counter() - t0:.3f} {time.process_time() - c0:.3f}")
json.dump(e.tolist(), open(out, "w"))
PY
}
best() { sort -n | head -1; }
ours=$( { run_aligners; run_aligners; } | best )
peer=$( { run_peer; run_peer; } | best )
n=$(wc -l < "$work/in.jsonl")
python3 - "$n" "$THREADS" "$ours" "$peer" "$work/ours.jsonl" "$work/peer.json" <<'PY'
import json, math, sys
n, threads = int(sys.argv[1]), sys.argv[2]
ow, oc = map(float, sys.argv[3].split()); pw, pc = map(float, sys.argv[4].split())
ours = [json.loads(l)["embedding"] for l in open(sys.argv[5])]
peer = json.load(open(sys.argv[6]))
cos = min(sum(a * b for a, b in zip(x, y)) / math.sqrt(sum(a * a for a in x) * sum(b * b for b in y)) for x, y in zip(ours, peer))
print(f"{n} sentences, {threads} threads, batch 32 (the faster of two runs each; the peer's time excludes loading)")
print(f"aligners embed         {n / ow:8.1f} sentences/s  wall {ow:7.2f} s  cpu {oc:7.2f} s (incl. loading)")
print(f"sentence-transformers  {n / pw:8.1f} sentences/s  wall {pw:7.2f} s  cpu {pc:7.2f} s")
print(f"worst cosine between the two: {cos:.12f}")
PY
