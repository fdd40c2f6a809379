// The llvm backend's worker pool: an exception thrown by a chunk, on the calling thread or
// on a worker, reaches the caller, and the pool stays usable afterwards.
#include <gtest/gtest.h>

#include <atomic>
#include <new>
#include <nx/config.hpp>
#include <stdexcept>
#include <thread>
#include <vector>

#if NX_HAS_LLVM
#include "../backends/llvm/thread_pool.hpp"

namespace {

using nx::llvm_backend::parallel_for;

int64_t sum_of_range(int64_t n) {
  std::atomic<int64_t> total{0};
  parallel_for(n, 1, 0, [&](int64_t b, int64_t e) {
    int64_t s = 0;
    for (int64_t i = b; i < e; ++i) s += i;
    total += s;
  }, 1);
  return total;
}

TEST(ThreadPool, ExceptionsInChunksReachTheCallerAndThePoolStaysUsable) {
  for (int64_t thrower : {int64_t{0}, int64_t{7}, int64_t{63}}) {  // first chunk (the caller's), later ones
    EXPECT_THROW(parallel_for(64, 1, 0, [&](int64_t b, int64_t e) {
      if (b <= thrower && thrower < e) throw std::bad_alloc();
    }, 1), std::bad_alloc) << "chunk " << thrower;
    EXPECT_EQ(sum_of_range(1000), 999 * 1000 / 2);
  }
  // Every chunk throws, on every thread.
  EXPECT_THROW(parallel_for(256, 1, 0, [](int64_t, int64_t) { throw std::runtime_error("chunk failed"); }, 1),
               std::runtime_error);
  EXPECT_EQ(sum_of_range(100000), int64_t{99999} * 100000 / 2);
}

TEST(ThreadPool, NestedParallelForRunsInline) {
  std::atomic<int64_t> total{0};
  parallel_for(8, 1, 0, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) total += sum_of_range(100);
  }, 1);
  EXPECT_EQ(total, 8 * 4950);
}

TEST(ThreadPool, CallersOnManyThreadsShareThePool) {
  std::vector<std::thread> threads;
  std::atomic<int> wrong{0}, thrown{0};
  for (int t = 0; t < 8; ++t)
    threads.emplace_back([&, t] {
      for (int r = 0; r < 50; ++r) {
        if ((t + r) % 5 == 0) {
          try {
            parallel_for(32, 1, 0, [](int64_t b, int64_t) { if (b % 3 == 1) throw std::runtime_error("x"); }, 1);
          } catch (const std::runtime_error&) {
            ++thrown;
          }
        } else if (sum_of_range(5000) != int64_t{4999} * 5000 / 2) {
          ++wrong;
        }
      }
    });
  for (std::thread& th : threads) th.join();
  EXPECT_EQ(wrong, 0);
  EXPECT_EQ(thrown, 8 * 10);
}

}  // namespace
#endif
