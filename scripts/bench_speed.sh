#!/usr/bin/env bash
# Issue 20's rows in one run on this machine, each beside its reference: f32 GEMM at 1024 and
# 2048 (through nx on oneDNN and on the own GEMM's micro-kernels, beside raw dnnl_sgemm and
# numpy) against the FMA peak measured in the same run; a conv2d forward with NCHW in and
# out beside raw oneDNN (preblocked and from NCHW) and PyTorch; the eager 1-element add
# beside numpy; the jit cache hit beside jax.jit and torch.compile; STREAM's triad for
# the bandwidth. Installs the Python peers into build/bench-venv. Prints the table
# docs/PERFORMANCE.md carries (benchmarks/report_speed.py).
# Usage: bash scripts/bench_speed.sh
#   NX_BENCH_VENV: an existing virtual environment to use instead of build/bench-venv
#   NX_BUILD_LOCK: a lock file the build step holds (flock), where builds share a machine
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/bench_common.sh
bench_build nx_bench_gemm nx_bench_onednn nx_bench_dispatch nx_bench_llvm
bench_venv numpy jax torch
out=build/bench-speed
mkdir -p "$out"
json=(--benchmark_repetitions=3 --benchmark_report_aggregates_only=true --benchmark_format=json)
./build/release/benchmarks/nx_bench_gemm --benchmark_filter='FmaPeak|/1024/1024/1024/|/2048/2048/2048/' "${json[@]}" >"$out/gemm.json"
./build/release/benchmarks/nx_bench_onednn --benchmark_filter='Conv2d.*pass:0' "${json[@]}" >"$out/conv.json"
./build/release/benchmarks/nx_bench_dispatch --benchmark_filter='EagerAddOneElement|JitCacheHitOneElement' "${json[@]}" >"$out/dispatch.json"
./build/release/benchmarks/nx_bench_llvm --benchmark_filter='Triad' "${json[@]}" >"$out/triad.json"
"$venv/bin/python" benchmarks/peers_speed.py >"$out/peers.json"
python3 benchmarks/report_speed.py "$out"
