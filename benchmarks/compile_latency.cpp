// How long the MLP value_and_grad step takes to become runnable on the llvm backend, in a
// fresh process: trace + differentiate + optimise, then the backend's compile (partition,
// kernels from the disk cache or compiled, LLVM's own start-up included), then the first
// run. Prints one JSON object. scripts/bench_llvm.sh runs it with an empty disk cache
// (cold) and again (from the disk cache).
// Run: NX_CACHE_DIR=/tmp/nx-cache ./build/release/benchmarks/nx_compile_latency
#include <chrono>
#include <cstdio>

#include <nx/llvm.hpp>
#include <nx/nx.hpp>

#include "mlp.hpp"

namespace {
using Clock = std::chrono::steady_clock;
double ms_since(Clock::time_point t) { return std::chrono::duration<double, std::milli>(Clock::now() - t).count(); }
}  // namespace

int main() {
  const bench::MlpInputs& in = bench::mlp_inputs();
  Clock::time_point t = Clock::now();
  nx::Graph g = nx::value_and_grad(bench::mlp_loss).graph(in.p, in.x, in.onehot);
  double trace_ms = ms_since(t);
  t = Clock::now();
  std::unique_ptr<nx::Executable> exe = nx::backend("llvm").compile(g, {});
  double compile_ms = ms_since(t);
  std::vector<nx::BufferPtr> args;
  for (const auto& [name, tensor] : in.p) args.push_back(tensor.buffer());
  args.push_back(in.x.buffer());
  args.push_back(in.onehot.buffer());
  t = Clock::now();
  exe->run(args);
  double run_ms = ms_since(t);
  nx::llvm_jit::CompileStats s = nx::llvm_jit::compile_stats();
  std::printf("{\"trace_ms\": %.3f, \"compile_ms\": %.3f, \"first_run_ms\": %.3f, \"kernels_compiled\": %lld, "
              "\"kernels_loaded\": %lld, \"optimize_ms\": %.3f, \"codegen_ms\": %.3f, \"load_ms\": %.3f}\n",
              trace_ms, compile_ms, run_ms, static_cast<long long>(s.kernels), static_cast<long long>(s.loaded),
              s.optimize_ms, s.codegen_ms, s.load_ms);
}
