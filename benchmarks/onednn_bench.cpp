// The oneDNN path against raw oneDNN in the same run: f32 matmul at 256/1024/2048 through
// nx::jit on the onednn backend vs dnnl_sgemm on the same buffers, and the per-call
// overhead on a 64x64 matmul. Floor: 2*n^3 flops at the FMA peak (docs/PERFORMANCE.md).
// Run: ./build/release/benchmarks/nx_bench_onednn
#include <benchmark/benchmark.h>
#include <oneapi/dnnl/dnnl.h>

#include <vector>

#include <nx/nx.hpp>

namespace {

void flops(benchmark::State& state, int64_t n) {
  state.counters["GFLOP/s"] =
      benchmark::Counter(2.0 * double(n) * double(n) * double(n), benchmark::Counter::kIsIterationInvariantRate,
                         benchmark::Counter::kIs1000);
}

void BM_NxMatmulOnednn(benchmark::State& state) {
  int64_t n = state.range(0);
  nx::Tensor a = nx::random::uniform(nx::random::key(1), {n, n}), b = nx::random::uniform(nx::random::key(2), {n, n});
  auto f = nx::jit([](const nx::Tensor& x, const nx::Tensor& y) { return nx::dot(x, y); }, {.backend = "onednn"});
  f(a, b);
  for (auto _ : state) benchmark::DoNotOptimize(f(a, b));
  flops(state, n);
}

void BM_RawDnnlSgemm(benchmark::State& state) {
  int64_t n = state.range(0);
  std::vector<float> a(static_cast<size_t>(n * n), 0.5f), b(a), c(a.size());
  for (auto _ : state) {
    dnnl_sgemm('N', 'N', n, n, n, 1.0f, a.data(), n, b.data(), n, 0.0f, c.data(), n);
    benchmark::DoNotOptimize(c.data());
  }
  flops(state, n);
}

BENCHMARK(BM_NxMatmulOnednn)->Arg(64)->Arg(256)->Arg(1024)->Arg(2048)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_RawDnnlSgemm)->Arg(64)->Arg(256)->Arg(1024)->Arg(2048)->Unit(benchmark::kMicrosecond);

}  // namespace
