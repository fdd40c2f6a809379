// value_and_grad of an MLP loss (784-512-512-10, batch 128) next to the forward pass:
// graph sizes after simplification, trace time, cold (trace + optimise + compile + run) and
// warm times, on the default backend (NX_BACKEND picks another).
// Run: ./build/release/benchmarks/nx_bench_grad --benchmark_format=json
#include <benchmark/benchmark.h>

#include <cmath>
#include <map>
#include <string>

#include <nx/nx.hpp>

#include "mlp.hpp"

namespace {

using bench::mlp_loss;

const bench::MlpInputs& inputs() { return bench::mlp_inputs(); }
using Inputs = bench::MlpInputs;

void report_nodes(benchmark::State& state) {
  const Inputs& in = inputs();
  double forward = static_cast<double>(nx::jit(mlp_loss).graph(in.p, in.x, in.onehot).nodes.size());
  double total = static_cast<double>(nx::value_and_grad(mlp_loss).graph(in.p, in.x, in.onehot).nodes.size());
  state.counters["forward_nodes"] = forward;
  state.counters["value_and_grad_nodes"] = total;
  state.counters["backward_over_forward"] = (total - forward) / forward;
}

template <bool Grad> auto make() {
  if constexpr (Grad) return nx::value_and_grad(mlp_loss);
  else return nx::jit(mlp_loss);
}

// A fresh function object each time: nothing cached in memory.
template <bool Grad> void BM_MlpCold(benchmark::State& state) {
  const Inputs& in = inputs();
  for (auto _ : state) {
    auto f = make<Grad>();
    benchmark::DoNotOptimize(f(in.p, in.x, in.onehot));
  }
  report_nodes(state);
}

template <bool Grad> void BM_MlpWarm(benchmark::State& state) {
  const Inputs& in = inputs();
  auto f = make<Grad>();
  f(in.p, in.x, in.onehot);
  for (auto _ : state) benchmark::DoNotOptimize(f(in.p, in.x, in.onehot));
  state.counters["compiles"] = static_cast<double>(f.stats().compiles);
}

// Trace + differentiate + optimise, no backend compile or run: the front end's latency.
template <bool Grad> void BM_MlpTrace(benchmark::State& state) {
  const Inputs& in = inputs();
  for (auto _ : state) benchmark::DoNotOptimize(make<Grad>().graph(in.p, in.x, in.onehot));
}

BENCHMARK(BM_MlpTrace<false>)->Name("BM_MlpForwardTrace")->Unit(benchmark::kMillisecond);
BENCHMARK(BM_MlpTrace<true>)->Name("BM_MlpValueAndGradTrace")->Unit(benchmark::kMillisecond);
BENCHMARK(BM_MlpCold<false>)->Name("BM_MlpForwardCold")->Unit(benchmark::kMillisecond);
BENCHMARK(BM_MlpCold<true>)->Name("BM_MlpValueAndGradCold")->Unit(benchmark::kMillisecond);
BENCHMARK(BM_MlpWarm<false>)->Name("BM_MlpForwardWarm")->Unit(benchmark::kMillisecond);
BENCHMARK(BM_MlpWarm<true>)->Name("BM_MlpValueAndGradWarm")->Unit(benchmark::kMillisecond);

}  // namespace
