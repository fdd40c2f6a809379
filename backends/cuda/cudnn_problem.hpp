// A convolution node as one cuDNN operation, in cuDNN's terms: x (N, C, H...), w (O, C/G,
// K...), y (N, O, P...), y[n, o, p] = sum x[n, c, p * stride - pre + k * dilation] w[o, c, k]
// (w flipped in space in convolution mode). Each convolution a training graph holds is one:
// - forward: a plain node (no input dilation, no batch groups): x, w, y are its lhs, rhs, out;
// - backward data: a node that dilates its input by L with stride 1 (a strided
//   convolution's data gradient) is the adjoint of a convolution with stride L: its out is
//   dx, its lhs dy, and its rhs, read with the two feature dims swapped and flipped
//   (convolution mode), is w;
// - backward filter: a node whose rhs is larger in space than its out (a kernel gradient)
//   is the adjoint in w: with batch and feature dims swapped, its lhs is x, its rhs dy and
//   its out dw. Batch groups are cuDNN's groups there.
// Every tensor is a view (dims and strides in elements) of one of the node's buffers
// (cudnn.cpp gives cuDNN packed copies of those that are not packed). One spatial dim
// becomes two (a unit height): cuDNN's engines take 4-D and 5-D tensors.
#pragma once
#include <optional>
#include <string>
#include <vector>

#include "nx/graph.hpp"

namespace nx::cuda_backend {

enum class CudnnOp { forward, backward_data, backward_filter };

struct CudnnView {
  int operand = 0;  // the node's lhs (0), rhs (1) or output (2)
  std::vector<int64_t> dims, strides;
};

struct CudnnConv {
  CudnnOp op = CudnnOp::forward;
  CudnnView x, w, y;
  // Per spatial dim. post only makes the sizes agree: the smallest >= 0 for which a
  // convolution of x gives y's size (cuDNN checks it); it reads nothing beyond x.
  std::vector<int64_t> pre, post, strides, dilations;
  bool flip = false;  // convolution mode: w is read reversed in space
  std::string key() const;
};

// The cuDNN operation that computes a conv node with these operand and output shapes, or
// nullopt where there is none (cropping padding, feature groups whose swapped rhs is no
// strided view, both kinds of groups, more than three spatial dims).
std::optional<CudnnConv> cudnn_conv_problem(const Attrs& at, const Shape& lhs, const Shape& rhs, const Shape& out);

}  // namespace nx::cuda_backend
