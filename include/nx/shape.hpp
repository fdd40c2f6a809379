// Shape: up to 8 dimensions stored inline (no allocation), each >= 0, whose nonzero dims
// multiply to at most INT64_MAX (checked on construction and push_back, so size() and
// strides() do not overflow in any axis order).
#pragma once
#include <array>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace nx {

inline constexpr int kMaxRank = 8;

// The element count of `dims` (0 when a dim is 0), or nullopt when the product of the
// nonzero dims overflows int64. Ignoring zeros makes the answer independent of axis order:
// (0, 1e18, 1e18) is refused like (1e18, 1e18, 0). Readers check file dims with it.
std::optional<int64_t> checked_element_count(std::span<const int64_t> dims);
// "(2, 3)", as Shape::str(), for dims not (yet) known to form a valid Shape.
std::string dims_str(std::span<const int64_t> dims);

class Shape {
 public:
  Shape() = default;
  Shape(std::initializer_list<int64_t> dims);
  explicit Shape(std::span<const int64_t> dims);
  explicit Shape(const std::vector<int64_t>& dims) : Shape(std::span<const int64_t>(dims)) {}

  int rank() const { return rank_; }
  int64_t operator[](int i) const { return dims_[i]; }
  int64_t& operator[](int i) { return dims_[i]; }
  int64_t size() const;  // number of elements
  const int64_t* begin() const { return dims_.data(); }
  const int64_t* end() const { return dims_.data() + rank_; }
  std::span<const int64_t> dims() const { return {dims_.data(), static_cast<size_t>(rank_)}; }
  std::vector<int64_t> to_vector() const { return {begin(), end()}; }
  void push_back(int64_t d);
  bool operator==(const Shape& o) const;
  bool operator!=(const Shape& o) const { return !(*this == o); }
  std::string str() const;  // "(2, 3)"; "()" for a scalar

  // Row-major strides in elements (ShapeError if a dim was set through operator[] so that
  // they overflow).
  std::array<int64_t, kMaxRank> strides() const;

 private:
  std::array<int64_t, kMaxRank> dims_{};
  int rank_ = 0;
};

}  // namespace nx
