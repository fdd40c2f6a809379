// Front ends of sort, argsort and top_k. All three are stable: equal elements (including
// -0.0 and 0.0, and NaN with NaN) keep their original order in both directions, as
// jax.numpy.argsort(stable=True, descending=...) does.
#include "nx/detail/core.hpp"

namespace nx {
namespace {

Attrs sort_attrs(const Tensor& x, const SortOpts& o, const char* op, Where where) {
  Attrs a;
  a.axes = {detail::normalize_axis(o.axis, x.rank(), op, where)};
  a.flag = o.direction == Direction::desc;
  return a;
}

}  // namespace

Tensor sort(const Tensor& x, SortOpts o, Where where) {
  Attrs a = sort_attrs(x, o, "sort", where);
  return detail::apply1(Op::Sort, std::move(a), {x}, TensorType{x.dtype(), x.shape()}, where, x.is_weak());
}

Tensor argsort(const Tensor& x, SortOpts o, Where where) {
  Attrs a = sort_attrs(x, o, "argsort", where);
  return detail::apply1(Op::Argsort, std::move(a), {x}, TensorType{DType::i64, x.shape()}, where);
}

// The first k of a stable descending sort along the last axis: NaN counts as the largest.
std::pair<Tensor, Tensor> top_k(const Tensor& x, int64_t k, Where where) {
  std::string ctx = std::string(name(x.dtype())) + x.shape().str();
  if (x.rank() == 0) throw ShapeError("top_k", "needs at least rank 1, got " + ctx, where);
  int64_t len = x.shape()[x.rank() - 1];
  if (k < 0 || k > len)
    throw ValueError("top_k", "k must be in [0, " + std::to_string(len) + "] (the last dimension), got " +
                                  std::to_string(k) + " for " + ctx, where);
  Attrs a;
  a.axes = {x.rank() - 1};
  a.flag = true;
  a.k = k;
  Shape out = x.shape();
  out[out.rank() - 1] = k;
  std::vector<Tensor> r = detail::apply(Op::TopK, std::move(a), std::vector{x},
                                        {TensorType{x.dtype(), out}, TensorType{DType::i64, out}}, where);
  return {r[0], r[1]};
}

}  // namespace nx
