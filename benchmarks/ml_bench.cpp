// nx::ml's fit and predict times on the workloads of shared/TARGETS.md and issue 17,
// beside scikit-learn's (benchmarks/peers_ml.py) in scripts/bench_ml.sh: StandardScaler
// and PCA(50) on Fashion-MNIST's 60000 x 784 (f32, pixels / 255), k-means k=10 n_init=10
// on digits, k-means and logistic regression on Fashion-MNIST, KNN(5) on its 10000 test
// images, and a decision tree on digits. Counters carry the quality a time must come with
// (inertia, explained variance, accuracy). The short ones warm up first and repeat three
// times (the report takes the median), as peers_ml.py times scikit-learn's after an
// untimed call; the long ones run once, as its.
#include <benchmark/benchmark.h>

#include <string>

#include "nx/io/idx.hpp"
#include "nx/io/npz.hpp"
#include "nx/ml.hpp"
#include "nx/nx.hpp"

namespace {

struct Fashion {
  nx::Tensor xtr, ytr, xte, yte;
};
const Fashion& fashion() {
  static const Fashion f = [] {
    auto fm = nx::io::load_fashion_mnist();
    auto flat = [](const nx::Tensor& images) {
      return nx::as_type(nx::reshape(images, {images.dim(0), 784}), nx::f32) / 255.0;
    };
    return Fashion{flat(fm.train_images), nx::as_type(fm.train_labels, nx::i64), flat(fm.test_images),
                   nx::as_type(fm.test_labels, nx::i64)};
  }();
  return f;
}

const nx::io::TensorDict& digits() {
  static const nx::io::TensorDict d = nx::io::load_npz(std::string(NX_SOURCE_DIR) + "/tests/golden/ml/digits.npz");
  return d;
}

double accuracy(const nx::Tensor& predicted, const nx::Tensor& truth) {
  return nx::mean(nx::as_type(nx::equal(predicted, truth), nx::f64)).item<double>();
}

void BM_StandardScalerFashion(benchmark::State& state) {  // fit and transform, as fit_transform
  const nx::Tensor& x = fashion().xtr;
  for (auto _ : state) {
    auto s = nx::ml::StandardScaler::fit(x);
    nx::Tensor z = s.transform(x);  // eager: computed here
    benchmark::DoNotOptimize(z);
  }
}
BENCHMARK(BM_StandardScalerFashion)->Unit(benchmark::kMillisecond)->UseRealTime()->MinWarmUpTime(0.5)->Repetitions(3);

void BM_Pca50Fashion(benchmark::State& state) {
  const nx::Tensor& x = fashion().xtr;
  double explained = 0;
  for (auto _ : state) {
    auto p = nx::ml::PCA::fit(x, {.components = 50});
    explained = nx::sum(p.explained_variance_ratio).item<double>();
  }
  state.counters["explained_variance_ratio_sum"] = explained;
}
BENCHMARK(BM_Pca50Fashion)->Unit(benchmark::kMillisecond)->UseRealTime()->MinWarmUpTime(0.5)->Repetitions(3);

void BM_KMeansDigits(benchmark::State& state) {  // TARGETS: k=10, n_init=10 on all of digits
  nx::Tensor x = digits().at("x");
  double inertia = 0;
  for (auto _ : state) inertia = nx::ml::KMeans::fit(x, {.clusters = 10, .n_init = 10}).inertia.item<double>();
  state.counters["inertia"] = inertia;
}
BENCHMARK(BM_KMeansDigits)->Unit(benchmark::kMillisecond)->UseRealTime()->MinWarmUpTime(0.5)->Repetitions(3);

void BM_KMeansFashion(benchmark::State& state) {  // k=10, one k-means++ start (scikit-learn's n_init="auto")
  const nx::Tensor& x = fashion().xtr;
  double inertia = 0;
  for (auto _ : state) inertia = nx::ml::KMeans::fit(x, {.clusters = 10, .n_init = 1}).inertia.item<double>();
  state.counters["inertia"] = inertia;
}
BENCHMARK(BM_KMeansFashion)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(1);

void BM_LogisticFashion(benchmark::State& state) {  // multinomial, C=1, 100 L-BFGS iterations at most
  const Fashion& f = fashion();
  double acc = 0;
  for (auto _ : state) {
    auto m = nx::ml::LogisticRegression::fit(f.xtr, f.ytr, {.max_iter = 100, .tol = 1e-4});
    acc = accuracy(m.predict(f.xte), f.yte);
    state.counters["iterations"] = double(m.iterations.item<int64_t>());
  }
  state.counters["test_accuracy"] = acc;
}
BENCHMARK(BM_LogisticFashion)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(1);

void BM_KnnFashion10000Queries(benchmark::State& state) {  // fit on 60000, predict the 10000 test images
  const Fashion& f = fashion();
  double acc = 0;
  for (auto _ : state) {
    auto knn = nx::ml::KNeighborsClassifier::fit(f.xtr, f.ytr, {.neighbors = 5});
    acc = accuracy(knn.predict(f.xte), f.yte);
  }
  state.counters["test_accuracy"] = acc;
}
BENCHMARK(BM_KnnFashion10000Queries)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(1);

void BM_DecisionTreeDigits(benchmark::State& state) {  // fit on the 75% split, predict the rest
  const auto& d = digits();
  nx::Tensor xtr = nx::take(d.at("x"), d.at("train"), 0), xte = nx::take(d.at("x"), d.at("test"), 0);
  nx::Tensor ytr = nx::take(d.at("y"), d.at("train"), 0), yte = nx::take(d.at("y"), d.at("test"), 0);
  double acc = 0;
  for (auto _ : state) acc = accuracy(nx::ml::DecisionTreeClassifier::fit(xtr, ytr).predict(xte), yte);
  state.counters["test_accuracy"] = acc;
}
BENCHMARK(BM_DecisionTreeDigits)->Unit(benchmark::kMillisecond)->UseRealTime()->MinWarmUpTime(0.5)->Repetitions(3);

}  // namespace
