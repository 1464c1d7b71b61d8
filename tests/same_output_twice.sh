#!/usr/bin/env bash
# same_output_twice.sh CMD...: runs CMD twice; passes when both runs succeed
# with the same, non-empty standard output.
set -u
a=$("$@" 2>/dev/null) || { echo "FAIL: first run failed"; exit 1; }
b=$("$@" 2>/dev/null) || { echo "FAIL: second run failed"; exit 1; }
[ -n "$a" ] || { echo "FAIL: no output"; exit 1; }
[ "$a" = "$b" ] || { printf 'FAIL: outputs differ:\n%s\n---\n%s\n' "$a" "$b"; exit 1; }
printf 'ok, same output twice:\n%s\n' "$a"
