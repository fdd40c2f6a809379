// Gradients checked by central finite differences in f64 (eps 1e-6, rtol 1e-3, atol 1e-5),
// plus the API: trees, several arguments, value_and_grad, jit/grad nesting, second order.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <map>

#include "nx/nx.hpp"
#include "grad_support.hpp"
#include "test_support.hpp"

namespace {

using nx_test::check_grad;
using nx_test::expect_error;
using nx_test::sample;
using nx_test::weigh;

TEST(Grad, UnaryOps) {
  struct U {
    const char* name;
    nx::Tensor (*op)(const nx::Tensor&, nx::Where);
    double lo, hi;
  };
  const U ops[] = {{"negate", nx::negate, -2, 2}, {"abs", nx::abs, 0.1, 2},     {"exp", nx::exp, -2, 2},
                   {"expm1", nx::expm1, -2, 2},   {"log", nx::log, 0.1, 3},     {"log1p", nx::log1p, -0.5, 3},
                   {"sqrt", nx::sqrt, 0.1, 3},    {"rsqrt", nx::rsqrt, 0.1, 3}, {"cbrt", nx::cbrt, 0.1, 3},
                   {"sin", nx::sin, -3, 3},       {"cos", nx::cos, -3, 3},      {"tan", nx::tan, -1, 1},
                   {"asin", nx::asin, -0.9, 0.9}, {"acos", nx::acos, -0.9, 0.9}, {"atan", nx::atan, -3, 3},
                   {"sinh", nx::sinh, -2, 2},     {"cosh", nx::cosh, -2, 2},    {"tanh", nx::tanh, -2, 2},
                   {"asinh", nx::asinh, -2, 2},   {"acosh", nx::acosh, 1.1, 3}, {"atanh", nx::atanh, -0.9, 0.9},
                   {"sigmoid", nx::sigmoid, -3, 3}, {"erf", nx::erf, -2, 2},    {"erfc", nx::erfc, -2, 2},
                   {"erf_inv", nx::erf_inv, -0.9, 0.9}};
  for (const U& u : ops)
    check_grad(u.name, [&](const nx::Tensor& x) { return weigh(u.op(x, nx::Where::current())); }, sample({2, 3}, u.lo, u.hi));
}

TEST(Grad, BinaryOpsWithBroadcasting) {
  nx::Tensor b = sample({3}, 0.5, 2, 7);
  check_grad("add", [&](const nx::Tensor& x) { return weigh(x + b); }, sample({2, 3}, -1, 1));
  check_grad("subtract_rhs", [&](const nx::Tensor& x) { return weigh(b - x); }, sample({2, 1}, -1, 1));
  check_grad("multiply", [&](const nx::Tensor& x) { return weigh(x * b); }, sample({2, 3}, -1, 1));
  check_grad("divide_lhs", [&](const nx::Tensor& x) { return weigh(x / b); }, sample({2, 3}, -1, 1));
  check_grad("divide_rhs", [&](const nx::Tensor& x) { return weigh(b / x); }, sample({3}, 0.5, 2));
  check_grad("pow_base", [&](const nx::Tensor& x) { return weigh(nx::pow(x, b)); }, sample({2, 3}, 0.5, 2));
  check_grad("pow_exponent", [&](const nx::Tensor& x) { return weigh(nx::pow(b, x)); }, sample({3}, -1, 1));
  check_grad("max", [&](const nx::Tensor& x) { return weigh(nx::max(x, b)); }, sample({2, 3}, -1, 3));
  check_grad("min", [&](const nx::Tensor& x) { return weigh(nx::min(x, b)); }, sample({2, 3}, -1, 3));
  check_grad("atan2", [&](const nx::Tensor& x) { return weigh(nx::atan2(x, b)); }, sample({2, 3}, -1, 1));
  check_grad("atan2_rhs", [&](const nx::Tensor& x) { return weigh(nx::atan2(b, x)); }, sample({3}, 0.5, 1));
  check_grad("remainder", [&](const nx::Tensor& x) { return weigh(nx::remainder(x, b)); }, sample({2, 3}, 0.1, 0.4));
  check_grad("select", [&](const nx::Tensor& x) { return weigh(nx::select(x > 0, x * x, -x)); }, sample({2, 3}, -1, 1));
  check_grad("square_self", [&](const nx::Tensor& x) { return weigh(x * x + x); }, sample({4}, -1, 1));
}

TEST(Grad, Reductions) {
  check_grad("sum_axis", [](const nx::Tensor& x) { return weigh(nx::sum(x, {.axes = {1}})); }, sample({2, 3, 2}, -1, 1));
  check_grad("sum_keep", [](const nx::Tensor& x) { return weigh(nx::sum(x, {.axes = {0, 2}, .keep_axes = true})); },
             sample({2, 3, 2}, -1, 1));
  check_grad("product", [](const nx::Tensor& x) { return weigh(nx::product(x, {.axes = {1}})); }, sample({2, 3}, 0.5, 2));
  check_grad("reduce_max", [](const nx::Tensor& x) { return weigh(nx::reduce_max(x, {.axes = {0}})); }, sample({3, 2}, -1, 1));
  check_grad("reduce_min", [](const nx::Tensor& x) { return weigh(nx::reduce_min(x)); }, sample({3, 2}, -1, 1));
  check_grad("cumulative_sum", [](const nx::Tensor& x) { return weigh(nx::cumulative_sum(x, {.axis = 1})); },
             sample({2, 4}, -1, 1));
  check_grad("cumulative_sum_reverse",
             [](const nx::Tensor& x) { return weigh(nx::cumulative_sum(x, {.axis = 0, .reverse = true})); },
             sample({3, 2}, -1, 1));
  check_grad("mean", [](const nx::Tensor& x) { return nx::mean(x * x); }, sample({2, 3}, -1, 1));
  check_grad("logsumexp", [](const nx::Tensor& x) { return weigh(nx::logsumexp(x, {.axes = {1}})); }, sample({2, 4}, -3, 3));
  check_grad("softmax", [](const nx::Tensor& x) { return weigh(nx::softmax(x)); }, sample({2, 4}, -3, 3));
  check_grad("log_softmax", [](const nx::Tensor& x) { return weigh(nx::log_softmax(x, {.axis = 0})); }, sample({3, 2}, -3, 3));
  check_grad("variance", [](const nx::Tensor& x) { return weigh(nx::variance(x, {.axes = {1}, .ddof = 1})); },
             sample({2, 4}, -3, 3));
}

TEST(Grad, ShapeAndIndexOps) {
  check_grad("reshape", [](const nx::Tensor& x) { return weigh(nx::reshape(x, {3, 2})); }, sample({2, 3}, -1, 1));
  check_grad("transpose", [](const nx::Tensor& x) { return weigh(nx::transpose(x, {2, 0, 1})); }, sample({2, 3, 2}, -1, 1));
  check_grad("broadcast", [](const nx::Tensor& x) { return weigh(nx::broadcast(x, {2, 3, 4}, {.axes = {1, 2}})); },
             sample({3, 1}, -1, 1));
  check_grad("slice", [](const nx::Tensor& x) { return weigh(nx::slice(x, {1, 0}, {2, 3}, {.strides = {2, 1}})); },
             sample({4, 3}, -1, 1));
  check_grad("pad", [](const nx::Tensor& x) { return weigh(nx::pad(x, 0.5, {{1, -1, 1}, {-1, 2, 0}})); }, sample({3, 3}, -1, 1));
  check_grad("pad_value", [](const nx::Tensor& v) { return weigh(nx::pad(nx::ones({2, 2}, nx::f64), v, {{1, 1, 1}, {0, 0, 0}})); },
             sample({}, -1, 1));
  check_grad("put_slice", [](const nx::Tensor& x) { return weigh(nx::put_slice(x, {1, 1}, x * 0.0 + 1.0)); },
             sample({3, 3}, -1, 1));
  check_grad("put_slice_update",
             [](const nx::Tensor& u) { return weigh(nx::put_slice(nx::zeros({3, 3}, nx::f64), {1, 0}, u * u)); },
             sample({2, 2}, -1, 1));
  check_grad("concatenate", [](const nx::Tensor& x) { return weigh(nx::concatenate({x, x * 2.0, nx::exp(x)}, 1)); },
             sample({2, 2}, -1, 1));
  check_grad("reverse", [](const nx::Tensor& x) { return weigh(nx::reverse(x, {1})); }, sample({2, 3}, -1, 1));
  nx::Tensor idx = nx::tensor({2, 0, 2});
  check_grad("take", [&](const nx::Tensor& x) { return weigh(nx::take(x, idx, 1)); }, sample({2, 3}, -1, 1));
  check_grad("gather", [&](const nx::Tensor& x) { return weigh(nx::gather(x, nx::tensor({{1}, {1}, {0}}))); },
             sample({2, 3}, -1, 1));
  check_grad("indexed_add", [&](const nx::Tensor& u) {
    return weigh(nx::indexed_add(nx::ones({3, 2}, nx::f64), nx::tensor({{0}, {2}, {0}}), u * u));
  }, sample({3, 2}, -1, 1));
  check_grad("indexed_put", [&](const nx::Tensor& x) {
    return weigh(nx::indexed_put(x, nx::tensor({{1}}), nx::ones({1, 2}, nx::f64)));
  }, sample({3, 2}, -1, 1));
}

TEST(Grad, DotGeneral) {
  nx::Tensor w = sample({3, 4}, -1, 1, 3);
  check_grad("dot_lhs", [&](const nx::Tensor& x) { return weigh(nx::dot(x, w)); }, sample({2, 3}, -1, 1));
  check_grad("dot_rhs", [&](const nx::Tensor& x) { return weigh(nx::dot(w, x)); }, sample({4, 2}, -1, 1));
  nx::Tensor b = sample({2, 4, 3}, -1, 1, 4);
  check_grad("batched_lhs", [&](const nx::Tensor& x) {
    return weigh(nx::dot_general(x, b, {.contract_a = {1}, .contract_b = {2}, .batch_a = {0}, .batch_b = {0}}));
  }, sample({2, 3, 5}, -1, 1));
  check_grad("batched_rhs", [&](const nx::Tensor& y) {
    return weigh(nx::dot_general(b, y, {.contract_a = {1, 2}, .contract_b = {2, 0}, .batch_a = {0}, .batch_b = {1}}));
  }, sample({3, 2, 4}, -1, 1));
  check_grad("einsum", [&](const nx::Tensor& x) { return weigh(nx::einsum("bij,bjk->bik", x, b)); }, sample({2, 3, 4}, -1, 1));
}

TEST(Grad, SortTopKCumulativeAndWindows) {
  check_grad("sort", [](const nx::Tensor& x) { return weigh(nx::sort(x, {.axis = 0})); }, sample({4, 3}, -1, 1));
  check_grad("sort_desc", [](const nx::Tensor& x) { return weigh(nx::sort(x, {.direction = nx::Direction::desc})); },
             sample({2, 5}, -1, 1));
  check_grad("top_k", [](const nx::Tensor& x) { return weigh(nx::top_k(x, 2).first); }, sample({3, 4}, -1, 1));
  check_grad("cumulative_product", [](const nx::Tensor& x) { return weigh(nx::cumulative_product(x, {.axis = 1})); },
             sample({2, 4}, 0.5, 2));
  check_grad("cumulative_product_reverse",
             [](const nx::Tensor& x) { return weigh(nx::cumulative_product(x, {.reverse = true})); }, sample({4}, 0.5, 2));
  check_grad("cumulative_max", [](const nx::Tensor& x) { return weigh(nx::cumulative_max(x, {.axis = 1})); },
             sample({3, 5}, -1, 1));
  check_grad("cumulative_min_reverse",
             [](const nx::Tensor& x) { return weigh(nx::cumulative_min(x, {.axis = 0, .reverse = true})); },
             sample({5, 2}, -1, 1));
  // Ties: the latest element equal to the running extreme takes the gradient.
  std::vector<double> tie = nx::grad([](const nx::Tensor& x) { return nx::sum(nx::cumulative_max(x) * nx::tensor({1.0, 2.0, 4.0, 8.0})); })(
      nx::tensor({1.0, 3.0, 3.0, 2.0})).to_vector<double>();
  EXPECT_EQ(tie, (std::vector<double>{1.0, 2.0, 12.0, 0.0}));
  check_grad("window_sum", [](const nx::Tensor& x) { return weigh(nx::window_sum(x, {2, 3})); }, sample({4, 5}, -1, 1));
  check_grad("window_sum_strided", [](const nx::Tensor& x) {
    return weigh(nx::window_sum(x, {1, 3, 2}, {.strides = {1, 2, 2}, .padding = nx::PaddingMode::same}));
  }, sample({2, 5, 4}, -1, 1));
  check_grad("window_sum_dilated", [](const nx::Tensor& x) {
    return weigh(nx::window_sum(x, {2, 2}, {.strides = {2, 1}, .padding = std::vector<std::pair<int64_t, int64_t>>{{1, 0}, {-1, 2}},
                                            .window_dilations = {1, 2}}));
  }, sample({5, 6}, -1, 1));
}

TEST(Grad, MaxMinProductPooling) {
  using Pairs = std::vector<std::pair<int64_t, int64_t>>;
  check_grad("max_pool", [](const nx::Tensor& x) {
    return weigh(nx::window_max(x, {1, 1, 2, 2}, {.strides = {1, 1, 2, 2}}));
  }, sample({2, 2, 4, 4}, -1, 1));
  check_grad("max_pool_same_overlapping", [](const nx::Tensor& x) {
    return weigh(nx::window_max(x, {3, 3}, {.padding = nx::PaddingMode::same}));
  }, sample({4, 5}, -1, 1));
  check_grad("min_dilated", [](const nx::Tensor& x) {
    return weigh(nx::window_min(x, {2, 2}, {.strides = {2, 1}, .padding = Pairs{{1, 0}, {-1, 1}}, .window_dilations = {1, 2}}));
  }, sample({5, 6}, -1, 1));
  check_grad("product", [](const nx::Tensor& x) {
    return weigh(nx::window_product(x, {2, 3}, {.strides = {1, 2}}));
  }, sample({3, 5}, 0.5, 1.5));
  // Ties: the first element of the window takes the whole gradient.
  auto g = nx::grad([](const nx::Tensor& x) { return nx::sum(nx::window_max(x, {2})); })(nx::ones({2}, nx::f64));
  EXPECT_EQ(g.to_vector<double>(), (std::vector<double>{1, 0}));
  // The max-pooling gradient op itself: linear in source and init, flat in x.
  nx::Tensor px = sample({2, 5, 4}, -1, 1, 21);
  nx::WindowOpts pool{.strides = {1, 2, 1}, .padding = nx::PaddingMode::same, .window_dilations = {1, 1, 2}};
  check_grad("window_scatter_max_source", [&](const nx::Tensor& s) {
    return weigh(nx::window_scatter_max(px, s, nx::scalar(0.5, nx::f64), {1, 2, 2}, pool));
  }, sample({2, 3, 4}, -1, 1, 22));
  check_grad("window_scatter_min_init", [&](const nx::Tensor& i) {
    return weigh(nx::window_scatter_min(px, nx::ones({2, 3, 4}, nx::f64), i, {1, 2, 2}, pool));
  }, nx::scalar(0.25, nx::f64));
  // Second order through max pooling: d/dx of <grad window_max, v> is zero almost
  // everywhere; d/dv of it is the gradient itself.
  check_grad("window_max_second_order", [&](const nx::Tensor& v) {
    auto inner = nx::grad([&](const nx::Tensor& x) { return nx::sum(nx::window_max(x, {1, 2, 2}, pool) * v); });
    return weigh(inner(px));
  }, sample({2, 3, 4}, -1, 1, 23));
}

TEST(Grad, LinearAlgebra) {
  namespace la = nx::linalg;
  nx::Tensor spd_base = sample({2, 3, 3}, -1, 1, 9);
  auto spd = [](const nx::Tensor& m) { return nx::matmul(m, nx::transpose(m, {0, 2, 1})) + 3.0 * nx::eye(3, nx::f64); };
  nx::Tensor a = spd(spd_base), b = sample({2, 3, 2}, -1, 1, 10);
  check_grad("solve_a", [&](const nx::Tensor& x) { return weigh(la::solve(x, b)); }, a);
  check_grad("solve_b", [&](const nx::Tensor& x) { return weigh(la::solve(a, x)); }, b);
  check_grad("solve_vector", [&](const nx::Tensor& x) { return weigh(la::solve(a, x)); }, sample({2, 3}, -1, 1));
  check_grad("invert", [&](const nx::Tensor& x) { return weigh(la::invert(x)); }, a);
  check_grad("determinant", [&](const nx::Tensor& x) { return weigh(la::determinant(x)); }, sample({2, 3, 3}, -1, 1, 11));
  check_grad("cholesky", [&](const nx::Tensor& x) { return weigh(la::cholesky(x)); }, a);
  auto qr_loss = [](la::QrMode mode) {
    return [mode](const nx::Tensor& x) {
      auto [q, r] = la::qr(x, {.mode = mode});
      return weigh(q) + weigh(nx::sin(r));
    };
  };
  check_grad("qr_tall", qr_loss(la::QrMode::reduced), sample({2, 4, 3}, -1, 1, 14));
  check_grad("qr_square_complete", qr_loss(la::QrMode::complete), sample({3, 3}, -1, 1, 15));
  check_grad("qr_wide", qr_loss(la::QrMode::reduced), sample({2, 3, 5}, -1, 1, 16));
  expect_error<nx::Error>([&] { nx::grad(qr_loss(la::QrMode::complete))(sample({4, 3}, -1, 1)); }, "complete mode");
  check_grad("eigh", [](const nx::Tensor& x) {
    auto [e, v] = la::eigh(x);
    return weigh(e) + weigh(nx::sin(v));
  }, a);
  for (auto shape : {nx::Shape{2, 3, 3}, nx::Shape{4, 2}, nx::Shape{2, 5}}) {
    check_grad("svd" + shape.str(), [](const nx::Tensor& x) {
      auto [u, sv, vt] = la::svd(x, {.full_matrices = false});
      return weigh(nx::sin(u)) + weigh(sv) + weigh(nx::cos(vt));
    }, sample(shape, -1, 1, 17));
  }
  expect_error<nx::Error>([&] { nx::grad([](const nx::Tensor& x) { return weigh(std::get<1>(la::svd(x))); })(b); },
                          "full_matrices");
  check_grad("lu", [](const nx::Tensor& x) {
    auto [p, l, u] = la::lu(x);
    return weigh(nx::sin(l)) + weigh(u) + weigh(p);
  }, sample({2, 4, 4}, -1, 1, 18));
  expect_error<nx::Error>([&] { nx::grad([](const nx::Tensor& x) { return weigh(std::get<2>(la::lu(x))); })(b); },
                          "only for square");
  for (int left = 0; left < 2; ++left)
    for (int lower = 0; lower < 2; ++lower)
      for (int trans = 0; trans < 2; ++trans) {
        la::TriangularSolveOpts o{.left_side = left != 0, .lower = lower != 0,
                                  .transform_a = trans ? la::Transform::transpose : la::Transform::none};
        nx::Tensor rhs = left ? b : nx::transpose(b, {0, 2, 1});
        std::string tag = "triangular_solve/" + std::to_string(left) + std::to_string(lower) + std::to_string(trans);
        check_grad(tag + "/a", [&](const nx::Tensor& x) { return weigh(la::triangular_solve(x, rhs, o)); }, a);
        check_grad(tag + "/b", [&](const nx::Tensor& x) { return weigh(la::triangular_solve(a, x, o)); }, rhs);
      }
}

TEST(Grad, Conv) {
  using Pairs = std::vector<std::pair<int64_t, int64_t>>;
  struct C {
    const char* name;
    nx::Shape x, k;
    nx::ConvOpts o;
  };
  const C cases[] = {
      {"plain1d", {2, 3, 7}, {4, 3, 3}, {}},
      {"strided_same", {1, 2, 6, 5}, {3, 2, 3, 2}, {.strides = {2, 1}, .padding = nx::PaddingMode::same}},
      {"explicit_dilated", {2, 2, 5, 5}, {2, 2, 3, 3},
       {.strides = {1, 2}, .padding = Pairs{{1, 2}, {0, 1}}, .kernel_dilation = {2, 1}}},
      {"input_dilation_negative_pad", {1, 2, 4, 4}, {3, 2, 2, 2},
       {.padding = Pairs{{-1, 1}, {1, 0}}, .input_dilation = {2, 1}}},
      {"depthwise", {2, 4, 5, 5}, {4, 1, 3, 3}, {.padding = nx::PaddingMode::same, .feature_group_size = 4}},
      {"groups", {1, 4, 4, 4}, {6, 2, 2, 3}, {.strides = {2, 1}, .feature_group_size = 2}},
      {"batch_groups", {4, 2, 5, 4}, {6, 2, 2, 2}, {.strides = {1, 2}, .padding = nx::PaddingMode::same, .batch_group_size = 2}},
  };
  for (const C& c : cases) {
    nx::Tensor k = sample(c.k, -1, 1, 5), x = sample(c.x, -1, 1, 6);
    check_grad(std::string(c.name) + "/input", [&](const nx::Tensor& v) { return weigh(nx::conv(v, k, c.o)); }, x);
    check_grad(std::string(c.name) + "/kernel", [&](const nx::Tensor& v) { return weigh(nx::conv(x, v, c.o)); }, k);
  }
}

TEST(Grad, ControlFlow) {
  nx::Tensor c = sample({3}, 0.5, 1.5, 12);
  auto branchy = [&](const nx::Tensor& x) {
    return weigh(nx::cond(nx::sum(x) > 0, [&] { return x * x * c; }, [&] { return nx::sin(x) + c; }));
  };
  check_grad("cond_true", branchy, sample({3}, 0.1, 1));
  check_grad("cond_false", branchy, sample({3}, -1, -0.1));
  // A fixed trip count with an integer counter: y <- y * x + c, three times.
  auto fori = [&](const nx::Tensor& x) {
    auto [i, y] = nx::while_loop(std::tuple{nx::scalar(0, nx::i64), x},
                                 [](const auto& s) { return std::get<0>(s) < 3; },
                                 [&](const auto& s) { return std::tuple{std::get<0>(s) + 1, std::get<1>(s) * x + c}; });
    return weigh(y);
  };
  check_grad("while_fixed_trips", fori, sample({3}, -1, 1));
  // A data-dependent trip count (piecewise smooth; sampled away from the switch points).
  auto grow = [&](const nx::Tensor& x) {
    nx::Tensor y = nx::while_loop(x, [](const nx::Tensor& s) { return nx::sum(s) < 10.0; },
                                  [&](const nx::Tensor& s) { return s * 1.5 + nx::exp(x); });
    return weigh(y);
  };
  check_grad("while_data_dependent", grow, sample({3}, 0.2, 0.3));
  // No iterations: the gradient passes straight through.
  check_grad("while_zero_trips", [&](const nx::Tensor& x) {
    return weigh(nx::while_loop(x, [](const nx::Tensor& s) { return nx::sum(s) > 100.0; },
                                [](const nx::Tensor& s) { return s * 2.0; }));
  }, sample({2}, -1, 1));
  // Second order through a loop: d2/dx2 sum(x^4) = 12 x^2.
  auto quartic = [](const nx::Tensor& x) {
    auto [i, y] = nx::while_loop(std::tuple{nx::scalar(0, nx::i64), x}, [](const auto& s) { return std::get<0>(s) < 3; },
                                 [&](const auto& s) { return std::tuple{std::get<0>(s) + 1, std::get<1>(s) * x}; });
    return nx::sum(y);
  };
  nx::Tensor x = sample({3}, -1, 1, 13);
  auto d2 = nx::grad([&](const nx::Tensor& y) { return nx::sum(nx::grad(quartic)(y)); })(x).to_vector<double>();
  auto xv = x.to_vector<double>();
  for (size_t i = 0; i < xv.size(); ++i) EXPECT_NEAR(d2[i], 12 * xv[i] * xv[i], 1e-10);
}

TEST(Grad, TreesArgumentsAndValue) {
  using Params = std::map<std::string, nx::Tensor>;
  auto loss = [](const Params& p, const nx::Tensor& x) {
    return nx::sum(nx::tanh(nx::dot(x, p.at("w")) + p.at("b")));
  };
  Params p{{"w", sample({3, 2}, -1, 1)}, {"b", sample({2}, -1, 1, 2)}};
  nx::Tensor x = sample({4, 3}, -1, 1, 3);
  Params g = nx::grad(loss)(p, x);
  ASSERT_EQ(g.size(), 2u);
  EXPECT_EQ(g.at("w").shape(), p.at("w").shape());
  check_grad("tree_b", [&](const nx::Tensor& b) { return loss({{"w", p.at("w")}, {"b", b}}, x); }, p.at("b"));
  EXPECT_EQ(g.at("b").to_vector<double>(), nx::grad([&](const nx::Tensor& b) {
              return loss({{"w", p.at("w")}, {"b", b}}, x);
            })(p.at("b")).to_vector<double>());
  auto [value, grads] = nx::value_and_grad(loss)(p, x);
  EXPECT_DOUBLE_EQ(value.item<double>(), loss(p, x).item<double>());
  auto [gp, gx] = nx::grad<0, 1>(loss)(p, x);
  EXPECT_EQ(gx.shape(), x.shape());
  EXPECT_EQ(gp.at("w").to_vector<double>(), g.at("w").to_vector<double>());
}

TEST(Grad, JitOfGradAndGradOfJitAndSecondOrder) {
  auto f = [](const nx::Tensor& x) { return nx::sum(nx::sin(x) * x); };
  nx::Tensor x = sample({5}, -2, 2);
  auto df = nx::grad(f);
  std::vector<double> direct = df(x).to_vector<double>();
  EXPECT_EQ(nx::jit(df)(x).to_vector<double>(), direct);
  EXPECT_EQ(nx::grad(nx::jit(f))(x).to_vector<double>(), direct);
  // d2/dx2 of sum(sin(x) x) = 2 cos(x) - x sin(x).
  auto d2 = nx::grad([&](const nx::Tensor& y) { return nx::sum(nx::grad(f)(y)); })(x);
  auto want = 2.0 * nx::cos(x) - x * nx::sin(x);
  auto got = d2.to_vector<double>(), w = want.to_vector<double>();
  for (size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got[i], w[i], 1e-12);
  EXPECT_EQ(df.stats().compiles, 1);
  df(x);
  EXPECT_EQ(df.stats().compiles, 1);
}

TEST(Grad, NonDifferentiableOpsGiveZero) {
  // Piecewise-constant and integer-valued ops pass no gradient; only the smooth term counts.
  auto f = [](const nx::Tensor& x) {
    nx::Tensor flat = nx::as_type(x > 0.0, nx::f64) + nx::floor(x) + nx::round(x) + nx::sign(x) + nx::ceil(x) +
                      nx::as_type(nx::argmax(x), nx::f64) + nx::as_type(nx::argsort(x), nx::f64) +
                      nx::as_type(nx::as_type(x * 10.0, nx::i32), nx::f64);
    return nx::sum(flat + 3.0 * x);
  };
  EXPECT_EQ(nx::grad(f)(sample({4}, -2, 2)).to_vector<double>(), (std::vector<double>(4, 3.0)));
  // Float conversions pass the gradient back in the input's dtype.
  nx::Tensor g = nx::grad([](const nx::Tensor& x) { return nx::sum(nx::as_type(x, nx::f32) * 2.0f); })(sample({3}, -1, 1));
  EXPECT_EQ(g.dtype(), nx::f64);
  EXPECT_EQ(g.to_vector<double>(), (std::vector<double>(3, 2.0)));
}

TEST(Grad, StopGradAndErrors) {
  // d/dx sum(x * stop_grad(x)) = stop_grad(x) = x (finite differences would see 2x).
  nx::Tensor x = sample({3}, -1, 1);
  EXPECT_EQ(nx::grad([](const nx::Tensor& y) { return nx::sum(y * nx::stop_grad(y)); })(x).to_vector<double>(),
            x.to_vector<double>());
  EXPECT_THROW(nx::grad([](const nx::Tensor& x) { return x * 2.0; })(nx::ones({2}, nx::f64)), nx::ValueError);
  // Independent of the argument: zero.
  EXPECT_EQ(nx::grad([](const nx::Tensor&) { return nx::scalar(1.0); })(nx::ones({2})).to_vector<float>(),
            (std::vector<float>{0, 0}));
}

}  // namespace
