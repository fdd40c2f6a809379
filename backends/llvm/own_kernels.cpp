#include "own_kernels.hpp"

#include <algorithm>
#include <utility>

#include "gemm.hpp"
#include "nx/detail/core.hpp"
#include "nx/detail/dot_axes.hpp"
#include "thread_pool.hpp"

namespace nx::llvm_backend {
namespace {

// dot_general on the blocked GEMM (gemm.cpp) when oneDNN does not run it: float operands
// whose batch, free and contracted dims each merge into one strided dim (x @ w, x @ w^T,
// batched products); nullopt for the rest (interp runs them).
std::optional<std::vector<BufferPtr>> own_dot(const Node& n, std::span<const Operand> in, Backend& be, int threads) {
  DType t = n.outputs[0].dtype;
  const Attrs& a = n.attrs;
  using detail::merge_axes, detail::free_axes;
  const Shape &sa = in[0].type.shape, &sb = in[1].type.shape;
  auto ta = sa.strides(), tb = sb.strides();  // row-major
  auto ab = merge_axes(sa, ta, a.lhs_batch), am = merge_axes(sa, ta, free_axes(sa.rank(), a.lhs_contract, a.lhs_batch)),
       ak = merge_axes(sa, ta, a.lhs_contract);
  auto bb = merge_axes(sb, tb, a.rhs_batch), bn = merge_axes(sb, tb, free_axes(sb.rank(), a.rhs_contract, a.rhs_batch)),
       bk = merge_axes(sb, tb, a.rhs_contract);
  if (!ab || !am || !ak || !bb || !bn || !bk) return std::nullopt;
  BufferPtr out = be.allocate(n.outputs[0].bytes());
  auto run = [&](auto zero, auto operand, void* c) {
    using T = decltype(zero);
    using In = decltype(operand);
    gemm<T, In>(ab->size, am->size, bn->size, ak->size,
                Strided<In>{static_cast<const In*>(in[0].buffer->data()), ab->stride, am->stride, ak->stride},
                Strided<In>{static_cast<const In*>(in[1].buffer->data()), bb->stride, bk->stride, bn->stride},
                static_cast<T*>(c), threads);
  };
  if (t == DType::f32) run(0.0f, 0.0f, out->data());
  else if (t == DType::f64) run(0.0, 0.0, out->data());
  else {  // bf16, f16: summed in f32, rounded once (as interp does)
    int64_t count = n.outputs[0].shape.size();
    BufferPtr sums = be.allocate(static_cast<size_t>(count) * sizeof(float));
    if (t == DType::bf16) run(0.0f, bfloat16_t(), sums->data());
    else run(0.0f, float16_t(), sums->data());
    detail::convert(sums->data(), DType::f32, out->data(), t, count);
  }
  return std::vector<BufferPtr>{out};
}

// conv as im2col + GEMM, per image and feature group: the columns matrix holds, for each
// (input channel, kernel position) row, the input element each output position reads
// (0 on padding and input-dilation holes), and the kernel (O, C/g * taps) multiplies it.
std::optional<std::vector<BufferPtr>> own_conv(const Node& n, std::span<const Operand> in, Backend& be, int threads) {
  const Attrs& a = n.attrs;
  if (a.k2 != 1) return std::nullopt;
  const Shape &is = in[0].type.shape, &ks = in[1].type.shape, &os = n.outputs[0].shape;
  int64_t batch = is[0], channels = is[1], outs = ks[0], groups = a.k, per_group = ks[1];
  int64_t in_size = 1, taps = 1, positions = 1;
  int spatial = is.rank() - 2;
  for (int d = 0; d < spatial; ++d) in_size *= is[d + 2], taps *= ks[d + 2], positions *= os[d + 2];
  // Per spatial dim, the input index (output position o, kernel position j) reads, or -1.
  std::vector<std::vector<int64_t>> table(static_cast<size_t>(spatial));
  for (int d = 0; d < spatial; ++d) {
    size_t u = static_cast<size_t>(d);
    int64_t kd = ks[d + 2], dil = a.lhs_dilation[u];
    for (int64_t o = 0; o < os[d + 2]; ++o)
      for (int64_t j = 0; j < kd; ++j) {
        int64_t p = o * a.strides[u] + j * a.rhs_dilation[u] - a.lo[u];
        table[u].push_back(p >= 0 && p % dil == 0 && p / dil < is[d + 2] ? p / dil : -1);
      }
  }
  BufferPtr out = be.allocate(n.outputs[0].bytes());
  auto run = [&](auto zero) {
    using T = decltype(zero);
    const T* x = static_cast<const T*>(in[0].buffer->data());
    const T* w = static_cast<const T*>(in[1].buffer->data());
    T* y = static_cast<T*>(out->data());
    int64_t rows = per_group * taps;
    std::vector<T> cols(static_cast<size_t>(rows * positions));
    for (int64_t b = 0; b < batch; ++b)
      for (int64_t g = 0; g < groups; ++g) {
        parallel_for(rows, 1, threads, [&](int64_t first, int64_t last) {
          for (int64_t r = first; r < last; ++r) {
            int64_t c = g * per_group + r / taps, tap = r % taps;
            const T* plane = x + (b * channels + c) * in_size;
            T* row = cols.data() + r * positions;
            for (int64_t p = 0; p < positions; ++p) {
              int64_t offset = 0, rest_p = p, rest_t = tap, stride = 1;
              for (int d = spatial - 1; d >= 0 && offset >= 0; --d) {
                size_t u = static_cast<size_t>(d);
                int64_t kd = ks[d + 2], od = os[d + 2];
                int64_t i = table[u][static_cast<size_t>((rest_p % od) * kd + rest_t % kd)];
                offset = i < 0 ? -1 : offset + i * stride;
                rest_p /= od, rest_t /= kd, stride *= is[d + 2];
              }
              row[p] = offset < 0 ? T(0) : plane[offset];
            }
          }
        }, 1);
        int64_t og = outs / groups;
        gemm<T>(1, og, positions, rows, Strided<T>{w + g * og * rows, 0, rows, 1}, Strided<T>{cols.data(), 0, positions, 1},
                y + (b * outs + g * og) * positions, threads);
      }
  };
  if (n.outputs[0].dtype == DType::f32) run(0.0f);
  else run(0.0);
  return std::vector<BufferPtr>{out};
}

}  // namespace

std::optional<std::vector<BufferPtr>> run_own(const Node& n, std::span<const Operand> in, Backend& be, int threads) {
  DType t = n.outputs[0].dtype;
  bool half = t == DType::bf16 || t == DType::f16;
  if ((t != DType::f32 && t != DType::f64 && !half) || in.size() != 2 || in[0].type.dtype != t || in[1].type.dtype != t)
    return std::nullopt;
  if (n.op == Op::DotGeneral) return own_dot(n, in, be, threads);
  if (half) return std::nullopt;  // convolutions of half types: oneDNN or interp
  if (n.op == Op::Conv) return own_conv(n, in, be, threads);
  return std::nullopt;
}

}  // namespace nx::llvm_backend
