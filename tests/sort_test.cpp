// sort / argsort / top_k against JAX (jnp.argsort(stable=True), lax.top_k) golden data,
// plus stability, signed zeros, empty dims and errors.
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


struct SortCase {
  const char* name;
  nx::DType dtype;
  std::vector<int64_t> shape;
  int axis;
  nx::Direction direction;
  std::vector<double> data;
  std::vector<int64_t> indices;
  std::vector<double> values;
};

struct TopKCase {
  const char* name;
  nx::DType dtype;
  std::vector<int64_t> shape;
  int64_t k;
  std::vector<double> data;
  std::vector<int64_t> indices;
  std::vector<double> values;
};

const std::vector<SortCase> kSortCases = {
#include "golden/conv_window_sort/sort_cases.inc"
};
const std::vector<TopKCase> kTopKCases = {
#include "golden/conv_window_sort/top_k_cases.inc"
};

nx::Tensor make(const std::vector<double>& data, const std::vector<int64_t>& shape, nx::DType dt) {
  return nx::as_type(nx::from_vector(data, nx::Shape(shape)), dt);
}

// Equal values including the sign of zeros; NaN matches NaN.
void expect_same(const std::vector<double>& got, const std::vector<double>& want) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    if (std::isnan(want[i])) {
      EXPECT_TRUE(std::isnan(got[i])) << "at " << i << ": " << got[i];
    } else {
      EXPECT_EQ(got[i], want[i]) << "at " << i;
      EXPECT_EQ(std::signbit(got[i]), std::signbit(want[i])) << "sign of zero at " << i;
    }
  }
}

class SortGolden : public ::testing::TestWithParam<SortCase> {};

TEST_P(SortGolden, MatchesJaxStableArgsort) {
  const SortCase& c = GetParam();
  nx::Tensor x = make(c.data, c.shape, c.dtype);
  nx::SortOpts o{.axis = c.axis, .direction = c.direction};
  nx::Tensor idx = nx::argsort(x, o);
  nx::Tensor val = nx::sort(x, o);
  EXPECT_EQ(idx.dtype(), nx::i64);
  EXPECT_EQ(val.dtype(), c.dtype);
  EXPECT_EQ(idx.shape(), x.shape());
  EXPECT_EQ(val.shape(), x.shape());
  EXPECT_EQ(idx.to_vector<int64_t>(), c.indices);
  expect_same(val.to_vector<double>(), c.values);
  auto jf = nx::jit([&](const nx::Tensor& a) { return std::make_pair(nx::sort(a, o), nx::argsort(a, o)); });
  auto [jv, ji] = jf(x);
  EXPECT_EQ(ji.to_vector<int64_t>(), c.indices);
  expect_same(jv.to_vector<double>(), c.values);
}

INSTANTIATE_TEST_SUITE_P(Sort, SortGolden, ::testing::ValuesIn(kSortCases),
                         [](const auto& info) { return std::string(info.param.name); });

class TopKGolden : public ::testing::TestWithParam<TopKCase> {};

TEST_P(TopKGolden, MatchesJaxTopK) {
  const TopKCase& c = GetParam();
  nx::Tensor x = make(c.data, c.shape, c.dtype);
  auto [val, idx] = nx::top_k(x, c.k);
  std::vector<int64_t> out = c.shape;
  out.back() = c.k;
  EXPECT_EQ(val.shape(), nx::Shape(out));
  EXPECT_EQ(val.dtype(), c.dtype);
  EXPECT_EQ(idx.dtype(), nx::i64);
  EXPECT_EQ(idx.to_vector<int64_t>(), c.indices);
  expect_same(val.to_vector<double>(), c.values);
  auto jf = nx::jit([&](const nx::Tensor& a) { return nx::top_k(a, c.k); });
  auto [jv, ji] = jf(x);
  EXPECT_EQ(ji.to_vector<int64_t>(), c.indices);
  expect_same(jv.to_vector<double>(), c.values);
}

INSTANTIATE_TEST_SUITE_P(TopK, TopKGolden, ::testing::ValuesIn(kTopKCases),
                         [](const auto& info) { return std::string(info.param.name); });

// ---- hand-checked cases ----

TEST(Sort, StableInBothDirections) {
  auto x = nx::tensor({2, 1, 2, 1, 2}, nx::i32);
  EXPECT_EQ(nx::argsort(x).to_vector<int64_t>(), (std::vector<int64_t>{1, 3, 0, 2, 4}));
  EXPECT_EQ(nx::argsort(x, {.direction = nx::Direction::desc}).to_vector<int64_t>(),
            (std::vector<int64_t>{0, 2, 4, 1, 3}));
}

TEST(Sort, NaNLastAscendingFirstDescending) {
  auto x = nx::tensor({kNaN, 1.0, -kInf, kNaN, kInf});
  EXPECT_EQ(nx::argsort(x).to_vector<int64_t>(), (std::vector<int64_t>{2, 1, 4, 0, 3}));
  EXPECT_EQ(nx::argsort(x, {.direction = nx::Direction::desc}).to_vector<int64_t>(),
            (std::vector<int64_t>{0, 3, 4, 1, 2}));
}

TEST(Sort, SignedZerosAreEqualAndKeepTheirBits) {
  auto x = nx::tensor({0.0, -0.0, 0.0, -0.0});
  EXPECT_EQ(nx::argsort(x).to_vector<int64_t>(), (std::vector<int64_t>{0, 1, 2, 3}));
  auto v = nx::sort(x, {.direction = nx::Direction::desc}).to_vector<float>();
  EXPECT_FALSE(std::signbit(v[0]));
  EXPECT_TRUE(std::signbit(v[1]));
}

TEST(Sort, EmptyDimensions) {
  for (auto shape : {nx::Shape{2, 0}, nx::Shape{0, 3}, nx::Shape{0}}) {
    for (int axis : {0, -1}) {
      EXPECT_EQ(nx::sort(nx::ones(shape), {.axis = axis}).shape(), shape);
      EXPECT_EQ(nx::argsort(nx::ones(shape), {.axis = axis}).shape(), shape);
    }
  }
  auto [v, i] = nx::top_k(nx::ones({2, 0}), 0);
  EXPECT_EQ(v.shape(), (nx::Shape{2, 0}));
  EXPECT_EQ(i.shape(), (nx::Shape{2, 0}));
  auto [v2, i2] = nx::top_k(nx::ones({0, 5}), 2);
  EXPECT_EQ(v2.shape(), (nx::Shape{0, 2}));
}

TEST(TopK, KZeroAndAll) {
  auto x = nx::tensor({{3.0, 1.0, 2.0}});
  auto [v0, i0] = nx::top_k(x, 0);
  EXPECT_EQ(v0.shape(), (nx::Shape{1, 0}));
  auto [v3, i3] = nx::top_k(x, 3);
  EXPECT_EQ(v3.to_vector<float>(), (std::vector<float>{3, 2, 1}));
  EXPECT_EQ(i3.to_vector<int64_t>(), (std::vector<int64_t>{0, 2, 1}));
}

TEST(Sort, BadInputsThrow) {
  auto x = nx::ones({2, 3});
  expect_op_error<nx::AxisError>([&] { nx::sort(x, {.axis = 2}); }, "sort", "axis 2");
  expect_op_error<nx::AxisError>([&] { nx::argsort(x, {.axis = -3}); }, "argsort", "axis -3");
  expect_op_error<nx::AxisError>([&] { nx::sort(nx::scalar(1.0)); }, "sort", "rank 0");
  expect_op_error<nx::ValueError>([&] { nx::top_k(x, 4); }, "top_k", "f32(2, 3)");
  expect_op_error<nx::ValueError>([&] { nx::top_k(x, -1); }, "top_k", "got -1");
  expect_op_error<nx::ShapeError>([&] { nx::top_k(nx::scalar(1.0), 0); }, "top_k", "rank");
}

}  // namespace
