#!/usr/bin/env bash
# Packs what the GPU machine lacks into .gpu_deps/ (git-ignored) for the device tool to
# carry: GoogleTest's sources (built there from source), the headers and static
# libraries the core builds with (Eigen, DLPack, zlib, libdeflate), cuDNN's headers, and
# Fashion-MNIST.
# That machine has the CUDA toolkit, CMake, ninja and g++, but no package registry.
#   bash scripts/gpu_pack.sh            then carry .gpu_deps (scripts/gpu_check.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
out=.gpu_deps
rm -rf "$out"
mkdir -p "$out/include" "$out/lib" "$out/fashion-mnist"
cp -r /usr/src/googletest "$out/googletest"
rm -rf "$out/googletest/googlemock/docs" "$out/googletest/googletest/docs"
mkdir -p "$out/include/eigen3"
cp -r /usr/include/eigen3/Eigen "$out/include/eigen3/"   # not unsupported/: nx++ uses none of it
cp -r /usr/include/dlpack "$out/include/"
cp /usr/include/zlib.h /usr/include/zconf.h /usr/include/libdeflate.h "$out/include/"
# cuDNN's graph API headers (its library there comes with PyTorch: scripts/gpu_check.sh).
cuda_include=$(dirname "$(command -v nvcc)")/../include
cp "$cuda_include/cudnn_graph.h" "$cuda_include/cudnn_version.h" "$out/include/"
multiarch=$(gcc -print-multiarch)
cp "/usr/lib/$multiarch/libz.a" "/usr/lib/$multiarch/libdeflate.a" "$out/lib/"
cp /usr/share/datasets/fashion-mnist/*.gz "$out/fashion-mnist/"
du -sh "$out"
