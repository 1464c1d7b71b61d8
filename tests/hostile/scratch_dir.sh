#!/usr/bin/env bash
# scratch_dir.sh QWENC CONFIG WORK: qwenc used to compile in $TMPDIR/qwenc-<pid>
# and accept it if it existed. Another user could make that directory first,
# with a symlink named like an intermediate file, and have qwenc write
# through it. Here the old path is made in advance (the pid is the one exec
# gives qwenc), with such a symlink: qwenc must not write through it, must
# still compile, and must leave nothing behind in $TMPDIR.
set -euo pipefail
qwenc=$1 config=$2 work=$3
rm -rf "$work"
mkdir -p "$work/tmp" "$work/victim"
export TMPDIR=$work/tmp
bash -c 'mkdir "$TMPDIR/qwenc-$$" && ln -s "$1/owned.o" "$TMPDIR/qwenc-$$/qwen_embed.o" &&
         ln -s "$1/owned.c" "$TMPDIR/qwenc-$$/manifest.c" && exec "$2" "$3" -o "$4" --quiet' \
  _ "$work/victim" "$qwenc" "$config" "$work/model.so"
[ -s "$work/model.so" ] || { echo "FAIL: no model object"; exit 1; }
if [ -n "$(ls -A "$work/victim")" ]; then echo "FAIL: qwenc wrote through the planted symlinks:"; ls -l "$work/victim"; exit 1; fi
left=$(find "$work/tmp" -mindepth 1 -maxdepth 1 ! -name 'qwenc-[0-9]*')
if [ -n "$left" ]; then echo "FAIL: left behind in TMPDIR: $left"; exit 1; fi
echo "ok: compiled in a private directory; the planted path was not used"
