// Tensor creation: zeros/ones/full (a broadcast scalar), iota, arange, linspace, eye.
#include <cmath>

#include "nx/detail/core.hpp"

namespace nx {

Tensor full(const Shape& shape, double value, DType dtype, Where where) {
  return broadcast(scalar(value, dtype, where), shape, {}, where);
}
Tensor zeros(const Shape& shape, DType dtype, Where where) { return full(shape, 0, dtype, where); }
Tensor ones(const Shape& shape, DType dtype, Where where) { return full(shape, 1, dtype, where); }
Tensor zeros_like(const Tensor& t, Where where) { return full(t.shape(), 0, t.dtype(), where); }
Tensor ones_like(const Tensor& t, Where where) { return full(t.shape(), 1, t.dtype(), where); }
Tensor full_like(const Tensor& t, double value, Where where) { return full(t.shape(), value, t.dtype(), where); }

Tensor iota(const Shape& shape, DType dtype, std::optional<int> axis, Where where) {
  if (dtype == DType::bool_) throw DTypeError("iota", "cannot count in bool", where);
  Attrs a;
  if (axis) {
    a.k = detail::normalize_axis(*axis, shape.rank(), "iota", where);
    return detail::apply1(Op::Iota, std::move(a), std::span<const Tensor>{}, TensorType{dtype, shape}, where);
  }
  // Without an axis, count over the flattened shape.
  a.k = 0;
  Tensor flat = detail::apply1(Op::Iota, std::move(a), std::span<const Tensor>{}, TensorType{dtype, Shape{shape.size()}},
                               where);
  return reshape(flat, shape, where);
}

Tensor arange(double start, double stop, double step, DType dtype, Where where) {
  if (step == 0 || !std::isfinite(start) || !std::isfinite(stop) || !std::isfinite(step))
    throw ValueError("arange", "needs finite start/stop and a non-zero step", where);
  double n = std::ceil((stop - start) / step);
  int64_t count = n > 0 ? static_cast<int64_t>(n) : 0;
  Tensor i = iota(Shape{count}, is_float(dtype) ? dtype : DType::f64, 0, where);
  Tensor v = add(multiply(i, step, where), start, where);
  return as_type(v, dtype, where);
}

Tensor arange(int64_t stop, DType dtype, Where where) {
  if (stop < 0) throw ValueError("arange", "stop must be >= 0", where);
  return iota(Shape{stop}, dtype, 0, where);
}

Tensor linspace(double start, double stop, int64_t n, DType dtype, bool endpoint, Where where) {
  if (n < 0) throw ValueError("linspace", "n must be >= 0", where);
  double div = endpoint ? static_cast<double>(n - 1) : static_cast<double>(n);
  double step = div > 0 ? (stop - start) / div : 0;
  Tensor i = iota(Shape{n}, DType::f64, 0, where);
  Tensor v = add(multiply(i, step, where), start, where);
  if (endpoint && n > 1) v = put_slice(v, {n - 1}, reshape(scalar(stop, DType::f64, where), {1}, where), where);
  return as_type(v, dtype, where);
}

Tensor eye(int64_t n, DType dtype, Where where) {
  if (n < 0) throw ValueError("eye", "n must be >= 0", where);
  Shape s{n, n};
  return as_type(equal(iota(s, DType::i64, 0, where), iota(s, DType::i64, 1, where), where), dtype, where);
}

}  // namespace nx
