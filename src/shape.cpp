#include "nx/shape.hpp"

#include "nx/error.hpp"

namespace nx {

namespace {

[[noreturn]] void too_large(const Shape& s) {
  throw ShapeError("shape", "element count of " + s.str() + " overflows int64 (even leaving out its zero dims)");
}

}  // namespace

// One pass (every eager op asks for a size): the product of the nonzero dims, checked for
// overflow whatever the axis order, then 0 if any dim is.
std::optional<int64_t> checked_element_count(std::span<const int64_t> dims) {
  int64_t n = 1;
  bool empty = false;
  for (int64_t d : dims) {
    if (d == 0) empty = true;
    else if (__builtin_mul_overflow(n, d, &n)) return std::nullopt;
  }
  return empty ? 0 : n;
}

Shape::Shape(std::initializer_list<int64_t> dims) : Shape(std::span<const int64_t>(dims.begin(), dims.size())) {}

Shape::Shape(std::span<const int64_t> dims) {
  if (dims.size() > static_cast<size_t>(kMaxRank))
    throw ShapeError("shape", "rank " + std::to_string(dims.size()) + " exceeds the maximum of 8");
  // The overflow check rides along the copy: shapes are built on every op's hot path.
  int64_t n = 1;
  bool overflow = false;
  for (int64_t d : dims) {
    if (d < 0) throw ShapeError("shape", "negative dimension " + std::to_string(d));
    overflow |= d != 0 && __builtin_mul_overflow(n, d, &n);
    dims_[static_cast<size_t>(rank_++)] = d;
  }
  if (overflow) too_large(*this);
}

int64_t Shape::size() const {
  // checked_element_count's loop, written out: every op asks for sizes, and the call
  // through a span and an optional costs twice the loop. Checked again since operator[]
  // can change a dim after construction.
  int64_t n = 1;
  bool empty = false;
  for (int i = 0; i < rank_; ++i) {
    int64_t d = dims_[static_cast<size_t>(i)];
    if (d == 0) empty = true;
    else if (__builtin_mul_overflow(n, d, &n)) too_large(*this);
  }
  return empty ? 0 : n;
}

void Shape::push_back(int64_t d) {
  if (rank_ >= kMaxRank) throw ShapeError("shape", "rank exceeds the maximum of 8");
  if (d < 0) throw ShapeError("shape", "negative dimension " + std::to_string(d));
  dims_[static_cast<size_t>(rank_++)] = d;
  if (!checked_element_count(dims())) {
    Shape refused = *this;
    dims_[static_cast<size_t>(--rank_)] = 0;  // unchanged on error
    too_large(refused);
  }
}

bool Shape::operator==(const Shape& o) const {
  if (rank_ != o.rank_) return false;
  for (int i = 0; i < rank_; ++i)
    if (dims_[static_cast<size_t>(i)] != o.dims_[static_cast<size_t>(i)]) return false;
  return true;
}

std::string dims_str(std::span<const int64_t> dims) {
  std::string s = "(";
  for (size_t i = 0; i < dims.size(); ++i) {
    if (i) s += ", ";
    s += std::to_string(dims[i]);
  }
  return s + ")";
}

std::string Shape::str() const { return dims_str(dims()); }

std::array<int64_t, kMaxRank> Shape::strides() const {
  std::array<int64_t, kMaxRank> s{};
  int64_t acc = 1;
  for (int i = rank_ - 1; i >= 0; --i) {
    s[static_cast<size_t>(i)] = acc;
    // Every partial product is 0 or a product of nonzero dims, which construction bounds;
    // checked anyway because operator[] can edit dims afterwards.
    if (__builtin_mul_overflow(acc, dims_[static_cast<size_t>(i)], &acc)) too_large(*this);
  }
  return s;
}

}  // namespace nx
