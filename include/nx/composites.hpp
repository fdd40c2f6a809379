// Composite operations written with primitives (so every backend and autodiff get them
// for free): statistics, softmax family, clip/where, outer, matmul, one_hot, einsum.
#pragma once
#include <string>

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

}  // namespace nx
