// Parameter initializers (Axon.Initializers, torch.nn.init): each returns an nn::Initializer,
// a function (key, shape, dtype) -> tensor, reproducible from the key.
//
// Fans follow PyTorch's layouts: for a weight (out, in, spatial...) fan_in = in * spatial,
// fan_out = out * spatial; a 1-d shape has fan_in = fan_out = its size.
#pragma once
#include "nx/nn/model.hpp"

namespace nx::nn::initializers {

Initializer zeros();
Initializer ones();
Initializer full(double value);
Initializer uniform(double min = -0.05, double max = 0.05);
Initializer normal(double mean = 0.0, double stddev = 0.05);

enum class FanMode { fan_in, fan_out, fan_avg };
enum class Distribution { uniform, normal, truncated_normal };
struct VarianceScalingOpts {
  ::nx::detail::NamedFieldsOnly named_fields_only;
  double scale = 1.0;
  FanMode mode = FanMode::fan_in;
  Distribution distribution = Distribution::truncated_normal;
};
// Samples with variance scale / fan (jax.nn.initializers.variance_scaling).
Initializer variance_scaling(VarianceScalingOpts opts = {});

Initializer glorot_uniform(double scale = 1.0);  // Xavier: variance scale / fan_avg
Initializer glorot_normal(double scale = 1.0);
Initializer he_uniform(double scale = 2.0);      // Kaiming: variance 2 / fan_in
Initializer he_normal(double scale = 2.0);
Initializer lecun_uniform(double scale = 1.0);   // variance 1 / fan_in
Initializer lecun_normal(double scale = 1.0);
// A (semi-)orthogonal matrix over (shape[0], product of the rest), times gain.
Initializer orthogonal(double gain = 1.0);

// fan_in and fan_out of a parameter shape, as above.
std::pair<double, double> fans(const Shape& shape);

}  // namespace nx::nn::initializers
