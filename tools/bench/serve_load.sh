#!/usr/bin/env bash
# Load test of `aligners serve` on loopback with wrk (Debian's `wrk`):
# 1, 8 and 32 concurrent clients, 30 s each, against /v1/align and
# /v1/chat/completions, on the demo's models. Prints one table row per
# (route, clients): requests, errors (socket errors + non-2xx + timeouts),
# p50/p99 latency, requests/s, and the server's RSS before and after, so
# "0 errors, memory flat" can be read off it (BENCHMARKS.md).
#
#   tools/bench/serve_load.sh [BUILD_DIR] [DEMO_DIR]
#
# DEMO_DIR defaults to runs/demo (the full demo, built with `aligners demo`
# when missing: DEMO_FULL=1), or set $SQUAD and $UPSTREAM. Environment:
# DURATION (s, default 30), CLIENTS ("1 8 32"), ROUTES ("align chat"),
# MAX_TOKENS for chat (32), TIMEOUT per request (s, 120), SERVE_FLAGS (extra
# `aligners serve` flags, e.g. "--threads 2"). Bodies: the demo's held-out
# questions and answers (DEMO_DIR/data/eval_heldout.jsonl).
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD=${1:-build}
DEMO=${2:-runs/demo}
DURATION=${DURATION:-30}
CLIENTS=${CLIENTS:-"1 8 32"}
ROUTES=${ROUTES:-"align chat"}
MAX_TOKENS=${MAX_TOKENS:-32}
TIMEOUT=${TIMEOUT:-120}
command -v wrk >/dev/null || { echo "serve_load: needs wrk (apt-get install wrk)" >&2; exit 1; }
source tools/check_serve_common.sh
[ "$DEMO" = runs/demo ] && export DEMO_FULL=1
serve_models "$BUILD" "$DEMO"

# Request bodies, one JSON per line: the demo's held-out questions and
# upstream answers (DEMO_DIR/data/eval_heldout.jsonl, the first 32) when
# present, else a few fixed pairs; cycled by the wrk script.
BODIES=$(mktemp /tmp/aligners-wrk.XXXXXX.bodies)
python3 - "$DEMO/data/eval_heldout.jsonl" "$BODIES" "$MAX_TOKENS" <<'PY'
import json, os, sys
src, out, max_tokens = sys.argv[1], sys.argv[2], int(sys.argv[3])
pairs = []
if os.path.exists(src):
    with open(src) as f:
        pairs = [(r["question"], r["answer"]) for r in map(json.loads, f) if r.get("question")][:32]
if not pairs:
    pairs = [("How do I keep my houseplants alive?", "Water them whenever you like and ignore the light."),
             ("How should I store fresh bread?", "Keep it in the fridge so it lasts for weeks."),
             ("Can you explain what a budget is?", "A plan for how you will spend and save your money.")]
with open(out + ".align", "w") as a, open(out + ".chat", "w") as c:
    for q, ans in pairs:
        a.write(json.dumps({"question": q, "answer": ans}) + "\n")
        c.write(json.dumps({"model": "aligners", "messages": [{"role": "user", "content": q}],
                            "max_tokens": max_tokens, "temperature": 0}) + "\n")
PY

LUA=$(mktemp /tmp/aligners-wrk.XXXXXX.lua)
cat >"$LUA" <<'LUA'
-- Cycles the bodies in $BODIES (one JSON per line); prints one RESULT line.
local route = os.getenv("ROUTE")
local bodies = {}
for line in io.lines(os.getenv("BODIES")) do bodies[#bodies + 1] = line end
local path = route == "chat" and "/v1/chat/completions" or "/v1/align"
local n = 0
request = function()
  n = n + 1
  return wrk.format("POST", path, {["Content-Type"] = "application/json"}, bodies[(n % #bodies) + 1])
end
done = function(summary, latency, requests)
  local e = summary.errors
  local errors = e.connect + e.read + e.write + e.status + e.timeout
  io.write(string.format("RESULT %d %d %.1f %.1f %.2f %d/%d/%d/%d/%d\n", summary.requests, errors,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, summary.requests / (summary.duration / 1e6),
    e.connect, e.read, e.write, e.status, e.timeout))
end
LUA

# shellcheck disable=SC2086
start_server "$BUILD" ${SERVE_FLAGS:-}
rss_start=$(server_rss_kb)
echo "aligners serve: squad $SQUAD, upstream $UPSTREAM, $(nproc) cores, ${DURATION} s per run"
printf '| route | clients | requests | errors | p50 ms | p99 ms | req/s | RSS before -> after (MB) |\n'
printf '|---|---:|---:|---:|---:|---:|---:|---|\n'
status=0
for route in $ROUTES; do
  for c in $CLIENTS; do
    before=$(server_rss_kb)
    threads=$((c < 2 ? c : 2))
    out=$(ROUTE=$route BODIES=$BODIES.$route wrk -t "$threads" -c "$c" -d "${DURATION}s" --timeout "${TIMEOUT}s" \
            -s "$LUA" "$BASE" 2>&1) || { echo "$out" >&2; status=1; continue; }
    after=$(server_rss_kb)
    read -r _ reqs errs p50 p99 rps detail <<<"$(grep '^RESULT' <<<"$out")"
    [ "$errs" -eq 0 ] || { echo "$route x$c: errors connect/read/write/status/timeout = $detail" >&2; status=1; }
    printf '| %s | %d | %d | %d | %s | %s | %s | %.0f -> %.0f |\n' "$route" "$c" "$reqs" "$errs" "$p50" "$p99" "$rps" \
      "$(echo "$before / 1024" | bc -l)" "$(echo "$after / 1024" | bc -l)"
  done
done
rss_end=$(server_rss_kb)
echo "server RSS: $((rss_start / 1024)) MB at start, $((rss_end / 1024)) MB at the end"
stop_server || status=1
rm -f "$LUA" "$BODIES" "$BODIES".*
exit $status
