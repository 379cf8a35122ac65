#!/usr/bin/env bash
# Tokenizer throughput side by side with tiktoken and HF tokenizers (same
# documents, same run, single thread). Installs the Python peers with pip if
# they are missing. Usage: tools/bench/tokenizer_peers.sh [BUILD_DIR] [VOCAB...]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$(dirname "$here")")"
build="${1:-$root/build}"
shift || true
python3 -c "import tiktoken, tokenizers" 2>/dev/null || python3 -m pip install -q tiktoken tokenizers
[ -x "$build/aligners" ] || { echo "tokenizer_peers.sh: $build/aligners not built (make build)" >&2; exit 1; }
shared="${ALIGNERS_SHARED:-$(dirname "$root")/shared}"
exec python3 "$here/tokenizer_peers.py" --aligners "$build/aligners" --shared "$shared" "$@"
