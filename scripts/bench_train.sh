#!/usr/bin/env bash
# Training beside PyTorch and JAX, in one run on this machine: the Adam step (forward, loss,
# backward, update) of the MLP 784-512-512-10 and the CNN c32-p-c64-p-fc128-fc10 at batch 128
# (nx_bench_train beside PyTorch eager, torch.compile and JAX jit), the whole step's compile
# in a fresh process cold and from the disk cache (nx_train_compile_latency, beside JAX's and
# torch.compile's), and Fashion-MNIST trained for 5 epochs (examples/fashion_mnist beside
# benchmarks/fashion_mnist_torch.py). Installs the Python peers into build/bench-venv.
# Prints the tables docs/PERFORMANCE.md carries (benchmarks/report_train.py).
# Usage: bash scripts/bench_train.sh [--no-fashion-mnist] [--peak-gflops G]   (default: the FMA peak measured in the run)
#   NX_BENCH_VENV: an existing virtual environment to use instead of build/bench-venv
#   NX_BUILD_LOCK: a lock file the build step holds (flock), where builds share a machine
set -euo pipefail
cd "$(dirname "$0")/.."
fashion=1
report_args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --no-fashion-mnist) fashion=0 ;;
    --peak-gflops) report_args+=(--peak-gflops "$2"); shift ;;
    *) echo "usage: bash scripts/bench_train.sh [--no-fashion-mnist] [--peak-gflops G]" >&2; exit 2 ;;
  esac
  shift
done
source scripts/bench_common.sh
bench_build nx_bench_train nx_train_compile_latency fashion_mnist nx_bench_gemm
bench_venv numpy jax torch
"$venv/bin/python" -c 'import optax' 2>/dev/null || "$venv/bin/pip" install -q optax ||
  echo "optax did not install: JAX runs the Adam in peers_train.py" >&2
out=build/bench-train
mkdir -p "$out"
./build/release/benchmarks/nx_bench_train --benchmark_repetitions=5 --benchmark_report_aggregates_only=true \
  --benchmark_format=json >"$out/nx.json"
cache=$(mktemp -d)
NX_CACHE_DIR="$cache" ./build/release/benchmarks/nx_train_compile_latency >"$out/compile_cold.json"
NX_CACHE_DIR="$cache" ./build/release/benchmarks/nx_train_compile_latency >"$out/compile_disk.json"
rm -rf "$cache"
"$venv/bin/python" benchmarks/peers_train.py >"$out/peers.json"
rm -f "$out/fm_nx.txt" "$out/fm_torch.json"
if [ "$fashion" = 1 ]; then
  ./build/release/examples/fashion_mnist --epochs 5 --out "$out/fm" >"$out/fm_nx.txt"
  "$venv/bin/python" benchmarks/fashion_mnist_torch.py --epochs 5 >"$out/fm_torch.json"
fi
# The floors use the FMA peak measured now (the widest vector unit, both cores), unless given.
if [ ${#report_args[@]} -eq 0 ]; then
  peak=$(./build/release/benchmarks/nx_bench_gemm --benchmark_filter=FmaPeak --benchmark_format=json 2>/dev/null |
    python3 -c 'import json, sys; print(max(b.get("GFLOP/s", 0) for b in json.load(sys.stdin)["benchmarks"]))')
  report_args=(--peak-gflops "$peak")
fi
python3 benchmarks/report_train.py "$out" "${report_args[@]}"
