// Front ends of gather / indexed_add / indexed_put, and take / take_along_axis on top.
#include <limits>

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

// ---- index modes (IndexMode): index tensors rewritten with ops before the primitive,
// which clamps, so every mode runs on every backend and inside jit ----

// The sizes of the addressed axes, (k) i64: the bound of each index component.
Tensor index_limits(const Tensor& x, const std::vector<int64_t>& axes, Where where) {
  std::vector<int64_t> d;
  for (int64_t a : axes) d.push_back(x.shape()[static_cast<int>(a)]);
  return from_vector(d, Shape{static_cast<int64_t>(d.size())}, where);
}

// Per index tuple (idx.shape[:-1]): every component inside [0, dim).
Tensor tuples_in_range(const Tensor& idx64, const Tensor& limits, Where where) {
  Tensor ok = logical_and(greater_equal(idx64, Tensor(0), where), less(idx64, limits, where), where);
  return all(ok, ReduceOpts{.axes = -1}, where);
}

// Raises IndexError at the first tuple out of range (eager only).
void check_in_range(const Tensor& idx64, const Tensor& limits, const char* op, Where where) {
  if (idx64.is_traced())
    throw ValueError(op, "IndexMode::check needs concrete indices; inside nx::jit use clip, wrap or fill", where);
  if (idx64.size() == 0 || all(tuples_in_range(idx64, limits, where), ReduceOpts{}, where).item<bool>(where)) return;
  std::vector<int64_t> v = idx64.to_vector<int64_t>(where), lim = limits.to_vector<int64_t>(where);
  size_t k = lim.size();
  for (size_t i = 0; i < v.size(); ++i)
    if (v[i] < 0 || v[i] >= lim[i % k])
      throw IndexError(op, "index " + std::to_string(v[i]) + " (tuple " + std::to_string(i / k) + ", component " +
                               std::to_string(i % k) + ") is out of range for an axis of size " +
                               std::to_string(lim[i % k]), where);
}

// What IndexMode::fill reads outside the range (JAX's defaults).
Tensor default_fill(DType t, Where where) {
  switch (t) {
    case DType::bool_: return scalar(1, t, where);
    case DType::u8: return scalar(255, t, where);
    case DType::u32: return scalar(std::numeric_limits<uint32_t>::max(), t, where);
    case DType::i32: return scalar(std::numeric_limits<int32_t>::min(), t, where);
    case DType::i64: return scalar(std::numeric_limits<int64_t>::min(), t, where);
    default: return scalar(std::numeric_limits<double>::quiet_NaN(), t, where);
  }
}

// Indices for the primitive (which clamps): wrap takes them modulo the dims, check raises
// on one out of range; clip and fill pass them as they are.
Tensor mode_indices(const Tensor& x, const Tensor& idx, const std::vector<int64_t>& axes, IndexMode mode,
                    const char* op, Where where) {
  if (mode == IndexMode::clip || mode == IndexMode::fill) return idx;
  Tensor i = as_type(idx, DType::i64, where), lim = index_limits(x, axes, where);
  if (mode == IndexMode::check) {
    check_in_range(i, lim, op, where);
    return idx;
  }
  Tensor r = remainder(i, lim, where);
  return select(less(r, Tensor(0), where), add(r, lim, where), r, where);
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
  // The primitive drops updates out of range (clip and fill); wrap and check rewrite first.
  Tensor i = mode_indices(x, idx, a.axes, opts.mode, name_, where);
  return apply1(op, std::move(a), {x, i, u}, TensorType{x.dtype(), x.shape()}, where);
}

}  // namespace

Tensor gather(const Tensor& x, const Tensor& indices, GatherOpts opts, Where where) {
  Attrs a;
  a.axes = index_axes(x, indices, opts, "gather", where);
  Shape out = gathered_shape(x, indices, a.axes);
  Tensor i = mode_indices(x, indices, a.axes, opts.mode, "gather", where);
  Tensor g = apply1(Op::Gather, a, {x, i}, TensorType{x.dtype(), out}, where);
  if (opts.mode != IndexMode::fill) return g;
  Tensor valid = tuples_in_range(as_type(indices, DType::i64, where), index_limits(x, a.axes, where), where);
  Shape at = valid.shape();  // broadcast over the dims of x not addressed
  for (int d = at.rank(); d < out.rank(); ++d) at.push_back(1);
  Tensor fill = opts.fill_value ? scalar(*opts.fill_value, x.dtype(), where) : default_fill(x.dtype(), where);
  return select(reshape(valid, at, where), g, fill, where);
}

Tensor indexed_add(const Tensor& x, const Tensor& indices, const Tensor& updates, GatherOpts opts, Where where) {
  return scatter(Op::IndexedAdd, x, indices, updates, opts, where);
}
Tensor indexed_put(const Tensor& x, const Tensor& indices, const Tensor& updates, GatherOpts opts, Where where) {
  return scatter(Op::IndexedPut, x, indices, updates, opts, where);
}

Tensor take(const Tensor& x, const Tensor& indices, TakeOpts opts, Where where) {
  int ax = detail::normalize_axis(opts.axis, x.rank(), "take", where);
  if (!is_integer(indices.dtype()))
    throw DTypeError("take", "indices must be integers, got " + std::string(name(indices.dtype())), where);
  // gather along `ax`, then move the index dims to where `ax` was.
  Tensor g = gather(x, new_axis(indices, -1, where), {.axes = {ax}, .mode = opts.mode, .fill_value = opts.fill_value},
                    where);
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

namespace {
// The positions of a box of shape `box` at tensor starts clamped to fit in x: (box..., rank) i64.
Tensor box_positions(const Tensor& x, const std::vector<Tensor>& starts, const Shape& box, const char* op,
                     Where where) {
  if (static_cast<int>(starts.size()) != x.rank())
    throw ShapeError(op, std::to_string(starts.size()) + " starts for " + x.shape().str() + " (one per axis)", where);
  Shape one = box;
  one.push_back(1);
  std::vector<Tensor> coords;
  for (int a = 0; a < x.rank(); ++a) {
    const Tensor& s = starts[static_cast<size_t>(a)];
    if (s.rank() != 0 || !is_integer(s.dtype()))
      throw DTypeError(op, "start " + std::to_string(a) + " must be an integer scalar, got " +
                               std::string(name(s.dtype())) + s.shape().str(), where);
    if (box[a] > x.shape()[a])
      throw ShapeError(op, "a box of " + box.str() + " does not fit in " + x.shape().str(), where);
    Tensor first = min(max(as_type(s, DType::i64, where), scalar(0, DType::i64, where), where),
                       scalar(x.shape()[a] - box[a], DType::i64, where), where);
    coords.push_back(reshape(add(iota(box, DType::i64, a, where), first, where), one, where));
  }
  return concatenate(coords, -1, where);
}
}  // namespace

Tensor dynamic_slice(const Tensor& x, const std::vector<Tensor>& starts, std::vector<int64_t> lengths, Where where) {
  if (lengths.size() != starts.size())
    throw ShapeError("dynamic_slice", std::to_string(lengths.size()) + " lengths for " + std::to_string(starts.size()) +
                                          " starts", where);
  Shape box(lengths);
  if (x.rank() == 0 || box.size() == 0) return reshape(slice(x, std::vector<int64_t>(lengths.size(), 0), lengths, {}, where), box, where);
  return gather(x, box_positions(x, starts, box, "dynamic_slice", where), {}, where);
}

Tensor dynamic_update_slice(const Tensor& x, const Tensor& update, const std::vector<Tensor>& starts, Where where) {
  if (update.rank() != x.rank())
    throw ShapeError("dynamic_update_slice", "update " + update.shape().str() + " must have the rank of " +
                                                 x.shape().str(), where);
  if (x.rank() == 0 || update.size() == 0) return x.rank() == 0 ? as_type(update, x.dtype(), where) : x;
  return indexed_put(x, box_positions(x, starts, update.shape(), "dynamic_update_slice", where), update, {}, where);
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
