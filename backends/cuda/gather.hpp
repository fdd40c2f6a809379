// gather on the device, as interp: indices (..., k) address the k axes `attrs.axes` of x
// (clamped into range), the result is (..., the other axes of x). A thread per result;
// the kernel is specialised to the shapes. Taking a training batch's rows by shuffled
// indices runs here instead of copying the whole data set to the host and back.
#pragma once
#include <span>
#include <string>

#include "nx/backend.hpp"

namespace nx::cuda_backend {

bool gather_supported(const Node& n, std::span<const Operand> in);
// Entry point `name`(x, indices, y, count).
std::string gather_source(const Node& n, const TensorType& x, const TensorType& indices, const std::string& name);
BufferPtr gather(const Node& n, std::span<const Operand> in, Backend& be);

}  // namespace nx::cuda_backend
