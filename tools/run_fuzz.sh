#!/usr/bin/env bash
# Runs every libFuzzer target in BUILD/fuzz for SECONDS each (sequentially:
# the machines here have few cores), seeded from the test fixtures and a few
# generated inputs. Fails when any target finds a crash, leak or timeout; the
# reproducer is left in BUILD/fuzz-artifacts/.
#
#     tools/run_fuzz.sh build-fuzz 60
#     build-fuzz/fuzz/fuzz_json build-fuzz/fuzz-artifacts/crash-...   # reproduce
set -euo pipefail
build=${1:?usage: tools/run_fuzz.sh BUILD_DIR SECONDS}
seconds=${2:-60}
root=$(cd "$(dirname "$0")/.." && pwd)
work="$build/fuzz-work"
artifacts="$build/fuzz-artifacts"
mkdir -p "$artifacts"

# ---- seed corpora (regenerated each run; the evolving corpus is kept) --------
seeds="$work/seeds"
rm -rf "$seeds"
mkdir -p "$seeds"/{json,safetensors,gzip}
fixtures="$root/tests/fixtures/safetensors"
for f in "$fixtures"/dtype_*.safetensors "$fixtures"/all_dtypes.safetensors "$fixtures"/empty.safetensors \
         "$fixtures"/sharded/*.safetensors; do
  cp "$f" "$seeds/safetensors/"
  # The JSON header alone seeds the JSON target too.
  header_len=$(od -An -t u8 -N 8 "$f" | tr -d ' ')
  tail -c +9 "$f" | head -c "$header_len" > "$seeds/json/$(basename "$f").json"
done
cp "$fixtures"/*.expected.json "$fixtures"/sharded/*.json "$seeds/json/"
printf '%s' '[1,-0,2.5e-3,"\u00e9\ud83d\ude00",{"a":null,"b":[true,false]}]' > "$seeds/json/mixed.json"
printf 'line one\nline two\n' | gzip -9 -n > "$seeds/gzip/text.gz"
head -c 3000 /dev/urandom | gzip -1 > "$seeds/gzip/random.gz"        # stored blocks
head -c 2000 "$fixtures/dtype_F32.expected.json" | gzip -6 > "$seeds/gzip/json.gz"
cat "$seeds/gzip/text.gz" "$seeds/gzip/json.gz" > "$seeds/gzip/multi.gz"

status=0
for target in "$build"/fuzz/fuzz_*; do
  name=$(basename "$target")
  kind=${name#fuzz_}
  corpus="$work/corpus-$kind"
  mkdir -p "$corpus"
  dict=()
  [ "$kind" = json ] || [ "$kind" = safetensors ] && dict=(-dict="$root/tests/fuzz/json.dict")
  echo "== $name: ${seconds}s" >&2
  if ! "$target" "$corpus" "$seeds/$kind" "${dict[@]}" -max_total_time="$seconds" -max_len=8192 \
       -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$artifacts/$name-" \
       >"$work/$name.log" 2>&1; then
    echo "!! $name FAILED: see $work/$name.log and $artifacts/" >&2
    tail -n 40 "$work/$name.log" >&2
    status=1
  else
    echo "   ok: $(grep -E 'DONE' "$work/$name.log" | tail -n 1)" >&2
  fi
done
exit $status
