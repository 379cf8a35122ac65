#!/usr/bin/env bash
# The web page of `aligners serve` in a real browser: headless chromium
# (Debian's `chromium`, installed here when missing and apt can) asks a
# question and aligns a pasted answer through the page, and
# tools/check_web_page.py checks the rendered trace against the API's JSON.
# Not part of `make test`; .ci/run runs it when chromium is installable.
# Exit 77: chromium is not available (nothing was checked).
#
#   tools/check_web_page.sh [BUILD_DIR] [DEMO_DIR]
#
# Serves DEMO_DIR/squad.json over DEMO_DIR/lm (built with `aligners demo
# --quick` when missing; default runs/demo-quick), or $SQUAD over $UPSTREAM.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
DEMO=${2:-runs/demo-quick}
source tools/check_serve_common.sh

find_chromium() { command -v chromium || command -v chromium-browser || command -v google-chrome || true; }
CHROMIUM=$(find_chromium)
if [ -z "$CHROMIUM" ] && command -v apt-get >/dev/null; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo -n"
  echo "== installing chromium" >&2
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y --no-install-recommends chromium >/dev/null 2>&1 ||
    { $sudo apt-get update >/dev/null 2>&1 &&
      DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y --no-install-recommends chromium >/dev/null 2>&1; } || true
  CHROMIUM=$(find_chromium)
fi
if [ -z "$CHROMIUM" ]; then
  echo "check_web_page: skipped (no chromium, and it could not be installed)" >&2
  exit 77
fi

serve_models "$BUILD" "$DEMO"
KEY_FILE=$(mktemp /tmp/aligners-key.XXXXXX)
KEY="sk-page-$RANDOM$RANDOM"
printf '%s\n' "$KEY" >"$KEY_FILE"
start_server "$BUILD" --api-key-file "$KEY_FILE"
status=0
python3 tools/check_web_page.py --base "$BASE" --api-key "$KEY" --chromium "$CHROMIUM" || status=$?
stop_server || status=1
rm -f "$KEY_FILE"
[ $status -eq 0 ] && echo "check_web_page: OK" || echo "check_web_page: FAILED" >&2
exit $status
