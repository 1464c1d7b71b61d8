# Sourced by the benchmark scripts: start_qwenserve LOG [qwenserve flags...]
# starts build/bin/qwenserve on a free 127.0.0.1 port (--port 0, --quiet),
# waits (60 s at most) for /health, and sets $server (its pid) and $url.
start_qwenserve() {
  local log=$1
  shift
  build/bin/qwenserve --port 0 --quiet "$@" 2> "$log" &
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
