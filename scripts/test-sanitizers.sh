#!/usr/bin/env bash
# Runs the test suite with qwenc, libqwenrt and the tests built under
# AddressSanitizer and UndefinedBehaviorSanitizer (in build-asan/), so that
# an out-of-bounds read or undefined behaviour on bad input fails a test
# instead of passing unnoticed. Not part of CI: ~10 minutes on 2 cores plus
# the build. Needs scripts/setup.sh to have run once (packages, tokenizer).
#
# Left out, as they cannot run sanitized: tests under qemu-user (ASan's
# shadow memory does not map there), the embedded example (built by its own
# CMake project without the sanitizer flags), and tests that count
# instructions in stdout (ASan prints a makecontext warning there).
set -euo pipefail
cd "$(dirname "$0")/.."
flags="-fsanitize=address,undefined -fno-omit-frame-pointer"
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_C_FLAGS="$flags" -DCMAKE_CXX_FLAGS="$flags" \
  -DCMAKE_EXE_LINKER_FLAGS="$flags" -DCMAKE_SHARED_LINKER_FLAGS="$flags" >/dev/null
cmake --build build-asan -j"$(nproc)"
cd build-asan
# Leaks are not checked: LLVM and Halide keep theirs until exit. A failed
# allocation returns null, as the read-bandwidth probe's test expects.
export ASAN_OPTIONS=detect_leaks=0:allocator_may_return_null=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
ctest --output-on-failure -j"$(nproc)" \
  -E '^(multitarget\.(max|Nehalem)\.|multitarget\.single_target_refuses_older_cpu|embedded\.|e2e\.bf16_dot\.(decode_)?emits_vdpbf16ps)'
