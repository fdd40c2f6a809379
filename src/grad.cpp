// Reverse accumulation over the trace, and the VJP rule of each primitive, written with
// ops so that the backward pass is itself traced (and differentiable again).
#include <algorithm>
#include <cmath>
#include <numbers>
#include <unordered_map>
#include <unordered_set>

#include "nx/composites.hpp"
#include "nx/control.hpp"
#include "nx/detail/core.hpp"
#include "nx/grad.hpp"
#include "nx/linalg.hpp"

namespace nx {

Tensor stop_grad(const Tensor& x, Where where) {
  return detail::apply1(Op::StopGrad, {}, {x}, TensorType{x.dtype(), x.shape()}, where, x.is_weak());
}

namespace detail {
namespace {

using Grads = std::vector<Tensor>;  // one per input; undefined: no gradient

Tensor traced(const Value& v) { return make_traced(v); }

std::vector<int> ints(const std::vector<int64_t>& v) { return {v.begin(), v.end()}; }

// Sums g (broadcast result) back to `shape` (numpy rules: aligned at the right).
Tensor unbroadcast(const Tensor& g, const Shape& shape, Where w) {
  if (g.shape() == shape) return g;
  int off = g.rank() - shape.rank();
  std::vector<int> axes;
  for (int i = 0; i < g.rank(); ++i)
    if (i < off || (shape[i - off] == 1 && g.shape()[i] != 1)) axes.push_back(i);
  Tensor s = axes.empty() ? g : sum(g, {.axes = axes, .keep_axes = true}, w);
  return reshape(s, shape, w);
}

// g of a reduction over `axes` (kept or not) broadcast back to `shape`.
Tensor expand_reduced(const Tensor& g, const Shape& shape, const std::vector<int64_t>& axes, bool kept, Where w) {
  Shape k = shape;
  for (int64_t a : axes) k[static_cast<int>(a)] = 1;
  return broadcast(kept ? g : reshape(g, k, w), shape, {}, w);
}

Grads unary_vjp(Op op, const Tensor& x, const Tensor& y, const Tensor& g, Where w) {
  auto r = [&](const Tensor& t) { return Grads{t}; };
  switch (op) {
    case Op::Negate: return r(-g);
    case Op::Abs: return r(g * sign(x, w));
    case Op::Exp: return r(g * y);
    case Op::Expm1: return r(g * (y + 1));
    case Op::Log: return r(g / x);
    case Op::Log1p: return r(g / (x + 1));
    case Op::Sqrt: return r(g * 0.5 / y);
    case Op::Rsqrt: return r(g * -0.5 * y / x);
    case Op::Cbrt: return r(g / (3 * y * y));
    case Op::Sin: return r(g * cos(x, w));
    case Op::Cos: return r(-g * sin(x, w));
    case Op::Tan: return r(g * (1 + y * y));
    case Op::Asin: return r(g * rsqrt(1 - x * x, w));
    case Op::Acos: return r(-g * rsqrt(1 - x * x, w));
    case Op::Atan: return r(g / (1 + x * x));
    case Op::Sinh: return r(g * cosh(x, w));
    case Op::Cosh: return r(g * sinh(x, w));
    case Op::Tanh: return r(g * (1 - y * y));
    case Op::Asinh: return r(g * rsqrt(x * x + 1, w));
    case Op::Acosh: return r(g * rsqrt(x * x - 1, w));
    case Op::Atanh: return r(g / (1 - x * x));
    case Op::Sigmoid: return r(g * y * (1 - y));
    case Op::Erf: return r(g * (2 / std::sqrt(std::numbers::pi)) * exp(-x * x, w));
    case Op::Erfc: return r(g * (-2 / std::sqrt(std::numbers::pi)) * exp(-x * x, w));
    case Op::ErfInv: return r(g * (std::sqrt(std::numbers::pi) / 2) * exp(y * y, w));
    default: return {Tensor()};  // sign, floor, ceil, round: zero almost everywhere
  }
}

Grads binary_vjp(Op op, const Tensor& a, const Tensor& b, const Tensor& y, const Tensor& g, Where w) {
  auto two = [&](const Tensor& ga, const Tensor& gb) {
    return Grads{ga.defined() ? unbroadcast(ga, a.shape(), w) : Tensor(),
                 gb.defined() ? unbroadcast(gb, b.shape(), w) : Tensor()};
  };
  switch (op) {
    case Op::Add: return two(g, g);
    case Op::Subtract: return two(g, -g);
    case Op::Multiply: return two(g * b, g * a);
    case Op::Divide: return two(g / b, -g * y / b);
    case Op::Remainder: return two(g, -g * floor(abs(a / b, w), w) * sign(a / b, w));
    case Op::Pow: {
      // d/db is a^b log a, taken as 0 where a <= 0 (where log a is not real).
      Tensor safe_log = select(a > 0, log(select(a > 0, a, ones_like(a, w), w), w), zeros_like(a, w), w);
      return two(g * b * pow(a, b - 1, w), g * y * safe_log);
    }
    case Op::Max:
    case Op::Min: {
      // Ties split the gradient evenly between the operands (as JAX).
      Tensor pick_a = op == Op::Max ? a > b : a < b;
      auto c = [&](double v) { return scalar(v, g.dtype(), w); };  // weights in g's dtype: no f64 detour
      Tensor wa_t = select(pick_a, c(1.0), select(a == b, c(0.5), c(0.0), w), w);
      return two(g * wa_t, g * (1 - wa_t));
    }
    case Op::Atan2: {
      Tensor d = a * a + b * b;
      return two(g * b / d, -g * a / d);
    }
    default: return {Tensor(), Tensor()};  // comparisons, logical, bitwise, quotient
  }
}

Grads reduce_vjp(const Node& n, const Tensor& x, const Tensor& y, const Tensor& g, Where w) {
  const Attrs& at = n.attrs;
  Tensor gb = expand_reduced(g, x.shape(), at.axes, at.keep_axes, w);
  switch (n.op) {
    case Op::Sum: return {gb};
    case Op::Product: return {gb * expand_reduced(y, x.shape(), at.axes, at.keep_axes, w) / x};
    case Op::ReduceMax:
    case Op::ReduceMin: {
      // Shared evenly between the elements equal to the extreme (as JAX).
      Tensor hit = as_type(x == expand_reduced(y, x.shape(), at.axes, at.keep_axes, w), x.dtype(), w);
      Tensor count = sum(hit, {.axes = ints(at.axes), .keep_axes = true}, w);
      return {gb * hit / count};
    }
    default: return {Tensor()};
  }
}

// The gradient of one operand (`self`) of y = dot_general: g contracted with the other
// operand over the other's free dims, in self's layout: computed as other x g when that
// order is self's (the weight gradient of x @ w), else as g x other and permuted.
struct DotSide {
  std::vector<int64_t> contract, batch;
  std::vector<int> free;
};
Tensor dot_operand_grad(const Tensor& g, const Tensor& other, int self_rank, const DotSide& self,
                        const DotSide& oth, const std::vector<int>& g_other_free, Where w) {
  std::vector<int> gbatch;
  for (int i = 0; i < static_cast<int>(self.batch.size()); ++i) gbatch.push_back(i);
  // Where each of self's dims lands in a product with dims: batch, then self's free dims
  // and self's contracted dims (in other's order), the free ones first or last.
  auto placement = [&](bool free_first) {
    std::vector<int> perm(static_cast<size_t>(self_rank));
    int pos = 0;
    for (int64_t d : self.batch) perm[static_cast<size_t>(d)] = pos++;
    auto free = [&] {
      for (int d : self.free) perm[static_cast<size_t>(d)] = pos++;
    };
    if (free_first) free();
    for (int i = 0; i < other.rank(); ++i) {
      auto it = std::find(oth.contract.begin(), oth.contract.end(), i);
      if (it != oth.contract.end())
        perm[static_cast<size_t>(self.contract[static_cast<size_t>(it - oth.contract.begin())])] = pos++;
    }
    if (!free_first) free();
    return perm;
  };
  std::vector<int> other_first = placement(false);
  bool in_order = true;
  for (size_t i = 0; i < other_first.size(); ++i) in_order &= other_first[i] == static_cast<int>(i);
  if (in_order)
    return dot_general(other, g, {.contract_a = oth.free, .contract_b = g_other_free, .batch_a = ints(oth.batch),
                                  .batch_b = gbatch}, w);
  Tensor t = dot_general(g, other, {.contract_a = g_other_free, .contract_b = oth.free, .batch_a = gbatch,
                                    .batch_b = ints(oth.batch)}, w);
  return transpose(t, placement(true), w);
}

Grads dot_vjp(const Node& n, const Tensor& a, const Tensor& b, const Tensor& g, Where w) {
  const Attrs& at = n.attrs;
  auto side = [](int rank, const std::vector<int64_t>& c, const std::vector<int64_t>& bt) {
    DotSide s{c, bt, {}};
    for (int i = 0; i < rank; ++i)
      if (std::find(c.begin(), c.end(), i) == c.end() && std::find(bt.begin(), bt.end(), i) == bt.end())
        s.free.push_back(i);
    return s;
  };
  DotSide sa = side(a.rank(), at.lhs_contract, at.lhs_batch), sb = side(b.rank(), at.rhs_contract, at.rhs_batch);
  // Dims of y (and g): batch, a's free dims, b's free dims.
  int nb = static_cast<int>(sa.batch.size()), na = static_cast<int>(sa.free.size());
  std::vector<int> g_afree, g_bfree;
  for (int i = 0; i < na; ++i) g_afree.push_back(nb + i);
  for (int i = 0; i < static_cast<int>(sb.free.size()); ++i) g_bfree.push_back(nb + na + i);
  return {dot_operand_grad(g, b, a.rank(), sa, sb, g_bfree, w), dot_operand_grad(g, a, b.rank(), sb, sa, g_afree, w)};
}

// Inverse of a permutation p, given that transpose(x, p)[i] = x[p[i]].
std::vector<int> inverse(const std::vector<int64_t>& p) {
  std::vector<int> inv(p.size());
  for (size_t i = 0; i < p.size(); ++i) inv[static_cast<size_t>(p[i])] = static_cast<int>(i);
  return inv;
}

Grads shape_vjp(const Node& n, const std::vector<Tensor>& in, const Tensor& g, Where w) {
  const Attrs& at = n.attrs;
  const Tensor& x = in[0];
  switch (n.op) {
    case Op::Reshape: return {reshape(g, x.shape(), w)};
    case Op::Transpose: return {transpose(g, inverse(at.axes), w)};
    case Op::Broadcast: {
      std::vector<int> axes;
      for (int i = 0; i < g.rank(); ++i) {
        auto it = std::find(at.axes.begin(), at.axes.end(), i);
        if (it == at.axes.end() || x.shape()[static_cast<int>(it - at.axes.begin())] != g.shape()[i]) axes.push_back(i);
      }
      return {reshape(axes.empty() ? g : sum(g, {.axes = axes}, w), x.shape(), w)};
    }
    case Op::Slice: {
      std::vector<PadConfig> cfg;
      for (int i = 0; i < x.rank(); ++i) {
        size_t u = static_cast<size_t>(i);
        int64_t used = g.shape()[i] == 0 ? 0 : (g.shape()[i] - 1) * at.strides[u] + 1;
        cfg.push_back({at.starts[u], x.shape()[i] - at.starts[u] - used, g.shape()[i] > 0 ? at.strides[u] - 1 : 0});
      }
      return {pad(g, zeros({}, g.dtype(), w), cfg, w)};
    }
    case Op::PutSlice: {
      const Tensor& u = in[1];
      std::vector<int64_t> lengths = u.shape().to_vector();
      return {put_slice(g, at.starts, zeros_like(u, w), w), slice(g, at.starts, lengths, {}, w)};
    }
    case Op::Pad: {
      // Undo lo/hi (negated padding crops or restores), then take every (interior+1)-th.
      std::vector<PadConfig> undo;
      std::vector<int64_t> starts, lengths, strides;
      for (int i = 0; i < x.rank(); ++i) {
        size_t u = static_cast<size_t>(i);
        undo.push_back({-at.lo[u], -at.hi[u], 0});
        starts.push_back(0);
        lengths.push_back(x.shape()[i] == 0 ? 0 : (x.shape()[i] - 1) * (at.interior[u] + 1) + 1);
        strides.push_back(at.interior[u] + 1);
      }
      Tensor gx = detail::slice_extents(pad(g, zeros({}, g.dtype(), w), undo, w), starts, lengths, strides, w);
      return {gx, sum(g, {}, w) - sum(gx, {}, w)};
    }
    case Op::Concatenate: {
      Grads out;
      int64_t ax = at.axes[0], start = 0;
      for (const Tensor& t : in) {
        out.push_back(slice_along_axis(g, static_cast<int>(ax), start, t.shape()[static_cast<int>(ax)], 1, w));
        start += t.shape()[static_cast<int>(ax)];
      }
      return out;
    }
    case Op::Reverse: return {reverse(g, ints(at.axes), w)};
    case Op::Gather: {
      GatherOpts o{.axes = ints(at.axes)};
      return {indexed_add(zeros_like(x, w), in[1], g, o, w), Tensor()};
    }
    case Op::IndexedAdd: return {g, Tensor(), gather(g, in[1], {.axes = ints(at.axes)}, w)};
    case Op::IndexedPut: {
      GatherOpts o{.axes = ints(at.axes)};
      return {indexed_put(g, in[1], zeros_like(in[2], w), o, w), Tensor(), gather(g, in[1], o, w)};
    }
    default: return Grads(in.size());
  }
}

Grads cumulative_vjp(const Node& n, const Tensor& x, const Tensor& y, const Tensor& g, Where w) {
  int axis = static_cast<int>(n.attrs.axes[0]);
  CumulativeOpts back{.axis = axis, .reverse = !n.attrs.flag};
  if (n.op == Op::CumulativeSum) return {cumulative_sum(g, back, w)};
  // d y_j / d x_i = y_j / x_i for i <= j (not defined at x_i = 0, as the product rule).
  if (n.op == Op::CumulativeProduct) return {cumulative_sum(g * y, back, w) / x};
  // max/min: each output's gradient goes to the latest position (in scan order) where x
  // equals the running extreme, the element the output's value came from.
  Tensor pos = iota(x.shape(), DType::i64, axis, w);
  Tensor source = n.attrs.flag ? cumulative_min(select(x == y, pos, x.dim(axis), w), {.axis = axis, .reverse = true}, w)
                               : cumulative_max(select(x == y, pos, -1, w), {.axis = axis}, w);
  return {indexed_add(zeros_like(x, w), along_axis_index(source, axis, w), g, {}, w)};
}

// Sort: the gradient of each sorted value goes back to where it came from.
Grads sort_vjp(const Node& n, const Tensor& x, const Tensor& g, Where w) {
  int axis = static_cast<int>(n.attrs.axes[0]);
  SortOpts o{.axis = axis, .direction = n.attrs.flag ? Direction::desc : Direction::asc};
  Tensor inverse = argsort(argsort(x, o, w), {.axis = axis}, w);
  return {take_along_axis(g, inverse, axis, w)};
}

// top_k: each value's gradient lands on its index (one-hot over the last axis).
Grads top_k_vjp(const Tensor& x, const Tensor& idx, const Tensor& g, Where w) {
  Shape s = idx.shape();
  s.push_back(x.dim(-1));
  Tensor hit = as_type(equal(new_axis(idx, -1, w), iota(s, idx.dtype(), s.rank() - 1, w), w), g.dtype(), w);
  return {sum(new_axis(g, -1, w) * hit, {.axes = {idx.rank() - 1}}, w)};
}

// window_sum: every input element receives the sum of g over the windows covering it,
// which is a window_sum of g dilated by the strides and padded by (window - 1) * dilation.
Grads window_sum_vjp(const Node& n, const Tensor& x, const Tensor& g, Where w) {
  const Attrs& at = n.attrs;
  std::vector<PadConfig> cfg;
  for (int i = 0; i < x.rank(); ++i) {
    size_t u = static_cast<size_t>(i);
    int64_t span = (at.window[u] - 1) * at.rhs_dilation[u];
    int64_t m = g.shape()[i], sz = x.shape()[i];
    int64_t lo = span - at.lo[u];
    int64_t dilated = m > 0 ? (m - 1) * at.strides[u] + 1 : 0;
    cfg.push_back({lo, sz + span - lo - dilated, m > 0 ? at.strides[u] - 1 : 0});
  }
  Tensor padded = pad(g, zeros({}, g.dtype(), w), cfg, w);
  return {window_sum(padded, at.window, {.window_dilations = at.rhs_dilation}, w)};
}

// The window's offsets q, in row-major window order: for each, the strided slice of the
// padded input that lines up with the output, and the pad that puts an output-shaped
// value back at those (padded) input positions.
struct WindowOffset {
  std::vector<int64_t> starts, lengths;
  std::vector<PadConfig> back;
};
std::vector<WindowOffset> window_offsets(const Attrs& at, const Shape& padded, const Shape& out) {
  int r = padded.rank();
  int64_t offsets = 1;
  for (int64_t k : at.window) offsets *= k;
  std::vector<WindowOffset> all;
  for (int64_t q = 0; q < offsets; ++q) {
    WindowOffset o{std::vector<int64_t>(static_cast<size_t>(r)), std::vector<int64_t>(static_cast<size_t>(r)), {}};
    int64_t rest = q;
    for (int i = r - 1; i >= 0; --i) {
      size_t u = static_cast<size_t>(i);
      int64_t off = (rest % at.window[u]) * at.rhs_dilation[u];
      rest /= at.window[u];
      int64_t p = out[i], used = p > 0 ? (p - 1) * at.strides[u] + 1 : 0;
      o.starts[u] = off;
      o.lengths[u] = used;
      o.back.push_back({off, padded[i] - off - used, p > 0 ? at.strides[u] - 1 : 0});
    }
    std::reverse(o.back.begin(), o.back.end());
    all.push_back(std::move(o));
  }
  return all;
}

std::vector<PadConfig> window_padding(const Attrs& at, int sign) {
  std::vector<PadConfig> cfg;
  for (size_t u = 0; u < at.lo.size(); ++u) cfg.push_back({sign * at.lo[u], sign * at.hi[u], 0});
  return cfg;
}

WindowOpts window_opts(const Attrs& at) {
  std::vector<std::pair<int64_t, int64_t>> padding;
  for (size_t u = 0; u < at.lo.size(); ++u) padding.emplace_back(at.lo[u], at.hi[u]);
  return {.strides = at.strides, .padding = padding, .window_dilations = at.rhs_dilation};
}

// For window_max/min (max: `is_max`) of x: per offset, whether that offset holds its
// window's selected element (the first in-range maximum, a NaN counting as the maximum),
// as window_scatter_max/min select.
std::vector<Tensor> window_selections(const Attrs& at, const Tensor& x, bool is_max, Where w) {
  Tensor y = is_max ? window_max(x, at.window, window_opts(at), w) : window_min(x, at.window, window_opts(at), w);
  std::vector<PadConfig> pad_x = window_padding(at, 1);
  Tensor xp = pad(x, zeros({}, x.dtype(), w), pad_x, w);
  Tensor valid = pad(full(x.shape(), 1, boolean, w), full({}, 0, boolean, w), pad_x, w);
  Tensor y_nan = is_nan(y, w), taken = full(y.shape(), 0, boolean, w);
  std::vector<Tensor> hits;
  for (const WindowOffset& o : window_offsets(at, xp.shape(), y.shape())) {
    Tensor xq = detail::slice_extents(xp, o.starts, o.lengths, at.strides, w);
    Tensor vq = detail::slice_extents(valid, o.starts, o.lengths, at.strides, w);
    Tensor is_max_here = logical_or(equal(xq, y, w), logical_and(y_nan, is_nan(xq, w), w), w);
    Tensor hit = logical_and(logical_and(is_max_here, vq, w), logical_not(taken, w), w);
    taken = logical_or(taken, hit, w);
    hits.push_back(hit);
  }
  return hits;
}

// window_product: g * y / x_q scattered back from every offset.
Grads window_product_vjp(const Node& n, const Tensor& x, const Tensor& y, const Tensor& g, Where w) {
  const Attrs& at = n.attrs;
  Tensor xp = pad(x, full({}, 1.0, x.dtype(), w), window_padding(at, 1), w);
  Tensor gx;
  for (const WindowOffset& o : window_offsets(at, xp.shape(), y.shape())) {
    Tensor xq = detail::slice_extents(xp, o.starts, o.lengths, at.strides, w);
    Tensor placed = pad(pad(g * y / xq, zeros({}, g.dtype(), w), o.back, w), zeros({}, g.dtype(), w),
                        window_padding(at, -1), w);
    gx = gx.defined() ? gx + placed : placed;
  }
  return {gx};
}

// window_max/min: g scattered to each window's selected element.
Grads window_extreme_vjp(const Node& n, const Tensor& x, const Tensor& g, Where w) {
  const Attrs& at = n.attrs;
  Tensor zero = zeros({}, g.dtype(), w);
  if (n.op == Op::WindowMax) return {window_scatter_max(x, g, zero, at.window, window_opts(at), w)};
  return {window_scatter_min(x, g, zero, at.window, window_opts(at), w)};
}

// window_scatter_max/min(x, source, init): linear in source (each window's value of the
// cotangent h at its selected element) and init (the sum of h); flat in x.
Grads window_scatter_vjp(const Node& n, const Tensor& x, const Tensor& h, Where w) {
  const Attrs& at = n.attrs;
  Tensor hp = pad(h, zeros({}, h.dtype(), w), window_padding(at, 1), w);
  Tensor gs;
  std::vector<Tensor> hits = window_selections(at, x, n.op == Op::WindowScatterMax, w);
  auto offsets = window_offsets(at, hp.shape(), hits[0].shape());
  for (size_t q = 0; q < hits.size(); ++q) {
    Tensor hq = detail::slice_extents(hp, offsets[q].starts, offsets[q].lengths, at.strides, w);
    Tensor c = select(hits[q], hq, zeros({}, h.dtype(), w), w);
    gs = gs.defined() ? gs + c : c;
  }
  return {Tensor(), gs, sum(h, {}, w)};
}

// ---- linear algebra (matrices in the last two dims, batch dims already equal) ----
// Keeps the lower (or upper) triangle, diagonal included; `diag_scale` multiplies the diagonal.
Tensor triangle(const Tensor& x, bool lower, double diag_scale, Where w) {
  Shape s{x.dim(-2), x.dim(-1)};
  Tensor row = iota(s, i64, 0, w), col = iota(s, i64, 1, w);
  Tensor keep = lower ? row >= col : row <= col;
  Tensor scaled = diag_scale == 1.0 ? x : select(row == col, x * diag_scale, x, w);
  return select(keep, scaled, zeros_like(x, w), w);
}

Tensor mT(const Tensor& x, Where w) { return swap_last_two(x, w); }

// v (..., k) -> (..., k, k) with v on the diagonal.
Tensor diag_matrix(const Tensor& v, Where w) {
  return new_axis(v, -1, w) * eye(v.dim(-1), v.dtype(), w);
}

// The matrix 1 / (v_j - v_i) off the diagonal, 0 on it (v: (..., k)).
Tensor inverse_gaps(const Tensor& v, Where w) {
  Tensor same = eye(v.dim(-1), DType::bool_, w);
  Tensor gap = new_axis(v, -2, w) - new_axis(v, -1, w);
  return select(same, zeros({}, v.dtype(), w), 1.0 / select(same, ones({}, v.dtype(), w), gap, w), w);
}

// x r^-T for upper triangular r.
Tensor times_inverse_rt(const Tensor& x, const Tensor& r, Where w) {
  return linalg::triangular_solve(r, x, {.left_side = false, .lower = false, .transform_a = linalg::Transform::transpose},
                                  w);
}

// qr with m >= n (reduced): a = q r, q (m, n), r (n, n) upper (the rule TensorFlow uses).
Tensor qr_tall_vjp(const Tensor& q, const Tensor& r, const Tensor& gq, const Tensor& gr, Where w) {
  Tensor qdq = matmul(mT(q, w), gq, w), rdr = matmul(r, mT(gr, w), w);
  Tensor low = triangle(qdq - mT(qdq, w) + rdr - mT(rdr, w), true, 1.0, w);
  return matmul(q, gr + times_inverse_rt(low, r, w), w) + times_inverse_rt(gq - matmul(q, qdq, w), r, w);
}

// svd with m <= n, reduced: a = u diag(s) vt, u (m, m), vt (m, n).
Tensor svd_wide_vjp(const Tensor& u, const Tensor& s, const Tensor& vt, const Tensor& gu, const Tensor& gs,
                    const Tensor& gvt, Where w) {
  Tensor f = inverse_gaps(s * s, w), sm = diag_matrix(s, w);
  Tensor v = mT(vt, w), gv = mT(gvt, w);
  Tensor ju = matmul(mT(u, w), gu, w), jv = matmul(vt, gv, w);
  Tensor core = diag_matrix(gs, w) + matmul(f * (ju - mT(ju, w)), sm, w) + matmul(sm, f * (jv - mT(jv, w)), w);
  Tensor outside = gvt - matmul(matmul(gvt, v, w), vt, w);  // the part of gv^T off v's span
  return matmul(matmul(u, core, w), vt, w) + matmul(u, new_axis(1.0 / s, -1, w) * outside, w);
}

Grads linalg_vjp(const Node& n, const std::vector<Tensor>& in, const std::vector<Tensor>& outs, const std::vector<Tensor>& gs,
                 Where w) {
  namespace la = linalg;
  const Tensor& a = in[0];
  const Tensor& g = gs[0];
  switch (n.op) {
    case Op::Solve: {
      Tensor gb = la::solve(swap_last_two(a, w), g, w);
      return {-matmul(gb, swap_last_two(outs[0], w), w), gb};
    }
    case Op::TriangularSolve: {
      bool lower = n.attrs.flag, left = n.attrs.flag2, trans = n.attrs.flag3;
      la::Transform back = trans ? la::Transform::none : la::Transform::transpose;
      Tensor gb = la::triangular_solve(a, g, {.left_side = left, .lower = lower, .transform_a = back}, w);
      // Gradient of op(a), then of a, restricted to the triangle that is read.
      Tensor gop = left ? -matmul(gb, swap_last_two(outs[0], w), w) : -matmul(swap_last_two(outs[0], w), gb, w);
      return {triangle(trans ? swap_last_two(gop, w) : gop, lower, 1.0, w), gb};
    }
    case Op::Determinant: {
      Tensor scale = new_axis(new_axis(g * outs[0], -1, w), -1, w);
      return {scale * swap_last_two(la::invert(a, w), w)};
    }
    case Op::Cholesky: {
      // Murray (2016): S = L^-T Phi(L^T G) L^-1 with Phi = lower triangle, halved diagonal;
      // a's lower triangle is what the op reads, so fold the symmetric part onto it.
      const Tensor& l = outs[0];
      Tensor p = triangle(matmul(swap_last_two(l, w), g, w), true, 0.5, w);
      Tensor left = la::triangular_solve(l, p, {.left_side = true, .lower = true, .transform_a = la::Transform::transpose}, w);
      Tensor sgrad = la::triangular_solve(l, left, {.left_side = false, .lower = true}, w);
      Tensor sym = (sgrad + swap_last_two(sgrad, w)) * 0.5;
      return {triangle(sym * 2.0, true, 0.5, w)};
    }
    case Op::Qr: {
      const Tensor &q = outs[0], &r = outs[1];
      int64_t m = a.dim(-2), c = a.dim(-1);
      if (m >= c) {
        if (n.attrs.flag && m > c)
          throw Error("qr", "has no gradient in complete mode for tall matrices (q's extra columns are not unique); "
                            "use QrMode::reduced", n.where);
        return {qr_tall_vjp(q, r, gs[0], gs[1], w)};
      }
      // Wide: a = [x | y], r = [rx | ry] with x = q rx square; y = q ry.
      Tensor y = slice_along_axis(a, -1, m, c - m, 1, w);
      Tensor rx = slice_along_axis(r, -1, 0, m, 1, w);
      Tensor grx = slice_along_axis(gs[1], -1, 0, m, 1, w), gry = slice_along_axis(gs[1], -1, m, c - m, 1, w);
      Tensor gx = qr_tall_vjp(q, rx, gs[0] + matmul(y, mT(gry, w), w), grx, w);
      return {concatenate({gx, matmul(q, gry, w)}, -1, w)};
    }
    case Op::Eigh: {
      if (n.attrs.k != 0)
        throw Error("eigh", "has no gradient when only the largest eigenpairs are computed (EighOpts.largest)",
                    n.where);
      // a = v diag(e) v^T: v (diag(ge) + F o (v^T gv)) v^T, folded onto the lower triangle
      // that eigh reads. Repeated eigenvalues make F infinite: no gradient there.
      const Tensor &e = outs[0], &v = outs[1];
      Tensor inner = diag_matrix(gs[0], w) + inverse_gaps(e, w) * matmul(mT(v, w), gs[1], w);
      Tensor ga = matmul(matmul(v, inner, w), mT(v, w), w);
      return {triangle(ga + mT(ga, w), true, 0.5, w)};
    }
    case Op::Lu: {
      // a = p l u (square): p l^-T (tril(l^T gl, -1) + triu(gu u^T)) u^-T; p is piecewise constant.
      if (a.dim(-1) != a.dim(-2))
        throw Error("lu", "has a gradient only for square matrices, got " + a.shape().str(), n.where);
      const Tensor &p = outs[0], &l = outs[1], &u = outs[2];
      Tensor phi = triangle(matmul(mT(l, w), gs[1], w), true, 0.0, w) + triangle(matmul(gs[2], mT(u, w), w), false, 1.0, w);
      Tensor left = la::triangular_solve(l, phi, {.left_side = true, .lower = true, .transform_a = la::Transform::transpose}, w);
      return {matmul(p, times_inverse_rt(left, u, w), w)};
    }
    case Op::Svd: {
      int64_t m = a.dim(-2), c = a.dim(-1);
      if (n.attrs.flag && m != c)
        throw Error("svd", "has no gradient with full_matrices = true for non-square matrices (the extra singular "
                           "vectors are not unique); use full_matrices = false", n.where);
      if (m <= c) return {svd_wide_vjp(outs[0], outs[1], outs[2], gs[0], gs[1], gs[2], w)};
      // Tall: a^T = v diag(s) u^T is wide.
      return {mT(svd_wide_vjp(mT(outs[2], w), outs[1], mT(outs[0], w), mT(gs[2], w), gs[1], mT(gs[0], w), w), w)};
    }
    default: throw Error(std::string(op_name(n.op)), "has no gradient rule yet (nx::grad)", n.where);
  }
}

// conv: the input gradient is a convolution of g (dilated by the strides) with the
// flipped, channel-transposed kernel; the kernel gradient convolves the input with g,
// batch and feature dims swapped (feature groups become batch groups, as XLA does).
Grads conv_vjp(const Node& n, const Tensor& x, const Tensor& k, const Tensor& g, Where w) {
  const Attrs& at = n.attrs;
  int ns = x.rank() - 2;
  if (at.k2 != 1) {
    // Batch groups are feature groups of x with its batch groups moved into the features:
    // (G*B, C, ...) -> (B, G*C, ...). Differentiate that form.
    int64_t groups = at.k2, per = x.dim(0) / groups;
    Leaves leaves{grad_leaf(x, w), grad_leaf(k, w)};
    Shape split{groups, per};
    std::vector<int> perm{1, 0};
    Shape merged{per, groups * x.dim(1)};
    for (int i = 1; i < x.rank(); ++i) split.push_back(x.dim(i)), perm.push_back(i + 1);
    for (int i = 0; i < ns; ++i) merged.push_back(x.dim(2 + i));
    Tensor xf = reshape(transpose(reshape(leaves[0], split, w), perm, w), merged, w);
    std::vector<std::pair<int64_t, int64_t>> padding;
    for (int i = 0; i < ns; ++i) padding.emplace_back(at.lo[static_cast<size_t>(i)], at.hi[static_cast<size_t>(i)]);
    Tensor y = conv(xf, leaves[1], {.strides = at.strides, .padding = padding, .input_dilation = at.lhs_dilation,
                                    .kernel_dilation = at.rhs_dilation, .feature_group_size = groups}, w);
    return backprop({y}, {g}, leaves, w);
  }
  int64_t groups = at.k, out_ch = k.dim(0), in_per_group = k.dim(1);
  std::vector<int> spatial, swap01{1, 0};
  for (int i = 0; i < ns; ++i) spatial.push_back(2 + i), swap01.push_back(2 + i);
  // Kernel (O, C/G, ...) -> (C, O/G, ...), reversed in space.
  Shape grouped{groups, out_ch / groups, in_per_group};
  for (int i = 0; i < ns; ++i) grouped.push_back(k.dim(2 + i));
  std::vector<int> perm{0, 2, 1};
  for (int i = 0; i < ns; ++i) perm.push_back(3 + i);
  Shape flipped_shape{groups * in_per_group, out_ch / groups};
  for (int i = 0; i < ns; ++i) flipped_shape.push_back(k.dim(2 + i));
  Tensor kt = reverse(reshape(transpose(reshape(k, grouped, w), perm, w), flipped_shape, w), spatial, w);
  std::vector<std::pair<int64_t, int64_t>> in_pad, k_pad;
  std::vector<int64_t> ones(static_cast<size_t>(ns), 1), starts(static_cast<size_t>(x.rank()), 0),
      lengths = x.shape().to_vector(), strides(static_cast<size_t>(x.rank()), 1);
  for (int i = 0; i < ns; ++i) {
    size_t u = static_cast<size_t>(i);
    int64_t span = (k.dim(2 + i) - 1) * at.rhs_dilation[u], p = g.dim(2 + i), xs = x.dim(2 + i);
    int64_t gd = p > 0 ? (p - 1) * at.strides[u] + 1 : 0;
    int64_t need = xs > 0 ? (xs - 1) * at.lhs_dilation[u] + 1 : 0;
    in_pad.emplace_back(span - at.lo[u], need - gd + at.lo[u]);
    k_pad.emplace_back(at.lo[u], at.hi[u]);
    lengths[static_cast<size_t>(2 + i)] = need;
    strides[static_cast<size_t>(2 + i)] = at.lhs_dilation[u];
  }
  Tensor gx_full = conv(g, kt, {.strides = ones, .padding = in_pad, .input_dilation = at.strides,
                                .kernel_dilation = at.rhs_dilation, .feature_group_size = groups}, w);
  Tensor gx = detail::slice_extents(gx_full, starts, lengths, strides, w);
  Tensor gk_full = conv(transpose(x, swap01, w), transpose(g, swap01, w),
                        {.strides = at.rhs_dilation, .padding = k_pad, .input_dilation = at.lhs_dilation,
                         .kernel_dilation = at.strides, .batch_group_size = groups}, w);
  std::vector<int64_t> kstart(static_cast<size_t>(k.rank()), 0), klen = gk_full.shape().to_vector();
  for (int i = 0; i < ns; ++i) klen[static_cast<size_t>(2 + i)] = k.dim(2 + i);
  Tensor gk = transpose(slice(gk_full, kstart, klen, {}, w), swap01, w);
  return {gx, gk};
}

// ---- control flow: the bodies are replayed (call_graph) and differentiated in place ----
Leaves concat(Leaves a, const Leaves& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

// Replaces the float entries of `args` by gradient leaves; returns the leaves.
Leaves make_leaves(Leaves& args, Where w) {
  Leaves leaves;
  for (Tensor& t : args)
    if (is_float(t.dtype())) leaves.push_back(t = grad_leaf(t, w));
  return leaves;
}

// cond: a cond of the two branches' VJPs, each giving zeros for the other's captures.
Grads cond_vjp(const Node& n, const std::vector<Tensor>& in, const std::vector<Tensor>& g, Where w) {
  size_t n_true = static_cast<size_t>(n.attrs.k);
  std::vector<size_t> diff;  // inputs that get a gradient: the float captures
  for (size_t i = 1; i < in.size(); ++i)
    if (is_float(in[i].dtype())) diff.push_back(i);
  if (diff.empty()) return Grads(in.size());
  auto branch = [&](size_t first, size_t count, const Graph& body) {
    return [&, first, count](const Leaves&) {
      Leaves args(in.begin() + static_cast<ptrdiff_t>(first), in.begin() + static_cast<ptrdiff_t>(first + count));
      Leaves leaves = make_leaves(args, w);
      Leaves gl = backprop(call_graph(body, args), g, leaves, w);
      Leaves r;
      size_t pos = 0;
      for (size_t i : diff) r.push_back(i >= first && i < first + count ? gl[pos++] : zeros_like(in[i], w));
      return r;
    };
  };
  Leaves r = cond_leaves(in[0], branch(1, n_true, *n.attrs.bodies[0]),
                         branch(1 + n_true, in.size() - 1 - n_true, *n.attrs.bodies[1]), w);
  Grads out(in.size());
  for (size_t k = 0; k < diff.size(); ++k) out[diff[k]] = r[k];
  return out;
}

// while: the trip count n is found by rerunning the loop; then a loop for k = n-1 .. 0
// recomputes the state after k steps from the initial state (O(n^2) body runs, O(1)
// memory: no trajectory is stored, shapes stay static) and pulls the cotangent back
// through one step. The condition is piecewise constant: its captures get no gradient.
Grads while_vjp(const Node& n, const std::vector<Tensor>& in, const std::vector<Tensor>& g, Where w) {
  size_t ns = n.outputs.size(), n_cond = static_cast<size_t>(n.attrs.k);
  const Graph& cond_graph = *n.attrs.bodies[0];
  const Graph& body_graph = *n.attrs.bodies[1];
  auto part = [&](size_t first, size_t count) {
    return Leaves(in.begin() + static_cast<ptrdiff_t>(first), in.begin() + static_cast<ptrdiff_t>(first + count));
  };
  Leaves init = part(0, ns), cond_caps = part(ns, n_cond), body_caps = part(ns + n_cond, in.size() - ns - n_cond);
  bool any_float = false;
  for (size_t i = 0; i < in.size(); ++i) any_float |= (i < ns || i >= ns + n_cond) && is_float(in[i].dtype());
  if (!any_float) return Grads(in.size());
  Tensor zero = scalar(0, i64, w);
  auto first = [&](const Leaves& l) { return Leaves(l.begin(), l.begin() + static_cast<ptrdiff_t>(ns)); };
  // The state and a step counter, advanced by one body run.
  auto counted_step = [&](const Leaves& l) {
    Leaves next = call_graph(body_graph, concat(first(l), body_caps));
    next.push_back(l[ns] + 1);
    return next;
  };
  Tensor trips = while_leaves(
      concat(init, {zero}), [&](const Leaves& l) { return call_graph(cond_graph, concat(first(l), cond_caps)); },
      counted_step, w)[ns];
  std::vector<size_t> float_caps;
  for (size_t j = 0; j < body_caps.size(); ++j)
    if (is_float(body_caps[j].dtype())) float_caps.push_back(j);
  // Backward state: steps left, the state's cotangent, the captures' accumulated gradient.
  Leaves back{trips};
  for (size_t i = 0; i < ns; ++i) back.push_back(is_float(init[i].dtype()) ? g[i] : zeros_like(init[i], w));
  for (size_t j : float_caps) back.push_back(zeros_like(body_caps[j], w));
  Leaves done = while_leaves(
      back, [&](const Leaves& l) { return Leaves{l[0] > 0}; },
      [&](const Leaves& l) {
        Tensor k = l[0] - 1;
        Leaves state = first(while_leaves(concat(init, {zero}), [&](const Leaves& s) { return Leaves{s[ns] < k}; },
                                          counted_step, w));
        Leaves caps = body_caps;
        Leaves leaves = concat(make_leaves(state, w), make_leaves(caps, w));
        Leaves gl = backprop(call_graph(body_graph, concat(state, caps)), Leaves(l.begin() + 1, l.begin() + 1 + static_cast<ptrdiff_t>(ns)), leaves, w);
        Leaves next{k};
        size_t pos = 0;
        for (size_t i = 0; i < ns; ++i) next.push_back(is_float(init[i].dtype()) ? gl[pos++] : l[1 + i]);
        for (size_t j = 0; j < float_caps.size(); ++j) next.push_back(l[1 + ns + j] + gl[pos++]);
        return next;
      },
      w);
  Grads out(in.size());
  for (size_t i = 0; i < ns; ++i)
    if (is_float(init[i].dtype())) out[i] = done[1 + i];
  for (size_t j = 0; j < float_caps.size(); ++j) out[ns + n_cond + float_caps[j]] = done[1 + ns + j];
  return out;
}

Grads vjp(const Node& n, const std::vector<Tensor>& in, const std::vector<Tensor>& outs, const std::vector<Tensor>& g,
          Where w) {
  switch (op_kind(n.op)) {
    case OpKind::Unary: return unary_vjp(n.op, in[0], outs[0], g[0], w);
    case OpKind::Binary: return binary_vjp(n.op, in[0], in[1], outs[0], g[0], w);
    case OpKind::Reduce: return reduce_vjp(n, in[0], outs[0], g[0], w);
    case OpKind::Linalg: return linalg_vjp(n, in, outs, g, w);
    default: break;
  }
  switch (n.op) {
    case Op::Select: {
      Tensor z = zeros_like(g[0], w);
      return {Tensor(), unbroadcast(select(in[0], g[0], z, w), in[1].shape(), w),
              unbroadcast(select(in[0], z, g[0], w), in[2].shape(), w)};
    }
    case Op::AsType: return {is_float(in[0].dtype()) ? as_type(g[0], in[0].dtype(), w) : Tensor()};
    case Op::HostCallback: return {g[0]};  // an identity on its input
    case Op::StopGrad:
    case Op::Bitcast:
    case Op::Argmax:
    case Op::Argmin:
    case Op::Iota:
    case Op::RandomBits:
    case Op::Argsort: return Grads(in.size());
    case Op::DotGeneral: return dot_vjp(n, in[0], in[1], g[0], w);
    case Op::Cond: return cond_vjp(n, in, g, w);
    case Op::While: return while_vjp(n, in, g, w);
    case Op::CustomGrad: {
      Grads out(in.size());
      size_t count = static_cast<size_t>(n.attrs.k);
      Leaves gi = call_graph(*n.attrs.bodies[0], concat({g[0]}, Leaves(in.begin() + 1 + static_cast<ptrdiff_t>(count), in.end())));
      for (size_t i = 0; i < count; ++i) out[1 + i] = gi[i];
      return out;
    }
    case Op::Conv: return conv_vjp(n, in[0], in[1], g[0], w);
    case Op::CumulativeSum:
    case Op::CumulativeProduct:
    case Op::CumulativeMax:
    case Op::CumulativeMin: return cumulative_vjp(n, in[0], outs[0], g[0], w);
    case Op::Sort: return sort_vjp(n, in[0], g[0], w);
    case Op::TopK: return top_k_vjp(in[0], outs[1], g[0], w);
    case Op::WindowSum: return window_sum_vjp(n, in[0], g[0], w);
    case Op::WindowMax:
    case Op::WindowMin: return window_extreme_vjp(n, in[0], g[0], w);
    case Op::WindowProduct: return window_product_vjp(n, in[0], outs[0], g[0], w);
    case Op::WindowScatterMax:
    case Op::WindowScatterMin: return window_scatter_vjp(n, in[0], g[0], w);
    default: break;
  }
  if (n.op == Op::Reshape || n.op == Op::Transpose || n.op == Op::Broadcast || n.op == Op::Slice ||
      n.op == Op::PutSlice || n.op == Op::Pad || n.op == Op::Concatenate || n.op == Op::Reverse ||
      n.op == Op::Gather || n.op == Op::IndexedAdd || n.op == Op::IndexedPut)
    return shape_vjp(n, in, g[0], w);
  throw Error(std::string(op_name(n.op)), "has no gradient rule yet (nx::grad)", n.where);
}

// Nodes reachable from `roots`, inputs before users.
std::vector<std::shared_ptr<const Node>> topological(const std::vector<std::shared_ptr<const Node>>& roots) {
  std::vector<std::shared_ptr<const Node>> order;
  std::unordered_set<const Node*> seen;
  for (const auto& root : roots) {
    if (!seen.insert(root.get()).second) continue;
    std::vector<std::pair<std::shared_ptr<const Node>, size_t>> stack{{root, 0}};
    while (!stack.empty()) {
      auto& [n, i] = stack.back();
      if (i < n->inputs.size()) {
        const auto& c = n->inputs[i++].node;
        if (seen.insert(c.get()).second) stack.push_back({c, 0});
      } else {
        order.push_back(n);
        stack.pop_back();
      }
    }
  }
  return order;
}

}  // namespace

Tensor grad_leaf(const Tensor& t, Where where) {
  if (!t.defined()) throw ValueError("grad", "an argument to differentiate is an undefined tensor", where);
  // A distinct node (a no-op reshape) so that gradients are collected for this use only.
  Tensor x = t.is_traced() ? t : make_traced(constant_value(t), t.is_weak());
  return apply1(Op::Reshape, {}, {x}, TensorType{t.dtype(), t.shape()}, where, t.is_weak());
}

std::vector<Tensor> backprop(const std::vector<Tensor>& ys, const std::vector<Tensor>& seeds,
                             const std::vector<Tensor>& leaves, Where where) {
  std::unordered_map<const Node*, size_t> leaf_index;
  for (size_t i = 0; i < leaves.size(); ++i) leaf_index[leaves[i].impl()->value.node.get()] = i;
  std::vector<Tensor> leaf_grads(leaves.size());
  std::unordered_map<const Node*, std::vector<Tensor>> ct;  // cotangents of each node's outputs
  auto accumulate = [&](const Value& v, const Tensor& g) {
    auto& slot = ct[v.node.get()];
    slot.resize(v.node->outputs.size());
    Tensor& s = slot[static_cast<size_t>(v.index)];
    s = s.defined() ? add(s, g, where) : g;
  };
  std::vector<std::shared_ptr<const Node>> roots;
  for (size_t i = 0; i < ys.size(); ++i) {
    if (!ys[i].is_traced() || !is_float(ys[i].dtype()) || !seeds[i].defined()) continue;
    const Value& v = ys[i].impl()->value;
    roots.push_back(v.node);
    accumulate(v, seeds[i].dtype() == ys[i].dtype() ? seeds[i] : as_type(seeds[i], ys[i].dtype(), where));
  }
  auto order = topological(roots);
  // Only nodes that depend on a leaf carry gradients.
  std::unordered_set<const Node*> live;
  for (const auto& sp : order) {
    const Node* n = sp.get();
    bool d = leaf_index.count(n) > 0;
    for (const Value& v : n->inputs) d |= live.count(v.node.get()) > 0;
    if (d) live.insert(n);
  }
  for (auto it = order.rbegin(); it != order.rend(); ++it) {
    const Node* n = it->get();
    auto found = ct.find(n);
    if (found == ct.end() || !live.count(n)) continue;
    std::vector<Tensor> g = std::move(found->second);
    ct.erase(found);
    if (auto li = leaf_index.find(n); li != leaf_index.end()) {
      leaf_grads[li->second] = g[0];
      continue;  // leaves are terminal
    }
    std::vector<Tensor> ins, outs;
    for (const Value& v : n->inputs) ins.push_back(traced(v));
    for (int k = 0; k < static_cast<int>(n->outputs.size()); ++k) outs.push_back(traced(Value{*it, k}));
    for (size_t k = 0; k < g.size(); ++k)
      if (!g[k].defined()) g[k] = zeros(n->outputs[k].shape, n->outputs[k].dtype, where);
    Grads gi = vjp(*n, ins, outs, g, where);
    for (size_t k = 0; k < n->inputs.size(); ++k) {
      const Value& v = n->inputs[k];
      if (gi[k].defined() && live.count(v.node.get()) && is_float(v.type().dtype)) accumulate(v, gi[k]);
    }
  }
  std::vector<Tensor> result;
  for (size_t i = 0; i < leaves.size(); ++i) {
    const Tensor& g = leaf_grads[i];
    if (!g.defined()) result.push_back(zeros_like(leaves[i], where));
    else result.push_back(g.dtype() == leaves[i].dtype() ? g : as_type(g, leaves[i].dtype(), where));
  }
  return result;
}

std::vector<Tensor> jvp_leaves(const std::function<std::vector<Tensor>(const std::vector<Tensor>&)>& fn,
                               const std::vector<Tensor>& primals, const std::vector<Tensor>& tangents,
                               std::vector<Tensor>& ys, Where where) {
  bool same = primals.size() == tangents.size();
  for (size_t i = 0; same && i < primals.size(); ++i) {
    if (!primals[i].defined() || !tangents[i].defined())
      throw ValueError("jvp", "a primal or tangent is an undefined tensor", where);
    same = primals[i].impl()->type == tangents[i].impl()->type;
  }
  if (!same) throw ShapeError("jvp", "the tangents " + shapes_str(tangents) + " must match the primals " +
                                         shapes_str(primals) + " in structure, shapes and dtypes", where);
  std::vector<Tensor> leaves, seeds;
  for (const Tensor& p : primals) leaves.push_back(grad_leaf(p, where));
  ys = fn(leaves);
  for (const Tensor& y : ys) {
    if (!y.defined()) throw ValueError("jvp", "the function returned an undefined tensor", where);
    seeds.push_back(grad_leaf(zeros_like(y, where), where));
  }
  return backprop(backprop(ys, seeds, leaves, where), tangents, seeds, where);
}

std::vector<Tensor> backprop(const Tensor& y, const std::vector<Tensor>& leaves, Where where) {
  if (!y.defined()) throw ValueError("grad", "the function returned an undefined tensor", where);
  if (y.rank() != 0 || !is_float(y.dtype()))
    throw ValueError("grad", "the function must return a float scalar, got " + std::string(name(y.dtype())) +
                                 y.shape().str() + " (reduce it, e.g. with nx::sum or nx::mean)", where);
  return backprop({y}, {ones_like(y, where)}, leaves, where);
}

}  // namespace detail
}  // namespace nx
