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

// The product, (batch..., lhs free..., rhs free...) row-major, in a buffer from `be`;
// null for a half-precision operand that is not a strided matrix (no gather kernel for
// half types yet: the caller runs it elsewhere).
BufferPtr lt_dot(const Node& n, std::span<const Operand> in, Backend& be);

void set_tf32(bool on);
bool tf32();

}  // namespace nx::cuda_backend
