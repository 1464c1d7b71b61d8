#!/usr/bin/env bash
# tuned_phases.sh SCHEDULE.json: the file qwenc tune wrote for a model with
# long down_proj rows holds the measurements of all three phases and sets
# the tiles each one varies.
set -u
file=$1
missing=0
for pattern in '"decode": \[' '"decode long rows": \[' '"prefill": \[' '"tiles": {'; do
  grep -q "$pattern" "$file" || { echo "no $pattern in $file"; missing=1; }
done
# The tiles object (on one line of its own per field, as dump(2) writes it).
tiles=$(sed -n '/"tiles": {/,/}/p' "$file")
for field in decode_vectors parallel_rows long_rows long_row_vectors rows tokens; do
  grep -q "\"$field\": [0-9]" <<<"$tiles" || { echo "tiles set no $field"; missing=1; }
done
[ "$missing" -eq 0 ] && echo "all three phases measured, their tiles set"
