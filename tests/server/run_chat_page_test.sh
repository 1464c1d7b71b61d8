#!/usr/bin/env bash
# The chat page in headless Chromium against a live qwenserve.
# Usage: run_chat_page_test.sh BIN_DIR MODEL_DIR WORK_DIR
set -euo pipefail
bin=$1 model_dir=$2 work=$3
here=$(cd "$(dirname "$0")" && pwd)
rm -rf "$work" && mkdir -p "$work"
so=$model_dir/model.so
"$bin/qwenrun" --model "$so" --weights "$model_dir" --system "You are terse." --prompt "Hello! Who are you?" \
  --temperature 0 --max-tokens 8 2>/dev/null > "$work/expected.txt"
source "$here/start_server.sh"
start_server "$bin" "$so" "$model_dir" "$work/server.log"
# Debian's python3: python3-selenium is installed for it.
timeout 120 /usr/bin/python3 "$here/chat_page_test.py" "$url" "$work/expected.txt"
kill -TERM $server
wait $server
trap - EXIT
