// Elementwise kernels: unary, binary (broadcasting), select, as_type, iota.
#include <bit>
#include <cmath>
#include <cstring>
#include <limits>

#include "kernels.hpp"
#include "nx/detail/core.hpp"

namespace nx::interp {
namespace {

template <class T> using unsigned_of = std::make_unsigned_t<std::conditional_t<std::is_same_v<T, bool>, uint8_t, T>>;

// Integer ops wrap modulo 2^n (no signed-overflow UB).
template <class T> T wrap_add(T a, T b) { return static_cast<T>(static_cast<unsigned_of<T>>(a) + static_cast<unsigned_of<T>>(b)); }
template <class T> T wrap_sub(T a, T b) { return static_cast<T>(static_cast<unsigned_of<T>>(a) - static_cast<unsigned_of<T>>(b)); }
template <class T> T wrap_mul(T a, T b) {
  using U = std::conditional_t<sizeof(T) < sizeof(unsigned), unsigned, unsigned_of<T>>;
  return static_cast<T>(static_cast<U>(a) * static_cast<U>(b));
}

double erf_inv_f64(double x) {
  if (std::isnan(x) || x < -1 || x > 1) return std::numeric_limits<double>::quiet_NaN();
  if (x == 1) return std::numeric_limits<double>::infinity();
  if (x == -1) return -std::numeric_limits<double>::infinity();
  // Giles' single-precision approximation, then Newton steps on erf for full precision.
  double w = -std::log((1.0 - x) * (1.0 + x)), p;
  if (w < 6.25) {
    w -= 3.125;
    p = -3.6444120640178196996e-21; p = -1.685059138182016589e-19 + p * w; p = 1.2858480715256400167e-18 + p * w;
    p = 1.115787767802518096e-17 + p * w; p = -1.333171662854620906e-16 + p * w; p = 2.0972767875968561637e-17 + p * w;
    p = 6.6376381343583238325e-15 + p * w; p = -4.0545662729752068639e-14 + p * w; p = -8.1519341976054721522e-14 + p * w;
    p = 2.6335093153082322977e-12 + p * w; p = -1.2975133253453532498e-11 + p * w; p = -5.4154120542946279317e-11 + p * w;
    p = 1.051212273321532285e-09 + p * w; p = -4.1126339803469836976e-09 + p * w; p = -2.9070369957882005086e-08 + p * w;
    p = 4.2347877827932403518e-07 + p * w; p = -1.3654692000834678645e-06 + p * w; p = -1.3882523362786468719e-05 + p * w;
    p = 0.0001867342080340571352 + p * w; p = -0.00074070253416626697512 + p * w; p = -0.0060336708714301490533 + p * w;
    p = 0.24015818242558961693 + p * w; p = 1.6536545626831027356 + p * w;
  } else if (w < 16.0) {
    w = std::sqrt(w) - 3.25;
    p = 2.2137376921775787049e-09; p = 9.0756561938885390979e-08 + p * w; p = -2.7517406297064545428e-07 + p * w;
    p = 1.8239629214389227755e-08 + p * w; p = 1.5027403968909827627e-06 + p * w; p = -4.013867526981545969e-06 + p * w;
    p = 2.9234449089955446044e-06 + p * w; p = 1.2475304481671778723e-05 + p * w; p = -4.7318229009055733981e-05 + p * w;
    p = 6.8284851459573175448e-05 + p * w; p = 2.4031110387097893999e-05 + p * w; p = -0.0003550375203628474796 + p * w;
    p = 0.00095328937973738049703 + p * w; p = -0.0016882755560235047313 + p * w; p = 0.0024914420961078508066 + p * w;
    p = -0.0037512085075692412107 + p * w; p = 0.005370914553590063617 + p * w; p = 1.0052589676941592334 + p * w;
    p = 3.0838856104922207635 + p * w;
  } else {
    w = std::sqrt(w) - 5.0;
    p = -2.7109920616438573243e-11; p = -2.5556418169965252055e-10 + p * w; p = 1.5076572693500548083e-09 + p * w;
    p = -3.7894654401267369937e-09 + p * w; p = 7.6157012080783393804e-09 + p * w; p = -1.4960026627149240478e-08 + p * w;
    p = 2.9147953450901080826e-08 + p * w; p = -6.7711997758452339498e-08 + p * w; p = 2.2900482228026654717e-07 + p * w;
    p = -9.9298272942317002539e-07 + p * w; p = 4.5260625972231537039e-06 + p * w; p = -1.9681778105531670567e-05 + p * w;
    p = 7.5995277030017761139e-05 + p * w; p = -0.00021503011930044477347 + p * w; p = -0.00013871931833623122026 + p * w;
    p = 1.0103004648645343977 + p * w; p = 4.8499064014085844221 + p * w;
  }
  double y = p * x;
  for (int i = 0; i < 2; ++i) {  // Newton on erf(y) - x
    double err = std::erf(y) - x;
    y -= err / (1.1283791670955126 * std::exp(-y * y));
  }
  return y;
}

template <class C> C unary_value(Op op, C x) {
  if constexpr (std::is_floating_point_v<C>) {
    switch (op) {
      case Op::Negate: return -x;
      case Op::Abs: return std::fabs(x);
      case Op::Sign: return x > 0 ? C(1) : x < 0 ? C(-1) : x;
      case Op::Floor: return std::floor(x);
      case Op::Ceil: return std::ceil(x);
      case Op::Round: return std::round(x);  // half away from zero, as Nx and lax.round
      case Op::Exp: return std::exp(x);
      case Op::Expm1: return std::expm1(x);
      case Op::Log: return std::log(x);
      case Op::Log1p: return std::log1p(x);
      case Op::Sqrt: return std::sqrt(x);
      case Op::Rsqrt: return C(1) / std::sqrt(x);
      case Op::Cbrt: return std::cbrt(x);
      case Op::Sin: return std::sin(x);
      case Op::Cos: return std::cos(x);
      case Op::Tan: return std::tan(x);
      case Op::Asin: return std::asin(x);
      case Op::Acos: return std::acos(x);
      case Op::Atan: return std::atan(x);
      case Op::Sinh: return std::sinh(x);
      case Op::Cosh: return std::cosh(x);
      case Op::Tanh: return std::tanh(x);
      case Op::Asinh: return std::asinh(x);
      case Op::Acosh: return std::acosh(x);
      case Op::Atanh: return std::atanh(x);
      case Op::Sigmoid: {
        // Stable on both tails.
        if (x >= 0) return C(1) / (C(1) + std::exp(-x));
        C e = std::exp(x);
        return e / (C(1) + e);
      }
      case Op::Erf: return std::erf(x);
      case Op::Erfc: return std::erfc(x);
      case Op::ErfInv: return static_cast<C>(erf_inv_f64(static_cast<double>(x)));
      default: break;
    }
  } else {
    using U = unsigned_of<C>;
    switch (op) {
      case Op::Negate: return static_cast<C>(U(0) - static_cast<U>(x));
      case Op::Abs:
        if constexpr (std::is_signed_v<C>) return x < 0 ? static_cast<C>(U(0) - static_cast<U>(x)) : x;
        else return x;
      case Op::Sign:
        if constexpr (std::is_signed_v<C>) return static_cast<C>((x > 0) - (x < 0));
        else return static_cast<C>(x > 0);
      case Op::BitwiseNot:
        if constexpr (std::is_same_v<C, bool>) return !x;
        else return static_cast<C>(~x);
      case Op::CountLeadingZeros: return static_cast<C>(std::countl_zero(static_cast<U>(x)));
      case Op::PopulationCount: return static_cast<C>(std::popcount(static_cast<U>(x)));
      default: break;
    }
  }
  return x;
}

template <class T> bool predicate_value(Op op, T v) {
  auto x = load(v);
  switch (op) {
    case Op::IsNan:
      if constexpr (is_float_v<T>) return std::isnan(x); else return false;
    case Op::IsInfinity:
      if constexpr (is_float_v<T>) return std::isinf(x); else return false;
    case Op::LogicalNot: return x == 0;
    default: return false;
  }
}

template <class C> C int_pow(C base, C e) {
  if constexpr (std::is_signed_v<C>) {
    if (e < 0) return base == 1 ? C(1) : base == -1 ? (e % 2 ? C(-1) : C(1)) : C(0);
  }
  C r = 1;
  while (e) {
    if (e & 1) r = wrap_mul(r, base);
    base = wrap_mul(base, base);
    e = static_cast<C>(e >> 1);
  }
  return r;
}

template <class C> C binary_value(Op op, C a, C b) {
  if constexpr (std::is_same_v<C, bool>) {
    switch (op) {
      case Op::Max: case Op::BitwiseOr: return a || b;
      case Op::Min: case Op::BitwiseAnd: return a && b;
      case Op::BitwiseXor: return a != b;
      default: return false;
    }
  } else if constexpr (std::is_floating_point_v<C>) {
    switch (op) {
      case Op::Add: return a + b;
      case Op::Subtract: return a - b;
      case Op::Multiply: return a * b;
      case Op::Divide: return a / b;
      case Op::Remainder: return std::fmod(a, b);
      case Op::Pow: return std::pow(a, b);
      case Op::Max: return std::isnan(a) || std::isnan(b) ? std::numeric_limits<C>::quiet_NaN() : std::max(a, b);
      case Op::Min: return std::isnan(a) || std::isnan(b) ? std::numeric_limits<C>::quiet_NaN() : std::min(a, b);
      case Op::Atan2: return std::atan2(a, b);
      default: return 0;
    }
  } else {
    switch (op) {
      case Op::Add: return wrap_add(a, b);
      case Op::Subtract: return wrap_sub(a, b);
      case Op::Multiply: return wrap_mul(a, b);
      case Op::Quotient:
        // Division by zero gives -1 (all bits set), as XLA; MIN / -1 wraps to MIN.
        if (b == 0) return static_cast<C>(-1);
        if constexpr (std::is_signed_v<C>)
          if (a == std::numeric_limits<C>::min() && b == -1) return a;
        return static_cast<C>(a / b);
      case Op::Remainder:
        if (b == 0) return a;
        if constexpr (std::is_signed_v<C>)
          if (a == std::numeric_limits<C>::min() && b == -1) return 0;
        return static_cast<C>(a % b);
      case Op::Pow: return int_pow(a, b);
      case Op::Max: return std::max(a, b);
      case Op::Min: return std::min(a, b);
      case Op::BitwiseAnd: return static_cast<C>(a & b);
      case Op::BitwiseOr: return static_cast<C>(a | b);
      case Op::BitwiseXor: return static_cast<C>(a ^ b);
      case Op::LeftShift: {
        // Shifts by a negative amount or >= the bit width give 0 (sign fill for right shifts).
        constexpr C bits = static_cast<C>(sizeof(C) * 8);
        if (b < 0 || b >= bits) return 0;
        return static_cast<C>(static_cast<unsigned_of<C>>(a) << b);
      }
      case Op::RightShift: {
        constexpr C bits = static_cast<C>(sizeof(C) * 8);
        if (b < 0 || b >= bits) return std::is_signed_v<C> && a < 0 ? C(-1) : C(0);
        return static_cast<C>(a >> b);
      }
      default: return 0;
    }
  }
}

template <class C> bool compare_value(Op op, C a, C b) {
  switch (op) {
    case Op::Equal: return a == b;
    case Op::NotEqual: return a != b;
    case Op::Less: return a < b;
    case Op::LessEqual: return a <= b;
    case Op::Greater: return a > b;
    case Op::GreaterEqual: return a >= b;
    case Op::LogicalAnd: return a != 0 && b != 0;
    case Op::LogicalOr: return a != 0 || b != 0;
    case Op::LogicalXor: return (a != 0) != (b != 0);
    default: return false;
  }
}

bool is_predicate(Op op) {
  switch (op) {
    case Op::Equal: case Op::NotEqual: case Op::Less: case Op::LessEqual: case Op::Greater:
    case Op::GreaterEqual: case Op::LogicalAnd: case Op::LogicalOr: case Op::LogicalXor:
    case Op::IsNan: case Op::IsInfinity: case Op::LogicalNot:
      return true;
    default:
      return false;
  }
}

}  // namespace

NX_KERNEL1(eval_unary1) {
  const TensorType& out = n.outputs[0];
  BufferPtr o = alloc(be, out);
  int64_t count = out.shape.size();
  detail::visit_dtype(in[0].type.dtype, [&](auto t) {
    using T = decltype(t);
    const T* x = data<T>(in[0].buffer);
    if (is_predicate(n.op)) {
      bool* y = data<bool>(o);
      for (int64_t i = 0; i < count; ++i) y[i] = predicate_value(n.op, x[i]);
    } else {
      T* y = data<T>(o);
      for (int64_t i = 0; i < count; ++i) y[i] = store<T>(unary_value<compute_t<T>>(n.op, load(x[i])));
    }
  });
  return o;
}

NX_KERNEL(eval_unary) { return {eval_unary1(n, in, be)}; }

NX_KERNEL1(eval_binary1) {
  const TensorType& out = n.outputs[0];
  BufferPtr o = alloc(be, out);
  // Operands of the result's shape (no broadcasting) are read in one flat loop.
  const bool flat = in[0].type.shape == out.shape && in[1].type.shape == out.shape;
  std::array<std::array<int64_t, kMaxRank>, 2> st{};
  if (!flat) st = {broadcast_strides(in[0].type.shape, out.shape), broadcast_strides(in[1].type.shape, out.shape)};
  detail::visit_dtype(in[0].type.dtype, [&](auto t) {
    using T = decltype(t);
    using C = compute_t<T>;
    const T* a = data<T>(in[0].buffer);
    const T* b = data<T>(in[1].buffer);
    if (flat) {
      const int64_t size = out.shape.size();
      if (is_predicate(n.op)) {
        bool* y = data<bool>(o);
        for (int64_t i = 0; i < size; ++i) y[i] = compare_value<C>(n.op, load(a[i]), load(b[i]));
      } else {
        T* y = data<T>(o);
        for (int64_t i = 0; i < size; ++i) y[i] = store<T>(binary_value<C>(n.op, load(a[i]), load(b[i])));
      }
      return;
    }
    if (is_predicate(n.op)) {
      bool* y = data<bool>(o);
      for_each_strided<2>(out.shape, st, [&](int64_t i, const std::array<int64_t, 2>& k) {
        y[i] = compare_value<C>(n.op, load(a[k[0]]), load(b[k[1]]));
      });
    } else {
      T* y = data<T>(o);
      for_each_strided<2>(out.shape, st, [&](int64_t i, const std::array<int64_t, 2>& k) {
        y[i] = store<T>(binary_value<C>(n.op, load(a[k[0]]), load(b[k[1]])));
      });
    }
  });
  return o;
}

NX_KERNEL(eval_binary) { return {eval_binary1(n, in, be)}; }

NX_KERNEL(eval_select) {
  const TensorType& out = n.outputs[0];
  BufferPtr o = alloc(be, out);
  std::array<std::array<int64_t, kMaxRank>, 3> st{broadcast_strides(in[0].type.shape, out.shape),
                                                   broadcast_strides(in[1].type.shape, out.shape),
                                                   broadcast_strides(in[2].type.shape, out.shape)};
  const bool* p = data<bool>(in[0].buffer);
  visit_item_size(item_size(out.dtype), [&](auto t) {
    using T = decltype(t);
    const T* a = data<T>(in[1].buffer);
    const T* b = data<T>(in[2].buffer);
    T* y = data<T>(o);
    for_each_strided<3>(out.shape, st, [&](int64_t i, const std::array<int64_t, 3>& k) {
      y[i] = p[k[0]] ? a[k[1]] : b[k[2]];
    });
  });
  return {o};
}

NX_KERNEL(eval_as_type) {
  BufferPtr o = alloc(be, n.outputs[0]);
  detail::convert(in[0].buffer->data(), in[0].type.dtype, o->data(), n.outputs[0].dtype, n.outputs[0].shape.size());
  return {o};
}

NX_KERNEL(eval_iota) {
  (void)in;
  const TensorType& out = n.outputs[0];
  BufferPtr o = alloc(be, out);
  int axis = static_cast<int>(n.attrs.k);
  auto strides = out.shape.strides();
  int64_t stride = out.shape.rank() ? strides[static_cast<size_t>(axis)] : 1;
  int64_t dim = out.shape.rank() ? out.shape[axis] : 1;
  detail::visit_dtype(out.dtype, [&](auto t) {
    using T = decltype(t);
    T* y = data<T>(o);
    int64_t total = out.shape.size();
    for (int64_t i = 0; i < total; ++i) y[i] = store<T>(static_cast<compute_t<T>>((i / stride) % dim));
  });
  return {o};
}

}  // namespace nx::interp
