// The llvm backend's fused elementwise kernels beside hand-written loops and interp in
// the same run, over 16M f32 (one kernel, ~128 MB of traffic each): y = (a*x + b)*c + x
// (exact arithmetic) and TARGETS.md's y = tanh(a*x + b)*c + x; and the compile latency
// of a fresh kernel.
// Run: ./build/release/benchmarks/nx_bench_llvm
#include <benchmark/benchmark.h>

#include <cmath>
#include <cstdint>
#include <vector>

#include <nx/nx.hpp>

namespace {

constexpr int64_t kN = 16 << 20;

nx::Tensor chain(const nx::Tensor& x) { return (x * 1.5f + 0.25f) * 0.75f + x; }
nx::Tensor tanh_chain(const nx::Tensor& x) { return nx::tanh(x * 1.5f + 0.25f) * 0.75f + x; }

void bytes(benchmark::State& state) {
  state.counters["GB/s"] = benchmark::Counter(8.0 * kN, benchmark::Counter::kIsIterationInvariantRate,
                                              benchmark::Counter::kIs1000);
}

void BM_ChainNx(benchmark::State& state, const char* backend, bool with_tanh) {
  nx::Tensor x = nx::random::uniform(nx::random::key(1), {kN});
  auto f = nx::jit(with_tanh ? tanh_chain : chain, {.backend = backend});
  f(x);
  for (auto _ : state) benchmark::DoNotOptimize(f(x));
  bytes(state);
}
BENCHMARK_CAPTURE(BM_ChainNx, llvm, "llvm", false)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_ChainNx, interp, "interp", false)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_ChainNx, tanh_llvm, "llvm", true)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_ChainNx, tanh_interp, "interp", true)->Unit(benchmark::kMillisecond);

// The loop a C++ programmer writes by hand, on two threads like the kernel, into a
// preallocated output.
void BM_ChainHandWritten(benchmark::State& state) {
  std::vector<float> x(kN, 0.5f), y(kN);
  for (auto _ : state) {
#pragma omp parallel for num_threads(2)
    for (int64_t i = 0; i < kN; ++i) y[i] = (x[i] * 1.5f + 0.25f) * 0.75f + x[i];
    benchmark::DoNotOptimize(y.data());
  }
  bytes(state);
}
BENCHMARK(BM_ChainHandWritten)->Unit(benchmark::kMillisecond);

// The same with std::tanh, as a C++ programmer writes it (g++ -O3 calls tanhf per element).
void BM_TanhChainHandWritten(benchmark::State& state) {
  std::vector<float> x(kN, 0.5f), y(kN);
  for (auto _ : state) {
#pragma omp parallel for num_threads(2)
    for (int64_t i = 0; i < kN; ++i) y[i] = std::tanh(x[i] * 1.5f + 0.25f) * 0.75f + x[i];
    benchmark::DoNotOptimize(y.data());
  }
  bytes(state);
}
BENCHMARK(BM_TanhChainHandWritten)->Unit(benchmark::kMillisecond);

// A kernel never seen before (the bits of a counter pick 16 ops, so each iteration's
// kernel is new): trace + partition + emit + O3 + machine code + one run on 1024 floats.
void BM_CompileFreshKernel(benchmark::State& state) {
  nx::Tensor x = nx::ones({1024});
  static uint32_t counter = 0;
  nx::llvm_jit::CompileStats before = nx::llvm_jit::compile_stats();
  for (auto _ : state) {
    uint32_t bits = ++counter;
    auto f = nx::jit([bits](const nx::Tensor& t) {
      nx::Tensor y = t;
      for (int i = 0; i < 16; ++i) y = (bits >> i) & 1 ? y * 1.5f : nx::abs(y - 0.5f);
      return nx::sqrt(y);
    }, {.backend = "llvm"});
    benchmark::DoNotOptimize(f(x));
  }
  nx::llvm_jit::CompileStats after = nx::llvm_jit::compile_stats();
  double n = double(after.kernels - before.kernels);
  state.counters["emit_ms"] = (after.emit_ms - before.emit_ms) / n;
  state.counters["optimize_ms"] = (after.optimize_ms - before.optimize_ms) / n;
  state.counters["codegen_ms"] = (after.codegen_ms - before.codegen_ms) / n;
}
BENCHMARK(BM_CompileFreshKernel)->Unit(benchmark::kMillisecond);

}  // namespace
