#!/usr/bin/env bash
# tuned_phases.sh SCHEDULE.json: the file qwenc tune wrote (with --weights,
# for a model with long down_proj rows) holds the measurements of all three
# phases, each candidate with its ratio to the defaults, and sets the tiles
# each phase varies.
set -u
file=$1
missing=0
for phase in prefill decode 'decode long rows'; do
  grep -q "\"$phase\": \[" "$file" || { echo "no $phase measurements in $file"; missing=1; }
done
rates=$(grep -c '"\(layer_tok_s\|tok_s\)": [0-9]' "$file")
ratios=$(grep -c '"speedup": [0-9]' "$file")
[ "$rates" -ge 6 ] && [ "$rates" -eq "$ratios" ] || { echo "$rates candidates measured, $ratios ratios"; missing=1; }
"$(dirname "$0")/tiles_set.sh" "$file" rows tokens decode_vectors parallel_rows long_rows long_row_vectors || missing=1
[ "$missing" -eq 0 ] && echo "$rates candidates over three phases measured, their tiles set"
