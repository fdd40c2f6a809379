// The nodes the oneDNN backend runs as oneDNN primitives. Each kernel returns nullopt for
// what it cannot map (a dtype, layout or attribute oneDNN lacks); the caller then runs the
// interp kernel on row-major copies, so every graph runs.
#pragma once
#include <optional>
#include <span>
#include <string>

#include "held.hpp"

namespace nx::onednn {

// Records one node run by `kernel` (see nx::onednn::kernel_counts).
void count(const std::string& kernel);

struct Input {
  TensorType type;
  Held held;
};

// dot_general as a matmul over strided (batch, m, k) x (batch, k, n) views of the operands.
std::optional<HeldValues> matmul(const Node& node, std::span<const Input> in, Backend& be);
// conv as a oneDNN convolution: forward; or, recognised by its attributes, the
// backward-data form (input dilation, unit strides: a transposed convolution) and the
// backward-weights form (a kernel as large as the image, or batch groups).
// `flipped_kernel`: the kernel is a spatial reversal (as in a data gradient), so a
// unit-stride conv runs as backward data too, whose kernels are faster for it.
std::optional<HeldValues> conv(const Node& node, std::span<const Input> in, Backend& be, bool flipped_kernel = false);

// f32 log, tanh, sigmoid, sqrt, abs, negate as oneDNN eltwise, in the input's layout.
std::optional<HeldValues> unary(const Node& node, std::span<const Input> in, Backend& be);
// f32 add, subtract, multiply, divide (numpy broadcasting of one operand) as oneDNN binary.
std::optional<HeldValues> binary(const Node& node, std::span<const Input> in, Backend& be);
// f32 sum over any axes as a oneDNN reduction.
std::optional<HeldValues> reduce(const Node& node, std::span<const Input> in, Backend& be);

}  // namespace nx::onednn
