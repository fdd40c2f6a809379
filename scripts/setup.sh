#!/usr/bin/env bash
# Installs what nx++ needs to build and test, with apt-get. Idempotent: quiet when
# everything is already present.
set -euo pipefail

packages=(cmake ninja-build g++ ccache pkg-config libeigen3-dev libgtest-dev libgmock-dev
          libbenchmark-dev zlib1g-dev libdeflate-dev libdlpack-dev dataset-fashion-mnist clang libdnnl-dev libopenblas-dev llvm-14-dev)
# Optional backends: installed when asked for with NX_SETUP_OPTIONAL=1.
if [[ "${NX_SETUP_OPTIONAL:-0}" == 1 ]]; then
  packages+=(libopenmpi-dev)
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "nx++ setup: installing ${missing[*]}"
  sudo_cmd=()
  [[ $(id -u) -ne 0 ]] && sudo_cmd=(sudo)
  export DEBIAN_FRONTEND=noninteractive
  "${sudo_cmd[@]}" apt-get update -qq
  "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
