#!/usr/bin/env bash
# setup: installs the Debian packages llmt builds and tests with; does nothing when all are present
set -euo pipefail

packages=(
  g++ clang libclang-rt-14-dev       # compilers; clang's runtime for libFuzzer and the sanitizers
  cmake ninja-build meson pkg-config python3 python3-pip
  libxsimd-dev libfmt-dev doctest-dev # the library and its tests
  libcli11-dev libcpp-httplib-dev nlohmann-json3-dev  # the example CLIs
  chromium chromium-driver            # tests/server: llmt-server's web page in headless Chromium
)

missing=()
for p in "${packages[@]}"; do
  # dpkg -s also succeeds for removed packages whose config files remain: check the status line.
  if ! dpkg -s "$p" 2>/dev/null | grep -q '^Status: install ok installed'; then
    missing+=("$p")
  fi
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  sudo=()
  if [ "$(id -u)" -ne 0 ]; then
    sudo=(sudo)
  fi
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# Test-side Python tools from PyPI (tests/cli/hardening_check.py writes inconsistent GGUF files with them).
python_tools=(gguf==0.19.0 numpy)
if ! python3 -c 'import gguf, numpy' 2>/dev/null; then
  echo "setup: pip install ${python_tools[*]}"
  python3 -m pip install -q "${python_tools[@]}" 2>/dev/null ||
    python3 -m pip install -q --break-system-packages "${python_tools[@]}"
fi

# tests/server: llmt-server against the official OpenAI and Ollama clients, schemathesis, selenium.
server_tools=(openai==3.51.0 ollama==0.6.3 schemathesis==4.32.5 selenium==4.51.0)
if ! python3 -c 'import openai, ollama, schemathesis, selenium' 2>/dev/null; then
  echo "setup: pip install ${server_tools[*]}"
  python3 -m pip install -q "${server_tools[@]}" 2>/dev/null ||
    python3 -m pip install -q --break-system-packages "${server_tools[@]}"
fi
