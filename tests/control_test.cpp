#include <gtest/gtest.h>

#include "nx/nx.hpp"

namespace {

auto count_to_ten(const nx::Tensor& x) {
  return nx::while_loop(
      std::tuple{nx::scalar(0, nx::i64), x}, [](const auto& s) { return std::get<0>(s) < 10; },
      [](const auto& s) { return std::tuple{std::get<0>(s) + 1, std::get<1>(s) * 2.0}; });
}

TEST(Control, WhileEager) {
  auto [i, acc] = count_to_ten(nx::ones({2}));
  EXPECT_EQ(i.item<int64_t>(), 10);
  EXPECT_EQ(acc.to_vector<float>(), (std::vector<float>{1024, 1024}));
}

TEST(Control, WhileIsOneNodeUnderJit) {
  auto f = nx::jit([](const nx::Tensor& x) { return std::get<1>(count_to_ten(x)); });
  EXPECT_EQ(f(nx::ones({3})).to_vector<float>(), (std::vector<float>(3, 1024)));
  std::string g = f.graph(nx::ones({3})).str();
  EXPECT_NE(g.find("while"), std::string::npos) << g;
  EXPECT_EQ(g.find("multiply"), std::string::npos) << g;  // the body stays a subgraph
}

TEST(Control, WhileCapturesOuterTracedValues) {
  auto f = nx::jit([](const nx::Tensor& x, const nx::Tensor& limit) {
    return nx::while_loop(x, [&](const nx::Tensor& s) { return nx::sum(s) < limit; },
                          [&](const nx::Tensor& s) { return s + x; });
  });
  EXPECT_EQ(f(nx::tensor({1.0, 1.0}), nx::scalar(7.0)).to_vector<float>(), (std::vector<float>{4, 4}));
  EXPECT_EQ(f(nx::tensor({1.0, 2.0}), nx::scalar(100.0)).to_vector<float>(), (std::vector<float>{34, 68}));
  EXPECT_EQ(f.compiles(), 1);
}

TEST(Control, NestedLoops) {
  auto f = nx::jit([](const nx::Tensor& n) {
    return nx::while_loop(std::tuple{nx::scalar(0, nx::i64), nx::scalar(0, nx::i64)},
        [&](const auto& s) { return std::get<0>(s) < n; },
        [&](const auto& s) {
          auto inner = nx::while_loop(std::tuple{nx::scalar(0, nx::i64), std::get<1>(s)},
              [&](const auto& t) { return std::get<0>(t) < n; },
              [&](const auto& t) { return std::tuple{std::get<0>(t) + 1, std::get<1>(t) + 1}; });
          return std::tuple{std::get<0>(s) + 1, std::get<1>(inner)};
        });
  });
  EXPECT_EQ(std::get<1>(f(nx::scalar(5, nx::i64))).item<int64_t>(), 25);
}

TEST(Control, Cond) {
  auto f = nx::jit([](const nx::Tensor& x) {
    return nx::cond(nx::sum(x) > 0, [&] { return x * 2.0; }, [&] { return -x; });
  });
  EXPECT_EQ(f(nx::tensor({1.0, 2.0})).to_vector<float>(), (std::vector<float>{2, 4}));
  EXPECT_EQ(f(nx::tensor({-1.0, -2.0})).to_vector<float>(), (std::vector<float>{1, 2}));
  EXPECT_EQ(f.compiles(), 1);
  auto eager = nx::cond(nx::scalar(0.0), [] { return nx::ones({2}); }, [] { return nx::zeros({2}); });
  EXPECT_EQ(eager.to_vector<float>(), (std::vector<float>{0, 0}));
}

TEST(Control, Errors) {
  auto x = nx::ones({2});
  EXPECT_THROW(nx::while_loop(x, [](const nx::Tensor& s) { return s > 0; }, [](const nx::Tensor& s) { return s; }),
               nx::ShapeError);
  EXPECT_THROW(nx::while_loop(x, [](const nx::Tensor& s) { return nx::sum(s) > 0; },
                              [](const nx::Tensor& s) { return nx::as_type(s, nx::f64); }),
               nx::DTypeError);
  EXPECT_THROW(nx::cond(nx::scalar(1.0), [&] { return x; }, [&] { return nx::ones({3}); }), nx::DTypeError);
  EXPECT_THROW(nx::cond(x, [&] { return x; }, [&] { return x; }), nx::ShapeError);
}

}  // namespace
