// cumulative_sum/product/max/min on the device, as interp computes them: along the axis
// in order (reversed with `flag`), floats accumulated in f64 and each prefix stored in
// the input's dtype, integers wrapping, max and min propagating NaN. Many lanes: a
// thread walks each lane. Few long lanes: a block per lane, each thread scanning a
// chunk from the exclusive prefix of the chunks before it (one thread sums those in
// order), so results repeat run to run.
#pragma once
#include <span>
#include <string>

#include "nx/backend.hpp"

namespace nx::cuda_backend {

bool scan_supported(const Node& n, std::span<const Operand> in);
// Entry point `name`(x, y, count), count the elements; any grid and block size (a
// multiple of 32, at most 1024) computes the same.
std::string scan_source(const Node& n, const TensorType& input, const std::string& name);
BufferPtr scan(const Node& n, std::span<const Operand> in, Backend& be);

}  // namespace nx::cuda_backend
