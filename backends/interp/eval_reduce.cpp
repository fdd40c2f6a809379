// Reductions (float sums and products accumulate in f64), arg-reductions, cumulative ops.
#include <cmath>
#include <limits>
#include <type_traits>

#include "kernels.hpp"

namespace nx::interp {
namespace {

template <class T> using acc_t = std::conditional_t<is_float_v<T>, double, compute_t<T>>;

template <class A> A identity(Op op) {
  switch (op) {
    case Op::Sum: case Op::Any: return A(0);
    case Op::Product: case Op::All: return A(1);
    case Op::ReduceMax:
      if constexpr (std::is_floating_point_v<A>) return -std::numeric_limits<A>::infinity();
      else return std::numeric_limits<A>::lowest();
    default:
      if constexpr (std::is_floating_point_v<A>) return std::numeric_limits<A>::infinity();
      else return std::numeric_limits<A>::max();
  }
}

// The type integer sums and products are computed in: unsigned, so they wrap.
template <class A, bool = std::is_integral_v<A>> struct wrapping { using type = A; };
template <class A> struct wrapping<A, true> { using type = std::make_unsigned_t<A>; };

template <class A> A combine(Op op, A acc, A x) {
  if constexpr (std::is_same_v<A, bool>) {
    switch (op) {
      case Op::ReduceMax: case Op::Any: return acc || x;
      default: return acc && x;
    }
  } else {
    // Integer sums and products wrap modulo 2^n (in the unsigned type: no signed overflow).
    using W = typename wrapping<A>::type;
    switch (op) {
      case Op::Sum: return static_cast<A>(static_cast<W>(acc) + static_cast<W>(x));
      case Op::Product: return static_cast<A>(static_cast<W>(acc) * static_cast<W>(x));
      case Op::ReduceMax:
        if constexpr (std::is_floating_point_v<A>)
          if (std::isnan(x) || std::isnan(acc)) return std::numeric_limits<A>::quiet_NaN();
        return x > acc ? x : acc;
      case Op::ReduceMin:
        if constexpr (std::is_floating_point_v<A>)
          if (std::isnan(x) || std::isnan(acc)) return std::numeric_limits<A>::quiet_NaN();
        return x < acc ? x : acc;
      case Op::All: return static_cast<A>(acc != 0 && x != 0);
      case Op::Any: return static_cast<A>(acc != 0 || x != 0);
      default: return acc;
    }
  }
}

// Input strides mapped onto the output: 0 along reduced axes.
std::array<int64_t, kMaxRank> reduce_out_strides(const Shape& in, const std::vector<int64_t>& axes) {
  Shape kept;
  for (int i = 0; i < in.rank(); ++i)
    kept.push_back(std::find(axes.begin(), axes.end(), i) != axes.end() ? 1 : in[i]);
  auto ks = kept.strides();
  std::array<int64_t, kMaxRank> s{};
  for (int i = 0; i < in.rank(); ++i)
    s[static_cast<size_t>(i)] = std::find(axes.begin(), axes.end(), i) != axes.end() ? 0 : ks[static_cast<size_t>(i)];
  return s;
}

}  // namespace

NX_KERNEL(eval_reduce) {
  const TensorType& out = n.outputs[0];
  BufferPtr o = alloc(be, out);
  const Shape& ishape = in[0].type.shape;
  std::array<std::array<int64_t, kMaxRank>, 1> st{reduce_out_strides(ishape, n.attrs.axes)};
  detail::visit_dtype(in[0].type.dtype, [&](auto t) {
    using T = decltype(t);
    using A = std::conditional_t<std::is_same_v<T, bool>, uint8_t, acc_t<T>>;
    std::vector<A> acc(static_cast<size_t>(out.shape.size()), identity<A>(n.op));
    const T* x = data<T>(in[0].buffer);
    for_each_strided<1>(ishape, st, [&](int64_t i, const std::array<int64_t, 1>& k) {
      A& a = acc[static_cast<size_t>(k[0])];
      a = combine<A>(n.op, a, static_cast<A>(load(x[i])));
    });
    if (out.dtype == DType::bool_) {
      bool* y = data<bool>(o);
      for (size_t i = 0; i < acc.size(); ++i) y[i] = acc[i] != A(0);
    } else {
      T* y = data<T>(o);
      for (size_t i = 0; i < acc.size(); ++i) y[i] = store<T>(acc[i]);
    }
  });
  return {o};
}

// Along one axis: the first (or last, with flag) index of the max/min; a NaN counts as the extreme.
NX_KERNEL(eval_arg_reduce) {
  const TensorType& out = n.outputs[0];
  BufferPtr o = alloc(be, out);
  const Shape& s = in[0].type.shape;
  int axis = static_cast<int>(n.attrs.axes[0]);
  int64_t len = s[axis], inner = 1, outer = 1;
  for (int i = axis + 1; i < s.rank(); ++i) inner *= s[i];
  for (int i = 0; i < axis; ++i) outer *= s[i];
  bool is_max = n.op == Op::Argmax, last = n.attrs.flag;
  int64_t* y = data<int64_t>(o);
  detail::visit_dtype(in[0].type.dtype, [&](auto t) {
    using T = decltype(t);
    const T* x = data<T>(in[0].buffer);
    for (int64_t a = 0; a < outer; ++a)
      for (int64_t b = 0; b < inner; ++b) {
        const T* p = x + a * len * inner + b;
        int64_t best = 0;
        auto bv = load(p[0]);
        bool nan_found = false;
        if constexpr (is_float_v<T>) nan_found = std::isnan(bv);
        for (int64_t i = 1; i < len && !nan_found; ++i) {
          auto v = load(p[i * inner]);
          if constexpr (is_float_v<T>)
            if (std::isnan(v)) { best = i; nan_found = true; break; }
          bool better = is_max ? (v > bv || (last && v == bv)) : (v < bv || (last && v == bv));
          if (better) { best = i; bv = v; }
        }
        y[a * inner + b] = best;
      }
  });
  return {o};
}

NX_KERNEL(eval_cumulative) {
  const TensorType& out = n.outputs[0];
  BufferPtr o = alloc(be, out);
  const Shape& s = out.shape;
  int axis = static_cast<int>(n.attrs.axes[0]);
  int64_t len = s[axis], inner = 1, outer = 1;
  for (int i = axis + 1; i < s.rank(); ++i) inner *= s[i];
  for (int i = 0; i < axis; ++i) outer *= s[i];
  Op red = n.op == Op::CumulativeSum ? Op::Sum
           : n.op == Op::CumulativeProduct ? Op::Product
           : n.op == Op::CumulativeMax ? Op::ReduceMax : Op::ReduceMin;
  bool rev = n.attrs.flag;
  detail::visit_dtype(out.dtype, [&](auto t) {
    using T = decltype(t);
    using A = std::conditional_t<std::is_same_v<T, bool>, uint8_t, acc_t<T>>;
    const T* x = data<T>(in[0].buffer);
    T* y = data<T>(o);
    for (int64_t a = 0; a < outer; ++a)
      for (int64_t b = 0; b < inner; ++b) {
        A acc = identity<A>(red);
        for (int64_t j = 0; j < len; ++j) {
          int64_t i = rev ? len - 1 - j : j;
          int64_t off = (a * len + i) * inner + b;
          acc = combine<A>(red, acc, static_cast<A>(load(x[off])));
          y[off] = store<T>(acc);
        }
      }
  });
  return {o};
}

}  // namespace nx::interp
