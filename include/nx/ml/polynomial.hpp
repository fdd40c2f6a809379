// Polynomial features and polynomial regression, as scikit-learn's PolynomialFeatures and
// make_pipeline(PolynomialFeatures, LinearRegression or Ridge).
//
//   auto poly = nx::ml::PolynomialFeatures::fit(x, {.degree = 2});
//   nx::Tensor z = poly.transform(x);   // 1, x0, x1, x0^2, x0 x1, x1^2 for two features
//   auto model = nx::ml::PolynomialRegression::fit(x, y, {.degree = 3, .alpha = 1.0});
//
// Output columns in scikit-learn's order: the bias, then each degree in turn, its
// monomials as combinations (with replacement) of the features in lexicographic order.
// x is read as for the scalers; a degree below 1 raises nx::ValueError.
#pragma once
#include <cstdint>

#include "nx/ml/linear.hpp"
#include "nx/tensor.hpp"
#include "nx/tree.hpp"

namespace nx::ml {

struct PolynomialFeaturesOpts {
  nx::detail::NamedFieldsOnly named_fields_only;
  int64_t degree = 2;
  bool interaction_only = false;  // only products of distinct features
  bool include_bias = true;       // a first column of ones
};
struct PolynomialFeatures {
  Tensor powers;  // i64 [output features, features]: each output's exponents (scikit-learn's powers_)
  static PolynomialFeatures fit(const Tensor& x, PolynomialFeaturesOpts opts = {}, Where where = Where::current());
  Tensor transform(const Tensor& x, Where where = Where::current()) const;
};
NX_TREE(PolynomialFeatures, powers)

struct PolynomialRegressionOpts {
  nx::detail::NamedFieldsOnly named_fields_only;
  int64_t degree = 2;
  bool interaction_only = false;
  double alpha = 0;  // 0: least squares (LinearRegression); > 0: Ridge with this penalty
  Tensor sample_weight;
};
// Linear in the polynomial features (without the bias column: the intercept is fitted).
struct PolynomialRegression {
  PolynomialFeatures features;
  Ridge model;  // LinearRegression's coef and intercept when alpha is 0
  static PolynomialRegression fit(const Tensor& x, const Tensor& y, PolynomialRegressionOpts opts = {},
                                  Where where = Where::current());
  Tensor predict(const Tensor& x, Where where = Where::current()) const;
};
NX_TREE(PolynomialRegression, features, model)

}  // namespace nx::ml
