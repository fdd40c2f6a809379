// A blocked, packed matrix product of our own (BLIS's loop nest): f32 and f64, any
// strides (transposes cost nothing extra: packing reads through them), split over the
// worker pool by blocks of rows and runs of columns. The micro-kernel is chosen at run
// time: AVX-512 (14 x 2 vectors), AVX2/FMA (6 x 2 vectors) or portable C++; the cache
// blocks follow the cache sizes the system reports. Each element of C is one task's,
// summed over k in a fixed order, so results do not depend on the number of threads.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "nx/error.hpp"

namespace nx::llvm_backend {

// One operand per batch: element (i, j) of batch b at data[b * batch + i * row + j * col].
template <class T> struct Strided {
  const T* data;
  int64_t batch, row, col;
};

// c[b][i][j] = sum_k a[b](i, k) * b[b](k, j), for b < batches; c is contiguous (B, M, N).
// Operands of a narrower type `In` (bfloat16_t, float16_t, with T = float) are widened
// exactly while packed, so the f32 micro-kernels run them.
template <class T, class In = T>
void gemm(int64_t batches, int64_t m, int64_t n, int64_t k, Strided<In> a, Strided<In> b, T* c, int threads);

// The micro-kernels this CPU runs ("avx512", "avx2", "portable"), widest first.
std::vector<std::string> gemm_kernels();
// The one gemm() uses: the widest, or the one NX_GEMM names, or the one set here ("" or
// "auto": the widest). Throws nx::Error for a name this CPU cannot run.
std::string gemm_kernel();
void set_gemm_kernel(const std::string& name, Where where = Where::current());

}  // namespace nx::llvm_backend
