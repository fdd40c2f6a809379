// Front ends of reductions, arg-reductions and cumulative ops.
#include "nx/detail/core.hpp"

namespace nx {
namespace {

using detail::apply1;

Shape reduced_shape(const Shape& s, const std::vector<int64_t>& axes, bool keep) {
  Shape out;
  size_t k = 0;
  for (int i = 0; i < s.rank(); ++i) {
    bool reduced = k < axes.size() && axes[k] == i;
    if (reduced) ++k;
    if (!reduced) out.push_back(s[i]);
    else if (keep) out.push_back(1);
  }
  return out;
}

Tensor reduce(Op op, const Tensor& x, const ReduceOpts& opts, Where where) {
  const char* name = op_name(op).data();
  Attrs a;
  a.axes = detail::normalize_axes(opts.axes, x.rank(), name, where);
  a.keep_axes = opts.keep_axes;
  DType out = x.dtype();
  Tensor in = x;
  if (op == Op::All || op == Op::Any) {
    out = DType::bool_;
  } else if ((op == Op::Sum || op == Op::Product) && (x.dtype() == DType::bool_ || x.dtype() == DType::u8 ||
                                                       x.dtype() == DType::i32)) {
    // Small integers accumulate in i64 (as Nx; numpy too on 64-bit platforms).
    out = x.dtype() == DType::u8 ? DType::u32 : DType::i64;
    if (x.dtype() == DType::bool_) out = DType::i64;
    in = as_type(x, out, where);
  }
  Shape shape = reduced_shape(x.shape(), a.axes, opts.keep_axes);
  return apply1(op, std::move(a), {in}, TensorType{out, shape}, where);
}

Tensor arg_reduce(Op op, const Tensor& x, const ArgOpts& opts, Where where) {
  const char* name = op_name(op).data();
  Attrs a;
  Tensor in = x;
  if (opts.axis) {
    a.axes = {detail::normalize_axis(*opts.axis, x.rank(), name, where)};
  } else {
    in = reshape(x, Shape{x.size()}, where);
    a.axes = {0};
  }
  if (in.shape()[static_cast<int>(a.axes[0])] == 0)
    throw ShapeError(name, "cannot take the arg of an empty axis in " + x.shape().str(), where);
  a.flag = opts.tie_break == TieBreak::high;
  Shape out = reduced_shape(in.shape(), a.axes, opts.keep_axes);
  if (!opts.axis && opts.keep_axes) {
    out = Shape{};
    for (int i = 0; i < x.rank(); ++i) out.push_back(1);
  }
  Shape flat_out = reduced_shape(in.shape(), a.axes, false);
  a.keep_axes = false;
  Tensor r = apply1(op, std::move(a), {in}, TensorType{DType::i64, flat_out}, where);
  return r.shape() == out ? r : reshape(r, out, where);
}

Tensor cumulative(Op op, const Tensor& x, const CumulativeOpts& opts, Where where) {
  Attrs a;
  a.axes = {detail::normalize_axis(opts.axis, std::max(x.rank(), 1), op_name(op).data(), where)};
  if (x.rank() == 0) return x;
  a.flag = opts.reverse;
  Tensor in = x;
  DType out = x.dtype();
  if ((op == Op::CumulativeSum || op == Op::CumulativeProduct) && x.dtype() == DType::bool_) {
    out = DType::i64;
    in = as_type(x, out, where);
  }
  return apply1(op, std::move(a), {in}, TensorType{out, x.shape()}, where);
}

}  // namespace

Tensor sum(const Tensor& x, ReduceOpts o, Where w) { return reduce(Op::Sum, x, o, w); }
Tensor product(const Tensor& x, ReduceOpts o, Where w) { return reduce(Op::Product, x, o, w); }
Tensor reduce_max(const Tensor& x, ReduceOpts o, Where w) { return reduce(Op::ReduceMax, x, o, w); }
Tensor reduce_min(const Tensor& x, ReduceOpts o, Where w) { return reduce(Op::ReduceMin, x, o, w); }
Tensor all(const Tensor& x, ReduceOpts o, Where w) { return reduce(Op::All, x, o, w); }
Tensor any(const Tensor& x, ReduceOpts o, Where w) { return reduce(Op::Any, x, o, w); }
Tensor argmax(const Tensor& x, ArgOpts o, Where w) { return arg_reduce(Op::Argmax, x, o, w); }
Tensor argmin(const Tensor& x, ArgOpts o, Where w) { return arg_reduce(Op::Argmin, x, o, w); }
Tensor cumulative_sum(const Tensor& x, CumulativeOpts o, Where w) { return cumulative(Op::CumulativeSum, x, o, w); }
Tensor cumulative_product(const Tensor& x, CumulativeOpts o, Where w) {
  return cumulative(Op::CumulativeProduct, x, o, w);
}
Tensor cumulative_max(const Tensor& x, CumulativeOpts o, Where w) { return cumulative(Op::CumulativeMax, x, o, w); }
Tensor cumulative_min(const Tensor& x, CumulativeOpts o, Where w) { return cumulative(Op::CumulativeMin, x, o, w); }

}  // namespace nx
