#!/usr/bin/env bash
# Ctrl-C in qwenrun, as a user presses it. --chat: it stops the answer being
# generated and the chat goes on to the next message; at the input it ends
# qwenrun with status 130. --prompt: it stops the answer, whose statistics
# are printed, and qwenrun exits with status 130.
# usage: ctrl_c.sh QWENRUN MODEL.so MODEL_DIR
set -euo pipefail
qwenrun=$1 model=$2 weights=$3
tmp=$(mktemp -d)
trap 'kill -9 "$pid" 2>/dev/null || true; rm -rf "$tmp"' EXIT
mkfifo "$tmp/in"

fail() { echo "error: $*" >&2; echo "--- stderr:" >&2; cat "$tmp/err" >&2; exit 1; }
# Waits (up to 60 s) until FILE has at least N lines matching PATTERN.
wait_for() {
  local file=$1 pattern=$2 n=$3
  for _ in $(seq 600); do
    [ "$(grep -c -- "$pattern" "$file" || true)" -ge "$n" ] && return 0
    kill -0 "$pid" 2>/dev/null || fail "qwenrun ended early"
    sleep 0.1
  done
  fail "timed out waiting for '$pattern' in $file"
}

# Job control on, so that the background qwenrun does not start with SIGINT
# ignored. Each answer may run to 30000 tokens: only Ctrl-C ends it early.
set -m
"$qwenrun" --model "$model" --weights "$weights" --chat --max-context 32768 --max-tokens 30000 --ignore-eos \
  --temperature 0 <"$tmp/in" >"$tmp/out" 2>"$tmp/err" &
pid=$!
set +m
exec 3>"$tmp/in"

echo "hello" >&3
wait_for "$tmp/err" "loaded in" 1
sleep 0.5                           # some of the answer streams
kill -INT "$pid"
wait_for "$tmp/err" "generated, interrupted\]" 1

echo "and again" >&3                # the chat goes on
sleep 0.5
kill -INT "$pid"
wait_for "$tmp/err" "generated, interrupted\]" 2

sleep 0.5                           # back at the input
kill -INT "$pid"
status=0
wait "$pid" || status=$?
[ "$status" -eq 130 ] || fail "exit status $status, expected 130"

# Both answers stopped early, and the second came after the first.
grep -o "\[[0-9]* prompt tokens, [0-9]* generated, interrupted\]" "$tmp/err" >"$tmp/stats"
[ "$(wc -l <"$tmp/stats")" -eq 2 ] || fail "expected two interrupted answers"
while read -r _ _ _ generated _; do
  [ "$generated" -gt 0 ] && [ "$generated" -lt 30000 ] || fail "an answer of $generated tokens"
done <"$tmp/stats"

# --prompt: the answer so far, its statistics, status 130.
set -m
"$qwenrun" --model "$model" --weights "$weights" --prompt hello --max-context 32768 --max-tokens 30000 --ignore-eos \
  --temperature 0 >"$tmp/out" 2>"$tmp/err" </dev/null &
pid=$!
set +m
wait_for "$tmp/err" "loaded in" 1
sleep 0.5
kill -INT "$pid"
status=0
wait "$pid" || status=$?
[ "$status" -eq 130 ] || fail "--prompt: exit status $status, expected 130"
grep -q "generated, interrupted\]" "$tmp/err" || fail "--prompt: no statistics of the interrupted answer"
[ -s "$tmp/out" ] || fail "--prompt: no text before the interrupt"
echo "ok: --chat: two answers interrupted, status 130 at the input; --prompt: interrupted, status 130"
