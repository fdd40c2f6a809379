// What a user coming from numpy, PyTorch or JAX writes in their first hour, and must get
// right: comparisons with numbers, axes given alone, exact integer reads and fills,
// in-place forms that keep the dtype, negative starts, index modes, padding lists.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <type_traits>

#include "nx/nx.hpp"

namespace {

std::vector<bool> bools(const nx::Tensor& t) {
  EXPECT_EQ(t.dtype(), nx::boolean);
  return t.to_vector<bool>();
}

// Item 1: every comparison with a C++ number on either side gives a bool tensor (C++20's
// rewritten == candidates must not be chosen). tests/compile/comparisons.cpp checks the same
// expressions compile under clang.
TEST(FirstHour, ComparisonsWithNumbersOnEitherSide) {
  nx::Tensor x = nx::tensor({1, 2, 3});
  static_assert(std::is_same_v<decltype(x == 2), nx::Tensor>);
  static_assert(std::is_same_v<decltype(2 == x), nx::Tensor>);
  static_assert(std::is_same_v<decltype(x != 2.0), nx::Tensor>);
  EXPECT_EQ(bools(x == 2), (std::vector<bool>{false, true, false}));
  EXPECT_EQ(bools(2 == x), (std::vector<bool>{false, true, false}));
  EXPECT_EQ(bools(x == 2.0), (std::vector<bool>{false, true, false}));
  EXPECT_EQ(bools(x != 2), (std::vector<bool>{true, false, true}));
  EXPECT_EQ(bools(2.0f != x), (std::vector<bool>{true, false, true}));
  EXPECT_EQ(bools(x < 2), (std::vector<bool>{true, false, false}));
  EXPECT_EQ(bools(2 < x), (std::vector<bool>{false, false, true}));
  EXPECT_EQ(bools(x <= 2), (std::vector<bool>{true, true, false}));
  EXPECT_EQ(bools(2u >= x), (std::vector<bool>{true, true, false}));
  EXPECT_EQ(bools(x > 2L), (std::vector<bool>{false, false, true}));
  EXPECT_EQ(bools(x == x), (std::vector<bool>{true, true, true}));
  nx::Tensor f = nx::tensor({0.5f, 2.0f});
  EXPECT_EQ(bools(f == 2), (std::vector<bool>{false, true}));
  EXPECT_EQ((f == 2).dtype(), nx::boolean);
  // Inside jit too.
  auto g = nx::jit([](const nx::Tensor& t) { return t == 3; });
  EXPECT_EQ(bools(g(x)), (std::vector<bool>{false, false, true}));
}

// Item 2: a brace list or a single int means axes, for every reduction.
TEST(FirstHour, ReductionAxesAloneMeanAxes) {
  nx::Tensor x = nx::ones({2, 3, 4});
  EXPECT_EQ(nx::sum(x, {0, 1}).shape(), nx::Shape({4}));
  EXPECT_EQ(nx::sum(x, {0, 1}).to_vector<float>(), std::vector<float>(4, 6.0f));
  EXPECT_EQ(nx::sum(x, 1).shape(), nx::Shape({2, 4}));
  EXPECT_EQ(nx::sum(x, -1).shape(), nx::Shape({2, 3}));
  EXPECT_EQ(nx::sum(x, {2}).shape(), nx::Shape({2, 3}));
  EXPECT_EQ(nx::sum(x, {}).shape(), nx::Shape({}));  // {}: the options' default, every axis
  EXPECT_EQ(nx::sum(x).shape(), nx::Shape({}));
  EXPECT_EQ(nx::sum(x, {.axes = {0, 1}, .keep_axes = true}).shape(), nx::Shape({1, 1, 4}));
  for (auto r : {+[](const nx::Tensor& t) { return nx::product(t, {0, 1}); },
                 +[](const nx::Tensor& t) { return nx::reduce_max(t, {0, 1}); },
                 +[](const nx::Tensor& t) { return nx::reduce_min(t, {0, 1}); },
                 +[](const nx::Tensor& t) { return nx::mean(t, {0, 1}); },
                 +[](const nx::Tensor& t) { return nx::logsumexp(t, {0, 1}); },
                 +[](const nx::Tensor& t) { return nx::variance(t, {0, 1}); },
                 +[](const nx::Tensor& t) { return nx::standard_deviation(t, {0, 1}); },
                 +[](const nx::Tensor& t) { return nx::all(t > 0, {0, 1}); },
                 +[](const nx::Tensor& t) { return nx::any(t > 0, {0, 1}); }})
    EXPECT_EQ(r(x).shape(), nx::Shape({4}));
  EXPECT_EQ(nx::mean(x, 2).shape(), nx::Shape({2, 3}));
  EXPECT_EQ(nx::argmax(x, 1).shape(), nx::Shape({2, 4}));
  EXPECT_EQ(nx::argmin(x, {.axis = 1, .keep_axes = true}).shape(), nx::Shape({2, 1, 4}));
  EXPECT_EQ(nx::cumulative_sum(x, 2).to_vector<float>()[3], 4.0f);
  EXPECT_NEAR(nx::softmax(x, 1).to_vector<float>()[0], 1.0f / 3.0f, 1e-7);
  EXPECT_EQ(nx::log_softmax(x, 0).shape(), x.shape());
}

// Item 3: reads into a C++ integer type refuse values it cannot hold, naming the value and
// the user's line.
TEST(FirstHour, ItemAndToVectorRefuseNarrowing) {
  EXPECT_EQ(nx::scalar(255, nx::i64).item<uint8_t>(), 255);
  try {
    (void)nx::scalar(300, nx::i64).item<uint8_t>();
    FAIL() << "300 read as uint8_t";
  } catch (const nx::ValueError& e) {
    EXPECT_NE(std::string(e.what()).find("300"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("first_hour_test.cpp"), std::string::npos) << e.what();
  }
  EXPECT_THROW((void)nx::tensor({1, -1}).to_vector<uint32_t>(), nx::ValueError);
  EXPECT_THROW((void)nx::scalar(int64_t{1} << 40, nx::i64).item<int32_t>(), nx::ValueError);
  EXPECT_EQ(nx::scalar(-5, nx::i32).item<int8_t>(), -5);
  EXPECT_EQ(nx::tensor({0, 7}).to_vector<bool>(), (std::vector<bool>{false, true}));
  try {
    (void)nx::tensor({1.5f}).item<int>();
    FAIL() << "a float read as int";
  } catch (const nx::DTypeError& e) {
    EXPECT_NE(std::string(e.what()).find("first_hour_test.cpp"), std::string::npos) << e.what();
  }
}

// Item 4: an in-place form keeps the left operand's dtype or raises.
TEST(FirstHour, InPlaceFormsKeepTheDtype) {
  nx::Tensor i = nx::tensor({1, 2}, nx::i32);
  EXPECT_THROW(i += 0.5, nx::DTypeError);
  EXPECT_THROW(i *= nx::tensor({1.0f, 2.0f}), nx::DTypeError);
  EXPECT_EQ(i.dtype(), nx::i32);
  i += 2;  // a weak int: stays i32
  EXPECT_EQ(i.to_vector<int>(), (std::vector<int>{3, 4}));
  nx::Tensor f = nx::tensor({1.0f, 2.0f});
  f /= 2;
  EXPECT_EQ(f.dtype(), nx::f32);
  nx::Tensor acc = 0.0;  // a weak scalar accumulator takes the type of what it sums
  acc += f;
  EXPECT_EQ(acc.dtype(), nx::f32);
}

// Item 5: integer scalars and fills keep every i64 value.
TEST(FirstHour, IntegerFillsAreExact) {
  int64_t big = 9007199254740993;  // 2^53 + 1: not a double
  EXPECT_EQ(nx::scalar(big, nx::i64).item<int64_t>(), big);
  EXPECT_EQ(nx::full({3}, big, nx::i64).to_vector<int64_t>(), std::vector<int64_t>(3, big));
  EXPECT_EQ(nx::full({2}, std::numeric_limits<int64_t>::min(), nx::i64).to_vector<int64_t>()[1],
            std::numeric_limits<int64_t>::min());
  EXPECT_EQ(nx::full_like(nx::zeros({2}, nx::i64), big).to_vector<int64_t>()[0], big);
  EXPECT_EQ(nx::scalar(uint64_t{4294967295u}, nx::u32).item<uint32_t>(), 4294967295u);
  EXPECT_THROW(nx::scalar(300, nx::u8), nx::ValueError);
  EXPECT_THROW(nx::scalar(-1, nx::u32), nx::ValueError);
  EXPECT_THROW(nx::scalar(std::numeric_limits<uint64_t>::max(), nx::i64), nx::ValueError);
  EXPECT_EQ(nx::full({2}, 3).dtype(), nx::f32);  // the default dtype is unchanged
}

// Item 6: negative static starts count from the end.
TEST(FirstHour, NegativeStartsCountFromTheEnd) {
  nx::Tensor x = nx::reshape(nx::iota({12}, nx::i32), {3, 4});
  EXPECT_EQ(nx::slice(x, {-1, 0}, {1, 4}).to_vector<int>(), (std::vector<int>{8, 9, 10, 11}));
  EXPECT_EQ(nx::slice(x, {0, -2}, {3, 2}).to_vector<int>(), (std::vector<int>{2, 3, 6, 7, 10, 11}));
  EXPECT_EQ(nx::slice_along_axis(x, 1, -3, 2).to_vector<int>(), (std::vector<int>{1, 2, 5, 6, 9, 10}));
  EXPECT_EQ(nx::slice(x, {-9, 0}, {1, 1}).to_vector<int>(), (std::vector<int>{0}));  // clamped
  nx::Tensor p = nx::put_slice(x, {-1, -1}, nx::tensor({{100}}, nx::i32));
  EXPECT_EQ(p.to_vector<int>()[11], 100);
  auto jitted = nx::jit([](const nx::Tensor& t) { return nx::slice(t, {-1, 0}, {1, 4}); });
  EXPECT_EQ(jitted(x).to_vector<int>(), (std::vector<int>{8, 9, 10, 11}));
}

// Item 6: tensor indices have a mode.
TEST(FirstHour, IndexModes) {
  nx::Tensor x = nx::tensor({10.0f, 20.0f, 30.0f});
  nx::Tensor idx = nx::tensor({-1, 1, 3});
  EXPECT_EQ(nx::take(x, idx).to_vector<float>(), (std::vector<float>{10, 20, 30}));  // clip
  EXPECT_EQ(nx::take(x, idx, {.mode = nx::IndexMode::wrap}).to_vector<float>(), (std::vector<float>{30, 20, 10}));
  auto filled = nx::take(x, idx, {.mode = nx::IndexMode::fill}).to_vector<float>();
  EXPECT_TRUE(std::isnan(filled[0]));
  EXPECT_EQ(filled[1], 20.0f);
  EXPECT_TRUE(std::isnan(filled[2]));
  EXPECT_EQ(nx::take(x, idx, {.mode = nx::IndexMode::fill, .fill_value = -1}).to_vector<float>(),
            (std::vector<float>{-1, 20, -1}));
  EXPECT_EQ(nx::take(nx::tensor({1, 2}, nx::i32), nx::tensor({5}), {.mode = nx::IndexMode::fill}).item<int>(),
            std::numeric_limits<int32_t>::min());
  try {
    nx::take(x, idx, {.mode = nx::IndexMode::check});
    FAIL() << "no IndexError";
  } catch (const nx::IndexError& e) {
    EXPECT_NE(std::string(e.what()).find("-1"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("size 3"), std::string::npos) << e.what();
  }
  EXPECT_EQ(nx::take(x, nx::tensor({2, 0}), {.mode = nx::IndexMode::check}).to_vector<float>(),
            (std::vector<float>{30, 10}));
  auto checked = nx::jit([](const nx::Tensor& a, const nx::Tensor& i) {
    return nx::take(a, i, {.mode = nx::IndexMode::check});
  });
  EXPECT_THROW(checked(x, idx), nx::ValueError);
  // Scatters drop what is out of range (clip, fill); wrap adds at -1 = the last.
  nx::Tensor z = nx::zeros({3});
  nx::Tensor rows = nx::tensor({{-1}, {1}, {5}});
  nx::Tensor ones = nx::ones({3});
  EXPECT_EQ(nx::indexed_add(z, rows, ones).to_vector<float>(), (std::vector<float>{0, 1, 0}));
  EXPECT_EQ(nx::indexed_add(z, rows, ones, {.mode = nx::IndexMode::wrap}).to_vector<float>(),
            (std::vector<float>{0, 1, 2}));  // 5 mod 3 = 2
  EXPECT_EQ(nx::indexed_add(z, rows, ones, {.mode = nx::IndexMode::fill}).to_vector<float>(),
            (std::vector<float>{0, 1, 0}));
  EXPECT_EQ(nx::indexed_put(z, rows, ones * 7.0f, {.mode = nx::IndexMode::fill}).to_vector<float>(),
            (std::vector<float>{0, 7, 0}));
  EXPECT_THROW(nx::indexed_put(z, rows, ones, {.mode = nx::IndexMode::check}), nx::IndexError);
  // The modes are ops: they jit and differentiate.
  auto loss = [](const nx::Tensor& a) { return nx::sum(nx::take(a, nx::tensor({-1, 0}), {.mode = nx::IndexMode::wrap})); };
  EXPECT_EQ(nx::grad(loss)(x).to_vector<float>(), (std::vector<float>{1, 0, 1}));
  EXPECT_EQ(nx::jit(loss)(x).item<float>(), 40.0f);
}

// Item 7: padding as a nested brace list.
TEST(FirstHour, PaddingTakesANestedBraceList) {
  nx::Tensor x = nx::ones({1, 1, 4, 4}), k = nx::ones({1, 1, 3, 3});
  EXPECT_EQ(nx::conv(x, k, {.padding = {{1, 1}, {1, 1}}}).shape(), nx::Shape({1, 1, 4, 4}));
  EXPECT_EQ(nx::conv(x, k, {.padding = {{0, 2}, {2, 0}}}).shape(), nx::Shape({1, 1, 4, 4}));
  EXPECT_EQ(nx::window_max(x, {1, 1, 2, 2}, {.padding = {{0, 0}, {0, 0}, {1, 0}, {1, 0}}}).shape(),
            nx::Shape({1, 1, 4, 4}));
}

// Item 8 is tests/compile/only_ops.cpp: a program that includes only <nx/ops.hpp> finds the
// backends linked into it (the ctest entry only_ops_header_finds_backends).

}  // namespace
