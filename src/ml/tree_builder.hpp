// Growing one CART tree on the host, step for step as scikit-learn's DepthFirstTreeBuilder
// with its BestSplitter: the same node order, feature draws, split positions, thresholds
// and stopping rules, so that a seed gives scikit-learn's tree.
#pragma once
#include <cstdint>
#include <vector>

#include "nx/ml/tree.hpp"

namespace nx::ml::detail {

struct TreeSpec {
  bool classification = true;
  Criterion criterion = Criterion::gini;  // gini, entropy or squared_error
  int64_t outputs = 1;                    // classes (classification) or targets
  int64_t max_depth = 0;                  // 0: unlimited
  int64_t min_samples_split = 2, min_samples_leaf = 1;
  double min_impurity_decrease = 0;
  int64_t max_features = 0;  // 0: all
};

// Host data: x row-major [samples, features] in f32; y class ids (as doubles) or targets
// [samples, outputs]; w [samples] (zero-weight samples are left out, as scikit-learn does).
struct TreeData {
  const float* x;
  const double* y;
  const double* w;
  int64_t samples, features;
};

struct GrownTree {
  std::vector<int64_t> feature, left, right, samples;
  std::vector<double> threshold, impurity, weighted_samples, value;  // value [nodes, outputs]
  int64_t depth = 0;
  int64_t nodes() const { return static_cast<int64_t>(feature.size()); }
  // Per feature, the weighted impurity decrease of its splits, normalised to sum 1 (all
  // zeros for a tree that is one leaf).
  std::vector<double> importances(int64_t features) const;
};

// rand_seed: the splitter's xorshift seed (scikit-learn draws it from the tree's
// RandomState as randint(0, 2^31 - 1)).
GrownTree grow_tree(const TreeData& data, const TreeSpec& spec, uint32_t rand_seed);

// Tensors for one tree (arrays [nodes]) or a forest (arrays [trees, max nodes], padded with
// leaves); class values become fractions.
TreeNodes to_nodes(const std::vector<GrownTree>& trees, int64_t outputs, bool stacked);

// Leaf ids [trees, samples] that x (f32 [samples, features]) reaches in each tree of `t`
// (arrays [trees, nodes]): one compiled graph.
Tensor leaves(const Tensor& x, const TreeNodes& t);
// Each tree's value at those leaves: [trees, samples, outputs].
Tensor leaf_values(const TreeNodes& t, const Tensor& leaves);

}  // namespace nx::ml::detail
