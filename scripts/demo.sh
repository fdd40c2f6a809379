#!/usr/bin/env bash
# Installs what is missing, builds nx++ (release preset) and runs the main demonstration:
# a CNN trained on Fashion-MNIST (examples/fashion_mnist.cpp; pass its options through,
# e.g. bash scripts/demo.sh --epochs 1).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
cmake --preset release >/dev/null
cmake --build --preset release --target fashion_mnist
./build/release/examples/fashion_mnist "$@"
