#include "nx/dtype.hpp"

#include <algorithm>

namespace nx {

std::string_view name(DType t) {
  switch (t) {
    case DType::bool_: return "bool";
    case DType::u8: return "u8";
    case DType::u32: return "u32";
    case DType::i32: return "i32";
    case DType::i64: return "i64";
    case DType::f16: return "f16";
    case DType::bf16: return "bf16";
    case DType::f32: return "f32";
    case DType::f64: return "f64";
  }
  return "?";
}

DType promote(DType a, DType b) {
  if (a == b) return a;
  if (a == DType::bool_) return b;
  if (b == DType::bool_) return a;
  bool fa = is_float(a), fb = is_float(b);
  if (fa && fb) {
    if ((a == DType::f16 && b == DType::bf16) || (a == DType::bf16 && b == DType::f16)) return DType::f32;
    return item_size(a) >= item_size(b) ? a : b;
  }
  if (fa) return a;
  if (fb) return b;
  // Both integers.
  if (is_unsigned(a) == is_unsigned(b)) return item_size(a) >= item_size(b) ? a : b;
  DType s = is_unsigned(a) ? b : a, u = is_unsigned(a) ? a : b;
  return item_size(s) > item_size(u) ? s : DType::i64;
}

DType promote(DType a, bool a_weak, DType b, bool b_weak) {
  if (a_weak == b_weak) return promote(a, b);
  DType weak = a_weak ? a : b, strong = a_weak ? b : a;
  if (weak == DType::bool_) return strong;
  if (is_float(weak)) return is_float(strong) ? strong : DType::f32;
  // weak integer
  if (strong == DType::bool_) return DType::i64;
  return strong;
}

DType to_float(DType t) { return is_float(t) ? t : DType::f32; }

float16_t::float16_t(float f) {
  uint32_t x;
  std::memcpy(&x, &f, 4);
  uint32_t sign = (x >> 16) & 0x8000u;
  uint32_t absx = x & 0x7fffffffu;
  if (absx > 0x7f800000u) {  // NaN
    bits = static_cast<uint16_t>(sign | 0x7e00u);
    return;
  }
  if (absx >= 0x477ff000u) {  // rounds to >= 65520: infinity
    bits = static_cast<uint16_t>(sign | 0x7c00u);
    return;
  }
  if (absx < 0x38800000u) {  // subnormal half (or zero): scale and round to nearest even
    float af;
    std::memcpy(&af, &absx, 4);
    // af * 2^24 is the subnormal's integer mantissa; rounding via the FPU is nearest-even.
    float scaled = af * 16777216.0f;
    uint32_t m = static_cast<uint32_t>(scaled);
    float rem = scaled - static_cast<float>(m);
    if (rem > 0.5f || (rem == 0.5f && (m & 1u))) ++m;
    bits = static_cast<uint16_t>(sign | m);
    return;
  }
  uint32_t mant = absx & 0x7fffffu;
  uint32_t exp = (absx >> 23) - 127 + 15;
  uint32_t h = (exp << 10) | (mant >> 13);
  uint32_t rest = mant & 0x1fffu;
  if (rest > 0x1000u || (rest == 0x1000u && (h & 1u))) ++h;  // may carry into the exponent: fine
  bits = static_cast<uint16_t>(sign | h);
}

float16_t::operator float() const {
  uint32_t sign = static_cast<uint32_t>(bits & 0x8000u) << 16;
  uint32_t exp = (bits >> 10) & 0x1fu;
  uint32_t mant = bits & 0x3ffu;
  uint32_t out;
  if (exp == 0) {
    if (mant == 0) {
      out = sign;
    } else {  // subnormal
      float f = static_cast<float>(mant) / 16777216.0f;
      std::memcpy(&out, &f, 4);
      out |= sign;
    }
  } else if (exp == 31) {
    out = sign | 0x7f800000u | (mant << 13);
  } else {
    out = sign | ((exp - 15 + 127) << 23) | (mant << 13);
  }
  float f;
  std::memcpy(&f, &out, 4);
  return f;
}

}  // namespace nx
