// Normalization layers: batch norm (with running statistics in the model state), layer
// norm and group norm. Statistics are computed in f32 at least (bf16 inputs included).
#include "nn/describe.hpp"
#include "nx/composites.hpp"
#include "nx/grad.hpp"
#include "nx/nn/layers.hpp"

namespace nx::nn {

using detail::number_str;

namespace {

DType stats_dtype(DType t) { return t == f64 ? f64 : f32; }

// (x - mean) / sqrt(var + eps) with broadcast statistics, back in x's dtype.
Tensor normalized(const Tensor& xf, const Tensor& m, const Tensor& v, double eps) {
  return (xf - m) * rsqrt(v + eps);
}

std::vector<int64_t> channel_dims(const Tensor& x, int axis) {
  std::vector<int64_t> d(x.rank(), 1);
  d[axis] = x.shape()[axis];
  return d;
}

}  // namespace

Layer batch_norm(BatchNormOpts opts, Where where) {
  if (!(opts.momentum >= 0 && opts.momentum <= 1)) throw ValueError("nn.batch_norm", "momentum must be in [0, 1]", where);
  if (!(opts.epsilon > 0)) throw ValueError("nn.batch_norm", "epsilon must be positive", where);
  return layer(
      "batch_norm",
      [opts](Scope& s, const std::vector<Tensor>& xs) {
        const Tensor& x = xs[0];
        if (x.rank() < 2) throw ShapeError("nn.batch_norm", "expects (N, C, ...), given " + x.shape().str());
        const int axis = opts.axis < 0 ? opts.axis + x.rank() : opts.axis;
        if (axis < 0 || axis >= x.rank())
          throw AxisError("nn.batch_norm", "axis " + std::to_string(opts.axis) + " is out of range for " + x.shape().str());
        const int64_t c = x.shape()[axis];
        std::vector<int> reduce;
        for (int d = 0; d < x.rank(); ++d)
          if (d != axis) reduce.push_back(d);
        const Shape bshape(channel_dims(x, axis));
        const DType sd = stats_dtype(x.dtype());
        Tensor xf = as_type(x, sd);
        Tensor running_mean = s.state("running_mean", {c}, initializers::zeros(), sd);
        Tensor running_var = s.state("running_var", {c}, initializers::ones(), sd);
        Tensor m, v;
        if (s.training()) {
          m = mean(xf, {.axes = reduce, .keep_axes = true});
          v = mean(square(xf - m), {.axes = reduce, .keep_axes = true});
          const double n = double(x.size() / std::max<int64_t>(1, c));
          const double unbias = n > 1 ? n / (n - 1) : 1.0;
          s.set_state("running_mean", running_mean * (1 - opts.momentum) + reshape(m, {c}) * opts.momentum);
          s.set_state("running_var", running_var * (1 - opts.momentum) + reshape(v, {c}) * (opts.momentum * unbias));
        } else {
          m = reshape(running_mean, bshape);
          v = reshape(running_var, bshape);
        }
        Tensor y = normalized(xf, m, v, opts.epsilon);
        if (opts.affine) {
          y = y * reshape(as_type(s.param("weight", {c}, initializers::ones()), sd), bshape) +
              reshape(as_type(s.param("bias", {c}, initializers::zeros()), sd), bshape);
        }
        return as_type(y, x.dtype());
      },
      1, detail::options_str({{"momentum", number_str(opts.momentum)}, {"epsilon", number_str(opts.epsilon)}}));
}

Layer layer_norm(LayerNormOpts opts, Where where) {
  if (opts.axes < 1) throw ValueError("nn.layer_norm", "axes (the trailing axes normalised) must be at least 1", where);
  if (!(opts.epsilon > 0)) throw ValueError("nn.layer_norm", "epsilon must be positive", where);
  return layer(
      "layer_norm",
      [opts](Scope& s, const std::vector<Tensor>& xs) {
        const Tensor& x = xs[0];
        if (x.rank() < opts.axes)
          throw ShapeError("nn.layer_norm", "normalises the last " + std::to_string(opts.axes) + " axes of " + x.shape().str());
        std::vector<int> reduce;
        std::vector<int64_t> pdims;
        for (int d = x.rank() - opts.axes; d < x.rank(); ++d) {
          reduce.push_back(d);
          pdims.push_back(x.shape()[d]);
        }
        const DType sd = stats_dtype(x.dtype());
        Tensor xf = as_type(x, sd);
        Tensor m = mean(xf, {.axes = reduce, .keep_axes = true});
        Tensor v = mean(square(xf - m), {.axes = reduce, .keep_axes = true});
        Tensor y = normalized(xf, m, v, opts.epsilon);
        if (opts.affine)
          y = y * as_type(s.param("weight", Shape(pdims), initializers::ones()), sd) +
              as_type(s.param("bias", Shape(pdims), initializers::zeros()), sd);
        return as_type(y, x.dtype());
      },
      1, detail::options_str({{"axes", opts.axes == 1 ? "" : std::to_string(opts.axes)}, {"epsilon", number_str(opts.epsilon)}}));
}

Layer group_norm(int64_t groups, GroupNormOpts opts, Where where) {
  if (groups < 1) throw ValueError("nn.group_norm", "groups must be positive", where);
  if (!(opts.epsilon > 0)) throw ValueError("nn.group_norm", "epsilon must be positive", where);
  return layer(
      "group_norm",
      [groups, opts](Scope& s, const std::vector<Tensor>& xs) {
        const Tensor& x = xs[0];
        if (x.rank() < 2 || x.shape()[1] % groups)
          throw ShapeError("nn.group_norm", "expects (N, C, ...) with C a multiple of " + std::to_string(groups) +
                                                ", given " + x.shape().str());
        const int64_t n = x.shape()[0], c = x.shape()[1];
        const DType sd = stats_dtype(x.dtype());
        Tensor g = reshape(as_type(x, sd), {n, groups, n == 0 ? 0 : x.size() / (n * groups)});
        Tensor m = mean(g, {.axes = 2, .keep_axes = true});
        Tensor v = mean(square(g - m), {.axes = 2, .keep_axes = true});
        Tensor y = reshape(normalized(g, m, v, opts.epsilon), x.shape());
        if (opts.affine) {
          const Shape bshape(channel_dims(x, 1));
          y = y * reshape(as_type(s.param("weight", {c}, initializers::ones()), sd), bshape) +
              reshape(as_type(s.param("bias", {c}, initializers::zeros()), sd), bshape);
        }
        return as_type(y, x.dtype());
      },
      1, "groups=" + std::to_string(groups));
}

}  // namespace nx::nn
