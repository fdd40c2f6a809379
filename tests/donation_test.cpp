// Donated arguments (JitOptions::donate) are written over only when their memory is nx++'s
// own: a read-only file mapping, an unaligned foreign buffer or another tensor's memory seen
// through DLPack is read, never written.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <nx/config.hpp>
#include <string>
#include <unistd.h>

#include "nx/io/checkpoint.hpp"
#include "nx/io/dlpack.hpp"
#include "nx/io/safetensors.hpp"
#include "nx/nx.hpp"

#if NX_HAS_LLVM
namespace {

nx::Tensor step(const nx::Tensor& w, const nx::Tensor& g) { return w - g * 0.5f; }

std::filesystem::path temp_file(const std::string& name) {
  return std::filesystem::temp_directory_path() / (name + "." + std::to_string(getpid()));
}

// The resume-training pattern: parameters loaded from a memory-mapped file, donated.
TEST(Donation, MappedSafetensorsAreNotWrittenOver) {
  nx::Tensor w = nx::random::normal(nx::random::key(1), {256, 300});
  nx::Tensor g = nx::random::normal(nx::random::key(2), {256, 300});
  auto path = temp_file("donate.safetensors");
  nx::io::save_safetensors(path, {{"w", w}});
  nx::Tensor loaded = nx::io::load_safetensors(path).tensors.at("w");
  std::vector<float> want = step(w, g).to_vector<float>();
  nx::Tensor out = nx::jit(step, {.backend = "llvm", .donate = {0}})(loaded, g);
  EXPECT_EQ(out.to_vector<float>(), want);
  EXPECT_EQ(nx::io::load_safetensors(path).tensors.at("w").to_vector<float>(), w.to_vector<float>());
  std::filesystem::remove(path);
}

TEST(Donation, MappedCheckpointsAreNotWrittenOver) {
  nx::Tensor w = nx::random::normal(nx::random::key(3), {128, 200});
  nx::Tensor g = nx::random::normal(nx::random::key(4), {128, 200});
  auto path = temp_file("donate.ckpt");
  nx::io::Checkpoint c;
  c.params["w"] = w;
  nx::io::save_checkpoint(path, c);
  nx::Tensor loaded = nx::io::load_checkpoint(path).params.at("w");
  std::vector<float> want = step(w, g).to_vector<float>();
  EXPECT_EQ(nx::jit(step, {.backend = "llvm", .donate = {0}})(loaded, g).to_vector<float>(), want);
  EXPECT_EQ(nx::io::load_checkpoint(path).params.at("w").to_vector<float>(), w.to_vector<float>());
  std::filesystem::remove(path);
}

// Foreign memory that is 4- but not 64-byte aligned, large enough (32 MiB and more) for the
// kernel to stream its output with aligned non-temporal stores.
TEST(Donation, UnalignedForeignMemoryIsNotWrittenOver) {
  constexpr int64_t n = (int64_t{33} << 20) / 4;
  struct Owner {
    DLManagedTensor managed{};
    int64_t shape[1] = {n};
    float* block = nullptr;
  };
  auto* o = new Owner;
  o->block = static_cast<float*>(std::aligned_alloc(64, (n + 16) * 4));
  float* data = o->block + 4;  // 16 bytes past a 64-byte boundary
  for (int64_t i = 0; i < n; ++i) data[i] = static_cast<float>(i % 1000);
  DLTensor& d = o->managed.dl_tensor;
  d.data = data;
  d.device = {kDLCPU, 0};
  d.ndim = 1;
  d.dtype = {kDLFloat, 32, 1};
  d.shape = o->shape;
  o->managed.manager_ctx = o;
  o->managed.deleter = [](DLManagedTensor* m) {
    auto* owner = static_cast<Owner*>(m->manager_ctx);
    std::free(owner->block);
    delete owner;
  };
  nx::Tensor w = nx::io::from_dlpack(&o->managed);
  nx::Tensor g = nx::ones({n});
  nx::Tensor out = nx::jit(step, {.backend = "llvm", .donate = {0}})(w, g);
  EXPECT_EQ(out.shape(), nx::Shape({n}));
  EXPECT_EQ(reinterpret_cast<uintptr_t>(out.buffer()->data()) % 64, 0u);
  auto got = out.to_vector<float>();
  for (int64_t i : {int64_t{0}, int64_t{999}, n / 2, n - 1}) EXPECT_EQ(got[static_cast<size_t>(i)], static_cast<float>(i % 1000) - 0.5f);
}

// A tensor imported from another tensor's DLPack export shares its memory: donating the
// import must not change the tensor that was never donated.
TEST(Donation, DlpackRoundTripDoesNotRewriteTheOriginal) {
  nx::Tensor x = nx::random::normal(nx::random::key(5), {300, 300});
  nx::Tensor g = nx::ones({300, 300});
  std::vector<float> before = x.to_vector<float>();
  nx::Tensor y = nx::io::from_dlpack(nx::io::to_dlpack(x));
  nx::Tensor out = nx::jit(step, {.backend = "llvm", .donate = {0}})(y, g);
  EXPECT_EQ(x.to_vector<float>(), before);
  auto got = out.to_vector<float>();
  for (size_t i = 0; i < before.size(); i += 997) EXPECT_EQ(got[i], before[i] - 0.5f);
}

}  // namespace
#endif
