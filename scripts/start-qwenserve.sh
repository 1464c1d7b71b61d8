# Sourced by the benchmark scripts and the server tests:
# start_qwenserve QWENSERVE LOG [qwenserve flags...] starts QWENSERVE on a
# free 127.0.0.1 port (--port 0, --quiet), waits (60 s at most) for
# /health, and sets $server (its pid) and $url; returns 1 if it never
# answers (the caller's trap stops it).
start_qwenserve() {
  local bin=$1 log=$2
  shift 2
  "$bin" --port 0 --quiet "$@" 2> "$log" &
  server=$!
  url=
  for _ in $(seq 1 600); do
    url=$(grep -o 'http://127.0.0.1:[0-9]*' "$log" || true)
    [ -n "$url" ] && curl -sf "$url/health" >/dev/null && return 0
    url=
    sleep 0.1
  done
  echo "$(basename "$0"): the server did not start"
  cat "$log"
  return 1
}
