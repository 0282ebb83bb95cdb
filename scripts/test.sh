#!/usr/bin/env bash
# test: sets up, builds and runs every test (the README's second command; .ci/run runs it)
#   single header up to date; CMake Release + ctest; meson + meson test; ASan+UBSan + ctest;
#   libFuzzer on the GGUF reader. LLMT_JOBS (default 2) and LLMT_FUZZ_SECONDS (default 60) tune it.
set -euo pipefail
cd "$(dirname "$0")/.."

jobs=${LLMT_JOBS:-2}
fuzz_seconds=${LLMT_FUZZ_SECONDS:-60}
step() { printf '\n==== [%4ds] %s\n' "$SECONDS" "$*"; }

step "setup"
bash scripts/setup.sh

step "single header: single_include/llmt/llmt.hpp is up to date"
python3 scripts/amalgamate.py --check

step "CMake Release build + ctest"
cmake -S . -B _build/release -G Ninja -DCMAKE_BUILD_TYPE=Release
cmake --build _build/release -j "$jobs"
ctest --test-dir _build/release --output-on-failure -j "$jobs"

step "meson build + meson test"
if [ -f _build/meson/build.ninja ]; then
  meson setup --reconfigure _build/meson
else
  meson setup _build/meson --buildtype=release
fi
meson compile -C _build/meson -j "$jobs"
meson test -C _build/meson --print-errorlogs --num-processes "$jobs"

step "ASan + UBSan build + ctest"
cmake -S . -B _build/asan -G Ninja -DLLMT_SANITIZE=ON \
  -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG="-O1 -g1" \
  -DLLMT_BUILD_EXAMPLES=OFF -DLLMT_BUILD_BENCH=OFF
cmake --build _build/asan -j "$jobs"
ASAN_OPTIONS=detect_leaks=1:strict_string_checks=1:check_initialization_order=1 \
UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --test-dir _build/asan --output-on-failure -j "$jobs"

step "libFuzzer: the GGUF reader for ${fuzz_seconds} s"
cmake -S . -B _build/fuzz -G Ninja -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DLLMT_BUILD_FUZZ=ON -DLLMT_BUILD_TESTS=OFF -DLLMT_BUILD_EXAMPLES=OFF -DLLMT_BUILD_BENCH=OFF
cmake --build _build/fuzz -j "$jobs" --target fuzz_gguf gguf_seed_corpus
rm -rf _build/fuzz/seeds && mkdir -p _build/fuzz/seeds _build/fuzz/corpus _build/fuzz/artifacts
_build/fuzz/tests/fuzz/gguf_seed_corpus _build/fuzz/seeds
_build/fuzz/tests/fuzz/fuzz_gguf -max_total_time="$fuzz_seconds" -timeout=10 -rss_limit_mb=2048 \
  -print_final_stats=1 -artifact_prefix=_build/fuzz/artifacts/ \
  -dict=tests/fuzz/gguf.dict _build/fuzz/corpus _build/fuzz/seeds

step "all tests passed"
