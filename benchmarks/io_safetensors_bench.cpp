// The checkpoint checksum's speed, and loading a 500 MB safetensors file (125 f32 tensors of 4 MB) against reading its bytes.
// With mmap the load parses the header and maps the file: the tensors view the page
// cache, so it should cost next to nothing; a read-in load costs one copy of the bytes.
// The file is written once to $TMPDIR (page cache warm after the first pass).
// Run: ./build/release/benchmarks/nx_bench_io --benchmark_filter=Safetensors
#include <benchmark/benchmark.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <vector>

#include <nx/io/checkpoint.hpp>
#include <nx/io/safetensors.hpp>
#include <nx/nx.hpp>

namespace {

constexpr int kTensors = 125;
constexpr int64_t kElems = 1 << 20;  // 4 MB of f32 each: 500 MiB in all

const std::string& big_file() {
  static const std::string path = [] {
    auto p = std::filesystem::temp_directory_path() / "nx_bench_500mb.safetensors";
    if (!std::filesystem::exists(p) || std::filesystem::file_size(p) < size_t{kTensors} * kElems * 4) {
      nx::io::TensorDict d;
      for (int i = 0; i < kTensors; ++i) d["layer." + std::to_string(i) + ".weight"] = nx::full({kElems}, double(i));
      nx::io::save_safetensors(p.string(), d);
    }
    return p.string();
  }();
  return path;
}

void BM_ReadFileBytes(benchmark::State& state) {
  const std::string& path = big_file();
  size_t size = std::filesystem::file_size(path);
  std::vector<char> buf(size);
  for (auto _ : state) {
    std::ifstream f(path, std::ios::binary);
    f.read(buf.data(), static_cast<std::streamsize>(size));
    benchmark::DoNotOptimize(buf.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * size));
}
BENCHMARK(BM_ReadFileBytes)->Unit(benchmark::kMillisecond);

void load(benchmark::State& state, bool mmap) {
  const std::string& path = big_file();
  size_t size = std::filesystem::file_size(path);
  for (auto _ : state) benchmark::DoNotOptimize(nx::io::load_safetensors(path, {.mmap = mmap}));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * size));
}
void BM_SafetensorsLoadMmap(benchmark::State& state) { load(state, true); }
void BM_SafetensorsLoadRead(benchmark::State& state) { load(state, false); }
BENCHMARK(BM_SafetensorsLoadMmap)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_SafetensorsLoadRead)->Unit(benchmark::kMillisecond);

// The checkpoint checksum: it runs over every byte of every save and load.
void BM_CheckpointHash64(benchmark::State& state) {
  std::vector<std::byte> b(size_t{64} << 20, std::byte{1});
  for (auto _ : state) {
    nx::detail::Hash64 h;
    h.update(b.data(), b.size());
    benchmark::DoNotOptimize(h.digest());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * b.size()));
}
BENCHMARK(BM_CheckpointHash64)->Unit(benchmark::kMillisecond);

}  // namespace
