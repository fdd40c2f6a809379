// nx::ml on a Fashion-MNIST subset (the first 2000 training and 500 test images, pixels /
// 255) against scikit-learn's outputs on the same subset (tests/golden/gen_ml_fashion.py):
// the scaler, PCA, k-means, L-BFGS logistic regression (784 x 10 classes: Newton's Hessian
// would be 7850^2), nearest neighbours, both naive Bayes, a tree and a forest.
#include <gtest/gtest.h>

#include <filesystem>

#include "ml_support.hpp"
#include "nx/io/idx.hpp"
#include "nx/ml.hpp"
#include "nx/nx.hpp"

namespace {

using namespace nx_ml_test;

struct Subset {
  nx::Tensor raw_train, raw_test, xtr, xte, ytr, yte;
};

const Subset& subset() {
  static const Subset s = [] {
    nx::io::FashionMnist fm = nx::io::load_fashion_mnist();
    auto rows = [](const nx::Tensor& images, int64_t n) {
      return nx::as_type(nx::reshape(nx::slice(images, {0, 0, 0}, {n, 28, 28}), {n, 784}), nx::f64);
    };
    Subset out;
    out.raw_train = rows(fm.train_images, 2000);
    out.raw_test = rows(fm.test_images, 500);
    out.xtr = out.raw_train / 255.0;
    out.xte = out.raw_test / 255.0;
    out.ytr = nx::as_type(nx::slice(fm.train_labels, {0}, {2000}), nx::i64);
    out.yte = nx::as_type(nx::slice(fm.test_labels, {0}, {500}), nx::i64);
    return out;
  }();
  return s;
}

const nx::Tensor& want(const std::string& key) {
  static const nx::io::TensorDict d = load("fashion");
  return d.at(key);
}

double fraction_equal(const nx::Tensor& a, const nx::Tensor& b) {
  return nx::mean(nx::as_type(nx::equal(a, b), nx::f64)).item<double>();
}

class MlFashionMnist : public ::testing::Test {
 protected:
  void SetUp() override {
    // scripts/setup.sh installs the data set (dataset-fashion-mnist); a build without it
    // says so rather than passing.
    const char* env = std::getenv("NX_FASHION_MNIST_DIR");
    if (!(env && *env) && !std::filesystem::exists("/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz"))
      GTEST_SKIP() << "Fashion-MNIST is not installed (sudo apt-get install dataset-fashion-mnist)";
  }
};

TEST_F(MlFashionMnist, PreprocessingAndDecompositionMatchScikitLearn) {
  const Subset& s = subset();
  auto scaler = nx::ml::StandardScaler::fit(s.xtr);
  expect_near(scaler.mean, want("standard/mean"), 1e-12, "mean");
  expect_near(scaler.scale, want("standard/scale"), 1e-12, "scale");
  for (auto solver : {nx::ml::PCASolver::full, nx::ml::PCASolver::covariance_eigh}) {
    auto pca = nx::ml::PCA::fit(s.xtr, {.components = 20, .solver = solver});
    expect_near(pca.explained_variance_ratio, want("pca/ratio"), 1e-9, "PCA ratio");
    expect_near(pca.singular_values, want("pca/singular"), 1e-8, "PCA singular values");
  }
  // Other random starts: another local optimum, within 1% of scikit-learn's inertia.
  auto km = nx::ml::KMeans::fit(s.xtr, {.clusters = 10, .n_init = 3});
  EXPECT_NEAR(km.inertia.item<double>() / want("kmeans/inertia").item<double>(), 1.0, 0.01);
}

TEST_F(MlFashionMnist, ClassifiersMatchScikitLearn) {
  const Subset& s = subset();
  auto scaler = nx::ml::StandardScaler::fit(s.xtr);
  auto lr = nx::ml::LogisticRegression::fit(scaler.transform(s.xtr), s.ytr, {.c = 0.01, .max_iter = 2000, .tol = 1e-6});
  // Stopped by tol (steps below 1e-6 of the largest coefficient), not by
  // max_iter: probabilities within 1e-3 of scikit-learn's run to its optimum (digits'
  // logistic test checks L-BFGS against Newton to 1e-6).
  EXPECT_LT(lr.iterations.item<int64_t>(), 2000);
  expect_near(lr.predict_proba(scaler.transform(s.xte)), want("logistic/proba"), 1e-3, "logistic proba");
  EXPECT_GE(fraction_equal(lr.predict(scaler.transform(s.xte)), nx::argmax(want("logistic/proba"), {.axis = 1})), 0.998);

  expect_near(nx::ml::KNeighborsClassifier::fit(s.xtr, s.ytr).predict(s.xte), want("knn/pred"), 0, "knn");
  expect_near(nx::ml::GaussianNB::fit(s.xtr, s.ytr).predict(s.xte), want("gnb/pred"), 0, "gaussian nb");
  expect_near(nx::ml::MultinomialNB::fit(s.raw_train, s.ytr).predict(s.raw_test), want("mnb/pred"), 0, "multinomial nb");
  auto t = nx::ml::DecisionTreeClassifier::fit(s.xtr, s.ytr, {.max_depth = 12});
  EXPECT_EQ(t.tree.feature.dim(0), want("tree/nodes").item<int64_t>());
  expect_near(t.predict(s.xte), want("tree/pred"), 0, "tree");
  auto f = nx::ml::RandomForestClassifier::fit(s.xtr, s.ytr, {.estimators = 20, .max_depth = 10});
  expect_near(f.predict_proba(s.xte), want("forest/proba"), 1e-12, "forest");
}

}  // namespace
