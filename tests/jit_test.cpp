#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <thread>

#include "nx/nx.hpp"

namespace {

TEST(Jit, MatchesEagerAndCachesBySignature) {
  auto f = [](const nx::Tensor& x, const nx::Tensor& y) { return nx::exp(x) * y + 1.0; };
  auto jf = nx::jit(f);
  auto x = nx::tensor({0.5, 1.0, 2.0});
  auto y = nx::tensor({1.0, 2.0, 3.0});
  EXPECT_EQ(jf(x, y).to_vector<float>(), f(x, y).to_vector<float>());
  EXPECT_EQ(jf.compiles(), 1);
  jf(y, x);
  EXPECT_EQ(jf.compiles(), 1);
  jf(nx::ones({2}), nx::ones({2}));
  EXPECT_EQ(jf.compiles(), 2);
  jf(nx::ones({2}, nx::f64), nx::ones({2}));
  EXPECT_EQ(jf.compiles(), 3);
}

TEST(Jit, TreesInAndOut) {
  using Params = std::map<std::string, nx::Tensor>;
  auto f = nx::jit([](const Params& p, const nx::Tensor& x) {
    return std::make_tuple(nx::dot(x, p.at("w")) + p.at("b"), nx::sum(x));
  });
  Params p{{"w", nx::ones({3, 2})}, {"b", nx::tensor({1.0, 2.0})}};
  auto [y, s] = f(p, nx::tensor({{1.0, 2.0, 3.0}}));
  EXPECT_EQ(y.to_vector<float>(), (std::vector<float>{7, 8}));
  EXPECT_EQ(s.item<float>(), 6.0f);
  f(p, nx::tensor({{4.0, 5.0, 6.0}}));
  EXPECT_EQ(f.compiles(), 1);
  Params q{{"w", nx::ones({3, 2})}, {"bias", nx::tensor({1.0, 2.0})}};
  EXPECT_THROW(f(q, nx::tensor({{1.0, 2.0, 3.0}})), std::out_of_range);
}

TEST(Jit, ClosureConstantsFoldAndGraphPrints) {
  auto c = nx::tensor({1.0, 2.0});
  auto f = nx::jit([&](const nx::Tensor& x) { return x * (c + c) + nx::exp(x) * 0.0 + nx::exp(x) * 0.0; });
  auto g = f.graph(nx::ones({2}));
  std::string text = g.str();
  EXPECT_NE(text.find("multiply"), std::string::npos) << text;
  EXPECT_NE(g.dot().find("digraph"), std::string::npos);
  // CSE: exp(x) * 0.0 appears once.
  size_t first = text.find("exp");
  EXPECT_NE(first, std::string::npos);
  EXPECT_EQ(text.find("exp", first + 1), std::string::npos) << text;
  EXPECT_EQ(f(nx::ones({2})).to_vector<float>(), (std::vector<float>{2, 4}));
}

TEST(Jit, ScalarArgumentsAreWeak) {
  auto f = nx::jit([](const nx::Tensor& x, const nx::Tensor& s) { return x * s; });
  auto r = f(nx::ones({2}, nx::f32), 2.5);
  EXPECT_EQ(r.dtype(), nx::f32);
  EXPECT_EQ(r.to_vector<float>(), (std::vector<float>{2.5f, 2.5f}));
}

TEST(Jit, TracedTensorEscapingIsAnError) {
  nx::Tensor leaked;
  auto f = nx::jit([&](const nx::Tensor& x) {
    leaked = x + 1.0;
    return x;
  });
  f(nx::ones({2}));
  EXPECT_THROW(nx::exp(leaked), nx::Error);
}

TEST(Jit, CacheIsBounded) {
  auto f = nx::jit([](const nx::Tensor& x) { return x + 1.0; }, {.cache_size = 2, .warn_after_compiles = 0});
  for (int n = 1; n <= 4; ++n) f(nx::ones({n}));
  EXPECT_EQ(f.stats().evictions, 2);
  f(nx::ones({1}));
  EXPECT_EQ(f.compiles(), 5);
}

TEST(Jit, ConcurrentCallsShareOneCompiledEntry) {
  auto f = nx::jit([](const nx::Tensor& x) { return nx::sum(nx::exp(x) * 2.0); });
  nx::Tensor x = nx::iota({16}, nx::f32);
  float want = f(x).item<float>();
  std::vector<std::thread> threads;
  std::atomic<int> wrong{0};
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < 200; ++i)
        if (f(x).item<float>() != want) ++wrong;
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(wrong.load(), 0);
  EXPECT_EQ(f.compiles(), 1);
}

// Racing first calls of one signature compile it once (single flight); the others wait for
// that compile. A compile that throws lets the next caller try, and fail, in its turn.
TEST(Jit, RacingFirstCallsCompileOnce) {
  std::atomic<int> traces{0};
  auto f = nx::jit([&](const nx::Tensor& x) {
    ++traces;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));  // a slow trace widens the race
    return nx::tanh(x) * 3.0f;
  });
  nx::Tensor x = nx::iota({64}, nx::f32);
  std::vector<std::thread> threads;
  std::atomic<int> wrong{0};
  float want = std::tanh(5.0f) * 3.0f;
  for (int t = 0; t < 8; ++t)
    threads.emplace_back([&] {
      if (std::abs(f(x).to_vector<float>()[5] - want) > 1e-5f) ++wrong;
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(wrong.load(), 0);
  EXPECT_EQ(traces.load(), 1);
  EXPECT_EQ(f.compiles(), 1);

  auto failing = nx::jit([](const nx::Tensor& a) { return a + nx::ones({3}); });
  std::atomic<int> errors{0};
  threads.clear();
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&] {
      try {
        failing(nx::ones({5}));
      } catch (const nx::Error&) {
        ++errors;
      }
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(errors.load(), 4);
}

}  // namespace
