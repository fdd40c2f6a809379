// The oneDNN path against raw oneDNN in the same run: f32 matmul at 256/1024/2048 through
// nx::jit on the onednn backend vs dnnl_sgemm on the same buffers, and the per-call
// overhead on a 64x64 matmul; a 2-d convolution beside the raw primitive. Floor: the flops
// at the FMA peak (docs/PERFORMANCE.md).
// Run: ./build/release/benchmarks/nx_bench_onednn
#include <benchmark/benchmark.h>
#include <oneapi/dnnl/dnnl.h>
#include <oneapi/dnnl/dnnl.hpp>

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

// conv2d forward, N128 C32 28x28, K64 3x3, padding 1: nx (row-major in and out, reordered
// at the boundary) vs the raw primitive on inputs already in its preferred layouts.
constexpr int64_t kN = 128, kC = 32, kHW = 28, kK = 64;

void conv_flops(benchmark::State& state) {
  state.counters["GFLOP/s"] = benchmark::Counter(2.0 * kN * kK * kHW * kHW * kC * 9,
                                                 benchmark::Counter::kIsIterationInvariantRate, benchmark::Counter::kIs1000);
}

void BM_NxConv2dOnednn(benchmark::State& state) {
  nx::Tensor x = nx::random::uniform(nx::random::key(3), {kN, kC, kHW, kHW});
  nx::Tensor k = nx::random::uniform(nx::random::key(4), {kK, kC, 3, 3});
  auto f = nx::jit([](const nx::Tensor& a, const nx::Tensor& b) { return nx::conv(a, b, {.padding = nx::PaddingMode::same}); },
                   {.backend = "onednn"});
  f(x, k);
  for (auto _ : state) benchmark::DoNotOptimize(f(x, k));
  conv_flops(state);
}
BENCHMARK(BM_NxConv2dOnednn)->Unit(benchmark::kMillisecond);

void BM_RawDnnlConv2d(benchmark::State& state) {
  using namespace dnnl;
  using tag = memory::format_tag;
  engine eng(engine::kind::cpu, 0);
  stream s(eng);
  memory::dims xd{kN, kC, kHW, kHW}, kd{kK, kC, 3, 3}, yd{kN, kK, kHW, kHW};
  auto any = [](const memory::dims& d) { return memory::desc(d, memory::data_type::f32, tag::any); };
  convolution_forward::desc d(prop_kind::forward_inference, algorithm::convolution_direct, any(xd), any(kd), any(yd),
                              {1, 1}, {0, 0}, {1, 1}, {1, 1});
  convolution_forward::primitive_desc pd(d, eng);
  convolution_forward conv(pd);
  memory x(pd.src_desc(), eng), k(pd.weights_desc(), eng), y(pd.dst_desc(), eng);
  for (auto _ : state) {
    conv.execute(s, {{DNNL_ARG_SRC, x}, {DNNL_ARG_WEIGHTS, k}, {DNNL_ARG_DST, y}});
    s.wait();
  }
  conv_flops(state);
}
BENCHMARK(BM_RawDnnlConv2d)->Unit(benchmark::kMillisecond);

}  // namespace
