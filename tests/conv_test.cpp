// nx::conv against JAX (lax.conv_general_dilated) golden data, plus shape/error edge cases.
#include <gtest/gtest.h>

#include <climits>
#include <cmath>
#include <string>

#include "nx/nx.hpp"
#include "test_support.hpp"

namespace {

using nx_test::expect_error;
using nx_test::expect_op_error;
using nx_test::kInf;
using nx_test::kNaN;

struct ConvCase {
  const char* name;
  nx::DType dtype;
  std::vector<int64_t> x_shape, k_shape, strides;
  nx::PaddingMode mode;
  std::vector<std::pair<int64_t, int64_t>> pairs;
  std::vector<int64_t> input_dilation, kernel_dilation;
  int64_t feature_groups, batch_groups;
  std::vector<double> x_data, k_data;  // empty: the formulas below
  std::vector<int64_t> out_shape;
  std::vector<double> expected;
};

const std::vector<ConvCase> kConvCases = {
#include "golden/conv_window_sort/conv_cases.inc"
};

// The generator's input formulas: small integers, exact in every dtype.
std::vector<double> formula(int64_t n, int a, int b, int m, int shift) {
  std::vector<double> v(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) v[static_cast<size_t>(i)] = static_cast<double>((a * i + b) % m - shift);
  return v;
}

nx::Tensor make(const std::vector<double>& data, const std::vector<int64_t>& shape, nx::DType dt) {
  return nx::as_type(nx::from_vector(data, nx::Shape(shape)), dt);
}

nx::ConvOpts opts_of(const ConvCase& c) {
  nx::ConvOpts o;
  o.strides = c.strides;
  o.padding = c.mode == nx::PaddingMode::explicit_ ? nx::Padding(c.pairs) : nx::Padding(c.mode);
  o.input_dilation = c.input_dilation;
  o.kernel_dilation = c.kernel_dilation;
  o.feature_group_size = c.feature_groups;
  o.batch_group_size = c.batch_groups;
  return o;
}

int64_t numel(const std::vector<int64_t>& s) {
  int64_t n = 1;
  for (int64_t d : s) n *= d;
  return n;
}

class ConvGolden : public ::testing::TestWithParam<ConvCase> {};

TEST_P(ConvGolden, MatchesJax) {
  const ConvCase& c = GetParam();
  auto xd = c.x_data.empty() ? formula(numel(c.x_shape), 7, 3, 11, 5) : c.x_data;
  auto kd = c.k_data.empty() ? formula(numel(c.k_shape), 5, 1, 7, 3) : c.k_data;
  nx::Tensor x = make(xd, c.x_shape, c.dtype), k = make(kd, c.k_shape, c.dtype);
  nx::Tensor y = nx::conv(x, k, opts_of(c));
  EXPECT_EQ(y.dtype(), c.dtype);
  ASSERT_EQ(y.shape(), nx::Shape(c.out_shape));
  auto got = y.to_vector<double>();
  ASSERT_EQ(got.size(), c.expected.size());
  // Integer-valued cases are exact; the random f32 case allows rounding differences.
  double tol = c.x_data.empty() ? 0.0 : 1e-5;
  for (size_t i = 0; i < got.size(); ++i)
    EXPECT_NEAR(got[i], c.expected[i], tol * (1 + std::abs(c.expected[i]))) << "at flat index " << i;

  // Traced (nx::jit) gives the same bits.
  auto jf = nx::jit([&](const nx::Tensor& a, const nx::Tensor& b) { return nx::conv(a, b, opts_of(c)); });
  EXPECT_EQ(jf(x, k).to_vector<double>(), got);
}

INSTANTIATE_TEST_SUITE_P(Conv, ConvGolden, ::testing::ValuesIn(kConvCases),
                         [](const auto& info) { return std::string(info.param.name); });

// ---- hand-checked cases ----

TEST(Conv, SimpleValuesAndPromotion) {
  auto x = nx::tensor({{{1.0, 2.0, 3.0, 4.0}}});        // f32 (1, 1, 4)
  auto k = nx::tensor({{{1.0, -1.0}}}, nx::f64);          // f64 (1, 1, 2)
  auto y = nx::conv(x, k);
  EXPECT_EQ(y.dtype(), nx::f64);
  EXPECT_EQ(y.to_vector<double>(), (std::vector<double>{-1, -1, -1}));
  auto yi = nx::conv(nx::tensor({{{1, 2, 3}}}, nx::i32), nx::tensor({{{2.0}}}));
  EXPECT_EQ(yi.dtype(), nx::f32);
  EXPECT_EQ(yi.to_vector<float>(), (std::vector<float>{2, 4, 6}));
}

TEST(Conv, SamePaddingKeepsCeilOfInputOverStride) {
  for (int64_t n : {1, 4, 5, 6, 7})
    for (int64_t s : {1, 2, 3}) {
      auto y = nx::conv(nx::ones({1, 1, n}), nx::ones({1, 1, 3}), {.strides = {s}, .padding = nx::PaddingMode::same});
      EXPECT_EQ(y.shape()[2], (n + s - 1) / s) << "n=" << n << " s=" << s;
    }
}

TEST(Conv, IntegerAccumulationWraps) {
  auto x = nx::tensor({{{1 << 30, 1 << 30}}}, nx::i32);
  auto k = nx::tensor({{{1, 1}}}, nx::i32);
  EXPECT_EQ(nx::conv(x, k).to_vector<int32_t>(), (std::vector<int32_t>{INT_MIN}));
}

TEST(Conv, ZeroSizeDimensions) {
  EXPECT_EQ(nx::conv(nx::ones({0, 2, 5}), nx::ones({3, 2, 2})).shape(), (nx::Shape{0, 3, 4}));
  EXPECT_EQ(nx::conv(nx::ones({2, 2, 5}), nx::ones({0, 2, 2})).shape(), (nx::Shape{2, 0, 4}));
  EXPECT_EQ(nx::conv(nx::ones({1, 1, 2}), nx::ones({1, 1, 3})).shape(), (nx::Shape{1, 1, 0}));
  EXPECT_EQ(nx::conv(nx::ones({1, 1, 0}), nx::ones({1, 1, 1})).shape(), (nx::Shape{1, 1, 0}));
  // No input channels: every output is an empty sum.
  auto y = nx::conv(nx::ones({1, 0, 3}), nx::ones({2, 0, 2}));
  EXPECT_EQ(y.shape(), (nx::Shape{1, 2, 2}));
  EXPECT_EQ(y.to_vector<float>(), (std::vector<float>{0, 0, 0, 0}));
  // An empty input padded to a window of zeros.
  auto z = nx::conv(nx::ones({1, 1, 0}), nx::ones({1, 1, 2}), {.padding = std::vector<std::pair<int64_t, int64_t>>{{1, 2}}});
  EXPECT_EQ(z.to_vector<float>(), (std::vector<float>{0, 0}));
  // 'same' on an empty spatial dim stays empty.
  EXPECT_EQ(nx::conv(nx::ones({1, 1, 0}), nx::ones({1, 1, 3}), {.padding = nx::PaddingMode::same}).shape(),
            (nx::Shape{1, 1, 0}));
}

TEST(Conv, BadInputsThrow) {
  auto x = nx::ones({1, 4, 6});
  auto k = nx::ones({2, 4, 3});
  expect_op_error<nx::ShapeError>([&] { nx::conv(nx::ones({4, 6}), k); }, "conv", "f32(4, 6)");
  expect_op_error<nx::ShapeError>([&] { nx::conv(x, nx::ones({2, 4, 3, 3})); }, "conv", "f32(2, 4, 3, 3)");
  expect_op_error<nx::ShapeError>([&] { nx::conv(x, nx::ones({2, 3, 3})); }, "conv", "f32(1, 4, 6) and f32(2, 3, 3)");
  expect_op_error<nx::ShapeError>([&] { nx::conv(x, nx::ones({3, 2, 3}), {.feature_group_size = 2}); }, "conv", "(3, 2, 3)");
  expect_op_error<nx::ShapeError>([&] { nx::conv(x, nx::ones({2, 1, 3}), {.feature_group_size = 3}); }, "conv", "(1, 4, 6)");
  expect_op_error<nx::ShapeError>([&] { nx::conv(x, k, {.batch_group_size = 2}); }, "conv", "(1, 4, 6)");
  expect_op_error<nx::ShapeError>([&] { nx::conv(x, nx::ones({2, 4, 0})); }, "conv", "(2, 4, 0)");
  expect_op_error<nx::ValueError>([&] { nx::conv(x, k, {.feature_group_size = 0}); }, "conv", "feature_group_size");
  expect_op_error<nx::ValueError>([&] { nx::conv(nx::ones({2, 4, 6}), nx::ones({2, 2, 3}),
                                              {.feature_group_size = 2, .batch_group_size = 2}); }, "conv", "both");
  expect_op_error<nx::ValueError>([&] { nx::conv(x, k, {.strides = {0}}); }, "conv", "strides");
  expect_op_error<nx::ValueError>([&] { nx::conv(x, k, {.strides = {1, 1}}); }, "conv", "strides needs 1");
  expect_op_error<nx::ValueError>([&] { nx::conv(x, k, {.input_dilation = {0}}); }, "conv", "input_dilation");
  expect_op_error<nx::ValueError>([&] { nx::conv(x, k, {.kernel_dilation = {-1}}); }, "conv", "kernel_dilation");
  using P = std::vector<std::pair<int64_t, int64_t>>;
  expect_op_error<nx::ValueError>([&] { nx::conv(x, k, {.padding = P{{0, 0}, {0, 0}}}); }, "conv", "padding");
  expect_op_error<nx::ValueError>([&] { nx::conv(x, k, {.padding = P{{-7, 0}}}); }, "conv", "padding");
  expect_op_error<nx::ValueError>([&] { nx::conv(x, k, {.padding = P{{-4, -3}}}); }, "conv", "negative size");
  expect_op_error<nx::DTypeError>([&] { nx::conv(nx::as_type(x, nx::boolean), nx::as_type(k, nx::boolean)); }, "conv", "bool");
}

}  // namespace
