// A k-d tree for exact Euclidean nearest neighbours in few dimensions, as scikit-learn's
// KDTree: the same layout (a complete binary tree over a permutation of the samples, node
// i's children 2i+1 and 2i+2, each split at the median of its widest feature, leaves of
// leaf_size/2 .. leaf_size samples) and the same answers, ties broken by the smaller
// sample index (as the brute-force top_k in KNeighbors*: one order for both paths).
//
//   auto tree = nx::ml::KDTree::build(x_train, {.leaf_size = 30});
//   auto [dist, idx] = tree.query(x_test, 5);   // [queries, 5] each, nearest first
//   auto within = tree.query_radius(x_test, 1.5);
//
// Built and queried on the host: descending the tree is branchy, data-dependent work (a
// heap per query, pruning by bounding boxes) that has no dense-op form, and it pays off
// only in few dimensions (up to ~15 features; beyond that brute force through one matrix
// product wins, as scikit-learn's rule for algorithm="auto" assumes). Distances are
// summed in f64 feature by feature; results come back as tensors of the query's float
// dtype. The tree itself is plain index and bound arrays, an NX_TREE, so it saves with
// the state dicts; queries need concrete (untraced) tensors.
//
// x is read as for the scalers (nx/ml/preprocessing.hpp); k outside 1 .. samples, a
// negative radius, leaf_size < 1 or a query of another width raise nx::ValueError naming
// KDTree.build / KDTree.query / KDTree.query_radius.
#pragma once
#include <cstdint>
#include <utility>
#include <vector>

#include "nx/tensor.hpp"
#include "nx/tree.hpp"

namespace nx::ml {

struct KDTreeOpts {
  nx::detail::NamedFieldsOnly named_fields_only;
  int64_t leaf_size = 40;  // scikit-learn's KDTree default (KNeighbors* use 30)
};
// Per query: the neighbours within the radius, nearest first (ties by index).
struct RadiusNeighbors {
  std::vector<Tensor> distances;  // [count] each
  std::vector<Tensor> indices;    // i64 [count] each
};
struct KDTree {
  Tensor data;    // [samples, features], as built from (not permuted)
  Tensor order;   // i64 [samples]: sample indices, each node's samples a contiguous run
  Tensor nodes;   // i64 [nodes, 2]: each node's [start, end) in order; nodes >= 2i+1 are leaves
  Tensor bounds;  // [nodes, 2, features]: the lower and upper corner of each node's samples' box
  int64_t leaf_size = 40;
  static KDTree build(const Tensor& x, KDTreeOpts opts = {}, Where where = Where::current());
  // Distances [queries, k] ascending and indices i64 [queries, k] of the k nearest samples.
  std::pair<Tensor, Tensor> query(const Tensor& x, int64_t k, Where where = Where::current()) const;
  // The samples at distance <= r of each query row (scikit-learn's query_radius with
  // return_distance and sort_results).
  RadiusNeighbors query_radius(const Tensor& x, double r, Where where = Where::current()) const;
};
NX_TREE(KDTree, data, order, nodes, bounds, leaf_size)

}  // namespace nx::ml
