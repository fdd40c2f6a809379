// A fused elementwise kernel as nx describes it to LLVM: straight-line code per element,
// reading inputs and writing outputs. The iteration space is flat, or (rows, cols) when
// an input is broadcast along rows or columns (a bias, a keep-axes reduction). The only
// interface to kernel_compiler.cpp, so LLVM's headers stay in that one file.
#pragma once
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "nx/graph.hpp"

namespace nx::llvm_backend {

struct KernelSpec {
  // How an input is read at element (row, col), index = row * cols + col.
  enum class Access { full, scalar, row, col };  // [index], [0], [row], [col]
  struct Input {
    DType dtype;
    Access access;
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
  bool two_d = false;        // loops over rows and cols (some input is a row or a column)

  // A canonical text of the whole spec: equal specs compile to the same kernel.
  std::string key() const;
};

// Runs the kernel over elements [begin, end), or rows [begin, end) of `cols` columns
// when two_d; buffers are the inputs then the outputs.
using KernelFn = void (*)(void* const* buffers, int64_t begin, int64_t end, int64_t cols);

// Whether the kernel compiler handles `op` with this result dtype and operand dtypes.
bool kernel_supports(Op op, DType result, std::span<const DType> operands);

struct CompileTimes {
  double emit_ms = 0, optimize_ms = 0, codegen_ms = 0;
};

// The compiled kernel for `spec`, from an in-memory cache keyed by spec.key(); compiles
// (adding the stage times to the totals) on a miss. Thread-safe.
KernelFn compile_kernel(const KernelSpec& spec);
// The stage times of every compile so far, and how many kernels there are.
CompileTimes total_compile_times(int64_t* kernels);

}  // namespace nx::llvm_backend
