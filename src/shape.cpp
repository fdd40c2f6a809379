#include "nx/shape.hpp"

#include "nx/error.hpp"

namespace nx {

Shape::Shape(std::initializer_list<int64_t> dims) : Shape(std::span<const int64_t>(dims.begin(), dims.size())) {}

Shape::Shape(std::span<const int64_t> dims) {
  if (dims.size() > static_cast<size_t>(kMaxRank))
    throw ShapeError("shape", "rank " + std::to_string(dims.size()) + " exceeds the maximum of 8");
  for (int64_t d : dims) {
    if (d < 0) throw ShapeError("shape", "negative dimension " + std::to_string(d));
    dims_[static_cast<size_t>(rank_++)] = d;
  }
}

int64_t Shape::size() const {
  int64_t n = 1;
  for (int i = 0; i < rank_; ++i) {
    if (__builtin_mul_overflow(n, dims_[static_cast<size_t>(i)], &n))
      throw ShapeError("shape", "element count of " + str() + " overflows");
  }
  return n;
}

void Shape::push_back(int64_t d) {
  if (rank_ >= kMaxRank) throw ShapeError("shape", "rank exceeds the maximum of 8");
  if (d < 0) throw ShapeError("shape", "negative dimension " + std::to_string(d));
  dims_[static_cast<size_t>(rank_++)] = d;
}

bool Shape::operator==(const Shape& o) const {
  if (rank_ != o.rank_) return false;
  for (int i = 0; i < rank_; ++i)
    if (dims_[static_cast<size_t>(i)] != o.dims_[static_cast<size_t>(i)]) return false;
  return true;
}

std::string Shape::str() const {
  std::string s = "(";
  for (int i = 0; i < rank_; ++i) {
    if (i) s += ", ";
    s += std::to_string(dims_[static_cast<size_t>(i)]);
  }
  return s + ")";
}

std::array<int64_t, kMaxRank> Shape::strides() const {
  std::array<int64_t, kMaxRank> s{};
  int64_t acc = 1;
  for (int i = rank_ - 1; i >= 0; --i) {
    s[static_cast<size_t>(i)] = acc;
    acc *= dims_[static_cast<size_t>(i)];
  }
  return s;
}

}  // namespace nx
