// The host pool gives memory back: bounded in bytes, by age, and on trim_memory(); shapes
// that change slowly share blocks instead of each keeping its own.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>
#include <vector>

#include "nx/nx.hpp"

namespace {

// Under AddressSanitizer nothing is pooled (every free must reach ASan): bounds hold trivially.
class HostPool : public ::testing::Test {
 protected:
  void SetUp() override {
    saved_ = nx::host_pool_options();
    nx::trim_memory();
  }
  void TearDown() override {
    nx::set_host_pool_options(saved_);
    nx::trim_memory();
  }
  nx::HostPoolOptions saved_;
};

// A tensor of `bytes` bytes, made and dropped (its block returns to the pool).
void touch(int64_t bytes) {
  nx::Tensor t = nx::iota({bytes / 4}, nx::f32);
  ASSERT_EQ(t.shape()[0], bytes / 4);
}

TEST_F(HostPool, SlowlyChangingShapesShareBlocks) {
  nx::set_host_pool_options({.max_bytes = size_t{1} << 30, .max_idle_seconds = 600});
  // 300 sizes from 2 MiB up, 4 KiB apart: 700 MB if each size kept its own block.
  for (int64_t i = 0; i < 300; ++i) touch((int64_t{2} << 20) + i * 4096);
  EXPECT_LE(nx::host_pool_cached_bytes(), size_t{16} << 20);
}

TEST_F(HostPool, FreeBlocksAreBoundedInBytes) {
  nx::set_host_pool_options({.max_bytes = size_t{8} << 20, .max_idle_seconds = 600});
  {
    std::vector<nx::Tensor> held;
    for (int i = 0; i < 10; ++i) held.push_back(nx::iota({(int64_t{2} << 20) / 4 + i * 1000}, nx::f32));
  }
  EXPECT_LE(nx::host_pool_cached_bytes(), size_t{8} << 20);
  nx::set_host_pool_options({.max_bytes = 0, .max_idle_seconds = 600});
  EXPECT_EQ(nx::host_pool_cached_bytes(), 0u);
}

TEST_F(HostPool, IdleBlocksAreGivenBack) {
  nx::set_host_pool_options({.max_bytes = size_t{1} << 30, .max_idle_seconds = 0.05});
  touch(int64_t{4} << 20);
  std::this_thread::sleep_for(std::chrono::milliseconds(150));
  nx::Tensor other = nx::iota({(int64_t{3} << 20) / 4}, nx::f32);  // another size class: a fresh block
  EXPECT_EQ(nx::host_pool_cached_bytes(), 0u) << "the 4 MiB block idled past max_idle_seconds";
}

TEST_F(HostPool, TrimMemoryEmptiesThePool) {
  nx::set_host_pool_options({.max_bytes = size_t{1} << 30, .max_idle_seconds = 600});
  for (int i = 1; i <= 4; ++i) touch(int64_t{i} << 21);
  nx::trim_memory();
  EXPECT_EQ(nx::host_pool_cached_bytes(), 0u);
  touch(int64_t{2} << 20);  // still usable
}

// Tensors of a few elements reuse blocks kept per thread: made on a thread that has
// ended, freed on another (more than that thread keeps), reused by later ops, trimmed;
// every value stays right.
TEST_F(HostPool, SmallTensorsReuseBlocksAcrossThreads) {
  std::vector<nx::Tensor> made;
  std::thread maker([&] {
    for (int i = 0; i < 300; ++i) made.push_back(nx::full({i % 60 + 1}, double(i)));
  });
  maker.join();  // its cache went with it; its tensors outlive it
  for (int i = 0; i < 300; ++i) {
    ASSERT_EQ(made[static_cast<size_t>(i)].size(), i % 60 + 1);
    ASSERT_EQ(made[static_cast<size_t>(i)].to_vector<float>().back(), float(i));
  }
  made.clear();  // 300 blocks of 4 sizes freed here: some kept, the rest given back
  for (int round = 0; round < 3; ++round)
    for (int i = 0; i < 100; ++i) {
      nx::Tensor a = nx::full({i % 60 + 1}, double(i));
      std::vector<float> twice = (a + a).to_vector<float>();
      ASSERT_EQ(twice.size(), static_cast<size_t>(i % 60 + 1));
      ASSERT_EQ(twice.back(), 2.0f * float(i));
    }
  nx::trim_memory();
  EXPECT_EQ((nx::full({3}, 1.0) + 1.0f).to_vector<float>()[2], 2.0f);
}

// Eager elementwise ops lend their operands' buffers to the backend without owning them.
// A backend that passes an operand through as the result (none of ours does) still gives
// a result that owns its memory once the input is gone.
class PassThroughBackend : public nx::Backend {
 public:
  std::string_view name() const override { return "pass_through_test"; }
  nx::BufferPtr allocate(size_t bytes) override { return nx::make_host_buffer(this, bytes); }
  std::vector<nx::BufferPtr> execute(const nx::Node&, std::span<const nx::Operand> in) override { return {in[0].buffer}; }
  std::unique_ptr<nx::Executable> compile(const nx::Graph&, const nx::CompileOptions&) override {
    throw nx::Error("pass_through_test", "no compiler");
  }
};

TEST(EagerOperands, AResultPassedThroughOwnsItsBuffer) {
  nx::register_backend("pass_through_test", [] { return std::make_unique<PassThroughBackend>(); });
  std::string before(nx::default_backend().name());
  nx::Tensor x = nx::full({3}, 7.0);
  nx::set_default_backend("pass_through_test");
  nx::Tensor y = -x;
  nx::Tensor z = x + x;
  nx::set_default_backend(before);
  const void* data = x.buffer()->data();
  x = nx::Tensor();
  EXPECT_EQ(y.buffer()->data(), data);
  EXPECT_EQ(y.buffer().use_count(), 2);  // y and z
  EXPECT_EQ(y.to_vector<float>(), (std::vector<float>{7, 7, 7}));
  EXPECT_EQ(z.to_vector<float>(), (std::vector<float>{7, 7, 7}));
}

}  // namespace
