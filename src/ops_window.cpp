// Front ends of window_sum/max/min/product (XLA reduce_window over every dim of x).
// Padding is resolved here; padded positions hold the reduction's identity.
#include "nx/detail/core.hpp"
#include "window_shape.hpp"

namespace nx {
namespace {

Tensor window_reduce(Op op, const Tensor& x, const std::vector<int64_t>& window, const WindowOpts& o,
                     Where where) {
  const char* name_ = op_name(op).data();
  std::string ctx = std::string(name(x.dtype())) + x.shape().str();
  if (window.size() != static_cast<size_t>(x.rank()))
    throw ShapeError(name_, "window has " + std::to_string(window.size()) + " dimensions but x " + ctx +
                                " has rank " + std::to_string(x.rank()), where);
  for (int64_t w : window)
    if (w < 1) throw ValueError(name_, "window dimensions must be positive, got " + std::to_string(w) + " for " + ctx, where);
  if (!is_integer(x.dtype()) && !is_float(x.dtype()))
    throw DTypeError(name_, "expects numbers, got " + ctx, where);

  size_t r = window.size();
  Attrs a;
  a.window = window;
  a.strides = detail::window_option(o.strides, r, 1, "strides", name_, ctx, where);
  a.rhs_dilation = detail::window_option(o.window_dilations, r, 1, "window_dilations", name_, ctx, where);
  std::vector<detail::WindowDim> dims;
  for (size_t i = 0; i < r; ++i) dims.push_back({x.shape()[static_cast<int>(i)], window[i], a.strides[i], 1, a.rhs_dilation[i]});
  detail::WindowShape w = detail::window_shape(dims, o.padding, name_, ctx, where);
  a.lo = std::move(w.lo);
  a.hi = std::move(w.hi);
  Shape out(w.out);
  // A weak scalar (rank 0) keeps its weak type: the op is the identity on it.
  return detail::apply1(op, std::move(a), {x}, TensorType{x.dtype(), out}, where, x.is_weak());
}

}  // namespace

Tensor window_sum(const Tensor& x, std::vector<int64_t> w, WindowOpts o, Where where) {
  return window_reduce(Op::WindowSum, x, w, o, where);
}
Tensor window_max(const Tensor& x, std::vector<int64_t> w, WindowOpts o, Where where) {
  return window_reduce(Op::WindowMax, x, w, o, where);
}
Tensor window_min(const Tensor& x, std::vector<int64_t> w, WindowOpts o, Where where) {
  return window_reduce(Op::WindowMin, x, w, o, where);
}
Tensor window_product(const Tensor& x, std::vector<int64_t> w, WindowOpts o, Where where) {
  return window_reduce(Op::WindowProduct, x, w, o, where);
}

}  // namespace nx
