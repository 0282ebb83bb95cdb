#!/usr/bin/env bash
# run: sets up, builds and runs llmt's main job on the bundled model (the README's first command)
# Usage: bash scripts/run.sh [ARGS...]   (default: the bundled stories260K model)
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh
cmake -S . -B _build/release -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build _build/release -j "${LLMT_JOBS:-2}" --target llmt-info

if [ $# -eq 0 ]; then
  set -- models/stories260K/stories260K.gguf
fi
exec _build/release/examples/llmt-info "$@"
