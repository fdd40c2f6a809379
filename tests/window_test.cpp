// window_sum/max/min/product against JAX (lax.reduce_window) golden data, plus edge cases.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>

#include "nx/nx.hpp"
#include "test_support.hpp"

namespace {

using nx_test::expect_error;
using nx_test::expect_op_error;
using nx_test::kInf;
using nx_test::kNaN;


struct WindowCase {
  const char* name;
  nx::Op op;
  nx::DType dtype;
  std::vector<int64_t> shape, window, strides;
  nx::PaddingMode mode;
  std::vector<std::pair<int64_t, int64_t>> pairs;
  std::vector<int64_t> dilations, nan_at;
  std::vector<int64_t> out_shape;
  std::vector<double> expected;
};

const std::vector<WindowCase> kWindowCases = {
#include "golden/conv_window_sort/window_cases.inc"
};

// The generator's input: (3i + 1) mod 5 - 2 (+2 for unsigned), NaN at `nan_at`.
nx::Tensor input_of(const WindowCase& c) {
  int64_t n = 1;
  for (int64_t d : c.shape) n *= d;
  int shift = nx::is_unsigned(c.dtype) ? 0 : 2;
  std::vector<double> v(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) v[static_cast<size_t>(i)] = static_cast<double>((3 * i + 1) % 5 - shift);
  for (int64_t i : c.nan_at) v[static_cast<size_t>(i)] = kNaN;
  return nx::as_type(nx::from_vector(v, nx::Shape(c.shape)), c.dtype);
}

nx::Tensor run(const WindowCase& c, const nx::Tensor& x) {
  nx::WindowOpts o;
  o.strides = c.strides;
  o.padding = c.mode == nx::PaddingMode::explicit_ ? nx::Padding(c.pairs) : nx::Padding(c.mode);
  o.window_dilations = c.dilations;
  switch (c.op) {
    case nx::Op::WindowSum: return nx::window_sum(x, c.window, o);
    case nx::Op::WindowMax: return nx::window_max(x, c.window, o);
    case nx::Op::WindowMin: return nx::window_min(x, c.window, o);
    default: return nx::window_product(x, c.window, o);
  }
}

// Equal values, NaN matching NaN.
void expect_same(const std::vector<double>& got, const std::vector<double>& want) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    if (std::isnan(want[i])) EXPECT_TRUE(std::isnan(got[i])) << "at " << i << ": " << got[i];
    else EXPECT_EQ(got[i], want[i]) << "at " << i;
  }
}

class WindowGolden : public ::testing::TestWithParam<WindowCase> {};

TEST_P(WindowGolden, MatchesJax) {
  const WindowCase& c = GetParam();
  nx::Tensor x = input_of(c);
  nx::Tensor y = run(c, x);
  EXPECT_EQ(y.dtype(), c.dtype);
  ASSERT_EQ(y.shape(), nx::Shape(c.out_shape));
  expect_same(y.to_vector<double>(), c.expected);
  auto jf = nx::jit([&](const nx::Tensor& a) { return run(c, a); });
  expect_same(jf(x).to_vector<double>(), c.expected);
}

INSTANTIATE_TEST_SUITE_P(Window, WindowGolden, ::testing::ValuesIn(kWindowCases),
                         [](const auto& info) { return std::string(info.param.name); });

// ---- hand-checked cases ----

TEST(Window, MaxPool2x2) {
  auto x = nx::tensor({{1.0, 2.0, 3.0, 4.0}, {5.0, 6.0, 7.0, 8.0}});
  auto y = nx::window_max(x, {2, 2}, {.strides = {2, 2}});
  EXPECT_EQ(y.shape(), (nx::Shape{1, 2}));
  EXPECT_EQ(y.to_vector<float>(), (std::vector<float>{6, 8}));
}

TEST(Window, PaddingHoldsTheIdentity) {
  using P = std::vector<std::pair<int64_t, int64_t>>;
  auto x = nx::tensor({-3, -1}, nx::i32);
  EXPECT_EQ(nx::window_max(x, {2}, {.padding = P{{1, 1}}}).to_vector<int32_t>(), (std::vector<int32_t>{-3, -1, -1}));
  EXPECT_EQ(nx::window_product(x, {2}, {.padding = P{{1, 1}}}).to_vector<int32_t>(),
            (std::vector<int32_t>{-3, 3, -1}));
  // A window entirely in the padding yields the identity itself.
  auto e = nx::zeros({0});
  EXPECT_EQ(nx::window_sum(e, {1}, {.padding = P{{1, 1}}}).to_vector<float>(), (std::vector<float>{0, 0}));
  EXPECT_EQ(nx::window_max(e, {1}, {.padding = P{{1, 0}}}).to_vector<double>(), (std::vector<double>{-kInf}));
  EXPECT_EQ(nx::window_min(nx::zeros({0}, nx::u8), {1}, {.padding = P{{0, 1}}}).to_vector<int>(),
            (std::vector<int>{255}));
}

TEST(Window, NaNPropagatesThroughMaxAndMin) {
  auto x = nx::tensor({1.0, kNaN, 3.0, 2.0});
  auto mx = nx::window_max(x, {2}).to_vector<float>();
  EXPECT_TRUE(std::isnan(mx[0]) && std::isnan(mx[1]));
  EXPECT_EQ(mx[2], 3.0f);
  auto mn = nx::window_min(x, {2}).to_vector<float>();
  EXPECT_TRUE(std::isnan(mn[0]) && std::isnan(mn[1]));
  EXPECT_EQ(mn[2], 2.0f);
}

TEST(Window, SumOfFloatsAccumulatesInDouble) {
  // 2^24 + 1 + 1 - 2^24 loses both ones when summed in f32.
  auto x = nx::tensor({16777216.0, 1.0, 1.0, -16777216.0});
  EXPECT_EQ(nx::window_sum(x, {4}).to_vector<float>(), (std::vector<float>{2}));
}

TEST(Window, ZeroSizeAndScalar) {
  EXPECT_EQ(nx::window_sum(nx::ones({0, 3}), {1, 2}).shape(), (nx::Shape{0, 2}));
  EXPECT_EQ(nx::window_max(nx::ones({2, 0}), {1, 1}, {.padding = nx::PaddingMode::same}).shape(), (nx::Shape{2, 0}));
  EXPECT_EQ(nx::window_min(nx::ones({2, 3}), {3, 1}).shape(), (nx::Shape{0, 3}));
  auto s = nx::window_sum(nx::scalar(4.0), {});
  EXPECT_EQ(s.shape(), nx::Shape{});
  EXPECT_EQ(s.item<float>(), 4.0f);
}

TEST(Window, BadInputsThrow) {
  using P = std::vector<std::pair<int64_t, int64_t>>;
  auto x = nx::ones({3, 4});
  expect_op_error<nx::ShapeError>([&] { nx::window_sum(x, {2}); }, "window_sum", "f32(3, 4)");
  expect_op_error<nx::ValueError>([&] { nx::window_max(x, {2, 0}); }, "window_max", "positive");
  expect_op_error<nx::ValueError>([&] { nx::window_min(x, {2, 2}, {.strides = {1, 0}}); }, "window_min", "strides");
  expect_op_error<nx::ValueError>([&] { nx::window_min(x, {2, 2}, {.strides = {1}}); }, "window_min", "strides needs 2");
  expect_op_error<nx::ValueError>([&] { nx::window_product(x, {2, 2}, {.window_dilations = {0, 1}}); },
                               "window_product", "window_dilations");
  expect_op_error<nx::ValueError>([&] { nx::window_sum(x, {2, 2}, {.padding = P{{1, 1}}}); }, "window_sum", "padding");
  expect_op_error<nx::ValueError>([&] { nx::window_sum(x, {1, 1}, {.padding = P{{0, 0}, {-3, -2}}}); }, "window_sum",
                               "negative size");
  expect_op_error<nx::DTypeError>([&] { nx::window_max(nx::as_type(x, nx::boolean), {1, 1}); }, "window_max", "bool");
  // window_scatter_max/min: the source must have window_max's shape and x's dtype, init must be a scalar.
  nx::Tensor src = nx::ones({2, 3}), zero = nx::scalar(0.0f);
  expect_op_error<nx::ShapeError>([&] { nx::window_scatter_max(x, nx::ones({3, 3}), zero, {2, 2}); },
                                  "window_scatter_max", "(2, 3)");
  expect_op_error<nx::ShapeError>([&] { nx::window_scatter_min(x, src, nx::zeros({1}), {2, 2}); },
                                  "window_scatter_min", "scalar");
  expect_op_error<nx::DTypeError>([&] { nx::window_scatter_max(x, nx::ones({2, 3}, nx::f64), zero, {2, 2}); },
                                  "window_scatter_max", "dtype");
  expect_op_error<nx::ShapeError>([&] { nx::window_scatter_max(x, src, zero, {2}); }, "window_scatter_max", "window");
}

}  // namespace
