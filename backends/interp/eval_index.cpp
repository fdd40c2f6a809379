// gather (indices clamped into range) and indexed_add / indexed_put (out-of-range rows skipped).
#include <cstring>

#include "kernels.hpp"
#include "nx/detail/core.hpp"

namespace nx::interp {
namespace {

struct IndexPlan {
  int64_t batch = 1, k = 0, rest = 1;
  std::vector<int64_t> idx;  // batch * k indices as i64
  Shape rest_shape;          // dims of x not addressed
  std::array<int64_t, kMaxRank> rest_strides{};  // x strides of those dims
  std::array<int64_t, kMaxRank> x_strides{};
};

IndexPlan plan(const Operand& x, const Operand& indices, const std::vector<int64_t>& axes) {
  IndexPlan p;
  const Shape& is = indices.type.shape;
  p.k = is[is.rank() - 1];
  p.batch = p.k ? is.size() / p.k : 0;
  if (!p.k) {
    p.batch = 1;
    for (int i = 0; i + 1 < is.rank(); ++i) p.batch *= is[i];
  }
  p.idx.resize(static_cast<size_t>(is.size()));
  detail::convert(indices.buffer->data(), indices.type.dtype, p.idx.data(), DType::i64, is.size());
  p.x_strides = x.type.shape.strides();
  int j = 0;
  for (int i = 0; i < x.type.shape.rank(); ++i)
    if (std::find(axes.begin(), axes.end(), i) == axes.end()) {
      p.rest_shape.push_back(x.type.shape[i]);
      p.rest_strides[static_cast<size_t>(j++)] = p.x_strides[static_cast<size_t>(i)];
    }
  p.rest = p.rest_shape.size();
  return p;
}

}  // namespace

NX_KERNEL(eval_gather) {
  const TensorType& out = n.outputs[0];
  BufferPtr o = alloc(be, out);
  IndexPlan p = plan(in[0], in[1], n.attrs.axes);
  const Shape& xs = in[0].type.shape;
  visit_item_size(item_size(out.dtype), [&](auto t) {
    using T = decltype(t);
    const T* x = data<T>(in[0].buffer);
    T* y = data<T>(o);
    for (int64_t b = 0; b < p.batch; ++b) {
      int64_t base = 0;
      for (int64_t j = 0; j < p.k; ++j) {
        int ax = static_cast<int>(n.attrs.axes[static_cast<size_t>(j)]);
        int64_t i = std::clamp<int64_t>(p.idx[static_cast<size_t>(b * p.k + j)], 0, std::max<int64_t>(xs[ax] - 1, 0));
        base += i * p.x_strides[static_cast<size_t>(ax)];
      }
      T* row = y + b * p.rest;
      for_each_strided<1>(p.rest_shape, one(p.rest_strides),
                          [&](int64_t i, const std::array<int64_t, 1>& k) { row[i] = x[base + k[0]]; });
    }
  });
  return {o};
}

NX_KERNEL(eval_scatter) {
  const TensorType& out = n.outputs[0];
  BufferPtr o = alloc(be, out);
  if (out.shape.size()) std::memcpy(o->data(), in[0].buffer->data(), in[0].buffer->bytes());
  IndexPlan p = plan(in[0], in[1], n.attrs.axes);
  const Shape& xs = in[0].type.shape;
  bool add = n.op == Op::IndexedAdd;
  detail::visit_dtype(out.dtype, [&](auto t) {
    using T = decltype(t);
    const T* u = data<T>(in[2].buffer);
    T* y = data<T>(o);
    for (int64_t b = 0; b < p.batch; ++b) {
      int64_t base = 0;
      bool inside = true;
      for (int64_t j = 0; j < p.k; ++j) {
        int ax = static_cast<int>(n.attrs.axes[static_cast<size_t>(j)]);
        int64_t i = p.idx[static_cast<size_t>(b * p.k + j)];
        inside &= i >= 0 && i < xs[ax];
        base += i * p.x_strides[static_cast<size_t>(ax)];
      }
      if (!inside) continue;
      const T* row = u + b * p.rest;
      for_each_strided<1>(p.rest_shape, one(p.rest_strides), [&](int64_t i, const std::array<int64_t, 1>& k) {
        T& dst = y[base + k[0]];
        if (!add) {
          dst = row[i];
        } else if constexpr (std::is_same_v<T, bool>) {
          dst = dst || row[i];
        } else if constexpr (std::is_integral_v<T>) {
          using U = std::make_unsigned_t<T>;
          dst = static_cast<T>(static_cast<U>(dst) + static_cast<U>(row[i]));
        } else {
          dst = detail::store<T>(detail::load(dst) + detail::load(row[i]));
        }
      });
    }
  });
  return {o};
}

}  // namespace nx::interp
