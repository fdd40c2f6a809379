// Linear models fitted in closed form, as scikit-learn's LinearRegression and Ridge (same
// coef_ and intercept_ to rounding): least squares through the SVD (minimum norm, so
// collinear features work), ridge by solving its normal equations (X^T X + alpha I).
//
//   auto model = nx::ml::Ridge::fit(x, y, {.alpha = 0.5});   // x [samples, features]
//   nx::Tensor y_hat = model.predict(x_test);
//
// y is [samples] (one target: coef [features], intercept a scalar) or [samples, targets]
// (coef [targets, features], intercept [targets]). x is read as for the scalers
// (nx/ml/preprocessing.hpp); y in x's dtype. sample_weight, when given, is [samples] of
// non-negative weights. Bad shapes, NaN, or a negative weight raise nx::ValueError naming
// the estimator.
#pragma once
#include "nx/tensor.hpp"
#include "nx/tree.hpp"

namespace nx::ml {

struct LinearRegressionOpts {
  nx::detail::NamedFieldsOnly named_fields_only;
  bool fit_intercept = true;
  Tensor sample_weight;  // [samples]; undefined: all 1
};
struct LinearRegression {
  Tensor coef, intercept;  // intercept 0 without fit_intercept
  static LinearRegression fit(const Tensor& x, const Tensor& y, LinearRegressionOpts opts = {},
                              Where where = Where::current());
  Tensor predict(const Tensor& x, Where where = Where::current()) const;
};
NX_TREE(LinearRegression, coef, intercept)

struct RidgeOpts {
  nx::detail::NamedFieldsOnly named_fields_only;
  double alpha = 1.0;  // the L2 penalty alpha * |coef|^2, >= 0
  bool fit_intercept = true;
  Tensor sample_weight;
};
struct Ridge {
  Tensor coef, intercept;
  static Ridge fit(const Tensor& x, const Tensor& y, RidgeOpts opts = {}, Where where = Where::current());
  Tensor predict(const Tensor& x, Where where = Where::current()) const;
};
NX_TREE(Ridge, coef, intercept)

// automatic: newton up to 2000 parameters ((classes or 1) x (features + 1)), else lbfgs.
enum class LogisticSolver { automatic, newton, lbfgs };
struct LogisticRegressionOpts {
  nx::detail::NamedFieldsOnly named_fields_only;
  double c = 1.0;  // scikit-learn's C: the penalty is |coef|^2 / (2 C), summed losses
  bool fit_intercept = true;
  int64_t max_iter = 100;  // Newton steps or L-BFGS iterations
  double tol = 1e-10;      // stop when the largest step, relative to the largest coef, is below
  Tensor sample_weight;
  LogisticSolver solver = LogisticSolver::automatic;
};
// Logistic regression with an L2 penalty, as scikit-learn's LogisticRegression: one
// logistic for two classes (coef [1, features]), the multinomial (softmax) model for more
// (coef [classes, features], intercepts summing to 0). Solved inside one compiled
// while_loop by Newton's method (to the exact optimum, which scikit-learn's default tol only
// nears; its Hessian is (classes x features)^2) or by L-BFGS (10 pairs of history: for
// many features, as Fashion-MNIST's 784 x 10 classes), each with a backtracking line
// search. y holds class labels (any integers); `classes` keeps them sorted, and predict
// returns them.
struct LogisticRegression {
  Tensor coef, intercept;
  Tensor classes;     // i64 [classes], ascending
  Tensor iterations;  // i64 scalar: Newton steps taken
  static LogisticRegression fit(const Tensor& x, const Tensor& y, LogisticRegressionOpts opts = {},
                                Where where = Where::current());
  Tensor decision_function(const Tensor& x, Where where = Where::current()) const;  // [samples] or [samples, classes]
  Tensor predict_proba(const Tensor& x, Where where = Where::current()) const;      // [samples, classes]
  Tensor predict(const Tensor& x, Where where = Where::current()) const;            // labels
};
NX_TREE(LogisticRegression, coef, intercept, classes, iterations)

}  // namespace nx::ml
