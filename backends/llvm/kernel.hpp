// The llvm backend's kernels: a fused group's KernelSpec (nx/detail/fusion) compiled to
// a host function. The only interface to kernel_emit.cpp and kernel_compiler.cpp, so
// LLVM's headers stay in those two files.
#pragma once
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "nx/detail/fusion/kernel_spec.hpp"

namespace nx::llvm_backend {

// The fusion groups' description is shared with the other compiling backends.
using namespace nx::fusion;

// Runs the kernel; buffers are the inputs then the outputs. [begin, end) is a range of
//   elementwise: elements (flat), or rows of `cols` columns (two_d);
//   rows: rows of `cols` columns;
//   cols: columns of `rows` rows of `cols` columns;
//   all: blocks of kReduceBlock elements out of `cols` elements; a reduction's output
//        holds one partial result per block.
using KernelFn = void (*)(void* const* buffers, int64_t begin, int64_t end, int64_t rows, int64_t cols);

struct CompileTimes {
  double emit_ms = 0, optimize_ms = 0, codegen_ms = 0, load_ms = 0;  // summed over kernels
  int64_t compiled = 0, loaded = 0;  // kernels compiled, and loaded from the disk cache
};

// The compiled kernel for each spec: from the in-memory cache (keyed by spec.key()),
// else the disk cache, else compiled now; misses are built in parallel. Thread-safe.
std::vector<KernelFn> compile_kernels(std::span<const KernelSpec* const> specs);
KernelFn compile_kernel(const KernelSpec& spec);
// The totals over every kernel this process compiled or loaded.
CompileTimes total_compile_times();

// The disk cache's root ("" for none); kernels go to <root>/llvm/<version, LLVM, CPU>/.
void set_cache_root(std::string dir);
std::string cache_root();
// Forgets the in-memory cache (kernels stay loaded: executables still use them), so the
// next compile of a spec goes to the disk cache or compiles: cold-start measurements.
void forget_kernels();

}  // namespace nx::llvm_backend
