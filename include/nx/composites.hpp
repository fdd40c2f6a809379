// Composite operations written with primitives (so every backend and autodiff get them
// for free): statistics, softmax family, clip/where, outer, matmul, one_hot, einsum, and
// the small numpy/PyTorch ops (split, chunk, tril/triu, isclose, square, expand_dims,
// median, quantile).
#pragma once
#include <initializer_list>
#include <string>
#include <type_traits>
#include <vector>

#include "nx/ops.hpp"

namespace nx {

namespace detail {
// Integers and bool average to f32, as Nx does.
inline Tensor as_float(const Tensor& x, Where where) {
  return is_float(x.dtype()) ? x : as_type(x, f32, where);
}
// The number of elements `opts.axes` reduce over.
int64_t reduced_count(const Tensor& x, const Axes& axes, Where where);
}  // namespace detail

inline Tensor mean(const Tensor& x, ReduceOpts opts = {}, Where where = Where::current()) {
  Tensor xf = detail::as_float(x, where);
  double n = static_cast<double>(detail::reduced_count(x, opts.axes, where));
  return divide(sum(xf, opts, where), Tensor(n), where);
}
NX_AXES_FORM(mean, ReduceOpts)

struct VarianceOpts {
  detail::NamedFieldsOnly named_fields_only;
  Axes axes;
  bool keep_axes = false;
  int64_t ddof = 0;  // delta degrees of freedom: divides by n - ddof
};
inline Tensor variance(const Tensor& x, VarianceOpts opts = {}, Where where = Where::current()) {
  Tensor xf = detail::as_float(x, where);
  Tensor m = mean(xf, {.axes = opts.axes, .keep_axes = true}, where);
  Tensor d = subtract(xf, m, where);
  double n = static_cast<double>(detail::reduced_count(x, opts.axes, where) - opts.ddof);
  return divide(sum(multiply(d, d, where), {.axes = opts.axes, .keep_axes = opts.keep_axes}, where), Tensor(n),
                where);
}
inline Tensor standard_deviation(const Tensor& x, VarianceOpts opts = {}, Where where = Where::current()) {
  return sqrt(variance(x, std::move(opts), where), where);
}
NX_AXES_FORM(variance, VarianceOpts)
NX_AXES_FORM(standard_deviation, VarianceOpts)

// log(sum(exp(x))) without overflow; all -inf gives -inf.
inline Tensor logsumexp(const Tensor& x, ReduceOpts opts = {}, Where where = Where::current()) {
  Tensor xf = detail::as_float(x, where);
  Tensor m = reduce_max(xf, {.axes = opts.axes, .keep_axes = true}, where);
  Tensor safe = select(is_infinity(m, where), zeros_like(m, where), m, where);
  Tensor s = sum(exp(subtract(xf, safe, where), where), {.axes = opts.axes, .keep_axes = opts.keep_axes}, where);
  Tensor shift = opts.keep_axes ? safe : squeeze(safe, opts.axes.all() ? Axes{} : opts.axes, where);
  return add(log(s, where), shift, where);
}
NX_AXES_FORM(logsumexp, ReduceOpts)

struct SoftmaxOpts {
  detail::NamedFieldsOnly named_fields_only;
  int axis = -1;
};
inline Tensor softmax(const Tensor& x, SoftmaxOpts opts = {}, Where where = Where::current()) {
  Tensor xf = detail::as_float(x, where);
  Tensor m = reduce_max(xf, {.axes = opts.axis, .keep_axes = true}, where);
  Tensor e = exp(subtract(xf, m, where), where);
  return divide(e, sum(e, {.axes = opts.axis, .keep_axes = true}, where), where);
}
inline Tensor log_softmax(const Tensor& x, SoftmaxOpts opts = {}, Where where = Where::current()) {
  Tensor xf = detail::as_float(x, where);
  return subtract(xf, logsumexp(xf, {.axes = opts.axis, .keep_axes = true}, where), where);
}
NX_AXIS_FORM(softmax, SoftmaxOpts)
NX_AXIS_FORM(log_softmax, SoftmaxOpts)

// min(max(x, lo), hi); NaN stays NaN.
inline Tensor clip(const Tensor& x, const Tensor& lo, const Tensor& hi, Where where = Where::current()) {
  return min(max(x, lo, where), hi, where);
}
inline Tensor where(const Tensor& pred, const Tensor& on_true, const Tensor& on_false,
                    Where at = Where::current()) {
  return select(pred, on_true, on_false, at);
}
// Every element of a times every element of b: shape (a.size, b.size) (flattened, as Nx).
inline Tensor outer(const Tensor& a, const Tensor& b, Where where = Where::current()) {
  return multiply(reshape(a, {-1, 1}, where), reshape(b, {1, -1}, where), where);
}

// numpy.matmul: 1-D operands are promoted to matrices, batch dims broadcast.
Tensor matmul(const Tensor& a, const Tensor& b, Where where = Where::current());

struct OneHotOpts {
  DType dtype = f32;
};
// x[..., i] == class i; out-of-range indices give an all-zero row.
inline Tensor one_hot(const Tensor& indices, int64_t num_classes, OneHotOpts opts = {},
                      Where where = Where::current()) {
  Shape s = indices.shape();
  s.push_back(num_classes);
  Tensor classes = iota(s, indices.dtype(), s.rank() - 1, where);
  return as_type(equal(new_axis(indices, -1, where), classes, where), opts.dtype, where);
}

// Einstein summation for one or two operands, e.g. "ij,jk->ik", "bij,bjk->bik", "ii->i" is
// not supported (no diagonals); "ij->" sums everything. Without "->" the output is the
// letters used once, in alphabetical order (as numpy).
Tensor einsum(const std::string& spec, const Tensor& a, Where where = Where::current());
Tensor einsum(const std::string& spec, const Tensor& a, const Tensor& b, Where where = Where::current());

// ---- small ops users expect from numpy and PyTorch ----

// numpy.split along `axis` into `sections` equal pieces: a ValueError when they do not
// divide the dim (chunk allows an unequal last piece).
std::vector<Tensor> split(const Tensor& x, int64_t sections, int axis = 0, Where where = Where::current());
// numpy.split at `indices`: x[:i0], x[i0:i1], ..., x[ik:] along `axis`, with slicing's
// rules (a negative index counts from the end, indices are clamped to the dim, and a
// smaller index after a larger one gives an empty piece).
std::vector<Tensor> split(const Tensor& x, const std::vector<int64_t>& indices, int axis = 0,
                          Where where = Where::current());
// A brace list is indices even with one element: `split(x, {2})` cuts at 2, as
// numpy.split(x, [2]) (C++ prefers initializer_list parameters for brace lists).
inline std::vector<Tensor> split(const Tensor& x, std::initializer_list<int64_t> indices, int axis = 0,
                                 Where where = Where::current()) {
  return split(x, std::vector<int64_t>(indices), axis, where);
}
// torch.chunk: pieces of ceil(dim / n) along `axis`, the last one smaller, so fewer than
// n pieces when the dim is small (5 into 4 gives 2, 2, 1); a dim of 0 gives n empty pieces.
std::vector<Tensor> chunk(const Tensor& x, int64_t n, int axis = 0, Where where = Where::current());

// The lower (tril) or upper (triu) triangle of the last two axes, zeros elsewhere, as
// numpy: tril keeps column - row <= k, triu column - row >= k (k > 0: above the diagonal).
Tensor tril(const Tensor& x, int64_t k = 0, Where where = Where::current());
Tensor triu(const Tensor& x, int64_t k = 0, Where where = Where::current());

struct IsCloseOpts {
  detail::NamedFieldsOnly named_fields_only;
  double rtol = 1e-5;
  double atol = 1e-8;
  bool equal_nan = false;
};
// |a - b| <= atol + rtol * |b| elementwise, broadcasting, as numpy.isclose -> bool:
// an infinity is close only to itself, NaN to nothing unless equal_nan. Floats compare in
// their promoted dtype, integers and bool in f64.
Tensor isclose(const Tensor& a, const Tensor& b, IsCloseOpts opts = {}, Where where = Where::current());
// Whether every element is close, as a C++ bool: it reads the values, so it is eager only;
// inside nx::jit or grad (traced tensors) it raises ValueError: use all(isclose(a, b)).
bool allclose(const Tensor& a, const Tensor& b, IsCloseOpts opts = {}, Where where = Where::current());

inline Tensor square(const Tensor& x, Where where = Where::current()) { return multiply(x, x, where); }

// numpy.expand_dims: size-1 axes inserted at `axes` (one or several), which are positions
// in the result, so negative ones count from the result's end.
Tensor expand_dims(const Tensor& x, const Axes& axes, Where where = Where::current());

// numpy.median over `axes` (default every axis; several are flattened together): the
// middle sorted value or the mean of the two middle ones. NaN when the values hold a NaN
// (as numpy) or are empty. Integers and bool give f32, as mean.
Tensor median(const Tensor& x, ReduceOpts opts = {}, Where where = Where::current());
NX_AXES_FORM(median, ReduceOpts)

// numpy's interpolation between the sorted values around the virtual index q * (n - 1):
// linear (the default), the lower or higher neighbour, the nearest (ties to the even
// index, as numpy), or the midpoint of the two.
enum class QuantileMethod { linear, lower, higher, nearest, midpoint };
struct QuantileOpts {
  detail::NamedFieldsOnly named_fields_only;
  Axes axes;  // default: every axis, flattened together
  bool keep_axes = false;
  QuantileMethod method = QuantileMethod::linear;
};
// numpy.quantile: q (a number or a tensor of quantiles in [0, 1]) of x over `axes`. The
// result has q's dims first, then x's remaining dims (or x's dims with the reduced ones
// as 1, with keep_axes). A NaN among the values gives NaN. linear and midpoint compute in
// a float dtype (integers as f32); lower, higher and nearest keep x's dtype. q outside
// [0, 1] is a ValueError when q has values (not while traced).
Tensor quantile(const Tensor& x, const Tensor& q, QuantileOpts opts = {}, Where where = Where::current());
// `quantile(x, q, 1)`, `quantile(x, q, {0, 1})`: the axes alone (as NX_AXES_FORM).
template <class A = Axes>
Tensor quantile(const Tensor& x, const Tensor& q, std::type_identity_t<A> axes, Where where = Where::current()) {
  return quantile(x, q, QuantileOpts{.axes = std::move(axes)}, where);
}

}  // namespace nx
