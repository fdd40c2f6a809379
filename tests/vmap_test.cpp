// nx::vmap against a per-example loop (f run eagerly on each example, results stacked),
// for every batching rule, with in_axes 0, 1 and not_batched and out_axes 0 and 1; its
// composition with jit and grad; and jacrev / jacfwd / hessian against known Jacobians
// and central finite differences.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "nx/nx.hpp"
#include "test_support.hpp"

namespace {

using nx_test::expect_op_error;
using Axes = std::vector<std::optional<int>>;

nx::Tensor uniform(const nx::Shape& s, int seed, double lo = -1, double hi = 1, nx::DType dt = nx::f32) {
  return nx::random::uniform(nx::random::key(seed), s, {.dtype = dt, .min = lo, .max = hi});
}
nx::Tensor ints(const nx::Shape& s, int seed, int64_t hi) {
  return nx::random::randint(nx::random::key(seed), s, 0, hi);
}

void expect_close(const nx::Tensor& got, const nx::Tensor& want, double tol = 1e-4) {
  ASSERT_EQ(got.shape(), want.shape()) << "got " << got.shape().str() << " want " << want.shape().str();
  EXPECT_EQ(got.dtype(), want.dtype());
  std::vector<double> g = got.to_vector<double>(), w = want.to_vector<double>();
  for (size_t i = 0; i < g.size(); ++i)
    EXPECT_NEAR(g[i], w[i], tol * (1 + std::abs(w[i]))) << "element " << i;
}

// Example i of x along axis (negative from the end).
nx::Tensor example(const nx::Tensor& x, int axis, int64_t i) {
  int a = axis < 0 ? axis + x.rank() : axis;
  return nx::squeeze(nx::slice_along_axis(x, a, i, 1), {a});
}

// f on each example eagerly, the results stacked along out_axis (nullopt: when out_axis
// does not fit the results' rank).
template <class F, class... Args>
std::optional<nx::Tensor> per_example(const F& f, const Axes& in_axes, int out_axis, const Args&... args) {
  int64_t n = -1;
  size_t k = 0;
  auto size_of = [&](const nx::Tensor& a) {
    const std::optional<int>& ax = in_axes[k++];
    if (ax && n < 0) n = a.dim(*ax);
  };
  (size_of(args), ...);
  std::vector<nx::Tensor> ys;
  for (int64_t i = 0; i < n; ++i) {
    k = 0;
    auto pick = [&](const nx::Tensor& a) {
      const std::optional<int>& ax = in_axes[k++];
      return ax ? example(a, *ax, i) : a;
    };
    auto one = std::tuple<std::conditional_t<true, nx::Tensor, Args>...>{pick(args)...};  // left to right
    ys.push_back(std::apply(f, one));
  }
  if (out_axis > ys[0].rank()) return std::nullopt;
  return nx::stack(ys, out_axis);
}

// vmap(f) against the loop, for the given in_axes and out_axes 0 and 1.
template <class F, class... Args>
void check_vmap(const std::string& name, const F& f, const Axes& in_axes, const Args&... args) {
  SCOPED_TRACE(name);
  for (int out_axis : {0, 1}) {
    SCOPED_TRACE("out_axis " + std::to_string(out_axis));
    std::optional<nx::Tensor> want = per_example(f, in_axes, out_axis, args...);
    if (!want) continue;
    nx::Tensor got = nx::vmap(f, {.in_axes = in_axes, .out_axes = {out_axis}})(args...);
    expect_close(got, *want);
  }
}

using T = nx::Tensor;

TEST(Vmap, ElementwiseUnaryBinarySelect) {
  T x = uniform({4, 3}, 1), y = uniform({4, 3}, 2), row = uniform({3}, 3), xt = uniform({3, 4}, 4);
  auto unary = [](const T& a) { return nx::tanh(nx::exp(a) + 1.0); };
  check_vmap("unary", unary, {0}, x);
  check_vmap("unary_axis1", unary, {1}, xt);
  check_vmap("unary_negative_axis", unary, {-1}, xt);
  auto binary = [](const T& a, const T& b) { return a * b - nx::max(a, b); };
  check_vmap("binary", binary, {0, 0}, x, y);
  check_vmap("binary_lhs_only", binary, {0, nx::not_batched}, x, row);
  check_vmap("binary_rhs_only", binary, {nx::not_batched, 1}, row, xt);
  check_vmap("binary_mixed_axes", binary, {0, 1}, x, xt);
  // Ranks that differ per example: a scalar example against a vector.
  T s = uniform({4}, 5);
  check_vmap("scalar_with_vector", [](const T& a, const T& b) { return a + b; }, {0, nx::not_batched}, s, row);
  check_vmap("vector_with_batched_scalar", [](const T& a, const T& b) { return a * b; }, {nx::not_batched, 0}, row, s);
  check_vmap("select", [](const T& a, const T& b) { return nx::select(a > b, a, b * 2.0); }, {0, 0}, x, y);
  check_vmap("select_unbatched_pred", [](const T& p, const T& b) { return nx::select(p > 0, b, -b); },
             {nx::not_batched, 0}, row, x);
  check_vmap("as_type", [](const T& a) { return nx::as_type(a * 10.0, nx::i32); }, {0}, x);
  check_vmap("bitcast", [](const T& a) { return nx::bitcast(a, nx::i32); }, {0}, x);
  check_vmap("compare", [](const T& a, const T& b) { return nx::logical_and(a > 0, b > 0); }, {0, 0}, x, y);
}

TEST(Vmap, ShapeOps) {
  T x = uniform({3, 4, 5}, 1), xt = uniform({4, 3, 5}, 2), u = uniform({3, 2, 2}, 3);
  for (int axis : {0, 1}) {
    SCOPED_TRACE(axis);
    const T& in = axis == 0 ? x : xt;
    Axes a{axis};
    check_vmap("reshape", [](const T& v) { return nx::reshape(v, {5, 4}); }, a, in);
    check_vmap("transpose", [](const T& v) { return nx::transpose(v); }, a, in);
    check_vmap("broadcast", [](const T& v) { return nx::broadcast(v, {2, 4, 5}); }, a, in);
    check_vmap("broadcast_axes", [](const T& v) { return nx::broadcast(nx::sum(v, 1), {4, 2}, {.axes = {0}}); }, a, in);
    check_vmap("slice", [](const T& v) { return nx::slice(v, {1, 0}, {2, 3}, {.strides = {1, 2}}); }, a, in);
    check_vmap("pad", [](const T& v) { return nx::pad(v, 0.5, {{1, 0, 1}, {-1, 2, 0}}); }, a, in);
    check_vmap("concatenate", [](const T& v) { return nx::concatenate({v, v * 2.0}, 1); }, a, in);
    check_vmap("reverse", [](const T& v) { return nx::reverse(v, {1}); }, a, in);
    check_vmap("stack", [](const T& v) { return nx::stack({v, nx::ones({4, 5})}, 2); }, a, in);
  }
  auto put = [](const T& v, const T& w) { return nx::put_slice(v, {1, 2}, w); };
  check_vmap("put_slice", put, {0, 0}, x, u);
  check_vmap("put_slice_update_only", put, {nx::not_batched, 0}, x[0], u);
  check_vmap("put_slice_x_only", put, {0, nx::not_batched}, x, u[0]);
  check_vmap("concatenate_unbatched", [](const T& v, const T& w) { return nx::concatenate({v, w}, 0); },
             {0, nx::not_batched}, x, x[1]);
  check_vmap("pad_batched_value", [](const T& v, const T& p) { return nx::pad(v, p, {{1, 1, 0}, {0, 1, 0}}); },
             {0, 0}, x, uniform({3}, 4));
}

TEST(Vmap, Reductions) {
  T x = uniform({3, 4, 5}, 1), xt = uniform({4, 3, 5}, 2);
  for (int axis : {0, 1}) {
    SCOPED_TRACE(axis);
    const T& in = axis == 0 ? x : xt;
    Axes a{axis};
    check_vmap("sum_all", [](const T& v) { return nx::sum(v); }, a, in);
    check_vmap("sum_axis", [](const T& v) { return nx::sum(v, 1); }, a, in);
    check_vmap("product_keep", [](const T& v) { return nx::product(v, {.axes = {0}, .keep_axes = true}); }, a, in);
    check_vmap("reduce_max", [](const T& v) { return nx::reduce_max(v, 1); }, a, in);
    check_vmap("reduce_min", [](const T& v) { return nx::reduce_min(v); }, a, in);
    check_vmap("all", [](const T& v) { return nx::all(v > -0.5, 0); }, a, in);
    check_vmap("any", [](const T& v) { return nx::any(v > 0.9, {0, 1}); }, a, in);
    check_vmap("argmax", [](const T& v) { return nx::argmax(v, 1); }, a, in);
    check_vmap("argmin_flat", [](const T& v) { return nx::argmin(v); }, a, in);
    check_vmap("cumulative_sum", [](const T& v) { return nx::cumulative_sum(v, 1); }, a, in);
    check_vmap("cumulative_max_reverse", [](const T& v) { return nx::cumulative_max(v, {.axis = 0, .reverse = true}); },
               a, in);
    check_vmap("mean_softmax", [](const T& v) { return nx::softmax(v, {.axis = 1}) - nx::mean(v); }, a, in);
  }
}

TEST(Vmap, DotGeneral) {
  T a = uniform({3, 4, 5}, 1), b = uniform({3, 5, 2}, 2), w = uniform({5, 2}, 3), m = uniform({4, 5}, 4);
  auto dot = [](const T& p, const T& q) { return nx::dot(p, q); };
  check_vmap("both", dot, {0, 0}, a, b);
  check_vmap("lhs_only", dot, {0, nx::not_batched}, a, w);
  check_vmap("rhs_only", dot, {nx::not_batched, 0}, m, b);
  check_vmap("rhs_axis2", dot, {nx::not_batched, 2}, m, uniform({5, 2, 3}, 5));
  // Per-example dot batch dims: (2, 4, 5) x (2, 5, 3) contracted over 5, batched over 2.
  auto batched_dot = [](const T& p, const T& q) { return nx::dot(p, {2}, {0}, q, {1}, {0}); };
  T p = uniform({3, 2, 4, 5}, 6), q = uniform({3, 2, 5, 3}, 7);
  check_vmap("dot_batch_both", batched_dot, {0, 0}, p, q);
  check_vmap("dot_batch_lhs", batched_dot, {0, nx::not_batched}, p, q[0]);
  check_vmap("dot_batch_rhs", batched_dot, {nx::not_batched, 0}, p[0], q);
  check_vmap("vector_dot", dot, {1, 0}, uniform({5, 3}, 8), uniform({3, 5}, 9));
}

TEST(Vmap, GatherAndScatter) {
  T x = uniform({3, 5, 4}, 1), idx = ints({3, 2}, 2, 4), idx2 = ints({3, 2, 2}, 3, 4);
  auto take1 = [](const T& v, const T& i) { return nx::take(v, i, 1); };
  check_vmap("take_both", take1, {0, 0}, x, idx);
  check_vmap("take_x_only", take1, {0, nx::not_batched}, x, idx[0]);
  check_vmap("take_indices_only", take1, {nx::not_batched, 0}, x[0], idx);
  auto gather = [](const T& v, const T& i) { return nx::gather(v, i); };
  check_vmap("gather_both", gather, {0, 0}, x, idx2);
  check_vmap("gather_x_only", gather, {0, nx::not_batched}, x, idx2[0]);
  check_vmap("gather_indices_only", gather, {nx::not_batched, 0}, x[0], idx2);
  check_vmap("take_along_axis", [](const T& v, const T& i) { return nx::take_along_axis(v, i, 0); }, {0, 0}, x,
             ints({3, 2, 4}, 4, 5));
  T upd = uniform({3, 2, 4}, 5);
  auto add = [](const T& v, const T& i, const T& u) { return nx::indexed_add(v, nx::new_axis(i, -1), u); };
  check_vmap("indexed_add_all", add, {0, 0, 0}, x, idx, upd);
  check_vmap("indexed_add_x_only", add, {0, nx::not_batched, nx::not_batched}, x, idx[0], upd[0]);
  check_vmap("indexed_add_updates_only", add, {nx::not_batched, nx::not_batched, 0}, x[0], idx[0], upd);
  check_vmap("indexed_add_indices_only", add, {nx::not_batched, 0, nx::not_batched}, x[0], idx, upd[0]);
  T distinct = nx::reshape(nx::stack({nx::arange(2), nx::arange(2) + 2, nx::arange(2) + 1}), {3, 2});
  auto put = [](const T& v, const T& i, const T& u) { return nx::indexed_put(v, nx::new_axis(i, -1), u); };
  check_vmap("indexed_put", put, {0, 0, 0}, x, distinct, upd);
  check_vmap("dynamic_slice", [](const T& v, const T& s) { return nx::dynamic_slice(v, {s, s}, {2, 3}); },
             {0, 0}, x, ints({3}, 6, 4));
}

TEST(Vmap, ConvAndWindows) {
  T in = uniform({3, 2, 2, 6, 6}, 1), k = uniform({3, 4, 2, 3, 3}, 2);
  auto conv = [](const T& i, const T& w) { return nx::conv(i, w, {.strides = {1, 2}, .padding = nx::PaddingMode::same}); };
  check_vmap("conv_input_only", conv, {0, nx::not_batched}, in, k[0]);
  check_vmap("conv_kernel_fallback", conv, {nx::not_batched, 0}, in[0], k);
  check_vmap("conv_both_fallback", conv, {0, 0}, in, k);
  T x = uniform({3, 5, 6}, 3);
  check_vmap("window_sum", [](const T& v) { return nx::window_sum(v, {2, 3}, {.strides = {1, 2}}); }, {0}, x);
  check_vmap("window_max_same", [](const T& v) { return nx::window_max(v, {3, 3}, {.padding = nx::PaddingMode::same}); },
             {1}, x);
  check_vmap("window_scatter_max",
             [](const T& v, const T& s) { return nx::window_scatter_max(v, s, 0.0, {2, 2}, {.strides = {2, 2}}); },
             {0, 0}, x, uniform({3, 2, 3}, 4));
}

TEST(Vmap, SortAndTopK) {
  T x = uniform({3, 4, 5}, 1);
  check_vmap("sort", [](const T& v) { return nx::sort(v, {.axis = 0}); }, {0}, x);
  check_vmap("sort_desc", [](const T& v) { return nx::sort(v, {.direction = nx::Direction::desc}); }, {1}, x);
  check_vmap("argsort", [](const T& v) { return nx::argsort(v); }, {0}, x);
  check_vmap("top_k_values", [](const T& v) { return nx::top_k(v, 2).first; }, {0}, x);
  check_vmap("top_k_indices", [](const T& v) { return nx::top_k(v, 2).second; }, {2}, x);
}

TEST(Vmap, FallbackOpsAndLinalg) {
  T x = uniform({3, 4}, 1, 0.5, 2);
  // while_loop: per-example trip counts differ.
  auto halve = [](const T& v) {
    return std::get<1>(nx::while_loop(std::tuple{nx::scalar(0, nx::i64), v},
                                      [](const auto& s) { return nx::sum(std::get<1>(s)) > 1.0; },
                                      [](const auto& s) {
                                        return std::tuple{std::get<0>(s) + 1, std::get<1>(s) * 0.5};
                                      }));
  };
  check_vmap("while_loop", halve, {0}, x);
  check_vmap("cond", [](const T& v) { return nx::cond(nx::sum(v) > 5.0, [&] { return v * 2.0; }, [&] { return -v; }); },
             {0}, x);
  T keys = nx::random::split(nx::random::key(7), 3);
  check_vmap("random_per_key", [](const T& k) { return nx::random::uniform(k, {4}); }, {0}, keys);
  T spd = uniform({3, 3, 3}, 2);
  spd = nx::dot(spd, {2}, {0}, spd, {2}, {0}) + 3.0 * nx::eye(3);
  check_vmap("cholesky", [](const T& m) { return nx::linalg::cholesky(m); }, {0}, spd);
  check_vmap("solve", [](const T& m, const T& b) { return nx::linalg::solve(m, b); }, {0, 1}, spd, uniform({3, 3}, 3));
  check_vmap("solve_unbatched_matrix", [](const T& m, const T& b) { return nx::linalg::solve(m, b); },
             {nx::not_batched, 0}, spd[0], uniform({4, 3}, 4));
  check_vmap("determinant", [](const T& m) { return nx::linalg::determinant(m); }, {0}, spd);
  check_vmap("triangular_solve", [](const T& m, const T& b) { return nx::linalg::triangular_solve(m, b); }, {0, 0},
             nx::linalg::cholesky(spd), uniform({3, 3, 2}, 5));
  check_vmap("qr", [](const T& m) { return nx::abs(nx::linalg::qr(m).second); }, {1}, uniform({4, 3, 2}, 6));
  check_vmap("eigh", [](const T& m) { return nx::linalg::eigh(m).first; }, {0}, spd);
  check_vmap("svd", [](const T& m) { return std::get<1>(nx::linalg::svd(m)); }, {0}, uniform({3, 4, 2}, 7));
  check_vmap("lu", [](const T& m) { return std::get<2>(nx::linalg::lu(m)); }, {0}, spd);
}

TEST(Vmap, TreesTuplesAndUnbatchedResults) {
  T x = uniform({3, 4}, 1), y = uniform({3, 4}, 2), w = uniform({4}, 3);
  // A tuple result, a tree argument, out_axes per result leaf.
  auto f = [](const std::pair<T, T>& p, const T& v) { return std::tuple{p.first * v, nx::sum(p.second)}; };
  auto [a, s] = nx::vmap(f, {.in_axes = {0, nx::not_batched}, .out_axes = {1, 0}})(std::pair{x, y}, w);
  expect_close(a, nx::transpose(x * w));
  expect_close(s, nx::sum(y, 1));
  // A std::map argument and a result that does not depend on the batch (broadcast).
  auto g = [](const std::map<std::string, T>& p) { return std::pair{p.at("x") + p.at("w"), nx::ones({2})}; };
  auto [b, ones] = nx::vmap(g)(std::map<std::string, T>{{"w", x}, {"x", y}});
  expect_close(b, x + y);
  expect_close(ones, nx::ones({3, 2}));
  // out_axes not_batched for a result that is the same for every example.
  auto h = [](const T& v, const T& c) { return std::pair{v * c, c * 2.0}; };
  auto [hv, hc] = nx::vmap(h, {.in_axes = {0, nx::not_batched}, .out_axes = {0, nx::not_batched}})(x, w);
  expect_close(hv, x * w);
  expect_close(hc, w * 2.0);
  // Nested vmap: an outer product of every row pair.
  auto outer = nx::vmap(nx::vmap([](const T& p, const T& q) { return nx::dot(p, q); }, {.in_axes = {nx::not_batched, 0}}),
                        {.in_axes = {0, nx::not_batched}});
  expect_close(outer(x, y), nx::dot(x, nx::transpose(y)));
  // A vector argument batched on axis 1 (every leaf of it).
  T c = nx::vmap([](const std::vector<T>& v) { return v[0] * v[1]; }, {.in_axes = {1}})(std::vector{x, y});
  expect_close(c, nx::transpose(x * y));
  // A closure over a tensor.
  T z = nx::vmap([&](const T& v) { return v * w; })(x);
  expect_close(z, x * w);
}

TEST(Vmap, EmptyBatch) {
  T none = nx::zeros({0, 3});
  EXPECT_EQ(nx::vmap([](const T& v) { return nx::sin(v) + nx::sum(v); })(none).shape(), (nx::Shape{0, 3}));
  auto looped = [](const T& v) {  // the per-example fallback, with no example to run
    return nx::cond(nx::sum(v) > 0.0, [&] { return v; }, [&] { return -v; });
  };
  EXPECT_EQ(nx::vmap(looped, {.out_axes = {1}})(none).shape(), (nx::Shape{3, 0}));
}

TEST(Vmap, OneGraphWhateverTheBatchSize) {
  // A transform, not a loop: the batched graph has as many nodes for 50 examples as for 2.
  auto f = [](const T& x, const T& w, const T& i) {
    T h = nx::tanh(nx::dot(x, w));  // (4)
    T g = nx::take(h, i);           // (2)
    T c = nx::concatenate({nx::cumulative_sum(h), nx::sort(g), nx::argmax(h).astype(nx::f32) * nx::ones({1})});
    return nx::sum(nx::reshape(nx::slice(c, {1}, {6}), {2, 3}) * nx::transpose(nx::reshape(nx::slice(c, {0}, {3}), {3, 1})), 0);
  };
  auto nodes = [&](int64_t batch) {
    auto jitted = nx::jit([&](const T& x, const T& w, const T& i) {
      return nx::vmap(f, {.in_axes = {0, nx::not_batched, 0}})(x, w, i);
    });
    return jitted.graph(uniform({batch, 3}, 1), uniform({3, 4}, 2), ints({batch, 2}, 3, 4)).nodes.size();
  };
  EXPECT_EQ(nodes(2), nodes(50));
}

TEST(Vmap, UnderJit) {
  T x = uniform({5, 3}, 1), w = uniform({3, 2}, 2);
  auto per_row = nx::vmap([](const T& v, const T& m) { return nx::tanh(nx::dot(v, m)); }, {.in_axes = {0, nx::not_batched}});
  auto jitted = nx::jit([&](const T& v, const T& m) { return per_row(v, m); });
  T want = nx::tanh(nx::dot(x, w));
  expect_close(jitted(x, w), want);
  expect_close(jitted(x * 1.0, w), want);
  EXPECT_EQ(jitted.compiles(), 1);
  // A jitted vmap capturing a traced tensor of the enclosing trace.
  auto scaled = nx::jit([](const T& v, const T& c) {
    return nx::vmap([&](const T& row) { return row * c + nx::sum(c); })(v);
  });
  T c = uniform({3}, 3);
  expect_close(scaled(x, c), x * c + nx::sum(c));
  // Eager and jitted agree.
  expect_close(per_row(x, w), want);
}

TEST(Vmap, GradOfVmap) {
  T x = uniform({4, 3}, 1, -1, 1, nx::f64), w = uniform({3, 2}, 2, -1, 1, nx::f64);
  auto loss_vmapped = [](const T& v, const T& m) {
    auto per_row = nx::vmap([](const T& r, const T& mm) { return nx::sin(nx::dot(r, mm)); }, {.in_axes = {0, nx::not_batched}});
    return nx::sum(per_row(v, m) * per_row(v, m));
  };
  auto loss_plain = [](const T& v, const T& m) { return nx::sum(nx::sin(nx::dot(v, m)) * nx::sin(nx::dot(v, m))); };
  auto [gx, gw] = nx::grad<0, 1>(loss_vmapped)(x, w);
  auto [ex, ew] = nx::grad<0, 1>(loss_plain)(x, w);
  expect_close(gx, ex, 1e-10);
  expect_close(gw, ew, 1e-10);
}

// Every element of y weighted differently, summed: a scalar whose gradient sees each one.
T weigh(const T& y) {
  return nx::sum(y * nx::reshape(nx::iota({y.size()}, y.dtype()) * 0.1 + 1.0, y.shape()));
}

// grad through vmap(f) against grad through a loop of f over the examples (x batched on
// axis 0, `shared` not batched): the batched ops' own gradient rules must agree.
template <class F> void check_grad_of_vmap(const std::string& name, const F& f, const T& x, const T& shared) {
  SCOPED_TRACE(name);
  auto through_vmap = [&](const T& v) { return weigh(nx::vmap(f, {.in_axes = {0, nx::not_batched}})(v, shared)); };
  auto through_loop = [&](const T& v) {
    std::vector<T> ys;
    for (int64_t i = 0; i < v.dim(0); ++i) ys.push_back(f(v[i], shared));
    return weigh(nx::stack(ys));
  };
  expect_close(nx::grad(through_vmap)(x), nx::grad(through_loop)(x), 1e-9);
}

TEST(Vmap, GradOfVmapAcrossRules) {
  T x = uniform({3, 4, 6}, 1, -1, 1, nx::f64), m = uniform({6, 4}, 2, -1, 1, nx::f64);
  check_grad_of_vmap("dot_shape_ops", [](const T& v, const T& w) {
    return nx::concatenate({nx::transpose(nx::dot(v, w)), nx::pad(nx::slice(v, {1, 0}, {2, 4}), 0.0, {{2, 0, 0}, {0, 0, 1}})}, 1);
  }, x, m);
  check_grad_of_vmap("reductions_cumulative_sort", [](const T& v, const T& w) {
    return nx::cumulative_product(nx::sort(v, {.axis = 1}), 0) + nx::reduce_max(v, 1).reshape({4, 1}) * nx::sum(w);
  }, x, m);
  check_grad_of_vmap("gather_scatter", [](const T& v, const T& w) {
    T idx = nx::from_vector(std::vector<int64_t>{2, 0, 3}, {3, 1});
    return nx::indexed_add(v, idx, nx::take(v, nx::arange(3), 0) * w.T()[0]);
  }, x, m);
  check_grad_of_vmap("windows", [](const T& v, const T& w) {
    return nx::window_max(v, {2, 3}, {.strides = {1, 2}}) + nx::window_sum(v * w[1][0], {2, 3}, {.strides = {1, 2}});
  }, x, m);
  T images = uniform({2, 1, 2, 5, 5}, 3, -1, 1, nx::f64), kernel = uniform({3, 2, 2, 2}, 4, -1, 1, nx::f64);
  check_grad_of_vmap("conv", [](const T& v, const T& k) { return nx::conv(v, k, {.padding = nx::PaddingMode::same}); },
                     images, kernel);
}

TEST(Vmap, PerExampleGradients) {
  T w = uniform({3}, 1, -1, 1, nx::f64), xs = uniform({5, 3}, 2, -1, 1, nx::f64), ys = uniform({5}, 3, -1, 1, nx::f64);
  auto loss = [](const T& wt, const T& xv, const T& yv) {
    T d = nx::tanh(nx::sum(wt * xv)) - yv;
    return d * d;
  };
  auto per_example_grads = nx::vmap(nx::grad(loss), {.in_axes = {nx::not_batched, 0, 0}});
  T got = per_example_grads(w, xs, ys);
  std::vector<T> want;
  for (int64_t i = 0; i < 5; ++i) want.push_back(nx::grad(loss)(w, xs[i], ys[i]));
  expect_close(got, nx::stack(want), 1e-10);
  // The same inside jit, and the mean of them is the gradient of the mean loss.
  T jitted = nx::jit([&](const T& a, const T& b, const T& c) { return per_example_grads(a, b, c); })(w, xs, ys);
  expect_close(jitted, got, 1e-10);
  T mean_grad = nx::grad([&](const T& a) { return nx::mean(nx::vmap(loss, {.in_axes = {nx::not_batched, 0, 0}})(a, xs, ys)); })(w);
  expect_close(nx::mean(got, {.axes = {0}}), mean_grad, 1e-10);
}

TEST(Vmap, Errors) {
  T a = uniform({3, 2}, 1), b = uniform({4, 2}, 2);
  auto add = [](const T& p, const T& q) { return p + q; };
  expect_op_error<nx::ShapeError>([&] { nx::vmap(add)(a, b); }, "vmap", "(3, 2) on axis 0, (4, 2) on axis 0");
  expect_op_error<nx::AxisError>([&] { nx::vmap(add, {.in_axes = {2, 0}})(a, a); }, "vmap",
                                 "in_axes 2 is out of range for argument leaf 0 of shape (3, 2)");
  expect_op_error<nx::AxisError>([&] { nx::vmap(add, {.in_axes = {0, 0}})(a, nx::scalar(1.0)); }, "vmap",
                                 "use nx::not_batched");
  expect_op_error<nx::ValueError>([&] { nx::vmap(add, {.in_axes = {0}})(a, a); }, "vmap", "in_axes has 1 entries for 2");
  expect_op_error<nx::ValueError>([&] { nx::vmap(add, {.in_axes = {nx::not_batched, nx::not_batched}})(a, a); },
                                  "vmap", "no argument is batched");
  expect_op_error<nx::AxisError>([&] { nx::vmap(add, {.out_axes = {3}})(a, a); }, "vmap", "out_axes 3 is out of range");
  expect_op_error<nx::ValueError>([&] { nx::vmap(add, {.out_axes = {nx::not_batched}})(a, a); }, "vmap",
                                  "differs between examples");
  // An error inside f names f's op and shapes (one example's shapes).
  expect_op_error<nx::ShapeError>([&] { nx::vmap([](const T& p) { return nx::reshape(p, {3}); })(a); }, "reshape",
                                  "cannot reshape (2)");
}

// ---- Jacobians ----

// Central differences of f at x in f64: shape f(x).shape + x.shape.
T finite_jacobian(const std::function<T(const T&)>& f, const T& x, double eps = 1e-6) {
  std::vector<double> v = x.to_vector<double>();
  T y = f(x);
  std::vector<T> columns;
  for (size_t i = 0; i < v.size(); ++i) {
    std::vector<double> p = v, m = v;
    p[i] += eps;
    m[i] -= eps;
    columns.push_back(nx::flatten((f(nx::from_vector(p, x.shape())) - f(nx::from_vector(m, x.shape()))) / (2 * eps)));
  }
  nx::Shape s = y.shape();
  for (int64_t d : x.shape()) s.push_back(d);
  return nx::reshape(nx::stack(columns, 1), s);
}

TEST(Jacobian, LinearMapGivesItsMatrix) {
  T A = uniform({3, 4}, 1), x = uniform({4}, 2);
  auto f = [&](const T& v) { return nx::dot(A, v); };
  expect_close(nx::jacrev(f)(x), A);
  expect_close(nx::jacfwd(f)(x), A);
}

TEST(Jacobian, ElementwiseGivesDiagonal) {
  T x = uniform({5}, 1);
  T want = nx::eye(5) * nx::cos(x);  // diag(cos x)
  expect_close(nx::jacrev([](const T& v) { return nx::sin(v); })(x), want);
  expect_close(nx::jacfwd([](const T& v) { return nx::sin(v); })(x), want);
}

TEST(Jacobian, TwoDimensionalOutputAgainstFiniteDifferences) {
  T x = uniform({2, 3}, 1, -1, 1, nx::f64), W = uniform({3, 4}, 2, -1, 1, nx::f64);
  auto f = [&](const T& v) { return nx::tanh(nx::dot(v, W)) * nx::sum(v * v); };  // (2, 3) -> (2, 4)
  T want = finite_jacobian(f, x);
  EXPECT_EQ(want.shape(), (nx::Shape{2, 4, 2, 3}));
  expect_close(nx::jacrev(f)(x), want, 1e-6);
  expect_close(nx::jacfwd(f)(x), want, 1e-6);
  // Scalar output: the gradient.
  auto s = [](const T& v) { return nx::sum(nx::exp(v) * v); };
  expect_close(nx::jacrev(s)(x), nx::grad(s)(x), 1e-10);
  expect_close(nx::jacfwd(s)(x), nx::grad(s)(x), 1e-10);
}

TEST(Jacobian, HessianOfCubeAndQuadraticForm) {
  T x = uniform({4}, 1, -1, 1, nx::f64);
  // sum(x^3): diag(6 x).
  expect_close(nx::hessian([](const T& v) { return nx::sum(v * v * v); })(x), nx::eye(4, nx::f64) * (6.0 * x), 1e-10);
  // x^T A x: A + A^T.
  T A = uniform({4, 4}, 2, -1, 1, nx::f64);
  expect_close(nx::hessian([&](const T& v) { return nx::dot(v, nx::dot(A, v)); })(x), A + nx::transpose(A), 1e-10);
  // A non-polynomial one against finite differences of the gradient.
  auto f = [](const T& v) { return nx::sum(nx::sin(v) * nx::reverse(v)) + nx::sum(nx::exp(v) * v); };
  expect_close(nx::hessian(f)(x), finite_jacobian([&](const T& v) { return nx::grad(f)(v); }, x), 1e-6);
}

TEST(Jacobian, ArgnumInsideJitAndComposition) {
  T A = uniform({3, 4}, 1), x = uniform({4}, 2);
  // The Jacobian with respect to the second argument; the first passes through.
  auto f = [](const T& m, const T& v) { return nx::dot(m, v * v); };
  expect_close(nx::jacrev<1>(f)(A, x), A * (2.0 * x));
  expect_close(nx::jacfwd<1>(f)(A, x), A * (2.0 * x));
  // Inside jit, and vmapped over a batch of points.
  auto jitted = nx::jit([&](const T& v) { return nx::jacrev([&](const T& u) { return nx::sin(u); })(v); });
  expect_close(jitted(x), nx::eye(4) * nx::cos(x));
  T xs = uniform({2, 4}, 3);
  T batched = nx::vmap([](const T& v) { return nx::jacfwd([](const T& u) { return u * u; })(v); })(xs);
  expect_close(batched[1], nx::eye(4) * (2.0 * xs[1]));
}

TEST(Jacobian, Errors) {
  expect_op_error<nx::DTypeError>([] { nx::jacrev([](const T& v) { return v * 2; })(nx::arange(3)); }, "jacrev",
                                  "must be a float tensor");
  expect_op_error<nx::DTypeError>([] { nx::jacrev([](const T& v) { return nx::argmax(v); })(nx::ones({3})); }, "jacrev",
                                  "must return a float tensor");
}

}  // namespace
