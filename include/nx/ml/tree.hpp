// Decision trees and random forests, as scikit-learn's DecisionTreeClassifier /
// DecisionTreeRegressor and RandomForestClassifier / RandomForestRegressor (best splits,
// bootstrap samples as weights). With the same seed they grow scikit-learn's trees node for
// node: the feature draws and bootstraps come from the same streams (numpy's MT19937 and
// the tree's xorshift), and features are read as f32 as scikit-learn does.
//
//   auto tree = nx::ml::DecisionTreeClassifier::fit(x, labels, {.max_depth = 8});
//   nx::Tensor predicted = tree.predict(x_test);
//   auto forest = nx::ml::RandomForestClassifier::fit(x, labels, {.estimators = 100, .seed = 0});
//
// Growing a tree is a host-side recursion over sorted feature values (branchy, data
// dependent, as scikit-learn's Cython); predicting walks all trees at once in one compiled
// graph (a fori_loop over the depth), on any backend. Fitted states are trees (NX_TREE).
// x is read as for the scalers (nx/ml/preprocessing.hpp); class labels are integers;
// regression targets [samples] or [samples, targets]. NaN, a single class, a bad option, or
// another feature count at predict raise nx::ValueError naming the estimator.
#pragma once
#include <cstdint>

#include "nx/tensor.hpp"
#include "nx/tree.hpp"

namespace nx::ml {

// automatic: gini for classifiers, squared_error for regressors.
enum class Criterion { automatic, gini, entropy, squared_error };

struct DecisionTreeOpts {
  nx::detail::NamedFieldsOnly named_fields_only;
  Criterion criterion = Criterion::automatic;
  int64_t max_depth = 0;             // 0: unlimited
  int64_t min_samples_split = 2;     // a node with fewer samples is a leaf
  int64_t min_samples_leaf = 1;      // each child keeps at least this many
  double min_impurity_decrease = 0;  // split only if the weighted impurity drops this much
  int64_t max_features = 0;          // features drawn per split; 0: all
  uint64_t seed = 0;                 // scikit-learn's random_state (below 2^32): which feature wins ties
  Tensor sample_weight;              // [samples], non-negative; undefined: all 1
};

// The nodes of fitted trees, as scikit-learn's tree_ arrays: node 0 is the root, the nodes
// in depth-first order, left subtree first. In a forest each array has a leading [trees]
// axis and shorter trees are padded with leaves.
struct TreeNodes {
  Tensor feature;      // i64 [nodes]: the feature split on; -2 at leaves
  Tensor threshold;    // f64 [nodes]: a sample goes left when x[feature] <= threshold; -2 at leaves
  Tensor left, right;  // i64 [nodes]: the children; -1 at leaves
  Tensor value;        // f64 [nodes, outputs]: class fractions, or target means
  Tensor impurity;     // f64 [nodes]
  Tensor samples;      // i64 [nodes]: training samples reaching the node
  int64_t depth = 0;   // the longest root-to-leaf path (of all the trees)
};
NX_TREE(TreeNodes, feature, threshold, left, right, value, impurity, samples, depth)

struct DecisionTreeClassifier {
  Tensor classes;              // i64 [classes], ascending
  TreeNodes tree;              // value [nodes, classes]
  Tensor feature_importances;  // f64 [features]: impurity decrease per feature, summing to 1
  static DecisionTreeClassifier fit(const Tensor& x, const Tensor& y, DecisionTreeOpts opts = {},
                                    Where where = Where::current());
  Tensor predict_proba(const Tensor& x, Where where = Where::current()) const;  // [samples, classes]
  Tensor predict(const Tensor& x, Where where = Where::current()) const;        // i64 [samples]
  Tensor apply(const Tensor& x, Where where = Where::current()) const;          // i64 [samples]: leaf ids
};
NX_TREE(DecisionTreeClassifier, classes, tree, feature_importances)

struct DecisionTreeRegressor {
  TreeNodes tree;  // value [nodes, targets]
  Tensor feature_importances;
  bool single_target = true;  // fitted on y [samples]: predict gives [samples]
  static DecisionTreeRegressor fit(const Tensor& x, const Tensor& y, DecisionTreeOpts opts = {},
                                   Where where = Where::current());
  Tensor predict(const Tensor& x, Where where = Where::current()) const;  // [samples] or [samples, targets]
  Tensor apply(const Tensor& x, Where where = Where::current()) const;
};
NX_TREE(DecisionTreeRegressor, tree, feature_importances, single_target)

struct RandomForestOpts {
  nx::detail::NamedFieldsOnly named_fields_only;
  int64_t estimators = 100;
  Criterion criterion = Criterion::automatic;
  int64_t max_depth = 0;
  int64_t min_samples_split = 2;
  int64_t min_samples_leaf = 1;
  double min_impurity_decrease = 0;
  int64_t max_features = 0;  // 0: floor(sqrt(features)) for classifiers, all for regressors
  bool bootstrap = true;     // each tree on a bootstrap sample (as weights); false: all samples
  uint64_t seed = 0;         // scikit-learn's random_state (below 2^32): bootstraps and feature draws
  Tensor sample_weight;
};

// The mean of the trees' class fractions; the class with the largest mean.
struct RandomForestClassifier {
  Tensor classes;
  TreeNodes trees;  // arrays [trees, nodes...]
  Tensor feature_importances;
  static RandomForestClassifier fit(const Tensor& x, const Tensor& y, RandomForestOpts opts = {},
                                    Where where = Where::current());
  Tensor predict_proba(const Tensor& x, Where where = Where::current()) const;
  Tensor predict(const Tensor& x, Where where = Where::current()) const;
};
NX_TREE(RandomForestClassifier, classes, trees, feature_importances)

struct RandomForestRegressor {
  TreeNodes trees;
  Tensor feature_importances;
  bool single_target = true;
  static RandomForestRegressor fit(const Tensor& x, const Tensor& y, RandomForestOpts opts = {},
                                   Where where = Where::current());
  Tensor predict(const Tensor& x, Where where = Where::current()) const;  // the mean of the trees'
};
NX_TREE(RandomForestRegressor, trees, feature_importances, single_target)

}  // namespace nx::ml
