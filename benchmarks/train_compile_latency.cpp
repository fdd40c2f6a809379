// How long the whole training step (forward, loss, backward, Adam update) of the MLP and
// the CNN takes to become runnable, in a fresh process. Prints one JSON object:
//   <model>_step_compile_ms: trace, differentiate and optimise the step, then the llvm
//     backend's compile (kernels compiled, or loaded from the disk cache): what JAX's
//     jit(step).lower().compile() measures;
//   <model>_first_step_extra_ms: through nx::train's loop, the first step's time less a
//     later step's: the compile plus first-run costs (oneDNN creates its primitives, with
//     their own JIT, on their first call in each process; fresh buffers are first touched).
// scripts/bench_train.sh runs it with an empty disk cache (cold) and again (from the disk cache).
// Run: NX_CACHE_DIR=/tmp/nx-cache ./build/release/benchmarks/nx_train_compile_latency
#include <chrono>
#include <cstdio>

#include <nx/llvm.hpp>

#include "train_models.hpp"

namespace {
using Clock = std::chrono::steady_clock;
double ms_since(Clock::time_point t) { return std::chrono::duration<double, std::milli>(Clock::now() - t).count(); }

// The loop's step written with the public API: the same forward, loss, gradient and update.
double trace_and_compile_ms(const bench::nn::Model& model, const nx::Shape& example) {
  bench::nn::Variables vars = bench::nn::init(model, nx::random::key(0), nx::zeros(example));
  nx::optim::Optimizer adam = nx::optim::adam(1e-3);
  nx::optim::State state = adam.init(vars.params);
  nx::Tensor x = nx::zeros(example), y = nx::zeros({example[0]}, nx::i64);
  auto step = [&](const bench::nn::ParamTree& p, const nx::optim::State& s, const nx::Tensor& xb, const nx::Tensor& yb) {
    auto loss = [&](const bench::nn::ParamTree& q) {
      return bench::sparse_ce(yb, bench::nn::apply(model, {q, vars.state, {}}, xb, {.training = true}).outputs[0]);
    };
    auto [l, g] = nx::value_and_grad(loss)(p);
    auto [u, s2] = adam.update(g, s, p);
    return std::tuple{nx::optim::apply_updates(p, u), s2, l};
  };
  Clock::time_point t = Clock::now();
  nx::Graph g = nx::jit(step).graph(vars.params, state, x, y);
  std::unique_ptr<nx::Executable> exe = nx::backend("llvm").compile(g, {});
  return ms_since(t);
}

double first_step_extra_ms(const bench::nn::Model& model, const nx::Shape& example) {
  constexpr int64_t steps = 4;
  nx::train::DataSource data = bench::fixed_batches(example, steps);
  bench::nn::Variables vars = bench::nn::init(model, nx::random::key(0), nx::zeros(example));
  auto loop = nx::train::trainer(model, bench::sparse_ce, nx::optim::adam(1e-3)).progress({.enabled = false});
  nx::train::TrainResult r = loop.run(data, vars, {.epochs = 1});
  return (r.compile_seconds - r.train_seconds / double(steps - 1)) * 1e3;
}
}  // namespace

int main() {
  const double mlp = trace_and_compile_ms(bench::mlp_model(), {128, 784});
  const double cnn = trace_and_compile_ms(bench::cnn_model(), {128, 1, 28, 28});
  const double mlp_first = first_step_extra_ms(bench::mlp_model(), {128, 784});
  const double cnn_first = first_step_extra_ms(bench::cnn_model(), {128, 1, 28, 28});
  std::printf("{\"mlp_step_compile_ms\": %.3f, \"cnn_step_compile_ms\": %.3f, \"mlp_first_step_extra_ms\": %.3f, "
              "\"cnn_first_step_extra_ms\": %.3f}\n",
              mlp, cnn, mlp_first, cnn_first);
}
