// f32 matrix products against this machine's FMA peak, measured in the same run: square
// n x n (256, 1024, 2048) and the MLP training step's shapes (x @ w at batch 128, the
// weight gradient x^T @ g, the input gradient g @ w^T), through nx::jit on the llvm
// backend with each micro-kernel of its own GEMM and with oneDNN, beside raw dnnl_sgemm.
// Run: ./build/release/benchmarks/nx_bench_gemm (scripts/bench_speed.sh prints the table).
#include <benchmark/benchmark.h>

#include <thread>
#include <vector>
#if NX_BENCH_DNNL
#include <oneapi/dnnl/dnnl.h>
#endif

#include <nx/nx.hpp>

#include "fma_peak.hpp"

namespace {

int cores() { return static_cast<int>(std::max(1u, std::thread::hardware_concurrency())); }

void BM_FmaPeak(benchmark::State& state) {
  int bits = static_cast<int>(state.range(0));
  double best = 0;
  for (auto _ : state) best = std::max(best, bench::fma_peak_gflops(bits, cores()));
  if (best == 0) state.SkipWithError("this CPU lacks the vector width");
  state.counters["GFLOP/s"] = best;
}
BENCHMARK(BM_FmaPeak)->Arg(256)->Arg(512)->Iterations(3)->Unit(benchmark::kMillisecond);

// Shapes: (m, k, n, a transposed, b transposed).
void shapes(benchmark::internal::Benchmark* b) {
  for (int64_t n : {256, 1024, 2048}) b->Args({n, n, n, 0, 0});
  b->Args({128, 784, 512, 0, 0});  // x @ w
  b->Args({784, 128, 512, 1, 0});  // x^T @ g
  b->Args({128, 512, 784, 0, 1});  // g @ w^T
}

void gflops(benchmark::State& state) {
  double flops = 2.0 * double(state.range(0)) * double(state.range(1)) * double(state.range(2));
  state.counters["GFLOP/s"] = benchmark::Counter(flops, benchmark::Counter::kIsIterationInvariantRate, benchmark::Counter::kIs1000);
}

// path: "onednn", or a micro-kernel of the own GEMM; operands and result of `dtype`.
void BM_Gemm(benchmark::State& state, const std::string& path, nx::DType dtype = nx::f32) {
  int64_t m = state.range(0), k = state.range(1), n = state.range(2);
  bool ta = state.range(3) != 0, tb = state.range(4) != 0;
  std::vector<std::string> have = nx::llvm_jit::gemm_kernels();
  if (path != "onednn" && std::find(have.begin(), have.end(), path) == have.end()) {
    state.SkipWithError("this CPU lacks the micro-kernel");
    return;
  }
  nx::Tensor a = nx::as_type(nx::random::normal(nx::random::key(1), ta ? nx::Shape{k, m} : nx::Shape{m, k}), dtype);
  nx::Tensor b = nx::as_type(nx::random::normal(nx::random::key(2), tb ? nx::Shape{n, k} : nx::Shape{k, n}), dtype);
  auto f = nx::jit([ta, tb](const nx::Tensor& x, const nx::Tensor& y) {
    return nx::dot_general(x, y, {.contract_a = {ta ? 0 : 1}, .contract_b = {tb ? 1 : 0}});
  }, {.backend = "llvm"});
  bool was = nx::llvm_jit::use_onednn();
  std::string kernel = nx::llvm_jit::gemm_kernel();
  nx::llvm_jit::set_use_onednn(path == "onednn");
  if (path != "onednn") nx::llvm_jit::set_gemm_kernel(path);
  f(a, b);
  for (auto _ : state) benchmark::DoNotOptimize(f(a, b));
  nx::llvm_jit::set_use_onednn(was);
  nx::llvm_jit::set_gemm_kernel(kernel);
  gflops(state);
}
BENCHMARK_CAPTURE(BM_Gemm, avx512, "avx512")->Apply(shapes)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Gemm, avx2, "avx2")->Apply(shapes)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Gemm, onednn, "onednn")->Apply(shapes)->UseRealTime()->Unit(benchmark::kMillisecond);
// bf16 in and out (f32 accumulation), squares only.
void squares(benchmark::internal::Benchmark* b) {
  for (int64_t n : {256, 1024, 2048}) b->Args({n, n, n, 0, 0});
}
BENCHMARK_CAPTURE(BM_Gemm, avx512_bf16, "avx512", nx::bf16)->Apply(squares)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Gemm, onednn_bf16, "onednn", nx::bf16)->Apply(squares)->UseRealTime()->Unit(benchmark::kMillisecond);

#if NX_BENCH_DNNL
void BM_RawDnnlSgemm(benchmark::State& state) {
  int64_t m = state.range(0), k = state.range(1), n = state.range(2);
  bool ta = state.range(3) != 0, tb = state.range(4) != 0;
  std::vector<float> a(static_cast<size_t>(m * k), 0.5f), b(static_cast<size_t>(k * n), 0.25f), c(static_cast<size_t>(m * n));
  for (auto _ : state) {
    dnnl_sgemm(ta ? 'T' : 'N', tb ? 'T' : 'N', m, n, k, 1.0f, a.data(), ta ? m : k, b.data(), tb ? k : n, 0.0f, c.data(), n);
    benchmark::DoNotOptimize(c.data());
  }
  gflops(state);
}
BENCHMARK(BM_RawDnnlSgemm)->Apply(shapes)->UseRealTime()->Unit(benchmark::kMillisecond);
#endif

}  // namespace
