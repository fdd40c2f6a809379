// The small numpy/PyTorch ops of composites.hpp (split, chunk, tril/triu, isclose,
// expand_dims, median, quantile), written with primitives so that they trace, differentiate
// and run on every backend.
#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "nx/composites.hpp"
#include "nx/detail/core.hpp"

namespace nx {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// The pieces x[bounds[i] : bounds[i + 1]] along `axis`; bounds are already in [0, dim], and
// a bound below its predecessor gives an empty piece (as slicing).
std::vector<Tensor> pieces_between(const Tensor& x, int axis, const std::vector<int64_t>& bounds, Where where) {
  std::vector<Tensor> pieces;
  for (size_t i = 0; i + 1 < bounds.size(); ++i) {
    int64_t length = std::max<int64_t>(0, bounds[i + 1] - bounds[i]);
    pieces.push_back(slice_along_axis(x, axis, bounds[i], length, 1, where));
  }
  return pieces;
}

}  // namespace

std::vector<Tensor> split(const Tensor& x, int64_t sections, int axis, Where where) {
  int ax = detail::normalize_axis(axis, x.rank(), "split", where);
  int64_t dim = x.dim(ax);
  if (sections <= 0)
    throw ValueError("split", "expects a positive number of sections, got " + std::to_string(sections), where);
  if (dim % sections != 0)
    throw ValueError("split", std::to_string(sections) + " sections do not divide axis " + std::to_string(ax) +
                                  " of shape " + x.shape().str() +
                                  " equally; use chunk for an unequal last piece, or give the split indices",
                     where);
  std::vector<int64_t> bounds;
  for (int64_t i = 0; i <= sections; ++i) bounds.push_back(i * (dim / sections));
  return pieces_between(x, ax, bounds, where);
}

std::vector<Tensor> split(const Tensor& x, const std::vector<int64_t>& indices, int axis, Where where) {
  int ax = detail::normalize_axis(axis, x.rank(), "split", where);
  int64_t dim = x.dim(ax);
  std::vector<int64_t> bounds{0};
  for (int64_t i : indices) bounds.push_back(std::clamp<int64_t>(i < 0 ? i + dim : i, 0, dim));
  bounds.push_back(dim);
  return pieces_between(x, ax, bounds, where);
}

std::vector<Tensor> chunk(const Tensor& x, int64_t n, int axis, Where where) {
  int ax = detail::normalize_axis(axis, x.rank(), "chunk", where);
  if (n <= 0) throw ValueError("chunk", "expects a positive number of chunks, got " + std::to_string(n), where);
  int64_t dim = x.dim(ax);
  // torch.chunk keeps the count of empty chunks when the dim is 0.
  if (dim == 0) return pieces_between(x, ax, std::vector<int64_t>(static_cast<size_t>(n) + 1, 0), where);
  int64_t piece = (dim + n - 1) / n;
  std::vector<int64_t> bounds;
  for (int64_t start = 0; start < dim; start += piece) bounds.push_back(start);
  bounds.push_back(dim);
  return pieces_between(x, ax, bounds, where);
}

namespace {

Tensor triangle(const Tensor& x, int64_t k, bool lower, const char* op, Where where) {
  if (x.rank() < 2)
    throw ShapeError(op, "expects a matrix or a batch of matrices (rank >= 2), got shape " + x.shape().str(), where);
  Shape matrix{x.dim(-2), x.dim(-1)};
  // column - row: 0 on the diagonal, k on the k-th diagonal above it.
  Tensor offset = subtract(iota(matrix, i64, 1, where), iota(matrix, i64, 0, where), where);
  Tensor keep = lower ? less_equal(offset, scalar(k, i64, where), where)
                      : greater_equal(offset, scalar(k, i64, where), where);
  return select(keep, x, scalar(0, x.dtype(), where), where);
}

}  // namespace

Tensor tril(const Tensor& x, int64_t k, Where where) { return triangle(x, k, true, "tril", where); }
Tensor triu(const Tensor& x, int64_t k, Where where) { return triangle(x, k, false, "triu", where); }

Tensor isclose(const Tensor& a, const Tensor& b, IsCloseOpts opts, Where where) {
  if (!(opts.rtol >= 0) || !(opts.atol >= 0))
    throw ValueError("isclose", "expects rtol and atol >= 0, got rtol " + std::to_string(opts.rtol) + " and atol " +
                                    std::to_string(opts.atol), where);
  broadcast_shapes(a.shape(), b.shape(), "isclose", where);
  DType common = promote(a.dtype(), a.is_weak(), b.dtype(), b.is_weak());
  // Integers in f64: exact, and their difference cannot overflow.
  DType dt = is_float(common) ? common : f64;
  Tensor af = as_type(a, dt, where), bf = as_type(b, dt, where);
  Tensor within = less_equal(abs(subtract(af, bf, where), where),
                             add(Tensor(opts.atol), multiply(Tensor(opts.rtol), abs(bf, where), where), where), where);
  // The tolerance test is meaningless at infinity (inf <= inf); infinities must be equal.
  Tensor finite = logical_not(logical_or(is_infinity(af, where), is_infinity(bf, where), where), where);
  Tensor close = logical_or(logical_and(within, finite, where), equal(af, bf, where), where);
  if (opts.equal_nan) close = logical_or(close, logical_and(is_nan(af, where), is_nan(bf, where), where), where);
  return close;
}

bool allclose(const Tensor& a, const Tensor& b, IsCloseOpts opts, Where where) {
  if (a.is_traced() || b.is_traced())
    throw ValueError("allclose",
                     "returns a C++ bool, so it needs values, but got traced tensors (inside nx::jit or grad); "
                     "use nx::all(nx::isclose(a, b)) there, which is a bool tensor",
                     where);
  return all(isclose(a, b, opts, where), {}, where).item<bool>(where);
}

Tensor expand_dims(const Tensor& x, const Axes& axes, Where where) {
  if (axes.all()) throw ValueError("expand_dims", "expects the positions of the new axes, got none", where);
  int out_rank = x.rank() + static_cast<int>(axes.list().size());
  if (out_rank > kMaxRank)
    throw ShapeError("expand_dims", "would give rank " + std::to_string(out_rank) + " from shape " +
                                        x.shape().str() + "; at most " + std::to_string(kMaxRank) + " dims",
                     where);
  // Positions are in the result, as numpy's.
  std::vector<int64_t> added = detail::normalize_axes(axes, out_rank, "expand_dims", where);
  Shape out;
  int next_dim = 0;
  for (int i = 0; i < out_rank; ++i) {
    bool is_new = std::find(added.begin(), added.end(), i) != added.end();
    out.push_back(is_new ? 1 : x.dim(next_dim++));
  }
  return reshape(x, out, where);
}

namespace {

// x's values over `axes`, sorted, as the last axis of a (kept dims..., n) tensor.
struct SortedLanes {
  Tensor sorted;
  Shape kept;       // x's dims that are not reduced
  Shape with_ones;  // x's dims with the reduced ones as 1 (keep_axes)
  int64_t n = 1;    // the values per lane
};

SortedLanes sorted_lanes(const Tensor& x, const Axes& axes, const char* op, Where where) {
  std::vector<int64_t> reduced = detail::normalize_axes(axes, x.rank(), op, where);
  SortedLanes lanes;
  std::vector<int> order;
  for (int i = 0; i < x.rank(); ++i) {
    bool is_reduced = std::find(reduced.begin(), reduced.end(), i) != reduced.end();
    lanes.with_ones.push_back(is_reduced ? 1 : x.dim(i));
    if (is_reduced) {
      lanes.n *= x.dim(i);
    } else {
      order.push_back(i);
      lanes.kept.push_back(x.dim(i));
    }
  }
  for (int64_t a : reduced) order.push_back(static_cast<int>(a));
  bool in_order = true;
  for (size_t i = 0; i < order.size(); ++i) in_order = in_order && order[i] == static_cast<int>(i);
  Tensor t = in_order ? x : transpose(x, order, where);
  Shape flat = lanes.kept;
  flat.push_back(lanes.n);
  lanes.sorted = sort(reshape(t, flat, where), {.axis = -1}, where);
  return lanes;
}

// NaN wherever a lane holds one: NaN sorts last, so the lane's last value tells.
// `r` has the lanes' kept dims first, then `trailing` more dims.
Tensor nan_where_lane_has_nan(const Tensor& r, const SortedLanes& lanes, int trailing, Where where) {
  Tensor last = slice_along_axis(lanes.sorted, -1, lanes.n - 1, 1, 1, where);
  Shape s = lanes.kept;
  for (int i = 0; i < trailing; ++i) s.push_back(1);
  Tensor has_nan = reshape(is_nan(last, where), s, where);
  return select(has_nan, scalar(kNaN, r.dtype(), where), r, where);
}

Tensor value_at(const SortedLanes& lanes, int64_t i, Where where) {
  return reshape(slice_along_axis(lanes.sorted, -1, i, 1, 1, where), lanes.kept, where);
}

}  // namespace

Tensor median(const Tensor& x, ReduceOpts opts, Where where) {
  Tensor xf = detail::as_float(x, where);
  SortedLanes lanes = sorted_lanes(xf, opts.axes, "median", where);
  Tensor r;
  if (lanes.n == 0) {
    r = full(lanes.kept, kNaN, xf.dtype(), where);  // numpy: the mean of an empty slice
  } else {
    Tensor low = value_at(lanes, (lanes.n - 1) / 2, where);
    if (lanes.n % 2 == 1) {
      r = low;
    } else {
      // Halves first: (a + b) / 2 would overflow for large values of one sign.
      Tensor high = value_at(lanes, lanes.n / 2, where);
      r = add(multiply(low, 0.5, where), multiply(high, 0.5, where), where);
    }
    r = nan_where_lane_has_nan(r, lanes, 0, where);
  }
  return opts.keep_axes ? reshape(r, lanes.with_ones, where) : r;
}

namespace {

// numpy's _lerp (a + (b - a) t, or b - (b - a)(1 - t) from t = 0.5 on, so that t = 1 gives b
// exactly), made sane at infinities and equal neighbours, where numpy gives NaN:
// lerp(x, x, t) = x, lerp(a, +inf, t > 0) = +inf, lerp(-inf, b, t > 0) = -inf.
Tensor lerp(const Tensor& a, const Tensor& b, const Tensor& t, Where where) {
  Tensor diff = subtract(b, a, where);
  Tensor r = select(greater_equal(t, 0.5, where), subtract(b, multiply(diff, subtract(1.0, t, where), where), where),
                    add(a, multiply(diff, t, where), where), where);
  constexpr double inf = std::numeric_limits<double>::infinity();
  Tensor a_neg_inf = equal(a, Tensor(-inf), where), b_pos_inf = equal(b, Tensor(inf), where);
  r = select(logical_and(b_pos_inf, logical_not(a_neg_inf, where), where), b, r, where);
  r = select(logical_and(a_neg_inf, logical_not(b_pos_inf, where), where), a, r, where);
  return select(logical_or(equal(t, 0.0, where), equal(a, b, where), where), a, r, where);
}

// round half to even (numpy.around), for the `nearest` method's index.
Tensor round_half_even(const Tensor& v, Where where) {
  Tensor below = floor(v, where);
  Tensor frac = subtract(v, below, where);
  Tensor below_is_odd = equal(remainder(below, 2.0, where), 1.0, where);
  Tensor up = logical_or(greater(frac, 0.5, where), logical_and(equal(frac, 0.5, where), below_is_odd, where), where);
  return select(up, add(below, 1.0, where), below, where);
}

void check_quantiles(const Tensor& q, Where where) {
  if (!is_float(q.dtype()) && !is_integer(q.dtype()))
    throw DTypeError("quantile", "expects numeric quantiles, got " + std::string(name(q.dtype())) + q.shape().str(),
                     where);
  if (q.is_traced()) return;  // no values yet: out-of-range quantiles clamp to the ends
  for (double v : q.to_vector<double>(where))
    if (!(v >= 0 && v <= 1))
      throw ValueError("quantile", "expects quantiles in [0, 1], got " + std::to_string(v), where);
}

}  // namespace

Tensor quantile(const Tensor& x, const Tensor& q, QuantileOpts opts, Where where) {
  check_quantiles(q, where);
  bool interpolates = opts.method == QuantileMethod::linear || opts.method == QuantileMethod::midpoint;
  Tensor xs = interpolates ? detail::as_float(x, where) : x;
  SortedLanes lanes = sorted_lanes(xs, opts.axes, "quantile", where);
  DType dt = xs.dtype();
  Shape result_shape = lanes.kept;  // lanes' kept dims, then q's dims; moved below
  for (int64_t d : q.shape()) result_shape.push_back(d);
  Tensor r;
  if (lanes.n == 0) {
    if (!is_float(dt))
      throw ValueError("quantile", "has no value to give for " + std::string(name(dt)) + " x of shape " +
                                       x.shape().str() + ": the reduced axes are empty",
                       where);
    r = full(result_shape, kNaN, dt, where);
  } else {
    double last = static_cast<double>(lanes.n - 1);
    // The virtual index q * (n - 1) between sorted values, in f64 whatever the dtypes.
    Tensor v = multiply(as_type(q, f64, where), last, where);
    auto index = [&](const Tensor& i) { return as_type(clip(i, Tensor(0.0), Tensor(last), where), i64, where); };
    auto at = [&](const Tensor& i) { return take(lanes.sorted, index(i), -1, where); };
    Tensor below = floor(v, where);
    switch (opts.method) {
      case QuantileMethod::lower: r = at(below); break;
      case QuantileMethod::higher: r = at(ceil(v, where)); break;
      case QuantileMethod::nearest: r = at(round_half_even(v, where)); break;
      case QuantileMethod::linear:
      case QuantileMethod::midpoint: {
        Tensor t = subtract(v, below, where);
        if (opts.method == QuantileMethod::midpoint) t = select(equal(t, 0.0, where), t, Tensor(0.5), where);
        r = lerp(at(below), at(add(below, 1.0, where)), as_type(t, dt, where), where);
        break;
      }
    }
    if (is_float(dt)) r = nan_where_lane_has_nan(r, lanes, q.rank(), where);
  }
  // numpy puts q's dims first.
  int kept = lanes.kept.rank();
  std::vector<int> q_first;
  for (int i = 0; i < q.rank(); ++i) q_first.push_back(kept + i);
  for (int i = 0; i < kept; ++i) q_first.push_back(i);
  if (kept > 0 && q.rank() > 0) r = transpose(r, q_first, where);
  if (!opts.keep_axes) return r;
  Shape s = q.shape();
  for (int64_t d : lanes.with_ones) s.push_back(d);
  return reshape(r, s, where);
}

}  // namespace nx
