// Data movement: transpose, broadcast, slice, put_slice, pad, concatenate, reverse.
// These only move elements, so they dispatch on the item size, not the dtype.
#include <cstring>

#include "kernels.hpp"

namespace nx::interp {
namespace {

// out[i] = in[offset(i)] where offset advances by `strides` over the output shape.
BufferPtr gather_strided(Backend& be, const TensorType& out, const Operand& src,
                         const std::array<int64_t, kMaxRank>& strides, int64_t base) {
  BufferPtr o = alloc(be, out);
  visit_item_size(item_size(out.dtype), [&](auto t) {
    using T = decltype(t);
    const T* x = data<T>(src.buffer) + base;
    T* y = data<T>(o);
    for_each_strided<1>(out.shape, one(strides), [&](int64_t i, const std::array<int64_t, 1>& k) { y[i] = x[k[0]]; });
  });
  return o;
}

}  // namespace

NX_KERNEL(eval_transpose) {
  auto is = in[0].type.shape.strides();
  std::array<int64_t, kMaxRank> st{};
  for (size_t i = 0; i < n.attrs.axes.size(); ++i) st[i] = is[static_cast<size_t>(n.attrs.axes[i])];
  return {gather_strided(be, n.outputs[0], in[0], st, 0)};
}

NX_KERNEL(eval_broadcast) {
  const Shape& s = in[0].type.shape;
  auto is = s.strides();
  std::array<int64_t, kMaxRank> st{};
  for (int i = 0; i < s.rank(); ++i)
    st[static_cast<size_t>(n.attrs.axes[static_cast<size_t>(i)])] = s[i] == 1 ? 0 : is[static_cast<size_t>(i)];
  return {gather_strided(be, n.outputs[0], in[0], st, 0)};
}

NX_KERNEL(eval_slice) {
  auto is = in[0].type.shape.strides();
  std::array<int64_t, kMaxRank> st{};
  int64_t base = 0;
  for (size_t i = 0; i < n.attrs.starts.size(); ++i) {
    st[i] = is[i] * n.attrs.strides[i];
    base += is[i] * n.attrs.starts[i];
  }
  return {gather_strided(be, n.outputs[0], in[0], st, base)};
}

NX_KERNEL(eval_put_slice) {
  const TensorType& out = n.outputs[0];
  BufferPtr o = alloc(be, out);
  if (out.shape.size()) std::memcpy(o->data(), in[0].buffer->data(), in[0].buffer->bytes());
  auto os = out.shape.strides();
  int64_t base = 0;
  for (size_t i = 0; i < n.attrs.starts.size(); ++i) base += os[i] * n.attrs.starts[i];
  // Scatter the update with the output's strides.
  visit_item_size(item_size(out.dtype), [&](auto t) {
    using T = decltype(t);
    const T* u = data<T>(in[1].buffer);
    T* y = data<T>(o) + base;
    for_each_strided<1>(in[1].type.shape, one(os), [&](int64_t i, const std::array<int64_t, 1>& k) { y[k[0]] = u[i]; });
  });
  return {o};
}

NX_KERNEL(eval_pad) {
  const TensorType& out = n.outputs[0];
  BufferPtr o = alloc(be, out);
  const Shape& s = in[0].type.shape;
  auto os = out.shape.strides();
  int r = s.rank();
  visit_item_size(item_size(out.dtype), [&](auto t) {
    using T = decltype(t);
    T* y = data<T>(o);
    T v = *data<T>(in[1].buffer);
    int64_t total = out.shape.size();
    for (int64_t i = 0; i < total; ++i) y[i] = v;
    const T* x = data<T>(in[0].buffer);
    // Each input element lands at lo + i * (interior + 1) per axis, unless cut by negative padding.
    std::array<int64_t, kMaxRank> idx{};
    int64_t count = s.size();
    for (int64_t e = 0; e < count; ++e) {
      int64_t off = 0;
      bool inside = true;
      for (int d = 0; d < r && inside; ++d) {
        size_t u = static_cast<size_t>(d);
        int64_t p = n.attrs.lo[u] + idx[u] * (n.attrs.interior[u] + 1);
        inside = p >= 0 && p < out.shape[d];
        off += p * os[u];
      }
      if (inside) y[off] = x[e];
      for (int d = r - 1; d >= 0; --d) {
        size_t u = static_cast<size_t>(d);
        if (++idx[u] < s[d]) break;
        idx[u] = 0;
      }
    }
  });
  return {o};
}

NX_KERNEL(eval_concatenate) {
  const TensorType& out = n.outputs[0];
  BufferPtr o = alloc(be, out);
  int axis = static_cast<int>(n.attrs.axes[0]);
  int64_t outer = 1, isz = item_size(out.dtype);
  for (int i = 0; i < axis; ++i) outer *= out.shape[i];
  int64_t out_row = out.shape.size() / (outer ? outer : 1) * isz;
  if (outer == 0 || out.shape.size() == 0) return {o};
  auto* y = static_cast<std::byte*>(o->data());
  int64_t col = 0;
  for (const Operand& op : in) {
    int64_t row = op.type.shape.size() / outer * isz;
    const auto* x = static_cast<const std::byte*>(op.buffer->data());
    for (int64_t a = 0; a < outer; ++a)
      if (row) std::memcpy(y + a * out_row + col, x + a * row, static_cast<size_t>(row));
    col += row;
  }
  return {o};
}

NX_KERNEL(eval_reverse) {
  const Shape& s = in[0].type.shape;
  auto is = s.strides();
  std::array<int64_t, kMaxRank> st{};
  int64_t base = 0;
  for (int i = 0; i < s.rank(); ++i) st[static_cast<size_t>(i)] = is[static_cast<size_t>(i)];
  for (int64_t a : n.attrs.axes) {
    size_t u = static_cast<size_t>(a);
    if (s[static_cast<int>(a)] == 0) continue;
    base += (s[static_cast<int>(a)] - 1) * is[u];
    st[u] = -is[u];
  }
  return {gather_strided(be, n.outputs[0], in[0], st, base)};
}

}  // namespace nx::interp
