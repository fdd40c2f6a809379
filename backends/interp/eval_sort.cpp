// sort / argsort / top_k: a stable sort of indices per lane along the axis. Ascending puts
// NaN after every number, descending before; ties (and -0.0 vs 0.0) keep index order.
// Values are copied from the input by index, so they keep their exact bits.
#include <algorithm>
#include <cmath>
#include <numeric>

#include "kernels.hpp"

namespace nx::interp {
namespace {

template <class C> bool is_nan(C v) {
  if constexpr (std::is_floating_point_v<C>) return std::isnan(v);
  else return false;
}

// Strict weak order with NaN as the largest value; -0.0 == 0.0.
template <class C> bool before(C a, C b, bool desc) {
  bool na = is_nan(a), nb = is_nan(b);
  if (na || nb) return desc ? (na && !nb) : (!na && nb);
  return desc ? b < a : a < b;
}

struct Lanes {
  int64_t outer = 1, len = 0, inner = 1;
};
Lanes lanes(const Shape& s, int axis) {
  Lanes l;
  l.len = s[axis];
  for (int i = 0; i < axis; ++i) l.outer *= s[i];
  for (int i = axis + 1; i < s.rank(); ++i) l.inner *= s[i];
  return l;
}

}  // namespace

NX_KERNEL(eval_sort) {
  const Shape& is = in[0].type.shape;
  Lanes l = lanes(is, static_cast<int>(n.attrs.axes[0]));
  bool desc = n.attrs.flag;
  int64_t keep = n.op == Op::TopK ? n.attrs.k : l.len;  // how many sorted entries each lane emits
  bool want_values = n.op != Op::Argsort, want_indices = n.op != Op::Sort;
  Outputs outs;
  for (const TensorType& t : n.outputs) outs.push_back(alloc(be, t));
  BufferPtr vals = want_values ? outs[0] : nullptr;
  BufferPtr idxs = want_indices ? outs.back() : nullptr;
  detail::visit_dtype(in[0].type.dtype, [&](auto t) {
    using T = decltype(t);
    using C = compute_t<T>;
    const T* x = data<T>(in[0].buffer);
    std::vector<C> key(static_cast<size_t>(l.len));
    std::vector<int64_t> order(static_cast<size_t>(l.len));
    for (int64_t a = 0; a < l.outer; ++a)
      for (int64_t b = 0; b < l.inner; ++b) {
        const T* lane = x + a * l.len * l.inner + b;
        for (int64_t i = 0; i < l.len; ++i) key[static_cast<size_t>(i)] = load(lane[i * l.inner]);
        std::iota(order.begin(), order.end(), int64_t{0});
        auto first = [&](int64_t i, int64_t j) {  // index order breaks ties: a stable order
          C ki = key[static_cast<size_t>(i)], kj = key[static_cast<size_t>(j)];
          return before(ki, kj, desc) || (!before(kj, ki, desc) && i < j);
        };
        // top_k of a long lane keeps a heap of k (n log k): sorting all of it took 6 s
        // for k = 5 of 60000 over 1000 lanes (nearest neighbours).
        if (keep < l.len) std::partial_sort(order.begin(), order.begin() + keep, order.end(), first);
        else std::sort(order.begin(), order.end(), first);
        int64_t base = a * keep * l.inner + b;
        for (int64_t i = 0; i < keep; ++i) {
          int64_t src = order[static_cast<size_t>(i)];
          if (vals) data<T>(vals)[base + i * l.inner] = lane[src * l.inner];
          if (idxs) data<int64_t>(idxs)[base + i * l.inner] = src;
        }
      }
  });
  return outs;
}

}  // namespace nx::interp
