// Front ends of gather / indexed_add / indexed_put, and take / take_along_axis on top.
#include "nx/detail/core.hpp"

namespace nx {
namespace {

using detail::apply1;

std::vector<int64_t> index_axes(const Tensor& x, const Tensor& idx, const GatherOpts& opts, const char* op,
                                Where where) {
  if (!is_integer(idx.dtype()))
    throw DTypeError(op, "indices must be integers, got " + std::string(name(idx.dtype())) + idx.shape().str(), where);
  if (idx.rank() == 0) throw ShapeError(op, "indices need a last axis of index tuples, got a scalar", where);
  int64_t k = idx.shape()[idx.rank() - 1];
  std::vector<int64_t> axes;
  if (opts.axes.empty()) {
    for (int64_t i = 0; i < k; ++i) axes.push_back(i);
  } else {
    for (int a : opts.axes) axes.push_back(detail::normalize_axis(a, x.rank(), op, where));
  }
  if (static_cast<int64_t>(axes.size()) != k || k > x.rank())
    throw ShapeError(op, "indices " + idx.shape().str() + " address " + std::to_string(k) + " axes but " +
                             std::to_string(axes.size()) + " axes of " + x.shape().str() + " are named", where);
  for (size_t i = 0; i < axes.size(); ++i)
    for (size_t j = 0; j < i; ++j)
      if (axes[i] == axes[j]) throw AxisError(op, "axis " + std::to_string(axes[i]) + " is repeated", where);
  // Clamping needs at least one element to clamp to.
  bool any_index = idx.size() > 0;
  for (int64_t a : axes)
    if (any_index && x.shape()[static_cast<int>(a)] == 0)
      throw ShapeError(op, "cannot index axis " + std::to_string(a) + " of " + x.shape().str() + ": it is empty",
                       where);
  return axes;
}

// indices.shape[:-1] + the dims of x not addressed.
Shape gathered_shape(const Tensor& x, const Tensor& idx, const std::vector<int64_t>& axes) {
  Shape out;
  for (int i = 0; i + 1 < idx.rank(); ++i) out.push_back(idx.shape()[i]);
  for (int i = 0; i < x.rank(); ++i)
    if (std::find(axes.begin(), axes.end(), i) == axes.end()) out.push_back(x.shape()[i]);
  return out;
}

Tensor scatter(Op op, const Tensor& x, const Tensor& idx, const Tensor& updates, const GatherOpts& opts, Where where) {
  const char* name_ = op_name(op).data();
  Attrs a;
  a.axes = index_axes(x, idx, opts, name_, where);
  Shape expect = gathered_shape(x, idx, a.axes);
  if (updates.shape() != expect)
    throw ShapeError(name_, "updates " + updates.shape().str() + " must have shape " + expect.str() + " for x " +
                                x.shape().str() + " and indices " + idx.shape().str(), where);
  Tensor u = as_type(updates, x.dtype(), where);
  return apply1(op, std::move(a), {x, idx, u}, TensorType{x.dtype(), x.shape()}, where);
}

}  // namespace

Tensor gather(const Tensor& x, const Tensor& indices, GatherOpts opts, Where where) {
  Attrs a;
  a.axes = index_axes(x, indices, opts, "gather", where);
  Shape out = gathered_shape(x, indices, a.axes);
  return apply1(Op::Gather, std::move(a), {x, indices}, TensorType{x.dtype(), out}, where);
}

Tensor indexed_add(const Tensor& x, const Tensor& indices, const Tensor& updates, GatherOpts opts, Where where) {
  return scatter(Op::IndexedAdd, x, indices, updates, opts, where);
}
Tensor indexed_put(const Tensor& x, const Tensor& indices, const Tensor& updates, GatherOpts opts, Where where) {
  return scatter(Op::IndexedPut, x, indices, updates, opts, where);
}

Tensor take(const Tensor& x, const Tensor& indices, int axis, Where where) {
  int ax = detail::normalize_axis(axis, x.rank(), "take", where);
  if (!is_integer(indices.dtype()))
    throw DTypeError("take", "indices must be integers, got " + std::string(name(indices.dtype())), where);
  // gather along `ax`, then move the index dims to where `ax` was.
  Tensor g = gather(x, new_axis(indices, -1, where), {.axes = {ax}}, where);
  int ir = indices.rank();
  if (ax == 0) return g;
  // g: indices dims (ir), then x dims without ax (r - 1). Want x[:ax], indices, x[ax+1:].
  std::vector<int> perm;
  for (int i = 0; i < ax; ++i) perm.push_back(ir + i);
  for (int i = 0; i < ir; ++i) perm.push_back(i);
  for (int i = ax; i < x.rank() - 1; ++i) perm.push_back(ir + i);
  return transpose(g, perm, where);
}

Tensor take_along_axis(const Tensor& x, const Tensor& indices, int axis, Where where) {
  int ax = detail::normalize_axis(axis, x.rank(), "take_along_axis", where);
  if (indices.rank() != x.rank())
    throw ShapeError("take_along_axis", "indices " + indices.shape().str() + " must have the rank of " +
                                            x.shape().str(), where);
  if (!is_integer(indices.dtype()))
    throw DTypeError("take_along_axis", "indices must be integers, got " + std::string(name(indices.dtype())), where);
  Shape ishape = indices.shape();
  for (int i = 0; i < x.rank(); ++i)
    if (i != ax && ishape[i] != x.shape()[i] && ishape[i] != 1)
      throw ShapeError("take_along_axis", "indices " + indices.shape().str() + " do not match " + x.shape().str() +
                                              " off axis " + std::to_string(ax), where);
  Shape out = ishape;
  for (int i = 0; i < x.rank(); ++i)
    if (i != ax) out[i] = x.shape()[i];
  return gather(x, detail::along_axis_index(broadcast(indices, out, {}, where), ax, where), {}, where);
}

Tensor detail::along_axis_index(const Tensor& indices, int axis, Where where) {
  const Shape& out = indices.shape();
  std::vector<Tensor> parts;
  Shape part = out;
  part.push_back(1);
  for (int i = 0; i < out.rank(); ++i) {
    Tensor p = i == axis ? as_type(indices, DType::i64, where) : iota(out, DType::i64, i, where);
    parts.push_back(reshape(p, part, where));
  }
  return concatenate(parts, -1, where);
}

}  // namespace nx
