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
  catch2                         # unit tests
)
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$(nproc)"
echo "setup: built build/bin/qwenc and build/bin/qwenrun"
