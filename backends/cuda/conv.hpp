// Convolutions on the device where cuDNN has no plan (cudnn.hpp is tried first), as im2col
// and products: a fused copy kernel gathers each output position's receptive field through
// an index map over the padded input (columns (N, C, K..., P...), padding read as zeros),
// then cuBLASLt multiplies, per feature group, the kernel's (O/G, C/G * K) rows by every
// batch's columns, writing (N, O, P...) directly (the kernel is the same matrix for every
// batch: batch stride 0). Covers what the training graphs of CNNs hold, up to three
// spatial dims: strides, padding (negative: cropping), input and kernel dilation (so also
// a strided convolution's data gradient), feature groups and batch groups (a grouped
// convolution's kernel gradient).
#pragma once
#include <optional>
#include <span>
#include <vector>

#include "blaslt.hpp"
#include "cuda_emit.hpp"

namespace nx::cuda_backend {

// One product: D = op(A) op(B) (lt_matmul's terms) with A the columns, B the kernel and
// D the output, each starting at its offset (elements).
struct ConvProduct {
  int64_t a_offset = 0, b_offset = 0, d_offset = 0;
  LtMatrix a, b;
  int64_t ld_d = 0, d_stride = 0, m = 0, n = 0, k = 0, batch = 1;
};
struct ConvPlan {
  KernelSpec columns;  // inputs: x, a zero scalar; output: the columns
  Shape columns_shape;
  std::vector<ConvProduct> products;
};

// nullopt where this path does not apply (the node runs elsewhere).
std::optional<ConvPlan> plan_conv(const Attrs& at, DType t, const Shape& x, const Shape& kernel, const Shape& out);

// Whether plan_conv takes node n over these operands.
bool conv_supported(const Node& n, std::span<const Operand> in);
// The convolution of in[0] by in[1] (on the device), in a buffer from `be`: by cuDNN where
// it has a plan (cudnn.hpp), else as columns and products.
BufferPtr conv(const Node& n, std::span<const Operand> in, Backend& be);

}  // namespace nx::cuda_backend
