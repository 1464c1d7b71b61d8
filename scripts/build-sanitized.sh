#!/usr/bin/env bash
# Builds into build-san/, with clang under AddressSanitizer and
# UndefinedBehaviorSanitizer, what runs on untrusted input without Halide:
# the libFuzzer targets (tests/fuzz/) and the unit tests of the parsers, the
# tokenizer, the sampler and the C API. scripts/fuzz.sh runs the targets;
# CTest (tests/sanitized/) runs both on every test run. qwenc itself is not
# built here: the C API test runs a model object the normal build compiled.
set -euo pipefail
cd "$(dirname "$0")/.."
flags="-fsanitize=address,undefined -fsanitize=fuzzer-no-link -fno-omit-frame-pointer -fno-sanitize-recover=undefined -g -O1"
cmake -S . -B build-san -DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
  -DCMAKE_C_FLAGS="$flags" -DCMAKE_CXX_FLAGS="$flags" -DQWENC_BUILD_COMPILER=OFF -DQWENC_FUZZ=ON >/dev/null
targets=(test-hostile-input test-safetensors test-text test-input-mutations test-sampler test-config test-c-api-misuse test-c-api-text test-c-api-batch)
while read -r t; do targets+=("fuzz-$t"); done < tests/fuzz/targets.txt
cmake --build build-san -j"$(nproc)" --target "${targets[@]}"
