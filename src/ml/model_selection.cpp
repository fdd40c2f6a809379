#include "nx/ml/model_selection.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <set>
#include <sstream>

#include "ml/check.hpp"
#include "ml/legacy_random.hpp"
#include "nx/nx.hpp"

namespace nx::ml {
namespace {

using detail::LegacyRandomState;
using detail::legacy_seed;

Tensor indices(const std::vector<int64_t>& v) { return from_vector(v, {static_cast<int64_t>(v.size())}); }

// Class ids of `labels` on the host (ids into the ascending classes) and their counts.
struct HostClasses {
  std::vector<int64_t> ids, counts;
};
HostClasses host_classes(const Tensor& labels, int64_t samples, const std::string& who, Where where) {
  auto c = detail::class_ids(labels, samples, who, where);
  HostClasses h{c.ids.to_vector<int64_t>(), std::vector<int64_t>(static_cast<size_t>(c.count), 0)};
  for (int64_t id : h.ids) ++h.counts[static_cast<size_t>(id)];
  return h;
}

// scikit-learn's _approximate_mode: per class, a share of n_draws close to the class's
// proportion; the draws left after flooring go to the largest remainders, ties broken at
// random.
std::vector<int64_t> approximate_mode(const std::vector<int64_t>& counts, int64_t draws, LegacyRandomState& rng) {
  double total = static_cast<double>(std::accumulate(counts.begin(), counts.end(), int64_t{0}));
  std::vector<double> continuous(counts.size()), floored(counts.size());
  double floored_sum = 0;
  for (size_t i = 0; i < counts.size(); ++i) {
    continuous[i] = static_cast<double>(counts[i]) / total * static_cast<double>(draws);
    floored[i] = std::floor(continuous[i]);
    floored_sum += floored[i];
  }
  auto need = static_cast<int64_t>(static_cast<double>(draws) - floored_sum);
  if (need > 0) {
    std::vector<double> remainder(counts.size());
    for (size_t i = 0; i < counts.size(); ++i) remainder[i] = continuous[i] - floored[i];
    std::set<double, std::greater<>> values(remainder.begin(), remainder.end());
    for (double value : values) {
      std::vector<int64_t> at;
      for (size_t i = 0; i < remainder.size(); ++i)
        if (remainder[i] == value) at.push_back(static_cast<int64_t>(i));
      int64_t now = std::min<int64_t>(static_cast<int64_t>(at.size()), need);
      std::vector<int64_t> order = rng.permutation(static_cast<int64_t>(at.size()));  // choice without replacement
      for (int64_t j = 0; j < now; ++j) floored[static_cast<size_t>(at[static_cast<size_t>(order[static_cast<size_t>(j)])])] += 1;
      need -= now;
      if (need == 0) break;
    }
  }
  return std::vector<int64_t>(floored.begin(), floored.end());
}

// StratifiedShuffleSplit's first split.
Fold stratified_split(const Tensor& labels, int64_t samples, int64_t n_train, int64_t n_test, uint32_t seed,
                      const std::string& who, Where where) {
  HostClasses h = host_classes(labels, samples, who, where);
  auto classes = static_cast<int64_t>(h.counts.size());
  if (*std::min_element(h.counts.begin(), h.counts.end()) < 2)
    throw ValueError(who, "stratify needs at least 2 members in every class", where);
  if (n_train < classes || n_test < classes)
    throw ValueError(who, "the train and test sides must each hold at least one sample per class (" +
                              std::to_string(classes) + " classes)", where);
  std::vector<int64_t> order(static_cast<size_t>(samples));
  std::iota(order.begin(), order.end(), int64_t{0});
  std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return h.ids[size_t(a)] < h.ids[size_t(b)]; });
  LegacyRandomState rng(seed);
  std::vector<int64_t> n_i = approximate_mode(h.counts, n_train, rng);
  std::vector<int64_t> left(h.counts.size());
  for (size_t i = 0; i < left.size(); ++i) left[i] = h.counts[i] - n_i[i];
  std::vector<int64_t> t_i = approximate_mode(left, n_test, rng);
  std::vector<int64_t> train, test;
  size_t begin = 0;
  for (size_t c = 0; c < h.counts.size(); ++c) {
    std::vector<int64_t> perm = rng.permutation(h.counts[c]);
    for (int64_t j = 0; j < n_i[c] + t_i[c]; ++j)
      (j < n_i[c] ? train : test).push_back(order[begin + size_t(perm[size_t(j)])]);
    begin += size_t(h.counts[c]);
  }
  rng.shuffle(train);  // numpy's permutation of a list: a shuffled copy
  rng.shuffle(test);
  return {indices(train), indices(test)};
}

}  // namespace

Fold train_test_indices(int64_t samples, TrainTestSplitOpts opts, Where where) {
  const std::string who = "train_test_split";
  if (!(opts.test_size > 0) || (opts.test_size < 1 ? false : opts.test_size != std::floor(opts.test_size)))
    throw ValueError(who, "test_size must be a fraction in (0, 1) or a whole number of samples", where);
  int64_t n_test = opts.test_size < 1 ? static_cast<int64_t>(std::ceil(opts.test_size * static_cast<double>(samples)))
                                      : static_cast<int64_t>(opts.test_size);
  int64_t n_train = samples - n_test;
  if (n_test < 1 || n_train < 1)
    throw ValueError(who, "test_size " + std::to_string(opts.test_size) + " of " + std::to_string(samples) +
                              " samples leaves " + std::to_string(n_train) + " to train and " +
                              std::to_string(n_test) + " to test; both need at least 1", where);
  uint32_t seed = legacy_seed(opts.seed, who, where);
  if (!opts.shuffle) {
    if (opts.stratify.defined()) throw ValueError(who, "stratify needs shuffle", where);
    std::vector<int64_t> all(static_cast<size_t>(samples));
    std::iota(all.begin(), all.end(), int64_t{0});
    return {indices({all.begin(), all.begin() + n_train}), indices({all.begin() + n_train, all.end()})};
  }
  if (opts.stratify.defined()) return stratified_split(opts.stratify, samples, n_train, n_test, seed, who, where);
  std::vector<int64_t> perm = LegacyRandomState(seed).permutation(samples);
  return {indices({perm.begin() + n_test, perm.end()}), indices({perm.begin(), perm.begin() + n_test})};
}

TrainTestSplit train_test_split(const Tensor& x, const Tensor& y, TrainTestSplitOpts opts, Where where) {
  const std::string who = "train_test_split";
  if (!x.defined() || x.rank() < 1) throw ValueError(who, "x must have a samples axis", where);
  if (y.defined() && (y.rank() < 1 || y.dim(0) != x.dim(0)))
    throw ValueError(who, "x has " + std::to_string(x.dim(0)) + " samples but y has shape " + y.shape().str(), where);
  Fold f = train_test_indices(x.dim(0), std::move(opts), where);
  TrainTestSplit out{take(x, f.train, 0), take(x, f.test, 0), {}, {}};
  if (y.defined()) {
    out.y_train = take(y, f.train, 0);
    out.y_test = take(y, f.test, 0);
  }
  return out;
}

std::vector<Fold> k_fold(int64_t samples, KFoldOpts opts, Where where) {
  const std::string who = "k_fold";
  if (opts.splits < 2 || opts.splits > samples)
    throw ValueError(who, "splits must be between 2 and the number of samples (" + std::to_string(samples) +
                              "), got " + std::to_string(opts.splits), where);
  std::vector<int64_t> order(static_cast<size_t>(samples));
  std::iota(order.begin(), order.end(), int64_t{0});
  if (opts.shuffle) LegacyRandomState(legacy_seed(opts.seed, who, where)).shuffle(order);
  std::vector<Fold> folds;
  int64_t start = 0;
  for (int64_t i = 0; i < opts.splits; ++i) {
    int64_t stop = start + samples / opts.splits + (i < samples % opts.splits ? 1 : 0);
    std::vector<int64_t> test(order.begin() + start, order.begin() + stop);
    std::vector<char> in_test(static_cast<size_t>(samples), 0);
    for (int64_t t : test) in_test[size_t(t)] = 1;
    std::sort(test.begin(), test.end());  // scikit-learn yields indices through a mask: ascending
    std::vector<int64_t> train;
    for (int64_t s = 0; s < samples; ++s)
      if (!in_test[size_t(s)]) train.push_back(s);
    folds.push_back({indices(train), indices(test)});
    start = stop;
  }
  return folds;
}

std::vector<Fold> stratified_k_fold(const Tensor& labels, KFoldOpts opts, Where where) {
  const std::string who = "stratified_k_fold";
  if (!labels.defined() || labels.rank() != 1) throw ValueError(who, "expects labels [samples]", where);
  int64_t samples = labels.dim(0);
  HostClasses h = host_classes(labels, samples, who, where);
  if (opts.splits < 2) throw ValueError(who, "splits must be at least 2", where);
  if (std::all_of(h.counts.begin(), h.counts.end(), [&](int64_t c) { return c < opts.splits; }))
    throw ValueError(who, "splits (" + std::to_string(opts.splits) + ") exceeds the members of every class", where);
  // Classes numbered by first appearance, as scikit-learn's y_encoded.
  std::vector<int64_t> renumber(h.counts.size(), -1);
  int64_t next = 0;
  for (int64_t id : h.ids)
    if (renumber[size_t(id)] < 0) renumber[size_t(id)] = next++;
  std::vector<int64_t> encoded(h.ids.size());
  for (size_t i = 0; i < encoded.size(); ++i) encoded[i] = renumber[size_t(h.ids[i])];
  std::vector<int64_t> sorted = encoded;
  std::sort(sorted.begin(), sorted.end());
  auto classes = static_cast<size_t>(next);
  // allocation[fold][class]: class members in every splits-th sorted label from fold.
  std::vector<std::vector<int64_t>> allocation(size_t(opts.splits), std::vector<int64_t>(classes, 0));
  for (size_t i = 0; i < sorted.size(); ++i) ++allocation[i % size_t(opts.splits)][size_t(sorted[i])];
  LegacyRandomState rng(legacy_seed(opts.seed, who, where));
  std::vector<int64_t> test_fold(static_cast<size_t>(samples), 0);
  for (size_t k = 0; k < classes; ++k) {
    std::vector<int64_t> folds_for_class;
    for (int64_t f = 0; f < opts.splits; ++f) folds_for_class.insert(folds_for_class.end(), size_t(allocation[size_t(f)][k]), f);
    if (opts.shuffle) rng.shuffle(folds_for_class);
    size_t j = 0;
    for (size_t i = 0; i < encoded.size(); ++i)
      if (encoded[i] == int64_t(k)) test_fold[i] = folds_for_class[j++];
  }
  std::vector<Fold> folds;
  for (int64_t f = 0; f < opts.splits; ++f) {
    std::vector<int64_t> train, test;
    for (int64_t s = 0; s < samples; ++s) (test_fold[size_t(s)] == f ? test : train).push_back(s);
    folds.push_back({indices(train), indices(test)});
  }
  return folds;
}

CrossValidation cross_validate(const Tensor& x, const Tensor& y, const std::vector<Fold>& folds,
                               const FitScore& fit_score, Where where) {
  const std::string who = "cross_validate";
  if (folds.empty()) throw ValueError(who, "needs at least one fold", where);
  if (!fit_score) throw ValueError(who, "fit_score is empty: give a function that fits and scores", where);
  if (!x.defined() || x.rank() < 1) throw ValueError(who, "x must have a samples axis", where);
  if (!y.defined() || y.rank() < 1 || y.dim(0) != x.dim(0))
    throw ValueError(who, "x has " + std::to_string(x.dim(0)) + " samples but y has shape " +
                              (y.defined() ? y.shape().str() : "undefined"), where);
  CrossValidation cv;
  for (const Fold& f : folds) {
    for (const Tensor* part : {&f.train, &f.test})
      if (!part->defined() || part->rank() != 1 || part->dim(0) == 0 ||
          (reduce_min(*part).item<int64_t>() < 0 || reduce_max(*part).item<int64_t>() >= x.dim(0)))
        throw ValueError(who, "each fold needs non-empty index lists within the " + std::to_string(x.dim(0)) + " samples",
                         where);
    cv.scores.push_back(fit_score(take(x, f.train, 0), take(y, f.train, 0), take(x, f.test, 0), take(y, f.test, 0)));
  }
  double n = static_cast<double>(cv.scores.size());
  for (double s : cv.scores) cv.mean += s / n;
  for (double s : cv.scores) cv.std += (s - cv.mean) * (s - cv.mean) / n;
  cv.std = std::sqrt(cv.std);
  return cv;
}

template <class T> T Params::get(const std::string& name, Where where) const {
  auto it = values.find(name);
  if (it == values.end()) throw ValueError("Params.get", "no parameter named '" + name + "' (have " + str() + ")", where);
  if constexpr (std::is_same_v<T, double>)
    if (const auto* i = std::get_if<int64_t>(&it->second)) return static_cast<double>(*i);
  if (const auto* v = std::get_if<T>(&it->second)) return *v;
  throw ValueError("Params.get", "parameter '" + name + "' holds another kind of value than requested", where);
}
template int64_t Params::get<int64_t>(const std::string&, Where) const;
template double Params::get<double>(const std::string&, Where) const;
template std::string Params::get<std::string>(const std::string&, Where) const;

std::string Params::str() const {
  std::string s;
  for (const auto& [name, value] : values) {
    if (!s.empty()) s += ' ';
    s += name + '=';
    std::visit([&s](const auto& v) {
      if constexpr (std::is_same_v<std::decay_t<decltype(v)>, std::string>) s += v;
      else {
        std::ostringstream os;
        os << v;
        s += os.str();
      }
    }, value);
  }
  return s;
}

GridSearch grid_search(const ParamGrid& grid, const Tensor& x, const Tensor& y, const std::vector<Fold>& folds,
                       const ParamFitScore& fit_score, Where where) {
  const std::string who = "grid_search";
  if (!fit_score) throw ValueError(who, "fit_score is empty: give a function that fits and scores", where);
  for (const auto& [name, options] : grid)
    if (options.empty()) throw ValueError(who, "parameter '" + name + "' has no values to try", where);
  GridSearch search;
  std::vector<size_t> at(grid.size(), 0);  // an odometer over the grid, the last name fastest
  for (;;) {
    Params p;
    size_t i = 0;
    for (const auto& [name, options] : grid) p.values[name] = options[at[i++]];
    search.results.push_back(cross_validate(x, y, folds, [&p, &fit_score](const Tensor& a, const Tensor& b,
                                                                           const Tensor& c, const Tensor& d) {
      return fit_score(p, a, b, c, d);
    }, where));
    search.params.push_back(std::move(p));
    if (search.results.back().mean > search.results[search.best_index].mean) search.best_index = search.results.size() - 1;
    size_t k = grid.size();
    auto option_count = [&grid](size_t idx) { return std::next(grid.begin(), static_cast<std::ptrdiff_t>(idx))->second.size(); };
    while (k > 0 && ++at[k - 1] == option_count(k - 1)) at[--k] = 0;
    if (k == 0) break;
  }
  return search;
}

}  // namespace nx::ml
