#!/usr/bin/env bash
# The official `openai` Python client against `aligners serve`: model list,
# chat (whole and streamed, with the `aligners` trace), and a wrong key
# refused with AuthenticationError. Needs PyPI (pip installs `openai` into a
# venv under the build tree); not part of `make test` — .ci/run runs it
# when PyPI is reachable. Exit 77: openai could not be installed.
#
#   tools/check_openai_client.sh [BUILD_DIR] [DEMO_DIR]
#
# Serves DEMO_DIR/squad.json over DEMO_DIR/lm (built with `aligners demo
# --quick` when missing; default runs/demo-quick), or $SQUAD over $UPSTREAM.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
DEMO=${2:-runs/demo-quick}
source tools/check_serve_common.sh

VENV=$BUILD/venv-openai
if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -c 'import openai' 2>/dev/null; then
  echo "== creating $VENV with the openai client" >&2
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check openai ||
    { echo "check_openai_client: skipped (pip could not install openai)" >&2; exit 77; }
fi
"$VENV/bin/python" -c 'import openai; print("== openai", openai.__version__)' >&2

serve_models "$BUILD" "$DEMO"
KEY_FILE=$(mktemp /tmp/aligners-key.XXXXXX)
KEY="sk-check-$RANDOM$RANDOM"
printf '%s\n' "$KEY" >"$KEY_FILE"
start_server "$BUILD" --api-key-file "$KEY_FILE"
status=0
"$VENV/bin/python" tools/check_openai_client.py --base-url "$BASE/v1" --api-key "$KEY" || status=$?
stop_server || status=1
rm -f "$KEY_FILE"
[ $status -eq 0 ] && echo "check_openai_client: OK" || echo "check_openai_client: FAILED" >&2
exit $status
