// Front end of conv: Nx layout, XLA ConvGeneralDilated semantics (groups, dilations,
// negative padding). 'same' padding is resolved here so backends only see lo/hi.
#include "nx/detail/core.hpp"
#include "ops/window_shape.hpp"

namespace nx {
namespace {

// Checks ranks, channel counts and group divisibility; throws naming both shapes.
void check_conv_shapes(const Shape& in, const Shape& k, int64_t fg, int64_t bg, const std::string& both,
                       Where where) {
  if (in.rank() < 3)
    throw ShapeError("conv", "input needs rank >= 3 (batch, channels, spatial...), got " + both, where);
  if (k.rank() != in.rank())
    throw ShapeError("conv", "kernel rank must equal input rank, got " + both, where);
  if (fg < 1 || bg < 1)
    throw ValueError("conv", "feature_group_size and batch_group_size must be >= 1, got " + std::to_string(fg) +
                                 " and " + std::to_string(bg), where);
  if (fg > 1 && bg > 1)
    throw ValueError("conv", "feature_group_size and batch_group_size cannot both be > 1", where);
  if (in[1] != k[1] * fg)
    throw ShapeError("conv", "input channels must equal kernel channels (dim 1) * feature_group_size (" +
                                 std::to_string(fg) + "), got " + both, where);
  if (k[0] % fg != 0)
    throw ShapeError("conv", "kernel output channels must be divisible by feature_group_size (" +
                                 std::to_string(fg) + "), got " + both, where);
  if (k[0] % bg != 0 || in[0] % bg != 0)
    throw ShapeError("conv", "input batch and kernel output channels must be divisible by batch_group_size (" +
                                 std::to_string(bg) + "), got " + both, where);
  for (int i = 2; i < k.rank(); ++i)
    if (k[i] == 0) throw ShapeError("conv", "kernel spatial dimensions must be positive, got " + both, where);
}

}  // namespace

Tensor conv(const Tensor& input, const Tensor& kernel, ConvOpts o, Where where) {
  std::string both = detail::shapes_str(std::vector{input, kernel});
  const Shape& is = input.shape();
  const Shape& ks = kernel.shape();
  check_conv_shapes(is, ks, o.feature_group_size, o.batch_group_size, both, where);
  DType dt = promote(input.dtype(), input.is_weak(), kernel.dtype(), kernel.is_weak());
  if (dt == DType::bool_) throw DTypeError("conv", "expects numbers, got " + both, where);

  size_t ns = static_cast<size_t>(is.rank() - 2);
  Attrs a;
  a.strides = detail::window_option(o.strides, ns, 1, "strides", "conv", both, where);
  a.lhs_dilation = detail::window_option(o.input_dilation, ns, 1, "input_dilation", "conv", both, where);
  a.rhs_dilation = detail::window_option(o.kernel_dilation, ns, 1, "kernel_dilation", "conv", both, where);
  std::vector<detail::WindowDim> dims;
  for (size_t i = 0; i < ns; ++i) {
    int d = static_cast<int>(i) + 2;
    dims.push_back({is[d], ks[d], a.strides[i], a.lhs_dilation[i], a.rhs_dilation[i]});
  }
  detail::WindowShape w = detail::window_shape(dims, o.padding, "conv", both, where);
  a.lo = std::move(w.lo);
  a.hi = std::move(w.hi);
  a.k = o.feature_group_size;
  a.k2 = o.batch_group_size;

  Shape out{is[0] / o.batch_group_size, ks[0]};
  for (int64_t d : w.out) out.push_back(d);
  Tensor ci = as_type(input, dt, where), ck = as_type(kernel, dt, where);
  return detail::apply1(Op::Conv, std::move(a), {ci, ck}, TensorType{dt, out}, where);
}

}  // namespace nx
