// Element types, the 16-bit float storage types and the promotion rule.
#pragma once
#include <cstdint>
#include <cstring>
#include <string_view>

namespace nx {

enum class DType : uint8_t { bool_, u8, u32, i32, i64, f16, bf16, f32, f64 };
inline constexpr int kNumDTypes = 9;

inline constexpr DType boolean = DType::bool_;
inline constexpr DType u8 = DType::u8;
inline constexpr DType u32 = DType::u32;
inline constexpr DType i32 = DType::i32;
inline constexpr DType i64 = DType::i64;
inline constexpr DType f16 = DType::f16;
inline constexpr DType bf16 = DType::bf16;
inline constexpr DType f32 = DType::f32;
inline constexpr DType f64 = DType::f64;

constexpr int item_size(DType t) {
  switch (t) {
    case DType::bool_: case DType::u8: return 1;
    case DType::f16: case DType::bf16: return 2;
    case DType::u32: case DType::i32: case DType::f32: return 4;
    case DType::i64: case DType::f64: return 8;
  }
  return 0;
}
constexpr bool is_float(DType t) {
  return t == DType::f16 || t == DType::bf16 || t == DType::f32 || t == DType::f64;
}
constexpr bool is_integer(DType t) {
  return t == DType::u8 || t == DType::u32 || t == DType::i32 || t == DType::i64;
}
constexpr bool is_unsigned(DType t) { return t == DType::u8 || t == DType::u32; }
constexpr bool is_signed_int(DType t) { return t == DType::i32 || t == DType::i64; }
std::string_view name(DType t);  // "f32", "bool", ...

// Promotion of two tensor dtypes, as in Nx/JAX (table in docs/TYPES.md).
DType promote(DType a, DType b);
// Promotion where a side may be a weak scalar (a C++ number): the tensor's dtype wins
// within its category; a float scalar lifts an integer/bool tensor to f32.
DType promote(DType a, bool a_weak, DType b, bool b_weak);
// The float type an integer is computed in by float-only ops (exp of i32 -> f32).
DType to_float(DType t);

// IEEE binary16 storage. Arithmetic happens in float.
struct float16_t {
  uint16_t bits = 0;
  float16_t() = default;
  explicit float16_t(float f);
  explicit operator float() const;
};
// bfloat16 storage: the top half of an f32, rounded to nearest even.
struct bfloat16_t {
  uint16_t bits = 0;
  bfloat16_t() = default;
  explicit bfloat16_t(float f) {
    uint32_t u;
    std::memcpy(&u, &f, 4);
    if ((u & 0x7fffffffu) > 0x7f800000u) {
      bits = static_cast<uint16_t>((u >> 16) | 0x40);  // quiet NaN
    } else {
      u += 0x7fffu + ((u >> 16) & 1u);
      bits = static_cast<uint16_t>(u >> 16);
    }
  }
  explicit operator float() const {
    uint32_t u = static_cast<uint32_t>(bits) << 16;
    float f;
    std::memcpy(&f, &u, 4);
    return f;
  }
};

// C++ type <-> DType.
template <class T> struct dtype_of;
template <> struct dtype_of<bool> { static constexpr DType value = DType::bool_; };
template <> struct dtype_of<uint8_t> { static constexpr DType value = DType::u8; };
template <> struct dtype_of<uint32_t> { static constexpr DType value = DType::u32; };
template <> struct dtype_of<int32_t> { static constexpr DType value = DType::i32; };
template <> struct dtype_of<int64_t> { static constexpr DType value = DType::i64; };
template <> struct dtype_of<float16_t> { static constexpr DType value = DType::f16; };
template <> struct dtype_of<bfloat16_t> { static constexpr DType value = DType::bf16; };
template <> struct dtype_of<float> { static constexpr DType value = DType::f32; };
template <> struct dtype_of<double> { static constexpr DType value = DType::f64; };
template <class T> inline constexpr DType dtype_v = dtype_of<T>::value;

}  // namespace nx
