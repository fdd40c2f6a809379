// dot_general and conv on the llvm backend's own kernels, for builds without oneDNN (or
// with it turned off): the blocked GEMM (gemm.hpp), and im2col + GEMM for convolutions.
#pragma once
#include <optional>
#include <span>
#include <vector>

#include "nx/backend.hpp"
#include "nx/graph.hpp"

namespace nx::llvm_backend {

// The node's outputs, or nullopt when these kernels do not take it (other ops, integer
// dtypes, operands whose dims do not merge into strided matrices, batch groups): then
// interp runs it.
std::optional<std::vector<BufferPtr>> run_own(const Node& n, std::span<const Operand> in, Backend& be, int threads);

}  // namespace nx::llvm_backend
