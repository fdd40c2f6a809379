// nx::metrics against scikit-learn (tests/golden/gen_losses.py writes
// golden/losses/metrics.npz): each batch form, the accumulating Metric over several
// batches against the metric of all the data, jit against eager, and the errors.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "nx/nx.hpp"
#include "nx/train/metrics.hpp"
#include "test_support.hpp"

namespace {

namespace M = nx::metrics;
using M::Average;

const nx::io::TensorDict& golden() {
  static const nx::io::TensorDict d = nx::io::load_npz(std::string(NX_TEST_DATA_DIR) + "/losses/metrics.npz");
  return d;
}
const nx::Tensor& g(const std::string& key) { return golden().at(key); }
// Scores and probabilities as f32 (the generator rounds them to f32).
nx::Tensor g32(const std::string& key) { return nx::as_type(g(key), nx::f32); }
double expected(const std::string& key) { return g(key).item<double>(); }

void expect_value(const nx::Tensor& got, double want, const std::string& what) {
  ASSERT_EQ(got.shape(), nx::Shape{}) << what;
  EXPECT_EQ(got.dtype(), nx::f32) << what;
  EXPECT_NEAR(got.item<double>(), want, 1e-6 * std::max(1.0, std::fabs(want))) << what;
}
void expect_counts(const nx::Tensor& got, const nx::Tensor& want, const std::string& what) {
  EXPECT_EQ(got.dtype(), nx::i64) << what;
  ASSERT_EQ(got.shape(), want.shape()) << what;
  EXPECT_EQ(got.to_vector<int64_t>(), want.to_vector<int64_t>()) << what;
}

const char* average_name(Average a) {
  switch (a) {
    case Average::micro: return "micro";
    case Average::macro: return "macro";
    case Average::weighted: return "weighted";
    case Average::binary: break;
  }
  return "binary";
}

using BatchFn = std::function<nx::Tensor(const nx::Tensor&, const nx::Tensor&)>;

// The metric accumulated over batches of `batch` rows (the last one shorter), each batch's
// statistics computed in a jitted step, and the result of their sum.
nx::Tensor accumulated(const M::Metric& m, const nx::Tensor& y_true, const nx::Tensor& y_pred, int64_t batch) {
  auto step = nx::jit([m](const nx::Tensor& t, const nx::Tensor& p) { return m.statistics(t, p); });
  nx::Tensor total;
  const int64_t n = y_true.dim(0);
  for (int64_t start = 0; start < n; start += batch) {
    int64_t len = std::min(batch, n - start);
    nx::Tensor t = nx::slice_along_axis(y_true, 0, start, len);
    nx::Tensor p = nx::slice_along_axis(y_pred, 0, start, len);
    nx::Tensor s = step(t, p);
    // The jitted statistics equal the eager ones exactly (they are counts or f64 sums).
    nx::Tensor eager = m.statistics(t, p);
    EXPECT_EQ(s.dtype(), eager.dtype());
    EXPECT_TRUE(nx::all(nx::isclose(s, eager, {.rtol = 1e-15, .atol = 0})).item<bool>()) << m.name;
    total = total.defined() ? total + s : s;
  }
  return m.result(total);
}

// A metric checked three ways: the batch form, the Metric on the whole data, the Metric
// accumulated over batches of 7 and of 16.
void check_metric(const std::string& what, const BatchFn& batch, const M::Metric& m, const nx::Tensor& y_true,
                  const nx::Tensor& y_pred, double want) {
  SCOPED_TRACE(what);
  expect_value(batch(y_true, y_pred), want, "batch form");
  expect_value(m.result(m.statistics(y_true, y_pred)), want, "Metric, one batch");
  expect_value(accumulated(m, y_true, y_pred, 7), want, "Metric, batches of 7");
  expect_value(accumulated(m, y_true, y_pred, 16), want, "Metric, batches of 16");
}

// ---- multiclass scores: ids or one-hot labels ----

TEST(MetricGolden, MulticlassAccuracy) {
  nx::Tensor scores = g32("multiclass/y_pred");
  for (const char* labels : {"multiclass/y_true", "multiclass/y_true_onehot"}) {
    nx::Tensor y = g(labels);
    check_metric(std::string(labels) + " accuracy",
                 [](const nx::Tensor& t, const nx::Tensor& p) { return M::accuracy(t, p); }, M::Metric::accuracy(), y,
                 scores, expected("multiclass/accuracy"));
    for (int64_t k : {1, 2, 3, 5}) {
      std::string key = "multiclass/top_" + std::to_string(k) + "_accuracy";
      check_metric(std::string(labels) + " " + key,
                   [k](const nx::Tensor& t, const nx::Tensor& p) { return M::top_k_accuracy(t, p, k); },
                   M::Metric::top_k_accuracy(k), y, scores, expected(key));
    }
  }
  // top-1 is accuracy.
  EXPECT_EQ(M::top_k_accuracy(g("multiclass/y_true"), scores, 1).item<float>(),
            M::accuracy(g("multiclass/y_true"), scores).item<float>());
}

TEST(MetricGolden, MulticlassPrecisionRecallF1) {
  nx::Tensor scores = g32("multiclass/y_pred");
  for (const char* labels : {"multiclass/y_true", "multiclass/y_true_onehot"}) {
    nx::Tensor y = g(labels);
    for (Average avg : {Average::micro, Average::macro, Average::weighted}) {
      const std::string suffix = std::string("_") + average_name(avg);
      M::ClassificationOpts o{.average = avg};
      check_metric(std::string(labels) + " precision" + suffix,
                   [o](const nx::Tensor& t, const nx::Tensor& p) { return M::precision(t, p, o); },
                   M::Metric::precision(o), y, scores, expected("multiclass/precision" + suffix));
      check_metric(std::string(labels) + " recall" + suffix,
                   [o](const nx::Tensor& t, const nx::Tensor& p) { return M::recall(t, p, o); }, M::Metric::recall(o), y,
                   scores, expected("multiclass/recall" + suffix));
      check_metric(std::string(labels) + " f1" + suffix,
                   [o](const nx::Tensor& t, const nx::Tensor& p) { return M::f1(t, p, o); }, M::Metric::f1(o), y, scores,
                   expected("multiclass/f1" + suffix));
    }
  }
}

TEST(MetricGolden, MulticlassConfusionMatrix) {
  nx::Tensor scores = g32("multiclass/y_pred");
  const nx::Tensor& want = g("multiclass/confusion_matrix");
  for (const char* labels : {"multiclass/y_true", "multiclass/y_true_onehot"}) {
    SCOPED_TRACE(labels);
    nx::Tensor y = g(labels);
    expect_counts(M::confusion_matrix(y, scores, 5), want, "batch form");
    M::Metric m = M::Metric::confusion_matrix(5);
    expect_counts(accumulated(m, y, scores, 7), want, "Metric, batches of 7");
  }
}

// ---- binary: probabilities or logits, [N] or [N, 1] ----

TEST(MetricGolden, Binary) {
  nx::Tensor y = g("binary/y_true");
  nx::Tensor prob = g32("binary/y_pred");
  nx::Tensor logits = g32("binary/y_logits");
  const int64_t n = y.dim(0);
  struct Form {
    const char* what;
    nx::Tensor y_true, y_pred;
    bool from_logits;
  };
  std::vector<Form> forms = {
      {"(N) probabilities", y, prob, false},
      {"(N, 1) probabilities", y, nx::reshape(prob, {n, 1}), false},
      {"(N, 1) labels and probabilities", nx::reshape(y, {n, 1}), nx::reshape(prob, {n, 1}), false},
      {"(N, 1) labels, (N) probabilities", nx::reshape(y, {n, 1}), prob, false},
      {"f32 labels", nx::as_type(y, nx::f32), prob, false},
      {"bool labels", nx::as_type(y, nx::boolean), prob, false},
      {"logits", y, logits, true},
  };
  for (const Form& f : forms) {
    for (double threshold : {0.5, 0.3}) {
      if (f.from_logits && threshold != 0.5) continue;
      const std::string suffix = threshold == 0.5 ? "" : "_t03";
      const std::string what = std::string(f.what) + " threshold " + std::to_string(threshold);
      M::AccuracyOpts ao{.threshold = threshold, .from_logits = f.from_logits};
      check_metric(what + " accuracy", [ao](const nx::Tensor& t, const nx::Tensor& p) { return M::accuracy(t, p, ao); },
                   M::Metric::accuracy(ao), f.y_true, f.y_pred, expected("binary/accuracy" + suffix));
      M::ClassificationOpts o{.threshold = threshold, .from_logits = f.from_logits};  // average binary
      check_metric(what + " precision", [o](const nx::Tensor& t, const nx::Tensor& p) { return M::precision(t, p, o); },
                   M::Metric::precision(o), f.y_true, f.y_pred, expected("binary/precision" + suffix));
      check_metric(what + " recall", [o](const nx::Tensor& t, const nx::Tensor& p) { return M::recall(t, p, o); },
                   M::Metric::recall(o), f.y_true, f.y_pred, expected("binary/recall" + suffix));
      check_metric(what + " f1", [o](const nx::Tensor& t, const nx::Tensor& p) { return M::f1(t, p, o); },
                   M::Metric::f1(o), f.y_true, f.y_pred, expected("binary/f1" + suffix));
      if (!f.from_logits && threshold == 0.5)
        expect_counts(M::confusion_matrix(f.y_true, f.y_pred, 2), g("binary/confusion_matrix"), what);
    }
  }
}

// ---- predicted class ids ----

TEST(MetricGolden, ClassIds) {
  nx::Tensor y = g("ids/y_true");
  nx::Tensor p = g("ids/y_pred");
  check_metric("accuracy", [](const nx::Tensor& t, const nx::Tensor& q) { return M::accuracy(t, q); },
               M::Metric::accuracy(), y, p, expected("ids/accuracy"));
  for (Average avg : {Average::micro, Average::macro, Average::weighted}) {
    const std::string suffix = std::string("_") + average_name(avg);
    M::ClassificationOpts o{.average = avg, .num_classes = 4};
    check_metric("precision" + suffix, [o](const nx::Tensor& t, const nx::Tensor& q) { return M::precision(t, q, o); },
                 M::Metric::precision(o), y, p, expected("ids/precision" + suffix));
    check_metric("recall" + suffix, [o](const nx::Tensor& t, const nx::Tensor& q) { return M::recall(t, q, o); },
                 M::Metric::recall(o), y, p, expected("ids/recall" + suffix));
    check_metric("f1" + suffix, [o](const nx::Tensor& t, const nx::Tensor& q) { return M::f1(t, q, o); },
                 M::Metric::f1(o), y, p, expected("ids/f1" + suffix));
  }
  expect_counts(M::confusion_matrix(y, p, 4), g("ids/confusion_matrix"), "confusion matrix");
  // i32 ids count the same.
  expect_counts(M::confusion_matrix(nx::as_type(y, nx::i32), nx::as_type(p, nx::i32), 4), g("ids/confusion_matrix"),
                "i32 ids");
  // Ids outside [0, C) are not counted.
  nx::Tensor cm = M::confusion_matrix(nx::tensor({0, 1, 7, -1}), nx::tensor({0, 5, 1, 1}), 2);
  expect_counts(cm, nx::tensor({{1, 0}, {0, 0}}), "out of range ids");
}

TEST(MetricGolden, MeanAbsoluteError) {
  nx::Tensor y = g32("mae/y_true");
  nx::Tensor p = g32("mae/y_pred");
  check_metric("mae", [](const nx::Tensor& t, const nx::Tensor& q) { return M::mean_absolute_error(t, q); },
               M::Metric::mean_absolute_error(), y, p, expected("mae/mean_absolute_error"));
  // f64 inputs give the same.
  expect_value(M::mean_absolute_error(g("mae/y_true"), g("mae/y_pred")), expected("mae/mean_absolute_error"), "f64");
}

// ---- the whole batch form inside nx::jit ----

TEST(Metrics, JitEqualsEager) {
  nx::Tensor y = g("multiclass/y_true");
  nx::Tensor scores = g32("multiclass/y_pred");
  auto all_metrics = [](const nx::Tensor& t, const nx::Tensor& p) {
    return std::vector<nx::Tensor>{M::accuracy(t, p), M::top_k_accuracy(t, p, 2),
                                   M::precision(t, p, {.average = Average::macro}),
                                   M::recall(t, p, {.average = Average::weighted}),
                                   M::f1(t, p, {.average = Average::micro}), M::confusion_matrix(t, p, 5)};
  };
  std::vector<nx::Tensor> eager = all_metrics(y, scores);
  std::vector<nx::Tensor> traced = nx::jit(all_metrics)(y, scores);
  ASSERT_EQ(eager.size(), traced.size());
  for (size_t i = 0; i < eager.size(); ++i) {
    EXPECT_EQ(eager[i].dtype(), traced[i].dtype());
    EXPECT_TRUE(nx::all(nx::equal(eager[i], traced[i])).item<bool>()) << i;
  }
}

// Zero denominators give 0, as scikit-learn's zero_division default.
TEST(Metrics, ZeroDivision) {
  nx::Tensor y = nx::tensor({1, 1, 0});
  nx::Tensor none_predicted = nx::tensor({0.1f, 0.2f, 0.3f});
  expect_value(M::precision(y, none_predicted), 0.0, "precision, nothing predicted");
  expect_value(M::recall(nx::tensor({0, 0, 0}), none_predicted), 0.0, "recall, no positives");
  expect_value(M::f1(nx::tensor({0, 0, 0}), none_predicted), 0.0, "f1, nothing at all");
  expect_value(M::accuracy(nx::tensor({0, 0, 0}), none_predicted), 1.0, "accuracy");
}

TEST(Metrics, Named) {
  nx::Tensor y = g("multiclass/y_true");
  nx::Tensor scores = g32("multiclass/y_pred");
  for (const char* name : {"accuracy", "acc"}) {
    M::Metric m = M::Metric::named(name);
    EXPECT_EQ(m.name, name);
    expect_value(m.result(m.statistics(y, scores)), expected("multiclass/accuracy"), name);
  }
  M::Metric top3 = M::Metric::named("top_3_accuracy");
  EXPECT_EQ(top3.name, "top_3_accuracy");
  expect_value(top3.result(top3.statistics(y, scores)), expected("multiclass/top_3_accuracy"), "top_3");
  EXPECT_EQ(M::Metric::top_k_accuracy(5).name, "top_5_accuracy");
  expect_value(M::Metric::named("top_k_accuracy").result(M::Metric::named("top_k_accuracy").statistics(y, scores)),
               expected("multiclass/top_5_accuracy"), "top_k");
  M::Metric mae = M::Metric::named("mae");
  expect_value(mae.result(mae.statistics(g32("mae/y_true"), g32("mae/y_pred"))), expected("mae/mean_absolute_error"),
               "mae");
  nx::Tensor b = g("binary/y_true");
  nx::Tensor bp = g32("binary/y_pred");
  for (const char* name : {"precision", "recall", "f1"}) {
    M::Metric m = M::Metric::named(name);
    EXPECT_EQ(m.name, name);
    expect_value(m.result(m.statistics(b, bp)), expected(std::string("binary/") + name), name);
  }
  EXPECT_EQ(nx::train::metrics::Metric::named("mean_absolute_error").name, "mean_absolute_error");
  nx_test::expect_op_error<nx::ValueError>([] { M::Metric::named("acuracy"); }, "metrics::Metric::named",
                                           "unknown metric \"acuracy\"; known: accuracy (acc), top_k_accuracy");
  nx_test::expect_op_error<nx::ValueError>([] { M::Metric::named("top_0_accuracy"); }, "metrics::Metric::named",
                                           "unknown metric");
}

// ---- errors: the metric, both shapes and the caller's line ----

TEST(MetricErrors, Shapes) {
  nx::Tensor scores = nx::zeros({4, 3});
  nx_test::expect_op_error<nx::ShapeError>([&] { M::accuracy(nx::zeros({4, 2}), scores); }, "metrics::accuracy",
                                           "y_true has shape (4, 2) but y_pred has shape (4, 3)");
  nx_test::expect_op_error<nx::ShapeError>([&] { M::accuracy(nx::zeros({5}, nx::i64), scores); }, "metrics::accuracy",
                                           "class ids of shape (4) or one-hot of shape (4, 3)");
  nx_test::expect_op_error<nx::ShapeError>([&] { M::top_k_accuracy(nx::zeros({3}, nx::i64), scores, 2); },
                                           "metrics::top_k_accuracy", "y_true has shape (3) but y_pred has shape (4, 3)");
  nx_test::expect_op_error<nx::ShapeError>([&] { M::precision(nx::zeros({3}), nx::zeros({4})); }, "metrics::precision",
                                           "y_true has shape (3) but y_pred has shape (4)");
  nx_test::expect_op_error<nx::ShapeError>([&] { M::f1(nx::zeros({4}, nx::i64), nx::zeros({4, 2}, nx::i64)); },
                                           "metrics::f1", "(class ids, i64) has shape (4, 2)");
  nx_test::expect_op_error<nx::ShapeError>([&] { M::mean_absolute_error(nx::zeros({4}), nx::zeros({4, 1})); },
                                           "metrics::mean_absolute_error",
                                           "y_true has shape (4) but y_pred has shape (4, 1)");
  nx_test::expect_op_error<nx::ShapeError>([&] { M::confusion_matrix(nx::zeros({4}, nx::i64), scores, 4); },
                                           "metrics::confusion_matrix", "num_classes is 4 but y_pred of shape (4, 3) has 3");
  nx_test::expect_op_error<nx::ShapeError>(
      [&] { M::recall(nx::zeros({4}, nx::i64), scores, {.average = Average::macro, .num_classes = 5}); },
      "metrics::recall", "num_classes is 5");
}

TEST(MetricErrors, Options) {
  nx::Tensor scores = nx::zeros({4, 3});
  nx::Tensor ids = nx::zeros({4}, nx::i64);
  nx_test::expect_op_error<nx::ValueError>([&] { M::precision(ids, scores); }, "metrics::precision",
                                           "average binary needs 2 classes but y_pred of shape (4, 3) has 3; use micro");
  // Class ids: the classes come from the labels (as scikit-learn's), or, inside a trace
  // where the values are unknown, from .num_classes.
  nx::Tensor truth = nx::from_vector(std::vector<int64_t>{0, 2, 1, 2}, {4}), guess = nx::from_vector(std::vector<int64_t>{0, 1, 1, 2}, {4});
  EXPECT_EQ(M::f1(truth, guess, {.average = Average::macro}).item<float>(),
            M::f1(truth, guess, {.average = Average::macro, .num_classes = 3}).item<float>());
  nx_test::expect_op_error<nx::ValueError>(
      [&] { nx::jit([](const nx::Tensor& a) { return M::f1(a, a, {.average = Average::macro}); })(ids); }, "metrics::f1",
      "give .num_classes");
  nx_test::expect_op_error<nx::ValueError>([&] { M::top_k_accuracy(ids, scores, 0); }, "metrics::top_k_accuracy",
                                           "k must be at least 1");
  nx_test::expect_op_error<nx::ValueError>([&] { M::confusion_matrix(ids, ids, 0); }, "metrics::confusion_matrix",
                                           "num_classes must be at least 1");
  // A Metric's statistics report the line that made the metric.
  M::Metric m = M::Metric::precision();
  nx_test::expect_op_error<nx::ValueError>([&] { m.statistics(ids, scores); }, "metrics::precision",
                                           "average binary needs 2 classes");
}

}  // namespace
