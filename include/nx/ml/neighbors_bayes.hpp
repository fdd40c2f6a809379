// Nearest neighbours and naive Bayes, as scikit-learn's KNeighborsClassifier /
// KNeighborsRegressor (uniform weights, Euclidean), GaussianNB and MultinomialNB.
//
//   auto knn = nx::ml::KNeighborsClassifier::fit(x_train, y_train, {.neighbors = 5});
//   nx::Tensor labels = knn.predict(x_test);
//
// Neighbours come from brute force (distances through one product, then top_k: one
// compiled-friendly graph) or a k-d tree (nx/ml/kd_tree.hpp: on the host, far fewer
// distances in few dimensions). Both give the same neighbours, ties broken by the smaller
// training index, hence the same predictions. x is read as for the scalers
// (nx/ml/preprocessing.hpp); class labels are integers. neighbors above the number of
// training samples, or a single class for a classifier, raise nx::ValueError naming the
// estimator.
#pragma once
#include <cstdint>

#include "nx/ml/kd_tree.hpp"
#include "nx/tensor.hpp"
#include "nx/tree.hpp"

namespace nx::ml {

// auto_: scikit-learn's rule, kd_tree for at most 15 features and neighbors below half
// the training samples, else brute. Queries on traced tensors (under jit) always go brute.
enum class KNeighborsAlgorithm { auto_, brute, kd_tree };
struct KNeighborsOpts {
  nx::detail::NamedFieldsOnly named_fields_only;
  int64_t neighbors = 5;
  KNeighborsAlgorithm algorithm = KNeighborsAlgorithm::auto_;
  int64_t leaf_size = 30;  // kd_tree: as scikit-learn's KNeighbors* default
};
// The training set itself is the fitted state, with the k-d tree's index arrays when the
// algorithm is kd_tree (built once at fit; an empty tree, zero-sized arrays, for brute).
struct KNeighborsClassifier {
  Tensor x, y;     // training samples; y as indices into classes
  Tensor classes;  // i64 [classes], ascending
  int64_t neighbors = 5;
  KNeighborsAlgorithm algorithm = KNeighborsAlgorithm::brute;  // as resolved at fit
  KDTree tree;
  static KNeighborsClassifier fit(const Tensor& x, const Tensor& y, KNeighborsOpts opts = {},
                                  Where where = Where::current());
  // Per class, the fraction of the k nearest training samples in it: [samples, classes].
  Tensor predict_proba(const Tensor& x, Where where = Where::current()) const;
  // The most common class among the k nearest (ties: the smallest label).
  Tensor predict(const Tensor& x, Where where = Where::current()) const;
};
NX_TREE(KNeighborsClassifier, x, y, classes, neighbors, algorithm, tree)

struct KNeighborsRegressor {
  Tensor x, y;  // y [samples] or [samples, targets]
  int64_t neighbors = 5;
  KNeighborsAlgorithm algorithm = KNeighborsAlgorithm::brute;  // as resolved at fit
  KDTree tree;
  static KNeighborsRegressor fit(const Tensor& x, const Tensor& y, KNeighborsOpts opts = {},
                                 Where where = Where::current());
  Tensor predict(const Tensor& x, Where where = Where::current()) const;  // the mean of the k nearest
};
NX_TREE(KNeighborsRegressor, x, y, neighbors, algorithm, tree)

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

struct MultinomialNBOpts {
  nx::detail::NamedFieldsOnly named_fields_only;
  double alpha = 1.0;     // added to every feature count (Lidstone smoothing; 0: none, as
                          // scikit-learn's force_alpha=True)
  bool fit_prior = true;  // class priors from the class frequencies; false: uniform
  Tensor class_prior;     // [classes], when given: these priors (fit_prior ignored)
};
// Features are counts (non-negative; x holding a negative value raises nx::ValueError
// naming MultinomialNB.fit) drawn from one multinomial per class.
struct MultinomialNB {
  Tensor classes;           // i64 [classes]
  Tensor class_count;       // [classes]: training samples per class
  Tensor feature_count;     // [classes, features]: per class, each feature summed
  Tensor class_log_prior;   // [classes]
  Tensor feature_log_prob;  // [classes, features]: log of the smoothed counts over their row sum
  static MultinomialNB fit(const Tensor& x, const Tensor& y, MultinomialNBOpts opts = {},
                           Where where = Where::current());
  // class_log_prior + x feature_log_prob^T: [samples, classes]
  Tensor joint_log_likelihood(const Tensor& x, Where where = Where::current()) const;
  Tensor predict_log_proba(const Tensor& x, Where where = Where::current()) const;
  Tensor predict_proba(const Tensor& x, Where where = Where::current()) const;
  Tensor predict(const Tensor& x, Where where = Where::current()) const;  // ties: the smallest label
};
NX_TREE(MultinomialNB, classes, class_count, feature_count, class_log_prior, feature_log_prob)

}  // namespace nx::ml
