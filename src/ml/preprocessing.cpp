#include "nx/ml/preprocessing.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

#include "ml/check.hpp"
#include "nx/nx.hpp"

namespace nx::ml {
namespace {

using detail::features;
using detail::nonzero_scale;

// One compiled graph per input signature: a scaler over 60000 x 784 reads its input once
// per pass instead of once per op. (Made on first use: nx::jit needs the backends.)
std::pair<Tensor, Tensor> standard_moments(const Tensor& x) {
  static const auto f = jit([](const Tensor& v) {
    Tensor mean = nx::mean(v, {.axes = {0}});
    Tensor centered = v - mean;
    return std::pair{mean, nx::mean(centered * centered, {.axes = {0}})};
  });
  return f(x);
}
Tensor shift_scale(const Tensor& x, const Tensor& shift, const Tensor& scale) {
  static const auto f = jit([](const Tensor& v, const Tensor& s, const Tensor& k) { return (v - s) / k; });
  return f(x, shift, scale);
}
Tensor scale_shift(const Tensor& x, const Tensor& scale, const Tensor& shift) {
  static const auto f = jit([](const Tensor& v, const Tensor& k, const Tensor& s) { return v * k + s; });
  return f(x, scale, shift);
}

Tensor like(const Tensor& x, const Tensor& state) { return as_type(state, x.dtype()); }

}  // namespace

StandardScaler StandardScaler::fit(const Tensor& x, StandardScalerOpts opts, Where where) {
  // NaN in x makes its column's mean NaN, infinity its variance: checking the moments
  // spares features() a pass over x.
  Tensor f = features(x, "StandardScaler.fit", where, /*nan_ok=*/true);
  auto [mean, var] = standard_moments(f);
  detail::check_finite({mean, var}, "StandardScaler.fit", where);
  Tensor scale = opts.with_std ? nonzero_scale(sqrt(var)) : ones_like(var);
  return {.with_mean = opts.with_mean, .with_std = opts.with_std, .mean = mean, .var = var, .scale = scale};
}

Tensor StandardScaler::transform(const Tensor& x, Where where) const {
  Tensor f = features(x, mean.dim(0), "StandardScaler.transform", where, /*nan_ok=*/true);
  return shift_scale(f, like(f, with_mean ? mean : zeros_like(mean)), like(f, scale));
}

Tensor StandardScaler::inverse_transform(const Tensor& x, Where where) const {
  Tensor f = features(x, mean.dim(0), "StandardScaler.inverse_transform", where, /*nan_ok=*/true);
  return scale_shift(f, like(f, scale), like(f, with_mean ? mean : zeros_like(mean)));
}

MinMaxScaler MinMaxScaler::fit(const Tensor& x, MinMaxScalerOpts opts, Where where) {
  if (!(opts.feature_min < opts.feature_max))
    throw ValueError("MinMaxScaler.fit", "feature_min must be below feature_max, got " +
                                             std::to_string(opts.feature_min) + " and " + std::to_string(opts.feature_max),
                     where);
  Tensor f = features(x, "MinMaxScaler.fit", where);
  Tensor lo = reduce_min(f, {.axes = {0}}), hi = reduce_max(f, {.axes = {0}});
  // As scikit-learn: scale = range / (max - min), offset = feature_min - min * scale.
  Tensor scale = (opts.feature_max - opts.feature_min) / nonzero_scale(hi - lo);
  return {.clip = opts.clip,
          .feature_min = opts.feature_min,
          .feature_max = opts.feature_max,
          .data_min = lo,
          .data_max = hi,
          .scale = scale,
          .offset = opts.feature_min - lo * scale};
}

Tensor MinMaxScaler::transform(const Tensor& x, Where where) const {
  Tensor f = features(x, scale.dim(0), "MinMaxScaler.transform", where);
  Tensor y = scale_shift(f, like(f, scale), like(f, offset));
  return clip ? nx::clip(y, feature_min, feature_max) : y;
}

Tensor MinMaxScaler::inverse_transform(const Tensor& x, Where where) const {
  Tensor f = features(x, scale.dim(0), "MinMaxScaler.inverse_transform", where);
  return shift_scale(f, like(f, offset), like(f, scale));
}

MaxAbsScaler MaxAbsScaler::fit(const Tensor& x, Where where) {
  Tensor f = features(x, "MaxAbsScaler.fit", where);
  Tensor m = reduce_max(abs(f), {.axes = {0}});
  return {.max_abs = m, .scale = nonzero_scale(m)};
}

Tensor MaxAbsScaler::transform(const Tensor& x, Where where) const {
  Tensor f = features(x, scale.dim(0), "MaxAbsScaler.transform", where);
  return f / like(f, scale);
}

Tensor MaxAbsScaler::inverse_transform(const Tensor& x, Where where) const {
  Tensor f = features(x, scale.dim(0), "MaxAbsScaler.inverse_transform", where);
  return f * like(f, scale);
}

RobustScaler RobustScaler::fit(const Tensor& x, RobustScalerOpts opts, Where where) {
  if (!(0 <= opts.q_min && opts.q_min < opts.q_max && opts.q_max <= 100))
    throw ValueError("RobustScaler.fit", "needs 0 <= q_min < q_max <= 100, got " + std::to_string(opts.q_min) + " and " +
                                             std::to_string(opts.q_max),
                     where);
  Tensor f = features(x, "RobustScaler.fit", where);
  int64_t n = f.dim(1);
  Tensor center = opts.with_centering ? median(f, {.axes = {0}}) : zeros({n}, f.dtype());
  Tensor scale = ones({n}, f.dtype());
  if (opts.with_scaling) {
    Tensor q = quantile(f, from_vector(std::vector<double>{opts.q_min / 100, opts.q_max / 100}, {2}), {.axes = {0}});
    scale = nonzero_scale(q[1] - q[0]);
  }
  return {.with_centering = opts.with_centering, .with_scaling = opts.with_scaling, .center = center, .scale = scale};
}

Tensor RobustScaler::transform(const Tensor& x, Where where) const {
  Tensor f = features(x, scale.dim(0), "RobustScaler.transform", where);
  return shift_scale(f, like(f, center), like(f, scale));
}

Tensor RobustScaler::inverse_transform(const Tensor& x, Where where) const {
  Tensor f = features(x, scale.dim(0), "RobustScaler.inverse_transform", where);
  return scale_shift(f, like(f, scale), like(f, center));
}

SimpleImputer SimpleImputer::fit(const Tensor& x, SimpleImputerOpts opts, Where where) {
  Tensor f = features(x, "SimpleImputer.fit", where, /*nan_ok=*/true);
  int64_t n = f.dim(0), d = f.dim(1);
  if (opts.strategy == ImputeStrategy::constant) return {full({d}, opts.fill_value, f.dtype())};
  // Per feature, its present values, sorted (on the host: medians and modes of columns
  // with different counts of NaN).
  std::vector<double> values = f.to_vector<double>(), stats(static_cast<size_t>(d));
  std::vector<double> column;
  for (int64_t j = 0; j < d; ++j) {
    column.clear();
    for (int64_t i = 0; i < n; ++i)
      if (double v = values[static_cast<size_t>(i * d + j)]; !std::isnan(v)) column.push_back(v);
    if (column.empty())
      throw ValueError("SimpleImputer.fit", "feature " + std::to_string(j) + " has no value that is not NaN", where);
    std::sort(column.begin(), column.end());
    size_t m = column.size();
    double& out = stats[static_cast<size_t>(j)];
    if (opts.strategy == ImputeStrategy::mean) out = std::accumulate(column.begin(), column.end(), 0.0) / double(m);
    else if (opts.strategy == ImputeStrategy::median) out = (column[(m - 1) / 2] + column[m / 2]) / 2;
    else {  // the longest run of equal values; the first (smallest) on ties
      size_t best = 0, best_len = 0;
      for (size_t i = 0; i < m;) {
        size_t k = i;
        while (k < m && column[k] == column[i]) ++k;
        if (k - i > best_len) best = i, best_len = k - i;
        i = k;
      }
      out = column[best];
    }
  }
  return {as_type(from_vector(stats, {d}), f.dtype())};
}

Tensor SimpleImputer::transform(const Tensor& x, Where where) const {
  Tensor f = features(x, statistics.dim(0), "SimpleImputer.transform", where, /*nan_ok=*/true);
  return nx::where(is_nan(f), as_type(statistics, f.dtype()), f);
}

Tensor normalize(const Tensor& x, Norm norm, Where where) {
  Tensor f = features(x, "normalize", where);
  Tensor a = abs(f);
  Tensor n = norm == Norm::l1 ? sum(a, {.axes = {1}, .keep_axes = true})
             : norm == Norm::l2 ? sqrt(sum(f * f, {.axes = {1}, .keep_axes = true}))
                                : reduce_max(a, {.axes = {1}, .keep_axes = true});
  return f / nonzero_scale(n);
}

}  // namespace nx::ml
