#!/usr/bin/env bash
# Synth stage 3 with Ngweta's recipe (`aligners synth --recipe ngweta`: the
# criterion's principles and demonstrations before every question) on the
# demo world, with the prefix cache (default --prefix-cache-mb) and without
# it (--prefix-cache-mb 0): the same command, runs interleaved, CPU seconds
# (user + sys) per run, medians, the hit rate from synth.log.jsonl, and a
# check that both sides wrote the same completions.
#
# The generator is the quick demo's LM (`aligners demo --quick`, built once
# into DEMO_DIR, about 90 s on a quiet machine) with max_position_embeddings
# raised to 2048 in a copy of its config.json: a RoPE model, so no weight
# changes, and the whole ~1k-token stage-3 prompt fits (at the demo's 256
# positions the prompt would be cut to its end, and no two prompts would
# share a prefix). Questions: the demo world's held-out upstream questions.
#   tools/bench/prefix_cache_peers.sh [BUILD_DIR] [THREADS] [QUESTIONS] [RUNS] [DEMO_DIR]
set -euo pipefail
BUILD=${1:-build}; THREADS=${2:-2}; NQ=${3:-64}; RUNS=${4:-3}
root="$(cd "$(dirname "$0")/../.." && pwd)"
DEMO=${5:-$root/runs/bench_quick_demo}
bin="$BUILD/aligners"
[ -f "$DEMO/lm/config.json" ] || "$bin" demo --quick --out "$DEMO" --threads "$THREADS" >/dev/null
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp -r "$DEMO/lm" "$work/lm"
python3 - "$work/lm/config.json" "$DEMO" "$NQ" "$work/questions.jsonl" <<'PY'
import glob, json, sys
cfg_path, demo, n, out = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
cfg = json.load(open(cfg_path))
cfg["max_position_embeddings"] = 2048
json.dump(cfg, open(cfg_path, "w"), indent=2)
qs = []
for path in [demo + "/data/eval_heldout.jsonl"] + sorted(glob.glob(demo + "/data/*.jsonl")):
    for line in open(path, encoding="utf-8"):
        try: q = json.loads(line).get("question")
        except Exception: continue
        if isinstance(q, str) and q.strip() and q not in qs: qs.append(q)
    if len(qs) >= n: break
with open(out, "w", encoding="utf-8") as f:
    for q in qs[:n]: f.write(json.dumps({"question": q}) + "\n")
PY
run() {  # run MB INDEX -> "cpu_seconds wall hit_rate"
  local out="$work/run_$1_$2"
  rm -rf "$out"
  /usr/bin/time -f "%U %S %e" -o "$work/t" "$bin" synth --recipe ngweta --model "$work/lm" --criterion ethical \
      --questions "$work/questions.jsonl" --out "$out" --stop-after pairs --max-new-tokens 32 --batch-size 8 \
      --threads "$THREADS" --prefix-cache-mb "$1" 2>/dev/null
  read -r user sys wall < "$work/t"
  hit=$(python3 -c "
import json,sys
ev=[json.loads(l) for l in open('$out/synth.log.jsonl')]
pc=[e for e in ev if e.get('stage')=='pairs'][-1]['prefix_cache']
print(pc['hit_rate'], pc['prompt_tokens'])")
  echo "$(python3 -c "print(round($user + $sys, 2))") $wall $hit"
}
on=(); off=()
for i in $(seq "$RUNS"); do
  off+=("$(run 0 "$i")")
  on+=("$(run 256 "$i")")
done
cmp -s <(python3 -c "import json;[print(json.loads(l)['completion']) for l in open('$work/run_0_1/pairs.jsonl')]") \
       <(python3 -c "import json;[print(json.loads(l)['completion']) for l in open('$work/run_256_1/pairs.jsonl')]") \
  && same=yes || same=NO
python3 - "$THREADS" "$(wc -l < "$work/questions.jsonl")" "$same" "$(uptime)" "${off[@]}" -- "${on[@]}" <<'PY'
import statistics, sys
threads, n, same, load = sys.argv[1:5]
rest = sys.argv[5:]; cut = rest.index("--")
off = [list(map(float, r.split())) for r in rest[:cut]]; on = [list(map(float, r.split())) for r in rest[cut + 1:]]
med = lambda rows, k: statistics.median(r[k] for r in rows)
print(f"synth stage 3 (--recipe ngweta, quick demo LM at 2048 positions), {n} questions, batch 8, "
      f"32 new tokens, {threads} threads, {len(on)} interleaved runs each; load: {load.strip()}")
print(f"  prefix cache off: {med(off, 0):7.2f} CPU-s (median; runs {[r[0] for r in off]}), wall {med(off, 1):.2f} s, hit rate {off[0][2]:.3f}")
print(f"  prefix cache on:  {med(on, 0):7.2f} CPU-s (median; runs {[r[0] for r in on]}), wall {med(on, 1):.2f} s, hit rate {on[0][2]:.3f}")
print(f"  prompts average {on[0][3] / int(n):.0f} tokens ({int(on[0][3])} in all)")
print(f"  ratio off/on {med(off, 0) / med(on, 0):.2f}x; identical completions: {same}")
PY
