// The small ops a numpy/PyTorch/JAX user expects (split, chunk, tril/triu, isclose and
// allclose, square, expand_dims, median, quantile, random::categorical and
// random::truncated_normal): values against numpy 2.4 and JAX 0.10.2 (computed once and
// pasted here), edge cases and errors, jit against eager, gradients against finite
// differences, and the random ops' statistics.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <numbers>
#include <string>
#include <vector>

#include "grad_support.hpp"
#include "nx/nx.hpp"
#include "test_support.hpp"

namespace {

using nx_test::expect_op_error;
using nx_test::kInf;
using nx_test::kNaN;
namespace r = nx::random;
constexpr float kInfF = std::numeric_limits<float>::infinity();

std::vector<double> values(const nx::Tensor& t) { return t.to_vector<double>(); }

std::vector<bool> bools(const nx::Tensor& t) {
  EXPECT_EQ(t.dtype(), nx::boolean);
  return t.to_vector<bool>();
}

void expect_values_near(const nx::Tensor& t, const std::vector<double>& expected, double tol) {
  std::vector<double> got = values(t);
  ASSERT_EQ(got.size(), expected.size());
  for (size_t i = 0; i < got.size(); ++i) {
    if (std::isnan(expected[i])) EXPECT_TRUE(std::isnan(got[i])) << "element " << i << ": " << got[i];
    else EXPECT_NEAR(got[i], expected[i], tol * (1 + std::abs(expected[i]))) << "element " << i;
  }
}

std::vector<int64_t> dims_along(const std::vector<nx::Tensor>& pieces, int axis) {
  std::vector<int64_t> d;
  for (const nx::Tensor& p : pieces) d.push_back(p.dim(axis));
  return d;
}

// ---- split, chunk ----

TEST(SmallOps, SplitIntoEqualSections) {
  nx::Tensor x = nx::reshape(nx::arange(12), {2, 6});
  auto pieces = nx::split(x, 3, 1);
  ASSERT_EQ(pieces.size(), 3u);
  EXPECT_EQ(pieces[1].shape(), nx::Shape({2, 2}));
  EXPECT_EQ(pieces[1].to_vector<int64_t>(), (std::vector<int64_t>{2, 3, 8, 9}));
  EXPECT_EQ(dims_along(nx::split(x, 2, -1), 1), (std::vector<int64_t>{3, 3}));
  EXPECT_EQ(nx::split(x, 2)[1].to_vector<int64_t>(), (std::vector<int64_t>{6, 7, 8, 9, 10, 11}));
  EXPECT_EQ(nx::split(x, 1)[0].shape(), x.shape());
  // Empty: any number of sections divides 0.
  EXPECT_EQ(dims_along(nx::split(nx::zeros({0, 3}), 4), 0), (std::vector<int64_t>{0, 0, 0, 0}));
}

TEST(SmallOps, SplitAtIndicesAsNumpy) {
  nx::Tensor x = nx::arange(10);
  // numpy.split(arange(10), [3, 7]) -> [0 1 2] [3 4 5 6] [7 8 9]
  auto pieces = nx::split(x, {3, 7});
  ASSERT_EQ(pieces.size(), 3u);
  EXPECT_EQ(pieces[0].to_vector<int64_t>(), (std::vector<int64_t>{0, 1, 2}));
  EXPECT_EQ(pieces[1].to_vector<int64_t>(), (std::vector<int64_t>{3, 4, 5, 6}));
  EXPECT_EQ(pieces[2].to_vector<int64_t>(), (std::vector<int64_t>{7, 8, 9}));
  // Negative from the end, clamped: numpy.split(arange(10), [-3, 20]) -> 7, 3, 0 elements.
  EXPECT_EQ(dims_along(nx::split(x, {-3, 20}), 0), (std::vector<int64_t>{7, 3, 0}));
  // A smaller index after a larger one: numpy.split(arange(5), [3, 1]) -> [0 1 2] [] [1 2 3 4].
  auto back = nx::split(nx::arange(5), {3, 1});
  EXPECT_EQ(dims_along(back, 0), (std::vector<int64_t>{3, 0, 4}));
  EXPECT_EQ(back[2].to_vector<int64_t>(), (std::vector<int64_t>{1, 2, 3, 4}));
  // One index in braces is an index (numpy.split(x, [2])), not a number of sections.
  EXPECT_EQ(dims_along(nx::split(x, {2}), 0), (std::vector<int64_t>{2, 8}));
  EXPECT_EQ(dims_along(nx::split(x, std::vector<int64_t>{}), 0), (std::vector<int64_t>{10}));
  nx::Tensor m = nx::reshape(nx::arange(12), {3, 4});
  EXPECT_EQ(nx::split(m, {1}, -1)[1].to_vector<int64_t>(), (std::vector<int64_t>{1, 2, 3, 5, 6, 7, 9, 10, 11}));
}

TEST(SmallOps, SplitRefusesBadArguments) {
  nx::Tensor x = nx::zeros({5, 2});
  expect_op_error<nx::ValueError>([&] { nx::split(x, 3); }, "split", "3 sections do not divide axis 0 of shape (5, 2)");
  expect_op_error<nx::ValueError>([&] { nx::split(x, 0); }, "split", "positive number of sections, got 0");
  expect_op_error<nx::AxisError>([&] { nx::split(x, 1, 2); }, "split", "axis 2 is out of range for rank 2");
  expect_op_error<nx::AxisError>([&] { nx::split(nx::scalar(1.0), {1}); }, "split", "out of range for rank 0");
}

TEST(SmallOps, ChunkAsTorch) {
  nx::Tensor x = nx::arange(5);
  // torch.chunk(arange(5), 4): pieces of ceil(5 / 4) = 2, so 2, 2, 1 (three pieces).
  auto pieces = nx::chunk(x, 4);
  EXPECT_EQ(dims_along(pieces, 0), (std::vector<int64_t>{2, 2, 1}));
  EXPECT_EQ(pieces[2].to_vector<int64_t>(), (std::vector<int64_t>{4}));
  EXPECT_EQ(dims_along(nx::chunk(nx::arange(6), 4), 0), (std::vector<int64_t>{2, 2, 2}));
  EXPECT_EQ(dims_along(nx::chunk(nx::arange(6), 3), 0), (std::vector<int64_t>{2, 2, 2}));
  EXPECT_EQ(dims_along(nx::chunk(nx::arange(3), 5), 0), (std::vector<int64_t>{1, 1, 1}));
  EXPECT_EQ(dims_along(nx::chunk(nx::zeros({2, 7}), 2, -1), 1), (std::vector<int64_t>{4, 3}));
  // A dim of 0 keeps the count, as torch.
  EXPECT_EQ(dims_along(nx::chunk(nx::zeros({0}), 3), 0), (std::vector<int64_t>{0, 0, 0}));
  expect_op_error<nx::ValueError>([&] { nx::chunk(x, 0); }, "chunk", "positive number of chunks, got 0");
  expect_op_error<nx::AxisError>([&] { nx::chunk(x, 2, 1); }, "chunk", "axis 1 is out of range");
}

// ---- tril, triu ----

TEST(SmallOps, TrilTriuAsNumpy) {
  nx::Tensor m = nx::reshape(nx::arange(1, 13), {3, 4});
  EXPECT_EQ(nx::tril(m).to_vector<int64_t>(), (std::vector<int64_t>{1, 0, 0, 0, 5, 6, 0, 0, 9, 10, 11, 0}));
  EXPECT_EQ(nx::triu(m).to_vector<int64_t>(), (std::vector<int64_t>{1, 2, 3, 4, 0, 6, 7, 8, 0, 0, 11, 12}));
  // numpy.tril(m, -1), numpy.triu(m, 1)
  EXPECT_EQ(nx::tril(m, -1).to_vector<int64_t>(), (std::vector<int64_t>{0, 0, 0, 0, 5, 0, 0, 0, 9, 10, 0, 0}));
  EXPECT_EQ(nx::triu(m, 1).to_vector<int64_t>(), (std::vector<int64_t>{0, 2, 3, 4, 0, 0, 7, 8, 0, 0, 0, 12}));
  EXPECT_EQ(nx::tril(m, 10).to_vector<int64_t>(), m.to_vector<int64_t>());
  EXPECT_EQ(nx::triu(m, 10).to_vector<int64_t>(), std::vector<int64_t>(12, 0));
  EXPECT_EQ(nx::tril(m).dtype(), nx::i64);
  // Batched over leading axes; tril + triu(k = 1) is the whole matrix.
  nx::Tensor b = nx::random::uniform(r::key(3), {2, 3, 4, 4});
  EXPECT_EQ(nx::tril(b).shape(), b.shape());
  EXPECT_EQ(values(nx::tril(b) + nx::triu(b, 1)), values(b));
  EXPECT_EQ(nx::tril(nx::zeros({0, 3})).shape(), nx::Shape({0, 3}));
  EXPECT_EQ(bools(nx::triu(nx::ones({2, 2}, nx::boolean))), (std::vector<bool>{true, true, false, true}));
  expect_op_error<nx::ShapeError>([] { nx::tril(nx::zeros({3})); }, "tril", "rank >= 2), got shape (3)");
  expect_op_error<nx::ShapeError>([] { nx::triu(nx::scalar(1.0)); }, "triu", "got shape ()");
}

// ---- isclose, allclose ----

TEST(SmallOps, IsCloseAsNumpy) {
  nx::Tensor a = nx::tensor({1.0, 1.0 + 1e-6, kInf, -kInf, kNaN, 1e10, 0.0, 1e-9}, nx::f64);
  nx::Tensor b = nx::tensor({1.0, 1.0, kInf, kInf, kNaN, 1.00001e10, 1e-9, 0.0}, nx::f64);
  // numpy.isclose(a, b), with equal_nan=True, and with rtol=0, atol=1e-7.
  EXPECT_EQ(bools(nx::isclose(a, b)), (std::vector<bool>{true, true, true, false, false, true, true, true}));
  EXPECT_EQ(bools(nx::isclose(a, b, {.equal_nan = true})),
            (std::vector<bool>{true, true, true, false, true, true, true, true}));
  EXPECT_EQ(bools(nx::isclose(a, b, {.rtol = 0, .atol = 1e-7})),
            (std::vector<bool>{true, false, true, false, false, false, true, true}));
  // A finite value is never close to an infinity, however large the tolerance.
  EXPECT_EQ(bools(nx::isclose(nx::tensor({1e30, -kInf}), kInf, {.rtol = 10})), (std::vector<bool>{false, false}));
  // Broadcasting, numbers, integers (compared in f64, so no overflow).
  EXPECT_EQ(nx::isclose(nx::zeros({2, 3}), nx::zeros({3})).shape(), nx::Shape({2, 3}));
  EXPECT_EQ(bools(nx::isclose(nx::tensor({1.0f, 2.0f}), 1.0)), (std::vector<bool>{true, false}));
  nx::Tensor big = nx::tensor({std::numeric_limits<int64_t>::max(), int64_t{5}});
  nx::Tensor small = nx::tensor({std::numeric_limits<int64_t>::min(), int64_t{5}});
  EXPECT_EQ(bools(nx::isclose(big, small)), (std::vector<bool>{false, true}));
  EXPECT_EQ(nx::isclose(nx::zeros({0}), nx::zeros({0})).shape(), nx::Shape({0}));
  expect_op_error<nx::ShapeError>([] { nx::isclose(nx::zeros({2}), nx::zeros({3})); }, "isclose", "(2)");
  expect_op_error<nx::ValueError>([] { nx::isclose(nx::zeros({2}), nx::zeros({2}), {.rtol = -1}); }, "isclose",
                                  "rtol and atol >= 0");
}

TEST(SmallOps, AllCloseIsEagerOnly) {
  nx::Tensor a = nx::tensor({1.0f, 2.0f, 3.0f});
  EXPECT_TRUE(nx::allclose(a, a + 1e-6f));
  EXPECT_FALSE(nx::allclose(a, a + 1e-3f));
  EXPECT_TRUE(nx::allclose(a, a + 1e-3f, {.atol = 1e-2}));
  EXPECT_TRUE(nx::allclose(nx::zeros({0}), nx::ones({0})));
  EXPECT_FALSE(nx::allclose(nx::tensor({kNaN}), nx::tensor({kNaN})));
  EXPECT_TRUE(nx::allclose(nx::tensor({kNaN}), nx::tensor({kNaN}), {.equal_nan = true}));
  // Traced tensors have no values: a clear error naming the bool-tensor alternative.
  auto f = nx::jit([](const nx::Tensor& x) { return nx::Tensor(nx::allclose(x, x)); });
  expect_op_error<nx::ValueError>([&] { f(a); }, "allclose", "use nx::all(nx::isclose(a, b))");
  auto g = nx::jit([](const nx::Tensor& x) { return nx::all(nx::isclose(x, x * 1.0000001f)); });
  EXPECT_TRUE(g(a).item<bool>());
}

// ---- square, expand_dims ----

TEST(SmallOps, Square) {
  EXPECT_EQ(values(nx::square(nx::tensor({-3.0, 0.5, 2.0}, nx::f64))), (std::vector<double>{9.0, 0.25, 4.0}));
  nx::Tensor i = nx::square(nx::tensor({-3, 4}, nx::i32));
  EXPECT_EQ(i.dtype(), nx::i32);
  EXPECT_EQ(i.to_vector<int32_t>(), (std::vector<int32_t>{9, 16}));
  EXPECT_EQ(nx::square(nx::zeros({0, 2})).shape(), nx::Shape({0, 2}));
}

TEST(SmallOps, ExpandDimsAsNumpy) {
  nx::Tensor x = nx::reshape(nx::arange(6), {2, 3});
  EXPECT_EQ(nx::expand_dims(x, 0).shape(), nx::Shape({1, 2, 3}));
  EXPECT_EQ(nx::expand_dims(x, -1).shape(), nx::Shape({2, 3, 1}));
  EXPECT_EQ(nx::expand_dims(x, -2).shape(), nx::Shape({2, 1, 3}));  // positions in the result
  EXPECT_EQ(nx::expand_dims(x, {0, -1}).shape(), nx::Shape({1, 2, 3, 1}));
  EXPECT_EQ(nx::expand_dims(x, {1, 3}).shape(), nx::Shape({2, 1, 3, 1}));
  EXPECT_EQ(nx::expand_dims(x, {3, 1}).shape(), nx::Shape({2, 1, 3, 1}));
  EXPECT_EQ(nx::expand_dims(nx::scalar(2.0), 0).shape(), nx::Shape({1}));
  EXPECT_EQ(nx::expand_dims(x, {0}).to_vector<int64_t>(), x.to_vector<int64_t>());
  expect_op_error<nx::AxisError>([&] { nx::expand_dims(x, 3); }, "expand_dims", "axis 3 is out of range for rank 3");
  expect_op_error<nx::AxisError>([&] { nx::expand_dims(x, {0, -4}); }, "expand_dims", "axis -4 is repeated");
  expect_op_error<nx::ValueError>([&] { nx::expand_dims(x, {}); }, "expand_dims", "positions of the new axes");
  expect_op_error<nx::ShapeError>([&] { nx::expand_dims(x, {0, 1, 2, 3, 4, 5, 6}); }, "expand_dims",
                                  "would give rank 9");
}

// ---- median, quantile ----

// numpy's x for the median/quantile cases.
nx::Tensor stats_input() {
  return nx::tensor({{3.0, 1.0, 4.0, 1.5}, {5.0, 9.0, 2.0, 6.0}, {5.0, 3.0, 5.0, 8.0}}, nx::f64);
}

TEST(SmallOps, MedianAsNumpy) {
  nx::Tensor x = stats_input();
  EXPECT_EQ(values(nx::median(x)), (std::vector<double>{4.5}));
  EXPECT_EQ(nx::median(x).shape(), nx::Shape({}));
  EXPECT_EQ(values(nx::median(x, 0)), (std::vector<double>{5.0, 3.0, 4.0, 6.0}));
  EXPECT_EQ(values(nx::median(x, 1)), (std::vector<double>{2.25, 5.5, 5.0}));
  EXPECT_EQ(values(nx::median(x, -1)), values(nx::median(x, 1)));
  EXPECT_EQ(values(nx::median(x, {0, 1})), (std::vector<double>{4.5}));
  EXPECT_EQ(nx::median(x, {.axes = -1, .keep_axes = true}).shape(), nx::Shape({3, 1}));
  EXPECT_EQ(nx::median(x, {.keep_axes = true}).shape(), nx::Shape({1, 1}));
  // f32 over two axes together: numpy.median(y, axis=(0, 2)).
  nx::Tensor y = nx::tensor({{{-6.569866f, 7.055403f, 7.568025f, -5.9847217f},
                              {-8.41471f, 4.7942553f, 9.092975f, -3.5078323f},
                              {-9.589243f, 2.1511998f, 9.893582f, -0.7515112f}},
                             {{-9.999902f, -0.663219f, 9.906074f, 2.0646749f},
                              {-9.613975f, -3.424806f, 9.129453f, 4.71639f},
                              {-8.462204f, -5.913575f, 7.6255846f, 6.9924f}}});
  nx::Tensor my = nx::median(y, {0, 2});
  EXPECT_EQ(my.dtype(), nx::f32);
  EXPECT_EQ(my.to_vector<float>(), (std::vector<float>{0.70072794f, 0.645792f, 0.6998443f}));
  // Integers average to f32; size 1; NaN propagates; an empty reduction is NaN (numpy).
  nx::Tensor mi = nx::median(nx::tensor({1, 2, 3, 4}));
  EXPECT_EQ(mi.dtype(), nx::f32);
  EXPECT_EQ(mi.item<float>(), 2.5f);
  EXPECT_EQ(values(nx::median(nx::tensor({7.0}))), (std::vector<double>{7.0}));
  expect_values_near(nx::median(nx::tensor({{1.0, kNaN, 3.0}, {1.0, 2.0, 3.0}}), 1), {kNaN, 2.0}, 0);
  expect_values_near(nx::median(nx::zeros({2, 0}), 1), {kNaN, kNaN}, 0);
  EXPECT_EQ(nx::median(nx::zeros({0, 3}), 1).shape(), nx::Shape({0}));
  // No overflow for two large middle values.
  EXPECT_EQ(nx::median(nx::tensor({3e38f, 3e38f})).item<float>(), 3e38f);
  EXPECT_EQ(values(nx::median(nx::tensor({1.0, kInf}))), (std::vector<double>{kInf}));
  expect_op_error<nx::AxisError>([&] { nx::median(x, 2); }, "median", "axis 2 is out of range for rank 2");
}

TEST(SmallOps, QuantileMethodsAsNumpy) {
  nx::Tensor x = stats_input();
  nx::Tensor q = nx::tensor({0.0, 0.1, 0.25, 0.5, 0.9, 1.0}, nx::f64);
  // numpy.quantile(x, q, axis=1, method=m): shape (6, 3), q's axis first.
  struct Case {
    nx::QuantileMethod method;
    std::vector<double> expected;
  };
  std::vector<Case> cases = {
      {nx::QuantileMethod::linear,
       {1., 2., 3., 1.15, 2.9000000000000004, 3.6, 1.375, 4.25, 4.5, 2.25, 5.5, 5., 3.7, 8.100000000000001,
        7.1000000000000005, 4., 9., 8.}},
      {nx::QuantileMethod::lower, {1, 2, 3, 1, 2, 3, 1, 2, 3, 1.5, 5, 5, 3, 6, 5, 4, 9, 8}},
      {nx::QuantileMethod::higher, {1, 2, 3, 1.5, 5, 5, 1.5, 5, 5, 3, 6, 5, 4, 9, 8, 4, 9, 8}},
      {nx::QuantileMethod::nearest, {1, 2, 3, 1, 2, 3, 1.5, 5, 5, 3, 6, 5, 4, 9, 8, 4, 9, 8}},
      {nx::QuantileMethod::midpoint, {1, 2, 3, 1.25, 3.5, 4, 1.25, 3.5, 4, 2.25, 5.5, 5, 3.5, 7.5, 6.5, 4, 9, 8}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(static_cast<int>(c.method));
    nx::Tensor got = nx::quantile(x, q, {.axes = 1, .method = c.method});
    EXPECT_EQ(got.shape(), nx::Shape({6, 3}));
    EXPECT_EQ(values(got), c.expected);
  }
  EXPECT_EQ(values(nx::quantile(x, 0.3)), (std::vector<double>{3.0}));
  EXPECT_EQ(values(nx::quantile(x, 0.5)), values(nx::median(x)));
  EXPECT_EQ(values(nx::quantile(x, 0.5, 0)), values(nx::median(x, 0)));
  // nearest rounds half to even: numpy.quantile(arange(5), [.125, .375, .625, .875], method='nearest').
  nx::Tensor halves = nx::quantile(nx::arange(5, nx::f64), nx::tensor({0.125, 0.375, 0.625, 0.875}),
                                   {.method = nx::QuantileMethod::nearest});
  EXPECT_EQ(values(halves), (std::vector<double>{0, 2, 2, 4}));
  // lower/higher/nearest keep integers; linear gives f32 for them.
  nx::Tensor ints = nx::tensor({1, 2, 3, 4, 5});
  nx::Tensor near = nx::quantile(ints, 0.3, {.method = nx::QuantileMethod::nearest});
  EXPECT_EQ(near.dtype(), nx::i64);
  EXPECT_EQ(near.item<int64_t>(), 2);
  EXPECT_EQ(nx::quantile(ints, 0.3).dtype(), nx::f32);
  EXPECT_FLOAT_EQ(nx::quantile(ints, 0.3).item<float>(), 2.2f);
}

TEST(SmallOps, QuantileShapesAndEdges) {
  nx::Tensor y = nx::reshape(nx::sin(nx::arange(24, nx::f32) * 1.5f - 7.0f) * 10.0f, {2, 3, 4});
  nx::Tensor q = nx::tensor({0.2, 0.7});
  // numpy.quantile(y, [0.2, 0.7], axis=(0, 2)) (numpy computes it in f64).
  nx::Tensor got = nx::quantile(y, q, {0, 2});
  EXPECT_EQ(got.shape(), nx::Shape({2, 3}));
  EXPECT_EQ(got.dtype(), nx::f32);
  expect_values_near(got,
                     {-6.335808372497558, -6.451959037780761, -7.442752456665039, 6.556330394744871,
                      4.786468744277954, 6.508280134201048},
                     1e-6);
  EXPECT_EQ(nx::quantile(y, q, {.axes = {0, 2}, .keep_axes = true}).shape(), nx::Shape({2, 1, 3, 1}));
  EXPECT_EQ(nx::quantile(y, q, {.axes = -1, .keep_axes = true}).shape(), nx::Shape({2, 2, 3, 1}));
  EXPECT_EQ(nx::quantile(y, 0.5, {.keep_axes = true}).shape(), nx::Shape({1, 1, 1}));
  EXPECT_EQ(nx::quantile(y, nx::reshape(nx::tensor({0.1f, 0.2f, 0.3f, 0.4f}), {2, 2}), 1).shape(),
            nx::Shape({2, 2, 2, 4}));
  // NaN lanes, infinities (numpy gives NaN for these; nx the limits), empty lanes.
  expect_values_near(nx::quantile(nx::tensor({{1.0, kNaN}, {1.0, 2.0}}), 0.25, 1), {kNaN, 1.25}, 0);
  EXPECT_EQ(values(nx::quantile(nx::tensor({1.0, kInf}, nx::f64), nx::tensor({0.0, 0.5, 1.0}))),
            (std::vector<double>{1.0, kInf, kInf}));
  EXPECT_EQ(values(nx::quantile(nx::tensor({kInf}, nx::f64), 0.3)), (std::vector<double>{kInf}));
  EXPECT_EQ(values(nx::quantile(nx::tensor({-kInf, 0.0}, nx::f64), 0.75)), (std::vector<double>{-kInf}));
  expect_values_near(nx::quantile(nx::zeros({2, 0}), nx::tensor({0.5, 0.9}), 1), {kNaN, kNaN, kNaN, kNaN}, 0);
  expect_op_error<nx::ValueError>([] { nx::quantile(nx::zeros({0}, nx::i32), 0.5, {.method = nx::QuantileMethod::lower}); },
                                  "quantile", "the reduced axes are empty");
  expect_op_error<nx::ValueError>([&] { nx::quantile(y, 1.5); }, "quantile", "quantiles in [0, 1], got 1.5");
  expect_op_error<nx::ValueError>([&] { nx::quantile(y, nx::tensor({0.5, -0.1})); }, "quantile", "got -0.1");
  expect_op_error<nx::ValueError>([&] { nx::quantile(y, kNaN); }, "quantile", "got nan");
  expect_op_error<nx::DTypeError>([&] { nx::quantile(y, nx::tensor({true})); }, "quantile", "numeric quantiles");
  expect_op_error<nx::AxisError>([&] { nx::quantile(y, 0.5, {0, 0}); }, "quantile", "axis 0 is repeated");
}

// ---- jit and gradients ----

TEST(SmallOps, JitGivesTheEagerValues) {
  nx::Tensor x = nx::random::uniform(r::key(11), {3, 4, 5}, {.dtype = nx::f64, .min = -2, .max = 2});
  auto all_ops = [](const nx::Tensor& t) {
    std::vector<nx::Tensor> out = nx::split(t, {1, 3}, 1);
    for (const nx::Tensor& c : nx::chunk(t, 2, -1)) out.push_back(c);
    out.push_back(nx::tril(t, 1));
    out.push_back(nx::triu(t, -1));
    out.push_back(nx::isclose(t, t * 1.000001));
    out.push_back(nx::square(t));
    out.push_back(nx::expand_dims(t, {0, -1}));
    out.push_back(nx::median(t, {0, 2}));
    out.push_back(nx::quantile(t, nx::tensor({0.1, 0.5, 0.95}, nx::f64), {.axes = -1, .keep_axes = true}));
    out.push_back(nx::quantile(t, 0.4, {.axes = 0, .method = nx::QuantileMethod::nearest}));
    return out;
  };
  std::vector<nx::Tensor> eager = all_ops(x);
  std::vector<nx::Tensor> jitted = nx::jit(all_ops)(x);
  ASSERT_EQ(eager.size(), jitted.size());
  for (size_t i = 0; i < eager.size(); ++i) {
    SCOPED_TRACE(i);
    EXPECT_EQ(jitted[i].shape(), eager[i].shape());
    EXPECT_EQ(jitted[i].dtype(), eager[i].dtype());
    EXPECT_EQ(values(jitted[i]), values(eager[i]));
  }
  // A traced q is used as given (no range check without values).
  auto traced_q = nx::jit([](const nx::Tensor& t, const nx::Tensor& q) { return nx::quantile(t, q, 1); });
  nx::Tensor q = nx::tensor({0.25, 0.75}, nx::f64);
  EXPECT_EQ(values(traced_q(x, q)), values(nx::quantile(x, q, 1)));
}

TEST(SmallOps, GradientsMatchFiniteDifferences) {
  // Distinct values, so that the sorted order is stable under the finite-difference steps.
  nx::Tensor x = nx_test::sample({3, 4}, -2, 2, 21);
  nx_test::check_grad("median all", [](const nx::Tensor& t) { return nx::median(t); }, x);
  nx_test::check_grad("median axis 1", [](const nx::Tensor& t) { return nx_test::weigh(nx::median(t, 1)); }, x);
  nx_test::check_grad("quantile linear", [](const nx::Tensor& t) {
    return nx_test::weigh(nx::quantile(t, nx::tensor({0.1, 0.3, 0.8}, nx::f64), 0));
  }, x);
  nx_test::check_grad("quantile midpoint keep_axes", [](const nx::Tensor& t) {
    return nx_test::weigh(nx::quantile(t, 0.4, {.axes = {0, 1}, .keep_axes = true, .method = nx::QuantileMethod::midpoint}));
  }, x);
  nx_test::check_grad("tril", [](const nx::Tensor& t) { return nx_test::weigh(nx::tril(t, 1)); }, x);
  nx_test::check_grad("triu", [](const nx::Tensor& t) { return nx_test::weigh(nx::triu(t)); }, x);
  nx_test::check_grad("square", [](const nx::Tensor& t) { return nx_test::weigh(nx::square(t)); }, x);
  nx_test::check_grad("split", [](const nx::Tensor& t) { return nx_test::weigh(nx::split(t, {1}, 1)[1]); }, x);
  // Known answers: the median of an even count shares the gradient between the two middle
  // values; d/dx sum(x^2) = 2x.
  nx::Tensor v = nx::tensor({4.0, 1.0, 3.0, 2.0}, nx::f64);
  EXPECT_EQ(values(nx::grad([](const nx::Tensor& t) { return nx::median(t); })(v)),
            (std::vector<double>{0.0, 0.0, 0.5, 0.5}));
  EXPECT_EQ(values(nx::grad([](const nx::Tensor& t) { return nx::sum(nx::square(t)); })(v)),
            (std::vector<double>{8.0, 2.0, 6.0, 4.0}));
}

// ---- random::categorical ----

TEST(SmallOps, CategoricalMatchesJax) {
  nx::Tensor logits = nx::tensor({{0.0f, 1.0f, 2.0f, -1.0f}, {3.0f, 0.0f, 0.0f, 0.5f}});
  // jax.random.categorical(PRNGKey(0), logits), with shape=(5, 2), with axis=0.
  nx::Tensor drawn = r::categorical(r::key(0), logits);
  EXPECT_EQ(drawn.dtype(), nx::i64);
  EXPECT_EQ(drawn.to_vector<int64_t>(), (std::vector<int64_t>{1, 0}));
  nx::Tensor many = r::categorical(r::key(7), logits, {.shape = nx::Shape{5, 2}});
  EXPECT_EQ(many.shape(), nx::Shape({5, 2}));
  EXPECT_EQ(many.to_vector<int64_t>(), (std::vector<int64_t>{1, 0, 2, 0, 3, 0, 2, 0, 0, 0}));
  EXPECT_EQ(r::categorical(r::key(3), logits, 0).to_vector<int64_t>(), (std::vector<int64_t>{1, 0, 0, 0}));
  nx::Tensor log_p = nx::log(nx::tensor({0.1f, 0.2f, 0.3f, 0.4f}));
  EXPECT_EQ(r::categorical(r::key(42), log_p, {.shape = nx::Shape{12}}).to_vector<int64_t>(),
            (std::vector<int64_t>{3, 3, 3, 3, 3, 3, 1, 1, 1, 1, 3, 3}));
}

TEST(SmallOps, CategoricalFrequenciesFollowSoftmax) {
  nx::Tensor logits = nx::tensor({0.5f, -1.0f, 2.0f, 0.0f, -kInfF});
  const int64_t n = 100000;
  std::vector<int64_t> drawn = r::categorical(r::key(2024), logits, {.shape = nx::Shape{n}}).to_vector<int64_t>();
  std::vector<double> count(5, 0.0);
  for (int64_t c : drawn) count[static_cast<size_t>(c)] += 1;
  std::vector<double> p = values(nx::softmax(logits));
  for (size_t i = 0; i < p.size(); ++i) EXPECT_NEAR(count[i] / n, p[i], 0.01) << "category " << i;
  EXPECT_EQ(count[4], 0.0);  // a -inf logit is never drawn
  // Batched along axis 0: each column its own distribution.
  nx::Tensor columns = nx::tensor({{0.0f, 5.0f}, {-kInfF, 0.0f}, {0.0f, 0.0f}});
  std::vector<int64_t> c = r::categorical(r::key(5), columns, {.axis = 0, .shape = nx::Shape{20000, 2}}).to_vector<int64_t>();
  double first_is_0 = 0, second_is_0 = 0;
  for (size_t i = 0; i < c.size(); i += 2) {
    EXPECT_NE(c[i], 1);
    first_is_0 += c[i] == 0;
    second_is_0 += c[i + 1] == 0;
  }
  EXPECT_NEAR(first_is_0 / 20000, 0.5, 0.02);
  EXPECT_NEAR(second_is_0 / 20000, std::exp(5.0) / (std::exp(5.0) + 2), 0.01);
}

TEST(SmallOps, CategoricalIsDeterministicAndChecksArguments) {
  nx::Tensor logits = nx::random::normal(r::key(1), {4, 6});
  auto draw = [](const nx::Tensor& key, const nx::Tensor& l) { return r::categorical(key, l, {.shape = nx::Shape{3, 4}}); };
  nx::Tensor a = draw(r::key(9), logits);
  EXPECT_EQ(a.to_vector<int64_t>(), draw(r::key(9), logits).to_vector<int64_t>());
  EXPECT_EQ(a.to_vector<int64_t>(), nx::jit(draw)(r::key(9), logits).to_vector<int64_t>());
  EXPECT_NE(a.to_vector<int64_t>(), draw(r::key(10), logits).to_vector<int64_t>());
  // Integer logits compute in f32.
  EXPECT_EQ(r::categorical(r::key(0), nx::tensor({0, 0, 100})).item<int64_t>(), 2);
  expect_op_error<nx::ShapeError>([&] { r::categorical(r::key(0), logits, {.shape = nx::Shape{3}}); }, "categorical",
                                  "does not broadcast to the requested shape (3)");
  expect_op_error<nx::ShapeError>([] { r::categorical(r::key(0), nx::scalar(1.0)); }, "categorical",
                                  "an axis of categories");
  expect_op_error<nx::AxisError>([&] { r::categorical(r::key(0), logits, 2); }, "categorical", "axis 2 is out of range");
  expect_op_error<nx::DTypeError>([&] { r::categorical(nx::zeros({2}), logits); }, "categorical", "expects a key");
}

// ---- random::truncated_normal ----

TEST(SmallOps, TruncatedNormalMatchesJax) {
  // jax.random.truncated_normal(PRNGKey(0), -1.0, 2.0, (6,)) and with per-element bounds.
  expect_values_near(r::truncated_normal(r::key(0), -1.0, 2.0, {6}),
                     {1.5094677, 1.747393, -0.17467561, 0.10624172, 0.31906945, -0.5413444}, 2e-6);
  nx::Tensor lo = nx::tensor({-2.0f, 0.5f, -kInfF}), hi = nx::tensor({-1.0f, kInfF, 0.0f});
  expect_values_near(r::truncated_normal(r::key(5), lo, hi, {2, 3}),
                     {-1.3649555, 1.9701399, -0.33740696, -1.803279, 1.9368284, -0.4155638}, 2e-6);
  nx::Tensor h = r::truncated_normal(r::key(1), -1.0, 1.0, {5}, {.dtype = nx::f16});
  EXPECT_EQ(h.dtype(), nx::f16);
  expect_values_near(h, {-0.4978, -0.9155, 0.3635, 0.44, 0.1306}, 2e-3);
}

// Mean and variance of the standard normal truncated to (a, b).
std::pair<double, double> truncated_moments(double a, double b) {
  auto pdf = [](double x) { return std::isinf(x) ? 0.0 : std::exp(-x * x / 2) / std::sqrt(2 * std::numbers::pi); };
  auto cdf = [](double x) { return 0.5 * (1 + std::erf(x / std::sqrt(2.0))); };
  auto times_pdf = [&](double x) { return std::isinf(x) ? 0.0 : x * pdf(x); };
  double z = cdf(b) - cdf(a);
  double mean = (pdf(a) - pdf(b)) / z;
  double var = 1 + (times_pdf(a) - times_pdf(b)) / z - mean * mean;
  return {mean, var};
}

TEST(SmallOps, TruncatedNormalStatistics) {
  const int64_t n = 100000;
  for (auto [a, b] : std::vector<std::pair<double, double>>{{-1, 2}, {0.5, kInf}, {-kInf, -2}, {-0.2, 0.1}}) {
    SCOPED_TRACE(std::to_string(a) + ", " + std::to_string(b));
    nx::Tensor s = r::truncated_normal(r::key(77), a, b, {n}, {.dtype = nx::f64});
    auto [mean, var] = truncated_moments(a, b);
    EXPECT_NEAR(nx::mean(s).item<double>(), mean, 0.01 * std::sqrt(var) + 1e-4);
    EXPECT_NEAR(nx::variance(s).item<double>(), var, 0.03 * var);
    EXPECT_TRUE(nx::all(s > a).item<bool>());
    EXPECT_TRUE(nx::all(s < b).item<bool>());
  }
}

TEST(SmallOps, TruncatedNormalStaysInsideTheOpenInterval) {
  // Bounds two floats apart leave one value inside: every sample is it, in each dtype
  // (this exercises the next-float step: bit patterns for f32/f64/bf16, f16's spacing).
  struct Case {
    nx::DType dtype;
    double ulp_at_one;
  };
  for (Case c : {Case{nx::f32, std::ldexp(1.0, -23)}, Case{nx::f64, std::ldexp(1.0, -52)},
                 Case{nx::bf16, std::ldexp(1.0, -7)}, Case{nx::f16, std::ldexp(1.0, -10)}}) {
    SCOPED_TRACE(std::string(nx::name(c.dtype)));
    nx::Tensor up = r::truncated_normal(r::key(3), 1.0, 1.0 + 2 * c.ulp_at_one, {50}, {.dtype = c.dtype});
    EXPECT_EQ(up.dtype(), c.dtype);
    EXPECT_EQ(values(up), std::vector<double>(50, 1.0 + c.ulp_at_one));
    // Negative bounds; the value above -1 is nearer (binade change).
    nx::Tensor down = r::truncated_normal(r::key(3), -1.0 - 4 * c.ulp_at_one, -1.0, {50}, {.dtype = c.dtype});
    for (double v : values(down)) {
      EXPECT_GT(v, -1.0 - 4 * c.ulp_at_one);
      EXPECT_LT(v, -1.0);
    }
    nx::Tensor wide = r::truncated_normal(r::key(4), -kInf, kInf, {1000}, {.dtype = c.dtype});
    EXPECT_TRUE(nx::all(nx::logical_not(nx::is_infinity(wide) || nx::is_nan(wide))).item<bool>());
  }
  // f16 below its smallest normal: (0, 2^-23) holds only 2^-24.
  nx::Tensor tiny = r::truncated_normal(r::key(8), 0.0, std::ldexp(1.0, -23), {10}, {.dtype = nx::f16});
  EXPECT_EQ(values(tiny), std::vector<double>(10, std::ldexp(1.0, -24)));
  // Far in a tail, every sample is still inside.
  nx::Tensor tail = r::truncated_normal(r::key(9), 6.0, 6.5, {1000});
  EXPECT_TRUE(nx::all(tail > 6.0f && tail < 6.5f).item<bool>());
}

TEST(SmallOps, TruncatedNormalIsDeterministicAndChecksArguments) {
  auto draw = [](const nx::Tensor& key) { return r::truncated_normal(key, -0.5, 1.5, {4, 3}); };
  nx::Tensor a = draw(r::key(12));
  EXPECT_EQ(values(a), values(draw(r::key(12))));
  EXPECT_EQ(values(a), values(nx::jit(draw)(r::key(12))));
  EXPECT_NE(values(a), values(draw(r::key(13))));
  EXPECT_EQ(r::truncated_normal(r::key(0), -1.0, 1.0, {0, 3}).shape(), nx::Shape({0, 3}));
  EXPECT_EQ(r::truncated_normal(r::key(0), -1.0, 1.0, {}).shape(), nx::Shape({}));
  expect_op_error<nx::DTypeError>([] { r::truncated_normal(r::key(0), -1.0, 1.0, {2}, {.dtype = nx::i32}); },
                                  "truncated_normal", "float dtype");
  expect_op_error<nx::ShapeError>([] { r::truncated_normal(r::key(0), nx::zeros({3}), 1.0, {2}); }, "truncated_normal",
                                  "cannot broadcast (3) with (2)");
  expect_op_error<nx::ShapeError>([] { r::truncated_normal(r::key(0), -1.0, nx::ones({2, 1}), {2}); },
                                  "truncated_normal", "upper of shape (2, 1) does not broadcast to the requested shape (2)");
}

}  // namespace
