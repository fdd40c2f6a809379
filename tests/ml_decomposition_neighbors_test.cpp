// Randomized PCA, TruncatedSVD, the k-d tree (alone and under KNeighbors*) and
// MultinomialNB against scikit-learn on its own data sets: the data and split from
// tests/golden/ml/<name>.npz, the reference outputs from tests/golden/ml/decomposition.npz
// (tests/golden/gen_ml_decomposition.py); then the errors for bad input.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include "ml_support.hpp"
#include "nx/io/state_dict.hpp"
#include "nx/ml/decomposition.hpp"
#include "nx/ml/kd_tree.hpp"
#include "nx/ml/neighbors_bayes.hpp"
#include "nx/nx.hpp"
#include "test_support.hpp"

namespace {

using namespace nx_ml_test;

const nx::io::TensorDict& golden() {
  static const nx::io::TensorDict d = load("decomposition");
  return d;
}
nx::Tensor gold(const std::string& key) { return golden().at(key); }

// max over elements of |got - want| / |want|.
double max_relative(const nx::Tensor& got, const nx::Tensor& want) {
  EXPECT_EQ(got.shape(), want.shape());
  auto g = got.to_vector<double>(), w = want.to_vector<double>();
  double worst = 0;
  for (size_t i = 0; i < g.size() && i < w.size(); ++i) worst = std::max(worst, std::abs(g[i] - w[i]) / std::abs(w[i]));
  return worst;
}
// Per row, max |got - want| (components: row r is the r-th component).
std::vector<double> row_errors(const nx::Tensor& got, const nx::Tensor& want) {
  EXPECT_EQ(got.shape(), want.shape());
  auto g = got.to_vector<double>(), w = want.to_vector<double>();
  int64_t cols = want.dim(1);
  std::vector<double> out(static_cast<size_t>(want.dim(0)));
  for (size_t i = 0; i < g.size() && i < w.size(); ++i)
    out[i / static_cast<size_t>(cols)] = std::max(out[i / static_cast<size_t>(cols)], std::abs(g[i] - w[i]));
  return out;
}
nx::Tensor rows(const nx::Tensor& x, int64_t count) { return nx::slice(x, {0, 0}, {count, x.dim(1)}); }

// Digits, 10 components, scikit-learn's automatic 4 power iterations: the sketch's error
// is what the iterations leave of the trailing components, whose singular values sit
// within a few percent of each other and of the 11th. Over seeds 0..19 nx's sketch is off
// the exact explained variances by at most 1.5e-4 relative, the 3 leading components by
// 3.1e-6 and the others by 3.8e-3 (scikit-learn's own randomized run, with its random
// stream, by 6.5e-6 relative and 2e-3); the bounds below leave a few times that. More
// iterations reach rounding.
const double kSketchVariance = 5e-4, kSketchLeading = 2e-5, kSketchTrailing = 1e-2;

TEST(MlRandomizedPca, MatchesScikitLearnWithinTheSketchError) {
  auto d = load("digits");
  auto [train, test] = split(d);
  auto p = nx::ml::PCA::fit(train, {.components = 10, .solver = nx::ml::PCASolver::randomized});
  EXPECT_EQ(p.solver, nx::ml::PCASolver::randomized);
  expect_near(p.mean, d.at("pca/mean"), 1e-12, "mean");
  for (const auto& [got, key] : {std::pair{p.explained_variance, "explained_variance"},
                                 {p.explained_variance_ratio, "explained_variance_ratio"},
                                 {p.singular_values, "singular_values"}})
    EXPECT_LE(max_relative(got, gold(std::string("digits/pca_randomized/") + key)), kSketchVariance) << key;
  EXPECT_LE(max_relative(p.explained_variance, d.at("pca/explained_variance")), kSketchVariance);
  std::vector<double> errors = row_errors(p.components, d.at("pca/components"));
  std::vector<double> sk = row_errors(p.components, gold("digits/pca_randomized/components"));
  for (size_t r = 0; r < errors.size(); ++r) {
    EXPECT_LE(errors[r], r < 3 ? kSketchLeading : kSketchTrailing) << "component " << r << " against the exact one";
    EXPECT_LE(sk[r], r < 3 ? kSketchLeading : kSketchTrailing) << "component " << r << " against scikit-learn's";
  }
  // Projections use the sketched components like the exact ones.
  expect_near(p.transform(test), nx::dot(test - p.mean, nx::transpose(p.components)), 1e-12, "transform");

  // 20 power iterations: the exact PCA to rounding.
  auto sharp = nx::ml::PCA::fit(train, {.components = 10, .solver = nx::ml::PCASolver::randomized, .n_iter = 20});
  EXPECT_LE(max_relative(sharp.explained_variance, d.at("pca/explained_variance")), 1e-10);
  EXPECT_LE(max_relative(sharp.explained_variance_ratio, d.at("pca/explained_variance_ratio")), 1e-10);
  expect_near(sharp.components, d.at("pca/components"), 1e-7, "components, 20 iterations");
  expect_near(sharp.transform(test), d.at("pca/out"), 1e-6, "transform, 20 iterations");
  // Another seed: another sketch, the same answer within the sketch error.
  auto other = nx::ml::PCA::fit(train, {.components = 10, .solver = nx::ml::PCASolver::randomized, .seed = 1});
  EXPECT_GT(max_relative(other.explained_variance, p.explained_variance), 0.0);
  EXPECT_LE(max_relative(other.explained_variance, d.at("pca/explained_variance")), kSketchVariance);
  auto again = nx::ml::PCA::fit(train, {.components = 10, .solver = nx::ml::PCASolver::randomized});
  expect_near(again.components, p.components, 0, "same seed, same result");

  // Breast cancer, 5 components (7 iterations): a fast-decaying spectrum, exact to rounding.
  auto bc = load("breast_cancer");
  auto [bc_train, bc_test] = split(bc);
  auto q = nx::ml::PCA::fit(bc_train, {.components = 5, .solver = nx::ml::PCASolver::randomized});
  EXPECT_LE(max_relative(q.explained_variance, gold("breast_cancer/pca_randomized/explained_variance")), 1e-10);
  EXPECT_LE(max_relative(q.explained_variance_ratio, gold("breast_cancer/pca_randomized/explained_variance_ratio")), 1e-10);
  EXPECT_LE(max_relative(q.singular_values, gold("breast_cancer/pca_randomized/singular_values")), 1e-10);
  expect_near(q.components, gold("breast_cancer/pca_randomized/components"), 1e-9, "breast_cancer components");
  expect_near(q.transform(bc_test), bc.at("pca/out"), 1e-9, "breast_cancer transform");
  auto qw = nx::ml::PCA::fit(bc_train, {.components = 5, .whiten = true, .solver = nx::ml::PCASolver::randomized});
  expect_near(qw.transform(bc_test), bc.at("pca_whiten/out"), 1e-9, "breast_cancer whitened");
}

// solver auto_ follows scikit-learn's rule: the tall training sets go covariance_eigh (the
// values MlPca checks), all components of a small one full, a wide matrix (digits' train split transposed, [64, 1347]) goes
// randomized, through the sketch on its transpose (over seeds 0..19: explained variances
// within 1.2e-4 relative, the 5 leading components within 4e-5).
TEST(MlRandomizedPca, AutoSolverPicksAsScikitLearnDoes) {
  auto d = load("digits");
  auto [train, test] = split(d);
  auto tall = nx::ml::PCA::fit(train, {.components = 10});
  EXPECT_EQ(tall.solver, nx::ml::PCASolver::covariance_eigh);
  expect_near(tall.explained_variance, d.at("pca/explained_variance"), 1e-10, "tall: covariance_eigh");
  auto full = nx::ml::PCA::fit(train, {.components = 10, .solver = nx::ml::PCASolver::full});
  expect_near(full.explained_variance, d.at("pca/explained_variance"), 1e-10, "full");
  expect_near(full.components, tall.components, 1e-9, "full and covariance_eigh components");
  auto iris = load("iris");
  EXPECT_EQ(nx::ml::PCA::fit(iris.at("x")).solver, nx::ml::PCASolver::full);  // small
  nx::Tensor wide = nx::transpose(train);
  auto p = nx::ml::PCA::fit(wide, {.components = 10});
  EXPECT_EQ(p.solver, nx::ml::PCASolver::randomized);
  expect_near(p.mean, gold("digits/pca_wide_full/mean"), 1e-12, "wide mean");
  EXPECT_LE(max_relative(p.explained_variance, gold("digits/pca_wide/explained_variance")), kSketchVariance);
  EXPECT_LE(max_relative(p.explained_variance_ratio, gold("digits/pca_wide/explained_variance_ratio")), kSketchVariance);
  EXPECT_LE(max_relative(p.explained_variance, gold("digits/pca_wide_full/explained_variance")), kSketchVariance);
  std::vector<double> errors = row_errors(rows(p.components, 5), gold("digits/pca_wide_full/components"));
  for (size_t r = 0; r < errors.size(); ++r) EXPECT_LE(errors[r], 2e-4) << "component " << r;
  auto exact = nx::ml::PCA::fit(wide, {.components = 10, .solver = nx::ml::PCASolver::full});
  EXPECT_LE(max_relative(exact.explained_variance, gold("digits/pca_wide_full/explained_variance")), 1e-10);
  expect_near(rows(exact.components, 5), gold("digits/pca_wide_full/components"), 1e-9, "wide, full");

  // randomized_svd itself: u s vt rebuilds the rank-k part; u and vt orthonormal.
  auto [u, s, vt] = nx::ml::randomized_svd(train, 10, {.n_iter = 20});
  EXPECT_EQ(u.shape(), nx::Shape({train.dim(0), 10}));
  expect_near(nx::dot(nx::transpose(u), u), nx::eye(10, nx::f64), 1e-12, "u orthonormal");
  expect_near(nx::dot(vt, nx::transpose(vt)), nx::eye(10, nx::f64), 1e-12, "vt orthonormal");
  auto [fu, fs, fvt] = nx::linalg::svd(train, {.full_matrices = false});
  EXPECT_LE(max_relative(s, nx::slice(fs, {0}, {10})), 1e-10);

  nx_test::expect_op_error<nx::ValueError>(
      [&x = train] { nx::ml::PCA::fit(x, {.components = 3, .solver = nx::ml::PCASolver::randomized, .n_oversamples = 0}); },
      "PCA.fit", "n_oversamples must be >= 1");
  nx_test::expect_op_error<nx::ValueError>([&x = train] { nx::ml::PCA::fit(x, {.components = 3, .n_iter = -2}); },
                                           "PCA.fit", "n_iter");
  nx_test::expect_op_error<nx::ValueError>(
      [&x = train] { nx::ml::PCA::fit(x, {.components = 65, .solver = nx::ml::PCASolver::randomized}); }, "PCA.fit",
      "between 1 and");
  nx_test::expect_op_error<nx::ValueError>([&x = train] { nx::ml::randomized_svd(x, 0); }, "randomized_svd",
                                           "between 1 and");
  nx_test::expect_op_error<nx::ValueError>([] { nx::ml::randomized_svd(nx::ones({4}), 1); }, "randomized_svd",
                                           "[samples, features]");
  nx_test::expect_op_error<nx::ValueError>([&] { p.transform(nx::ones({2, 3}, nx::f64)); }, "PCA.transform",
                                           "expects 1347 features");
}

// exact against scikit-learn's ARPACK (tol 0: converged to rounding) on all five sets;
// randomized (5 power iterations, scikit-learn's default) against both. TruncatedSVD does
// not centre, so the first component follows the mean and the spectrum decays fast after
// it: the sketch agrees to ~1e-8 relative except on digits (over seeds 0..19: singular
// values and variances within 7e-6 relative, the 4 leading components within 3.3e-7, the
// others within 1.1e-3).
TEST(MlTruncatedSvd, MatchesScikitLearnOnItsDataSets) {
  for (const char* name : {"iris", "wine", "breast_cancer", "diabetes", "digits"}) {
    SCOPED_TRACE(name);
    auto d = load(name);
    auto [train, test] = split(d);
    std::string at = std::string(name) + "/tsvd_";
    int64_t k = gold(at + "arpack/components").dim(0);
    auto e = nx::ml::TruncatedSVD::fit(train, {.components = k, .algorithm = nx::ml::TruncatedSVDAlgorithm::exact});
    expect_near(e.components, gold(at + "arpack/components"), 1e-9, "exact components");
    EXPECT_LE(max_relative(e.singular_values, gold(at + "arpack/singular_values")), 1e-10);
    EXPECT_LE(max_relative(e.explained_variance, gold(at + "arpack/explained_variance")), 1e-9);
    EXPECT_LE(max_relative(e.explained_variance_ratio, gold(at + "arpack/explained_variance_ratio")), 1e-9);
    expect_near(e.transform(test), gold(at + "arpack/out"), 1e-9, "exact transform");
    auto r = nx::ml::TruncatedSVD::fit(train, {.components = k});
    bool digits = std::string(name) == "digits";
    double tol = digits ? 5e-5 : 1e-8;
    EXPECT_LE(max_relative(r.singular_values, gold(at + "randomized/singular_values")), tol);
    EXPECT_LE(max_relative(r.singular_values, e.singular_values), tol);
    EXPECT_LE(max_relative(r.explained_variance, gold(at + "randomized/explained_variance")), tol);
    EXPECT_LE(max_relative(r.explained_variance_ratio, gold(at + "randomized/explained_variance_ratio")), tol);
    std::vector<double> errors = row_errors(r.components, e.components);
    for (size_t c = 0; c < errors.size(); ++c)
      EXPECT_LE(errors[c], digits && c >= 4 ? 1e-2 : 2e-6) << "randomized component " << c;
  }
  // All components of iris: the inverse transform gives the data back (no mean involved).
  auto d = load("iris");
  auto [train, test] = split(d);
  auto all = nx::ml::TruncatedSVD::fit(train, {.components = 4, .algorithm = nx::ml::TruncatedSVDAlgorithm::exact});
  expect_near(all.inverse_transform(all.transform(test)), test, 1e-12, "round trip");
  auto sd = nx::io::to_state_dict(all);
  auto back = nx::io::from_state_dict(nx::ml::TruncatedSVD::fit(train, {.components = 4}), sd);
  expect_near(back.transform(test), all.transform(test), 0, "state dict");

  nx_test::expect_op_error<nx::ValueError>([&x = train] { nx::ml::TruncatedSVD::fit(x, {.components = 5}); },
                                           "TruncatedSVD.fit", "between 1 and min(samples, features) = 4");
  nx_test::expect_op_error<nx::ValueError>([&x = train] { nx::ml::TruncatedSVD::fit(x, {.components = 0}); },
                                           "TruncatedSVD.fit", "between 1 and");
  nx_test::expect_op_error<nx::ValueError>([&x = train] { nx::ml::TruncatedSVD::fit(x, {.n_iter = -1}); },
                                           "TruncatedSVD.fit", "n_iter");
  nx_test::expect_op_error<nx::ValueError>(
      [] { nx::ml::TruncatedSVD::fit(nx::from_vector(std::vector<double>{1, NAN, 3, 4}, {2, 2}), {.components = 1}); },
      "TruncatedSVD.fit", "NaN");
  nx_test::expect_op_error<nx::ValueError>([] { nx::ml::TruncatedSVD::fit(nx::ones({3, 2, 2}), {.components = 1}); },
                                           "TruncatedSVD.fit", "[samples, features]");
  nx_test::expect_op_error<nx::ValueError>([&] { all.transform(nx::ones({2, 3}, nx::f64)); }, "TruncatedSVD.transform",
                                           "expects 4 features");
  nx_test::expect_op_error<nx::ValueError>([&] { all.inverse_transform(nx::ones({2, 3}, nx::f64)); },
                                           "TruncatedSVD.inverse_transform", "expects 4 features");
}

// The k nearest by (distance, index), by exhaustive search on the host: the reference for
// data full of exact ties.
std::pair<std::vector<double>, std::vector<int64_t>> exhaustive(const nx::Tensor& x, const nx::Tensor& q, int64_t k) {
  auto xs = x.to_vector<double>(), qs = q.to_vector<double>();
  int64_t n = x.dim(0), d = x.dim(1);
  std::vector<double> dist;
  std::vector<int64_t> idx;
  for (int64_t r = 0; r < q.dim(0); ++r) {
    std::vector<std::pair<double, int64_t>> all;
    for (int64_t i = 0; i < n; ++i) {
      double s = 0;
      for (int64_t j = 0; j < d; ++j) {
        double t = qs[static_cast<size_t>(r * d + j)] - xs[static_cast<size_t>(i * d + j)];
        s += t * t;
      }
      all.emplace_back(s, i);
    }
    std::sort(all.begin(), all.end());
    for (int64_t j = 0; j < k; ++j) {
      dist.push_back(std::sqrt(all[static_cast<size_t>(j)].first));
      idx.push_back(all[static_cast<size_t>(j)].second);
    }
  }
  return {dist, idx};
}

// KDTree.query and query_radius against scikit-learn's on the raw train/test split of
// iris (duplicate rows: tied distances), wine and diabetes, for several leaf sizes (deep
// and shallow trees answer alike).
TEST(MlKdTree, QueriesMatchScikitLearn) {
  for (const char* name : {"iris", "wine", "diabetes"}) {
    SCOPED_TRACE(name);
    auto d = load(name);
    auto [train, test] = split(d);
    std::string at = std::string(name) + "/kdtree/";
    for (int64_t leaf : {1, 5, 40, 1000}) {
      SCOPED_TRACE("leaf_size " + std::to_string(leaf));
      auto tree = nx::ml::KDTree::build(train, {.leaf_size = leaf});
      auto [dist, idx] = tree.query(test, 5);
      expect_near(dist, gold(at + "dist"), 1e-12, "distances");
      EXPECT_EQ(idx.to_vector<int64_t>(), gold(at + "ind").to_vector<int64_t>());
      auto within = tree.query_radius(test, gold(at + "radius").item<double>());
      ASSERT_EQ(within.indices.size(), static_cast<size_t>(test.dim(0)));
      std::vector<int64_t> counts, ind;
      std::vector<double> rd;
      for (size_t r = 0; r < within.indices.size(); ++r) {
        counts.push_back(within.indices[r].dim(0));
        for (int64_t i : within.indices[r].to_vector<int64_t>()) ind.push_back(i);
        for (double v : within.distances[r].to_vector<double>()) rd.push_back(v);
      }
      EXPECT_EQ(counts, gold(at + "radius_count").to_vector<int64_t>());
      EXPECT_EQ(ind, gold(at + "radius_ind").to_vector<int64_t>());
      expect_near(nx::from_vector(rd, {static_cast<int64_t>(rd.size())}), gold(at + "radius_dist"), 1e-12, "radius");
    }
  }
  // Integer points on a grid with every row twice, queried from grid points: distances
  // tie everywhere, and the k nearest are the smallest indices among equals.
  std::vector<double> grid;
  for (int rep = 0; rep < 2; ++rep)
    for (int i = 0; i < 64; ++i) grid.insert(grid.end(), {double(i % 8), double(i / 8 % 4), double(i / 32)});
  nx::Tensor x = nx::from_vector(grid, {128, 3});
  nx::Tensor q = nx::slice(x, {0, 0}, {40, 3}) + 0.0;
  for (int64_t leaf : {1, 3, 30}) {
    auto tree = nx::ml::KDTree::build(x, {.leaf_size = leaf});
    for (int64_t k : {1, 4, 7, 128}) {
      auto [dist, idx] = tree.query(q, k);
      auto [want_dist, want_idx] = exhaustive(x, q, k);
      EXPECT_EQ(idx.to_vector<int64_t>(), want_idx) << "leaf " << leaf << " k " << k;
      EXPECT_EQ(dist.to_vector<double>(), want_dist) << "leaf " << leaf << " k " << k;
    }
  }
  auto tree = nx::ml::KDTree::build(x, {.leaf_size = 2});
  EXPECT_EQ(tree.query(nx::tensor({{2.0, 1.0, 0.0}}), 2).second.to_vector<int64_t>(), (std::vector<int64_t>{10, 74}));
  auto back = nx::io::from_state_dict(nx::ml::KDTree::build(x, {.leaf_size = 2}), nx::io::to_state_dict(tree));
  EXPECT_EQ(back.query(q, 5).second.to_vector<int64_t>(), tree.query(q, 5).second.to_vector<int64_t>());

  nx_test::expect_op_error<nx::ValueError>([&] { tree.query(q, 0); }, "KDTree.query", "k must be between 1 and");
  nx_test::expect_op_error<nx::ValueError>([&] { tree.query(q, 129); }, "KDTree.query", "k must be between 1 and");
  nx_test::expect_op_error<nx::ValueError>([&] { tree.query(nx::ones({2, 2}, nx::f64), 1); }, "KDTree.query",
                                           "expects 3 features");
  nx_test::expect_op_error<nx::ValueError>(
      [&] { tree.query(nx::from_vector(std::vector<double>{1, NAN, 3}, {1, 3}), 1); }, "KDTree.query", "NaN");
  nx_test::expect_op_error<nx::ValueError>([&] { tree.query_radius(q, -1.0); }, "KDTree.query_radius", "radius");
  nx_test::expect_op_error<nx::ValueError>([&] { nx::ml::KDTree::build(x, {.leaf_size = 0}); }, "KDTree.build",
                                           "leaf_size");
  nx_test::expect_op_error<nx::ValueError>([] { nx::ml::KDTree::build(nx::ones({5})); }, "KDTree.build",
                                           "[samples, features]");
}

// brute and kd_tree give scikit-learn's predictions (auto_: kd_tree for iris and wine,
// brute for breast_cancer and digits, as scikit-learn's own choice for these references),
// and the same neighbour sets as each other, ties included.
TEST(MlKdTree, KNeighborsAlgorithmsAgreeWithEachOtherAndScikitLearn) {
  using A = nx::ml::KNeighborsAlgorithm;
  for (const char* name : {"iris", "wine", "breast_cancer", "digits"}) {
    SCOPED_TRACE(name);
    auto d = load(name);
    auto [xtr, xte, ytr, yte] = standardized(d);
    auto chosen = nx::ml::KNeighborsClassifier::fit(xtr, ytr);
    EXPECT_EQ(chosen.algorithm, xtr.dim(1) <= 15 ? A::kd_tree : A::brute);
    for (A a : {A::brute, A::kd_tree}) {
      auto knn = nx::ml::KNeighborsClassifier::fit(xtr, ytr, {.algorithm = a});
      EXPECT_EQ(knn.algorithm, a);
      expect_near(knn.predict_proba(xte), d.at("knn/proba"), 1e-12, "proba");
      EXPECT_EQ(knn.predict(xte).to_vector<int64_t>(), d.at("knn/pred").to_vector<int64_t>());
    }
  }
  // Raw digits: integer pixels, many exactly tied distances.
  auto [train, test, ytr, yte] = train_test(load("digits"));
  auto brute = nx::ml::KNeighborsClassifier::fit(train, ytr, {.algorithm = A::brute});
  auto kd = nx::ml::KNeighborsClassifier::fit(train, ytr, {.algorithm = A::kd_tree, .leaf_size = 10});
  for (const auto* m : {&brute, &kd}) {
    expect_near(m->predict_proba(test), gold("digits/knn_raw/proba"), 0, "raw digits proba");
    EXPECT_EQ(m->predict(test).to_vector<int64_t>(), gold("digits/knn_raw/pred").to_vector<int64_t>());
  }
  // Each training row its own class: proba marks the neighbour set itself.
  nx::Tensor own = nx::iota({train.dim(0)}, nx::i64);
  for (int64_t k : {1, 5, 20}) {
    auto b = nx::ml::KNeighborsClassifier::fit(train, own, {.neighbors = k, .algorithm = A::brute});
    auto t = nx::ml::KNeighborsClassifier::fit(train, own, {.neighbors = k, .algorithm = A::kd_tree});
    expect_near(t.predict_proba(test), b.predict_proba(test), 0, "neighbour sets, k " + std::to_string(k));
  }
  // Under jit the query is traced: the brute path, the same predictions.
  auto jitted = nx::jit([&m = kd](const nx::Tensor& q) { return m.predict(q); });
  EXPECT_EQ(jitted(test).to_vector<int64_t>(), gold("digits/knn_raw/pred").to_vector<int64_t>());
  // The tree is part of the fitted state.
  auto back = nx::io::from_state_dict(nx::ml::KNeighborsClassifier::fit(train, ytr, {.algorithm = A::kd_tree, .leaf_size = 10}),
                                      nx::io::to_state_dict(kd));
  EXPECT_EQ(back.predict(test).to_vector<int64_t>(), kd.predict(test).to_vector<int64_t>());
  auto brute_back = nx::io::from_state_dict(nx::ml::KNeighborsClassifier::fit(train, ytr, {.algorithm = A::brute}),
                                            nx::io::to_state_dict(brute));
  EXPECT_EQ(brute_back.tree.order.shape(), nx::Shape({0}));

  auto dia = load("diabetes");
  auto [rxtr, rxte, rytr, ryte] = standardized(dia);
  for (A a : {A::auto_, A::brute, A::kd_tree}) {
    auto reg = nx::ml::KNeighborsRegressor::fit(rxtr, rytr, {.algorithm = a});
    EXPECT_EQ(reg.algorithm, a == A::brute ? A::brute : A::kd_tree);
    expect_near(reg.predict(rxte), dia.at("knn_regressor/pred"), 1e-12, "knn regressor");
  }
  // auto_ goes brute once neighbors reach half the samples (scikit-learn's rule).
  EXPECT_EQ(nx::ml::KNeighborsRegressor::fit(nx::iota({10, 2}, nx::f64), nx::ones({10}), {.neighbors = 5}).algorithm,
            A::brute);
  nx_test::expect_op_error<nx::ValueError>(
      [&x = train, &y = ytr] { nx::ml::KNeighborsClassifier::fit(x, y, {.algorithm = A::kd_tree, .leaf_size = 0}); },
      "KNeighborsClassifier.fit", "leaf_size");
  nx_test::expect_op_error<nx::ValueError>(
      [&x = rxtr, &y = rytr] { nx::ml::KNeighborsRegressor::fit(x, y, {.neighbors = 0, .algorithm = A::kd_tree}); },
      "KNeighborsRegressor.fit", "neighbors must be between 1 and");
  nx_test::expect_op_error<nx::ValueError>([&] { kd.predict(nx::ones({2, 5}, nx::f64)); },
                                           "KNeighborsClassifier.predict_proba", "expects 64 features");
  nx_test::expect_op_error<nx::ValueError>(
      [&] { kd.predict(nx::full({1, 64}, double(NAN), nx::f64)); }, "KNeighborsClassifier.predict_proba", "NaN");
}

// Fitted on the raw (count-like, non-negative) features of iris, wine and digits.
TEST(MlMultinomialNb, MatchesScikitLearn) {
  for (const char* name : {"iris", "wine", "digits"}) {
    SCOPED_TRACE(name);
    auto [train, test, ytr, yte] = train_test(load(name));
    std::string at = std::string(name) + "/mnb";
    auto m = nx::ml::MultinomialNB::fit(train, ytr);
    expect_near(m.class_count, gold(at + "/class_count"), 0, "class_count");
    expect_near(m.feature_count, gold(at + "/feature_count"), 1e-12, "feature_count");
    expect_near(m.class_log_prior, gold(at + "/class_log_prior"), 1e-12, "class_log_prior");
    expect_near(m.feature_log_prob, gold(at + "/feature_log_prob"), 1e-12, "feature_log_prob");
    expect_near(m.joint_log_likelihood(test), gold(at + "/jll"), 1e-12, "jll");
    expect_near(m.predict_proba(test), gold(at + "/proba"), 1e-10, "proba");
    expect_near(m.predict_log_proba(test), gold(at + "/log_proba"), 1e-10, "log_proba");
    EXPECT_EQ(m.predict(test).to_vector<int64_t>(), gold(at + "/pred").to_vector<int64_t>());

    auto a = nx::ml::MultinomialNB::fit(train, ytr, {.alpha = 0.5, .fit_prior = false});
    expect_near(a.feature_log_prob, gold(at + "_alpha/feature_log_prob"), 1e-12, "alpha feature_log_prob");
    expect_near(a.class_log_prior, gold(at + "_alpha/class_log_prior"), 1e-12, "uniform prior");
    EXPECT_EQ(a.predict(test).to_vector<int64_t>(), gold(at + "_alpha/pred").to_vector<int64_t>());
    auto p = nx::ml::MultinomialNB::fit(train, ytr, {.class_prior = gold(at + "_prior/class_prior")});
    expect_near(p.class_log_prior, gold(at + "_prior/class_log_prior"), 1e-12, "given prior");
    EXPECT_EQ(p.predict(test).to_vector<int64_t>(), gold(at + "_prior/pred").to_vector<int64_t>());
    if (std::string(name) != "digits") {
      expect_near(a.predict_proba(test), gold(at + "_alpha/proba"), 1e-10, "alpha proba");
      expect_near(p.predict_proba(test), gold(at + "_prior/proba"), 1e-10, "prior proba");
    }
  }
  nx::Tensor x = nx::iota({6, 2}, nx::f64), y = nx::tensor({0, 1, 0, 1, 0, 1});
  nx_test::expect_op_error<nx::ValueError>([&] { nx::ml::MultinomialNB::fit(x - 1.0, y); }, "MultinomialNB.fit",
                                           "non-negative");
  nx_test::expect_op_error<nx::ValueError>([&] { nx::ml::MultinomialNB::fit(x, y, {.alpha = -1}); },
                                           "MultinomialNB.fit", "alpha");
  nx_test::expect_op_error<nx::ValueError>(
      [&] { nx::ml::MultinomialNB::fit(x, y, {.class_prior = nx::tensor({0.2, 0.3, 0.5})}); }, "MultinomialNB.fit",
      "class_prior must be [2]");
  nx_test::expect_op_error<nx::ValueError>(
      [&] { nx::ml::MultinomialNB::fit(x, y, {.class_prior = nx::tensor({-0.5, 1.5})}); }, "MultinomialNB.fit",
      "non-negative");
  nx_test::expect_op_error<nx::ValueError>([&] { nx::ml::MultinomialNB::fit(x, nx::zeros({6}, nx::i64)); },
                                           "MultinomialNB.fit", "at least 2 classes");
  nx_test::expect_op_error<nx::ValueError>(
      [&] { nx::ml::MultinomialNB::fit(nx::from_vector(std::vector<double>{1, NAN, 3, 4}, {2, 2}), nx::tensor({0, 1})); },
      "MultinomialNB.fit", "NaN");
  auto m = nx::ml::MultinomialNB::fit(x, y);
  nx_test::expect_op_error<nx::ValueError>([&] { m.predict(nx::ones({2, 3}, nx::f64)); },
                                           "MultinomialNB.joint_log_likelihood", "expects 2 features");
}

}  // namespace
