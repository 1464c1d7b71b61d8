#!/usr/bin/env bash
# disk_full.sh BIN WORK: a write that fails part-way (a file size limit
# stands in for a full disk: write() fails with EFBIG once SIGXFSZ is
# ignored) must end in one error line and a non-zero exit, and leave the
# files that were there before as they were. qwenc quantize used to exit 0
# leaving an empty config.json.
set -uo pipefail
bin=$1 work=$2
rm -rf "$work"; mkdir -p "$work"
gen=(--hidden-size 64 --intermediate-size 128 --num-heads 4 --num-kv-heads 2 --num-layers 2 --vocab-size 512)
"$bin/qwenc-random-model" --output "$work/src" "${gen[@]}" --seed 1 >/dev/null || exit 1
"$bin/qwenc-random-model" --output "$work/out" "${gen[@]}" --seed 2 >/dev/null || exit 1
"$bin/qwenc" quantize "$work/src" "$work/q8" --quiet || exit 1
sums() { (cd "$1" && sha256sum -- * | sort); }
fail=0
check() {  # check NAME DIR CMD...: CMD under a 64 KB file size limit must fail cleanly and leave DIR as it was
  local name=$1 dir=$2; shift 2
  local before; before=$(sums "$dir")
  local err; err=$(mktemp)
  ( trap '' XFSZ; ulimit -f 64; "$@" ) >/dev/null 2>"$err"
  local rc=$?
  if [ $rc -eq 0 ] || [ $rc -ge 124 ]; then echo "FAIL: $name exited $rc"; fail=1; fi
  if ! tail -n 1 "$err" | grep -q "error: .*cannot write (File too large)"; then echo "FAIL: $name: $(cat "$err")"; fail=1; fi
  if [ "$(sums "$dir")" != "$before" ]; then echo "FAIL: $name changed $dir"; fail=1; fi
  if ls -A "$dir" | grep -q '\.tmp-'; then echo "FAIL: $name left a temporary file"; fail=1; fi
  rm -f "$err"
  echo "$name: exit $rc"
}
check "qwenc-random-model over a model" "$work/out" "$bin/qwenc-random-model" --output "$work/out" "${gen[@]}" --seed 3
check "qwenc quantize over a model" "$work/q8" "$bin/qwenc" quantize "$work/src" "$work/q8" --quiet
[ $fail -eq 0 ] && echo "ok: every failed write left the old files"
exit $fail
