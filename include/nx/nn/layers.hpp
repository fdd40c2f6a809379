// The built-in layers. A factory refuses bad options with an nx::Error at the caller's line.
// Each returns an nn::Layer to apply to a node (x | nn::dense(10)) or
// several (nn::add({a, b})). Inputs are batch first; images are channels first (N, C, H, W),
// as PyTorch and Nx. Parameters use PyTorch's layouts and names.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "nx/nn/activations.hpp"
#include "nx/nn/initializers.hpp"
#include "nx/nn/model.hpp"
#include "nx/ops.hpp"

namespace nx::nn {

inline constexpr PaddingMode valid = PaddingMode::valid;
inline constexpr PaddingMode same = PaddingMode::same;

// ---- dense and shapes ----
struct DenseOpts {
  ::nx::detail::NamedFieldsOnly named_fields_only;
  std::string activation;  // a name from nn::activations::named; empty: none
  bool use_bias = true;
  Initializer kernel_initializer = initializers::glorot_uniform();
  Initializer bias_initializer = initializers::zeros();
};
// y = x W^T + b over the last axis: weight (units, in), bias (units).
Layer dense(int64_t units, DenseOpts opts = {}, Where where = Where::current());

// (N, ...) -> (N, product of the rest).
Layer flatten();
// (N, ...) -> (N, dims...): dims exclude the batch axis; one may be -1.
Layer reshape(std::vector<int64_t> dims, Where where = Where::current());
// Permutes the axes after the batch axis (`dims` numbers them from 1).
Layer transpose(std::vector<int> axes);

// Zeroes each element with probability `rate` in training (scaling the rest by
// 1 / (1 - rate)); the identity in inference.
Layer dropout(double rate, Where where = Where::current());

struct EmbeddingOpts {
  ::nx::detail::NamedFieldsOnly named_fields_only;
  Initializer initializer = initializers::normal(0.0, 1.0);
};
// Integer ids (N, ...) -> (N, ..., dim): weight (vocab, dim).
Layer embedding(int64_t vocab, int64_t dim, EmbeddingOpts opts = {}, Where where = Where::current());

// ---- merging several nodes (shapes broadcast) ----
Node add(const std::vector<Node>& xs, Where where = Where::current());
Node subtract(const Node& a, const Node& b, Where where = Where::current());
Node multiply(const std::vector<Node>& xs, Where where = Where::current());
Node concatenate(const std::vector<Node>& xs, int axis = -1, Where where = Where::current());

// ---- convolution ----
struct ConvOpts {
  ::nx::detail::NamedFieldsOnly named_fields_only;
  std::vector<int64_t> strides;   // per spatial axis; default 1
  Padding padding = PaddingMode::valid;  // nn::valid, nn::same, or {{lo, hi}, ...}
  std::vector<int64_t> dilation;  // per spatial axis; default 1
  int64_t groups = 1;
  std::string activation;
  bool use_bias = true;
  Initializer kernel_initializer = initializers::glorot_uniform();
  Initializer bias_initializer = initializers::zeros();
};
// (N, C, spatial...) -> (N, filters, spatial'...), as many spatial axes as kernel_size
// has (1, 2 or 3): weight (filters, C / groups, kernel...), bias (filters).
Layer conv(int64_t filters, std::vector<int64_t> kernel_size, ConvOpts opts = {}, Where where = Where::current());
// One filter set per input channel (groups = C): weight (C * multiplier, 1, kernel...).
Layer depthwise_conv(std::vector<int64_t> kernel_size, int64_t multiplier = 1, ConvOpts opts = {}, Where where = Where::current());
// A depthwise conv then a 1x1 conv to `filters`: weights "depthwise_weight",
// "pointwise_weight", bias (filters).
Layer separable_conv(int64_t filters, std::vector<int64_t> kernel_size, ConvOpts opts = {}, Where where = Where::current());

struct ConvTransposeOpts {
  ::nx::detail::NamedFieldsOnly named_fields_only;
  std::vector<int64_t> strides;
  std::vector<int64_t> padding;         // per spatial axis, as PyTorch's (removed from both sides)
  std::vector<int64_t> output_padding;  // added at the high side
  std::vector<int64_t> dilation;
  int64_t groups = 1;
  std::string activation;
  bool use_bias = true;
  Initializer kernel_initializer = initializers::glorot_uniform();
  Initializer bias_initializer = initializers::zeros();
};
// The gradient of conv with respect to its input, as PyTorch's ConvTranspose:
// weight (C, filters / groups, kernel...), out = (in - 1) * stride - 2 * padding +
// dilation * (kernel - 1) + output_padding + 1.
Layer conv_transpose(int64_t filters, std::vector<int64_t> kernel_size, ConvTransposeOpts opts = {}, Where where = Where::current());

// ---- pooling ----
struct PoolOpts {
  ::nx::detail::NamedFieldsOnly named_fields_only;
  std::vector<int64_t> strides;  // default: the window
  Padding padding = PaddingMode::valid;
  std::vector<int64_t> dilation;
  bool count_include_pad = true;  // avg_pool: padding counts in the mean, as PyTorch's default
};
Layer max_pool(std::vector<int64_t> window, PoolOpts opts = {}, Where where = Where::current());
Layer avg_pool(std::vector<int64_t> window, PoolOpts opts = {}, Where where = Where::current());
// Over every spatial axis: (N, C, spatial...) -> (N, C), or (N, C, 1, ...) with keep_axes.
Layer global_avg_pool(bool keep_axes = false);
Layer global_max_pool(bool keep_axes = false);
// To a fixed output size, bins as PyTorch's adaptive pooling.
Layer adaptive_avg_pool(std::vector<int64_t> output_size, Where where = Where::current());
Layer adaptive_max_pool(std::vector<int64_t> output_size, Where where = Where::current());

// ---- normalization ----
struct BatchNormOpts {
  ::nx::detail::NamedFieldsOnly named_fields_only;
  double momentum = 0.1;  // running = (1 - momentum) * running + momentum * batch, as PyTorch
  double epsilon = 1e-5;
  int axis = 1;           // the channel axis
  bool affine = true;     // weight and bias
};
// Batch statistics in training (the running mean and unbiased variance updated in the
// model state), the running statistics in inference.
Layer batch_norm(BatchNormOpts opts = {}, Where where = Where::current());
struct LayerNormOpts {
  ::nx::detail::NamedFieldsOnly named_fields_only;
  int axes = 1;  // the trailing axes normalised together
  double epsilon = 1e-5;
  bool affine = true;
};
Layer layer_norm(LayerNormOpts opts = {}, Where where = Where::current());
struct GroupNormOpts {
  ::nx::detail::NamedFieldsOnly named_fields_only;
  double epsilon = 1e-5;
  bool affine = true;
};
// Channels (axis 1) split into `groups`, each normalised over its channels and space.
Layer group_norm(int64_t groups, GroupNormOpts opts = {}, Where where = Where::current());

}  // namespace nx::nn
