#!/usr/bin/env bash
# The llvm backend beside its anchors, in one run on this machine: hand-written AVX2 loops,
# Eigen, numpy, PyTorch and JAX on the tanh chain (16M f32), row softmax (4096 x 4096) and
# sum (16M f32, beside STREAM's triad bandwidth); compile latency of the MLP value_and_grad
# step cold and from the disk cache, beside JAX's compile of the same step. Installs the
# Python peers into build/bench-venv. Prints the table docs/PERFORMANCE.md carries.
# Usage: bash scripts/bench_llvm.sh
set -euo pipefail
cd "$(dirname "$0")/.."
# NX_BENCH_VENV: an existing virtual environment to use; NX_BUILD_LOCK: as bench_common.sh says
source scripts/bench_common.sh
bench_build nx_bench_llvm nx_compile_latency
bench_venv numpy jax torch
out=build/bench-llvm
mkdir -p "$out"
./build/release/benchmarks/nx_bench_llvm --benchmark_filter='Chain|Softmax|Sum|Triad|Compile' --benchmark_repetitions=7 \
  --benchmark_enable_random_interleaving=true --benchmark_report_aggregates_only=true --benchmark_format=json >"$out/nx.json"
cache=$(mktemp -d)
NX_CACHE_DIR="$cache" ./build/release/benchmarks/nx_compile_latency >"$out/compile_cold.json"
NX_CACHE_DIR="$cache" ./build/release/benchmarks/nx_compile_latency >"$out/compile_disk.json"
rm -rf "$cache"
"$venv/bin/python" benchmarks/peers_llvm.py >"$out/peers.json"
python3 benchmarks/report_llvm.py "$out"
