#include "nx/ml/polynomial.hpp"

#include <functional>

#include "ml/check.hpp"
#include "nx/nx.hpp"

namespace nx::ml {
namespace {

// Feature index lists of every monomial, in scikit-learn's order (by degree, then
// combinations with replacement, or without for interaction_only, lexicographically).
std::vector<std::vector<int64_t>> monomials(int64_t features, int64_t degree, bool interaction_only, bool bias) {
  std::vector<std::vector<int64_t>> out;
  if (bias) out.push_back({});
  std::vector<int64_t> combo;
  std::function<void(int64_t, int64_t)> extend = [&](int64_t from, int64_t left) {
    if (left == 0) {
      out.push_back(combo);
      return;
    }
    for (int64_t f = from; f < features; ++f) {
      combo.push_back(f);
      extend(interaction_only ? f + 1 : f, left - 1);
      combo.pop_back();
    }
  };
  for (int64_t d = 1; d <= degree; ++d) extend(0, d);
  return out;
}

}  // namespace

PolynomialFeatures PolynomialFeatures::fit(const Tensor& x, PolynomialFeaturesOpts opts, Where where) {
  const std::string who = "PolynomialFeatures.fit";
  Tensor f = detail::features(x, who, where, true);
  if (opts.degree < 1) throw ValueError(who, "degree must be at least 1, got " + std::to_string(opts.degree), where);
  auto terms = monomials(f.dim(1), opts.degree, opts.interaction_only, opts.include_bias);
  if (terms.empty()) throw ValueError(who, "no output features (interaction_only with one feature and no bias)", where);
  std::vector<int64_t> powers(terms.size() * size_t(f.dim(1)), 0);
  for (size_t t = 0; t < terms.size(); ++t)
    for (int64_t feature : terms[t]) ++powers[t * size_t(f.dim(1)) + size_t(feature)];
  return {from_vector(powers, {static_cast<int64_t>(terms.size()), f.dim(1)})};
}

Tensor PolynomialFeatures::transform(const Tensor& x, Where where) const {
  Tensor f = detail::features(x, powers.dim(1), "PolynomialFeatures.transform", where, true);
  // Each output is a product of up to `degree` columns of x with a column of ones appended
  // (index features): one gather and multiply per factor.
  std::vector<int64_t> p = powers.to_vector<int64_t>();
  int64_t outs = powers.dim(0), features = powers.dim(1), degree = 0;
  std::vector<std::vector<int64_t>> factors(static_cast<size_t>(outs));
  for (int64_t o = 0; o < outs; ++o) {
    for (int64_t j = 0; j < features; ++j) factors[size_t(o)].insert(factors[size_t(o)].end(), size_t(p[size_t(o * features + j)]), j);
    degree = std::max(degree, static_cast<int64_t>(factors[size_t(o)].size()));
  }
  Tensor padded = concatenate({f, ones({f.dim(0), 1}, f.dtype())}, 1);
  Tensor out = ones({f.dim(0), outs}, f.dtype());
  for (int64_t k = 0; k < degree; ++k) {
    std::vector<int64_t> column(static_cast<size_t>(outs), features);
    for (int64_t o = 0; o < outs; ++o)
      if (k < static_cast<int64_t>(factors[size_t(o)].size())) column[size_t(o)] = factors[size_t(o)][size_t(k)];
    out = out * take(padded, from_vector(column, {outs}), 1);
  }
  return out;
}

PolynomialRegression PolynomialRegression::fit(const Tensor& x, const Tensor& y, PolynomialRegressionOpts opts,
                                               Where where) {
  const std::string who = "PolynomialRegression.fit";
  if (!(opts.alpha >= 0)) throw ValueError(who, "alpha must be >= 0, got " + std::to_string(opts.alpha), where);
  detail::features(x, who, where);
  auto poly = PolynomialFeatures::fit(x, {.degree = opts.degree, .interaction_only = opts.interaction_only,
                                          .include_bias = false}, where);
  Tensor z = poly.transform(x, where);
  if (opts.alpha == 0) {
    auto lr = LinearRegression::fit(z, y, {.sample_weight = opts.sample_weight}, where);
    return {poly, {lr.coef, lr.intercept}};
  }
  return {poly, Ridge::fit(z, y, {.alpha = opts.alpha, .sample_weight = opts.sample_weight}, where)};
}

Tensor PolynomialRegression::predict(const Tensor& x, Where where) const {
  return model.predict(features.transform(x, where), where);
}

}  // namespace nx::ml
