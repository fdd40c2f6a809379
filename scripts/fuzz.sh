#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, ASan + UBSan) and runs each for a bounded time,
# seeded with valid, truncated and bit-flipped files that nx_fuzz_seeds writes, and with
# the committed malformed files of tests/golden/malformed/<format>/. Fails on any crash.
# Usage: scripts/fuzz.sh [seconds per target, default 60]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-60}"
bash scripts/setup.sh
command -v clang++ >/dev/null || { echo "fuzz: clang++ is needed (apt-get install clang)"; exit 1; }
cmake --preset fuzz >/dev/null
cmake --build --preset fuzz
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
artifacts=build/fuzz/artifacts
mkdir -p "$artifacts"
build/fuzz/tests/fuzz/nx_fuzz_seeds "$work/seeds"
for bin in build/fuzz/tests/fuzz/fuzz_*; do
  name=$(basename "$bin")
  format=${name#fuzz_}
  mkdir -p "$work/$format"
  seeds=("$work/seeds/$format")
  [[ -d tests/golden/malformed/$format ]] && seeds+=("tests/golden/malformed/$format")
  echo "fuzz: $name for ${seconds}s"
  # New inputs go to the scratch dir; the committed seeds are only read.
  # A crashing input is kept in build/fuzz/artifacts/ (add it to tests/golden/malformed/<format>/ once fixed).
  "$bin" -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 \
    -artifact_prefix="$artifacts/$format-" "$work/$format" "${seeds[@]}" 2>&1 | tail -n 12
done
echo "fuzz: no crashes"
