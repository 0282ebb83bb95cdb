#!/usr/bin/env bash
# run: sets up, builds and runs llmt's main job on the bundled model (the README's first command)
# Usage: bash scripts/run.sh [LLMT-RUN ARGS...]   (default: a story from the bundled stories260K model)
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh
cmake -S . -B _build/release -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build _build/release -j "${LLMT_JOBS:-2}" --target llmt-run

if [ $# -eq 0 ]; then
  set -- -m models/stories260K/stories260K.gguf -p "Once upon a time" -n 200
fi
exec _build/release/examples/llmt-run "$@"
