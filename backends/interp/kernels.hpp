// Reference kernels of the interp backend, one family per file.
#pragma once
#include <array>
#include <span>
#include <vector>

#include "nx/backend.hpp"
#include "nx/detail/visit.hpp"

namespace nx::interp {

using detail::compute_t;
using detail::is_float_v;
using detail::is_half_v;
using detail::load;
using detail::store;

using Outputs = std::vector<BufferPtr>;
// Every kernel: node (op, attrs, output types), concrete inputs, the backend to allocate on.
#define NX_KERNEL(name) Outputs name(const Node& n, std::span<const Operand> in, Backend& be)
// Elementwise kernels also as one-output functions, for Backend::execute1.
#define NX_KERNEL1(name) BufferPtr name(const Node& n, std::span<const Operand> in, Backend& be)
NX_KERNEL1(eval_unary1);
NX_KERNEL1(eval_binary1);
NX_KERNEL(eval_unary);
NX_KERNEL(eval_window_scatter);
NX_KERNEL(eval_binary);
NX_KERNEL(eval_select);
NX_KERNEL(eval_as_type);
NX_KERNEL(eval_iota);
NX_KERNEL(eval_reduce);
NX_KERNEL(eval_arg_reduce);
NX_KERNEL(eval_cumulative);
NX_KERNEL(eval_transpose);
NX_KERNEL(eval_broadcast);
NX_KERNEL(eval_slice);
NX_KERNEL(eval_put_slice);
NX_KERNEL(eval_pad);
NX_KERNEL(eval_concatenate);
NX_KERNEL(eval_reverse);
NX_KERNEL(eval_gather);
NX_KERNEL(eval_scatter);
NX_KERNEL(eval_dot_general);
NX_KERNEL(eval_conv);
NX_KERNEL(eval_window);
NX_KERNEL(eval_sort);
NX_KERNEL(eval_linalg);
NX_KERNEL(eval_random_bits);
NX_KERNEL(eval_control);

template <class T> T* data(const BufferPtr& b) { return static_cast<T*>(b->data()); }
inline BufferPtr alloc(Backend& be, const TensorType& t) {
  return be.allocate(t.bytes());
}

// Element strides of `in` when broadcast (numpy rules) to `out`: 0 on broadcast dims.
inline std::array<int64_t, kMaxRank> broadcast_strides(const Shape& in, const Shape& out) {
  std::array<int64_t, kMaxRank> s{};
  auto st = in.strides();
  int off = out.rank() - in.rank();
  for (int i = 0; i < in.rank(); ++i) s[static_cast<size_t>(i + off)] = in[i] == 1 ? 0 : st[static_cast<size_t>(i)];
  return s;
}

using Strides = std::array<int64_t, kMaxRank>;
inline std::array<Strides, 1> one(const Strides& s) { return {s}; }

// Calls f(out_index, in_offsets) for every element of `out` in row-major order, where
// in_offsets[k] advances by strides[k] per dimension.
template <size_t K, class F>
void for_each_strided(const Shape& out, const std::array<std::array<int64_t, kMaxRank>, K>& strides, F&& f) {
  int64_t total = out.size();
  if (total == 0) return;
  int r = out.rank();
  std::array<int64_t, kMaxRank> idx{};
  std::array<int64_t, K> off{};
  int64_t inner = r ? out[r - 1] : 1;
  std::array<int64_t, K> inner_stride{};
  for (size_t k = 0; k < K; ++k) inner_stride[k] = r ? strides[k][static_cast<size_t>(r - 1)] : 0;
  for (int64_t o = 0; o < total; o += inner) {
    std::array<int64_t, K> cur = off;
    for (int64_t j = 0; j < inner; ++j) {
      f(o + j, cur);
      for (size_t k = 0; k < K; ++k) cur[k] += inner_stride[k];
    }
    // Advance the odometer over the outer dims.
    for (int d = r - 2; d >= 0; --d) {
      size_t u = static_cast<size_t>(d);
      if (++idx[u] < out[d]) {
        for (size_t k = 0; k < K; ++k) off[k] += strides[k][u];
        break;
      }
      for (size_t k = 0; k < K; ++k) off[k] -= strides[k][u] * (out[d] - 1);
      idx[u] = 0;
    }
  }
}

// Copies element-sized chunks with a typed loop (item sizes 1, 2, 4, 8).
template <class F> void visit_item_size(int size, F&& f) {
  switch (size) {
    case 1: f(uint8_t{}); break;
    case 2: f(uint16_t{}); break;
    case 4: f(uint32_t{}); break;
    default: f(uint64_t{}); break;
  }
}

}  // namespace nx::interp
