// argmax and argmin on the device, as interp computes them: the first extremum along the
// axis (the last with `flag`), the first NaN winning, as i64. A thread per result walks
// its lane in order; the kernel is specialised to the shape and axis.
#pragma once
#include <span>
#include <string>

#include "nx/backend.hpp"

namespace nx::cuda_backend {

bool arg_reduce_supported(const Node& n, std::span<const Operand> in);
// Entry point `name`(x, y, count).
std::string arg_reduce_source(const Node& n, const TensorType& input, const std::string& name);
BufferPtr arg_reduce(const Node& n, std::span<const Operand> in, Backend& be);

}  // namespace nx::cuda_backend
