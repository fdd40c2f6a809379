// The nodes the oneDNN backend runs as oneDNN primitives. Each kernel returns nullopt for
// what it cannot map (a dtype, layout or attribute oneDNN lacks); the caller then runs the
// interp kernel on row-major copies, so every graph runs.
#pragma once
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "held.hpp"

namespace nx::onednn {

// Records one node run by `kernel` (see nx::onednn::kernel_counts).
void count(std::string_view kernel);

struct Input {
  TensorType type;
  Held held;
};

// Work fused into a matmul or forward convolution: result = activation(result + addend),
// the addend broadcast to the result (a bias). Kernels return nullopt for post-ops they
// cannot fuse; the caller then runs the nodes one by one.
struct PostOps {
  std::optional<Input> addend;
  std::optional<dnnl::algorithm> activation;
  bool empty() const { return !addend && !activation; }
};
// The oneDNN attribute for `post` with the addend viewed as `addend` (appended to `key`).
dnnl::primitive_attr post_op_attr(const PostOps& post, const dnnl::memory::desc& addend, std::string& key);
// The execution argument carrying the addend.
constexpr int kAddendArg = DNNL_ARG_ATTR_MULTIPLE_POST_OP(0) | DNNL_ARG_SRC_1;

// dot_general as a matmul over strided (batch, m, k) x (batch, k, n) views of the operands.
std::optional<HeldValues> matmul(const Node& node, std::span<const Input> in, Backend& be, const PostOps& post = {});
// conv as a oneDNN convolution: forward; or, recognised by its attributes, the
// backward-data form (input dilation, unit strides: a transposed convolution) and the
// backward-weights form (a kernel as large as the image, or batch groups).
// `flipped_kernel`: the kernel is a spatial reversal (as in a data gradient), so a
// unit-stride conv runs as backward data too, whose kernels are faster for it.
std::optional<HeldValues> conv(const Node& node, std::span<const Input> in, Backend& be, bool flipped_kernel = false,
                               const PostOps& post = {});

// window_max / window_sum over the spatial axes of (N, C, spatial...) as oneDNN pooling.
std::optional<HeldValues> pool(const Node& node, std::span<const Input> in, Backend& be);
// window_scatter_max with a zero init (max pooling's gradient) as oneDNN pooling backward.
std::optional<HeldValues> pool_backward(const Node& node, std::span<const Input> in, Backend& be);

// `x` (of type `t`) viewed with rank `rank`, leading 1s prepended, for broadcasting.
std::optional<dnnl::memory::desc> with_rank(const Held& x, const TensorType& t, int rank);

// f32 exp, log, tanh, sigmoid, sqrt, abs, negate as oneDNN eltwise, in the input's layout.
std::optional<HeldValues> unary(const Node& node, std::span<const Input> in, Backend& be);
// f32 add, subtract, multiply, divide, max, min (numpy broadcasting of one operand) as
// oneDNN binary.
std::optional<HeldValues> binary(const Node& node, std::span<const Input> in, Backend& be);
// f32 sum over any axes as a oneDNN reduction (`counted`: recorded in kernel_counts).
std::optional<HeldValues> reduce(const Node& node, std::span<const Input> in, Backend& be, bool counted = true);
// False only when the f32 value `x` surely holds no NaN: its sum is not NaN (a sum is
// NaN if a NaN or both infinities are present). One read of `x`.
bool may_hold_nan(const Input& x, Backend& be);
// softmax / log_softmax of f32 x over `axis` as oneDNN's primitives, when x is surely
// finite (its sum is): their results for NaN or infinite rows differ from nx's.
std::optional<HeldValues> softmax(const Input& x, int axis, bool log, Backend& be);

}  // namespace nx::onednn
