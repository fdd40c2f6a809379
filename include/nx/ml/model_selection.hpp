// Splitting data and choosing hyperparameters, as scikit-learn's model_selection. Splits
// are index tensors; with the same seed they equal scikit-learn's for random_state=seed
// (the same MT19937 stream and the same draws), so a result can be compared split for
// split with a Python reference.
//
//   auto [x_train, x_test, y_train, y_test] = nx::ml::train_test_split(x, y, {.test_size = 0.25, .seed = 0});
//   auto folds = nx::ml::stratified_k_fold(y, {.splits = 5});
//   auto cv = nx::ml::cross_validate(x, y, folds, [](const nx::Tensor& xtr, const nx::Tensor& ytr,
//                                                    const nx::Tensor& xte, const nx::Tensor& yte) {
//     auto model = nx::ml::LogisticRegression::fit(xtr, ytr);
//     return nx::metrics::accuracy(yte, model.predict(xte)).item<double>();
//   });
//   cv.mean;   // of cv.scores, one per fold
//
// Bad sizes, too few samples or members of a class for the folds, and labels that are not
// whole numbers raise nx::ValueError naming the function.
#pragma once
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <variant>
#include <vector>

#include "nx/tensor.hpp"
#include "nx/tree.hpp"

namespace nx::ml {

// Row indices (i64) of one split.
struct Fold {
  Tensor train, test;
};

struct TrainTestSplitOpts {
  nx::detail::NamedFieldsOnly named_fields_only;
  double test_size = 0.25;  // a fraction in (0, 1), or a sample count when >= 1
  bool shuffle = true;      // false: the first rows train, the last test
  uint64_t seed = 0;        // scikit-learn's random_state (below 2^32)
  Tensor stratify;          // labels: each class in the same proportion on both sides
};
Fold train_test_indices(int64_t samples, TrainTestSplitOpts opts = {}, Where where = Where::current());
struct TrainTestSplit {
  Tensor x_train, x_test, y_train, y_test;
};
TrainTestSplit train_test_split(const Tensor& x, const Tensor& y, TrainTestSplitOpts opts = {},
                                Where where = Where::current());

struct KFoldOpts {
  nx::detail::NamedFieldsOnly named_fields_only;
  int64_t splits = 5;
  bool shuffle = false;  // shuffle before cutting (within each class for the stratified folds)
  uint64_t seed = 0;     // scikit-learn's random_state (below 2^32)
};
// Consecutive test blocks; the first samples % splits folds hold one more sample.
std::vector<Fold> k_fold(int64_t samples, KFoldOpts opts = {}, Where where = Where::current());
// Folds that keep the class proportions of `labels` (integers [samples]).
std::vector<Fold> stratified_k_fold(const Tensor& labels, KFoldOpts opts = {}, Where where = Where::current());

// Scores a model fitted on (x_train, y_train) on (x_test, y_test); higher is better.
using FitScore = std::function<double(const Tensor& x_train, const Tensor& y_train, const Tensor& x_test,
                                      const Tensor& y_test)>;
struct CrossValidation {
  std::vector<double> scores;  // one per fold
  double mean = 0, std = 0;    // std: population (ddof 0), as scikit-learn's std_test_score
};
CrossValidation cross_validate(const Tensor& x, const Tensor& y, const std::vector<Fold>& folds,
                               const FitScore& fit_score, Where where = Where::current());

// One point of a parameter grid: values by name.
using ParamValue = std::variant<int64_t, double, std::string>;
class Params {
 public:
  std::map<std::string, ParamValue> values;
  // The value of `name` as T (int64_t, double: also from an integer, or std::string);
  // ValueError naming the parameter when it is missing or of another kind.
  template <class T> T get(const std::string& name, Where where = Where::current()) const;
  std::string str() const;  // "c=0.1 max_depth=3"
};
extern template int64_t Params::get<int64_t>(const std::string&, Where) const;
extern template double Params::get<double>(const std::string&, Where) const;
extern template std::string Params::get<std::string>(const std::string&, Where) const;

// Each name with the values to try; every combination is tried, in scikit-learn's
// ParameterGrid order (names sorted, the last name varying fastest).
using ParamGrid = std::map<std::string, std::vector<ParamValue>>;
using ParamFitScore = std::function<double(const Params& params, const Tensor& x_train, const Tensor& y_train,
                                           const Tensor& x_test, const Tensor& y_test)>;
struct GridSearch {
  std::vector<Params> params;                  // every combination, in order
  std::vector<CrossValidation> results;        // for each
  size_t best_index = 0;                       // the highest mean score (the first on ties)
  const Params& best_params() const { return params[best_index]; }
  double best_score() const { return results[best_index].mean; }
};
GridSearch grid_search(const ParamGrid& grid, const Tensor& x, const Tensor& y, const std::vector<Fold>& folds,
                       const ParamFitScore& fit_score, Where where = Where::current());

}  // namespace nx::ml
