// Fixed costs: eager dispatch of a tiny op, and a jit call that hits the cache.
// Run: ./build/release/benchmarks/nx_bench_dispatch --benchmark_format=json
#include <benchmark/benchmark.h>

#include <nx/nx.hpp>

namespace {

void BM_EagerAddOneElement(benchmark::State& state) {
  nx::Tensor a = nx::tensor({1.0}), b = nx::tensor({2.0});
  for (auto _ : state) benchmark::DoNotOptimize(a + b);
}
BENCHMARK(BM_EagerAddOneElement);

void BM_EagerAddScalar(benchmark::State& state) {
  nx::Tensor a = nx::tensor({1.0});
  for (auto _ : state) benchmark::DoNotOptimize(a + 2.0);
}
BENCHMARK(BM_EagerAddScalar);

void BM_JitCacheHitOneElement(benchmark::State& state) {
  auto f = nx::jit([](const nx::Tensor& a, const nx::Tensor& b) { return a + b; });
  nx::Tensor a = nx::tensor({1.0}), b = nx::tensor({2.0});
  f(a, b);
  for (auto _ : state) benchmark::DoNotOptimize(f(a, b));
  state.counters["compiles"] = static_cast<double>(f.compiles());
}
BENCHMARK(BM_JitCacheHitOneElement);

void BM_JitCacheHitParamTree(benchmark::State& state) {
  using Params = std::map<std::string, nx::Tensor>;
  auto f = nx::jit([](const Params& p, const nx::Tensor& x) { return nx::dot(x, p.at("w")) + p.at("b"); });
  Params p{{"w", nx::ones({4, 2})}, {"b", nx::zeros({2})}};
  nx::Tensor x = nx::ones({1, 4});
  f(p, x);
  for (auto _ : state) benchmark::DoNotOptimize(f(p, x));
}
BENCHMARK(BM_JitCacheHitParamTree);

}  // namespace
