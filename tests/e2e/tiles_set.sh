#!/usr/bin/env bash
# tiles_set.sh SCHEDULE.json FIELD...: the schedule file's "tiles" object
# (one line per field, as qwenc tune's dump(2) writes it) sets every FIELD.
set -u
file=$1
shift
tiles=$(sed -n '/"tiles": {/,/}/p' "$file")
missing=0
for field in "$@"; do
  grep -q "\"$field\": [0-9]" <<<"$tiles" || { echo "$file: tiles set no $field"; missing=1; }
done
exit "$missing"
