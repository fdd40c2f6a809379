// dot_general as a oneDNN matmul over strided (batch, m, k) x (batch, k, n) views.
#pragma once
#include <optional>
#include <span>
#include <vector>

#include "nx/backend.hpp"

namespace nx::onednn {

// The product, or nullopt when the operands cannot be viewed as a batched matmul without a
// copy, or oneDNN has no kernel for the dtype (the caller falls back to interp).
std::optional<std::vector<BufferPtr>> matmul(const Node& node, std::span<const Operand> in, Backend& be);

}  // namespace nx::onednn
