// Nearest neighbours (brute force: distances through one product, then top_k) and
// Gaussian naive Bayes, as scikit-learn's KNeighborsClassifier / KNeighborsRegressor
// (uniform weights, Euclidean) and GaussianNB.
//
//   auto knn = nx::ml::KNeighborsClassifier::fit(x_train, y_train, {.neighbors = 5});
//   nx::Tensor labels = knn.predict(x_test);
//
// x is read as for the scalers (nx/ml/preprocessing.hpp); class labels are integers.
// neighbors above the number of training samples, or a single class for a classifier,
// raise nx::ValueError naming the estimator.
#pragma once
#include <cstdint>

#include "nx/tensor.hpp"
#include "nx/tree.hpp"

namespace nx::ml {

struct KNeighborsOpts {
  nx::detail::NamedFieldsOnly named_fields_only;
  int64_t neighbors = 5;
};
// The training set itself is the fitted state.
struct KNeighborsClassifier {
  Tensor x, y;     // training samples; y as indices into classes
  Tensor classes;  // i64 [classes], ascending
  int64_t neighbors = 5;
  static KNeighborsClassifier fit(const Tensor& x, const Tensor& y, KNeighborsOpts opts = {},
                                  Where where = Where::current());
  // Per class, the fraction of the k nearest training samples in it: [samples, classes].
  Tensor predict_proba(const Tensor& x, Where where = Where::current()) const;
  // The most common class among the k nearest (ties: the smallest label).
  Tensor predict(const Tensor& x, Where where = Where::current()) const;
};
NX_TREE(KNeighborsClassifier, x, y, classes, neighbors)

struct KNeighborsRegressor {
  Tensor x, y;  // y [samples] or [samples, targets]
  int64_t neighbors = 5;
  static KNeighborsRegressor fit(const Tensor& x, const Tensor& y, KNeighborsOpts opts = {},
                                 Where where = Where::current());
  Tensor predict(const Tensor& x, Where where = Where::current()) const;  // the mean of the k nearest
};
NX_TREE(KNeighborsRegressor, x, y, neighbors)

struct GaussianNBOpts {
  nx::detail::NamedFieldsOnly named_fields_only;
  double var_smoothing = 1e-9;  // added to the variances: this times the largest feature variance
};
// Features independent and normal within each class; priors from the class frequencies.
struct GaussianNB {
  Tensor classes;  // i64 [classes]
  Tensor prior;    // [classes]
  Tensor mean;     // [classes, features]
  Tensor var;      // [classes, features], smoothed
  static GaussianNB fit(const Tensor& x, const Tensor& y, GaussianNBOpts opts = {}, Where where = Where::current());
  Tensor joint_log_likelihood(const Tensor& x, Where where = Where::current()) const;  // [samples, classes]
  Tensor predict_proba(const Tensor& x, Where where = Where::current()) const;
  Tensor predict(const Tensor& x, Where where = Where::current()) const;
};
NX_TREE(GaussianNB, classes, prior, mean, var)

}  // namespace nx::ml
