#!/usr/bin/env bash
# Installs what is missing, builds nx++ (release preset) and runs the main demonstration.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
cmake --preset release >/dev/null
cmake --build --preset release --target quickstart
./build/release/examples/quickstart
