#include "nx/detail/dot_axes.hpp"

#include <algorithm>

namespace nx::detail {

std::vector<int64_t> free_axes(int rank, const std::vector<int64_t>& contract, const std::vector<int64_t>& batch) {
  std::vector<int64_t> f;
  for (int64_t i = 0; i < rank; ++i)
    if (std::find(contract.begin(), contract.end(), i) == contract.end() &&
        std::find(batch.begin(), batch.end(), i) == batch.end())
      f.push_back(i);
  return f;
}

std::optional<MergedAxis> merge_axes(const Shape& shape, std::span<const int64_t> strides,
                                     const std::vector<int64_t>& group) {
  MergedAxis m;
  int64_t expected = -1;  // the stride the next (more major) axis must have
  for (auto it = group.rbegin(); it != group.rend(); ++it) {
    int64_t d = shape[static_cast<int>(*it)], stride = strides[static_cast<size_t>(*it)];
    if (d == 1) continue;
    if (expected < 0) m.stride = stride;
    else if (stride != expected) return std::nullopt;
    m.size *= d;
    expected = stride * d;
  }
  return m;
}

}  // namespace nx::detail
