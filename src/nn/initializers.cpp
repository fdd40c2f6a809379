// Parameter initializers: distributions scaled by the parameter's fans.
#include "nx/nn/initializers.hpp"

#include <cmath>

#include "nx/composites.hpp"
#include "nx/linalg.hpp"
#include "nx/ops.hpp"
#include "nx/random.hpp"

namespace nx::nn::initializers {

Initializer zeros() {
  return [](const Tensor&, const Shape& shape, DType dtype) { return nx::zeros(shape, dtype); };
}
Initializer ones() {
  return [](const Tensor&, const Shape& shape, DType dtype) { return nx::ones(shape, dtype); };
}
Initializer full(double value) {
  return [value](const Tensor&, const Shape& shape, DType dtype) { return nx::full(shape, value, dtype); };
}

namespace {
// Random values are drawn in f32 (or f64) and cast, so bf16 parameters match f32 ones rounded.
DType draw_dtype(DType dtype) { return dtype == f64 ? f64 : f32; }
}  // namespace

Initializer uniform(double min, double max) {
  return [min, max](const Tensor& key, const Shape& shape, DType dtype) {
    return as_type(random::uniform(key, shape, {.dtype = draw_dtype(dtype), .min = min, .max = max}), dtype);
  };
}
Initializer normal(double mean, double stddev) {
  return [mean, stddev](const Tensor& key, const Shape& shape, DType dtype) {
    return as_type(random::normal(key, shape, {.dtype = draw_dtype(dtype), .mean = mean, .stddev = stddev}), dtype);
  };
}

std::pair<double, double> fans(const Shape& shape) {
  if (shape.rank() == 0) return {1, 1};
  if (shape.rank() == 1) return {double(shape[0]), double(shape[0])};
  double receptive = 1;
  for (int d = 2; d < shape.rank(); ++d) receptive *= double(shape[d]);
  return {shape[1] * receptive, shape[0] * receptive};
}

Initializer variance_scaling(VarianceScalingOpts opts) {
  return [opts](const Tensor& key, const Shape& shape, DType dtype) {
    auto [fan_in, fan_out] = fans(shape);
    const double fan = opts.mode == FanMode::fan_in    ? fan_in
                       : opts.mode == FanMode::fan_out ? fan_out
                                                       : (fan_in + fan_out) / 2;
    const double variance = opts.scale / std::max(1.0, fan);
    const DType d = draw_dtype(dtype);
    Tensor v;
    switch (opts.distribution) {
      case Distribution::uniform: {
        const double limit = std::sqrt(3 * variance);
        v = random::uniform(key, shape, {.dtype = d, .min = -limit, .max = limit});
        break;
      }
      case Distribution::normal:
        v = random::normal(key, shape, {.dtype = d, .stddev = std::sqrt(variance)});
        break;
      case Distribution::truncated_normal:
        // The stddev of a standard normal truncated to (-2, 2), so the variance comes out right.
        v = random::truncated_normal(key, -2.0, 2.0, shape, {.dtype = d}) * (std::sqrt(variance) / .87962566103423978);
        break;
    }
    return as_type(v, dtype);
  };
}

Initializer glorot_uniform(double scale) {
  return variance_scaling({.scale = scale, .mode = FanMode::fan_avg, .distribution = Distribution::uniform});
}
Initializer glorot_normal(double scale) {
  return variance_scaling({.scale = scale, .mode = FanMode::fan_avg, .distribution = Distribution::truncated_normal});
}
Initializer he_uniform(double scale) {
  return variance_scaling({.scale = scale, .mode = FanMode::fan_in, .distribution = Distribution::uniform});
}
Initializer he_normal(double scale) {
  return variance_scaling({.scale = scale, .mode = FanMode::fan_in, .distribution = Distribution::truncated_normal});
}
Initializer lecun_uniform(double scale) {
  return variance_scaling({.scale = scale, .mode = FanMode::fan_in, .distribution = Distribution::uniform});
}
Initializer lecun_normal(double scale) {
  return variance_scaling({.scale = scale, .mode = FanMode::fan_in, .distribution = Distribution::truncated_normal});
}

Initializer orthogonal(double gain) {
  return [gain](const Tensor& key, const Shape& shape, DType dtype) {
    if (shape.rank() < 2) throw ShapeError("nn.initializers.orthogonal", "needs rank >= 2, given " + shape.str());
    const int64_t rows = shape[0];
    const int64_t cols = shape.size() / rows;
    // QR of a normal matrix taller than wide; signs fixed by r's diagonal so q is uniform.
    const bool wide = rows < cols;
    const int64_t m = wide ? cols : rows, n = wide ? rows : cols;
    Tensor a = random::normal(key, {m, n}, {.dtype = f64});
    auto [q, r] = linalg::qr(a);
    Tensor diag = sum(r * eye(n, f64), 0);
    q = q * sign(diag);
    if (wide) q = transpose(q);
    return as_type(reshape(q * gain, shape), dtype);
  };
}

}  // namespace nx::nn::initializers
