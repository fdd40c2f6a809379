// A fusion group's KernelSpec (nx/detail/fusion) as CUDA C++ source for NVRTC. Plain
// string work, no CUDA header: its tests run on machines without the toolkit's driver.
//
// Every kernel takes its buffers (inputs, then outputs) as typed pointers, then
// (rows, cols) of the group's view, and for cols kernels the rows per chunk. The entry
// points a spec's source defines, by mode:
//   elementwise: <name>: a grid-stride loop over rows * cols elements, four per step
//                (vector loads and stores of unmapped inputs and outputs), the rest
//                one by one;
//   rows:        <name>: a block per row; <name>_warp: a warp per row (short rows). Each
//                pass over the row ends in block (or warp) shuffle reductions;
//   cols:        <name>: a thread per column over one chunk of rows (blockIdx.y); a
//                reduction writes one partial row per chunk (the output itself when
//                there is one chunk);
//   all:         <name>: a grid-stride loop, then a block reduction to one partial
//                per block (the output itself for one block);
//   cols, all:   <name>_fold<k>: folds output k's partials, (parts, width) -> (width),
//                a block per column, in a fixed order (the same result every run).
// Reductions of a block always combine in the same tree for the same launch shape, so
// results repeat run to run on one device.
#pragma once
#include <string>

#include "nx/detail/fusion/kernel_spec.hpp"

namespace nx::cuda_backend {

using namespace nx::fusion;

// The C++ type a dtype is stored as ("float", "double", "nx_bool"; f16 and bf16 as their
// bits, "unsigned short"), and the one its values are computed in (halves: "float").
const char* c_type(DType t);
std::string value_type(DType t);
bool is_half(DType t);
// Expressions (with the prelude's helpers): a stored element as a value, a value as
// stored, and a value rounded to its dtype's precision; the expression itself for other
// dtypes.
std::string loaded(DType t, const std::string& e);
std::string stored(DType t, const std::string& e);
std::string rounded(DType t, const std::string& e);

// The whole translation unit for `spec`, its entry points named from `name`.
std::string emit_source(const KernelSpec& spec, const std::string& name);

// The device helpers every fused kernel's source starts with (half conversions, nx_max
// and nx_min with interp's NaN rules, block reductions), guarded so that several
// specialised kernels can share a translation unit.
const char* kernel_prelude();

// The opening of a grid-stride loop over `var` in [0, n) (a kernel parameter n), every
// thread of every block taking its share: "  for (long long var = ...; ...) {\n".
std::string grid_stride_loop(const std::string& var);

// What these kernels compute beyond the llvm backend's: integer (u8, u32, i32, i64)
// arithmetic, bitwise ops, shifts, comparisons and selects, conversions between every
// integer, float and bool type, and integer index maps and iotas.
bool cuda_kernel_supports(Op op, DType result, std::span<const DType> operands);
bool cuda_view_supports(Op op, DType t);
inline KernelCaps cuda_caps() { return {cuda_kernel_supports, cuda_view_supports}; }

// Threads per block the kernels are written for (a multiple of the warp, at most 1024).
constexpr int kBlock = 256;
// Elements per vector step of flat elementwise kernels.
constexpr int kVector = 4;

}  // namespace nx::cuda_backend
