# Sourced by tools/check_openai_client.sh, tools/check_web_page.sh and
# tools/bench/serve_load.sh: the models to serve and a server's life cycle.
#
#   serve_models BUILD [DEMO_DIR]   sets SQUAD and UPSTREAM: $SQUAD/$UPSTREAM
#                                   when both are set, else DEMO_DIR/squad.json
#                                   and DEMO_DIR/lm, running `aligners demo
#                                   --quick --out DEMO_DIR` first when missing
#                                   (DEMO_FULL=1: the full demo instead)
#   start_server BUILD [FLAGS...]   starts `aligners serve` on a free loopback
#                                   port; sets SERVER_PID, PORT, BASE, SERVER_LOG;
#                                   returns once /health answers 200
#   stop_server                     SIGTERM, and checks the server exits 0
#   server_rss_kb                   the server's resident memory now (kB)

serve_models() {
  local build=$1 demo=${2:-runs/demo-quick}
  if [ -n "${SQUAD:-}" ] && [ -n "${UPSTREAM:-}" ]; then return 0; fi
  if [ ! -f "$demo/squad.json" ] || [ ! -d "$demo/lm" ]; then
    local quick=--quick
    [ "${DEMO_FULL:-0}" = 1 ] && quick=
    echo "== building the demo's models: $build/aligners demo $quick --out $demo" >&2
    "$build/aligners" demo $quick --out "$demo" >&2
  fi
  SQUAD=$demo/squad.json
  UPSTREAM=$demo/lm
}

# A free port: the first one from a pid-derived start that nothing answers on.
free_port() {
  local p=$((20000 + $$ % 20000))
  while (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; do p=$((p + 1)); done
  echo "$p"
}

start_server() {
  local build=$1
  shift
  PORT=$(free_port)
  BASE=http://127.0.0.1:$PORT
  SERVER_LOG=$(mktemp /tmp/aligners-serve.XXXXXX.log)
  "$build/aligners" serve --squad "$SQUAD" --upstream "$UPSTREAM" --host 127.0.0.1 --port "$PORT" "$@" \
    >"$SERVER_LOG" 2>&1 &
  SERVER_PID=$!
  trap 'stop_server >/dev/null 2>&1 || true' EXIT
  local waited=0
  until curl -sf -o /dev/null --max-time 2 "$BASE/health"; do
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then
      echo "aligners serve exited before it was ready; its log:" >&2
      tail -n 30 "$SERVER_LOG" >&2
      return 1
    fi
    if [ $waited -ge ${SERVE_START_TIMEOUT:-180} ]; then
      echo "aligners serve not ready after ${waited} s; its log:" >&2
      tail -n 30 "$SERVER_LOG" >&2
      return 1
    fi
    sleep 1
    waited=$((waited + 1))
  done
  echo "== aligners serve (pid $SERVER_PID) ready at $BASE after ~${waited} s" >&2
}

server_rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$SERVER_PID/status"; }

stop_server() {
  [ -n "${SERVER_PID:-}" ] || return 0
  local pid=$SERVER_PID status=0
  SERVER_PID=
  kill -TERM "$pid" 2>/dev/null || return 0
  wait "$pid" || status=$?
  if [ $status -ne 0 ]; then
    echo "aligners serve exited with $status after SIGTERM (expected 0); its log:" >&2
    tail -n 30 "$SERVER_LOG" >&2
    return 1
  fi
}
