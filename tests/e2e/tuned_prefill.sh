#!/usr/bin/env bash
# tuned_prefill.sh SCHEDULE.json: the file qwenc tune wrote holds a
# measurement of each prefill candidate, with its ratio to the defaults,
# and sets the tiles the prefill phase varies (f32 prefill: rows, tokens).
set -u
file=$1
missing=0
grep -q '"prefill": \[' "$file" || { echo "no prefill measurements in $file"; missing=1; }
n=$(grep -c '"layer_tok_s": [0-9]' "$file")
s=$(grep -c '"speedup": [0-9]' "$file")
[ "$n" -ge 2 ] && [ "$n" -eq "$s" ] || { echo "$n candidates measured, $s ratios"; missing=1; }
# The tiles object (one line per field, as dump(2) writes it).
tiles=$(sed -n '/"tiles": {/,/}/p' "$file")
for field in rows tokens; do
  grep -q "\"$field\": [0-9]" <<<"$tiles" || { echo "tiles set no $field"; missing=1; }
done
[ "$missing" -eq 0 ] && echo "$n prefill candidates measured, their tiles set"
