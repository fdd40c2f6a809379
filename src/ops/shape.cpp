// Front ends of the shape primitives and their composites (squeeze, stack, tile, ...).
#include <numeric>

#include "nx/detail/core.hpp"

namespace nx {

using detail::apply1;

Tensor reshape(const Tensor& x, const Shape& shape, Where where) {
  if (shape == x.shape()) return x;
  if (shape.size() != x.size())
    throw ShapeError("reshape", "cannot reshape " + x.shape().str() + " (" + std::to_string(x.size()) +
                                    " elements) to " + shape.str(), where);
  return apply1(Op::Reshape, {}, {x}, TensorType{x.dtype(), shape}, where, x.is_weak());
}

Tensor reshape(const Tensor& x, std::initializer_list<int64_t> dims, Where where) {
  std::vector<int64_t> d(dims);
  int infer = -1;
  int64_t known = 1;
  for (size_t i = 0; i < d.size(); ++i) {
    if (d[i] == -1) {
      if (infer >= 0) throw ShapeError("reshape", "only one dimension may be -1", where);
      infer = static_cast<int>(i);
    } else if (d[i] < 0) {
      throw ShapeError("reshape", "negative dimension " + std::to_string(d[i]), where);
    } else {
      known *= d[i];
    }
  }
  if (infer >= 0) {
    if (known == 0 || x.size() % known != 0)
      throw ShapeError("reshape", "cannot infer -1 when reshaping " + x.shape().str(), where);
    d[static_cast<size_t>(infer)] = x.size() / known;
  }
  return reshape(x, Shape(d), where);
}

Tensor transpose(const Tensor& x, std::vector<int> axes, Where where) {
  int r = x.rank();
  if (axes.empty())
    for (int i = r - 1; i >= 0; --i) axes.push_back(i);
  if (static_cast<int>(axes.size()) != r)
    throw AxisError("transpose", "permutation of " + std::to_string(axes.size()) + " axes for shape " +
                                     x.shape().str(), where);
  Attrs a;
  std::vector<bool> seen(static_cast<size_t>(r));
  Shape out;
  bool identity = true;
  for (int i = 0; i < r; ++i) {
    int ax = detail::normalize_axis(axes[static_cast<size_t>(i)], r, "transpose", where);
    if (seen[static_cast<size_t>(ax)]) throw AxisError("transpose", "axis " + std::to_string(ax) + " is repeated", where);
    seen[static_cast<size_t>(ax)] = true;
    a.axes.push_back(ax);
    out.push_back(x.shape()[ax]);
    identity &= ax == i;
  }
  if (identity) return x;
  return apply1(Op::Transpose, std::move(a), {x}, TensorType{x.dtype(), out}, where, x.is_weak());
}

Tensor broadcast(const Tensor& x, const Shape& shape, BroadcastOpts opts, Where where) {
  Attrs a;
  int r = shape.rank();
  if (opts.axes.empty()) {
    if (x.rank() > r)
      throw ShapeError("broadcast", "cannot broadcast " + x.shape().str() + " to " + shape.str(), where);
    for (int i = 0; i < x.rank(); ++i) a.axes.push_back(r - x.rank() + i);
  } else {
    if (static_cast<int>(opts.axes.size()) != x.rank())
      throw AxisError("broadcast", "needs one axis per dimension of " + x.shape().str(), where);
    int64_t prev = -1;
    for (int ax : opts.axes) {
      int n = detail::normalize_axis(ax, r, "broadcast", where);
      if (n <= prev) throw AxisError("broadcast", "axes must be increasing", where);
      prev = n;
      a.axes.push_back(n);
    }
  }
  for (int i = 0; i < x.rank(); ++i) {
    int64_t d = x.shape()[i], t = shape[static_cast<int>(a.axes[static_cast<size_t>(i)])];
    if (d != t && d != 1)
      throw ShapeError("broadcast", "cannot broadcast " + x.shape().str() + " to " + shape.str(), where);
  }
  if (x.shape() == shape) return x;
  return apply1(Op::Broadcast, std::move(a), {x}, TensorType{x.dtype(), shape}, where, x.is_weak());
}

Tensor squeeze(const Tensor& x, Axes axes, Where where) {
  Shape out;
  if (axes.all()) {
    for (int64_t d : x.shape())
      if (d != 1) out.push_back(d);
  } else {
    auto ax = detail::normalize_axes(axes, x.rank(), "squeeze", where);
    size_t k = 0;
    for (int i = 0; i < x.rank(); ++i) {
      if (k < ax.size() && ax[k] == i) {
        ++k;
        if (x.shape()[i] != 1)
          throw ShapeError("squeeze", "axis " + std::to_string(i) + " of " + x.shape().str() + " is not 1", where);
      } else {
        out.push_back(x.shape()[i]);
      }
    }
  }
  return reshape(x, out, where);
}

Tensor new_axis(const Tensor& x, int axis, Where where) {
  int ax = detail::normalize_axis(axis, x.rank() + 1, "new_axis", where);
  std::vector<int64_t> d = x.shape().to_vector();
  d.insert(d.begin() + ax, 1);
  return reshape(x, Shape(d), where);
}

Tensor flatten(const Tensor& x, Where where) { return reshape(x, Shape{x.size()}, where); }

Tensor detail::slice_extents(const Tensor& x, std::vector<int64_t> starts, std::vector<int64_t> lengths,
                             std::vector<int64_t> strides, Where where) {
  int r = x.rank();
  if (strides.empty()) strides.assign(static_cast<size_t>(r), 1);
  if (static_cast<int>(starts.size()) != r || static_cast<int>(lengths.size()) != r ||
      static_cast<int>(strides.size()) != r)
    throw ShapeError("slice", "needs " + std::to_string(r) + " starts, lengths and strides for " + x.shape().str(),
                     where);
  Attrs a;
  Shape out;
  bool identity = true;
  for (int i = 0; i < r; ++i) {
    size_t u = static_cast<size_t>(i);
    int64_t d = x.shape()[i];
    if (lengths[u] < 0 || lengths[u] > d)
      throw ShapeError("slice", "length " + std::to_string(lengths[u]) + " does not fit axis " + std::to_string(i) +
                                    " of " + x.shape().str(), where);
    if (strides[u] < 1) throw ValueError("slice", "strides must be >= 1", where);
    int64_t from_end = starts[u] < 0 ? starts[u] + d : starts[u];   // -1: the last element
    int64_t s = std::clamp<int64_t>(from_end, 0, d - lengths[u]);  // clamped so the slice fits, as Nx
    a.starts.push_back(s);
    a.lengths.push_back(lengths[u]);
    a.strides.push_back(strides[u]);
    int64_t n = lengths[u] == 0 ? 0 : (lengths[u] - 1) / strides[u] + 1;
    out.push_back(n);
    identity &= n == d;
  }
  if (identity) return x;
  return apply1(Op::Slice, std::move(a), {x}, TensorType{x.dtype(), out}, where, x.is_weak());
}

Tensor slice(const Tensor& x, std::vector<int64_t> starts, std::vector<int64_t> lengths, SliceOpts opts,
             Where where) {
  // Output lengths to the input extents they span: n elements `stride` apart.
  std::vector<int64_t> extents;
  for (size_t u = 0; u < lengths.size(); ++u) {
    int64_t stride = u < opts.strides.size() ? opts.strides[u] : 1, n = lengths[u];
    if (stride < 1) throw ValueError("slice", "strides must be >= 1", where);
    int64_t extent = n;
    if (n > 0 && (__builtin_mul_overflow(n - 1, stride, &extent) || __builtin_add_overflow(extent, 1, &extent)))
      throw ShapeError("slice", std::to_string(n) + " elements " + std::to_string(stride) + " apart overflow", where);
    extents.push_back(extent);
  }
  return detail::slice_extents(x, std::move(starts), std::move(extents), std::move(opts.strides), where);
}

Tensor slice_along_axis(const Tensor& x, int axis, int64_t start, int64_t length, int64_t stride, Where where) {
  int ax = detail::normalize_axis(axis, x.rank(), "slice_along_axis", where);
  std::vector<int64_t> starts(static_cast<size_t>(x.rank()), 0), lengths = x.shape().to_vector(),
      strides(static_cast<size_t>(x.rank()), 1);
  starts[static_cast<size_t>(ax)] = start;
  lengths[static_cast<size_t>(ax)] = length;
  strides[static_cast<size_t>(ax)] = stride;
  return slice(x, starts, lengths, {.strides = strides}, where);
}

Tensor put_slice(const Tensor& x, std::vector<int64_t> starts, const Tensor& update, Where where) {
  if (static_cast<int>(starts.size()) != x.rank() || update.rank() != x.rank())
    throw ShapeError("put_slice", "update " + update.shape().str() + " and starts must match the rank of " +
                                      x.shape().str(), where);
  Attrs a;
  for (int i = 0; i < x.rank(); ++i) {
    if (update.shape()[i] > x.shape()[i])
      throw ShapeError("put_slice", "update " + update.shape().str() + " does not fit in " + x.shape().str(), where);
    int64_t start = starts[static_cast<size_t>(i)], d = x.shape()[i];
    a.starts.push_back(std::clamp<int64_t>(start < 0 ? start + d : start, 0, d - update.shape()[i]));
  }
  Tensor u = as_type(update, x.dtype(), where);
  return apply1(Op::PutSlice, std::move(a), {x, u}, TensorType{x.dtype(), x.shape()}, where);
}

Tensor pad(const Tensor& x, const Tensor& value, std::vector<PadConfig> config, Where where) {
  if (static_cast<int>(config.size()) != x.rank())
    throw ShapeError("pad", "needs one (lo, hi, interior) per axis of " + x.shape().str(), where);
  if (value.rank() != 0) throw ShapeError("pad", "pad value must be a scalar, got " + value.shape().str(), where);
  Attrs a;
  Shape out;
  for (int i = 0; i < x.rank(); ++i) {
    const PadConfig& c = config[static_cast<size_t>(i)];
    if (c.interior < 0) throw ValueError("pad", "interior padding must be >= 0", where);
    int64_t d = x.shape()[i];
    int64_t n = 0;
    bool overflow = __builtin_mul_overflow(d > 0 ? d - 1 : 0, c.interior, &n) || __builtin_add_overflow(n, d, &n) ||
                    __builtin_add_overflow(n, c.lo, &n) || __builtin_add_overflow(n, c.hi, &n);
    if (overflow) throw ShapeError("pad", "padding of axis " + std::to_string(i) + " overflows", where);
    if (n < 0)
      throw ShapeError("pad", "negative padding removes more than axis " + std::to_string(i) + " of " +
                                  x.shape().str() + " holds", where);
    a.lo.push_back(c.lo);
    a.hi.push_back(c.hi);
    a.interior.push_back(c.interior);
    out.push_back(n);
  }
  Tensor v = as_type(value, x.dtype(), where);
  return apply1(Op::Pad, std::move(a), {x, v}, TensorType{x.dtype(), out}, where);
}

Tensor concatenate(const std::vector<Tensor>& xs, int axis, Where where) {
  if (xs.empty()) throw ValueError("concatenate", "needs at least one tensor", where);
  int r = xs[0].rank();
  if (r == 0) throw ShapeError("concatenate", "cannot concatenate scalars (use stack)", where);
  int ax = detail::normalize_axis(axis, r, "concatenate", where);
  DType dt = xs[0].dtype();
  bool weak = true;
  for (const Tensor& t : xs) {
    dt = promote(dt, t.dtype());
    weak &= t.is_weak();
  }
  Shape out = xs[0].shape();
  out[ax] = 0;
  std::vector<Tensor> ins;
  for (const Tensor& t : xs) {
    bool ok = t.rank() == r;
    for (int i = 0; ok && i < r; ++i) ok = i == ax || t.shape()[i] == out[i];
    if (!ok) throw ShapeError("concatenate", "shapes differ off axis " + std::to_string(ax) + ": " +
                                                 detail::shapes_str(xs), where);
    out[ax] += t.shape()[ax];
    ins.push_back(as_type(t, dt, where));
  }
  if (ins.size() == 1) return ins[0];
  Attrs a;
  a.axes = {ax};
  return apply1(Op::Concatenate, std::move(a), ins, TensorType{dt, out}, where, weak);
}

Tensor stack(const std::vector<Tensor>& xs, int axis, Where where) {
  if (xs.empty()) throw ValueError("stack", "needs at least one tensor", where);
  int ax = detail::normalize_axis(axis, xs[0].rank() + 1, "stack", where);
  std::vector<Tensor> ys;
  for (const Tensor& t : xs) {
    if (t.shape() != xs[0].shape())
      throw ShapeError("stack", "shapes differ: " + detail::shapes_str(xs), where);
    ys.push_back(new_axis(t, ax, where));
  }
  return concatenate(ys, ax, where);
}

Tensor reverse(const Tensor& x, Axes axes, Where where) {
  Attrs a;
  a.axes = detail::normalize_axes(axes, x.rank(), "reverse", where);
  if (a.axes.empty()) return x;
  return apply1(Op::Reverse, std::move(a), {x}, TensorType{x.dtype(), x.shape()}, where, x.is_weak());
}

namespace detail {
Tensor swap_last_two(const Tensor& x, Where where) {
  std::vector<int> perm(static_cast<size_t>(x.rank()));
  for (int i = 0; i < x.rank(); ++i) perm[static_cast<size_t>(i)] = i;
  std::swap(perm[perm.size() - 1], perm[perm.size() - 2]);
  return transpose(x, perm, where);
}
}  // namespace detail

Tensor tile(const Tensor& x, std::vector<int64_t> reps, Where where) {
  for (int64_t r : reps)
    if (r < 0) throw ValueError("tile", "repetitions must be >= 0", where);
  // Align ranks as numpy: leading 1s on whichever is shorter.
  int r = std::max<int>(x.rank(), static_cast<int>(reps.size()));
  while (static_cast<int>(reps.size()) < r) reps.insert(reps.begin(), 1);
  std::vector<int64_t> xs = x.shape().to_vector();
  while (static_cast<int>(xs.size()) < r) xs.insert(xs.begin(), 1);
  // Broadcast to (rep0, d0, rep1, d1, ...) then merge pairs.
  Shape expanded, final_shape, src;
  std::vector<int> axes;
  for (int i = 0; i < r; ++i) {
    size_t u = static_cast<size_t>(i);
    expanded.push_back(reps[u]);
    expanded.push_back(xs[u]);
    axes.push_back(2 * i + 1);
    src.push_back(xs[u]);
    int64_t n = 0;
    if (__builtin_mul_overflow(reps[u], xs[u], &n))
      throw ShapeError("tile", "repeating " + x.shape().str() + " overflows the element count", where);
    final_shape.push_back(n);
  }
  Tensor b = broadcast(reshape(x, src, where), expanded, {.axes = axes}, where);
  return reshape(b, final_shape, where);
}

}  // namespace nx
