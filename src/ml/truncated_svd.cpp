#include <algorithm>

#include "ml/check.hpp"
#include "nx/ml/decomposition.hpp"
#include "nx/nx.hpp"

namespace nx::ml {

TruncatedSVD TruncatedSVD::fit(const Tensor& x, TruncatedSVDOpts opts, Where where) {
  const std::string who = "TruncatedSVD.fit";
  Tensor f = detail::features(x, who, where);
  int64_t n = f.dim(0), d = f.dim(1), most = std::min(n, d), k = opts.components;
  // scikit-learn allows up to `features` for the randomized solver, but beyond min(samples,
  // features) it returns fewer singular values than asked: refused here instead.
  if (k < 1 || k > most)
    throw ValueError(who, "components must be between 1 and min(samples, features) = " + std::to_string(most) +
                              ", got " + std::to_string(k),
                     where);
  if (opts.n_iter < 0) throw ValueError(who, "n_iter must be >= 0, got " + std::to_string(opts.n_iter), where);
  if (opts.n_oversamples < 1)
    throw ValueError(who, "n_oversamples must be >= 1, got " + std::to_string(opts.n_oversamples), where);
  Tensor s, vt;
  if (opts.algorithm == TruncatedSVDAlgorithm::randomized) {
    std::tie(std::ignore, s, vt) =
        randomized_svd(f, k, {.n_oversamples = opts.n_oversamples, .n_iter = opts.n_iter, .seed = opts.seed}, where);
  } else {
    auto [u, full_s, full_vt] = linalg::svd(f, {.full_matrices = false});
    s = slice(full_s, {0}, {k});
    vt = slice(full_vt, {0, 0}, {k, d});
    // svd_flip(u_based_decision=False), as scikit-learn's TruncatedSVD (to agree with PCA).
    Tensor at = argmax(abs(vt), {.axis = 1, .keep_axes = true});
    Tensor sign = nx::sign(take_along_axis(vt, at, 1));
    vt = vt * nx::where(sign == 0.0, ones_like(sign), sign);
  }
  // As scikit-learn: the variance of the projection x vt^T (not s^2 / n: x is not centred,
  // so the mean of each projection counts against it), over the summed feature variances.
  Tensor z = dot(f, transpose(vt));
  Tensor zc = z - nx::mean(z, {.axes = {0}});
  Tensor var = nx::mean(zc * zc, {.axes = {0}});
  Tensor fc = f - nx::mean(f, {.axes = {0}});
  Tensor total = sum(nx::mean(fc * fc, {.axes = {0}}));
  return {.components = vt, .explained_variance = var, .explained_variance_ratio = var / total, .singular_values = s};
}

Tensor TruncatedSVD::transform(const Tensor& x, Where where) const {
  Tensor f = detail::features(x, components.dim(1), "TruncatedSVD.transform", where);
  return dot(f, transpose(as_type(components, f.dtype())));
}

Tensor TruncatedSVD::inverse_transform(const Tensor& z, Where where) const {
  Tensor g = detail::features(z, components.dim(0), "TruncatedSVD.inverse_transform", where);
  return dot(g, as_type(components, g.dtype()));
}

}  // namespace nx::ml
