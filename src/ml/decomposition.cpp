#include "nx/ml/decomposition.hpp"

#include <algorithm>

#include "ml/check.hpp"
#include "nx/nx.hpp"

namespace nx::ml {
namespace {

// svd_flip(u_based_decision=False)'s signs [k, 1]: each row of vt's largest-magnitude
// entry positive (the first of equal ones, as numpy's argmax); a zero row stays as it is.
Tensor flip_signs(const Tensor& vt) {
  Tensor at = argmax(abs(vt), {.axis = 1, .keep_axes = true});
  Tensor sign = nx::sign(take_along_axis(vt, at, 1));
  return nx::where(sign == 0.0, ones_like(sign), sign);
}
// vt's rows so flipped, u's matching columns with them.
std::pair<Tensor, Tensor> flip_by_vt(const Tensor& u, const Tensor& vt) {
  Tensor sign = flip_signs(vt);
  return {u * transpose(sign), vt * sign};
}

// randomized_svd without the checks (k, p, iters valid; a a float matrix).
std::tuple<Tensor, Tensor, Tensor> sketch_svd(const Tensor& a, int64_t k, int64_t p, int64_t iters, uint64_t seed) {
  // The sketch multiplies by the smaller side: on a^T when a is wide, as scikit-learn.
  bool wide = a.dim(0) < a.dim(1);
  Tensor m = wide ? transpose(a) : a;
  if (iters < 0) iters = 10 * k < std::min(m.dim(0), m.dim(1)) ? 7 : 4;
  Tensor q = random::normal(random::key(static_cast<int64_t>(seed)), {m.dim(1), k + p}, {.dtype = m.dtype()});
  // Power iterations sharpen the sketch toward the top singular vectors; QR between the
  // products keeps the small ones from drowning in rounding.
  for (int64_t i = 0; i < iters; ++i) {
    q = linalg::qr(dot(m, q)).first;
    q = linalg::qr(dot(transpose(m), q)).first;
  }
  q = linalg::qr(dot(m, q)).first;  // an orthonormal basis of m's approximate range
  auto [uhat, s, vt] = linalg::svd(dot(transpose(q), m), {.full_matrices = false});
  Tensor u = slice(dot(q, uhat), {0, 0}, {m.dim(0), k});
  vt = slice(vt, {0, 0}, {k, m.dim(1)});
  s = slice(s, {0}, {k});
  if (wide) std::tie(u, vt) = std::pair{transpose(vt), transpose(u)};
  auto [fu, fvt] = flip_by_vt(u, vt);
  return {fu, s, fvt};
}

void check_sketch(int64_t iters, int64_t oversamples, int64_t least_oversamples, const std::string& who, Where where) {
  if (iters < -1) throw ValueError(who, "n_iter must be >= 0 (or -1 for automatic), got " + std::to_string(iters), where);
  if (oversamples < least_oversamples)
    throw ValueError(who, "n_oversamples must be >= " + std::to_string(least_oversamples) + ", got " +
                              std::to_string(oversamples),
                     where);
}

}  // namespace

std::tuple<Tensor, Tensor, Tensor> randomized_svd(const Tensor& a, int64_t components, RandomizedSvdOpts opts,
                                                  Where where) {
  const std::string who = "randomized_svd";
  Tensor f = detail::features(a, who, where);
  int64_t most = std::min(f.dim(0), f.dim(1));
  if (components < 1 || components > most)
    throw ValueError(who, "components must be between 1 and min(rows, columns) = " + std::to_string(most) + ", got " +
                              std::to_string(components),
                     where);
  check_sketch(opts.n_iter, opts.n_oversamples, 0, who, where);
  return sketch_svd(f, components, opts.n_oversamples, opts.n_iter, opts.seed);
}

PCA PCA::fit(const Tensor& x, PCAOpts opts, Where where) {
  const std::string who = "PCA.fit";
  Tensor f = detail::features(x, who, where, /*nan_ok=*/true);  // checked through the mean below
  int64_t n = f.dim(0), d = f.dim(1), most = std::min(n, d);
  int64_t k = opts.components == 0 ? most : opts.components;
  if (k < 1 || k > most)
    throw ValueError(who, "components must be between 1 and min(samples, features) = " + std::to_string(most) +
                              ", got " + std::to_string(opts.components),
                     where);
  if (n < 2) throw ValueError(who, "needs at least 2 samples, got 1", where);
  check_sketch(opts.n_iter, opts.n_oversamples, 1, who, where);
  PCASolver solver = opts.solver;
  if (solver == PCASolver::auto_) {
    bool tall = d <= 1000 && n >= 10 * d, small = std::max(n, d) <= 500;
    solver = small                 ? PCASolver::full
             : tall                ? PCASolver::covariance_eigh
             : 5 * k < 4 * most    ? PCASolver::randomized
                                   : PCASolver::full;
  }
  Tensor mean = nx::mean(f, {.axes = {0}});
  detail::check_finite({mean}, who, where);
  // The fitted state from the components' squared singular values and the total sum of
  // squares of the centred data (the variances divide both by n - 1).
  auto fitted = [&](const Tensor& components, const Tensor& s2, const Tensor& total) {
    Tensor var = s2 / static_cast<double>(n - 1);
    return PCA{.whiten = opts.whiten,
               .solver = solver,
               .mean = mean,
               .components = components,
               .explained_variance = var,
               .explained_variance_ratio = var / (total / static_cast<double>(n - 1)),
               .singular_values = sqrt(s2)};
  };
  if (solver == PCASolver::covariance_eigh) {
    // Eigenvalues of centered^T centered are the squared singular values (ascending). As
    // scikit-learn, from x^T x - n mean mean^T: no centred copy of x, and the product
    // contracts the samples axis of x with itself in place (a transpose would copy it).
    Tensor gram = dot(f, {0}, f, {0}) - static_cast<double>(n) * (expand_dims(mean, 1) * expand_dims(mean, 0));
    // Only the k largest eigenpairs (LAPACK skips the rest: 25 against 46 ms for 50 of
    // 784); the total variance is the trace.
    auto [w, v] = linalg::eigh(gram, {.largest = k});
    Tensor vt = transpose(reverse(v, {1}));
    return fitted(vt * flip_signs(vt), max(reverse(w, {0}), 0.0), sum(gram * eye(d, gram.dtype())));
  }
  Tensor centered = f - mean;
  if (solver == PCASolver::randomized) {
    auto [u, s, vt] = sketch_svd(centered, k, opts.n_oversamples, opts.n_iter, opts.seed);
    // The sketch sees only k directions: the total variance comes from the data itself.
    return fitted(vt, s * s, sum(centered * centered));
  }
  auto [u, s, vt] = linalg::svd(centered, {.full_matrices = false});
  vt = flip_by_vt(u, vt).second;
  Tensor s2 = s * s;
  return fitted(slice(vt, {0, 0}, {k, d}), slice(s2, {0}, {k}), sum(s2));
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
