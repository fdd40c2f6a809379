// Shape ops as index maps (KernelSpec's IndexMap): a kernel reads a transposed, sliced,
// reversed, padded, broadcast or reshaped array through a map from its element index
// to the array's offset instead of copying it first. Each op rewrites views[0], the
// view that takes the element index; a reshape that strides cannot express pushes a
// new view in front.
#pragma once
#include <string>

#include "nx/detail/fusion/kernel_spec.hpp"
#include "nx/shape.hpp"

namespace nx::fusion {

// The identity over `shape`: a contiguous array read in order.
IndexMap contiguous(const Shape& shape);
// The map of op(x) given the map of x.
void map_transpose(IndexMap& m, const std::vector<int64_t>& perm);
void map_slice(IndexMap& m, const std::vector<int64_t>& starts, const std::vector<int64_t>& lengths,
               const std::vector<int64_t>& strides);
void map_reverse(IndexMap& m, const std::vector<int64_t>& axes);
void map_pad(IndexMap& m, const std::vector<int64_t>& lo, const std::vector<int64_t>& hi);  // no interior
// dims[d]: the result axis that x's axis d becomes (its size is 1 or the result's).
void map_broadcast(IndexMap& m, const Shape& to, const std::vector<int64_t>& dims);
void map_reshape(IndexMap& m, const Shape& to);
// Drops size-1 axes, merges axes one stride apart, drops views that pass their index
// through: equal maps compare (and key) equal, and the emitter has less to compute.
IndexMap simplified(IndexMap m);
// Whether m reads element i at offset i (a plain load).
bool is_identity(const IndexMap& m);
// Whether every index and offset of m fits in 32 bits, so kernels compute it in 32-bit
// arithmetic (division by a constant is cheaper there).
bool fits_32_bits(const IndexMap& m);
std::string map_key(const IndexMap& m);

}  // namespace nx::fusion
