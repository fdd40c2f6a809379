// The LLVM CPU JIT backend (registered as "llvm" when nx++ is built with LLVM): chains of
// elementwise nodes become one fused loop compiled in process; other nodes run on oneDNN
// (when built) or interp.
#pragma once
#include <cstdint>
#include <string>

namespace nx {
struct Graph;
void register_llvm_backend();

namespace llvm_jit {
// Which nodes of `graph` (as jit optimises it) the llvm backend fuses into which kernels,
// and why each other node is not fused.
std::string fusion_report(const Graph& graph);

// Kernels compiled by this process so far and the time spent in each compile stage.
struct CompileStats {
  int64_t kernels = 0;
  double emit_ms = 0, optimize_ms = 0, codegen_ms = 0;
};
CompileStats compile_stats();
}  // namespace llvm_jit
}  // namespace nx
