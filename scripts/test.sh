#!/usr/bin/env bash
# test: sets up, builds and runs every test (the README's second command; .ci/run runs it)
#   single header up to date; CMake Release + ctest; meson (CLIs, golden test) + meson test; ASan+UBSan + ctest; TSan on the scheduler, the thread pool and llmt-server;
#   libFuzzer on the GGUF reader, the model loader, the tokenizers, the chat templates and sampling. LLMT_JOBS
#   (default 2), LLMT_FUZZ_SECONDS (the GGUF reader, default 60) and LLMT_FUZZ_TARGET_SECONDS (each other target,
#   default 45) tune it.
set -euo pipefail
cd "$(dirname "$0")/.."

jobs=${LLMT_JOBS:-2}
fuzz_seconds=${LLMT_FUZZ_SECONDS:-60}
fuzz_target_seconds=${LLMT_FUZZ_TARGET_SECONDS:-45}
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
# the meson build of the library, CLIs and their golden test; the unit tests are CMake's (built twice above and below)
if [ -f _build/meson/build.ninja ]; then
  meson setup --reconfigure _build/meson -Dtests=false
else
  meson setup _build/meson --buildtype=release -Dtests=false
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

step "TSan: the scheduler's and the thread pool's tests (client threads submit and cancel while the scheduler thread steps)"
mkdir -p _build/tsan
"${CXX:-g++}" -std=c++20 -O1 -g -march=native -fsanitize=thread -Iinclude -Itests \
  -DLLMT_MODELS_DIR="\"$PWD/models\"" -DLLMT_TEST_DATA_DIR="\"$PWD/tests/data\"" \
  tests/main.cpp tests/test_scheduler.cpp tests/test_thread_pool.cpp -lfmt -pthread -o _build/tsan/scheduler-tests
TSAN_OPTIONS=halt_on_error=1 _build/tsan/scheduler-tests

step "TSan: llmt-server under the OpenAI and Ollama clients (HTTP threads, the scheduler's thread, disconnects, SIGTERM)"
"${CXX:-g++}" -std=c++20 -O1 -g -march=native -fsanitize=thread -Iinclude -DLLMT_PRESETS_EXTERN \
  -DLLMT_SERVER_DEFAULT_MODEL="\"$PWD/models/stories260K/stories260K.gguf\"" \
  examples/llmt-server.cpp examples/presets_instance.cpp $(pkg-config --cflags --libs cpp-httplib) -lfmt -pthread \
  -o _build/tsan/llmt-server
TSAN_OPTIONS=halt_on_error=1 python3 tests/server/openai_check.py _build/tsan/llmt-server _build/release/examples/llmt-run \
  models/stories260K/stories260K.gguf
TSAN_OPTIONS=halt_on_error=1 python3 tests/server/ollama_check.py _build/tsan/llmt-server models/stories260K/stories260K.gguf

step "libFuzzer: the GGUF reader for ${fuzz_seconds} s; the loader, tokenizers, chat templates, sampling for ${fuzz_target_seconds} s each"
cmake -S . -B _build/fuzz -G Ninja -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DLLMT_BUILD_FUZZ=ON -DLLMT_BUILD_TESTS=OFF -DLLMT_BUILD_EXAMPLES=OFF -DLLMT_BUILD_BENCH=OFF
cmake --build _build/fuzz -j "$jobs" --target llmt-fuzz
rm -rf _build/fuzz/seeds _build/fuzz/seeds-by-target && mkdir -p _build/fuzz/seeds _build/fuzz/artifacts
_build/fuzz/tests/fuzz/gguf_seed_corpus _build/fuzz/seeds
_build/fuzz/tests/fuzz/fuzz_seed_corpus _build/fuzz/seeds-by-target
# fuzz NAME SECONDS SEEDS [flags]: runs tests/fuzz/fuzz_NAME on its corpus (kept in _build/fuzz/corpus/NAME between
# runs); a crash, sanitizer report, leak, timeout or out-of-memory writes _build/fuzz/artifacts/NAME-* and fails.
fuzz() {
  local name=$1 seconds=$2 seeds=$3
  shift 3
  mkdir -p "_build/fuzz/corpus/$name"
  "_build/fuzz/tests/fuzz/fuzz_$name" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=2048 \
    -print_final_stats=1 -artifact_prefix="_build/fuzz/artifacts/$name-" "$@" "_build/fuzz/corpus/$name" "$seeds"
}
fuzz gguf "$fuzz_seconds" _build/fuzz/seeds -dict=tests/fuzz/gguf.dict
fuzz load "$fuzz_target_seconds" _build/fuzz/seeds-by-target/load -dict=tests/fuzz/gguf.dict
fuzz tokenize "$fuzz_target_seconds" _build/fuzz/seeds-by-target/tokenize -dict=tests/fuzz/tokenize.dict
fuzz chat_template "$fuzz_target_seconds" _build/fuzz/seeds-by-target/chat_template -dict=tests/fuzz/chat_template.dict
fuzz sampling "$fuzz_target_seconds" _build/fuzz/seeds-by-target/sampling

step "all tests passed"
