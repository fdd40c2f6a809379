// window_sum/max/min/product: for every output position, fold the window's in-range
// elements into the reduction's identity (padding contributes the identity, so it is skipped).
// window_scatter_max/min: their transpose (the max-pooling gradient).
// Float sums/products accumulate in f64, integer ones in u64 (wrapping); max/min propagate NaN.
#include <cmath>
#include <limits>

#include "kernels.hpp"

namespace nx::interp {
namespace {

// For each dim, the input index read by (output position o, window position k) at
// [o * window + k], or -1 on padding.
std::vector<std::vector<int64_t>> index_tables(const Attrs& a, const Shape& in, const Shape& out) {
  std::vector<std::vector<int64_t>> t(static_cast<size_t>(in.rank()));
  for (int d = 0; d < in.rank(); ++d) {
    size_t u = static_cast<size_t>(d);
    int64_t w = a.window[u];
    t[u].resize(static_cast<size_t>(out[d] * w));
    for (int64_t o = 0; o < out[d]; ++o)
      for (int64_t k = 0; k < w; ++k) {
        int64_t i = o * a.strides[u] + k * a.rhs_dilation[u] - a.lo[u];
        t[u][static_cast<size_t>(o * w + k)] = i >= 0 && i < in[d] ? i : -1;
      }
  }
  return t;
}

// Sum and product: A is f64 or u64.
template <class A> struct SumProd {
  bool product;
  A init() const { return A(product ? 1 : 0); }
  A operator()(A acc, A x) const { return product ? acc * x : acc + x; }
};

// Max and min in the compute type; a NaN wins over everything.
template <class C> struct MaxMin {
  bool is_max;
  C init() const {
    if constexpr (std::is_floating_point_v<C>)
      return is_max ? -std::numeric_limits<C>::infinity() : std::numeric_limits<C>::infinity();
    else return is_max ? std::numeric_limits<C>::lowest() : std::numeric_limits<C>::max();
  }
  C operator()(C acc, C x) const {
    if constexpr (std::is_floating_point_v<C>)
      if (std::isnan(acc) || std::isnan(x)) return std::numeric_limits<C>::quiet_NaN();
    return is_max ? (x > acc ? x : acc) : (x < acc ? x : acc);
  }
};

// Calls on_window(o, offsets) for every output position o, where offsets(visit) calls
// visit(off) for each in-range input offset of o's window, in row-major window order.
template <class F> void walk_windows(const Attrs& a, const Shape& in, const Shape& out, F on_window) {
  auto tables = index_tables(a, in, out);
  auto st = in.strides();
  Shape win(std::span<const int64_t>(a.window));
  int r = in.rank();
  std::array<int64_t, kMaxRank> oi{};
  for (int64_t op = 0; op < out.size(); ++op) {
    auto offsets = [&](auto&& visit) {
      std::array<int64_t, kMaxRank> ki{};
      for (int64_t kp = 0; kp < win.size(); ++kp) {
        int64_t off = 0;
        bool inside = true;
        for (int d = 0; d < r && inside; ++d) {
          size_t u = static_cast<size_t>(d);
          int64_t i = tables[u][static_cast<size_t>(oi[u] * a.window[u] + ki[u])];
          inside = i >= 0;
          off += i * st[u];
        }
        if (inside) visit(off);
        for (int d = r - 1; d >= 0 && ++ki[static_cast<size_t>(d)] == win[d]; --d) ki[static_cast<size_t>(d)] = 0;
      }
    };
    on_window(op, offsets);
    for (int d = r - 1; d >= 0 && ++oi[static_cast<size_t>(d)] == out[d]; --d) oi[static_cast<size_t>(d)] = 0;
  }
}

template <class T, class A, class R>
void reduce_windows(const Attrs& a, const Shape& in, const Shape& out, const T* x, T* y, R red) {
  walk_windows(a, in, out, [&](int64_t o, auto offsets) {
    A acc = red.init();
    offsets([&](int64_t off) { acc = red(acc, static_cast<A>(load(x[off]))); });
    y[o] = store<T>(acc);
  });
}

// window_scatter_max/min: for each window, the in-range position of the first maximum
// (minimum) of x, a NaN beating every number; source[window] is added there.
template <class T, class A>
void scatter_windows(const Attrs& a, const Shape& in, const Shape& out, bool is_max, const T* x, const T* src, A* acc) {
  using C = compute_t<T>;
  walk_windows(a, in, out, [&](int64_t o, auto offsets) {
    int64_t best = -1;
    C bv{};
    offsets([&](int64_t off) {
      C v = static_cast<C>(load(x[off]));
      bool better = best < 0;
      if (!better) {
        if constexpr (std::is_floating_point_v<C>) {
          if (!std::isnan(bv)) better = std::isnan(v) || (is_max ? v > bv : v < bv);
        } else {
          better = is_max ? v > bv : v < bv;
        }
      }
      if (better) best = off, bv = v;
    });
    if (best >= 0) acc[best] += static_cast<A>(load(src[o]));
  });
}

}  // namespace

NX_KERNEL(eval_window_scatter) {
  const TensorType& out = n.outputs[0];
  BufferPtr o = alloc(be, out);
  const Shape &is = in[0].type.shape, &ss = in[1].type.shape;
  detail::visit_dtype(out.dtype, [&](auto t) {
    using T = decltype(t);
    if constexpr (!std::is_same_v<T, bool>) {  // the front end refuses bool
      using A = std::conditional_t<is_float_v<T>, double, uint64_t>;  // integers wrap
      std::vector<A> acc(static_cast<size_t>(is.size()), static_cast<A>(load(data<T>(in[2].buffer)[0])));
      scatter_windows<T, A>(n.attrs, is, ss, n.op == Op::WindowScatterMax, data<T>(in[0].buffer), data<T>(in[1].buffer),
                            acc.data());
      T* y = data<T>(o);
      for (size_t i = 0; i < acc.size(); ++i) y[i] = store<T>(acc[i]);
    }
  });
  return {o};
}

NX_KERNEL(eval_window) {
  const TensorType& out = n.outputs[0];
  BufferPtr o = alloc(be, out);
  const Shape& is = in[0].type.shape;
  detail::visit_dtype(out.dtype, [&](auto t) {
    using T = decltype(t);
    if constexpr (!std::is_same_v<T, bool>) {  // the front end refuses bool
      const T* x = data<T>(in[0].buffer);
      T* y = data<T>(o);
      if (n.op == Op::WindowSum || n.op == Op::WindowProduct) {
        using A = std::conditional_t<is_float_v<T>, double, uint64_t>;
        reduce_windows<T, A>(n.attrs, is, out.shape, x, y, SumProd<A>{n.op == Op::WindowProduct});
      } else {
        using C = compute_t<T>;
        reduce_windows<T, C>(n.attrs, is, out.shape, x, y, MaxMin<C>{n.op == Op::WindowMax});
      }
    }
  });
  return {o};
}

}  // namespace nx::interp
