// What the nx::ml tests share: scikit-learn's data sets and reference outputs from
// tests/golden/ml/*.npz (written by tests/golden/gen_ml*.py), the 75/25 split, and an
// elementwise comparison.
#pragma once
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "nx/io/npz.hpp"
#include "nx/ml/preprocessing.hpp"
#include "nx/nx.hpp"

namespace nx_ml_test {

inline nx::io::TensorDict load(const std::string& name) {
  return nx::io::load_npz(std::string(NX_TEST_DATA_DIR) + "/ml/" + name + ".npz");
}

// |got - want| <= tol * max(1, max|want|), elementwise, as f64.
inline void expect_near(const nx::Tensor& got, const nx::Tensor& want, double tol, const std::string& what) {
  ASSERT_EQ(got.shape(), want.shape()) << what;
  auto g = got.to_vector<double>(), w = want.to_vector<double>();
  double scale = 1;
  for (double v : w) scale = std::max(scale, std::abs(v));
  for (size_t i = 0; i < g.size(); ++i) ASSERT_NEAR(g[i], w[i], tol * scale) << what << " at " << i;
}

struct Split {
  nx::Tensor train, test;
};
inline Split split(const nx::io::TensorDict& d, const std::string& key = "x") {
  nx::Tensor x = d.at(key);
  return {nx::take(x, d.at("train"), 0), nx::take(x, d.at("test"), 0)};
}

// x and y split as the data set's train and test rows.
struct TrainTest {
  nx::Tensor xtr, xte, ytr, yte;
};
inline TrainTest train_test(const nx::io::TensorDict& d) {
  auto [xtr, xte] = split(d);
  auto [ytr, yte] = split(d, "y");
  return {xtr, xte, ytr, yte};
}

// The split, x standardized on its train part (as TARGETS' reference scores).
inline TrainTest standardized(const nx::io::TensorDict& d) {
  TrainTest t = train_test(d);
  auto scaler = nx::ml::StandardScaler::fit(t.xtr);
  return {scaler.transform(t.xtr), scaler.transform(t.xte), t.ytr, t.yte};
}

// Labels equal up to a renaming of the clusters: the fraction of samples whose label maps
// to the other's under the best one-to-one renaming (greedy over the confusion counts).
inline double agreement(const nx::Tensor& a, const nx::Tensor& b, int64_t k) {
  auto x = a.to_vector<int64_t>(), y = b.to_vector<int64_t>();
  std::vector<std::vector<int64_t>> counts(static_cast<size_t>(k), std::vector<int64_t>(static_cast<size_t>(k)));
  for (size_t i = 0; i < x.size(); ++i) ++counts[static_cast<size_t>(x[i])][static_cast<size_t>(y[i])];
  int64_t matched = 0;
  std::vector<bool> used_a(static_cast<size_t>(k)), used_b(static_cast<size_t>(k));
  for (int64_t round = 0; round < k; ++round) {
    int64_t best = -1;
    size_t bi = 0, bj = 0;
    for (size_t i = 0; i < static_cast<size_t>(k); ++i)
      for (size_t j = 0; j < static_cast<size_t>(k); ++j)
        if (!used_a[i] && !used_b[j] && counts[i][j] > best) best = counts[i][j], bi = i, bj = j;
    used_a[bi] = used_b[bj] = true;
    matched += best;
  }
  return double(matched) / double(x.size());
}

}  // namespace nx_ml_test
