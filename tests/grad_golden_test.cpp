// Gradients of composite losses against JAX (tests/golden/gen_grad_golden.py): softmax,
// log_softmax, logsumexp with large inputs, softmax cross-entropy, a layer norm, a tanh MLP
// over a parameter map and a small CNN (conv + relu + max-pool + dense). Each loss runs in
// f32 and f64 through nx::value_and_grad; the inputs are exact in f32 and the expected
// values are JAX's f64 results, so f32 is compared with an f32 tolerance (the generator
// checks that JAX's own f32 results sit well inside it).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <map>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "nx/nx.hpp"
#include "test_support.hpp"

namespace {

using G = nx_test::GoldenArray;
#include "golden/grads/grad_cases.inc"

using Params = std::map<std::string, nx::Tensor>;
using Pairs = std::vector<std::pair<int64_t, int64_t>>;

// |got - want| <= atol + rtol * |want|; keep in sync with TOL_F32 / TOL_F64 in the generator.
struct Tol {
  double rtol, atol;
};
Tol tol_for(nx::DType dt) { return dt == nx::f64 ? Tol{1e-10, 1e-12} : Tol{1e-4, 1e-5}; }

nx::Tensor T(const G& g, nx::DType dt) { return nx::as_type(nx::from_vector(g.data, nx::Shape(g.shape)), dt); }

nx::Tensor labels_of(const std::vector<int64_t>& v) {
  return nx::from_vector(v, nx::Shape{static_cast<int64_t>(v.size())});
}

void expect_close(const std::string& what, const nx::Tensor& got, const G& want, nx::DType dt) {
  SCOPED_TRACE(what);
  ASSERT_EQ(got.shape(), nx::Shape(want.shape));
  EXPECT_EQ(got.dtype(), dt);
  std::vector<double> v = got.to_vector<double>();
  ASSERT_EQ(v.size(), want.data.size());
  const Tol t = tol_for(dt);
  for (size_t i = 0; i < v.size(); ++i)
    EXPECT_NEAR(v[i], want.data[i], t.atol + t.rtol * std::fabs(want.data[i])) << what << " element " << i;
}

// mean over the batch of -sum(one_hot(labels) * log_softmax(logits)).
nx::Tensor cross_entropy(const nx::Tensor& logits, const nx::Tensor& labels) {
  nx::Tensor oh = nx::one_hot(labels, logits.dim(-1), {.dtype = logits.dtype()});
  return nx::mean(-nx::sum(oh * nx::log_softmax(logits), {.axes = {1}}));
}

class GradGolden : public ::testing::TestWithParam<nx::DType> {};

TEST_P(GradGolden, Softmax) {
  const nx::DType dt = GetParam();
  nx::Tensor w = T(softmax_w, dt);
  auto loss = [w](const nx::Tensor& x) { return nx::sum(nx::softmax(x) * w); };
  auto [value, g] = nx::value_and_grad(loss)(T(softmax_x, dt));
  expect_close("value", value, softmax_value, dt);
  expect_close("grad x", g, softmax_grad_x, dt);
  // nx::grad alone gives the same gradient.
  expect_close("grad only", nx::grad(loss)(T(softmax_x, dt)), softmax_grad_x, dt);
}

TEST_P(GradGolden, LogSoftmax) {
  const nx::DType dt = GetParam();
  nx::Tensor w = T(log_softmax_w, dt);
  auto loss = [w](const nx::Tensor& x) { return nx::sum(nx::log_softmax(x) * w); };
  auto [value, g] = nx::value_and_grad(loss)(T(log_softmax_x, dt));
  expect_close("value", value, log_softmax_value, dt);
  expect_close("grad x", g, log_softmax_grad_x, dt);
}

// Rows around 0, +300, -200 and spread over [-100, 900]: exp overflows without the shift.
TEST_P(GradGolden, LogSumExpLargeInputs) {
  const nx::DType dt = GetParam();
  nx::Tensor w = T(logsumexp_w, dt);
  auto loss = [w](const nx::Tensor& x) { return nx::sum(nx::logsumexp(x, {.axes = {1}}) * w); };
  auto [value, g] = nx::value_and_grad(loss)(T(logsumexp_x, dt));
  expect_close("value", value, logsumexp_value, dt);
  expect_close("grad x", g, logsumexp_grad_x, dt);
}

// Integer labels as a second, non-differentiated argument.
TEST_P(GradGolden, CrossEntropy) {
  const nx::DType dt = GetParam();
  auto loss = [](const nx::Tensor& logits, const nx::Tensor& labels) { return cross_entropy(logits, labels); };
  auto [value, g] = nx::value_and_grad(loss)(T(xent_logits, dt), labels_of(xent_labels));
  expect_close("value", value, xent_value, dt);
  expect_close("grad logits", g, xent_grad_logits, dt);
}

TEST_P(GradGolden, LayerNorm) {
  const nx::DType dt = GetParam();
  nx::Tensor w = T(layer_norm_w, dt);
  auto loss = [w](const nx::Tensor& x, const nx::Tensor& gamma, const nx::Tensor& beta) {
    nx::Tensor m = nx::mean(x, {.axes = {1}, .keep_axes = true});
    nx::Tensor v = nx::variance(x, {.axes = {1}, .keep_axes = true});
    nx::Tensor y = (x - m) / nx::sqrt(v + 1e-5) * gamma + beta;
    return nx::sum(y * w);
  };
  auto [value, grads] =
      nx::value_and_grad<0, 1, 2>(loss)(T(layer_norm_x, dt), T(layer_norm_gamma, dt), T(layer_norm_beta, dt));
  expect_close("value", value, layer_norm_value, dt);
  expect_close("grad x", std::get<0>(grads), layer_norm_grad_x, dt);
  expect_close("grad gamma", std::get<1>(grads), layer_norm_grad_gamma, dt);
  expect_close("grad beta", std::get<2>(grads), layer_norm_grad_beta, dt);
}

// 8-16-16-4, tanh, batch 5; the parameters are a std::map tree.
TEST_P(GradGolden, MlpParameterTree) {
  const nx::DType dt = GetParam();
  nx::Tensor labels = labels_of(mlp_labels);
  auto loss = [labels](const Params& p, const nx::Tensor& x) {
    nx::Tensor h1 = nx::tanh(nx::dot(x, p.at("w1")) + p.at("b1"));
    nx::Tensor h2 = nx::tanh(nx::dot(h1, p.at("w2")) + p.at("b2"));
    return cross_entropy(nx::dot(h2, p.at("w3")) + p.at("b3"), labels);
  };
  const Params params{{"w1", T(mlp_params_w1, dt)}, {"b1", T(mlp_params_b1, dt)},
                      {"w2", T(mlp_params_w2, dt)}, {"b2", T(mlp_params_b2, dt)},
                      {"w3", T(mlp_params_w3, dt)}, {"b3", T(mlp_params_b3, dt)}};
  nx::Tensor x = T(mlp_x, dt);
  auto vg = nx::value_and_grad(loss);
  auto [value, g] = vg(params, x);
  expect_close("value", value, mlp_value, dt);
  ASSERT_EQ(g.size(), params.size());
  const std::pair<const char*, const G*> want[] = {
      {"w1", &mlp_grad_params_w1}, {"b1", &mlp_grad_params_b1}, {"w2", &mlp_grad_params_w2},
      {"b2", &mlp_grad_params_b2}, {"w3", &mlp_grad_params_w3}, {"b3", &mlp_grad_params_b3}};
  for (const auto& [name, grad] : want) expect_close(std::string("grad ") + name, g.at(name), *grad, dt);
  // A second call with the same signature reuses the compiled gradient.
  auto again = vg(params, x);
  expect_close("value again", again.first, mlp_value, dt);
  EXPECT_EQ(vg.stats().compiles, 1);
}

// conv (NCHW/OIHW, padding 1) + bias + relu + 2x2/2 max-pool + flatten + dense +
// cross-entropy. The generator made every pooling window's maximum unique (or the whole
// window negative, where relu's zero gradient makes the tie irrelevant).
TEST_P(GradGolden, SmallCnn) {
  const nx::DType dt = GetParam();
  nx::Tensor labels = labels_of(cnn_labels);
  auto loss = [labels](const nx::Tensor& x, const nx::Tensor& kernel, const nx::Tensor& conv_b,
                       const nx::Tensor& dense_w, const nx::Tensor& dense_b) {
    nx::Tensor c = nx::conv(x, kernel, {.strides = {1, 1}, .padding = Pairs{{1, 1}, {1, 1}}}) +
                   nx::reshape(conv_b, {1, -1, 1, 1});
    nx::Tensor r = nx::max(c, 0.0);
    nx::Tensor p = nx::window_max(r, {1, 1, 2, 2}, {.strides = {1, 1, 2, 2}});
    nx::Tensor flat = nx::reshape(p, {x.dim(0), -1});
    return cross_entropy(nx::dot(flat, dense_w) + dense_b, labels);
  };
  auto [value, grads] = nx::value_and_grad<1, 2, 3, 4>(loss)(T(cnn_x, dt), T(cnn_kernel, dt), T(cnn_conv_b, dt),
                                                             T(cnn_dense_w, dt), T(cnn_dense_b, dt));
  expect_close("value", value, cnn_value, dt);
  expect_close("grad kernel", std::get<0>(grads), cnn_grad_kernel, dt);
  expect_close("grad conv bias", std::get<1>(grads), cnn_grad_conv_b, dt);
  expect_close("grad dense w", std::get<2>(grads), cnn_grad_dense_w, dt);
  expect_close("grad dense b", std::get<3>(grads), cnn_grad_dense_b, dt);
}

INSTANTIATE_TEST_SUITE_P(Dtypes, GradGolden, ::testing::Values(nx::f32, nx::f64),
                         [](const ::testing::TestParamInfo<nx::DType>& info) {
                           return std::string(nx::name(info.param));
                         });

}  // namespace
