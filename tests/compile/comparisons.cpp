// Compiled (not run) by every compiler the suite finds, clang included: each comparison
// with a C++ number on either side is a Tensor expression. C++20 rewrites == and != from
// reversed candidates, which must return bool; these overloads keep that from happening.
#include <nx/ops.hpp>

#include <type_traits>

void comparisons(const nx::Tensor& x) {
  static_assert(std::is_same_v<decltype(x == 2), nx::Tensor>);
  static_assert(std::is_same_v<decltype(2 == x), nx::Tensor>);
  static_assert(std::is_same_v<decltype(x == 2.0), nx::Tensor>);
  static_assert(std::is_same_v<decltype(2.0f == x), nx::Tensor>);
  static_assert(std::is_same_v<decltype(x != 2), nx::Tensor>);
  static_assert(std::is_same_v<decltype(2 != x), nx::Tensor>);
  static_assert(std::is_same_v<decltype(x != 2u), nx::Tensor>);
  static_assert(std::is_same_v<decltype(x < 2), nx::Tensor>);
  static_assert(std::is_same_v<decltype(2 <= x), nx::Tensor>);
  static_assert(std::is_same_v<decltype(x > 2L), nx::Tensor>);
  static_assert(std::is_same_v<decltype(2.5 >= x), nx::Tensor>);
  static_assert(std::is_same_v<decltype(x == x), nx::Tensor>);
  static_assert(std::is_same_v<decltype(x != x), nx::Tensor>);
  static_assert(std::is_same_v<decltype(x == true), nx::Tensor>);
  // Reductions: a brace list or one int means axes.
  static_assert(std::is_same_v<decltype(nx::sum(x, {0, 1})), nx::Tensor>);
  static_assert(std::is_same_v<decltype(nx::sum(x, 1)), nx::Tensor>);
  static_assert(std::is_same_v<decltype(nx::sum(x, {})), nx::Tensor>);
}
