// Calls f(T{}) with the C++ storage type of a dtype; the compute type of 16-bit floats.
#pragma once
#include <type_traits>

#include "nx/dtype.hpp"

namespace nx::detail {

template <class F> decltype(auto) visit_dtype(DType t, F&& f) {
  switch (t) {
    case DType::bool_: return f(bool{});
    case DType::u8: return f(uint8_t{});
    case DType::u32: return f(uint32_t{});
    case DType::i32: return f(int32_t{});
    case DType::i64: return f(int64_t{});
    case DType::f16: return f(float16_t{});
    case DType::bf16: return f(bfloat16_t{});
    case DType::f32: return f(float{});
    case DType::f64: return f(double{});
  }
  return f(float{});
}

template <class T> inline constexpr bool is_half_v = std::is_same_v<T, float16_t> || std::is_same_v<T, bfloat16_t>;
// Arithmetic happens in float for f16/bf16, in the type itself otherwise.
template <class T> using compute_t = std::conditional_t<is_half_v<T>, float, T>;
template <class T> inline constexpr bool is_float_v = std::is_floating_point_v<T> || is_half_v<T>;

template <class T> inline compute_t<T> load(const T& v) {
  if constexpr (is_half_v<T>) return static_cast<float>(v);
  else return v;
}
template <class T, class C> inline T store(C v) {
  if constexpr (is_half_v<T>) return T(static_cast<float>(v));
  else return static_cast<T>(v);
}

}  // namespace nx::detail
