#include "nx/ml/decomposition.hpp"

#include <algorithm>

#include "ml/check.hpp"
#include "nx/nx.hpp"

namespace nx::ml {

PCA PCA::fit(const Tensor& x, PCAOpts opts, Where where) {
  Tensor f = detail::features(x, "PCA.fit", where);
  int64_t n = f.dim(0), d = f.dim(1), most = std::min(n, d);
  int64_t k = opts.components == 0 ? most : opts.components;
  if (k < 1 || k > most)
    throw ValueError("PCA.fit", "components must be between 1 and min(samples, features) = " + std::to_string(most) +
                                    ", got " + std::to_string(opts.components),
                     where);
  if (n < 2) throw ValueError("PCA.fit", "needs at least 2 samples, got 1", where);
  Tensor mean = nx::mean(f, {.axes = {0}});
  auto [u, s, vt] = linalg::svd(f - mean, {.full_matrices = false});
  // svd_flip on vt: the largest-magnitude loading of each component positive.
  Tensor at = argmax(abs(vt), {.axis = 1, .keep_axes = true});
  Tensor sign = nx::sign(take_along_axis(vt, at, 1));
  vt = vt * nx::where(sign == 0.0, ones_like(sign), sign);
  Tensor var = s * s / static_cast<double>(n - 1);
  Tensor ratio = var / sum(var);
  Tensor keep = slice(var, {0}, {k});
  return {.whiten = opts.whiten,
          .mean = mean,
          .components = slice(vt, {0, 0}, {k, d}),
          .explained_variance = keep,
          .explained_variance_ratio = slice(ratio, {0}, {k}),
          .singular_values = slice(s, {0}, {k})};
}

Tensor PCA::transform(const Tensor& x, Where where) const {
  Tensor f = detail::features(x, components.dim(1), "PCA.transform", where);
  Tensor c = as_type(components, f.dtype());
  Tensor z = dot(f - as_type(mean, f.dtype()), transpose(c));
  return whiten ? z / sqrt(as_type(explained_variance, f.dtype())) : z;
}

Tensor PCA::inverse_transform(const Tensor& z, Where where) const {
  Tensor g = detail::features(z, components.dim(0), "PCA.inverse_transform", where);
  Tensor c = as_type(components, g.dtype());
  if (whiten) g = g * sqrt(as_type(explained_variance, g.dtype()));
  return dot(g, c) + as_type(mean, g.dtype());
}

}  // namespace nx::ml
