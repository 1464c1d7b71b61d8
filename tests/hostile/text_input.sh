#!/usr/bin/env bash
# text_input.sh QWENRUN MODEL.so DIR: what terminals and editors send.
# --chat used to keep a line of invalid UTF-8 in its history, refusing every
# later turn, and sent "/exit\r" (a CRLF pipe) as a message; --prompts-file
# kept the CR and read a BOM-prefixed JSON line as text.
set -uo pipefail
qwenrun=$1 model=$2 dir=$3
common=(--model "$model" --weights "$dir" --max-tokens 3 --temperature 0 --threads 2)
fail=0
err=$(printf '\xff\xfe bad\r\nhello\r\n/exit\r\nnever sent\r\n' | "$qwenrun" "${common[@]}" --chat 2>&1 >/dev/null)
rc=$?
[ $rc -eq 0 ] || { echo "FAIL: --chat exited $rc"; fail=1; }
grep -q "not valid UTF-8.*not sent" <<<"$err" || { echo "FAIL: no refusal of the bad line: $err"; fail=1; }
answers=$(grep -c "prompt tokens" <<<"$err")
[ "$answers" -eq 1 ] || { echo "FAIL: expected one answer (hello; then /exit), got $answers: $err"; fail=1; }

work=$(mktemp -d)
printf '\xEF\xBB\xBF{"prompt": "hi"}\r\nplain\r\n' > "$work/p.jsonl"
out=$("$qwenrun" "${common[@]}" --prompts-file "$work/p.jsonl" --quiet) || { echo "FAIL: --prompts-file exited $?"; fail=1; }
python3 - "$out" <<'PY' || fail=1
import json, sys
lines = [json.loads(l) for l in sys.argv[1].splitlines()]
prompts = [l["prompt"] for l in lines]
if prompts != ["hi", "plain"]:
    print("FAIL: prompts read as", prompts); sys.exit(1)
PY
rm -rf "$work"
[ $fail -eq 0 ] && echo "ok: the chat recovered from a bad line, /exit\\r ended it; CRLF and BOM were dropped"
exit $fail
