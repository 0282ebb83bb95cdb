#!/usr/bin/env bash
# test: sets up, builds and runs every test (the README's second command; .ci/run runs it)
#   single header up to date; CMake Release + ctest; ASan+UBSan + ctest. LLMT_JOBS (default 2).
set -euo pipefail
cd "$(dirname "$0")/.."

jobs=${LLMT_JOBS:-2}
step() { printf '\n==== [%4ds] %s\n' "$SECONDS" "$*"; }

step "setup"
bash scripts/setup.sh

step "single header: single_include/llmt/llmt.hpp is up to date"
python3 scripts/amalgamate.py --check

step "CMake Release build + ctest"
cmake -S . -B _build/release -G Ninja -DCMAKE_BUILD_TYPE=Release
cmake --build _build/release -j "$jobs"
ctest --test-dir _build/release --output-on-failure -j "$jobs"

step "ASan + UBSan build + ctest"
cmake -S . -B _build/asan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DLLMT_SANITIZE=ON \
  -DLLMT_BUILD_EXAMPLES=OFF -DLLMT_BUILD_BENCH=OFF
cmake --build _build/asan -j "$jobs"
ASAN_OPTIONS=detect_leaks=1:strict_string_checks=1:check_initialization_order=1 \
UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --test-dir _build/asan --output-on-failure -j "$jobs"

step "all tests passed"
