#!/usr/bin/env bash
# scripts/cross-build.sh aarch64: cross-builds the runtime (libqwenrt,
# qwenrun, the tools) for 64-bit ARM Linux into build-aarch64/ (or $BUILD_DIR), using
# cmake/toolchains/aarch64-linux-gnu.cmake. The compiler (qwenc) stays a
# host program: compile models for ARM with `qwenc ... --target arm-64-linux`.
# Run the result on x86 with: qemu-aarch64 -L / build-aarch64/bin/qwenrun ...
# (Debian's arm64 loader and libc, libc6:arm64; not the cross toolchain's
# loader in /usr/aarch64-linux-gnu, which is another glibc build.)
set -euo pipefail
cd "$(dirname "$0")/.."
arch=${1:-}
case "$arch" in
  aarch64|arm64) triple=aarch64-linux-gnu ;;
  *) echo "usage: scripts/cross-build.sh aarch64" >&2; exit 2 ;;
esac
for tool in $triple-gcc $triple-g++; do
  command -v "$tool" >/dev/null || { echo "cross-build: $tool not found (run scripts/setup.sh)" >&2; exit 1; }
done
out=${BUILD_DIR:-build-aarch64}
cmake -S . -B "$out" -DCMAKE_TOOLCHAIN_FILE=cmake/toolchains/$triple.cmake \
  -DQWENC_BUILD_COMPILER=OFF -DQWENC_BUILD_TESTS=OFF -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$out" -j"$(nproc)" --target qwenrun qwenrt qwenc-compare-logits
file "$out/bin/qwenrun"
