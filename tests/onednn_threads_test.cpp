// Every oneDNN-backed op run from 8 threads at once against the same op run on one thread:
// cached primitives are shared between threads, so each execution needs its own scratchpad.
// Also: the primitive caches are bounded.
#include <gtest/gtest.h>

#include <cmath>
#include <nx/config.hpp>
#include <string>
#include <thread>
#include <vector>

#include "nx/nx.hpp"

#if NX_HAS_ONEDNN
#include <nx/onednn.hpp>

namespace {

nx::Tensor uniform(uint64_t seed, nx::Shape shape) {
  return nx::random::uniform(nx::random::key(seed), shape, {.min = -1.0, .max = 1.0});
}

// Each op of the backend in one graph: conv forward and both backward forms, matmul,
// pooling (max, sum, max backward), softmax, an eltwise, a binary and both sum kernels.
std::vector<nx::Tensor> every_kernel(const nx::Tensor& x, const nx::Tensor& k, const nx::Tensor& m) {
  nx::ConvOpts opts{.padding = nx::PaddingMode::same};
  auto loss = [opts](const nx::Tensor& a, const nx::Tensor& b) {
    nx::Tensor h = nx::max(nx::conv(a, b, opts), 0.0f);
    return nx::sum(nx::window_max(h, {1, 1, 2, 2}, {.strides = {1, 1, 2, 2}}));
  };
  auto [gx, gk] = nx::grad<0, 1>(loss)(x, k);
  nx::Tensor y = nx::conv(x, k, opts);
  return {y,
          gx,
          gk,
          nx::dot(m, nx::transpose(m)),
          nx::window_sum(y, {1, 1, 3, 3}, {.strides = {1, 1, 2, 2}}),
          nx::softmax(m * 3.0f),
          nx::tanh(m) + m,
          nx::sum(y, {.axes = {0, 2, 3}}),
          nx::sum(m, {.axes = {1}})};
}

void expect_same(const std::vector<nx::Tensor>& got, const std::vector<nx::Tensor>& want, const std::string& what) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t o = 0; o < got.size(); ++o) {
    auto g = got[o].to_vector<float>(), w = want[o].to_vector<float>();
    ASSERT_EQ(g.size(), w.size());
    size_t wrong = 0;
    for (size_t i = 0; i < g.size(); ++i)
      if (!(std::abs(g[i] - w[i]) <= 1e-4 * std::max(1.0f, std::abs(w[i])))) ++wrong;
    EXPECT_EQ(wrong, 0u) << what << ", output " << o << ": " << wrong << " of " << g.size() << " elements differ";
  }
}

TEST(OnednnThreads, EveryKernelFromEightThreadsMatchesOneThread) {
  nx::Tensor x = uniform(1, {8, 16, 16, 16}), k = uniform(2, {32, 16, 3, 3}), m = uniform(3, {256, 128});
  auto f = nx::jit(every_kernel, {.backend = "onednn"});
  nx::onednn::reset_kernel_counts();
  std::vector<nx::Tensor> want = f(x, k, m);
  auto counts = nx::onednn::kernel_counts();
  for (const char* kernel : {"conv_forward", "conv_backward_data", "conv_backward_weights", "matmul", "pool_max_backward",
                             "pool_sum", "softmax", "reduction"})
    EXPECT_GE(counts[kernel], 1) << kernel << " did not run on oneDNN";

  constexpr int kThreads = 8, kRounds = 6;
  std::vector<std::vector<std::vector<nx::Tensor>>> got(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&, t] {
      for (int r = 0; r < kRounds; ++r) got[static_cast<size_t>(t)].push_back(f(x, k, m));
    });
  for (std::thread& t : threads) t.join();
  for (int t = 0; t < kThreads; ++t)
    for (int r = 0; r < kRounds; ++r)
      expect_same(got[static_cast<size_t>(t)][static_cast<size_t>(r)], want,
                  "thread " + std::to_string(t) + " round " + std::to_string(r));
}

// The reported case: eager convolutions (on the default backend) from several threads.
TEST(OnednnThreads, EagerConvolutionsFromEightThreadsMatchOneThread) {
  nx::Tensor x = uniform(4, {8, 16, 16, 16}), k = uniform(5, {32, 16, 3, 3});
  nx::ConvOpts opts{.padding = nx::PaddingMode::same};
  std::vector<float> want = nx::conv(x, k, opts).to_vector<float>();
  constexpr int kThreads = 8, kRounds = 30;
  std::vector<int> wrong(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&, t] {
      for (int r = 0; r < kRounds; ++r) {
        std::vector<float> got = nx::conv(x, k, opts).to_vector<float>();
        for (size_t i = 0; i < got.size(); ++i)
          if (!(std::abs(got[i] - want[i]) <= 1e-4f * std::max(1.0f, std::abs(want[i])))) {
            ++wrong[static_cast<size_t>(t)];
            break;
          }
      }
    });
  for (std::thread& t : threads) t.join();
  for (int t = 0; t < kThreads; ++t) EXPECT_EQ(wrong[static_cast<size_t>(t)], 0) << "thread " << t;
}

// A sweep over shapes keeps at most the limit of primitives per kind.
TEST(OnednnThreads, PrimitiveCachesAreBounded) {
  nx::onednn::set_primitive_cache_limit(4);
  int64_t before = nx::onednn::cached_primitive_count();
  auto mm = nx::jit([](const nx::Tensor& a, const nx::Tensor& b) { return nx::dot(a, b); },
                    {.backend = "onednn", .warn_after_compiles = 0});
  nx::onednn::reset_kernel_counts();
  for (int64_t n = 1; n <= 24; ++n) {
    nx::Tensor a = nx::ones({n, 8}), b = nx::ones({8, 3});
    EXPECT_EQ(mm(a, b).to_vector<float>(), std::vector<float>(static_cast<size_t>(n * 3), 8.0f));
  }
  EXPECT_EQ(nx::onednn::kernel_counts()["matmul"], 24);
  // The matmul kind keeps at most 4 (other kinds, filled by other tests, trim as they next grow).
  EXPECT_LE(nx::onednn::cached_primitive_count(), before + 4);
  // An evicted shape is rebuilt and still right.
  EXPECT_EQ(mm(nx::ones({1, 8}), nx::ones({8, 3})).to_vector<float>(), std::vector<float>(3, 8.0f));
  nx::onednn::set_primitive_cache_limit(512);
}

}  // namespace
#endif
