#include "nx/ml/tree.hpp"

#include <cmath>
#include <limits>

#include "ml/check.hpp"
#include "ml/legacy_random.hpp"
#include "ml/tree_builder.hpp"
#include "nx/nx.hpp"

namespace nx::ml {
namespace {

using detail::GrownTree;
using detail::LegacyRandomState;
using detail::TreeSpec;

constexpr int64_t kRandMax = 0x7fffffff;  // scikit-learn's RAND_R_MAX and np.iinfo(np.int32).max

// What every tree and forest checks of its options. max_features: 0 for all.
template <class Opts>
TreeSpec spec_of(bool classification, const Opts& o, int64_t max_features, int64_t features, const std::string& who,
                 Where where) {
  Criterion criterion = o.criterion;
  if (criterion == Criterion::automatic) criterion = classification ? Criterion::gini : Criterion::squared_error;
  if (classification == (criterion == Criterion::squared_error))
    throw ValueError(who, classification ? "a classifier's criterion is gini or entropy"
                                         : "a regressor's criterion is squared_error", where);
  if (o.max_depth < 0 || o.min_samples_split < 2 || o.min_samples_leaf < 1 || !(o.min_impurity_decrease >= 0) ||
      max_features < 0 || max_features > features)
    throw ValueError(who, "needs max_depth >= 0, min_samples_split >= 2, min_samples_leaf >= 1, "
                          "min_impurity_decrease >= 0 and 0 <= max_features <= features (" +
                              std::to_string(features) + ")", where);
  TreeSpec s;
  s.classification = classification;
  s.criterion = criterion;
  s.max_depth = o.max_depth;
  s.min_samples_split = o.min_samples_split;
  s.min_samples_leaf = o.min_samples_leaf;
  s.min_impurity_decrease = o.min_impurity_decrease;
  s.max_features = max_features;
  return s;
}

// x, y and weights on the host, as the builder reads them.
struct HostData {
  std::vector<float> x;
  std::vector<double> y, w;
  int64_t samples, features;
  detail::TreeData view(const std::vector<double>& weights) const { return {x.data(), y.data(), weights.data(), samples, features}; }
};
HostData host(const Tensor& f, const Tensor& y, const Tensor& w) {
  return {as_type(f, DType::f32).to_vector<float>(), as_type(y, DType::f64).to_vector<double>(),
          w.to_vector<double>(), f.dim(0), f.dim(1)};
}

// A fit's checked inputs: the spec, the data on the host, the classes (classifiers) and
// whether y was one target (regressors).
struct Prepared {
  TreeSpec spec;
  HostData data;
  Tensor classes;
  bool single_target = true;
};
template <class Opts>
Prepared prepare(bool classification, const Tensor& x, const Tensor& y, const Opts& o, bool forest,
                 const std::string& who, Where where) {
  Tensor f = detail::features(x, who, where);
  if (f.dim(0) >= (int64_t{1} << 32))  // the builder packs sample indices into 32 bits
    throw ValueError(who, "grows trees on at most 2^32 - 1 samples, got " + std::to_string(f.dim(0)), where);
  int64_t max_features = o.max_features;
  if (forest && max_features == 0 && classification) max_features = std::max<int64_t>(1, int64_t(std::sqrt(double(f.dim(1)))));
  Prepared p{spec_of(classification, o, max_features, f.dim(1), who, where), {}, {}, true};
  Tensor w = detail::weights(o.sample_weight, f.dim(0), DType::f64, who, where);
  if (classification) {
    auto ids = detail::class_ids(y, f.dim(0), who, where);
    p.spec.outputs = ids.count;
    p.classes = ids.classes;
    p.data = host(f, ids.ids, w);
  } else {
    Tensor t = detail::targets(y, f.dim(0), DType::f64, who, where);
    p.spec.outputs = t.rank() == 1 ? 1 : t.dim(1);
    p.single_target = t.rank() == 1;
    p.data = host(f, t, w);
  }
  return p;
}

// The splitter's seed, drawn from the tree's RandomState as scikit-learn's Splitter.init.
uint32_t splitter_seed(uint32_t tree_seed) { return uint32_t(LegacyRandomState(tree_seed).randint(0, kRandMax)); }

Tensor importances_of(const std::vector<GrownTree>& trees, int64_t features) {
  // A forest: the mean over trees that split at all, normalised again.
  std::vector<double> sum(size_t(features), 0.0);
  int64_t counted = 0;
  for (const GrownTree& t : trees) {
    if (t.nodes() < 2 && trees.size() > 1) continue;
    auto imp = t.importances(features);
    for (size_t i = 0; i < sum.size(); ++i) sum[i] += imp[i];
    ++counted;
  }
  double total = 0;
  for (double& v : sum) total += v /= double(std::max<int64_t>(counted, 1));
  if (trees.size() > 1 && total > 0)
    for (double& v : sum) v /= total;
  return from_vector(sum, {features});
}

std::vector<GrownTree> grow_forest(const HostData& d, const TreeSpec& spec, const RandomForestOpts& opts,
                                   bool weighted, const std::string& who, Where where) {
  LegacyRandomState forest(detail::legacy_seed(opts.seed, who, where));
  std::vector<uint32_t> seeds;
  for (int64_t t = 0; t < opts.estimators; ++t) seeds.push_back(uint32_t(forest.randint(0, kRandMax)));
  std::vector<GrownTree> trees;
  for (uint32_t seed : seeds) {
    std::vector<double> w = d.w;
    if (opts.bootstrap) {  // a bootstrap sample as counts, drawn as scikit-learn's _generate_sample_indices
      LegacyRandomState draw(seed);
      std::vector<int64_t> picks;
      if (weighted) {
        picks = draw.weighted_choice(d.w, d.samples);
      } else {
        for (int64_t i = 0; i < d.samples; ++i) picks.push_back(draw.randint(0, d.samples));
      }
      std::fill(w.begin(), w.end(), 0.0);
      for (int64_t p : picks) w[size_t(p)] += 1;
    }
    trees.push_back(detail::grow_tree(d.view(w), spec, splitter_seed(seed)));
  }
  return trees;
}

// Each tree's values at the leaves x reaches, summed over the trees in order (as
// scikit-learn accumulates them) and divided by their count.
Tensor tree_mean(const Tensor& x, const TreeNodes& t) {
  Tensor values = detail::leaf_values(t, detail::leaves(x, t));  // [trees, samples, outputs]
  Tensor total = fori_loop(int64_t{0}, values.dim(0), zeros_like(take(values, int64_t{0}, 0)),
                           [&values](const Tensor& i, const Tensor& acc) { return acc + take(values, i, 0); });
  return total / static_cast<double>(values.dim(0));
}

// tree_mean of x as the fitted estimator reads it (its feature count from importances).
Tensor mean_at(const TreeNodes& t, const Tensor& importances, const Tensor& x, const char* who, Where where) {
  return tree_mean(detail::features(x, importances.dim(0), who, where), t);
}

// One tree grown with the splitter seed scikit-learn's tree draws from random_state.
std::vector<GrownTree> grow_one(const Prepared& p, uint64_t seed, const std::string& who, Where where) {
  return {detail::grow_tree(p.data.view(p.data.w), p.spec, splitter_seed(detail::legacy_seed(seed, who, where)))};
}

Tensor regression_output(const Tensor& out, bool single) { return single ? reshape(out, {out.dim(0)}) : out; }

void check_forest(const RandomForestOpts& o, const std::string& who, Where where) {
  if (o.estimators < 1) throw ValueError(who, "estimators must be at least 1", where);
}

}  // namespace

DecisionTreeClassifier DecisionTreeClassifier::fit(const Tensor& x, const Tensor& y, DecisionTreeOpts opts, Where where) {
  const std::string who = "DecisionTreeClassifier.fit";
  Prepared p = prepare(true, x, y, opts, false, who, where);
  std::vector<GrownTree> grown = grow_one(p, opts.seed, who, where);
  return {p.classes, detail::to_nodes(grown, p.spec.outputs, false), importances_of(grown, p.data.features)};
}

Tensor DecisionTreeClassifier::predict_proba(const Tensor& x, Where where) const {
  return mean_at(tree, feature_importances, x, "DecisionTreeClassifier.predict_proba", where);
}

Tensor DecisionTreeClassifier::predict(const Tensor& x, Where where) const {
  Tensor proba = mean_at(tree, feature_importances, x, "DecisionTreeClassifier.predict", where);
  return take(classes, argmax(proba, {.axis = 1}), 0);
}

Tensor DecisionTreeClassifier::apply(const Tensor& x, Where where) const {
  Tensor f = detail::features(x, feature_importances.dim(0), "DecisionTreeClassifier.apply", where);
  return reshape(detail::leaves(f, tree), {f.dim(0)});
}

DecisionTreeRegressor DecisionTreeRegressor::fit(const Tensor& x, const Tensor& y, DecisionTreeOpts opts, Where where) {
  const std::string who = "DecisionTreeRegressor.fit";
  Prepared p = prepare(false, x, y, opts, false, who, where);
  std::vector<GrownTree> grown = grow_one(p, opts.seed, who, where);
  return {detail::to_nodes(grown, p.spec.outputs, false), importances_of(grown, p.data.features), p.single_target};
}

Tensor DecisionTreeRegressor::predict(const Tensor& x, Where where) const {
  return regression_output(mean_at(tree, feature_importances, x, "DecisionTreeRegressor.predict", where), single_target);
}

Tensor DecisionTreeRegressor::apply(const Tensor& x, Where where) const {
  Tensor f = detail::features(x, feature_importances.dim(0), "DecisionTreeRegressor.apply", where);
  return reshape(detail::leaves(f, tree), {f.dim(0)});
}

RandomForestClassifier RandomForestClassifier::fit(const Tensor& x, const Tensor& y, RandomForestOpts opts, Where where) {
  const std::string who = "RandomForestClassifier.fit";
  check_forest(opts, who, where);
  Prepared p = prepare(true, x, y, opts, true, who, where);
  auto grown = grow_forest(p.data, p.spec, opts, opts.sample_weight.defined(), who, where);
  return {p.classes, detail::to_nodes(grown, p.spec.outputs, true), importances_of(grown, p.data.features)};
}

Tensor RandomForestClassifier::predict_proba(const Tensor& x, Where where) const {
  return mean_at(trees, feature_importances, x, "RandomForestClassifier.predict_proba", where);
}

Tensor RandomForestClassifier::predict(const Tensor& x, Where where) const {
  Tensor proba = mean_at(trees, feature_importances, x, "RandomForestClassifier.predict", where);
  return take(classes, argmax(proba, {.axis = 1}), 0);
}

RandomForestRegressor RandomForestRegressor::fit(const Tensor& x, const Tensor& y, RandomForestOpts opts, Where where) {
  const std::string who = "RandomForestRegressor.fit";
  check_forest(opts, who, where);
  Prepared p = prepare(false, x, y, opts, true, who, where);
  auto grown = grow_forest(p.data, p.spec, opts, opts.sample_weight.defined(), who, where);
  return {detail::to_nodes(grown, p.spec.outputs, true), importances_of(grown, p.data.features), p.single_target};
}

Tensor RandomForestRegressor::predict(const Tensor& x, Where where) const {
  return regression_output(mean_at(trees, feature_importances, x, "RandomForestRegressor.predict", where), single_target);
}

}  // namespace nx::ml
