// Data in and out without copies (from_span, view, data/span, Eigen) and numpy-style
// indexing (x[i], x(i, j), x.slice({...}), x.at({...}).set/add, dynamic slices), and the
// member short forms.
#include <gtest/gtest.h>

#include <array>
#include <cmath>
#include <memory>
#include <string>

#include "nx/eigen.hpp"
#include "nx/nx.hpp"

namespace {

nx::Tensor grid() { return nx::reshape(nx::iota({12}, nx::i32), {3, 4}); }  // 0..11 as 3 x 4

TEST(DataIn, FromSpanIsTypedAndChecksTheSize) {
  double c[6] = {1, 2, 3, 4, 5, 6};
  nx::Tensor t = nx::from_span(c, {2, 3});
  EXPECT_EQ(t.dtype(), nx::f64);
  EXPECT_EQ(t.to_vector<double>(), (std::vector<double>{1, 2, 3, 4, 5, 6}));
  std::array<int, 4> a{1, 2, 3, 4};
  EXPECT_EQ(nx::from_span(a, {4}).dtype(), nx::i32);
  std::vector<float> v{1, 2, 3};
  EXPECT_EQ(nx::from_span(std::span<const float>(v), {3}).dtype(), nx::f32);
  EXPECT_THROW(nx::from_span(c, {4, 2}), nx::ValueError);
  bool b[2] = {true, false};
  EXPECT_EQ(nx::from_span(b, {2}).to_vector<bool>(), (std::vector<bool>{true, false}));
}

TEST(DataIn, ViewWrapsUserMemoryWithoutACopy) {
  auto owner = std::make_shared<std::vector<float>>(std::vector<float>{1, 2, 3, 4, 5, 6});
  nx::Tensor t = nx::view(owner->data(), {2, 3}, owner);
  EXPECT_EQ(t.data<float>(), owner->data());  // the same memory
  std::weak_ptr<std::vector<float>> alive = owner;
  owner.reset();
  EXPECT_FALSE(alive.expired()) << "the tensor keeps its memory alive";
  EXPECT_EQ((t * 2.0f).to_vector<float>(), (std::vector<float>{2, 4, 6, 8, 10, 12}));
  t = nx::Tensor();
  EXPECT_TRUE(alive.expired());
  int64_t raw[3] = {7, 8, 9};
  nx::Tensor r = nx::view(raw, {3});
  EXPECT_EQ(r.dtype(), nx::i64);
  EXPECT_EQ(r.data<int64_t>(), raw);
}

TEST(DataOut, DataAndSpanReadInPlaceAndCheckTheType) {
  nx::Tensor t = nx::tensor({1.0f, 2.0f, 3.0f});
  std::span<const float> s = t.span<float>();
  EXPECT_EQ(s.size(), 3u);
  EXPECT_EQ(s[2], 3.0f);
  EXPECT_EQ(t.data<float>(), t.data<float>());
  EXPECT_THROW((void)t.data<double>(), nx::DTypeError);
  try {
    (void)t.data<int32_t>();
    FAIL();
  } catch (const nx::DTypeError& e) {
    EXPECT_NE(std::string(e.what()).find("data_and_indexing_test.cpp"), std::string::npos) << e.what();
  }
  auto traced = nx::jit([](const nx::Tensor& x) {
    EXPECT_THROW((void)x.data<float>(), nx::ValueError);
    return x;
  });
  traced(t);
}

TEST(DataOut, EigenBothWays) {
  Eigen::MatrixXf m(2, 3);  // column-major
  m << 1, 2, 3, 4, 5, 6;
  nx::Tensor t = nx::from_eigen(m);
  EXPECT_EQ(t.shape(), nx::Shape({2, 3}));
  EXPECT_EQ(t.to_vector<float>(), (std::vector<float>{1, 2, 3, 4, 5, 6}));
  EXPECT_EQ(nx::from_eigen(m.transpose() * 2.0f).shape(), nx::Shape({3, 2}));
  nx::EigenRowMajor<float> back = nx::to_eigen<float>(t + 1.0f);
  EXPECT_EQ(back(1, 2), 7.0f);
  auto map = nx::eigen_map<float>(t);
  EXPECT_EQ(map.data(), t.data<float>());
  EXPECT_EQ(map(1, 0), 4.0f);
  EXPECT_THROW(nx::to_eigen<float>(nx::zeros({2, 2, 2})), nx::ShapeError);
  nx::EigenRowMajor<double> rm(2, 2);
  rm << 1, 2, 3, 4;
  nx::Tensor v = nx::view(rm.data(), {2, 2});
  EXPECT_EQ(v.data<double>(), rm.data());
}

TEST(Indexing, RowsElementsAndNegativeIndices) {
  nx::Tensor x = grid();
  EXPECT_EQ(x[1].to_vector<int>(), (std::vector<int>{4, 5, 6, 7}));
  EXPECT_EQ(x[-1].to_vector<int>(), (std::vector<int>{8, 9, 10, 11}));
  EXPECT_EQ(x[1][2].item<int>(), 6);
  EXPECT_EQ(x(2, 3).item<int>(), 11);
  EXPECT_EQ(x(-1, -4).item<int>(), 8);
  EXPECT_EQ(x(1).shape(), nx::Shape({4}));
  EXPECT_THROW(x[3], nx::IndexError);
  try {
    x(0, 9);
    FAIL();
  } catch (const nx::IndexError& e) {
    EXPECT_NE(std::string(e.what()).find("data_and_indexing_test.cpp"), std::string::npos) << e.what();
  }
  EXPECT_THROW(x(0, 0, 0), nx::IndexError);
}

TEST(Indexing, NumpySlices) {
  nx::Tensor x = grid();
  EXPECT_EQ(x.slice({nx::all, {1, 3}}).to_vector<int>(), (std::vector<int>{1, 2, 5, 6, 9, 10}));  // x[:, 1:3]
  EXPECT_EQ(x.slice({nx::all(), {0, nx::end, 2}}).to_vector<int>(), (std::vector<int>{0, 2, 4, 6, 8, 10}));
  EXPECT_EQ(x.slice({{1, nx::end}}).shape(), nx::Shape({2, 4}));  // x[1:]
  EXPECT_EQ(x.slice({-1, {-2, nx::end}}).to_vector<int>(), (std::vector<int>{10, 11}));  // x[-1, -2:]
  EXPECT_EQ(x.slice({nx::all, {nx::end, nx::end, -1}}).to_vector<int>()[0], 3);  // x[:, ::-1]
  EXPECT_EQ(x.slice({{nx::end, nx::end, -2}, 0}).to_vector<int>(), (std::vector<int>{8, 0}));  // x[::-2, 0]
  EXPECT_EQ(x.slice({{3, 1, -1}, 1}).to_vector<int>(), (std::vector<int>{9}));  // x[3:1:-1, 1]: 3 clipped to 2
  EXPECT_EQ(x.slice({{5, 9}}).shape(), nx::Shape({0, 4}));  // clipped: empty, as Python
  EXPECT_THROW(x.slice({{0, 4, 0}}), nx::ValueError);
  auto f = nx::jit([](const nx::Tensor& t) { return t.slice({nx::all, {1, nx::end, 2}}); });
  EXPECT_EQ(f(x).to_vector<int>(), (std::vector<int>{1, 3, 5, 7, 9, 11}));
}

TEST(Indexing, AtSetAndAdd) {
  nx::Tensor x = grid();
  EXPECT_EQ(x.at({0}).set(-1).to_vector<int>()[3], -1);
  EXPECT_EQ(x.at({0}).set(-1).to_vector<int>()[4], 4);
  nx::Tensor col = x.at({nx::all, 1}).add(nx::tensor({10, 20, 30}, nx::i32));
  EXPECT_EQ(col.to_vector<int>(), (std::vector<int>{0, 11, 2, 3, 4, 25, 6, 7, 8, 39, 10, 11}));
  nx::Tensor strided = x.at({nx::all, {0, nx::end, 2}}).set(0);
  EXPECT_EQ(strided.to_vector<int>(), (std::vector<int>{0, 1, 0, 3, 0, 5, 0, 7, 0, 9, 0, 11}));
  nx::Tensor reversed = x.at({1, {nx::end, nx::end, -1}}).set(nx::tensor({1, 2, 3, 4}, nx::i32));
  EXPECT_EQ(reversed[1].to_vector<int>(), (std::vector<int>{4, 3, 2, 1}));
  EXPECT_EQ(x.at({2, {1, 3}}).get().to_vector<int>(), (std::vector<int>{9, 10}));
  EXPECT_EQ(x.to_vector<int>()[0], 0) << "at() returns a new tensor";
  // Gradients flow through the updates.
  auto loss = [](const nx::Tensor& w) { return nx::sum(w.at({{0, 2}}).set(0.0f) * 3.0f); };
  EXPECT_EQ(nx::grad(loss)(nx::ones({3})).to_vector<float>(), (std::vector<float>{0, 0, 3}));
}

TEST(Indexing, DynamicSlicesInsideWhileLoops) {
  nx::Tensor x = nx::reshape(nx::iota({20}, nx::f32), {5, 4});
  nx::Tensor i = nx::scalar(int64_t{3}, nx::i64);
  EXPECT_EQ(nx::dynamic_slice(x, {i, nx::scalar(1, nx::i32)}, {2, 2}).to_vector<float>(),
            (std::vector<float>{13, 14, 17, 18}));
  // Starts are clamped so the box fits (XLA).
  EXPECT_EQ(nx::dynamic_slice(x, {nx::scalar(9, nx::i32), nx::scalar(-3, nx::i32)}, {2, 2}).to_vector<float>(),
            (std::vector<float>{12, 13, 16, 17}));
  nx::Tensor u = nx::dynamic_update_slice(x, nx::zeros({1, 4}), {nx::scalar(2, nx::i32), nx::scalar(0, nx::i32)});
  EXPECT_EQ(u[2].to_vector<float>(), std::vector<float>(4, 0.0f));
  EXPECT_EQ(u[3].to_vector<float>()[0], 12.0f);
  // Row sums with a loop counter as the start.
  auto sums = nx::jit([](const nx::Tensor& m) {
    auto [k, acc] = nx::while_loop(
        std::tuple{nx::scalar(0, nx::i32), nx::zeros({5})}, [](const auto& st) { return std::get<0>(st) < 5; },
        [&m](const auto& st) {
          const nx::Tensor& j = std::get<0>(st);
          nx::Tensor row = nx::dynamic_slice(m, {j, nx::scalar(0, nx::i32)}, {1, 4});
          nx::Tensor s = nx::reshape(nx::sum(row), {1});
          return std::tuple{j + 1, nx::dynamic_update_slice(std::get<1>(st), s, {j})};
        });
    return acc;
  });
  EXPECT_EQ(sums(x).to_vector<float>(), (std::vector<float>{6, 22, 38, 54, 70}));
}

TEST(MemberForms, CallTheFreeFunctions) {
  nx::Tensor x = nx::reshape(nx::iota({6}, nx::f32), {2, 3});
  EXPECT_EQ(x.sum().item<float>(), 15.0f);
  EXPECT_EQ(x.sum(1).to_vector<float>(), (std::vector<float>{3, 12}));
  EXPECT_EQ(x.sum({0, 1}).item<float>(), 15.0f);
  EXPECT_EQ(x.sum({.axes = 0, .keep_axes = true}).shape(), nx::Shape({1, 3}));
  EXPECT_EQ(x.mean().item<float>(), 2.5f);
  EXPECT_EQ(x.mean(0).to_vector<float>(), (std::vector<float>{1.5f, 2.5f, 3.5f}));
  EXPECT_EQ(x.reshape({3, -1}).shape(), nx::Shape({3, 2}));
  EXPECT_EQ(x.reshape(nx::Shape{6}).shape(), nx::Shape({6}));
  EXPECT_EQ(x.astype(nx::i32).dtype(), nx::i32);
  EXPECT_EQ(x.T().shape(), nx::Shape({3, 2}));
  EXPECT_EQ(x.T()(0, 1).item<float>(), 3.0f);
}

}  // namespace

namespace {

TEST(Loops, ForiLoopAndScan) {
  // sum of i * x for i in [2, 5)
  nx::Tensor x = nx::tensor({1.0f, 2.0f});
  nx::Tensor s = nx::fori_loop(2, 5, nx::zeros({2}), [&](const nx::Tensor& i, const nx::Tensor& acc) {
    return acc + nx::as_type(i, nx::f32) * x;
  });
  EXPECT_EQ(s.to_vector<float>(), (std::vector<float>{9, 18}));
  // Running sums over rows: carry the total, emit it per step.
  nx::Tensor xs = nx::reshape(nx::iota({6}, nx::f32), {3, 2});
  auto step = [](const nx::Tensor& c, const nx::Tensor& row) {
    nx::Tensor t = c + row;
    return std::pair{t, t * 10.0f};
  };
  auto [total, ys] = nx::scan(step, nx::zeros({2}), xs);
  EXPECT_EQ(total.to_vector<float>(), (std::vector<float>{6, 9}));
  EXPECT_EQ(ys.shape(), nx::Shape({3, 2}));
  EXPECT_EQ(ys.to_vector<float>(), (std::vector<float>{0, 10, 20, 40, 60, 90}));
  auto jitted = nx::jit([&](const nx::Tensor& a) { return nx::scan(step, nx::zeros({2}), a).second; });
  EXPECT_EQ(jitted(xs).to_vector<float>(), ys.to_vector<float>());
  // Differentiable through the loop.
  auto loss = [&](const nx::Tensor& a) { return nx::sum(nx::scan(step, nx::zeros({2}), a).second); };
  EXPECT_EQ(nx::grad(loss)(xs).to_vector<float>(), (std::vector<float>{30, 30, 20, 20, 10, 10}));
  EXPECT_THROW(nx::scan(step, nx::zeros({2}), nx::zeros({0, 2})), nx::ValueError);
}

}  // namespace
