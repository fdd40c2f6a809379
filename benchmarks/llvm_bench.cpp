// The llvm backend's fused kernels beside hand-written loops (benchmarks/hand_kernels.cpp:
// AVX2 intrinsics), Eigen and interp in the same run, all on two threads:
//   16M f32 y = (a*x + b)*c + x (exact arithmetic) and TARGETS.md's y = tanh(a*x + b)*c + x;
//   row softmax of 4096 x 4096 f32; the sum of 16M f32 beside STREAM's triad bandwidth;
//   the compile latency of a fresh kernel; an f32 matmul on oneDNN and on the backend's
//   own GEMM (the path of builds without oneDNN).
// Run: ./build/release/benchmarks/nx_bench_llvm (scripts/bench_llvm.sh adds numpy, PyTorch, JAX)
#include <benchmark/benchmark.h>

#include <cmath>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

#include <Eigen/Core>
#include <nx/nx.hpp>

#include "hand_kernels.hpp"

namespace {

constexpr int64_t kN = 16 << 20;

nx::Tensor chain(const nx::Tensor& x) { return (x * 1.5f + 0.25f) * 0.75f + x; }
nx::Tensor tanh_chain(const nx::Tensor& x) { return nx::tanh(x * 1.5f + 0.25f) * 0.75f + x; }

void bytes(benchmark::State& state) {
  state.counters["GB/s"] = benchmark::Counter(8.0 * kN, benchmark::Counter::kIsIterationInvariantRate,
                                              benchmark::Counter::kIs1000);
}

// Runs body(begin, end) over [0, n) split in two halves, one per thread. A thread is
// started per call (tens of microseconds) rather than kept spinning, as OpenMP's are,
// which would take a core from whatever runs next.
template <class F> void halves(int64_t n, F body) {
  std::thread second([&] { body(n / 2, n); });
  body(0, n / 2);
  second.join();
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
    halves(kN, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) y[i] = (x[i] * 1.5f + 0.25f) * 0.75f + x[i];
    });
    benchmark::DoNotOptimize(y.data());
  }
  bytes(state);
}
BENCHMARK(BM_ChainHandWritten)->Unit(benchmark::kMillisecond);

// The same with std::tanh, as a C++ programmer first writes it (g++ -O3 calls tanhf per element).
void BM_TanhChainStdTanh(benchmark::State& state) {
  std::vector<float> x(kN, 0.5f), y(kN);
  for (auto _ : state) {
    halves(kN, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) y[i] = std::tanh(x[i] * 1.5f + 0.25f) * 0.75f + x[i];
    });
    benchmark::DoNotOptimize(y.data());
  }
  bytes(state);
}
BENCHMARK(BM_TanhChainStdTanh)->Unit(benchmark::kMillisecond);


// The anchor TARGETS.md names: AVX2 rational tanh, FMAs, streaming stores.
void BM_TanhChainHandWritten(benchmark::State& state) {
  nx::Tensor in = nx::random::uniform(nx::random::key(1), {kN});
  std::vector<float> x = in.to_vector<float>(), y(kN);
  for (auto _ : state) {
    halves(kN, [&](int64_t b, int64_t e) { hand::tanh_chain(x.data(), y.data(), b, e, 1.5f, 0.25f, 0.75f); });
    benchmark::DoNotOptimize(y.data());
  }
  bytes(state);
}
BENCHMARK(BM_TanhChainHandWritten)->Unit(benchmark::kMillisecond);

void BM_TanhChainEigen(benchmark::State& state) {
  Eigen::ArrayXf x = Eigen::ArrayXf::Random(kN), y(kN);
  for (auto _ : state) {
    halves(kN, [&](int64_t b, int64_t e) {
      auto xs = x.segment(b, e - b);
      y.segment(b, e - b) = (xs * 1.5f + 0.25f).tanh() * 0.75f + xs;
    });
    benchmark::DoNotOptimize(y.data());
  }
  bytes(state);
}
BENCHMARK(BM_TanhChainEigen)->Unit(benchmark::kMillisecond);

constexpr int64_t kRows = 4096, kCols = 4096;

void BM_SoftmaxNx(benchmark::State& state, const char* backend) {
  nx::Tensor x = nx::random::normal(nx::random::key(3), {kRows, kCols});
  auto f = nx::jit([](const nx::Tensor& t) { return nx::softmax(t); }, {.backend = backend});
  f(x);
  for (auto _ : state) benchmark::DoNotOptimize(f(x));
  state.counters["GB/s"] = benchmark::Counter(8.0 * kRows * kCols, benchmark::Counter::kIsIterationInvariantRate,
                                              benchmark::Counter::kIs1000);
}
BENCHMARK_CAPTURE(BM_SoftmaxNx, llvm, "llvm")->Unit(benchmark::kMillisecond);

void BM_SoftmaxHandWritten(benchmark::State& state) {
  std::vector<float> x = nx::random::normal(nx::random::key(3), {kRows, kCols}).to_vector<float>(), y(x.size());
  for (auto _ : state) {
    halves(kRows, [&](int64_t b, int64_t e) { hand::softmax_rows(x.data(), y.data(), b, e, kCols); });
    benchmark::DoNotOptimize(y.data());
  }
  state.counters["GB/s"] = benchmark::Counter(8.0 * kRows * kCols, benchmark::Counter::kIsIterationInvariantRate,
                                              benchmark::Counter::kIs1000);
}
BENCHMARK(BM_SoftmaxHandWritten)->Unit(benchmark::kMillisecond);

void read_bytes(benchmark::State& state, double per_element) {
  state.counters["GB/s"] = benchmark::Counter(per_element * kN, benchmark::Counter::kIsIterationInvariantRate,
                                              benchmark::Counter::kIs1000);
}

void BM_SumNx(benchmark::State& state) {
  nx::Tensor x = nx::random::uniform(nx::random::key(4), {kN});
  auto f = nx::jit([](const nx::Tensor& t) { return nx::sum(t); }, {.backend = "llvm"});
  f(x);
  for (auto _ : state) benchmark::DoNotOptimize(f(x));
  read_bytes(state, 4);
}
BENCHMARK(BM_SumNx)->Unit(benchmark::kMillisecond);

void BM_SumHandWritten(benchmark::State& state) {
  std::vector<float> x = nx::random::uniform(nx::random::key(4), {kN}).to_vector<float>();
  for (auto _ : state) {
    double part[2];
    halves(kN, [&](int64_t b, int64_t e) { part[b ? 1 : 0] = hand::sum(x.data(), b, e); });
    benchmark::DoNotOptimize(part[0] + part[1]);
  }
  read_bytes(state, 4);
}
BENCHMARK(BM_SumHandWritten)->Unit(benchmark::kMillisecond);

// STREAM's triad, counted as STREAM counts it (12 bytes per element): the bandwidth
// the sum is held to.
void BM_Triad(benchmark::State& state) {
  std::vector<float> a(kN), b(kN, 1.0f), c(kN, 2.0f);
  for (auto _ : state) {
    halves(kN, [&](int64_t lo, int64_t hi) { hand::triad(a.data(), b.data(), c.data(), 3.0f, lo, hi); });
    benchmark::DoNotOptimize(a.data());
  }
  read_bytes(state, 12);
}
BENCHMARK(BM_Triad)->Unit(benchmark::kMillisecond);

// A kernel never seen before (the bits of a counter pick 16 ops, so each iteration's
// kernel is new): trace + partition + emit + O3 + machine code + one run on 16384 floats.
void BM_CompileFreshKernel(benchmark::State& state) {
  nx::Tensor x = nx::ones({16384});  // large enough to run as a kernel (smaller eager work runs on interp)
  static uint32_t counter = 0;
  std::string cache = nx::llvm_jit::disk_cache();
  nx::llvm_jit::set_disk_cache("");  // a compile, not a load from an earlier run's cache
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
  nx::llvm_jit::set_disk_cache(cache);
  double n = double(after.kernels - before.kernels);
  state.counters["emit_ms"] = (after.emit_ms - before.emit_ms) / n;
  state.counters["optimize_ms"] = (after.optimize_ms - before.optimize_ms) / n;
  state.counters["codegen_ms"] = (after.codegen_ms - before.codegen_ms) / n;
}
BENCHMARK(BM_CompileFreshKernel)->Unit(benchmark::kMillisecond);

// n x n f32 matmul: oneDNN's (through the llvm backend) against our blocked GEMM.
void BM_Matmul(benchmark::State& state, bool onednn) {
  int64_t n = state.range(0);
  nx::Tensor a = nx::random::normal(nx::random::key(1), {n, n}), b = nx::random::normal(nx::random::key(2), {n, n});
  bool was = nx::llvm_jit::use_onednn();
  nx::llvm_jit::set_use_onednn(onednn);
  auto f = nx::jit([](const nx::Tensor& x, const nx::Tensor& y) { return nx::dot(x, y); }, {.backend = "llvm"});
  f(a, b);
  for (auto _ : state) benchmark::DoNotOptimize(f(a, b));
  nx::llvm_jit::set_use_onednn(was);
  state.counters["GFLOP/s"] = benchmark::Counter(2.0 * double(n) * double(n) * double(n), benchmark::Counter::kIsIterationInvariantRate,
                                                 benchmark::Counter::kIs1000);
}
BENCHMARK_CAPTURE(BM_Matmul, onednn, true)->Arg(512)->Arg(1024)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Matmul, own_gemm, false)->Arg(512)->Arg(1024)->UseRealTime()->Unit(benchmark::kMillisecond);

}  // namespace
