// Convolution layers: conv (1-3d, strides, padding, dilation, groups), depthwise,
// separable, and transposed convolution.
#include "nn/describe.hpp"
#include "nx/composites.hpp"
#include "nx/nn/layers.hpp"

namespace nx::nn {

using detail::ints_str;
using detail::options_str;

namespace {

std::vector<int64_t> per_axis(const std::vector<int64_t>& v, size_t n, int64_t fill, const char* op, const char* what,
                              Where where) {
  if (v.empty()) return std::vector<int64_t>(n, fill);
  if (v.size() != n)
    throw ValueError(op, std::string(what) + " has " + std::to_string(v.size()) + " values for " + std::to_string(n) +
                             " spatial axes",
                     where);
  for (int64_t x : v)
    if (x < 1) throw ValueError(op, std::string(what) + " must be positive, given " + ints_str(v), where);
  return v;
}

void check_kernel(const std::vector<int64_t>& kernel, const char* op, Where where) {
  if (kernel.empty() || kernel.size() > 3)
    throw ValueError(op, "kernel_size has 1, 2 or 3 spatial sizes, given " + ints_str(kernel), where);
  for (int64_t k : kernel)
    if (k < 1) throw ValueError(op, "kernel sizes must be positive, given " + ints_str(kernel), where);
}

// The input's channel count, after checking its rank fits the kernel.
int64_t channels(const Tensor& x, size_t spatial, const char* op) {
  if (x.rank() != static_cast<int>(spatial) + 2)
    throw ShapeError(op, "expects (N, C" + std::string(spatial >= 1 ? ", W" : "") + (spatial >= 2 ? ", H" : "") +
                             (spatial >= 3 ? ", D" : "") + ") for a " + std::to_string(spatial) + "-d kernel, given " +
                             x.shape().str());
  return x.shape()[1];
}

Tensor channel_bias(const Tensor& y, const Tensor& b) {
  std::vector<int64_t> dims(y.rank(), 1);
  dims[1] = b.shape()[0];
  return y + reshape(b, Shape(dims));
}

Shape weight_shape(int64_t out, int64_t in, const std::vector<int64_t>& kernel) {
  std::vector<int64_t> d{out, in};
  d.insert(d.end(), kernel.begin(), kernel.end());
  return Shape(d);
}

std::string conv_options(int64_t filters, const std::vector<int64_t>& kernel, const ConvOpts& o) {
  return options_str({{"filters", filters > 0 ? std::to_string(filters) : ""},
                      {"kernel", ints_str(kernel)},
                      {"strides", o.strides.empty() ? "" : ints_str(o.strides)},
                      {"padding", o.padding.mode == PaddingMode::valid ? "" : detail::padding_str(o.padding)},
                      {"dilation", o.dilation.empty() ? "" : ints_str(o.dilation)},
                      {"groups", o.groups == 1 ? "" : std::to_string(o.groups)},
                      {"activation", o.activation},
                      {"bias", o.use_bias ? "" : "false"}});
}

}  // namespace

Layer conv(int64_t filters, std::vector<int64_t> kernel, ConvOpts opts, Where where) {
  check_kernel(kernel, "nn.conv", where);
  if (filters < 1 || opts.groups < 1 || filters % opts.groups)
    throw ValueError("nn.conv", "filters (" + std::to_string(filters) + ") must be a positive multiple of groups (" +
                                    std::to_string(opts.groups) + ")",
                     where);
  const size_t n = kernel.size();
  std::vector<int64_t> strides = per_axis(opts.strides, n, 1, "nn.conv", "strides", where);
  std::vector<int64_t> dilation = per_axis(opts.dilation, n, 1, "nn.conv", "dilation", where);
  auto act = activations::named(opts.activation, where);
  std::string text = conv_options(filters, kernel, opts);
  return layer(
      "conv",
      [=](Scope& s, const std::vector<Tensor>& xs) {
        const Tensor& x = xs[0];
        const int64_t c = channels(x, n, "nn.conv");
        if (c % opts.groups)
          throw ShapeError("nn.conv", "input channels (" + std::to_string(c) + ") must be a multiple of groups (" +
                                          std::to_string(opts.groups) + "), given " + x.shape().str());
        Tensor w = s.param("weight", weight_shape(filters, c / opts.groups, kernel), opts.kernel_initializer);
        Tensor y = nx::conv(x, w, {.strides = strides, .padding = opts.padding, .kernel_dilation = dilation,
                                   .feature_group_size = opts.groups});
        if (opts.use_bias) y = channel_bias(y, s.param("bias", {filters}, opts.bias_initializer));
        return act(y);
      },
      1, text);
}

Layer depthwise_conv(std::vector<int64_t> kernel, int64_t multiplier, ConvOpts opts, Where where) {
  check_kernel(kernel, "nn.depthwise_conv", where);
  if (multiplier < 1) throw ValueError("nn.depthwise_conv", "multiplier must be positive", where);
  if (opts.groups != 1) throw ValueError("nn.depthwise_conv", "has one group per input channel: leave .groups at 1", where);
  const size_t n = kernel.size();
  std::vector<int64_t> strides = per_axis(opts.strides, n, 1, "nn.depthwise_conv", "strides", where);
  std::vector<int64_t> dilation = per_axis(opts.dilation, n, 1, "nn.depthwise_conv", "dilation", where);
  auto act = activations::named(opts.activation, where);
  std::string text = conv_options(0, kernel, opts) + ", multiplier=" + std::to_string(multiplier);
  return layer(
      "depthwise_conv",
      [=](Scope& s, const std::vector<Tensor>& xs) {
        const Tensor& x = xs[0];
        const int64_t c = channels(x, n, "nn.depthwise_conv");
        Tensor w = s.param("weight", weight_shape(c * multiplier, 1, kernel), opts.kernel_initializer);
        Tensor y = nx::conv(x, w, {.strides = strides, .padding = opts.padding, .kernel_dilation = dilation,
                                   .feature_group_size = c});
        if (opts.use_bias) y = channel_bias(y, s.param("bias", {c * multiplier}, opts.bias_initializer));
        return act(y);
      },
      1, text);
}

Layer separable_conv(int64_t filters, std::vector<int64_t> kernel, ConvOpts opts, Where where) {
  check_kernel(kernel, "nn.separable_conv", where);
  if (filters < 1) throw ValueError("nn.separable_conv", "filters must be positive", where);
  if (opts.groups != 1) throw ValueError("nn.separable_conv", "has one group per input channel: leave .groups at 1", where);
  const size_t n = kernel.size();
  std::vector<int64_t> strides = per_axis(opts.strides, n, 1, "nn.separable_conv", "strides", where);
  std::vector<int64_t> dilation = per_axis(opts.dilation, n, 1, "nn.separable_conv", "dilation", where);
  auto act = activations::named(opts.activation, where);
  std::string text = conv_options(filters, kernel, opts);
  return layer(
      "separable_conv",
      [=](Scope& s, const std::vector<Tensor>& xs) {
        const Tensor& x = xs[0];
        const int64_t c = channels(x, n, "nn.separable_conv");
        Tensor dw = s.param("depthwise_weight", weight_shape(c, 1, kernel), opts.kernel_initializer);
        Tensor y = nx::conv(x, dw, {.strides = strides, .padding = opts.padding, .kernel_dilation = dilation,
                                    .feature_group_size = c});
        Tensor pw = s.param("pointwise_weight", weight_shape(filters, c, std::vector<int64_t>(n, 1)), opts.kernel_initializer);
        y = nx::conv(y, pw);
        if (opts.use_bias) y = channel_bias(y, s.param("bias", {filters}, opts.bias_initializer));
        return act(y);
      },
      1, text);
}

Layer conv_transpose(int64_t filters, std::vector<int64_t> kernel, ConvTransposeOpts opts, Where where) {
  const char* op = "nn.conv_transpose";
  check_kernel(kernel, op, where);
  if (filters < 1 || opts.groups < 1 || filters % opts.groups)
    throw ValueError(op, "filters (" + std::to_string(filters) + ") must be a positive multiple of groups (" +
                             std::to_string(opts.groups) + ")",
                     where);
  const size_t n = kernel.size();
  std::vector<int64_t> strides = per_axis(opts.strides, n, 1, op, "strides", where);
  std::vector<int64_t> dilation = per_axis(opts.dilation, n, 1, op, "dilation", where);
  std::vector<int64_t> padding = opts.padding.empty() ? std::vector<int64_t>(n, 0) : opts.padding;
  std::vector<int64_t> out_pad = opts.output_padding.empty() ? std::vector<int64_t>(n, 0) : opts.output_padding;
  if (padding.size() != n || out_pad.size() != n)
    throw ValueError(op, "padding and output_padding need one value per spatial axis", where);
  // As a conv over the input dilated by the strides, with the kernel flipped and its
  // channel axes swapped; PyTorch's padding p leaves dilation * (kernel - 1) - p per side.
  std::vector<std::pair<int64_t, int64_t>> pads;
  for (size_t i = 0; i < n; ++i) {
    const int64_t full = dilation[i] * (kernel[i] - 1);
    // p above dilation * (kernel - 1) (PyTorch allows it) leaves a negative padding: a crop.
    if (padding[i] < 0) throw ValueError(op, "padding must be non-negative, given " + ints_str(padding), where);
    if (out_pad[i] < 0 || out_pad[i] >= std::max(strides[i], dilation[i]))
      throw ValueError(op, "output_padding must be below the stride or the dilation", where);
    pads.emplace_back(full - padding[i], full - padding[i] + out_pad[i]);
  }
  auto act = activations::named(opts.activation, where);
  std::string text = options_str({{"filters", std::to_string(filters)},
                                  {"kernel", ints_str(kernel)},
                                  {"strides", opts.strides.empty() ? "" : ints_str(strides)},
                                  {"padding", opts.padding.empty() ? "" : ints_str(padding)},
                                  {"output_padding", opts.output_padding.empty() ? "" : ints_str(out_pad)},
                                  {"dilation", opts.dilation.empty() ? "" : ints_str(dilation)},
                                  {"groups", opts.groups == 1 ? "" : std::to_string(opts.groups)},
                                  {"activation", opts.activation},
                                  {"bias", opts.use_bias ? "" : "false"}});
  const int64_t groups = opts.groups;
  return layer(
      "conv_transpose",
      [=](Scope& s, const std::vector<Tensor>& xs) {
        const Tensor& x = xs[0];
        const int64_t c = channels(x, n, op);
        if (c % groups)
          throw ShapeError(op, "input channels (" + std::to_string(c) + ") must be a multiple of groups, given " +
                                   x.shape().str());
        Tensor w = s.param("weight", weight_shape(c, filters / groups, kernel), opts.kernel_initializer);
        // (C, F/g, k...) -> (g, C/g, F/g, k...) -> (g, F/g, C/g, k...) -> (F, C/g, k...), flipped.
        std::vector<int64_t> grouped{groups, c / groups, filters / groups};
        grouped.insert(grouped.end(), kernel.begin(), kernel.end());
        std::vector<int> perm{0, 2, 1};
        std::vector<int> spatial;
        for (size_t i = 0; i < n; ++i) {
          perm.push_back(static_cast<int>(3 + i));
          spatial.push_back(static_cast<int>(2 + i));
        }
        Tensor k = nx::transpose(reshape(w, Shape(grouped)), perm);
        k = reverse(reshape(k, weight_shape(filters, c / groups, kernel)), Axes(spatial));
        Tensor y = nx::conv(x, k, {.strides = std::vector<int64_t>(n, 1), .padding = pads, .input_dilation = strides,
                                   .kernel_dilation = dilation, .feature_group_size = groups});
        if (opts.use_bias) y = channel_bias(y, s.param("bias", {filters}, opts.bias_initializer));
        return act(y);
      },
      1, text);
}

}  // namespace nx::nn
