#!/usr/bin/env bash
# broken_templates.sh QWENRUN WORK_DIR: templates are untrusted input (they
# come with downloaded models). Each broken or hostile one below must end in
# one clear error line naming the template (and, for what can be placed,
# the line and column), a plain non-zero exit, and at most a second of CPU
# time: never a hang, a crash or memory without bound.
set -u
qwenrun=$1 work=$2
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$work"
echo '{"messages": [{"role": "user", "content": "hi"}]}' >"$work/messages.json"
failures=0
TIMEFORMAT='%U %S'

check() {  # NAME REGEX TEMPLATE
  local name=$1 regex=$2 template=$3 t="$work/$1.jinja"
  printf '%s' "$template" >"$t"
  local cpu out
  cpu=$( { time "$here/../expect_error.sh" "^qwenrun: error: $t(:[0-9]+:[0-9]+)?: .*$regex" \
            "$qwenrun" --chat-template "$t" --messages "$work/messages.json" --print-prompt >"$work/$name.out"; } 2>&1 )
  local rc=${PIPESTATUS[0]}
  out=$(cat "$work/$name.out")
  # CPU seconds of the check (qwenrun and the checking script), not wall time.
  local seconds
  seconds=$(awk '{print $1 + $2}' <<<"$cpu")
  if grep -q '^ok:' <<<"$out" && awk -v s="$seconds" 'BEGIN { exit !(s < 1.0) }'; then
    echo "ok   $name (${seconds} s CPU): ${out#ok: }"
  else
    echo "FAIL $name (${seconds} s CPU): $out"
    failures=$((failures + 1))
  fi
}

# Syntax errors: file, line and column.
check unclosed_if "expected 'endif' to close the 'if' at line 1" '{% if true %}x'
check unclosed_for "expected 'endfor' to close the 'for' at line 2" $'a\n{% for m in messages %}{{ m }}'
check unclosed_macro "expected 'endmacro'" '{% macro f() %}x'
check unclosed_print "expected end of print statement" '{{ messages '
check unclosed_comment "missing end of comment tag" '{# note'
check unclosed_string "unterminated string" "{{ 'abc }}"
check unclosed_raw "missing \\{% endraw %\\}" '{% raw %}x'
check stray_end "unexpected 'endfor' in the 'if' at line 1" '{% if x %}{% endfor %}'
check unknown_tag "unknown tag 'frobnicate'" '{% frobnicate %}'
check unknown_filter "no filter named 'shout'" "{{ 'x' | shout }}"
check unknown_test "no test named 'huge'" '{% if 1 is huge %}{% endif %}'
check include "'include' is not supported" "{% include 'other.jinja' %}"
check break_outside_loop "'break' outside of a loop" '{% break %}'
check bad_utf8 "not valid UTF-8" $'{{ "\xff" }}'
# Runtime errors the template itself raises or meets.
check raise_exception "TemplateError: Only user and assistant roles" \
  "{{ raise_exception('Only user and assistant roles are supported!') }}"
check undefined_attribute "UndefinedError: 'x' is undefined" '{{ x.y }}'
check type_error "can only concatenate str \\(not \"int\"\\) to str" "{{ 'a' + 1 }}"
# Hostile: without limits each would hang, exhaust memory or overflow the stack.
check runaway_loop "ran more than 1000000 steps" \
  '{% for i in range(100000) %}{% for j in range(100000) %}{{ i }}{% endfor %}{% endfor %}'
check recursion "recursed deeper than 500 levels" '{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}'
check doubling_string "builds a string over 32 MiB" \
  "{% set ns = namespace(s='x') %}{% for i in range(64) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}"
check repeated_string "builds a string over 32 MiB" "{{ 'x' * 4000000000 }}"
check nested_list "nested deeper than 256 levels" \
  '{% set ns = namespace(l=[]) %}{% for i in range(1000) %}{% set ns.l = [ns.l] %}{% endfor %}'
check big_range "range too big" '{{ range(1000000000) | length }}'
check deep_parentheses "nested deeper than 100 levels" "{{ $(printf '(%.0s' $(seq 300))1$(printf ')%.0s' $(seq 300)) }}"
check deep_blocks "nested deeper than 100 levels" "$(printf '{%% if 1 %%}%.0s' $(seq 300))$(printf '{%% endif %%}%.0s' $(seq 300))"
check huge_template "over the 1 MiB limit" "$(head -c 1100000 /dev/zero | tr '\0' x)"

[ "$failures" -eq 0 ] && echo "all broken templates refused with one clear error" || { echo "$failures failed"; exit 1; }
