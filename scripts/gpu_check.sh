#!/usr/bin/env bash
# Every GPU check of the cuda backend in one command (on the lent GPU machine, within 8
# minutes), logs under $OUT (default build/gpu_check; at most 8 files, as the device tool
# brings back: summary.txt (the machine, each stage's result, the benchmark table),
# build.txt, tests.txt, train.txt, bench_nx.jsonl, bench_torch.jsonl, bench.err):
#   1. the machine: GPU, driver, compilers (in summary.txt);
#   2. builds the cuda preset (core + interp + cuda, GoogleTest from carried sources);
#   3. the cuda tests, then the op-table, gradient, random, sort, convolution, window,
#      linear-algebra, indexing and loop suites with NX_BACKEND=cuda
#      (every op against interp's golden values);
#   4. trains the Fashion-MNIST CNN (examples/fashion_mnist, one epoch) and MLP on the
#      GPU and prints their test accuracy;
#   5. the GPU benchmarks (benchmarks/cuda_bench.cpp) beside PyTorch on the same GPU
#      (benchmarks/peers_cuda.py), as docs/PERFORMANCE.md's table (report_cuda.py).
# Stages may be named to run fewer (the build always runs): gpu_check.sh tests bench
# Here: bash scripts/gpu_pack.sh, then run this there with .gpu_deps carried:
#   run(command="bash scripts/gpu_check.sh", carry=[".gpu_deps"], timeout_s=540)
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-build/gpu_check}
mkdir -p "$OUT"
start=$SECONDS
stages=" ${*:-tests train bench} "
wants() { [[ $stages == *" $1 "* ]]; }
# The whole check stays within 8 minutes: each stage gets its seconds or what is left of
# them ($budget), and is skipped, saying so, when that is under a third of its seconds
# (run it alone then: gpu_check.sh bench).
limit=${NX_GPU_CHECK_SECONDS:-470}
budget=0
fits() {  # stage, seconds it may take
  local left=$((limit - SECONDS + start))
  budget=$(($2 < left ? $2 : left))
  if ((budget * 3 < $2)); then
    step "$1 skipped: ${left} s of the ${limit} s left, it may take $2 s"
    return 1
  fi
}
step() { echo "== $* ($((SECONDS - start)) s)" | tee -a "$OUT/summary.txt"; }

step "machine"
{ nvidia-smi; nvcc --version; g++ --version; cmake --version; ninja --version; nproc; } >>"$OUT/summary.txt" 2>&1
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader

# What the machine lacks, from .gpu_deps (scripts/gpu_pack.sh): headers and static
# libraries under /usr/local, the data set where nx++ looks for it.
if [[ -d .gpu_deps ]]; then
  cp -rn .gpu_deps/include/. /usr/local/include/ 2>/dev/null
  cp -n .gpu_deps/lib/*.a /usr/local/lib/ 2>/dev/null
  export NX_FASHION_MNIST_DIR=$PWD/.gpu_deps/fashion-mnist
fi
# cuDNN's library, where the toolkit has none: the one PyTorch installed (nvidia-cudnn).
if ! ldconfig -p | grep -q libcudnn.so.9; then
  cudnn_lib=$(python3 -c "import nvidia.cudnn, os; print(os.path.join(list(nvidia.cudnn.__path__)[0], 'lib'))" 2>/dev/null)
  [[ -d $cudnn_lib ]] && export LD_LIBRARY_PATH=$cudnn_lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
  echo "cuDNN from ${cudnn_lib:-nowhere}" >>"$OUT/summary.txt"
fi

step "build (cuda preset)"
jobs=$(nproc)
if ! { cmake --preset cuda -DNX_GTEST_SOURCE_DIR="$PWD/.gpu_deps/googletest" &&
       cmake --build build/cuda -j "$jobs"; } >"$OUT/build.txt" 2>&1; then
  tail -40 "$OUT/build.txt"
  step "build FAILED"
  exit 1
fi

failed=0
suite() {  # name, environment, filter, seconds
  local name=$1 env=$2 filter=$3 seconds=$4
  fits "$name" "$seconds" || return 0
  step "$name"
  local log=$OUT/$name.log
  if env $env timeout "$budget" build/cuda/tests/nx_tests --gtest_filter="$filter" --gtest_brief=1 >"$log" 2>&1; then
    { grep -E "^cuDNN" "$log"; tail -3 "$log"; } | tee -a "$OUT/summary.txt"
  else
    failed=1
    grep -E "FAILED|Failure|error|^cuDNN" "$log" | head -30 | tee -a "$OUT/summary.txt"
  fi
  { echo "== $name"; cat "$log"; } >>"$OUT/tests.txt"
  rm -f "$log"
}
if wants tests; then
  # The emulation tests need no GPU (CI runs them) and take over a minute: left out here.
  suite cuda_tests "NX_BACKEND=interp" "Cuda*:-CudaEmulation.*" 90
  suite ops_on_cuda "NX_BACKEND=cuda" "Ops/*:GradGolden*:Grad.*:Random*:Sort*:TopK*:Conv*:Window*:Linalg.*:Indexing.*:Loops.*" 170
fi

train() {  # name, seconds, program and arguments
  local name=$1 seconds=$2
  shift 2
  fits "$name" "$seconds" || return 0
  step "$name on the GPU"
  local log=$OUT/$name.log
  if NX_BACKEND=cuda timeout "$budget" "$@" >"$log" 2>&1; then
    grep -iE "test accuracy|error" "$log" | tail -3 | tee -a "$OUT/summary.txt"
  else
    failed=1
    tail -20 "$log" | tee -a "$OUT/summary.txt"
  fi
  { echo "== $name"; cat "$log"; } >>"$OUT/train.txt"
  rm -f "$log"
}
if wants train; then
  train fashion_mnist_cnn 120 build/cuda/examples/fashion_mnist --epochs 1 --out build/gpu_check_model
  train fashion_mnist_mlp 90 build/cuda/examples/mlp
fi

if wants bench && fits benchmarks 230; then
  step "benchmarks: nx++, then PyTorch, on this GPU"
  mine=$((budget * 13 / 23))  # of 230 s: 130 for nx++, 90 for PyTorch (torch.compile too)
  timeout "$mine" build/cuda/benchmarks/nx_bench_cuda >"$OUT/bench_nx.jsonl" 2>>"$OUT/bench.err" || failed=1
  timeout "$((budget - mine))" python3 benchmarks/peers_cuda.py >"$OUT/bench_torch.jsonl" 2>>"$OUT/bench.err" || failed=1
  python3 benchmarks/report_cuda.py "$OUT/bench_nx.jsonl" "$OUT/bench_torch.jsonl" | tee -a "$OUT/summary.txt"
fi
step "done (failed=$failed)"
exit $failed
