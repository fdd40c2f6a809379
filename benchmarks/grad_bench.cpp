// value_and_grad of an MLP loss (784-512-512-10, batch 128) next to the forward pass:
// graph sizes after simplification, trace time, cold (trace + optimise + compile + run) and
// warm times. The interp backend runs the graphs here; the LLVM backend (issue 6) will.
// Run: ./build/release/benchmarks/nx_bench_grad --benchmark_format=json
#include <benchmark/benchmark.h>

#include <cmath>
#include <map>
#include <string>

#include <nx/nx.hpp>

namespace {

using Params = std::map<std::string, nx::Tensor>;

nx::Tensor mlp_loss(const Params& p, const nx::Tensor& x, const nx::Tensor& onehot) {
  nx::Tensor h = nx::max(nx::dot(x, p.at("w1")) + p.at("b1"), 0.0);
  h = nx::max(nx::dot(h, p.at("w2")) + p.at("b2"), 0.0);
  nx::Tensor logits = nx::dot(h, p.at("w3")) + p.at("b3");
  return -nx::mean(nx::sum(onehot * nx::log_softmax(logits), {.axes = {1}}));
}

struct Inputs {
  Params p;
  nx::Tensor x, onehot;
};

const Inputs& inputs() {
  static const Inputs in = [] {
    auto k = [](int i) { return nx::random::key(i); };
    auto w = [&](int i, int64_t a, int64_t b) -> nx::Tensor { return nx::random::normal(k(i), {a, b}) * (1.0 / std::sqrt(double(a))); };
    Inputs r;
    r.p = {{"w1", w(1, 784, 512)}, {"b1", nx::zeros({512})}, {"w2", w(2, 512, 512)},
           {"b2", nx::zeros({512})},  {"w3", w(3, 512, 10)},  {"b3", nx::zeros({10})}};
    r.x = nx::random::uniform(k(4), {128, 784});
    r.onehot = nx::one_hot(nx::random::randint(k(5), {128}, 0, 10), 10);
    return r;
  }();
  return in;
}

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
