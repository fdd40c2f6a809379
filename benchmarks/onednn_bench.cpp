// The oneDNN path against raw oneDNN and OpenBLAS in the same run: f32 matmul at
// 256/1024/2048 through nx::jit on the onednn backend vs dnnl_sgemm and cblas_sgemm on
// the same sizes, and the per-call overhead on a 64x64 matmul; a 2-d convolution forward
// and both backward passes beside the raw primitives. Floor: the flops
// at the FMA peak (docs/PERFORMANCE.md).
// Run: ./build/release/benchmarks/nx_bench_onednn
#include <benchmark/benchmark.h>
#include <oneapi/dnnl/dnnl.h>
#include <oneapi/dnnl/dnnl.hpp>

#include <algorithm>
#include <array>
#include <functional>
#include <unordered_map>
#include <vector>
#if NX_BENCH_OPENBLAS
#include <cblas.h>
#endif

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

#if NX_BENCH_OPENBLAS
void BM_OpenblasSgemm(benchmark::State& state) {
  int n = static_cast<int>(state.range(0));
  std::vector<float> a(static_cast<size_t>(n * n), 0.5f), b(a), c(a.size());
  for (auto _ : state) {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0f, a.data(), n, b.data(), n, 0.0f, c.data(), n);
    benchmark::DoNotOptimize(c.data());
  }
  flops(state, n);
}
BENCHMARK(BM_OpenblasSgemm)->Arg(64)->Arg(256)->Arg(1024)->Arg(2048)->Unit(benchmark::kMicrosecond);
#endif

// conv2d N128 C32 28x28, K64 3x3, padding 1: forward and both backward passes. nx takes
// and returns row-major NCHW tensors (gradients through nx::grad, jitted on onednn).
constexpr int64_t kN = 128, kC = 32, kHW = 28, kK = 64;

void conv_flops(benchmark::State& state) {
  state.counters["GFLOP/s"] = benchmark::Counter(2.0 * kN * kK * kHW * kHW * kC * 9,
                                                 benchmark::Counter::kIsIterationInvariantRate, benchmark::Counter::kIs1000);
}

nx::Tensor conv_same(const nx::Tensor& x, const nx::Tensor& k) { return nx::conv(x, k, {.padding = nx::PaddingMode::same}); }
nx::Tensor conv_loss(const nx::Tensor& x, const nx::Tensor& k, const nx::Tensor& g) { return nx::sum(conv_same(x, k) * g); }

// pass 0: forward, 1: backward data, 2: backward weights; winograd 0: direct only
// (nx::onednn::set_allow_winograd(false)), 1: oneDNN's choice (the default).
void BM_NxConv2dOnednn(benchmark::State& state) {
  struct Allow {
    explicit Allow(bool on) { nx::onednn::set_allow_winograd(on); }
    ~Allow() { nx::onednn::set_allow_winograd(true); }
  } allow(state.range(1) == 1);
  nx::Tensor x = nx::random::uniform(nx::random::key(3), {kN, kC, kHW, kHW});
  nx::Tensor k = nx::random::uniform(nx::random::key(4), {kK, kC, 3, 3});
  nx::Tensor g = nx::random::uniform(nx::random::key(5), {kN, kK, kHW, kHW});
  std::function<nx::Tensor(const nx::Tensor&, const nx::Tensor&, const nx::Tensor&)> pass;
  if (state.range(0) == 0) pass = [](const nx::Tensor& a, const nx::Tensor& b, const nx::Tensor&) { return conv_same(a, b); };
  if (state.range(0) == 1) pass = nx::grad<0>(conv_loss);
  if (state.range(0) == 2) pass = nx::grad<1>(conv_loss);
  auto f = nx::jit(pass, {.backend = "onednn"});
  f(x, k, g);
  for (auto _ : state) benchmark::DoNotOptimize(f(x, k, g));
  conv_flops(state);
}
BENCHMARK(BM_NxConv2dOnednn)
    ->ArgsProduct({{0, 1, 2}, {0, 1}})
    ->ArgNames({"pass", "winograd"})
    ->Unit(benchmark::kMillisecond);

// The raw primitives, range(1) = 0: on operands already in the blocked layouts they
// prefer (the floor); 1: from and to row-major NCHW/OIHW buffers, reordering as a oneDNN
// user with such tensors must (the like-for-like comparison with nx).
// The primitives of a 3x3, padding-1 conv2d (n, c -> k channels, hw x hw) as raw oneDNN
// runs them; pass as above, from_plain: reorders from and to NCHW included, winograd: as
// BM_RawDnnlConv2d's range(2).
void raw_conv(benchmark::State& state, int64_t n, int64_t c, int64_t k, int64_t hw, int64_t pass_index, bool from_nchw,
              bool wino) {
  using namespace dnnl;
  using tag = memory::format_tag;
  engine eng(engine::kind::cpu, 0);
  stream s(eng);
  memory::dims xd{n, c, hw, hw}, kd{k, c, 3, 3}, yd{n, k, hw, hw}, one{1, 1}, zero{0, 0};
  auto any = [](const memory::dims& d) { return memory::desc(d, memory::data_type::f32, tag::any); };
  auto plain = [&](const memory::dims& d) { return memory(memory::desc(d, memory::data_type::f32, tag::abcd), eng); };
  // range(2) = 1: oneDNN's own choice of algorithm (Winograd on AVX-512 for this shape;
  // only forward_training takes it), as nx does by default.
  bool winograd = wino;
  algorithm alg = winograd ? algorithm::convolution_auto : algorithm::convolution_direct;
  auto fwd = [&](prop_kind prop) {
    return convolution_forward::primitive_desc(convolution_forward::desc(prop, alg, any(xd), any(kd), any(yd), one, zero, one, one),
                                               eng);
  };
  auto hint = fwd(prop_kind::forward_training);
  bool from_plain = from_nchw;
  // Each operand: (argument, its blocked memory, its plain memory, true for inputs).
  struct Operand {
    int arg;
    memory blocked, plain;
    bool input;
  };
  std::vector<Operand> ops;
  primitive prim;
  if (pass_index == 0) {
    auto pd = fwd(winograd ? prop_kind::forward_training : prop_kind::forward_inference);
    prim = convolution_forward(pd);
    ops = {{DNNL_ARG_SRC, memory(pd.src_desc(), eng), plain(xd), true},
           {DNNL_ARG_WEIGHTS, memory(pd.weights_desc(), eng), plain(kd), true},
           {DNNL_ARG_DST, memory(pd.dst_desc(), eng), plain(yd), false}};
  } else if (pass_index == 1) {
    convolution_backward_data::primitive_desc pd(
        convolution_backward_data::desc(alg, any(xd), any(kd), any(yd), one, zero, one, one), eng,
        hint);
    prim = convolution_backward_data(pd);
    ops = {{DNNL_ARG_DIFF_DST, memory(pd.diff_dst_desc(), eng), plain(yd), true},
           {DNNL_ARG_WEIGHTS, memory(pd.weights_desc(), eng), plain(kd), true},
           {DNNL_ARG_DIFF_SRC, memory(pd.diff_src_desc(), eng), plain(xd), false}};
  } else {
    convolution_backward_weights::primitive_desc pd(
        convolution_backward_weights::desc(alg, any(xd), any(kd), any(yd), one, zero, one, one),
        eng, hint);
    prim = convolution_backward_weights(pd);
    ops = {{DNNL_ARG_SRC, memory(pd.src_desc(), eng), plain(xd), true},
           {DNNL_ARG_DIFF_DST, memory(pd.diff_dst_desc(), eng), plain(yd), true},
           {DNNL_ARG_DIFF_WEIGHTS, memory(pd.diff_weights_desc(), eng), plain(kd), false}};
  }
  // Inputs hold ordinary numbers (uninitialised memory may hold denormals or NaNs, which
  // change the speed from run to run), in both layouts.
  for (Operand& o : ops) {
    auto* p = static_cast<float*>(o.plain.get_data_handle());
    std::fill(p, p + o.plain.get_desc().get_size() / sizeof(float), 0.5f);
    reorder(o.plain, o.blocked).execute(s, o.plain, o.blocked);
  }
  s.wait();
  std::unordered_map<int, memory> args;
  for (Operand& o : ops) args[o.arg] = o.blocked;
  for (auto _ : state) {
    if (from_plain)
      for (Operand& o : ops)
        if (o.input) reorder(o.plain, o.blocked).execute(s, o.plain, o.blocked);
    prim.execute(s, args);
    if (from_plain)
      for (Operand& o : ops)
        if (!o.input) reorder(o.blocked, o.plain).execute(s, o.blocked, o.plain);
    s.wait();
  }
  state.counters["GFLOP/s"] = benchmark::Counter(2.0 * double(n * k * hw * hw * c * 9), benchmark::Counter::kIsIterationInvariantRate,
                                                 benchmark::Counter::kIs1000);
}
void BM_RawDnnlConv2d(benchmark::State& state) {
  raw_conv(state, kN, kC, kK, kHW, state.range(0), state.range(1) == 1, state.range(2) == 1);
}
BENCHMARK(BM_RawDnnlConv2d)
    ->ArgsProduct({{0, 1, 2}, {0, 1}, {0, 1}})
    ->ArgNames({"pass", "from_nchw", "winograd"})
    ->Unit(benchmark::kMillisecond);

// Direct against Winograd (oneDNN's choice) on preblocked operands, per shape: the table
// behind the 32-channel rule (docs/PERFORMANCE.md). Args: n, c, k, hw, pass, winograd.
void BM_RawDnnlConvAlgorithms(benchmark::State& state) {
  raw_conv(state, state.range(0), state.range(1), state.range(2), state.range(3), state.range(4), false,
           state.range(5) == 1);
}
void conv_shapes(benchmark::internal::Benchmark* b) {
  for (auto [n, c, k, hw] : std::vector<std::array<int64_t, 4>>{
           {128, 1, 32, 28}, {64, 16, 16, 56}, {64, 16, 32, 28}, {128, 32, 64, 14}, {64, 64, 64, 28}, {32, 64, 64, 56}, {64, 128, 128, 7}})
    for (int64_t pass : {0, 1, 2})
      for (int64_t wino : {0, 1})
        if (pass != 1 || c >= 16) b->Args({n, c, k, hw, pass, wino});  // oneDNN's direct backward data of 1 channel takes seconds
}
BENCHMARK(BM_RawDnnlConvAlgorithms)
    ->Apply(conv_shapes)
    ->ArgNames({"n", "c", "k", "hw", "pass", "winograd"})
    ->Unit(benchmark::kMillisecond);

}  // namespace

namespace {
// The matmul primitive nx calls, on the same buffers: separates nx's overhead from the
// primitive's speed.
void BM_RawDnnlMatmulPrimitive(benchmark::State& state) {
  using namespace dnnl;
  int64_t n = state.range(0);
  engine eng(engine::kind::cpu, 0);
  stream s(eng);
  memory::desc d({n, n}, memory::data_type::f32, memory::format_tag::ab);
  matmul mm(matmul::primitive_desc(matmul::desc(d, d, d), eng));
  memory a(d, eng), b(d, eng), c(d, eng);
  for (auto _ : state) {
    mm.execute(s, {{DNNL_ARG_SRC, a}, {DNNL_ARG_WEIGHTS, b}, {DNNL_ARG_DST, c}});
    s.wait();
  }
  flops(state, n);
}
BENCHMARK(BM_RawDnnlMatmulPrimitive)->Arg(64)->Arg(256)->Arg(1024)->Unit(benchmark::kMicrosecond);
}  // namespace
