// dot_general on cuBLASLt: batched products of f32 (TF32 off unless set_tf32), f64, and
// bf16/f16 with f32 accumulation. Operands whose free, contracted and batch axes read as
// strided matrices (any transposition of a contiguous array does) go to cuBLASLt as
// they lie; others are gathered first by a fused copy kernel.
#pragma once
#include <span>

#include "nx/backend.hpp"

namespace nx::cuda_backend {

// Whether cuBLASLt runs a dot_general of these dtypes (floats, operands of the result's).
bool lt_supports(DType result, DType lhs, DType rhs);

// What cuBLASLt applies to a product before storing it: a bias added along D's rows
// (the last axis of our row-major result; of D's dtype, contiguous), then a relu.
struct LtEpilogue {
  const void* bias = nullptr;
  bool relu = false;
};

// The product, (batch..., lhs free..., rhs free...) row-major, in a buffer from `be`. An
// operand that is not a strided matrix is first gathered into one by a fused kernel.
BufferPtr lt_dot(const Node& n, std::span<const Operand> in, Backend& be, const LtEpilogue& epilogue = {});

// An operand as cuBLASLt takes it: a column-major rows x cols matrix with leading
// dimension ld (transposed: the operand is its transpose), batch_stride elements between
// batches (0: the same matrix for every batch).
struct LtMatrix {
  int64_t rows = 1, cols = 1, ld = 1, batch_stride = 0;
  bool transposed = false;
};
// D (m, n), column-major with leading dimension ld_d and d_stride elements between
// batches, = op(A) op(B) over k, `batch` times; all of dtype t, on the device's stream.
// Plans (descriptors, layouts, the heuristic's algorithm) are cached by all of these.
void lt_matmul(DType t, int64_t batch, const void* a, const LtMatrix& ma, const void* b, const LtMatrix& mb, void* d,
               int64_t ld_d, int64_t d_stride, int64_t m, int64_t n, int64_t k, Backend& be, const LtEpilogue& epilogue = {});

void set_tf32(bool on);
bool tf32();

}  // namespace nx::cuda_backend
