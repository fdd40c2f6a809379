#include "nx/ml/mixture.hpp"

#include <cmath>
#include <limits>
#include <numbers>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "ml/check.hpp"
#include "ml/legacy_random.hpp"
#include "nx/ml/cluster.hpp"
#include "nx/nx.hpp"

namespace nx::ml {
namespace {

using CT = CovarianceType;

double machine_epsilon(DType dt) {
  return dt == DType::f64 ? std::numeric_limits<double>::epsilon() : std::numeric_limits<float>::epsilon();
}

// The diagonals of a stack of square matrices [..., d, d] as [..., d].
Tensor diagonals(const Tensor& m) {
  int64_t d = m.dim(-1);
  std::vector<int64_t> flat = m.shape().to_vector();
  flat.pop_back();
  flat.back() = d * d;
  Tensor picks = iota({d}, DType::i64) * (d + 1);
  return take(reshape(m, Shape(flat)), picks, m.rank() - 2);
}

// Rows and columns reversed: with it the Cholesky factor of a precision matrix becomes
// upper triangular (scikit-learn's _compute_precision_cholesky_from_precisions).
Tensor flipped(const Tensor& m) { return reverse(m, {m.rank() - 2, m.rank() - 1}); }

// log N(x | mean_k, covariance_k) for each sample and component, [n, k], from the
// precisions' Cholesky factors, in the forms scikit-learn's _estimate_log_gaussian_prob
// uses for each covariance type.
Tensor log_gaussian(const Tensor& x, const Tensor& means, const Tensor& pc, CT type) {
  int64_t d = x.dim(1);
  Tensor squared, log_det;
  switch (type) {
    case CT::full: {
      Tensor y = dot(x, {1}, pc, {1}) - expand_dims(dot(means, {1}, {0}, pc, {1}, {0}), 0);  // [n, k, d]
      squared = sum(y * y, {.axes = {2}});
      log_det = sum(log(diagonals(pc)), {.axes = {1}});
      break;
    }
    case CT::tied: {
      Tensor y = expand_dims(dot(x, pc), 1) - expand_dims(dot(means, pc), 0);  // [n, k, d]
      squared = sum(y * y, {.axes = {2}});
      log_det = sum(log(diagonals(pc)));
      break;
    }
    case CT::diag: {
      Tensor prec = pc * pc;
      squared = sum(means * means * prec, {.axes = {1}}) - 2.0 * dot(x, transpose(means * prec)) +
                dot(x * x, transpose(prec));
      log_det = sum(log(pc), {.axes = {1}});
      break;
    }
    case CT::spherical: {
      Tensor prec = pc * pc;
      squared = sum(means * means, {.axes = {1}}) * prec - 2.0 * dot(x, transpose(means)) * prec +
                expand_dims(sum(x * x, {.axes = {1}}), 1) * prec;
      log_det = static_cast<double>(d) * log(pc);
      break;
    }
  }
  return -0.5 * (static_cast<double>(d) * std::log(2 * std::numbers::pi) + squared) + log_det;
}

Tensor weighted_log_prob(const Tensor& x, const Tensor& weights, const Tensor& means, const Tensor& pc, CT type) {
  return log_gaussian(x, means, pc, type) + log(weights);
}

// The M step's estimates from responsibilities resp [n, k] (scikit-learn's
// _estimate_gaussian_parameters): the soft counts (plus 10 epsilons, so that an empty
// component divides by something), means, and covariances with reg_covar on the diagonal.
std::tuple<Tensor, Tensor, Tensor> estimate(const Tensor& x, const Tensor& resp, double reg, CT type) {
  int64_t d = x.dim(1);
  Tensor nk = sum(resp, {.axes = {0}}) + 10 * machine_epsilon(x.dtype());
  Tensor means = dot(transpose(resp), x) / expand_dims(nk, 1);
  Tensor cov;
  switch (type) {
    case CT::full: {
      Tensor diff = expand_dims(x, 1) - expand_dims(means, 0);  // [n, k, d]
      Tensor scatter = dot(expand_dims(resp, 2) * diff, {0}, {1}, diff, {0}, {1});  // [k, d, d]
      cov = scatter / reshape(nk, {nk.dim(0), 1, 1}) + reg * eye(d, x.dtype());
      break;
    }
    case CT::tied: {
      Tensor spread = dot(transpose(x), x) - dot(transpose(means) * nk, means);
      cov = spread / sum(nk) + reg * eye(d, x.dtype());
      break;
    }
    case CT::diag:
    case CT::spherical: {
      Tensor second = dot(transpose(resp), x * x) / expand_dims(nk, 1);
      cov = second - means * means + reg;
      if (type == CT::spherical) cov = mean(cov, {.axes = {1}});
      break;
    }
  }
  return {nk, means, cov};
}

// U upper triangular with U U^T = covariance^-1: the transposed inverse of the
// covariance's Cholesky factor (NaN where the covariance is not positive definite).
Tensor precision_cholesky(const Tensor& cov, CT type) {
  if (type == CT::diag || type == CT::spherical) return 1.0 / sqrt(cov);
  Tensor l = linalg::cholesky(cov);
  Tensor inverse = linalg::triangular_solve(l, broadcast(eye(cov.dim(-1), cov.dtype()), cov.shape()));
  return type == CT::full ? transpose(inverse, {0, 2, 1}) : transpose(inverse);
}

Tensor precision_cholesky_from_precisions(const Tensor& p, CT type) {
  if (type == CT::diag || type == CT::spherical) return sqrt(p);
  return flipped(linalg::cholesky(flipped(p)));
}

Tensor precisions_of(const Tensor& pc, CT type) {
  switch (type) {
    case CT::full: return dot(pc, {2}, {0}, pc, {2}, {0});
    case CT::tied: return dot(pc, transpose(pc));
    default: return pc * pc;
  }
}

// The settings of one start: static arguments of the compiled graph.
struct EmSettings {
  CT type;
  bool given_weights, given_means, given_precisions;
  double reg, tol;
  int64_t max_iter;
  bool operator==(const EmSettings&) const = default;
};

// One start (scikit-learn's _initialize, then its EM loop): the parameters from the
// responsibilities resp unless given, then E and M steps until the lower bound (the mean
// log-likelihood, computed in the E step, so before the M step) changes by less than tol.
// A NaN lower bound stops the loop too (its change compares false).
auto em(const Tensor& x, const Tensor& resp, const Tensor& w_init, const Tensor& m_init, const Tensor& p_init,
        const EmSettings& s) {
  auto [nk, means0, cov0] = estimate(x, resp, s.reg, s.type);
  Tensor w = s.given_weights ? w_init : nk / static_cast<double>(x.dim(0));
  Tensor m = s.given_means ? m_init : means0;
  Tensor pc =
      s.given_precisions ? precision_cholesky_from_precisions(p_init, s.type) : precision_cholesky(cov0, s.type);
  const double inf = std::numeric_limits<double>::infinity();
  auto state = std::tuple{w, m, zeros_like(pc), pc, full({}, -inf, x.dtype()), full({}, inf, x.dtype()),
                          scalar(int64_t{0}, DType::i64)};
  auto [weights, means, cov, chol, bound, change, iterations] = while_loop(
      state,
      [&](const auto& st) { return logical_and(std::get<6>(st) < s.max_iter, std::get<5>(st) >= s.tol); },
      [&](const auto& st) {
        auto [sw, sm, scov, spc, lb, ch, it] = st;
        Tensor wlp = weighted_log_prob(x, sw, sm, spc, s.type);
        Tensor norm = logsumexp(wlp, {.axes = {1}, .keep_axes = true});
        Tensor next_lb = mean(norm);
        auto [counts, next_means, next_cov] = estimate(x, exp(wlp - norm), s.reg, s.type);
        return std::tuple{counts / sum(counts), next_means, next_cov, precision_cholesky(next_cov, s.type), next_lb,
                          abs(next_lb - lb), it + int64_t{1}};
      });
  return std::tuple{weights, means, cov, chol, bound, iterations, change < s.tol};
}

std::string type_name(CT t) {
  switch (t) {
    case CT::full: return "full";
    case CT::tied: return "tied";
    case CT::diag: return "diag";
    default: return "spherical";
  }
}

// The shape covariances and precisions have for the covariance type.
Shape covariance_shape(CT t, int64_t k, int64_t d) {
  switch (t) {
    case CT::full: return {k, d, d};
    case CT::tied: return {d, d};
    case CT::diag: return {k, d};
    default: return {k};
  }
}

// The user's initial values, checked as scikit-learn checks them, in x's dtype.
struct Given {
  Tensor weights, means, precisions;
};
Given check_given(const GaussianMixtureOpts& o, int64_t d, DType dt, const std::string& who, Where where) {
  int64_t k = o.components;
  Given g;
  auto shaped = [&](const Tensor& t, const Shape& want, const std::string& name) {
    if (t.shape() != want)
      throw ValueError(who, name + " must have shape " + want.str() + ", got " + t.shape().str(), where);
    Tensor v = as_type(t, dt, where);
    if (any(is_nan(v)).item<bool>()) throw ValueError(who, name + " holds NaN", where);
    return v;
  };
  if (o.weights_init.defined()) {
    g.weights = shaped(o.weights_init, {k}, "weights_init");
    double atol = dt == DType::f64 ? 1e-8 : 1e-6;
    if (any(logical_or(g.weights < 0.0, g.weights > 1.0)).item<bool>() ||
        std::abs(1.0 - sum(g.weights).item<double>()) > atol)
      throw ValueError(who, "weights_init must lie in [0, 1] and sum to 1", where);
  }
  if (o.means_init.defined()) g.means = shaped(o.means_init, {k, d}, "means_init");
  if (o.precisions_init.defined()) {
    CT t = o.covariance_type;
    g.precisions = shaped(o.precisions_init, covariance_shape(t, k, d), "precisions_init");
    bool ok;
    if (t == CT::diag || t == CT::spherical) {
      ok = all(g.precisions > 0.0).item<bool>();
    } else {
      Tensor p = g.precisions, pt = t == CT::full ? transpose(p, {0, 2, 1}) : transpose(p);
      bool symmetric = all(abs(p - pt) <= 1e-8 + 1e-5 * abs(pt)).item<bool>();
      ok = symmetric && !any(is_nan(linalg::cholesky(p))).item<bool>();
    }
    if (!ok)
      throw ValueError(who, "precisions_init (" + type_name(t) + ") must be " +
                                (t == CT::full || t == CT::tied ? "symmetric positive definite" : "positive"),
                       where);
  }
  return g;
}

// The first responsibilities of a start [n, k], as scikit-learn's init_params. The first
// start's k-means takes the mixture's own seed: scikit-learn hands its RandomState to
// KMeans before drawing anything else, and KMeans draws as scikit-learn's
// (nx/ml/cluster.hpp), so a one-start fit starts, and ends, where scikit-learn's does.
Tensor first_responsibilities(const Tensor& x, int64_t k, GaussianMixtureInit init, const Tensor& key,
                              std::optional<uint64_t> kmeans_seed) {
  int64_t n = x.dim(0);
  switch (init) {
    case GaussianMixtureInit::kmeans: {
      uint64_t seed = kmeans_seed ? *kmeans_seed : random::bits(key, {1}).to_vector<uint32_t>()[0];  // 32-bit seeds
      Tensor labels = KMeans::fit(x, {.clusters = k, .n_init = 1, .seed = seed}).predict(x);
      return one_hot(labels, k, {.dtype = x.dtype()});
    }
    case GaussianMixtureInit::random: {
      Tensor u = random::uniform(key, {n, k}, {.dtype = x.dtype()});
      return u / sum(u, {.axes = {1}, .keep_axes = true});
    }
    default: {
      Tensor picks = slice(argsort(random::uniform(key, {n})), {0}, {k});
      return transpose(one_hot(picks, n, {.dtype = x.dtype()}));
    }
  }
}

}  // namespace

GaussianMixture GaussianMixture::fit(const Tensor& x, GaussianMixtureOpts opts, Where where) {
  const std::string who = "GaussianMixture.fit";
  Tensor f = detail::features(x, who, where);
  const int64_t n = f.dim(0), d = f.dim(1), k = opts.components;
  if (k < 1 || k > n)
    throw ValueError(who, "components must be between 1 and the number of samples (" + std::to_string(n) + "), got " +
                              std::to_string(k),
                     where);
  if (opts.n_init < 1 || opts.max_iter < 1 || !(opts.tol >= 0) || !(opts.reg_covar >= 0))
    throw ValueError(who, "needs n_init >= 1, max_iter >= 1, tol >= 0 and reg_covar >= 0", where);
  Given given = check_given(opts, d, f.dtype(), who, where);
  EmSettings settings{.type = opts.covariance_type,
                      .given_weights = given.weights.defined(),
                      .given_means = given.means.defined(),
                      .given_precisions = given.precisions.defined(),
                      .reg = opts.reg_covar,
                      .tol = opts.tol,
                      .max_iter = opts.max_iter};
  // Placeholders where nothing is given (the graph then ignores them).
  Tensor w0 = settings.given_weights ? given.weights : zeros({k}, f.dtype());
  Tensor m0 = settings.given_means ? given.means : zeros({k, d}, f.dtype());
  Tensor p0 =
      settings.given_precisions ? given.precisions : zeros(covariance_shape(opts.covariance_type, k, d), f.dtype());
  bool all_given = settings.given_weights && settings.given_means && settings.given_precisions;
  static const auto compiled = jit([](const Tensor& v, const Tensor& resp, const Tensor& w, const Tensor& m,
                                      const Tensor& p, const EmSettings& s) { return em(v, resp, w, m, p, s); });
  if (opts.init == GaussianMixtureInit::kmeans) detail::legacy_seed(opts.seed, who, where);  // KMeans's: below 2^32
  Tensor keys = random::split(random::key(static_cast<int64_t>(opts.seed)), opts.n_init);
  GaussianMixture best{.covariance_type = opts.covariance_type};
  double highest = -std::numeric_limits<double>::infinity();
  for (int64_t r = 0; r < opts.n_init; ++r) {
    // With every parameter given the responsibilities are not read: no k-means run.
    Tensor resp = all_given ? full({n, k}, 1.0 / static_cast<double>(k), f.dtype())
                            : first_responsibilities(f, k, opts.init, keys[r],
                                                     r == 0 ? std::optional<uint64_t>(opts.seed) : std::nullopt);
    auto [weights, means, cov, pc, bound, iterations, converged] = compiled(f, resp, w0, m0, p0, settings);
    double value = bound.item<double>();
    if (std::isnan(value) || any(is_nan(pc)).item<bool>())
      throw ValueError(who,
                       "fitting failed: some components have an ill-defined covariance (singleton or collapsed "
                       "samples); use fewer components, a larger reg_covar, or scaled data",
                       where);
    if (r == 0 || value > highest) {
      highest = value;
      best.weights = weights, best.means = means, best.covariances = cov, best.precisions_cholesky = pc;
      best.lower_bound = bound, best.iterations = iterations, best.converged = converged;
    }
  }
  best.precisions = precisions_of(best.precisions_cholesky, opts.covariance_type);
  return best;
}

namespace {
// x checked against the fitted features, and the weighted log-probabilities [n, k].
Tensor joint(const GaussianMixture& g, const Tensor& x, const std::string& who, Where where) {
  Tensor f = detail::features(x, g.means.dim(1), who, where);
  DType dt = f.dtype();
  return weighted_log_prob(f, as_type(g.weights, dt), as_type(g.means, dt), as_type(g.precisions_cholesky, dt),
                           g.covariance_type);
}
}  // namespace

Tensor GaussianMixture::predict(const Tensor& x, Where where) const {
  return argmax(joint(*this, x, "GaussianMixture.predict", where), {.axis = 1});
}

Tensor GaussianMixture::predict_proba(const Tensor& x, Where where) const {
  Tensor wlp = joint(*this, x, "GaussianMixture.predict_proba", where);
  return exp(wlp - logsumexp(wlp, {.axes = {1}, .keep_axes = true}));
}

Tensor GaussianMixture::score_samples(const Tensor& x, Where where) const {
  return logsumexp(joint(*this, x, "GaussianMixture.score_samples", where), {.axes = {1}});
}

Tensor GaussianMixture::score(const Tensor& x, Where where) const {
  return mean(logsumexp(joint(*this, x, "GaussianMixture.score", where), {.axes = {1}}));
}

int64_t GaussianMixture::free_parameters() const {
  int64_t k = means.dim(0), d = means.dim(1);
  int64_t cov = 0;
  switch (covariance_type) {
    case CT::full: cov = k * d * (d + 1) / 2; break;
    case CT::tied: cov = d * (d + 1) / 2; break;
    case CT::diag: cov = k * d; break;
    case CT::spherical: cov = k; break;
  }
  return cov + k * d + k - 1;
}

Tensor GaussianMixture::bic(const Tensor& x, Where where) const {
  double n = static_cast<double>(x.rank() == 2 ? x.dim(0) : 0);
  Tensor s = mean(logsumexp(joint(*this, x, "GaussianMixture.bic", where), {.axes = {1}}));
  return -2.0 * s * n + static_cast<double>(free_parameters()) * std::log(n);
}

Tensor GaussianMixture::aic(const Tensor& x, Where where) const {
  double n = static_cast<double>(x.rank() == 2 ? x.dim(0) : 0);
  Tensor s = mean(logsumexp(joint(*this, x, "GaussianMixture.aic", where), {.axes = {1}}));
  return -2.0 * s * n + 2.0 * static_cast<double>(free_parameters());
}

}  // namespace nx::ml
