// How a fused kernel is launched over its group's (rows, cols): which entry points, with
// which grids and blocks, and the partial-result buffers between a reducing kernel and
// its folds. Plain arithmetic, no CUDA call, shared by the backend and the tests that run
// emitted kernels on the CPU (tests/cuda_emulation_test.cpp).
#pragma once
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "cuda_emit.hpp"
#include "nx/detail/fusion/partition.hpp"

namespace nx::cuda_backend {

struct Dim3 {
  unsigned x = 1, y = 1, z = 1;
};

struct Launch {
  std::string suffix;  // of the kernel's name: "" (main), "_warp", "_fold<k>"
  Dim3 grid, block;
  // A fold's output (its arguments: partials[fold], output fold, parts, width); -1 for
  // the main kernel (its arguments: inputs, outputs with partials in place of the
  // outputs that have them, rows, cols, and `chunk` for cols kernels).
  int fold = -1;
  int64_t parts = 0, width = 0;
};

struct LaunchPlan {
  std::vector<Launch> launches;       // in order
  std::vector<int64_t> partials;      // per output: elements of its partial buffer (0: none)
  int64_t chunk = 0;                  // cols kernels: rows per chunk
  bool chunked = false;               // the main kernel takes `chunk`
};

// Reductions of f16/bf16 in cols and all kernels keep their partial results in f64 and
// are always folded (even from one part): the fold rounds once, as interp does.
bool folded_in_f64(const KernelSpec& spec, size_t output);
// Bytes per element of output k's partial buffer.
size_t partial_item_size(const KernelSpec& spec, size_t output);

// Rows up to this long run a warp per row; longer ones a block per row.
constexpr int64_t kWarpRowCols = 1024;

// `sms`: the device's multiprocessors (the grids fill a few waves of them).
LaunchPlan plan_launches(const KernelSpec& spec, int64_t rows, int64_t cols, int sms);

// The (rows, cols) a group's kernel runs over: (1, size) for flat and whole reductions.
std::pair<int64_t, int64_t> kernel_extent(const fusion::Group& grp);

}  // namespace nx::cuda_backend
