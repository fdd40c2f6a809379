#include "nx/ml/linear.hpp"

#include "ml/check.hpp"
#include "nx/nx.hpp"

namespace nx::ml {
namespace {

// x and y centred on their weighted means and rows scaled by sqrt(w), as scikit-learn's
// _preprocess_data and _rescale_data: the fit through the origin of the result, plus
// intercept = y_offset - x_offset . coef, is the weighted fit with an intercept.
struct Centered {
  Tensor x, y, x_offset, y_offset;
};

Centered center(const Tensor& x, const Tensor& y, const Tensor& w, bool intercept) {
  Tensor total = sum(w);
  Tensor wx = expand_dims(w, 1);
  Tensor x_offset = intercept ? sum(x * wx, {.axes = {0}}) / total : zeros({x.dim(1)}, x.dtype());
  Tensor wy = y.rank() == 2 ? wx : w;
  Tensor y_offset = intercept ? sum(y * wy, {.axes = {0}}) / total : zeros_like(y[0]);
  Tensor root = sqrt(w);
  Tensor ry = y.rank() == 2 ? expand_dims(root, 1) : root;
  return {(x - x_offset) * expand_dims(root, 1), (y - y_offset) * ry, x_offset, y_offset};
}

// coef [features] (y [samples]) or [targets, features], from solution [features(, targets)].
struct Fitted {
  Tensor coef, intercept;
};
Fitted finish(const Centered& c, const Tensor& solution) {
  Tensor coef = solution.rank() == 2 ? transpose(solution) : solution;
  Tensor intercept = c.y_offset - (solution.rank() == 2 ? dot(coef, c.x_offset) : sum(coef * c.x_offset));
  return {coef, intercept};
}

Tensor predict(const Tensor& coef, const Tensor& intercept, const Tensor& x, const std::string& who, Where where) {
  Tensor f = detail::features(x, coef.dim(-1), who, where);
  Tensor c = as_type(coef, f.dtype());
  return (coef.rank() == 2 ? dot(f, transpose(c)) : dot(f, c)) + as_type(intercept, f.dtype());
}

}  // namespace

LinearRegression LinearRegression::fit(const Tensor& x, const Tensor& y, LinearRegressionOpts opts, Where where) {
  const std::string who = "LinearRegression.fit";
  Tensor f = detail::features(x, who, where);
  Tensor t = detail::targets(y, f.dim(0), f.dtype(), who, where);
  Tensor w = detail::weights(opts.sample_weight, f.dim(0), f.dtype(), who, where);
  Centered c = center(f, t, w, opts.fit_intercept);
  auto [coef, intercept] = finish(c, linalg::least_squares(c.x, c.y));
  return {coef, intercept};
}

Tensor LinearRegression::predict(const Tensor& x, Where where) const {
  return ml::predict(coef, intercept, x, "LinearRegression.predict", where);
}

Ridge Ridge::fit(const Tensor& x, const Tensor& y, RidgeOpts opts, Where where) {
  const std::string who = "Ridge.fit";
  if (!(opts.alpha >= 0)) throw ValueError(who, "alpha must be >= 0, got " + std::to_string(opts.alpha), where);
  Tensor f = detail::features(x, who, where);
  Tensor t = detail::targets(y, f.dim(0), f.dtype(), who, where);
  Tensor w = detail::weights(opts.sample_weight, f.dim(0), f.dtype(), who, where);
  Centered c = center(f, t, w, opts.fit_intercept);
  // (X^T X + alpha I) coef = X^T y, symmetric positive definite for alpha > 0.
  Tensor gram = dot(transpose(c.x), c.x) + opts.alpha * eye(f.dim(1), f.dtype());
  Tensor rhs = dot(transpose(c.x), c.y);
  auto [coef, intercept] = finish(c, linalg::solve(gram, rhs));
  return {coef, intercept};
}

Tensor Ridge::predict(const Tensor& x, Where where) const { return ml::predict(coef, intercept, x, "Ridge.predict", where); }

}  // namespace nx::ml
