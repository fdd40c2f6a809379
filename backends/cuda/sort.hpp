// sort, argsort and top_k on the device, as interp orders them: stable (ties keep index
// order), NaN after every number ascending and before descending, -0.0 equal to 0.0,
// values copied by index (their exact bits). No atomics: the same result every run.
//   Short lanes (up to kRankLane): each element's place is its rank in its lane, counted
//     by one thread.
//   Longer lanes: a merge sort, one kernel launch per doubling of the sorted runs' width;
//     each element finds its place in the merged run by a binary search in the other run
//     (ties: the left run first, so the sort stays stable).
#pragma once
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "nx/backend.hpp"

namespace nx::cuda_backend {

constexpr int64_t kRankLane = 64;

bool sort_supported(const Node& n, std::span<const Operand> in);
// Short lanes. Entry point `name`(x, values or null, indices or null, count), count the
// input's elements.
std::string sort_source(const Node& n, const TensorType& input, const std::string& name);
// Long lanes. Entry point `name`(src values, src indices or null (the element's own
// position), dst values or null, dst indices, count, width, keep): merges runs of `width`
// into runs of 2 * width, writing the first `keep` places of each lane (dst's lane
// length); merge_widths gives the passes' widths, the last one writing the result.
std::string merge_source(const Node& n, const TensorType& input, const std::string& name);
std::vector<int64_t> merge_widths(int64_t lane);
std::vector<BufferPtr> sort(const Node& n, std::span<const Operand> in, Backend& be);

}  // namespace nx::cuda_backend
