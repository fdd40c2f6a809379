#include <algorithm>
#include <cmath>
#include <numbers>
#include <utility>
#include <vector>

#include "ml/check.hpp"
#include "nx/ml/neighbors_bayes.hpp"
#include "nx/nx.hpp"

namespace nx::ml {
namespace {

// Indices [queries, k] of the k nearest training rows (Euclidean), nearest first:
// |q|^2 - 2 q.x + |x|^2 through one product; |q|^2 is the same for a query's candidates.
// Queries go in chunks whose score matrix stays near 64 MB (10000 queries against 60000
// rows would be 2.4 GB at once), each one compiled graph.
Tensor nearest(const Tensor& train, const Tensor& queries, int64_t k) {
  Tensor xx = sum(train * train, {.axes = {1}});
  auto chunk = [k, &train, &xx](const Tensor& q) {
    static const auto f = jit([](const Tensor& qq, const Tensor& t, const Tensor& norms, int64_t kk) {
      return top_k(2.0 * dot(qq, {1}, t, {1}) - norms, kk).second;  // larger: nearer
    });
    return q.is_traced() ? top_k(2.0 * dot(q, {1}, train, {1}) - xx, k).second : f(q, train, xx, k);
  };
  int64_t n = queries.dim(0), rows = std::max<int64_t>(64, (int64_t{16} << 20) / std::max<int64_t>(train.dim(0), 1));
  if (n <= rows || queries.is_traced()) return chunk(queries);
  std::vector<Tensor> parts;
  for (int64_t start = 0; start < n; start += rows)
    parts.push_back(chunk(slice(queries, {start, 0}, {std::min(rows, n - start), queries.dim(1)})));
  return concatenate(parts, 0);
}

int64_t check_neighbors(int64_t k, int64_t samples, const std::string& who, Where where) {
  if (k < 1 || k > samples)
    throw ValueError(who, "neighbors must be between 1 and the training samples (" + std::to_string(samples) + "), got " +
                              std::to_string(k),
                     where);
  return k;
}

// The algorithm fit settles on (auto_ as scikit-learn: a tree pays off in few dimensions
// and for few neighbours) and the tree it needs: for brute, zero-sized arrays, so the
// fitted state stays a tree of defined tensors that saves and loads.
std::pair<KNeighborsAlgorithm, KDTree> index_for(const Tensor& x, const KNeighborsOpts& opts, const std::string& who,
                                                 Where where) {
  if (opts.leaf_size < 1) throw ValueError(who, "leaf_size must be >= 1, got " + std::to_string(opts.leaf_size), where);
  int64_t n = x.dim(0), d = x.dim(1);
  KNeighborsAlgorithm a = opts.algorithm;
  if (a == KNeighborsAlgorithm::auto_)
    a = d <= 15 && opts.neighbors < n / 2 && !x.is_traced() ? KNeighborsAlgorithm::kd_tree : KNeighborsAlgorithm::brute;
  if (a == KNeighborsAlgorithm::brute)
    return {a,
            {.data = zeros({0, d}, x.dtype()),
             .order = zeros({0}, DType::i64),
             .nodes = zeros({0, 2}, DType::i64),
             .bounds = zeros({0, 2, d}, x.dtype()),
             .leaf_size = opts.leaf_size}};
  if (x.is_traced()) throw ValueError(who, "algorithm kd_tree builds on the host: x must not be traced by jit", where);
  return {a, KDTree::build(x, {.leaf_size = opts.leaf_size}, where)};
}

// The k nearest training rows of each query: from the tree when there is one and the
// values are concrete, else brute force; the same rows either way.
Tensor neighbours(const Tensor& train, KNeighborsAlgorithm a, const KDTree& tree, const Tensor& queries, int64_t k,
                  Where where) {
  if (a == KNeighborsAlgorithm::kd_tree && !queries.is_traced() && !tree.data.is_traced())
    return tree.query(queries, k, where).second;
  return nearest(as_type(train, queries.dtype()), queries, k);
}

}  // namespace

KNeighborsClassifier KNeighborsClassifier::fit(const Tensor& x, const Tensor& y, KNeighborsOpts opts, Where where) {
  const std::string who = "KNeighborsClassifier.fit";
  Tensor f = detail::features(x, who, where);
  check_neighbors(opts.neighbors, f.dim(0), who, where);
  detail::ClassIds ids = detail::class_ids(y, f.dim(0), who, where);
  auto [algorithm, tree] = index_for(f, opts, who, where);
  return {.x = f,
          .y = ids.ids,
          .classes = ids.classes,
          .neighbors = opts.neighbors,
          .algorithm = algorithm,
          .tree = std::move(tree)};
}

Tensor KNeighborsClassifier::predict_proba(const Tensor& q, Where where) const {
  Tensor f = detail::features(q, x.dim(1), "KNeighborsClassifier.predict_proba", where);
  Tensor near = take(y, neighbours(x, algorithm, tree, f, neighbors, where), 0);  // [queries, k] class ids
  return mean(one_hot(near, classes.dim(0), {.dtype = f.dtype()}), {.axes = {1}});
}

Tensor KNeighborsClassifier::predict(const Tensor& q, Where where) const {
  // argmax takes the first maximum: the smallest label among tied votes, as scikit-learn.
  return take(classes, argmax(predict_proba(q, where), {.axis = 1}), 0);
}

KNeighborsRegressor KNeighborsRegressor::fit(const Tensor& x, const Tensor& y, KNeighborsOpts opts, Where where) {
  const std::string who = "KNeighborsRegressor.fit";
  Tensor f = detail::features(x, who, where);
  check_neighbors(opts.neighbors, f.dim(0), who, where);
  Tensor t = detail::targets(y, f.dim(0), f.dtype(), who, where);
  auto [algorithm, tree] = index_for(f, opts, who, where);
  return {.x = f, .y = t, .neighbors = opts.neighbors, .algorithm = algorithm, .tree = std::move(tree)};
}

Tensor KNeighborsRegressor::predict(const Tensor& q, Where where) const {
  Tensor f = detail::features(q, x.dim(1), "KNeighborsRegressor.predict", where);
  Tensor near = take(as_type(y, f.dtype()), neighbours(x, algorithm, tree, f, neighbors, where), 0);  // [queries, k(, t)]
  return mean(near, {.axes = {1}});
}

GaussianNB GaussianNB::fit(const Tensor& x, const Tensor& y, GaussianNBOpts opts, Where where) {
  const std::string who = "GaussianNB.fit";
  if (!(opts.var_smoothing >= 0)) throw ValueError(who, "var_smoothing must be >= 0", where);
  Tensor f = detail::features(x, who, where);
  detail::ClassIds ids = detail::class_ids(y, f.dim(0), who, where);
  Tensor member = one_hot(ids.ids, ids.count, {.dtype = f.dtype()});  // [n, k]
  Tensor counts = sum(member, {.axes = {0}});                          // [k]
  Tensor mean = dot(transpose(member), f) / expand_dims(counts, 1);    // [k, d]
  Tensor centered = f - dot(member, mean);                             // each sample minus its class mean
  Tensor var = dot(transpose(member), centered * centered) / expand_dims(counts, 1);
  Tensor all = f - nx::mean(f, {.axes = {0}});
  Tensor epsilon = opts.var_smoothing * reduce_max(nx::mean(all * all, {.axes = {0}}));
  return {.classes = ids.classes, .prior = counts / static_cast<double>(f.dim(0)), .mean = mean, .var = var + epsilon};
}

Tensor GaussianNB::joint_log_likelihood(const Tensor& x, Where where) const {
  Tensor f = detail::features(x, mean.dim(1), "GaussianNB.joint_log_likelihood", where);
  Tensor m = as_type(mean, f.dtype()), v = as_type(var, f.dtype());
  // log prior - 1/2 sum log(2 pi var) - 1/2 sum (x - mean)^2 / var, per class.
  Tensor constant = log(as_type(prior, f.dtype())) - 0.5 * sum(log(2.0 * std::numbers::pi * v), {.axes = {1}});
  Tensor diff = expand_dims(f, 1) - expand_dims(m, 0);  // [n, k, d]
  return constant - 0.5 * sum(diff * diff / expand_dims(v, 0), {.axes = {2}});
}

Tensor GaussianNB::predict_proba(const Tensor& x, Where where) const { return softmax(joint_log_likelihood(x, where), 1); }

Tensor GaussianNB::predict(const Tensor& x, Where where) const {
  return take(classes, argmax(joint_log_likelihood(x, where), {.axis = 1}), 0);
}

}  // namespace nx::ml
