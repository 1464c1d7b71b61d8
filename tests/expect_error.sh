#!/usr/bin/env bash
# expect_error.sh REGEX CMD [ARGS...]: passes when CMD exits with a plain
# non-zero status (not a signal: no crash), prints exactly one error line on
# stderr, as its last line, and that line matches REGEX (grep -E). Progress
# lines may come before it.
set -u
regex=$1
shift
err=$(mktemp)
timeout 120 "$@" >/dev/null 2>"$err"
rc=$?
lines=$(grep -c 'error' "$err")
msg=$(tail -n 1 "$err")
all=$(cat "$err")
rm -f "$err"
if [ "$rc" -eq 0 ]; then echo "FAIL: expected an error, command succeeded: $*"; exit 1; fi
if [ "$rc" -ge 124 ]; then echo "FAIL: exit status $rc (crash, signal or timeout): $*"; echo "$msg"; exit 1; fi
if [ "$lines" -ne 1 ] || ! grep -q 'error' <<<"$msg"; then echo "FAIL: expected one error line, last on stderr:"; echo "$all"; exit 1; fi
if ! grep -Eq -- "$regex" <<<"$msg"; then echo "FAIL: stderr does not match /$regex/: $msg"; exit 1; fi
echo "ok: $msg"
