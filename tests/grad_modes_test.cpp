// Gradients beyond first-order reverse mode: custom_grad, jvp, second order, and checks
// along random directions for shapes too large for the full Jacobian.
#include <gtest/gtest.h>

#include <map>
#include <string>
#include <tuple>

#include "grad_support.hpp"
#include "nx/nx.hpp"
#include "test_support.hpp"

namespace {

using nx_test::check_grad;
using nx_test::Fn;
using nx_test::check_grad_projected;
using nx_test::check_hessian_projected;
using nx_test::dot_all;
using nx_test::expect_error;
using nx_test::sample;
using nx_test::weigh;

// softplus whose gradient is the numerically stable sigmoid, not exp / (1 + exp).
nx::Tensor softplus(const nx::Tensor& x) {
  nx::Tensor y = nx::log1p(nx::exp(x));
  return nx::custom_grad(y, {x}, [x](const nx::Tensor& g) { return std::vector{g * nx::sigmoid(x)}; });
}

TEST(CustomGrad, ReplacesTheRuleAndIsDifferentiableAgain) {
  nx::Tensor x = nx::from_vector(std::vector<double>{-1.0, 0.5, 800.0}, {3});  // exp(800) overflows: the plain rule gives NaN
  std::vector<double> g = nx::grad([](const nx::Tensor& t) { return nx::sum(softplus(t)); })(x).to_vector<double>();
  EXPECT_NEAR(g[0], 1 / (1 + std::exp(1.0)), 1e-15);
  EXPECT_NEAR(g[1], 1 / (1 + std::exp(-0.5)), 1e-15);
  EXPECT_EQ(g[2], 1.0);
  check_grad("softplus", [](const nx::Tensor& t) { return weigh(softplus(t)); }, sample({4}, -2, 2));
  // d2/dx2 through the custom rule: sigmoid'(x).
  nx::Tensor h = nx::grad([](const nx::Tensor& t) {
    return nx::sum(nx::grad([](const nx::Tensor& u) { return nx::sum(softplus(u)); })(t));
  })(x);
  nx::Tensor s = nx::sigmoid(x);
  auto hv = h.to_vector<double>(), want = (s * (1.0 - s)).to_vector<double>();
  for (size_t i = 0; i < hv.size(); ++i) EXPECT_NEAR(hv[i], want[i], 1e-15);
  // Eager: the value, no node.
  EXPECT_EQ(softplus(nx::scalar(0.0, nx::f64)).item<double>(), std::log(2.0));
}

TEST(CustomGrad, SeveralInputsAndErrors) {
  // A straight-through estimator: round in the forward pass, identity gradient for x,
  // and a gradient of 2 for the scale.
  auto f = [](const nx::Tensor& x, const nx::Tensor& scale) {
    nx::Tensor y = nx::round(x) * scale;
    return nx::sum(nx::custom_grad(y, {x, scale}, [&](const nx::Tensor& g) {
      return std::vector{g, nx::sum(g * 2.0)};
    }));
  };
  auto [gx, gs] = nx::grad<0, 1>(f)(nx::tensor({0.3, 1.7}), nx::scalar(3.0, nx::f64));
  EXPECT_EQ(gx.to_vector<double>(), (std::vector<double>{1, 1}));
  EXPECT_EQ(gs.item<double>(), 4.0);
  auto wrong_count = [](const nx::Tensor& x) {
    return nx::sum(nx::custom_grad(x * 2.0, {x}, [](const nx::Tensor& g) { return std::vector{g, g}; }));
  };
  expect_error<nx::ValueError>([&] { nx::grad(wrong_count)(nx::ones({2}, nx::f64)); }, "returned 2 gradients for 1");
  auto wrong_shape = [](const nx::Tensor& x) {
    return nx::sum(nx::custom_grad(nx::sum(x), {x}, [](const nx::Tensor& g) { return std::vector{g}; }));
  };
  expect_error<nx::ShapeError>([&] { nx::grad(wrong_shape)(nx::ones({2}, nx::f64)); }, "gradient 0 is f64()");
}

TEST(Jvp, MatchesFiniteDifferencesAndTheVjp) {
  auto f = [](const nx::Tensor& x) { return nx::tanh(nx::dot(x, x * 0.5 + 1.0)) * nx::sin(x); };
  nx::Tensor x = sample({5}, -1, 1), v = sample({5}, -1, 1, 2);
  auto [y, dy] = nx::jvp(f)(x, v);
  EXPECT_EQ(y.to_vector<double>(), f(x).to_vector<double>());
  const double eps = 1e-6;
  auto numeric = ((f(x + eps * v) - f(x - eps * v)) / (2 * eps)).to_vector<double>();
  auto got = dy.to_vector<double>();
  for (size_t i = 0; i < got.size(); ++i) nx_test::expect_fd_near(got[i], numeric[i], "element " + std::to_string(i));
  // <J v, u> == <v, J^T u>.
  nx::Tensor u = sample({5}, -1, 1, 3);
  nx::Tensor jtu = nx::grad([&](const nx::Tensor& t) { return nx::sum(f(t) * u); })(x);
  EXPECT_NEAR(dot_all(dy, u), dot_all(v, jtu), 1e-12);
}

TEST(Jvp, TuplesTreesAndErrors) {
  using Params = std::map<std::string, nx::Tensor>;
  auto f = [](const Params& p, const nx::Tensor& x) { return std::tuple{nx::dot(x, p.at("w")), nx::sum(x)}; };
  Params p{{"w", sample({3, 2}, -1, 1)}};
  Params dp{{"w", sample({3, 2}, -1, 1, 4)}};
  nx::Tensor x = sample({4, 3}, -1, 1, 5), dx = sample({4, 3}, -1, 1, 6);
  auto jf = nx::jvp(f);
  auto [y, dy] = jf(std::tuple{p, x}, std::tuple{dp, dx});
  // Bilinear: d(x w) = dx w + x dw; d sum(x) = sum(dx).
  auto want = (nx::dot(dx, p.at("w")) + nx::dot(x, dp.at("w"))).to_vector<double>();
  auto got = std::get<0>(dy).to_vector<double>();
  for (size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got[i], want[i], 1e-12);
  EXPECT_NEAR(std::get<1>(dy).item<double>(), nx::sum(dx).item<double>(), 1e-12);
  jf(std::tuple{p, x}, std::tuple{dp, dx});
  EXPECT_EQ(jf.stats().compiles, 1);
  expect_error<nx::ShapeError>([&] { nx::jvp([](const nx::Tensor& t) { return t; })(x, nx::ones({2})); },
                               "must match the primals");
  // Undefined tensors inside a trace (eager calls are caught by jit's signature check).
  auto jvp_inside = nx::jit([](const nx::Tensor& t) { return nx::jvp([](const nx::Tensor& u) { return u; })(t, nx::Tensor()).second; });
  EXPECT_THROW(jvp_inside(x), nx::ValueError);
  auto grad_inside = nx::jit([](const nx::Tensor& t) {
    return t + nx::grad([](const nx::Tensor& u) { return nx::sum(u); })(nx::Tensor());
  });
  EXPECT_THROW(grad_inside(x), nx::ValueError);
}

TEST(GradProjected, LargeShapes) {
  nx::Tensor k = sample({8, 4, 3, 3}, -1, 1, 7);
  check_grad_projected("conv_input", [&](const nx::Tensor& x) {
    return weigh(nx::tanh(nx::conv(x, k, {.strides = {2, 1}, .padding = nx::PaddingMode::same})));
  }, sample({3, 4, 16, 16}, -1, 1));
  nx::Tensor x = sample({3, 4, 16, 16}, -1, 1, 8);
  check_grad_projected("conv_kernel", [&](const nx::Tensor& w) {
    return weigh(nx::sin(nx::conv(x, w, {.padding = nx::PaddingMode::same, .kernel_dilation = {2, 1}})));
  }, k);
  nx::Tensor b = sample({64, 48}, -1, 1, 9);
  check_grad_projected("dot_softmax", [&](const nx::Tensor& a) { return weigh(nx::log_softmax(nx::dot(a, b))); },
                       sample({32, 64}, -1, 1));
  check_grad_projected("max_pool", [](const nx::Tensor& t) {
    return weigh(nx::window_max(t, {1, 1, 3, 3}, {.strides = {1, 1, 2, 2}, .padding = nx::PaddingMode::same}));
  }, sample({2, 3, 17, 17}, -1, 1));
  check_grad_projected("sort_cumsum", [](const nx::Tensor& t) {
    return weigh(nx::cumulative_sum(nx::sort(t, {.axis = 1}), {.axis = 1}));
  }, sample({16, 200}, -1, 1));
}

TEST(GradSecondOrder, ElementwiseDotAndMlp) {
  const Fn unary[] = {[](const nx::Tensor& t) { return nx::exp(t); },     [](const nx::Tensor& t) { return nx::tanh(t); },
                      [](const nx::Tensor& t) { return nx::log(t); },     [](const nx::Tensor& t) { return nx::sqrt(t); },
                      [](const nx::Tensor& t) { return nx::sigmoid(t); }, [](const nx::Tensor& t) { return nx::sin(t) * t; },
                      [](const nx::Tensor& t) { return nx::erf(t); },     [](const nx::Tensor& t) { return t / (t + 2.0); },
                      [](const nx::Tensor& t) { return nx::pow(t, 3.0); }};
  int i = 0;
  for (const Fn& u : unary)
    check_hessian_projected("elementwise" + std::to_string(i++), [&](const nx::Tensor& t) { return weigh(u(t)); },
                            sample({3, 4}, 0.2, 1.5));
  nx::Tensor w = sample({4, 3}, -1, 1, 10);
  check_hessian_projected("dot", [&](const nx::Tensor& a) { return weigh(nx::dot(a, w) * nx::dot(a, w)); },
                          sample({2, 4}, -1, 1));
  // The kernel gradient of a grouped conv is a batch-grouped conv; differentiate it again.
  nx::Tensor cx = sample({2, 4, 5, 5}, -1, 1, 14);
  check_hessian_projected("grouped_conv", [&](const nx::Tensor& k) {
    nx::Tensor y = nx::conv(cx, k, {.padding = nx::PaddingMode::same, .feature_group_size = 2});
    return weigh(y * y);
  }, sample({4, 2, 3, 3}, -1, 1, 15));
  // A small MLP loss: Hessian-vector products with respect to the first layer's weights.
  nx::Tensor x = sample({6, 5}, -1, 1, 11), w2 = sample({7, 3}, -1, 1, 12);
  nx::Tensor labels = nx::tensor({0, 2, 1, 1, 0, 2});
  auto mlp = [&](const nx::Tensor& w1) {
    nx::Tensor logits = nx::dot(nx::tanh(nx::dot(x, w1)), w2);
    return -nx::mean(nx::sum(nx::one_hot(labels, 3, {.dtype = nx::f64}) * nx::log_softmax(logits), {.axes = {1}}));
  };
  check_hessian_projected("mlp", mlp, sample({5, 7}, -1, 1, 13), 3);
}

TEST(GradGraph, BackwardStaysWithinThreeTimesTheForward) {
  using Params = std::map<std::string, nx::Tensor>;
  auto loss = [](const Params& p, const nx::Tensor& x, const nx::Tensor& onehot) {
    nx::Tensor h = nx::max(nx::dot(x, p.at("w1")) + p.at("b1"), 0.0);
    h = nx::tanh(nx::dot(h, p.at("w2")) + p.at("b2"));
    return -nx::mean(nx::sum(onehot * nx::log_softmax(nx::dot(h, p.at("w3"))), {.axes = {1}}));
  };
  Params p{{"w1", nx::ones({6, 5})}, {"b1", nx::zeros({5})}, {"w2", nx::ones({5, 4})}, {"b2", nx::zeros({4})},
           {"w3", nx::ones({4, 3})}};
  nx::Tensor x = nx::ones({2, 6}), onehot = nx::one_hot(nx::tensor({0, 2}), 3);
  size_t forward = nx::jit(loss).graph(p, x, onehot).nodes.size();
  size_t total = nx::value_and_grad(loss).graph(p, x, onehot).nodes.size();
  EXPECT_LE(total - forward, 3 * forward) << forward << " forward nodes, " << total << " in all";
}

}  // namespace
