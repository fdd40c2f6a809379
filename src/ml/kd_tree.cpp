#include "nx/ml/kd_tree.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "ml/check.hpp"
#include "nx/nx.hpp"

namespace nx::ml {
namespace {

// The tree's arrays read to the host once per query call.
struct Host {
  int64_t n = 0, d = 0, nodes = 0;
  std::vector<double> data, bounds;  // bounds: per node, d lower then d upper values
  std::vector<int64_t> order, range;
  bool leaf(int64_t node) const { return 2 * node + 1 >= nodes; }
};

void check_concrete(const Tensor& t, const std::string& who, Where where) {
  if (t.is_traced())
    throw ValueError(who, "runs on the host and needs concrete tensors, not ones traced by jit", where);
}

Host to_host(const KDTree& t, const std::string& who, Where where) {
  for (const Tensor* a : {&t.data, &t.order, &t.nodes, &t.bounds}) {
    if (!a->defined() || a->dim(0) == 0) throw ValueError(who, "the tree is empty (build it with KDTree::build)", where);
    check_concrete(*a, who, where);
  }
  return {.n = t.data.dim(0),
          .d = t.data.dim(1),
          .nodes = t.nodes.dim(0),
          .data = t.data.to_vector<double>(),
          .bounds = t.bounds.to_vector<double>(),
          .order = t.order.to_vector<int64_t>(),
          .range = t.nodes.to_vector<int64_t>()};
}

// Squared distances summed feature by feature in one order, for points and boxes alike:
// each box term is at most the matching point term and rounding is monotone, so a box's
// bound never exceeds the distance of a point inside it, and pruning on it is exact.
double point_rdist(const double* q, const double* x, int64_t d) {
  double s = 0;
  for (int64_t j = 0; j < d; ++j) {
    double t = q[j] - x[j];
    s += t * t;
  }
  return s;
}
double box_rdist(const double* q, const double* lo, const double* hi, int64_t d) {
  double s = 0;
  for (int64_t j = 0; j < d; ++j) {
    double t = q[j] < lo[j] ? lo[j] - q[j] : q[j] > hi[j] ? q[j] - hi[j] : 0.0;
    s += t * t;
  }
  return s;
}

using Candidate = std::pair<double, int64_t>;  // squared distance, sample: compared as a pair

struct Search {
  const Host& h;
  const double* q;
  double node_rdist(int64_t node) const {
    const double* lo = &h.bounds[static_cast<size_t>(node * 2 * h.d)];
    return box_rdist(q, lo, lo + h.d, h.d);
  }
  double sample_rdist(int64_t i) const { return point_rdist(q, &h.data[static_cast<size_t>(i * h.d)], h.d); }

  // The k smallest (distance, index) pairs in a max-heap: a sample enters when its pair is
  // below the worst kept, so equal distances resolve to the smaller index whatever the
  // visiting order. A node is skipped only when its bound is strictly above the worst
  // distance: at equality it may still hold a smaller index.
  void nearest(int64_t node, double bound, std::vector<Candidate>& heap) const {
    if (bound > heap.front().first) return;
    if (h.leaf(node)) {
      for (int64_t i = h.range[static_cast<size_t>(2 * node)]; i < h.range[static_cast<size_t>(2 * node + 1)]; ++i) {
        int64_t id = h.order[static_cast<size_t>(i)];
        Candidate c{sample_rdist(id), id};
        if (c < heap.front()) {
          std::pop_heap(heap.begin(), heap.end());
          heap.back() = c;
          std::push_heap(heap.begin(), heap.end());
        }
      }
      return;
    }
    int64_t left = 2 * node + 1, right = left + 1;
    double bl = node_rdist(left), br = node_rdist(right);
    if (bl <= br) {
      nearest(left, bl, heap);
      nearest(right, br, heap);
    } else {
      nearest(right, br, heap);
      nearest(left, bl, heap);
    }
  }

  void within(int64_t node, double r2, std::vector<Candidate>& found) const {
    if (node_rdist(node) > r2) return;
    if (h.leaf(node)) {
      for (int64_t i = h.range[static_cast<size_t>(2 * node)]; i < h.range[static_cast<size_t>(2 * node + 1)]; ++i) {
        int64_t id = h.order[static_cast<size_t>(i)];
        double dist = sample_rdist(id);
        if (dist <= r2) found.emplace_back(dist, id);
      }
      return;
    }
    within(2 * node + 1, r2, found);
    within(2 * node + 2, r2, found);
  }
};

}  // namespace

KDTree KDTree::build(const Tensor& x, KDTreeOpts opts, Where where) {
  const std::string who = "KDTree.build";
  if (opts.leaf_size < 1) throw ValueError(who, "leaf_size must be >= 1, got " + std::to_string(opts.leaf_size), where);
  Tensor f = detail::features(x, who, where);
  check_concrete(f, who, where);
  int64_t n = f.dim(0), d = f.dim(1);
  // scikit-learn's size: 1 + floor(log2(max(1, (n - 1) / leaf_size))) levels, so every leaf
  // holds between about leaf_size / 2 and leaf_size samples (and at least one).
  double ratio = std::max(1.0, static_cast<double>(n - 1) / static_cast<double>(opts.leaf_size));
  int levels = 1;
  while (std::ldexp(1.0, levels) <= ratio) ++levels;
  int64_t nodes = (int64_t{1} << levels) - 1;
  std::vector<double> v = f.to_vector<double>();
  std::vector<int64_t> order(static_cast<size_t>(n)), range(static_cast<size_t>(2 * nodes));
  std::vector<double> bounds(static_cast<size_t>(nodes * 2 * d));
  std::iota(order.begin(), order.end(), int64_t{0});
  range[0] = 0;
  range[1] = n;
  // Parents come before their children (2i+1, 2i+2), so one pass in node order splits all.
  for (int64_t node = 0; node < nodes; ++node) {
    int64_t start = range[static_cast<size_t>(2 * node)], end = range[static_cast<size_t>(2 * node + 1)];
    double* lo = &bounds[static_cast<size_t>(node * 2 * d)];
    double* hi = lo + d;
    std::fill(lo, lo + d, std::numeric_limits<double>::infinity());
    std::fill(hi, hi + d, -std::numeric_limits<double>::infinity());
    for (int64_t i = start; i < end; ++i)
      for (int64_t j = 0; j < d; ++j) {
        double value = v[static_cast<size_t>(order[static_cast<size_t>(i)] * d + j)];
        lo[j] = std::min(lo[j], value);
        hi[j] = std::max(hi[j], value);
      }
    if (2 * node + 1 >= nodes) continue;
    // Split at the median of the widest feature (the first of equal spreads), ordering by
    // (value, index) so the layout does not depend on the partition's implementation.
    int64_t dim = 0;
    for (int64_t j = 1; j < d; ++j)
      if (hi[j] - lo[j] > hi[dim] - lo[dim]) dim = j;
    int64_t mid = start + (end - start) / 2;
    auto key = [&v, d, dim](int64_t i) { return std::pair{v[static_cast<size_t>(i * d + dim)], i}; };
    std::nth_element(order.begin() + start, order.begin() + mid, order.begin() + end,
                     [&key](int64_t a, int64_t b) { return key(a) < key(b); });
    range[static_cast<size_t>(2 * (2 * node + 1))] = start;
    range[static_cast<size_t>(2 * (2 * node + 1) + 1)] = mid;
    range[static_cast<size_t>(2 * (2 * node + 2))] = mid;
    range[static_cast<size_t>(2 * (2 * node + 2) + 1)] = end;
  }
  return {.data = f,
          .order = from_vector(order, {n}),
          .nodes = from_vector(range, {nodes, 2}),
          .bounds = as_type(from_vector(bounds, {nodes, 2, d}), f.dtype()),
          .leaf_size = opts.leaf_size};
}

std::pair<Tensor, Tensor> KDTree::query(const Tensor& x, int64_t k, Where where) const {
  const std::string who = "KDTree.query";
  Tensor f = detail::features(x, data.dim(1), who, where);
  check_concrete(f, who, where);
  if (k < 1 || k > data.dim(0))
    throw ValueError(who, "k must be between 1 and the samples (" + std::to_string(data.dim(0)) + "), got " +
                              std::to_string(k),
                     where);
  Host h = to_host(*this, who, where);
  std::vector<double> q = f.to_vector<double>();
  int64_t m = f.dim(0);
  std::vector<double> dist(static_cast<size_t>(m * k));
  std::vector<int64_t> idx(static_cast<size_t>(m * k));
  std::vector<Candidate> heap;
  for (int64_t r = 0; r < m; ++r) {
    Search s{h, &q[static_cast<size_t>(r * h.d)]};
    heap.assign(static_cast<size_t>(k), {std::numeric_limits<double>::infinity(), std::numeric_limits<int64_t>::max()});
    s.nearest(0, s.node_rdist(0), heap);
    std::sort_heap(heap.begin(), heap.end());
    for (int64_t j = 0; j < k; ++j) {
      dist[static_cast<size_t>(r * k + j)] = std::sqrt(heap[static_cast<size_t>(j)].first);
      idx[static_cast<size_t>(r * k + j)] = heap[static_cast<size_t>(j)].second;
    }
  }
  return {as_type(from_vector(dist, {m, k}), f.dtype()), from_vector(idx, {m, k})};
}

RadiusNeighbors KDTree::query_radius(const Tensor& x, double r, Where where) const {
  const std::string who = "KDTree.query_radius";
  Tensor f = detail::features(x, data.dim(1), who, where);
  check_concrete(f, who, where);
  if (!(r >= 0)) throw ValueError(who, "the radius must be >= 0, got " + std::to_string(r), where);
  Host h = to_host(*this, who, where);
  std::vector<double> q = f.to_vector<double>();
  RadiusNeighbors out;
  std::vector<Candidate> found;
  for (int64_t row = 0; row < f.dim(0); ++row) {
    found.clear();
    Search{h, &q[static_cast<size_t>(row * h.d)]}.within(0, r * r, found);
    std::sort(found.begin(), found.end());
    std::vector<double> dist;
    std::vector<int64_t> idx;
    for (const auto& [rd, id] : found) {
      dist.push_back(std::sqrt(rd));
      idx.push_back(id);
    }
    auto count = static_cast<int64_t>(found.size());
    out.distances.push_back(as_type(from_vector(dist, {count}), f.dtype()));
    out.indices.push_back(from_vector(idx, {count}));
  }
  return out;
}

}  // namespace nx::ml
