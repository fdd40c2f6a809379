// sort, argsort and top_k on the device for lanes of up to kMaxSortLane elements, as
// interp orders them: stable (ties keep index order), NaN after every number ascending
// and before descending, -0.0 equal to 0.0, values copied by index (their exact bits).
// Each element's place is its rank in its lane, counted by one thread: no atomics, the
// same result every run. Longer lanes (a nearest-neighbour search's) run elsewhere.
#pragma once
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "nx/backend.hpp"

namespace nx::cuda_backend {

constexpr int64_t kMaxSortLane = 4096;

bool sort_supported(const Node& n, std::span<const Operand> in);
// Entry point `name`(x, values or null, indices or null, count), count the input's elements.
std::string sort_source(const Node& n, const TensorType& input, const std::string& name);
std::vector<BufferPtr> sort(const Node& n, std::span<const Operand> in, Backend& be);

}  // namespace nx::cuda_backend
