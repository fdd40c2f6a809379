// How long the whole training step (forward, loss, backward, Adam update) of the MLP and
// the CNN takes to become runnable, in a fresh process: trace, differentiate, optimise and
// compile (kernels compiled, or loaded from the disk cache): the first step's time less a
// later step's.
// Prints one JSON object. scripts/bench_train.sh runs it with an empty disk cache (cold)
// and again (from the disk cache).
// Run: NX_CACHE_DIR=/tmp/nx-cache ./build/release/benchmarks/nx_train_compile_latency
#include <cstdio>

#include "train_models.hpp"

namespace {
// The first step's time less a later step's: what compiling added.
double compile_ms(const bench::nn::Model& model, const nx::Shape& example) {
  constexpr int64_t steps = 4;
  nx::train::DataSource data = bench::fixed_batches(example, steps);
  bench::nn::Variables vars = bench::nn::init(model, nx::random::key(0), nx::zeros(example));
  auto loop = nx::train::trainer(model, bench::sparse_ce, nx::optim::adam(1e-3)).progress({.enabled = false});
  nx::train::TrainResult r = loop.run(data, vars, {.epochs = 1});
  return (r.compile_seconds - r.train_seconds / double(steps - 1)) * 1e3;
}
}  // namespace

int main() {
  const double mlp = compile_ms(bench::mlp_model(), {128, 784});
  const double cnn = compile_ms(bench::cnn_model(), {128, 1, 28, 28});
  std::printf("{\"mlp_step_compile_ms\": %.3f, \"cnn_step_compile_ms\": %.3f}\n", mlp, cnn);
}
