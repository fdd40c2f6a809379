// nx::losses against PyTorch (tests/golden/gen_losses.py writes golden/losses/losses.npz):
// every loss and option, its value and the gradient of sum(loss * cot) with respect to
// y_pred (torch autograd in f64), in f32 and f64; jit against eager; the errors.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "nx/nx.hpp"
#include "nx/train/losses.hpp"
#include "test_support.hpp"

namespace {

namespace L = nx::losses;
using R = L::Reduction;

const nx::io::TensorDict& golden() {
  static const nx::io::TensorDict d = nx::io::load_npz(std::string(NX_TEST_DATA_DIR) + "/losses/losses.npz");
  return d;
}

// The tensors of a case beside y_true and y_pred (absent ones are undefined).
struct Extras {
  nx::Tensor pos_weight, class_weights;
};
using LossFn = std::function<nx::Tensor(const nx::Tensor&, const nx::Tensor&, const Extras&)>;

#define LOSS_CASE(name, expr) \
  {name, [](const nx::Tensor& t, const nx::Tensor& p, const Extras& e) -> nx::Tensor { (void)e; return expr; }}

// Each case's options; the names are those of the generator, which computes the same
// losses with torch.
const std::map<std::string, LossFn>& loss_cases() {
  static const std::map<std::string, LossFn> cases = {
      // binary cross-entropy
      LOSS_CASE("bce_probs_mean", L::binary_cross_entropy(t, p)),
      LOSS_CASE("bce_probs_soft_sum", L::binary_cross_entropy(t, p, {.reduction = R::sum})),
      LOSS_CASE("bce_probs_none", L::binary_cross_entropy(t, p, {.reduction = R::none})),
      LOSS_CASE("bce_probs_pos_weight", L::binary_cross_entropy(t, p, {.pos_weight = e.pos_weight})),
      LOSS_CASE("bce_probs_smoothing", L::binary_cross_entropy(t, p, {.label_smoothing = 0.1})),
      LOSS_CASE("bce_probs_clipped_f64", L::binary_cross_entropy(t, p, {.reduction = R::none})),
      LOSS_CASE("bce_logits_mean", L::binary_cross_entropy(t, p, {.from_logits = true})),
      LOSS_CASE("bce_logits_soft_sum", L::binary_cross_entropy(t, p, {.from_logits = true, .reduction = R::sum})),
      LOSS_CASE("bce_logits_none", L::binary_cross_entropy(t, p, {.from_logits = true, .reduction = R::none})),
      LOSS_CASE("bce_logits_pos_weight",
                L::binary_cross_entropy(t, p, {.from_logits = true, .pos_weight = e.pos_weight})),
      LOSS_CASE("bce_logits_pos_weight_none",
                L::binary_cross_entropy(t, p,
                                        {.from_logits = true, .pos_weight = e.pos_weight, .reduction = R::none})),
      LOSS_CASE("bce_logits_smoothing", L::binary_cross_entropy(t, p, {.from_logits = true, .label_smoothing = 0.2})),
      LOSS_CASE("bce_logits_large", L::binary_cross_entropy(t, p, {.from_logits = true, .reduction = R::none})),
      // categorical cross-entropy
      LOSS_CASE("cce_logits_dense", L::categorical_cross_entropy(t, p, {.from_logits = true})),
      LOSS_CASE("cce_logits_onehot_sum",
                L::categorical_cross_entropy(t, p, {.from_logits = true, .reduction = R::sum})),
      LOSS_CASE("cce_logits_dense_none",
                L::categorical_cross_entropy(t, p, {.from_logits = true, .reduction = R::none})),
      LOSS_CASE("cce_logits_dense_smoothing",
                L::categorical_cross_entropy(t, p, {.from_logits = true, .label_smoothing = 0.1})),
      LOSS_CASE("cce_logits_dense_weights_smoothing",
                L::categorical_cross_entropy(
                    t, p, {.from_logits = true, .label_smoothing = 0.2, .class_weights = e.class_weights})),
      LOSS_CASE("cce_logits_sparse", L::categorical_cross_entropy(t, p, {.from_logits = true, .sparse = true})),
      LOSS_CASE("cce_logits_sparse_none",
                L::categorical_cross_entropy(t, p, {.from_logits = true, .sparse = true, .reduction = R::none})),
      LOSS_CASE("cce_logits_sparse_smoothing",
                L::categorical_cross_entropy(t, p, {.from_logits = true, .sparse = true, .label_smoothing = 0.2})),
      LOSS_CASE("cce_logits_sparse_weights",
                L::categorical_cross_entropy(t, p,
                                             {.from_logits = true, .sparse = true, .class_weights = e.class_weights})),
      LOSS_CASE("cce_logits_sparse_weights_sum",
                L::categorical_cross_entropy(t, p,
                                             {.from_logits = true,
                                              .sparse = true,
                                              .class_weights = e.class_weights,
                                              .reduction = R::sum})),
      LOSS_CASE("cce_logits_sparse_weights_smoothing",
                L::categorical_cross_entropy(t, p,
                                             {.from_logits = true,
                                              .sparse = true,
                                              .label_smoothing = 0.3,
                                              .class_weights = e.class_weights})),
      LOSS_CASE("cce_logits_sparse_large",
                L::categorical_cross_entropy(t, p, {.from_logits = true, .sparse = true, .reduction = R::none})),
      LOSS_CASE("cce_logits_sparse_axis1",
                L::categorical_cross_entropy(t, p,
                                             {.from_logits = true, .sparse = true, .axis = 1, .reduction = R::none})),
      LOSS_CASE("cce_probs_dense", L::categorical_cross_entropy(t, p)),
      LOSS_CASE("cce_probs_dist_none", L::categorical_cross_entropy(t, p, {.reduction = R::none})),
      LOSS_CASE("cce_probs_sparse", L::categorical_cross_entropy(t, p, {.sparse = true})),
      // regression
      LOSS_CASE("mse_mean", L::mean_squared_error(t, p)),
      LOSS_CASE("mse_sum", L::mean_squared_error(t, p, {.reduction = R::sum})),
      LOSS_CASE("mse_none", L::mean_squared_error(t, p, {.reduction = R::none})),
      LOSS_CASE("mae_mean", L::mean_absolute_error(t, p)),
      LOSS_CASE("mae_none", L::mean_absolute_error(t, p, {.reduction = R::none})),
      LOSS_CASE("huber_mean", L::huber(t, p)),
      LOSS_CASE("huber_delta_half_sum", L::huber(t, p, {.delta = 0.5, .reduction = R::sum})),
      LOSS_CASE("huber_delta_2_none", L::huber(t, p, {.delta = 2, .reduction = R::none})),
      // hinge
      LOSS_CASE("hinge_pm1_mean", L::hinge(t, p)),
      LOSS_CASE("hinge_01_none", L::hinge(t, p, {.reduction = R::none})),
      LOSS_CASE("hinge_pm1_sum", L::hinge(t, p, {.reduction = R::sum})),
      // Kullback-Leibler
      LOSS_CASE("kl_probs_mean", L::kl_divergence(t, p)),
      LOSS_CASE("kl_probs_none", L::kl_divergence(t, p, {.reduction = R::none})),
      LOSS_CASE("kl_from_log_mean", L::kl_divergence(t, p, {.from_log = true})),
      LOSS_CASE("kl_from_log_sum", L::kl_divergence(t, p, {.from_log = true, .reduction = R::sum})),
      LOSS_CASE("kl_from_log_none", L::kl_divergence(t, p, {.from_log = true, .reduction = R::none})),
      // negative log-likelihood
      LOSS_CASE("nll_mean", L::nll(t, p)),
      LOSS_CASE("nll_sum", L::nll(t, p, {.reduction = R::sum})),
      LOSS_CASE("nll_none", L::nll(t, p, {.reduction = R::none})),
      // cosine similarity
      LOSS_CASE("cos_mean", L::cosine_similarity(t, p)),
      LOSS_CASE("cos_axis0_none", L::cosine_similarity(t, p, {.axis = 0, .reduction = R::none})),
      LOSS_CASE("cos_zero_vector_sum", L::cosine_similarity(t, p, {.reduction = R::sum})),
  };
  return cases;
}
#undef LOSS_CASE

bool f64_only(const std::string& name) { return name.size() > 4 && name.substr(name.size() - 4) == "_f64"; }

const nx::Tensor& array(const std::string& name, const std::string& field) { return golden().at(name + "/" + field); }
nx::Tensor optional_array(const std::string& name, const std::string& field, nx::DType dt) {
  auto it = golden().find(name + "/" + field);
  return it == golden().end() ? nx::Tensor() : nx::as_type(it->second, dt);
}

// The inputs of a case in dtype dt (class ids stay integers).
struct Inputs {
  nx::Tensor y_true, y_pred, cot;
  Extras extras;
};
Inputs inputs(const std::string& name, nx::DType dt) {
  Inputs in;
  const nx::Tensor& t = array(name, "y_true");
  in.y_true = nx::is_float(t.dtype()) ? nx::as_type(t, dt) : t;
  in.y_pred = nx::as_type(array(name, "y_pred"), dt);
  in.cot = nx::as_type(array(name, "cot"), dt);
  in.extras = {optional_array(name, "pos_weight", dt), optional_array(name, "class_weights", dt)};
  return in;
}

// |got - want| <= atol + rtol * |want|, recording the largest errors seen.
struct Tol {
  double rtol, atol;
};
// f32 as tests/grad_golden_test.cpp: oneDNN's f32 log and exp are good to about 2e-5 relative.
Tol tol_for(nx::DType dt) { return dt == nx::f64 ? Tol{1e-10, 1e-12} : Tol{1e-4, 1e-5}; }
struct MaxErr {
  double abs = 0, rel = 0;
};
std::map<std::string, MaxErr>& max_errors() {
  static std::map<std::string, MaxErr> m;
  return m;
}

void expect_close(const std::string& what, const nx::Tensor& got, const nx::Tensor& want, nx::DType dt, Tol tol,
                  const std::string& bucket = "") {
  SCOPED_TRACE(what);
  ASSERT_EQ(got.shape(), want.shape());
  EXPECT_EQ(got.dtype(), dt);
  std::vector<double> g = got.to_vector<double>();
  std::vector<double> w = want.to_vector<double>();
  for (size_t i = 0; i < g.size(); ++i) {
    double err = std::fabs(g[i] - w[i]);
    EXPECT_LE(err, tol.atol + tol.rtol * std::fabs(w[i])) << what << " element " << i << ": " << g[i] << " vs " << w[i];
    if (!bucket.empty()) {
      MaxErr& m = max_errors()[bucket];
      m.abs = std::max(m.abs, err);
      if (std::fabs(w[i]) > 1e-3) m.rel = std::max(m.rel, err / std::fabs(w[i]));
    }
  }
}

std::vector<std::string> golden_cases() {
  std::set<std::string> names;
  for (const auto& [key, value] : golden()) names.insert(key.substr(0, key.find('/')));
  return {names.begin(), names.end()};
}

TEST(LossGolden, CasesMatchTheGenerator) {
  std::vector<std::string> have;
  for (const auto& [name, fn] : loss_cases()) have.push_back(name);
  EXPECT_EQ(have, golden_cases());
}

struct LossParam {
  std::string name;
  nx::DType dtype;
};
std::vector<LossParam> loss_params() {
  std::vector<LossParam> out;
  for (const auto& [name, fn] : loss_cases())
    for (nx::DType dt : {nx::f32, nx::f64})
      if (dt == nx::f64 || !f64_only(name)) out.push_back({name, dt});
  return out;
}

class LossGolden : public ::testing::TestWithParam<LossParam> {};

// The value (eager) and the gradient of sum(loss * cot) (nx::value_and_grad, jitted) against torch.
TEST_P(LossGolden, ValueAndGradient) {
  const auto& [name, dt] = GetParam();
  const LossFn& fn = loss_cases().at(name);
  Inputs in = inputs(name, dt);
  const std::string bucket = std::string(nx::name(dt));
  expect_close("loss", fn(in.y_true, in.y_pred, in.extras), array(name, "loss"), dt, tol_for(dt), bucket + " loss");
  auto scalar_loss = [fn, extras = in.extras, cot = in.cot](const nx::Tensor& p, const nx::Tensor& t) {
    return nx::sum(fn(t, p, extras) * cot);
  };
  auto [value, grad] = nx::value_and_grad(scalar_loss)(in.y_pred, in.y_true);
  nx::Tensor want_value = nx::sum(array(name, "loss") * array(name, "cot"));
  expect_close("value under grad", value, want_value, dt, tol_for(dt));
  expect_close("gradient", grad, array(name, "grad"), dt, tol_for(dt), bucket + " gradient");
}

// nx::jit gives what the eager ops give.
TEST_P(LossGolden, JitEqualsEager) {
  const auto& [name, dt] = GetParam();
  const LossFn& fn = loss_cases().at(name);
  Inputs in = inputs(name, dt);
  nx::Tensor eager = fn(in.y_true, in.y_pred, in.extras);
  auto jitted = nx::jit([fn, extras = in.extras](const nx::Tensor& t, const nx::Tensor& p) { return fn(t, p, extras); });
  nx::Tensor traced = jitted(in.y_true, in.y_pred);
  Tol tight = dt == nx::f64 ? Tol{1e-12, 1e-14} : Tol{1e-5, 1e-7};
  expect_close("jit vs eager", traced, eager, dt, tight, std::string(nx::name(dt)) + " jit-eager");
  // Called again: the cached executable.
  expect_close("jit again", jitted(in.y_true, in.y_pred), eager, dt, tight);
  EXPECT_EQ(jitted.stats().compiles, 1);
}

INSTANTIATE_TEST_SUITE_P(LossCases, LossGolden, ::testing::ValuesIn(loss_params()),
                         [](const ::testing::TestParamInfo<LossParam>& info) {
                           return info.param.name + "_" + std::string(nx::name(info.param.dtype));
                         });

// The largest differences from the golden values, printed after the tests that saw them.
class ReportMaxErrors : public ::testing::Environment {
 public:
  void TearDown() override {
    for (const auto& [bucket, e] : max_errors())
      std::printf("[losses] max error %-16s abs %.3g, rel %.3g (where |want| > 1e-3)\n", bucket.c_str(), e.abs, e.rel);
  }
};
[[maybe_unused]] ::testing::Environment* const report_max_errors =
    ::testing::AddGlobalTestEnvironment(new ReportMaxErrors);

// ---- behaviour beyond the golden cases ----

TEST(Losses, LogitsAndProbabilitiesAgree) {
  nx::Tensor x = nx::tensor({{-2.0, 0.5}, {1.5, -0.25}}, nx::f64);
  nx::Tensor y = nx::tensor({{1.0, 0.0}, {0.25, 1.0}}, nx::f64);
  EXPECT_TRUE(nx::allclose(L::binary_cross_entropy(y, x, {.from_logits = true}),
                           L::binary_cross_entropy(y, nx::sigmoid(x)), {.rtol = 1e-12}));
  nx::Tensor ids = nx::tensor({1, 0});
  EXPECT_TRUE(nx::allclose(L::categorical_cross_entropy(ids, x, {.from_logits = true, .sparse = true}),
                           L::categorical_cross_entropy(nx::one_hot(ids, 2, {.dtype = nx::f64}), nx::softmax(x)),
                           {.rtol = 1e-12}));
  EXPECT_TRUE(nx::allclose(L::categorical_cross_entropy(ids, x, {.from_logits = true, .sparse = true}),
                           L::nll(ids, nx::log_softmax(x)), {.rtol = 1e-12}));
}

TEST(Losses, LabelDtypesConvert) {
  nx::Tensor p = nx::tensor({0.2f, 0.7f, 0.9f});
  nx::Tensor want = L::binary_cross_entropy(nx::tensor({0.0f, 1.0f, 1.0f}), p);
  EXPECT_EQ(want.dtype(), nx::f32);
  EXPECT_TRUE(nx::allclose(L::binary_cross_entropy(nx::tensor({false, true, true}), p), want));
  EXPECT_TRUE(nx::allclose(L::binary_cross_entropy(nx::tensor({0, 1, 1}), p), want));
  // f64 labels do not widen f32 predictions.
  EXPECT_EQ(L::binary_cross_entropy(nx::tensor({0.0, 1.0, 1.0}, nx::f64), p).dtype(), nx::f32);
  // Sparse labels of any integer dtype.
  nx::Tensor logits = nx::tensor({{1.0f, 2.0f, 0.5f}, {0.1f, -1.0f, 3.0f}});
  nx::Tensor a = L::categorical_cross_entropy(nx::tensor({1, 2}, nx::i64), logits, {.from_logits = true, .sparse = true});
  nx::Tensor b = L::categorical_cross_entropy(nx::tensor({1, 2}, nx::i32), logits, {.from_logits = true, .sparse = true});
  nx::Tensor c = L::categorical_cross_entropy(nx::tensor({1, 2}, nx::u8), logits, {.from_logits = true, .sparse = true});
  EXPECT_TRUE(nx::allclose(a, b));
  EXPECT_TRUE(nx::allclose(a, c));
  // Hinge labels 0/1 are read as -1/1, as Keras.
  nx::Tensor s = nx::tensor({0.3f, -1.2f, 2.0f});
  EXPECT_TRUE(nx::allclose(L::hinge(nx::tensor({0.0f, 1.0f, 1.0f}), s), L::hinge(nx::tensor({-1.0f, 1.0f, 1.0f}), s)));
}

TEST(Losses, ExtremeInputsStayFinite) {
  for (nx::DType dt : {nx::f32, nx::f64}) {
    SCOPED_TRACE(std::string(nx::name(dt)));
    nx::Tensor x = nx::as_type(nx::tensor({-1e4, -88.0, 0.0, 88.0, 1e4}), dt);
    nx::Tensor y = nx::as_type(nx::tensor({1.0, 0.0, 1.0, 1.0, 0.0}), dt);
    auto [v, g] = nx::value_and_grad([](const nx::Tensor& p, const nx::Tensor& t) {
      return L::binary_cross_entropy(t, p, {.from_logits = true, .reduction = R::sum});
    })(x, y);
    EXPECT_NEAR(v.item<double>(), 2e4 + std::log(2.0) + std::log1p(std::exp(-88.0)) * 2, 1e-3 * 2e4);
    for (double gi : g.to_vector<double>()) EXPECT_TRUE(std::isfinite(gi));
    // Probabilities of exactly 0 and 1 are clipped.
    nx::Tensor p = nx::as_type(nx::tensor({0.0, 1.0, 0.0, 1.0}), dt);
    nx::Tensor t = nx::as_type(nx::tensor({1.0, 0.0, 0.0, 1.0}), dt);
    auto [pv, pg] = nx::value_and_grad([](const nx::Tensor& q, const nx::Tensor& l) {
      return L::binary_cross_entropy(l, q, {.reduction = R::sum});
    })(p, t);
    EXPECT_TRUE(std::isfinite(pv.item<double>()));
    EXPECT_GT(pv.item<double>(), 30.0);  // two clipped wrong answers: about 2 * 16
    for (double gi : pg.to_vector<double>()) EXPECT_TRUE(std::isfinite(gi));
    // Softmax cross-entropy with logits of 1e4.
    nx::Tensor big = nx::as_type(nx::tensor({{1e4, -1e4, 0.0}}), dt);
    nx::Tensor l = L::categorical_cross_entropy(nx::tensor({1}), big, {.from_logits = true, .sparse = true});
    EXPECT_NEAR(l.item<double>(), 2e4, 1.0);
  }
}

// The gradient of a loss inside a jitted training-like step equals the one outside.
TEST(Losses, GradInsideJit) {
  nx::Tensor w0 = nx::tensor({{0.1, -0.2, 0.3}, {0.0, 0.5, -0.4}}, nx::f64);
  nx::Tensor x = nx::tensor({{1.0, 2.0}, {-1.0, 0.5}, {0.3, -0.7}, {2.0, 1.0}}, nx::f64);
  nx::Tensor y = nx::tensor({2, 0, 1, 1});
  auto loss = [](const nx::Tensor& w, const nx::Tensor& xs, const nx::Tensor& ys) {
    return L::categorical_cross_entropy(ys, nx::dot(xs, w), {.from_logits = true, .sparse = true, .label_smoothing = 0.1});
  };
  nx::Tensor g = nx::grad(loss)(w0, x, y);
  auto step = nx::jit([loss](const nx::Tensor& w, const nx::Tensor& xs, const nx::Tensor& ys) {
    return w - 0.5 * nx::grad(loss)(w, xs, ys);
  });
  EXPECT_TRUE(nx::allclose(step(w0, x, y), w0 - 0.5 * g, {.rtol = 1e-12, .atol = 1e-14}));
  // Central differences in f64 agree with the gradient.
  std::vector<double> wv = w0.to_vector<double>();
  std::vector<double> gv = g.to_vector<double>();
  const double h = 1e-6;
  for (size_t i = 0; i < wv.size(); ++i) {
    std::vector<double> a = wv, b = wv;
    a[i] += h;
    b[i] -= h;
    double fa = loss(nx::from_vector(a, w0.shape()), x, y).item<double>();
    double fb = loss(nx::from_vector(b, w0.shape()), x, y).item<double>();
    EXPECT_NEAR((fa - fb) / (2 * h), gv[i], 1e-8) << "element " << i;
  }
}

// Central differences in f64 for each loss family at smooth points (the torch comparison
// above is the main check; this one needs no reference at all).
TEST(Losses, FiniteDifferences) {
  nx::Tensor t = nx::tensor({{0.0, 1.0, 0.3}, {1.0, 0.0, 0.6}}, nx::f64);
  nx::Tensor p0 = nx::tensor({{0.2, 0.7, 0.45}, {0.9, 0.15, 0.35}}, nx::f64);
  nx::Tensor ids = nx::tensor({2, 0});
  std::vector<std::pair<std::string, std::function<nx::Tensor(const nx::Tensor&)>>> fns = {
      {"bce", [&](const nx::Tensor& p) { return L::binary_cross_entropy(t, p, {.label_smoothing = 0.1}); }},
      {"bce logits", [&](const nx::Tensor& p) {
         return L::binary_cross_entropy(t, p, {.from_logits = true, .pos_weight = nx::tensor({1.0, 2.0, 0.5}, nx::f64)});
       }},
      {"cce", [&](const nx::Tensor& p) { return L::categorical_cross_entropy(t, p); }},
      {"cce sparse", [&](const nx::Tensor& p) {
         return L::categorical_cross_entropy(ids, p, {.from_logits = true, .sparse = true});
       }},
      {"huber", [&](const nx::Tensor& p) { return L::huber(t, p * 3.0, {.delta = 0.5}); }},
      {"kl", [&](const nx::Tensor& p) { return L::kl_divergence(t, p); }},
      {"kl log", [&](const nx::Tensor& p) { return L::kl_divergence(t, p, {.from_log = true}); }},
      {"cosine", [&](const nx::Tensor& p) { return L::cosine_similarity(t, p, {.axis = 0}); }},
      {"nll", [&](const nx::Tensor& p) { return L::nll(ids, p); }},
  };
  const double h = 1e-6;
  for (const auto& [what, f] : fns) {
    SCOPED_TRACE(what);
    nx::Tensor g = nx::grad(f)(p0);
    std::vector<double> pv = p0.to_vector<double>(), gv = g.to_vector<double>();
    for (size_t i = 0; i < pv.size(); ++i) {
      std::vector<double> a = pv, b = pv;
      a[i] += h;
      b[i] -= h;
      double fd = (f(nx::from_vector(a, p0.shape())).item<double>() - f(nx::from_vector(b, p0.shape())).item<double>()) /
                  (2 * h);
      EXPECT_NEAR(fd, gv[i], 1e-7 * std::max(1.0, std::fabs(gv[i]))) << "element " << i;
    }
  }
}

TEST(Losses, NamespaceAliases) {
  nx::Tensor a = nx::tensor({1.0f, 2.0f});
  EXPECT_TRUE(nx::allclose(nx::train::losses::mean_squared_error(a, a * 2.0f), nx::scalar(2.5)));
}

// ---- errors: the loss, both shapes and the caller's line ----

TEST(LossErrors, MismatchedShapes) {
  nx::Tensor a = nx::zeros({4, 3});
  nx::Tensor b = nx::zeros({4, 2});
  auto check = [&](const char* op, auto&& f) {
    nx_test::expect_op_error<nx::ShapeError>(f, std::string("losses::") + op,
                                             "y_true has shape (4, 3) but y_pred has shape (4, 2)");
  };
  check("binary_cross_entropy", [&] { L::binary_cross_entropy(a, b); });
  check("categorical_cross_entropy", [&] { L::categorical_cross_entropy(a, b, {.from_logits = true}); });
  check("mean_squared_error", [&] { L::mean_squared_error(a, b); });
  check("mean_absolute_error", [&] { L::mean_absolute_error(a, b); });
  check("huber", [&] { L::huber(a, b); });
  check("hinge", [&] { L::hinge(a, b); });
  check("kl_divergence", [&] { L::kl_divergence(a, b); });
  check("cosine_similarity", [&] { L::cosine_similarity(a, b); });
  // No silent broadcasting of (N) against (N, 1).
  nx_test::expect_op_error<nx::ShapeError>([] { L::mean_squared_error(nx::zeros({5}), nx::zeros({5, 1})); },
                                           "losses::mean_squared_error", "(5) but y_pred has shape (5, 1)");
}

TEST(LossErrors, SparseLabels) {
  nx::Tensor logits = nx::zeros({4, 3});
  nx_test::expect_op_error<nx::ShapeError>(
      [&] { L::categorical_cross_entropy(nx::zeros({4, 3}, nx::i64), logits, {.sparse = true}); },
      "losses::categorical_cross_entropy", "have shape (4, 3) but y_pred has shape (4, 3)");
  nx_test::expect_op_error<nx::ShapeError>(
      [&] { L::categorical_cross_entropy(nx::zeros({3}, nx::i64), logits, {.sparse = true}); },
      "losses::categorical_cross_entropy", "without axis 1, (4)");
  nx_test::expect_op_error<nx::DTypeError>(
      [&] { L::categorical_cross_entropy(nx::zeros({4}), logits, {.sparse = true}); },
      "losses::categorical_cross_entropy", "must be integer class ids, got f32 of shape (4)");
  nx_test::expect_op_error<nx::DTypeError>([&] { L::nll(nx::zeros({4}, nx::f64), logits); }, "losses::nll",
                                           "integer class ids, got f64");
  nx_test::expect_op_error<nx::ShapeError>([&] { L::nll(nx::zeros({4, 1}, nx::i32), logits); }, "losses::nll",
                                           "(4, 1) but y_pred has shape (4, 3)");
}

TEST(LossErrors, Options) {
  nx::Tensor a = nx::zeros({4, 3});
  nx_test::expect_op_error<nx::ShapeError>(
      [&] { L::binary_cross_entropy(a, a, {.pos_weight = nx::ones({2})}); }, "losses::binary_cross_entropy",
      "pos_weight of shape (2) does not broadcast to y_pred's shape (4, 3)");
  nx_test::expect_op_error<nx::ShapeError>(
      [&] { L::binary_cross_entropy(a, a, {.pos_weight = nx::ones({5, 3})}); }, "losses::binary_cross_entropy",
      "(5, 3)");
  nx_test::expect_op_error<nx::ShapeError>(
      [&] { L::categorical_cross_entropy(a, a, {.class_weights = nx::ones({4})}); },
      "losses::categorical_cross_entropy", "class_weights have shape (4) but y_pred of shape (4, 3) has 3 classes");
  nx_test::expect_op_error<nx::AxisError>([&] { L::categorical_cross_entropy(a, a, {.axis = 2}); },
                                          "losses::categorical_cross_entropy", "axis 2 is out of range");
  nx_test::expect_op_error<nx::ValueError>([&] { L::binary_cross_entropy(a, a, {.label_smoothing = 1.5}); },
                                           "losses::binary_cross_entropy", "label_smoothing must be in [0, 1]");
  nx_test::expect_op_error<nx::ValueError>([&] { L::huber(a, a, {.delta = 0}); }, "losses::huber",
                                           "delta must be positive");
  nx_test::expect_op_error<nx::ShapeError>([&] { L::cosine_similarity(nx::zeros(nx::Shape{}), nx::zeros(nx::Shape{})); },
                                           "losses::cosine_similarity", "needs a class axis");
}

// While traced (inside nx::jit) the same checks fire, at the line of the loss call.
TEST(LossErrors, WhileTraced) {
  auto f = nx::jit([](const nx::Tensor& t, const nx::Tensor& p) {
    return L::categorical_cross_entropy(t, p, {.from_logits = true, .sparse = true});
  });
  nx_test::expect_op_error<nx::ShapeError>([&] { f(nx::zeros({2, 3}, nx::i64), nx::zeros({2, 3})); },
                                           "losses::categorical_cross_entropy", "(2, 3)");
}

}  // namespace
