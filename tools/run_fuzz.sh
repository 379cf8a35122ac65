#!/usr/bin/env bash
# Runs every libFuzzer target in BUILD/fuzz for SECONDS each (sequentially:
# the machines here have few cores), seeded from the test fixtures and a few
# generated inputs. Fails when any target finds a crash, leak or timeout; the
# reproducer is left in BUILD/fuzz-artifacts/.
#
#     tools/run_fuzz.sh build-fuzz 60
#     tools/run_fuzz.sh build-fuzz 300 "tokenizer model"   # only these targets
#     build-fuzz/fuzz/fuzz_json build-fuzz/fuzz-artifacts/crash-...   # reproduce
set -euo pipefail
build=${1:?usage: tools/run_fuzz.sh BUILD_DIR SECONDS}
seconds=${2:-60}
only=${3:-}
root=$(cd "$(dirname "$0")/.." && pwd)
work="${FUZZ_WORK:-$build/fuzz-work}"   # separate work dirs let two runs go in parallel
artifacts="$build/fuzz-artifacts"
mkdir -p "$artifacts"

# ---- seed corpora (regenerated each run; the evolving corpus is kept) --------
seeds="$work/seeds"
rm -rf "$seeds"
mkdir -p "$seeds"/{json,safetensors,gzip,tokenizer,model}
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

# tokenizer.json: every tokenizer of the component vectors (HF-written) and the trained one.
tokfix="$root/tests/fixtures/tokenizer"
cp "$tokfix/trained_wonderland.json" "$seeds/tokenizer/"
i=0
grep -v '^#' "$tokfix/components.jsonl" | jq -c '.tokenizer' | while IFS= read -r line; do
  i=$((i + 1))
  printf '%s' "$line" > "$seeds/tokenizer/component_$i.json"
done

# model: config.json, one NUL byte, then a .safetensors image (F32 zeros) with
# the tensors that config asks for. st_image NAME=D0,D1 ... writes the image.
st_image() {
  local header="{" off=0 sep="" spec name dims n d
  for spec in "$@"; do
    name=${spec%%=*}; dims=${spec#*=}; n=4
    for d in ${dims//,/ }; do n=$((n * d)); done
    header+="$sep\"$name\":{\"dtype\":\"F32\",\"shape\":[$dims],\"data_offsets\":[$off,$((off + n))]}"
    off=$((off + n)); sep=","
  done
  header+="}"
  while [ $(( ${#header} % 8 )) -ne 0 ]; do header+=" "; done
  local len=${#header}
  printf "$(printf '\\x%02x' $((len & 255)) $(((len >> 8) & 255)) 0 0 0 0 0 0)"
  printf '%s' "$header"
  head -c "$off" /dev/zero
}
model_seed() {  # NAME CONFIG TENSORS...
  local out="$seeds/model/$1" config=$2
  shift 2
  { printf '%s' "$config"; printf '\0'; st_image "$@"; } > "$out"
}
g="h.0."
model_seed gpt2 '{"architectures":["GPT2LMHeadModel"],"vocab_size":8,"n_embd":4,"n_layer":1,"n_head":2,"n_positions":4}' \
  wte.weight=8,4 wpe.weight=4,4 ${g}ln_1.weight=4 ${g}ln_1.bias=4 ${g}attn.c_attn.weight=4,12 ${g}attn.c_attn.bias=12 \
  ${g}attn.c_proj.weight=4,4 ${g}attn.c_proj.bias=4 ${g}ln_2.weight=4 ${g}ln_2.bias=4 ${g}mlp.c_fc.weight=4,16 \
  ${g}mlp.c_fc.bias=16 ${g}mlp.c_proj.weight=16,4 ${g}mlp.c_proj.bias=4 ln_f.weight=4 ln_f.bias=4
l="model.layers.0."
llama_body=(model.embed_tokens.weight=8,4 ${l}input_layernorm.weight=4 ${l}self_attn.q_proj.weight=4,4
  ${l}self_attn.k_proj.weight=2,4 ${l}self_attn.v_proj.weight=2,4 ${l}self_attn.o_proj.weight=4,4
  ${l}post_attention_layernorm.weight=4 ${l}mlp.gate_proj.weight=8,4 ${l}mlp.up_proj.weight=8,4
  ${l}mlp.down_proj.weight=4,8 model.norm.weight=4)
model_seed llama '{"architectures":["LlamaForCausalLM"],"vocab_size":8,"hidden_size":4,"intermediate_size":8,"num_hidden_layers":1,"num_attention_heads":2,"num_key_value_heads":1,"max_position_embeddings":16,"rope_scaling":{"rope_type":"llama3","factor":8.0,"low_freq_factor":1.0,"high_freq_factor":4.0,"original_max_position_embeddings":8}}' \
  "${llama_body[@]}" lm_head.weight=8,4
model_seed qwen3_cls '{"architectures":["Qwen3ForSequenceClassification"],"vocab_size":8,"hidden_size":4,"intermediate_size":8,"num_hidden_layers":1,"num_attention_heads":2,"num_key_value_heads":1,"head_dim":2,"num_labels":2,"tie_word_embeddings":true,"pad_token_id":0}' \
  "${llama_body[@]}" ${l}self_attn.q_norm.weight=2 ${l}self_attn.k_norm.weight=2 score.weight=2,4

# chat templates: the hand-written and real-style templates of the oracle fixture.
mkdir -p "$seeds/jinja"
i=0
tail -n +2 "$root/tests/fixtures/chat_templates.jsonl" | jq -c 'select(.template != null) | .template' | sort -u |
  while IFS= read -r line; do
    i=$((i + 1))
    printf '%s' "$line" | jq -j '.' > "$seeds/jinja/template_$i.jinja"
  done
printf '%s' '{% for m in messages %}{{ m.role | upper }}: {{ m.content | trim }}{% endfor %}' > "$seeds/jinja/simple.jinja"

status=0
for target in "$build"/fuzz/fuzz_*; do
  [ -x "$target" ] || continue
  name=$(basename "$target")
  kind=${name#fuzz_}
  if [ -n "$only" ] && [[ " $only " != *" $kind "* ]]; then continue; fi
  corpus="$work/corpus-$kind"
  mkdir -p "$corpus"
  dict=()
  case "$kind" in json|safetensors|tokenizer|model) dict=(-dict="$root/tests/fuzz/json.dict") ;;
    jinja) dict=(-dict="$root/tests/fuzz/jinja.dict") ;; esac
  # The loaders' warnings (stderr) would drown the log; libFuzzer and the
  # sanitizers keep reporting through their own copy of the descriptor.
  case "$kind" in tokenizer|model) dict+=(-close_fd_mask=2) ;; esac
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
