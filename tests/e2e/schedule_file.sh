#!/usr/bin/env bash
# schedule_file.sh QWENC CONFIG TUNED_JSON DIR: a schedule file that turns
# decode_halves off (CpuTiles; in the family `qwenc tune` wrote TUNED_JSON
# for) yields an object whose decode loops no longer take their tasks from
# the two halves of the rows, while DIR/model.so (defaults) has such loops.
set -eu
qwenc=$1 config=$2 tuned=$3 dir=$4
family=$(grep -o '"schedule": *"[^"]*"' "$tuned" | sed 's/.*"\([^"]*\)"$/\1/')
printf '{"qwenc_schedule": 1, "schedule": "%s", "tiles": {"decode_halves": 0}}\n' "$family" >"$dir/no_halves.json"
"$qwenc" "$config" -o "$dir/no_halves.so" --schedule "$dir/no_halves.json" --quiet
with=$(nm "$dir/model.so" | grep -c 'decode_par_for_.*_half_task$' || true)
without=$(nm "$dir/no_halves.so" | grep -c 'decode_par_for_.*_half_task$' || true)
echo "loops over halves: defaults $with, decode_halves 0: $without"
[ "$with" -gt 0 ] && [ "$without" -eq 0 ]
