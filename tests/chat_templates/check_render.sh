#!/usr/bin/env bash
# check_render.sh QWENRUN CASE_TOOL RENDERS.json TEMPLATES_DIR INDEX WORK_DIR:
# one reference render through the CLI contract
#   qwenrun --chat-template T.jinja --messages M.json --print-prompt
# byte for byte, or, for a case the template refuses, one clear error.
set -eu
qwenrun=$1 case_tool=$2 renders=$3 templates=$4 index=$5 work=$6
mkdir -p "$work"
read -r template expect < <("$case_tool" "$renders" "$index" "$work")
# The references were rendered with strftime_now pinned to 2026-01-15 09:30:00.
export SOURCE_DATE_EPOCH=1768469400
if [ "$expect" = error ]; then
  exec "$(dirname "$0")/../expect_error.sh" "$template" \
    "$qwenrun" --chat-template "$templates/$template" --messages "$work/messages.json" --print-prompt
fi
"$qwenrun" --chat-template "$templates/$template" --messages "$work/messages.json" --print-prompt >"$work/got"
if ! cmp -s "$work/expected" "$work/got"; then
  echo "FAIL: $template case $index differs from jinja2's render"
  diff <(cat "$work/expected"; echo) <(cat "$work/got"; echo) | head -20
  exit 1
fi
echo "ok: $template case $index, $(wc -c <"$work/got") bytes identical"
