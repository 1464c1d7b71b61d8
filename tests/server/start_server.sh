# Sourced by the server tests: start_server BIN SO MODEL_DIR LOG [flags...]
# starts qwenserve on a free 127.0.0.1 port, waits for /health, and sets
# $server (its pid) and $url; the EXIT trap kills it if the test fails.
start_server() {
  local bin=$1 so=$2 model_dir=$3 log=$4
  shift 4
  "$bin/qwenserve" --model "$so" --weights "$model_dir" --port 0 --quiet "$@" 2> "$log" &
  server=$!
  trap 'kill -9 $server 2>/dev/null || true' EXIT
  url=
  for _ in $(seq 1 100); do
    url=$(grep -o 'http://127.0.0.1:[0-9]*' "$log" || true)
    [ -n "$url" ] && curl -sf "$url/health" >/dev/null && return 0
    url=
    sleep 0.1
  done
  echo "FAIL: the server did not start"
  cat "$log"
  exit 1
}

# stop_server CLIENT_PID: SIGTERM to the server, waits (60 s at most) for it
# and for the client request running beside it; sets $status to the
# server's exit status.
stop_server() {
  local client=$1
  kill -TERM $server
  set +e
  timeout 60 tail --pid=$server -f /dev/null
  wait $server
  status=$?
  wait $client
  set -e
  trap - EXIT
}
