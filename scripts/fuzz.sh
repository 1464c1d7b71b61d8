#!/usr/bin/env bash
# scripts/fuzz.sh [--seconds N] [--jobs J] [TARGET...]: runs the libFuzzer
# targets (tests/fuzz/; default: all of tests/fuzz/targets.txt) for N seconds each (default 600),
# J at a time (default: the number of cores), built by
# scripts/build-sanitized.sh under ASan and UBSan. Each starts from seed
# files (a random model directory, the repository's test configs, the
# tokenizer files scripts/setup.sh fetched) and from every input in
# tests/fuzz/regressions/TARGET/, which it replays first. An input that
# crashes, hangs (>10 s), runs out of memory (2 GB) or trips a sanitizer
# is written to build-san/fuzz-findings/TARGET/ and the script exits 1:
# commit it to tests/fuzz/regressions/TARGET/ with the fix.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=600
jobs=$(nproc)
targets=()
while [ $# -gt 0 ]; do
  case $1 in
    --seconds) seconds=$2; shift 2 ;;
    --jobs) jobs=$2; shift 2 ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) targets+=("$1"); shift ;;
  esac
done
[ ${#targets[@]} -gt 0 ] || mapfile -t targets < tests/fuzz/targets.txt
[ -x build-san/bin/fuzz-config ] || bash scripts/build-sanitized.sh
tokenizer=$PWD/work/tokenizers/qwen
[ -s "$tokenizer/tokenizer.json" ] || { echo "fuzz.sh: run scripts/setup.sh first (it fetches tokenizer.json)" >&2; exit 2; }

# Seeds, made once (under a lock: CTest runs several targets at a time) in a
# temporary folder renamed into place.
exec 9>build-san/.fuzz-seeds.lock
flock 9
if [ ! -d build-san/fuzz-seeds ]; then
  seeds=$(mktemp -d build-san/fuzz-seeds.XXXXXX)
  while read -r t; do mkdir -p "$seeds/$t"; done < tests/fuzz/targets.txt
  gen=build/bin/qwenc-random-model
  [ -x "$gen" ] || { echo "fuzz.sh: build qwenc first (scripts/setup.sh): the seeds come from qwenc-random-model" >&2; exit 2; }
  "$gen" --output "$seeds/model" --hidden-size 16 --intermediate-size 32 --num-heads 2 --num-kv-heads 1 --num-layers 1 \
    --vocab-size 32 --shards 2 >/dev/null 2>&1
  "$gen" --output "$seeds/model1" --hidden-size 16 --intermediate-size 32 --num-heads 2 --num-kv-heads 1 --num-layers 1 \
    --vocab-size 32 --dtype f32 >/dev/null 2>&1
  cp "$seeds/model/config.json" "$seeds/config/random.json"
  for f in tests/data/*/config.json; do cp "$f" "$seeds/config/$(basename "$(dirname "$f")").json"; done
  cp "$seeds/model/generation_config.json" "$seeds/generation_config/random.json"
  echo '{"do_sample": true, "temperature": 0.7, "top_p": 0.8, "top_k": 20, "repetition_penalty": 1.05, "eos_token_id": [151645, 151643]}' \
    > "$seeds/generation_config/sampling.json"
  cp "$seeds/model1/model.safetensors" "$seeds/safetensors/f32.safetensors"
  cp "$seeds"/model/model-*.safetensors "$seeds/safetensors/"
  cp "$seeds/model/model.safetensors.index.json" "$seeds/shard_index/index.json"
  cp "$tokenizer/tokenizer_config.json" "$seeds/tokenizer_config/qwen.json"
  cp tests/data/messages.json "$seeds/messages/"
  cp ../shared/chat-templates/templates/*.jinja models/chat_templates/*.jinja "$seeds/chat_template/"
  cp tests/data/prompts/*.jsonl "$seeds/prompt_line/"
  # A small tokenizer.json cut from the real one (the whole file takes most
  # of a second per run under ASan): byte tokens, the first thousand others,
  # the merges among them, the real pre-tokenizer and added tokens.
  python3 - "$tokenizer/tokenizer.json" "$seeds/tokenizer_json/small.json" <<'PY'
import json, sys
t = json.load(open(sys.argv[1], encoding="utf-8"))
vocab = {k: v for k, v in t["model"]["vocab"].items() if v < 1000}
merges = []
for m in t["model"]["merges"]:
    a, b = m if isinstance(m, list) else m.split(" ", 1)
    if a in vocab and b in vocab and a + b in vocab:
        merges.append(m)
t["model"]["vocab"], t["model"]["merges"] = vocab, merges
json.dump(t, open(sys.argv[2], "w", encoding="utf-8"), ensure_ascii=False)
PY
  printf 'Hello, world! 123 <|im_start|>user\nhéllo  \n\n\tx' > "$seeds/tokenize/text.txt"
  printf '%s' "$(printf 'a%.0s' $(seq 1 3000))" > "$seeds/tokenize/run.txt"
  rm -rf "$seeds/model" "$seeds/model1"
  mv "$seeds" build-san/fuzz-seeds
fi
flock -u 9

export ASAN_OPTIONS=detect_leaks=0:allocator_may_return_null=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
export QWENC_TOKENIZER_JSON=$tokenizer/tokenizer.json
run_one() {
  local t=$1
  local corpus=build-san/fuzz-corpus/$t findings=build-san/fuzz-findings/$t/ regressions=tests/fuzz/regressions/$t
  mkdir -p "$corpus" "$findings" "$regressions"
  cp -n build-san/fuzz-seeds/"$t"/* "$corpus/" 2>/dev/null || true
  local log=build-san/fuzz-$t.log max_len=65536
  [ "$t" != tokenizer_json ] || max_len=1048576
  if build-san/bin/fuzz-"$t" "$corpus" "$regressions" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
       -max_len="$max_len" -artifact_prefix="$findings" -print_final_stats=1 >"$log" 2>&1; then
    echo "fuzz $t: $(grep -m1 -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$') runs in ${seconds} s, nothing found"
  else
    echo "fuzz $t: FOUND something; see $log and $findings"
    grep -m3 -E "ERROR|finding|runtime error|SUMMARY" "$log" || tail -n 5 "$log"
    return 1
  fi
}
export -f run_one
export seconds
printf '%s\n' "${targets[@]}" | xargs -P "$jobs" -I{} bash -c 'run_one {}'
