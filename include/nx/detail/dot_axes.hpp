// dot_general operands as matrices, for the backends' matrix kernels: an operand's free
// axes, and whether a group of its axes reads as one strided axis (so a transposed or
// batched operand needs no copy).
#pragma once
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "nx/shape.hpp"

namespace nx::detail {

// The axes of a rank-`rank` operand that are neither contracted nor batch axes, in order.
std::vector<int64_t> free_axes(int rank, const std::vector<int64_t>& contract, const std::vector<int64_t>& batch);

// `group` (axes of shape, in the order of the merged axis) as one axis of `size`
// elements `stride` apart, if the addresses they produce under `strides` are those of
// one strided axis. Size-1 axes do not matter.
struct MergedAxis {
  int64_t size = 1, stride = 1;
};
std::optional<MergedAxis> merge_axes(const Shape& shape, std::span<const int64_t> strides,
                                     const std::vector<int64_t>& group);

}  // namespace nx::detail
