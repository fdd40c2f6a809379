// window_max and window_scatter_max (max pooling and its gradient) for windows that tile
// their input exactly: unit windows on the batch and channel axes, spatial strides equal
// to the windows, no padding or dilation, sizes divisible. One pass over each plane, on
// the worker threads; oneDNN's pooling backward recomputes the forward for its workspace
// and reads plain layouts slowly. Semantics as interp: a NaN beats every number, and the
// gradient goes to each window's first maximum.
#pragma once
#include <optional>
#include <span>
#include <vector>

#include "nx/backend.hpp"
#include "nx/graph.hpp"

namespace nx::llvm_backend {

std::optional<std::vector<BufferPtr>> run_tiled_pooling(const Node& n, std::span<const Operand> in, Backend& be, int threads);

}  // namespace nx::llvm_backend
