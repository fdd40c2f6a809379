// A fused elementwise kernel as nx describes it to LLVM: straight-line code over one
// element index, reading inputs (whole arrays or scalars) and writing outputs. The only
// interface to kernel_compiler.cpp, so LLVM's headers stay in that one file.
#pragma once
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "nx/graph.hpp"

namespace nx::llvm_backend {

struct KernelSpec {
  struct Input {
    DType dtype;
    bool scalar;  // one element, read for every index
  };
  // One value of the body: an input load (op == Parameter, `input` set) or an
  // elementwise op over earlier values.
  struct Instr {
    Op op;
    DType dtype;  // the result's
    std::vector<int> operands;
    int input = -1;
  };
  std::vector<Input> inputs;
  std::vector<Instr> code;
  std::vector<int> outputs;  // instructions written out, one array each

  // A canonical text of the whole spec: equal specs compile to the same kernel.
  std::string key() const;
};

// Runs the kernel over elements [begin, end): buffers are the inputs then the outputs.
using KernelFn = void (*)(void* const* buffers, int64_t begin, int64_t end);

// Whether the kernel compiler handles `op` with this result dtype and operand dtypes.
bool kernel_supports(Op op, DType result, std::span<const DType> operands);

struct CompileTimes {
  double emit_ms = 0, optimize_ms = 0, codegen_ms = 0;
};

// The compiled kernel for `spec`, from an in-memory cache keyed by spec.key(); compiles
// (and records the stage times) on a miss. Thread-safe.
KernelFn compile_kernel(const KernelSpec& spec, CompileTimes* times = nullptr);
// The stage times of every compile so far, and how many kernels there are.
CompileTimes total_compile_times(int64_t* kernels);

}  // namespace nx::llvm_backend
