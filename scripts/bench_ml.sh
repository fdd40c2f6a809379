#!/usr/bin/env bash
# nx::ml beside scikit-learn in one run on this machine (issue 17's table): StandardScaler
# and PCA(50) on Fashion-MNIST, k-means on digits and Fashion-MNIST, logistic regression on
# Fashion-MNIST, KNN on its 10000 test images, a decision tree on digits. Installs
# scikit-learn into build/bench-venv. Prints the table docs/PERFORMANCE.md carries
# (benchmarks/report_ml.py).
# Usage: bash scripts/bench_ml.sh
#   NX_BENCH_VENV: an existing virtual environment to use instead of build/bench-venv
#   NX_BUILD_LOCK: a lock file the build step holds (flock), where builds share a machine
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/bench_common.sh
bench_build nx_bench_ml
bench_venv numpy
"$venv/bin/python" -c "import sklearn" 2>/dev/null || "$venv/bin/pip" install -q scikit-learn
python="$(cd "$venv" && pwd)/bin/python"
out=build/bench-ml
mkdir -p "$out"
./build/release/benchmarks/nx_bench_ml --benchmark_format=json >"$out/ml.json"
(cd benchmarks && "$python" peers_ml.py) >"$out/peers.json"
python3 benchmarks/report_ml.py "$out"
