// A blocked, packed matrix product of our own, for dot_general when oneDNN is not built
// (or not used): f32 and f64, any strides (transposes cost nothing extra: packing reads
// through them), an AVX2/FMA micro-kernel chosen at run time with a portable one beside
// it, split over the worker pool by blocks of rows and runs of columns. Each element of
// C is one task's, summed over k in a fixed order, so results do not depend on threads.
#pragma once
#include <cstdint>

namespace nx::llvm_backend {

// One operand per batch: element (i, j) of batch b at data[b * batch + i * row + j * col].
template <class T> struct Strided {
  const T* data;
  int64_t batch, row, col;
};

// c[b][i][j] = sum_k a[b](i, k) * b[b](k, j), for b < batches; c is contiguous (B, M, N).
template <class T>
void gemm(int64_t batches, int64_t m, int64_t n, int64_t k, Strided<T> a, Strided<T> b, T* c, int threads);

}  // namespace nx::llvm_backend
