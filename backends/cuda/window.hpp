// Window reductions (pooling) and their scatter transposes (the max-pooling gradient) on
// the device, f32 and f64, with interp's semantics: padding contributes nothing, sums and
// products accumulate in f64, max and min propagate NaN; a scatter adds each window's
// source value at the window's first maximum (minimum), NaN beating every number.
// Written as gathers (a thread per result, a fixed order), so results repeat run to run.
// Each node's kernel is CUDA C++ specialised to its shapes and window.
#pragma once
#include <span>
#include <string>
#include <vector>

#include "nx/backend.hpp"

namespace nx::cuda_backend {

// Whether these kernels run node n (a window op or scatter of f32/f64 with these inputs).
bool window_supported(const Node& n, std::span<const Operand> in);

// The kernel's source (entry point `name`) for these operand types: window ops take
// (x, y, n); scatters (x, source, init, y, n), where n counts the results.
std::string window_source(const Node& n, std::span<const TensorType> in, const std::string& name);

std::vector<BufferPtr> window(const Node& n, std::span<const Operand> in, Backend& be);

}  // namespace nx::cuda_backend
