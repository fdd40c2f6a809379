// Convolutions on cuDNN 9, through its graph (backend) API, which takes each tensor as dims
// and strides and padding per side, for every operation cudnn_problem.hpp maps. The library is loaded at run time (libcudnn.so.9): a
// program without it, or a cuDNN without an engine for a problem, falls back to the
// columns-and-products path (conv.hpp). cuDNN's engines want packed tensors, so a view
// that is not packed goes through a packed copy (a kernel gradient's x and dy, and its
// dw back). Plans are chosen once per problem and dtype: cuDNN's heuristics (mode A,
// then its fallback list) in order, skipping engines that are nondeterministic, reduce
// in reduced precision or convert inputs down, and for f32 without TF32 those on tensor
// cores; engines compiled at run time only when no other fits, so first runs stay fast.
#pragma once
#include <span>
#include <string>

#include "cudnn_problem.hpp"
#include "nx/backend.hpp"

namespace nx::cuda_backend {

// Why cuDNN cannot be used here ("" when it can): the library is missing or older than 9.
std::string cudnn_unavailable_reason();
// c with every tensor packed: what cuDNN is given (cudnn_conv copies the views that are
// not packed, a kernel gradient's transposed x and dy and its dw, a data gradient's
// swapped w, into and out of packed buffers).
CudnnConv packed_problem(const CudnnConv& c);
// Builds and finalises c's tensor, convolution and operation descriptors for dtype t,
// which needs no device: "" or cuDNN's complaint.
std::string cudnn_describe(const CudnnConv& c, DType t);

// The kernel nx_view_copy(src, dst, 5 dims, 5 src strides, 5 dst strides, count) that
// copies one strided view of elements of `item_bytes` into another (leading dims 1).
constexpr size_t kMaxViewDims = 5;
std::string view_copy_source(size_t item_bytes);

// Whether convolutions try cuDNN first (default on; NX_CUDA_CUDNN=0 turns it off).
void set_cudnn(bool on);
bool cudnn_enabled();

// Node n's convolution by cuDNN, in a buffer from `be`; null where cuDNN is off, missing,
// or has no plan for it (the caller then computes it another way).
BufferPtr cudnn_conv(const Node& n, std::span<const Operand> in, Backend& be);
// cuDNN's version and what it did so far: convolutions run, problems planned, declined
// (no engine), failed when run (then computed the other way), and the last failure.
std::string cudnn_report();

}  // namespace nx::cuda_backend
