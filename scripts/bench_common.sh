# Sourced by the bench_*.sh scripts (from the repository root).
#   bench_build TARGET...  configures the release preset and builds the targets, holding
#                          $NX_BUILD_LOCK (flock) when set, where builds share a machine
#   bench_venv PACKAGE...  sets $venv to $NX_BENCH_VENV, else build/bench-venv (made when
#                          missing), and installs the packages it cannot import
bench_build() {
  local lock=()
  [ -n "${NX_BUILD_LOCK:-}" ] && lock=(flock "$NX_BUILD_LOCK")
  "${lock[@]}" cmake --preset release >/dev/null
  "${lock[@]}" cmake --build build/release --target "$@"
}

bench_venv() {
  venv=${NX_BENCH_VENV:-build/bench-venv}
  [ -x "$venv/bin/python" ] || python3 -m venv "$venv"
  local p
  for p in "$@"; do
    "$venv/bin/python" -c "import $p" 2>/dev/null || "$venv/bin/pip" install -q "$p"
  done
}
