// One Adam training step (forward, loss, backward, update in one compiled graph) of the
// MLP 784-512-512-10 and the CNN c32-p-c64-p-fc128-fc10 at batch 128, through
// nx::train's loop as a user runs it. Reported per step (manual time: a run of 16 steps).
// Peers: benchmarks/peers_train.py; both: scripts/bench_train.sh.
#include <benchmark/benchmark.h>

#include <chrono>

#include "train_models.hpp"

namespace {

constexpr int64_t kSteps = 16;

void run_steps(benchmark::State& state, const bench::nn::Model& model, const nx::Shape& example) {
  nx::train::DataSource data = bench::fixed_batches(example, kSteps);
  bench::nn::Variables vars = bench::nn::init(model, nx::random::key(0), nx::zeros(example));
  auto loop = nx::train::trainer(model, bench::sparse_ce, nx::optim::adam(1e-3)).progress({.enabled = false});
  loop.run(data, vars, {.epochs = 1});  // compiles
  for (auto _ : state) {
    auto t = std::chrono::steady_clock::now();
    nx::train::TrainResult r = loop.run(data, vars, {.epochs = 1});
    state.SetIterationTime(std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count() / kSteps);
    benchmark::DoNotOptimize(r);
  }
  state.counters["examples_per_s"] = benchmark::Counter(128.0, benchmark::Counter::kIsIterationInvariantRate);
}

void BM_MlpAdamStep(benchmark::State& state) { run_steps(state, bench::mlp_model(), {128, 784}); }
void BM_CnnAdamStep(benchmark::State& state) { run_steps(state, bench::cnn_model(), {128, 1, 28, 28}); }

}  // namespace

BENCHMARK(BM_MlpAdamStep)->UseManualTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_CnnAdamStep)->UseManualTime()->Unit(benchmark::kMillisecond);
