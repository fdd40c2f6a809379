// A fused kernel as the compiling backends receive it: straight-line code per element,
// reading inputs and writing outputs, with optional reductions. Backend-neutral: the
// llvm backend emits it as LLVM IR, the cuda backend as CUDA C++.
#pragma once
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "nx/graph.hpp"

namespace nx::fusion {

// The iteration space and what reductions reduce. The 2-D forms view the group's shape
// as (rows, cols).
enum class Mode : uint8_t {
  elementwise,  // flat, or (rows, cols) when an input is read as a row or a column
  rows,         // reductions over each row's cols; several passes over a row may follow
                // one another (softmax: max, then sum, then the quotient)
  cols,         // reductions over rows, one pass, each column's result exact in order
  all,          // reductions over every element, one pass, partial results per block
};

// Elements per block in Mode::all: a fixed blocking, so a sum is the same on any
// number of threads.
constexpr int64_t kReduceBlock = 1 << 14;

// One window of an index map: a flat index, unflattened over `shape`, gives
// offset + sum(index[d] * strides[d]); it is in bounds where lo[d] <= index[d] < hi[d].
struct View {
  std::vector<int64_t> shape, strides, lo, hi;
  int64_t offset = 0;
  bool operator==(const View&) const = default;
};
// The element index -> an offset, through views in order: views[0] takes the element
// index (flat in the kernel's shape), each view's offset is the next one's flat index,
// the last one's is the offset into the buffer. Out of bounds anywhere, a load reads
// element 0 and a Pad instruction takes its fill. No views: the offset is the element
// index. Shape ops (index_map.hpp) build them.
using IndexMap = std::vector<View>;

struct KernelSpec {
  // How an input is read at element (row, col), index = row * cols + col.
  enum class Access { full, scalar, row, col };  // [index], [0], [row], [col]
  struct Input {
    DType dtype;
    Access access;
  };
  // One value of the body: an input load (op == Parameter, `input` set), an elementwise
  // op over earlier values, or a reduction (Sum, ReduceMax, ReduceMin) of one earlier
  // value over the mode's reduced dimension. With a map (shape ops), per element:
  //   Parameter: the input at maps[map](element);
  //   Iota: maps[map](element) as a number;
  //   Pad: operands[0] where maps[map](element) is in bounds, else operands[1].
  struct Instr {
    Op op;
    DType dtype;  // the result's
    std::vector<int> operands;
    int input = -1;
    bool per_row = false;  // one value per row (a reduction and what is computed from it), not per element
    int map = -1;
  };
  std::vector<Input> inputs;
  std::vector<IndexMap> maps;
  std::vector<Instr> code;
  std::vector<int> outputs;  // instructions written out, one array each
  Mode mode = Mode::elementwise;
  bool two_d = false;    // elementwise over rows and cols (some input is a row or a column)
  bool scratch = false;  // rows: a value used by a later pass over the row may be kept
                         // in a row-sized stack buffer (short rows) instead of recomputed
  bool stream = false;   // outputs too large for the cache are written with non-temporal
                         // stores: flat elementwise kernels (each call's range starts
                         // 64-element aligned) and rows kernels whose rows are multiples of
                         // 64 elements; values later passes read stay in row buffers

  // A canonical text of the whole spec: equal specs compile to the same kernel.
  std::string key() const;
};

// Where each instruction of a spec lives and when it is computed: one value per kernel
// (scalar inputs), per row (row inputs, reductions and what follows them) or per element;
// and the pass over the row that first computes it (a reduction's result is ready in the
// pass after its operand's). Elementwise, cols and all kernels have one pass, rows
// kernels one per reduction depth. Throws nx::Error naming `backend` for a spec no
// kernel can run.
enum class Space : uint8_t { scalar, row, full };
struct Passes {
  std::vector<Space> space;
  std::vector<int> pass;
  int count = 1;  // passes over each row: the last full value's pass + 1
};
Passes passes_of(const KernelSpec& spec, const char* backend);

// Whether kernels compute `op` with this result dtype and operand dtypes (every
// compiling backend emits code for all of these).
bool kernel_supports(Op op, DType result, std::span<const DType> operands);
// The dtypes a shape op (or iota) is read at through an index map by the same kernels:
// f32, f64, and bool except for iota.
bool view_supports(Op op, DType t);

// What a backend's kernels compute, so what its partition fuses: the llvm backend's
// (above) by default; the cuda backend's add integers.
struct KernelCaps {
  bool (*supports)(Op op, DType result, std::span<const DType> operands) = kernel_supports;
  bool (*viewable)(Op op, DType t) = view_supports;
};
// The reductions a kernel may hold (whether a backend's kernels compute one for given
// dtypes is its KernelCaps' to say: the llvm backend's take sum, max and min).
inline bool is_reduction(Op op) {
  return op == Op::Sum || op == Op::ReduceMax || op == Op::ReduceMin || op == Op::Product || op == Op::All || op == Op::Any;
}

}  // namespace nx::fusion
