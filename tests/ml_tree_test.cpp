// nx::ml's trees, forests, splits, cross-validation, encoders and polynomial features
// against scikit-learn on its own data sets (tests/golden/gen_ml_tree.py). With the same
// seeds, trees and forests are scikit-learn's node for node, and splits index for index.
#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "ml_support.hpp"
#include "nx/io/state_dict.hpp"
#include "nx/ml.hpp"
#include "nx/nx.hpp"
#include "test_support.hpp"

namespace {

using namespace nx_ml_test;

const nx::io::TensorDict& golden() {
  static const nx::io::TensorDict d = load("tree");
  return d;
}
const nx::Tensor& want(const std::string& key) { return golden().at(key); }

void expect_equal(const nx::Tensor& got, const nx::Tensor& expected, const std::string& what) {
  ASSERT_EQ(got.shape(), expected.shape()) << what;
  EXPECT_EQ(got.to_vector<int64_t>(), expected.to_vector<int64_t>()) << what;
}

void expect_nodes(const nx::ml::TreeNodes& t, const std::string& key) {
  expect_equal(t.feature, want(key + "/feature"), key + " feature");
  expect_equal(t.left, want(key + "/left"), key + " left");
  expect_equal(t.right, want(key + "/right"), key + " right");
  expect_equal(t.samples, want(key + "/samples"), key + " samples");
  expect_near(t.threshold, want(key + "/threshold"), 0, key + " threshold");
  expect_near(t.value, want(key + "/value"), 1e-12, key + " value");
  expect_near(t.impurity, want(key + "/impurity"), 1e-12, key + " impurity");
}

const char* kClassification[] = {"iris", "wine", "breast_cancer", "digits"};

TEST(MlDecisionTree, ClassifierGrowsScikitLearnsTreeNodeForNode) {
  for (const char* name : kClassification) {
    SCOPED_TRACE(name);
    auto [xtr, xte, ytr, yte] = train_test(load(name));
    std::string key = std::string(name) + "/dtc";
    auto t = nx::ml::DecisionTreeClassifier::fit(xtr, ytr);
    expect_nodes(t.tree, key);
    expect_near(t.feature_importances, want(key + "/importances"), 1e-12, "importances");
    expect_near(t.predict_proba(xte), want(key + "/proba"), 0, "proba");
    nx::Tensor labels = t.predict(xte);
    EXPECT_EQ(labels.dtype(), nx::i64);
    expect_equal(labels, nx::argmax(want(key + "/proba"), {.axis = 1}), "predict");
    expect_equal(nx::take(t.tree.feature, t.apply(xte), 0), nx::full({xte.dim(0)}, int64_t{-2}, nx::i64), "apply: leaves");

    key = std::string(name) + "/dtc_entropy";
    auto e = nx::ml::DecisionTreeClassifier::fit(
        xtr, ytr, {.criterion = nx::ml::Criterion::entropy, .max_depth = 5, .min_samples_leaf = 3, .seed = 1});
    expect_equal(e.tree.feature, want(key + "/feature"), "entropy feature");
    expect_near(e.tree.threshold, want(key + "/threshold"), 0, "entropy threshold");
    expect_near(e.predict_proba(xte), want(key + "/proba"), 1e-12, "entropy proba");
    EXPECT_LE(e.tree.depth, 5);
  }
}

TEST(MlDecisionTree, RegressorMatchesScikitLearnOnDiabetes) {
  auto [xtr, xte, ytr, yte] = train_test(load("diabetes"));
  auto t = nx::ml::DecisionTreeRegressor::fit(xtr, ytr);
  // Real-valued targets: sums in another order could move a tie, so structure is checked
  // through the predictions and the first levels.
  expect_nodes(t.tree, "diabetes/dtr");
  expect_near(t.feature_importances, want("diabetes/dtr/importances"), 1e-10, "importances");
  expect_near(t.predict(xte), want("diabetes/dtr/pred"), 1e-12, "pred");
  auto shallow = nx::ml::DecisionTreeRegressor::fit(xtr, ytr, {.max_depth = 4, .min_samples_split = 10});
  expect_near(shallow.predict(xte), want("diabetes/dtr_depth4/pred"), 1e-12, "depth 4");
  // Several targets: each column fits as its own tree would when the split agrees.
  auto two = nx::ml::DecisionTreeRegressor::fit(xtr, nx::stack({ytr, ytr}, 1), {.max_depth = 4, .min_samples_split = 10});
  nx::Tensor p = two.predict(xte);
  ASSERT_EQ(p.shape(), nx::Shape({xte.dim(0), 2}));
  expect_near(nx::slice(p, {0, 0}, {xte.dim(0), 1}), nx::expand_dims(shallow.predict(xte), 1), 1e-9, "two targets");
}

TEST(MlRandomForest, MatchesScikitLearnsForestsTreeForTree) {
  for (const char* name : kClassification) {
    SCOPED_TRACE(name);
    auto d = load(name);
    auto [xtr, xte, ytr, yte] = train_test(d);
    auto f = nx::ml::RandomForestClassifier::fit(xtr, ytr, {.estimators = 20});
    EXPECT_EQ(f.trees.feature.dim(0), 20);
    expect_near(f.predict_proba(xte), want(std::string(name) + "/rfc/proba"), 1e-12, "proba");
    expect_near(f.feature_importances, want(std::string(name) + "/rfc/importances"), 1e-10, "importances");
  }
  auto [xtr, xte, ytr, yte] = train_test(load("breast_cancer"));
  nx::Tensor w = 1.0 + nx::as_type(nx::remainder(nx::iota({xtr.dim(0)}, nx::i64), int64_t{3}), nx::f64);
  auto weighted = nx::ml::RandomForestClassifier::fit(xtr, ytr, {.estimators = 10, .max_depth = 6, .seed = 3,
                                                                 .sample_weight = w});
  expect_near(weighted.predict_proba(xte), want("breast_cancer/rfc_weighted/proba"), 1e-12, "weighted");
  auto [gtr, gte, gytr, gyte] = train_test(load("digits"));
  auto all = nx::ml::RandomForestClassifier::fit(gtr, gytr, {.estimators = 5, .max_features = 64, .bootstrap = false,
                                                             .seed = 7});
  expect_near(all.predict_proba(gte), want("digits/rfc_sqrt_off/proba"), 1e-12, "no bootstrap");

  auto [rtr, rte, rytr, ryte] = train_test(load("diabetes"));
  auto r = nx::ml::RandomForestRegressor::fit(rtr, rytr, {.estimators = 10});
  expect_near(r.predict(rte), want("diabetes/rfr/pred"), 1e-12, "regressor");
}

TEST(MlRandomForest, StateRoundTripsThroughAStateDict) {
  auto [xtr, xte, ytr, yte] = train_test(load("iris"));
  auto f = nx::ml::RandomForestClassifier::fit(xtr, ytr, {.estimators = 5});
  auto back = nx::io::from_state_dict(f, nx::io::to_state_dict(f));
  expect_near(back.predict_proba(xte), f.predict_proba(xte), 0, "round trip");
}

std::vector<int64_t> ints(const nx::Tensor& t) { return t.to_vector<int64_t>(); }

TEST(MlModelSelection, SplitsEqualScikitLearnsForTheSameSeed) {
  struct Case {
    int64_t n;
    double size;
    uint64_t seed;
    const char* key;
  };
  for (Case c : {Case{150, 0.25, 0, "tts_150_25_0"}, Case{150, 0.3, 42, "tts_150_30_42"},
                 Case{1797, 0.2, 7, "tts_1797_20_7"}, Case{23, 0.25, 12345, "tts_23_25_12345"}}) {
    SCOPED_TRACE(c.key);
    auto f = nx::ml::train_test_indices(c.n, {.test_size = c.size, .seed = c.seed});
    EXPECT_EQ(ints(f.train), ints(want(std::string("split/") + c.key + "/train")));
    EXPECT_EQ(ints(f.test), ints(want(std::string("split/") + c.key + "/test")));
  }
  for (auto [name, seed] : {std::pair{"iris", 0}, std::pair{"digits", 42}}) {
    SCOPED_TRACE(name);
    auto d = load(name);
    std::string key = std::string("split/tts_strat_") + name + "_" + std::to_string(seed);
    auto f = nx::ml::train_test_indices(d.at("y").dim(0), {.seed = uint64_t(seed), .stratify = d.at("y")});
    EXPECT_EQ(ints(f.train), ints(want(key + "/train")));
    EXPECT_EQ(ints(f.test), ints(want(key + "/test")));
  }
  // The data form: x and y split by the same indices.
  auto d = load("iris");
  auto s = nx::ml::train_test_split(d.at("x"), d.at("y"));
  expect_near(s.x_test, nx::take(d.at("x"), d.at("test"), 0), 0, "x_test");
  expect_equal(s.y_train, nx::take(d.at("y"), d.at("train"), 0), "y_train");
  auto plain = nx::ml::train_test_indices(10, {.test_size = 3, .shuffle = false});
  EXPECT_EQ(ints(plain.test), (std::vector<int64_t>{7, 8, 9}));

  for (auto [n, seed] : {std::pair{23, 0}, std::pair{150, 5}}) {
    auto folds = nx::ml::k_fold(n, {.splits = 5, .shuffle = true, .seed = uint64_t(seed)});
    for (int i = 0; i < 5; ++i)
      EXPECT_EQ(ints(folds[size_t(i)].test),
                ints(want("split/kfold_" + std::to_string(n) + "_" + std::to_string(seed) + "/test" + std::to_string(i))));
    EXPECT_EQ(folds[0].train.dim(0) + folds[0].test.dim(0), n);
  }
  for (const char* name : {"wine", "digits"})
    for (bool shuffle : {false, true}) {
      auto folds = nx::ml::stratified_k_fold(load(name).at("y"), {.splits = 5, .shuffle = shuffle});
      for (int i = 0; i < 5; ++i)
        EXPECT_EQ(ints(folds[size_t(i)].test), ints(want(std::string("split/skfold_") + name + "_" +
                                                         std::to_string(int(shuffle)) + "/test" + std::to_string(i))))
            << name << " shuffle " << shuffle << " fold " << i;
    }
}

double tree_accuracy(const nx::ml::Params* p, const nx::Tensor& xtr, const nx::Tensor& ytr, const nx::Tensor& xte,
                     const nx::Tensor& yte) {
  nx::ml::DecisionTreeOpts o;
  if (p) {
    o.criterion = p->get<std::string>("criterion") == "gini" ? nx::ml::Criterion::gini : nx::ml::Criterion::entropy;
    o.max_depth = p->get<int64_t>("max_depth");
  }
  auto t = nx::ml::DecisionTreeClassifier::fit(xtr, ytr, o);
  return nx::mean(nx::as_type(nx::equal(t.predict(xte), yte), nx::f64)).item<double>();  // f64, as scikit-learn's
}

TEST(MlModelSelection, CrossValidationAndGridSearchMatchScikitLearn) {
  for (const char* name : kClassification) {
    SCOPED_TRACE(name);
    auto d = load(name);
    auto folds = nx::ml::stratified_k_fold(d.at("y"), {.splits = 5, .shuffle = true});
    auto cv = nx::ml::cross_validate(d.at("x"), d.at("y"), folds,
                                     [](const nx::Tensor& a, const nx::Tensor& b, const nx::Tensor& c,
                                        const nx::Tensor& e) { return tree_accuracy(nullptr, a, b, c, e); });
    expect_near(nx::from_vector(cv.scores, {5}), want(std::string(name) + "/cv_tree/scores"), 1e-15, "scores");
  }
  auto d = load("wine");
  auto search = nx::ml::grid_search(
      {{"criterion", {"entropy", "gini"}}, {"max_depth", {int64_t{1}, int64_t{2}, int64_t{4}}}}, d.at("x"), d.at("y"),
      nx::ml::stratified_k_fold(d.at("y")),
      [](const nx::ml::Params& p, const nx::Tensor& a, const nx::Tensor& b, const nx::Tensor& c, const nx::Tensor& e) {
        return tree_accuracy(&p, a, b, c, e);
      });
  ASSERT_EQ(search.results.size(), 6u);
  std::vector<double> means;
  for (const auto& r : search.results) means.push_back(r.mean);
  expect_near(nx::from_vector(means, {6}), want("wine/grid/mean"), 1e-15, "grid means");
  EXPECT_EQ(int64_t(search.best_index), want("wine/grid/best").item<int64_t>());
  EXPECT_EQ(search.params[1].str(), "criterion=entropy max_depth=2");
  EXPECT_DOUBLE_EQ(search.best_params().get<double>("max_depth"), double(search.best_params().get<int64_t>("max_depth")));
}

TEST(MlEncoders, OneHotAndOrdinalMatchScikitLearn) {
  nx::Tensor x = want("encode/x");
  nx::Tensor reversed = nx::reverse(x, {0});
  auto onehot = nx::ml::OneHotEncoder::fit(x);
  ASSERT_EQ(onehot.categories.size(), 4u);
  for (int j = 0; j < 4; ++j) expect_near(onehot.categories[size_t(j)], want("encode/onehot/cats" + std::to_string(j)), 0, "cats");
  nx::Tensor z = onehot.transform(reversed);
  expect_near(z, want("encode/onehot/out"), 0, "onehot");
  expect_near(onehot.inverse_transform(z), reversed, 0, "onehot inverse");
  auto dropped = nx::ml::OneHotEncoder::fit(x, {.drop_first = true});
  expect_near(dropped.transform(reversed), want("encode/onehot_drop/out"), 0, "drop first");
  expect_near(dropped.inverse_transform(dropped.transform(reversed)), reversed, 0, "drop first inverse");
  auto ordinal = nx::ml::OrdinalEncoder::fit(x);
  expect_near(ordinal.transform(reversed), want("encode/ordinal/out"), 0, "ordinal");
  expect_near(ordinal.inverse_transform(ordinal.transform(reversed)), reversed, 0, "ordinal inverse");

  // NaN is a category of its own (last); unknown values: error, or zeros / unknown_value.
  nx::Tensor with_nan = nx::from_vector(std::vector<double>{2, NAN, 1, 2}, {4, 1});
  auto e = nx::ml::OneHotEncoder::fit(with_nan);
  expect_near(e.transform(with_nan), nx::from_vector(std::vector<double>{0, 1, 0, 0, 0, 1, 1, 0, 0, 0, 1, 0}, {4, 3}),
              0, "NaN category");
  nx::Tensor unseen = nx::from_vector(std::vector<double>{5}, {1, 1});
  nx_test::expect_op_error<nx::ValueError>([&] { e.transform(unseen); }, "OneHotEncoder.transform", "not seen in fit");
  auto lenient = nx::ml::OneHotEncoder::fit(with_nan, {.handle_unknown = nx::ml::HandleUnknown::ignore});
  expect_near(lenient.transform(unseen), nx::zeros({1, 3}, nx::f64), 0, "ignored");
  auto o = nx::ml::OrdinalEncoder::fit(with_nan, {.encode_unknown = true, .unknown_value = -7});
  expect_near(o.transform(nx::concatenate({with_nan, unseen}, 0)),
              nx::from_vector(std::vector<double>{1, 2, 0, 1, -7}, {5, 1}), 0, "ordinal NaN and unknown");
}

TEST(MlPolynomial, FeaturesAndRegressionMatchScikitLearn) {
  nx::Tensor x = nx::slice(load("iris").at("x"), {0, 0}, {10, 4});
  expect_near(nx::ml::PolynomialFeatures::fit(x).transform(x), want("poly/deg2/out"), 1e-14, "degree 2");
  expect_near(nx::ml::PolynomialFeatures::fit(x, {.degree = 3, .interaction_only = true}).transform(x),
              want("poly/deg3_interaction/out"), 1e-14, "interaction only");
  auto nobias = nx::ml::PolynomialFeatures::fit(x, {.include_bias = false});
  EXPECT_EQ(nobias.powers.shape(), nx::Shape({14, 4}));
  expect_near(nobias.transform(x), want("poly/deg2_nobias/out"), 1e-14, "no bias");

  auto [xtr, xte, ytr, yte] = train_test(load("diabetes"));
  auto quad = nx::ml::PolynomialRegression::fit(xtr, ytr);
  expect_near(quad.predict(xte), want("diabetes/poly2/pred"), 1e-9, "degree 2 least squares");
  auto four = [](const nx::Tensor& t) { return nx::slice(t, {0, 0}, {t.dim(0), 4}); };
  auto cubic = nx::ml::PolynomialRegression::fit(four(xtr), ytr, {.degree = 3, .alpha = 1.0});
  expect_near(cubic.predict(four(xte)), want("diabetes/poly3_ridge/pred"), 1e-9, "degree 3 ridge");
}

TEST(MlErrors, TreesSplitsAndEncodersNameTheProblem) {
  nx::Tensor x = nx::iota({6, 2}, nx::f64);
  nx::Tensor y = nx::from_vector(std::vector<int64_t>{0, 1, 0, 1, 0, 1}, {6});
  nx_test::expect_op_error<nx::ValueError>([&] { nx::ml::DecisionTreeClassifier::fit(x, nx::zeros({6}, nx::i64)); },
                                           "DecisionTreeClassifier.fit", "at least 2 classes");
  nx_test::expect_op_error<nx::ValueError>(
      [&] { nx::ml::DecisionTreeClassifier::fit(x, y, {.criterion = nx::ml::Criterion::squared_error}); },
      "DecisionTreeClassifier.fit", "gini or entropy");
  nx_test::expect_op_error<nx::ValueError>([&] { nx::ml::DecisionTreeRegressor::fit(x, nx::ones({6}), {.min_samples_leaf = 0}); },
                                           "DecisionTreeRegressor.fit", "min_samples_leaf");
  nx_test::expect_op_error<nx::ValueError>([&] { nx::ml::RandomForestClassifier::fit(x, y, {.estimators = 0}); },
                                           "RandomForestClassifier.fit", "estimators");
  nx_test::expect_op_error<nx::ValueError>(
      [&] { nx::ml::DecisionTreeClassifier::fit(nx::from_vector(std::vector<double>{1, NAN}, {2, 1}), nx::iota({2})); },
      "DecisionTreeClassifier.fit", "NaN");
  auto t = nx::ml::DecisionTreeClassifier::fit(x, y);
  nx_test::expect_op_error<nx::ValueError>([&] { t.predict(nx::ones({2, 3})); }, "DecisionTreeClassifier.predict",
                                           "expects 2 features");
  nx_test::expect_op_error<nx::ValueError>([&] { nx::ml::train_test_indices(10, {.test_size = 1.5}); },
                                           "train_test_split", "test_size");
  nx_test::expect_op_error<nx::ValueError>([&] { nx::ml::train_test_indices(10, {.test_size = 10}); },
                                           "train_test_split", "both need at least 1");
  nx_test::expect_op_error<nx::ValueError>([&] { nx::ml::k_fold(3, {.splits = 4}); }, "k_fold", "splits");
  nx_test::expect_op_error<nx::ValueError>([&] { nx::ml::stratified_k_fold(y, {.splits = 4}); }, "stratified_k_fold",
                                           "exceeds the members of every class");
  nx_test::expect_op_error<nx::ValueError>([&] { nx::ml::Params{}.get<double>("c"); }, "Params.get", "no parameter");
  nx_test::expect_op_error<nx::ValueError>([&] { nx::ml::PolynomialFeatures::fit(x, {.degree = 0}); },
                                           "PolynomialFeatures.fit", "degree");
  nx_test::expect_op_error<nx::ValueError>(
      [&] { nx::ml::cross_validate(x, y, {{nx::iota({3}), nx::iota({1}) + int64_t{9}}}, nullptr); }, "cross_validate",
      "fit_score is empty");
  nx_test::expect_op_error<nx::ValueError>(
      [&] {
        nx::ml::cross_validate(x, y, {{nx::iota({3}), nx::iota({1}) + int64_t{9}}},
                               [](const nx::Tensor&, const nx::Tensor&, const nx::Tensor&, const nx::Tensor&) { return 0.0; });
      },
      "cross_validate", "within the 6 samples");
  nx_test::expect_op_error<nx::ValueError>([&] { nx::ml::grid_search({}, x, y, nx::ml::k_fold(6, {.splits = 2}), nullptr); },
                                           "grid_search", "fit_score is empty");
}

}  // namespace
