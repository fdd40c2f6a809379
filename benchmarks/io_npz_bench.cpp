// load_npz on one 256 MiB deflated member: "normal" (f32 noise, barely compressible) and
// "ramp" (i32 arange % 1000, compresses ~160:1). scripts/bench_npz.sh writes both files
// with numpy.savez_compressed into $NX_BENCH_NPZ_DIR, times numpy.load on them and runs
// this beside it; without that variable the benchmarks skip.
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include <nx/io/npz.hpp>
#include <nx/nx.hpp>

namespace {

void NpzLoad(benchmark::State& state, const char* name) {
  const char* dir = std::getenv("NX_BENCH_NPZ_DIR");
  std::string path = dir ? std::string(dir) + "/" + name + ".npz" : "";
  if (path.empty() || !std::filesystem::exists(path)) {
    state.SkipWithError("set NX_BENCH_NPZ_DIR (scripts/bench_npz.sh does)");
    return;
  }
  for (auto _ : state) {
    nx::io::TensorDict d = nx::io::load_npz(path);
    benchmark::DoNotOptimize(d.at("w").buffer()->data());
  }
  state.SetBytesProcessed(state.iterations() * (int64_t{256} << 20));
}
BENCHMARK_CAPTURE(NpzLoad, normal, "normal")->Unit(benchmark::kMillisecond)->MinTime(2);
BENCHMARK_CAPTURE(NpzLoad, ramp, "ramp")->Unit(benchmark::kMillisecond)->MinTime(2);

}  // namespace
