# Sourced by the server tests: start_server BIN SO MODEL_DIR LOG [flags...]
# starts qwenserve on a free 127.0.0.1 port, waits for /health, and sets
# $server (its pid) and $url; the EXIT trap kills it if the test fails.
source "$(dirname "${BASH_SOURCE[0]}")/../../scripts/start-qwenserve.sh"
start_server() {
  local bin=$1 so=$2 model_dir=$3 log=$4
  shift 4
  server=
  trap '[ -n "$server" ] && kill -9 $server 2>/dev/null || true' EXIT
  start_qwenserve "$bin/qwenserve" "$log" --model "$so" --weights "$model_dir" "$@" || { echo "FAIL: the server did not start"; exit 1; }
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
