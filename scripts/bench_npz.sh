#!/usr/bin/env bash
# load_npz beside numpy.load, in one run: one 256 MiB deflated member, barely compressible
# (normal) and highly compressible (ramp). Installs numpy into build/bench-venv.
# Usage: bash scripts/bench_npz.sh
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/bench_common.sh
bench_build nx_bench_io
bench_venv numpy
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
"$venv/bin/python" benchmarks/peers_npz.py "$dir"
NX_BENCH_NPZ_DIR="$dir" ./build/release/benchmarks/nx_bench_io --benchmark_filter=NpzLoad --benchmark_repetitions=5 \
  --benchmark_report_aggregates_only=true 2>&1 | grep -E "min|median|NpzLoad" || true
