// Front ends of window_sum/max/min/product (XLA reduce_window over every dim of x) and
// window_scatter_max/min (XLA SelectAndScatter).
// Padding is resolved here; padded positions hold the reduction's identity.
#include "nx/detail/core.hpp"
#include "ops/window_shape.hpp"

namespace nx {
namespace {

// The attributes and result shape of a window op over x.
std::pair<Attrs, Shape> window_attrs(Op op, const Tensor& x, const std::vector<int64_t>& window, const WindowOpts& o,
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
  return {std::move(a), Shape(w.out)};
}

Tensor window_reduce(Op op, const Tensor& x, const std::vector<int64_t>& window, const WindowOpts& o,
                     Where where) {
  auto [a, out] = window_attrs(op, x, window, o, where);
  // A weak scalar (rank 0) keeps its weak type: the op is the identity on it.
  return detail::apply1(op, std::move(a), {x}, TensorType{x.dtype(), out}, where, x.is_weak());
}

Tensor window_scatter(Op op, const Tensor& x, const Tensor& source, const Tensor& init,
                      const std::vector<int64_t>& window, const WindowOpts& o, Where where) {
  auto [a, out] = window_attrs(op, x, window, o, where);
  const char* name_ = op_name(op).data();
  if (source.shape() != out)
    throw ShapeError(name_, "source must be shaped like the windows of x, " + out.str() + ", got " +
                                detail::shapes_str(std::vector{x, source}), where);
  if (init.rank() != 0) throw ShapeError(name_, "init must be a scalar, got " + init.shape().str(), where);
  Tensor s = source.is_weak() ? as_type(source, x.dtype(), where) : source;
  if (s.dtype() != x.dtype())
    throw DTypeError(name_, "source must have the dtype of x, got " + detail::shapes_str(std::vector{x, source}), where);
  Tensor i = init.dtype() == x.dtype() ? init : as_type(init, x.dtype(), where);
  return detail::apply1(op, std::move(a), {x, s, i}, TensorType{x.dtype(), x.shape()}, where, false);
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
Tensor window_scatter_max(const Tensor& x, const Tensor& source, const Tensor& init, std::vector<int64_t> w,
                          WindowOpts o, Where where) {
  return window_scatter(Op::WindowScatterMax, x, source, init, w, o, where);
}
Tensor window_scatter_min(const Tensor& x, const Tensor& source, const Tensor& init, std::vector<int64_t> w,
                          WindowOpts o, Where where) {
  return window_scatter(Op::WindowScatterMin, x, source, init, w, o, where);
}

}  // namespace nx
