#include "ml/tree_builder.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <limits>
#include <numeric>
#include <utility>

#include "ml/legacy_random.hpp"
#include "nx/nx.hpp"

namespace nx::ml::detail {
namespace {

// Values closer than this count as equal (scikit-learn's FEATURE_THRESHOLD, in f32).
constexpr float kFeatureThreshold = 1e-7f;
constexpr double kEpsilon = std::numeric_limits<double>::epsilon();

double log2_of(double v) { return std::log(v) / std::log(2.0); }

// The impurity statistics of a node's samples [start, end) split at pos, kept as running
// sums that move one way or the other as scikit-learn's Criterion.update does (the same
// order of additions, so the same rounding on real-valued targets).
class Statistics {
 public:
  Statistics(const TreeData& d, const TreeSpec& s, const std::vector<int64_t>& samples, double weighted_total)
      : d_(d), s_(s), samples_(samples), weighted_total_(weighted_total),
        total_(size_t(s.outputs)), left_(size_t(s.outputs)), right_(size_t(s.outputs)) {}

  void init(int64_t start, int64_t end) {
    start_ = start;
    end_ = end;
    std::fill(total_.begin(), total_.end(), 0.0);
    sq_total_ = weighted_node = 0;
    for (int64_t p = start; p < end; ++p) {
      int64_t i = samples_[size_t(p)];
      double w = d_.w[i];
      if (s_.classification) {
        total_[size_t(d_.y[i])] += w;
      } else {
        for (int64_t k = 0; k < s_.outputs; ++k) {
          double wy = w * d_.y[i * s_.outputs + k];
          total_[size_t(k)] += wy;
          sq_total_ += wy * d_.y[i * s_.outputs + k];
        }
      }
      weighted_node += w;
    }
    reset();
  }
  void reset() {
    pos_ = start_;
    weighted_left = 0;
    weighted_right = weighted_node;
    std::fill(left_.begin(), left_.end(), 0.0);
    right_ = total_;
  }
  void update(int64_t new_pos) {
    if (new_pos - pos_ <= end_ - new_pos) {
      for (int64_t p = pos_; p < new_pos; ++p) move(samples_[size_t(p)], 1.0);
    } else {
      pos_ = end_;  // from the end: everything left, then take back [new_pos, end)
      weighted_left = weighted_node;
      left_ = total_;
      for (int64_t p = end_ - 1; p >= new_pos; --p) move(samples_[size_t(p)], -1.0);
    }
    weighted_right = weighted_node - weighted_left;
    for (size_t k = 0; k < total_.size(); ++k) right_[k] = total_[k] - left_[k];
    pos_ = new_pos;
  }

  double node_impurity() const {
    if (!s_.classification) {
      double impurity = sq_total_ / weighted_node;
      for (double t : total_) impurity -= (t / weighted_node) * (t / weighted_node);
      return impurity / double(s_.outputs);
    }
    return class_impurity(total_, weighted_node);
  }
  void children_impurity(double& left, double& right) const {
    if (s_.classification) {
      left = class_impurity(left_, weighted_left);
      right = class_impurity(right_, weighted_right);
      return;
    }
    double sq_left = 0;
    for (int64_t p = start_; p < pos_; ++p) {
      int64_t i = samples_[size_t(p)];
      for (int64_t k = 0; k < s_.outputs; ++k) {
        double y = d_.y[i * s_.outputs + k];
        sq_left += d_.w[i] * y * y;
      }
    }
    left = sq_left / weighted_left;
    right = (sq_total_ - sq_left) / weighted_right;
    for (size_t k = 0; k < total_.size(); ++k) {
      left -= (left_[k] / weighted_left) * (left_[k] / weighted_left);
      right -= (right_[k] / weighted_right) * (right_[k] / weighted_right);
    }
    left /= double(s_.outputs);
    right /= double(s_.outputs);
  }
  // Larger for a better split; drops the terms every split of the node shares.
  double proxy_improvement() const {
    if (!s_.classification) {
      double l = 0, r = 0;
      for (size_t k = 0; k < total_.size(); ++k) {
        l += left_[k] * left_[k];
        r += right_[k] * right_[k];
      }
      return l / weighted_left + r / weighted_right;
    }
    double l, r;
    children_impurity(l, r);
    return -weighted_right * r - weighted_left * l;
  }
  double improvement(double parent, double left, double right) const {
    return (weighted_node / weighted_total_) *
           (parent - (weighted_right / weighted_node * right) - (weighted_left / weighted_node * left));
  }
  void node_value(double* dest) const {
    for (size_t k = 0; k < total_.size(); ++k) dest[k] = total_[k] / weighted_node;  // class fractions, or means
  }

  double weighted_node = 0, weighted_left = 0, weighted_right = 0;

 private:
  void move(int64_t i, double sign) {
    double w = d_.w[i];
    if (s_.classification) {
      left_[size_t(d_.y[i])] += sign * w;
    } else {
      for (int64_t k = 0; k < s_.outputs; ++k) left_[size_t(k)] += sign * w * d_.y[i * s_.outputs + k];
    }
    weighted_left += sign * w;
  }
  double class_impurity(const std::vector<double>& counts, double weighted) const {
    if (s_.criterion == Criterion::entropy) {
      double entropy = 0;
      for (double c : counts)
        if (c > 0) {
          double share = c / weighted;
          entropy -= share * log2_of(share);
        }
      return entropy;
    }
    double sq = 0;
    for (double c : counts) sq += c * c;
    return 1.0 - sq / (weighted * weighted);
  }

  const TreeData& d_;
  const TreeSpec& s_;
  const std::vector<int64_t>& samples_;
  double weighted_total_;
  std::vector<double> total_, left_, right_;
  double sq_total_ = 0;
  int64_t start_ = 0, end_ = 0, pos_ = 0;
};

struct Split {
  int64_t feature = 0, pos = 0;
  double threshold = 0, impurity_left = 0, impurity_right = 0;
  double improvement = -std::numeric_limits<double>::infinity();
};

// scikit-learn's BestSplitter: features drawn without replacement (Fisher-Yates over one
// array that persists from node to node), features found constant remembered for the
// descendants, every position between distinct values tried.
class Splitter {
 public:
  Splitter(const TreeData& d, const TreeSpec& s, std::vector<int64_t>& samples, Statistics& stats, uint32_t seed)
      : d_(d), s_(s), samples_(samples), stats_(stats), rng_(seed), features_(size_t(d.features)),
        constant_(size_t(d.features), 0), values_(samples.size()) {
    std::iota(features_.begin(), features_.end(), int64_t{0});
  }

  Split best(int64_t start, int64_t end, double impurity, int64_t& n_constant) {
    Split best;
    best.pos = end;
    double best_proxy = -std::numeric_limits<double>::infinity();
    int64_t max_features = s_.max_features > 0 ? s_.max_features : d_.features;
    int64_t f_i = d_.features, visited = 0, found = 0, drawn = 0, known = n_constant, total = known;
    while (f_i > total && (visited < max_features || visited <= found + drawn)) {
      ++visited;
      int64_t f_j = rng_.rand_int(drawn, f_i - found);
      if (f_j < known) {
        std::swap(features_[size_t(drawn)], features_[size_t(f_j)]);
        ++drawn;
        continue;
      }
      f_j += found;
      int64_t feature = features_[size_t(f_j)];
      sort_by(feature, start, end);
      if (values_[size_t(end - 1)] <= values_[size_t(start)] + kFeatureThreshold) {
        std::swap(features_[size_t(f_j)], features_[size_t(total)]);
        ++found;
        ++total;
        continue;
      }
      --f_i;
      std::swap(features_[size_t(f_i)], features_[size_t(f_j)]);
      stats_.reset();
      for (int64_t p = start; p < end;) {
        p += 1;  // to the next distinct value
        while (p < end && values_[size_t(p)] <= values_[size_t(p - 1)] + kFeatureThreshold) ++p;
        int64_t prev = p - 1;
        if (p == end || p - start < s_.min_samples_leaf || end - p < s_.min_samples_leaf) continue;
        stats_.update(p);
        double proxy = stats_.proxy_improvement();
        if (proxy > best_proxy) {
          best_proxy = proxy;
          double lo = values_[size_t(prev)], hi = values_[size_t(p)];
          double threshold = lo / 2.0 + hi / 2.0;  // halves: no overflow
          if (threshold == hi || std::isinf(threshold)) threshold = lo;
          best.feature = feature;
          best.pos = p;
          best.threshold = threshold;
        }
      }
    }
    if (best.pos < end) {
      partition(best, start, end);
      stats_.reset();
      stats_.update(best.pos);
      stats_.children_impurity(best.impurity_left, best.impurity_right);
      best.improvement = stats_.improvement(impurity, best.impurity_left, best.impurity_right);
    }
    // Known constants keep their order for siblings and children; new ones are appended.
    std::copy_n(constant_.begin(), known, features_.begin());
    std::copy_n(features_.begin() + known, found, constant_.begin() + known);
    n_constant = total;
    return best;
  }

 private:
  float x(int64_t sample, int64_t feature) const { return d_.x[sample * d_.features + feature]; }
  // Sorts samples [start, end) by their value of `feature`, ties by sample index: as one
  // integer key per sample, the value's bits made to order as the value (-0 as +0) above
  // the index. Comparing through x's rows cost a cache miss per comparison.
  void sort_by(int64_t feature, int64_t start, int64_t end) {
    keys_.clear();
    for (int64_t p = start; p < end; ++p) {
      float v = x(samples_[size_t(p)], feature);
      uint32_t bits = std::bit_cast<uint32_t>(v == 0.0f ? 0.0f : v);
      bits = (bits & 0x80000000u) ? ~bits : bits | 0x80000000u;
      keys_.push_back(uint64_t{bits} << 32 | static_cast<uint32_t>(samples_[size_t(p)]));
    }
    std::sort(keys_.begin(), keys_.end());
    for (int64_t p = start; p < end; ++p) {
      auto sample = static_cast<int64_t>(keys_[size_t(p - start)] & 0xffffffffu);
      samples_[size_t(p)] = sample;
      values_[size_t(p)] = x(sample, feature);
    }
  }
  void partition(const Split& s, int64_t start, int64_t end) {
    int64_t p = start, stop = end;
    while (p < stop) {
      if (double(x(samples_[size_t(p)], s.feature)) <= s.threshold) ++p;
      else std::swap(samples_[size_t(p)], samples_[size_t(--stop)]);
    }
  }

  const TreeData& d_;
  const TreeSpec& s_;
  std::vector<int64_t>& samples_;
  Statistics& stats_;
  TreeRandom rng_;
  std::vector<int64_t> features_, constant_;
  std::vector<float> values_;
  std::vector<uint64_t> keys_;
};

struct Pending {
  int64_t start, end, depth, parent;
  bool is_left;
  double impurity;
  int64_t n_constant;
};

}  // namespace

GrownTree grow_tree(const TreeData& data, const TreeSpec& spec, uint32_t rand_seed) {
  std::vector<int64_t> samples;
  double weighted_total = 0;
  for (int64_t i = 0; i < data.samples; ++i) {
    if (data.w[i] != 0) samples.push_back(i);
    weighted_total += data.w[i];
  }
  Statistics stats(data, spec, samples, weighted_total);
  Splitter splitter(data, spec, samples, stats, rand_seed);
  int64_t max_depth = spec.max_depth > 0 ? spec.max_depth : std::numeric_limits<int32_t>::max();
  GrownTree t;
  std::vector<Pending> stack{{0, int64_t(samples.size()), 0, -1, false, 0, 0}};
  bool first = true;
  while (!stack.empty()) {
    Pending at = stack.back();
    stack.pop_back();
    stats.init(at.start, at.end);
    int64_t n = at.end - at.start;
    bool leaf = at.depth >= max_depth || n < spec.min_samples_split || n < 2 * spec.min_samples_leaf;
    if (first) {
      at.impurity = stats.node_impurity();
      first = false;
    }
    leaf = leaf || at.impurity <= kEpsilon;
    Split split;
    int64_t n_constant = at.n_constant;
    if (!leaf) {
      split = splitter.best(at.start, at.end, at.impurity, n_constant);
      leaf = split.pos >= at.end || split.improvement + kEpsilon < spec.min_impurity_decrease;
    }
    int64_t id = t.nodes();
    if (at.parent >= 0) (at.is_left ? t.left : t.right)[size_t(at.parent)] = id;
    t.feature.push_back(leaf ? -2 : split.feature);
    t.threshold.push_back(leaf ? -2.0 : split.threshold);
    t.left.push_back(-1);
    t.right.push_back(-1);
    t.impurity.push_back(at.impurity);
    t.samples.push_back(n);
    t.weighted_samples.push_back(stats.weighted_node);
    t.value.resize(t.value.size() + size_t(spec.outputs));
    stats.node_value(t.value.data() + id * spec.outputs);
    if (!leaf) {
      stack.push_back({split.pos, at.end, at.depth + 1, id, false, split.impurity_right, n_constant});
      stack.push_back({at.start, split.pos, at.depth + 1, id, true, split.impurity_left, n_constant});
    }
    t.depth = std::max(t.depth, at.depth);
  }
  return t;
}

std::vector<double> GrownTree::importances(int64_t features) const {
  std::vector<double> out(size_t(features), 0.0);
  for (size_t n = 0; n < feature.size(); ++n) {
    if (left[n] < 0) continue;
    auto l = size_t(left[n]), r = size_t(right[n]);
    out[size_t(feature[n])] += weighted_samples[n] * impurity[n] - weighted_samples[l] * impurity[l] -
                               weighted_samples[r] * impurity[r];
  }
  for (double& v : out) v /= weighted_samples[0];
  double sum = std::accumulate(out.begin(), out.end(), 0.0);
  if (sum > 0)
    for (double& v : out) v /= sum;
  return out;
}

TreeNodes to_nodes(const std::vector<GrownTree>& trees, int64_t outputs, bool stacked) {
  int64_t width = 0, depth = 0;
  for (const GrownTree& t : trees) {
    width = std::max(width, t.nodes());
    depth = std::max(depth, t.depth);
  }
  auto count = int64_t(trees.size());
  std::vector<int64_t> feature(size_t(count * width), -2), left(feature.size(), -1), right(feature.size(), -1),
      samples(feature.size(), 0);
  std::vector<double> threshold(feature.size(), -2.0), impurity(feature.size(), 0.0),
      value(feature.size() * size_t(outputs), 0.0);
  for (int64_t t = 0; t < count; ++t) {
    const GrownTree& g = trees[size_t(t)];
    auto at = size_t(t * width);
    std::copy(g.feature.begin(), g.feature.end(), feature.begin() + long(at));
    std::copy(g.left.begin(), g.left.end(), left.begin() + long(at));
    std::copy(g.right.begin(), g.right.end(), right.begin() + long(at));
    std::copy(g.samples.begin(), g.samples.end(), samples.begin() + long(at));
    std::copy(g.threshold.begin(), g.threshold.end(), threshold.begin() + long(at));
    std::copy(g.impurity.begin(), g.impurity.end(), impurity.begin() + long(at));
    std::copy(g.value.begin(), g.value.end(), value.begin() + long(at) * outputs);
  }
  Shape nodes = stacked ? Shape{count, width} : Shape{width};
  Shape values = stacked ? Shape{count, width, outputs} : Shape{width, outputs};
  return {from_vector(feature, nodes), from_vector(threshold, nodes), from_vector(left, nodes),
          from_vector(right, nodes),   from_vector(value, values),     from_vector(impurity, nodes),
          from_vector(samples, nodes), depth};
}

namespace {

// One step per level: each sample moves to a child until its node is a leaf.
Tensor walk(const Tensor& x, const Tensor& feature, const Tensor& threshold, const Tensor& left, const Tensor& right,
            int64_t depth) {
  int64_t n = x.dim(0), features = x.dim(1), trees = feature.dim(0);
  Tensor flat = reshape(as_type(x, DType::f64), {n * features});
  Tensor rows = iota({1, n}, DType::i64, 1) * features;
  return fori_loop(int64_t{0}, depth, zeros({trees, n}, DType::i64), [&](const Tensor&, const Tensor& node) {
    Tensor f = take_along_axis(feature, node, 1);
    Tensor go_left = take(flat, rows + max(f, int64_t{0})) <= take_along_axis(threshold, node, 1);
    Tensor next = where(go_left, take_along_axis(left, node, 1), take_along_axis(right, node, 1));
    return where(f < int64_t{0}, node, next);
  });
}

}  // namespace

Tensor leaves(const Tensor& x, const TreeNodes& t) {
  static const auto compiled = jit(walk);
  bool single = t.feature.rank() == 1;
  auto stack = [single](const Tensor& a) { return single ? expand_dims(a, 0) : a; };
  return compiled(as_type(x, DType::f32), stack(t.feature), stack(t.threshold), stack(t.left), stack(t.right),
                  t.depth);
}

Tensor leaf_values(const TreeNodes& t, const Tensor& leaves) {
  int64_t width = t.feature.dim(t.feature.rank() - 1), outputs = t.value.dim(t.value.rank() - 1);
  int64_t trees = leaves.dim(0);
  Tensor flat = reshape(t.value, {trees * width, outputs});
  Tensor index = leaves + iota({trees, 1}, DType::i64, 0) * width;  // [trees, samples]
  return take(flat, index, 0);  // [trees, samples, outputs]
}

}  // namespace nx::ml::detail
