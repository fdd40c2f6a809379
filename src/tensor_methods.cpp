// Tensor's members beyond the handle itself: memory access, numpy-style indexing (x[i],
// x(i, j), x.slice({...}), x.at({...})) and the short forms of common ops.
#include <algorithm>

#include "nx/composites.hpp"
#include "nx/detail/core.hpp"

namespace nx {
namespace {

// One axis of an index, resolved against its size: positions first, first + step, ...
// (count of them); `keep` is false for an integer index, whose axis is dropped.
struct AxisPick {
  int64_t first = 0, count = 0, step = 1;
  bool keep = true;
};

int64_t position(int64_t i, int64_t d, int axis, const Shape& shape, const char* op, Where where) {
  int64_t p = i < 0 ? i + d : i;
  if (p < 0 || p >= d)
    throw IndexError(op, "index " + std::to_string(i) + " is out of range for axis " + std::to_string(axis) +
                             " of size " + std::to_string(d) + " in " + shape.str(), where);
  return p;
}

// Python's slice rules: negative values count from the end and out-of-range bounds are
// clipped. nx::end as start or stop means the far end in the step's direction.
AxisPick resolve(const Index& ix, int64_t d, int axis, const Shape& shape, const char* op, Where where) {
  if (ix.picks()) return {position(ix.range().start, d, axis, shape, op, where), 1, 1, false};
  if (ix.parts() < 2 || ix.parts() > 3)
    throw ValueError(op, "a range index is {start, stop} or {start, stop, step}, got " + std::to_string(ix.parts()) +
                             " numbers for axis " + std::to_string(axis), where);
  Range r = ix.range();
  if (r.step == 0) throw ValueError(op, "the step for axis " + std::to_string(axis) + " is 0", where);
  auto bound = [&](int64_t v, int64_t lo, int64_t hi) { return std::clamp(v < 0 ? v + d : v, lo, hi); };
  int64_t start, stop;
  if (r.step > 0) {
    start = r.start == end ? d : bound(r.start, 0, d);
    stop = r.stop == end ? d : bound(r.stop, 0, d);
  } else {
    start = r.start == end ? d - 1 : bound(r.start, -1, d - 1);
    stop = r.stop == end ? -1 : bound(r.stop, -1, d - 1);
  }
  int64_t span = r.step > 0 ? stop - start : start - stop, step = r.step > 0 ? r.step : -r.step;
  return {start, span > 0 ? (span + step - 1) / step : 0, r.step, true};
}

std::vector<AxisPick> resolve_all(const Shape& shape, std::span<const Index> index, const char* op, Where where) {
  if (static_cast<int>(index.size()) > shape.rank())
    throw IndexError(op, std::to_string(index.size()) + " indices for " + shape.str() + " (rank " +
                             std::to_string(shape.rank()) + ")", where);
  std::vector<AxisPick> picks;
  for (int a = 0; a < shape.rank(); ++a)
    picks.push_back(static_cast<size_t>(a) < index.size()
                        ? resolve(index[static_cast<size_t>(a)], shape[a], a, shape, op, where)
                        : AxisPick{0, shape[a], 1, true});
  return picks;
}

// The region's shape with picked axes dropped (what x.slice returns) or kept as 1s.
Shape region_shape(const std::vector<AxisPick>& picks, bool keep_picked) {
  Shape s;
  for (const AxisPick& p : picks)
    if (p.keep || keep_picked) s.push_back(p.count);
  return s;
}

Tensor take_region(const Tensor& x, const std::vector<AxisPick>& picks, Where where) {
  // A negative step reads the reversed axis forwards.
  std::vector<int> reversed;
  std::vector<int64_t> starts, extents, strides;
  for (size_t a = 0; a < picks.size(); ++a) {
    const AxisPick& p = picks[a];
    int64_t d = x.shape()[static_cast<int>(a)], step = p.step > 0 ? p.step : -p.step;
    if (p.step < 0) reversed.push_back(static_cast<int>(a));
    starts.push_back(p.count == 0 ? 0 : p.step > 0 ? p.first : d - 1 - p.first);
    extents.push_back(p.count == 0 ? 0 : (p.count - 1) * step + 1);
    strides.push_back(step);
  }
  Tensor from = reversed.empty() ? x : reverse(x, Axes(reversed), where);
  Tensor r = detail::slice_extents(from, starts, extents, strides, where);
  return reshape(r, region_shape(picks, false), where);
}

}  // namespace

Tensor Tensor::positions(std::vector<int64_t> index, Where where) const {
  std::vector<Index> ix(index.begin(), index.end());
  return take_region(*this, resolve_all(shape(), ix, "index", where), where);
}

Tensor Tensor::operator[](LocatedIndex i) const { return positions({i.value}, i.where); }

Tensor Tensor::slice(std::initializer_list<Index> index, Where where) const {
  return take_region(*this, resolve_all(shape(), std::span<const Index>(index.begin(), index.size()), "slice", where),
                     where);
}

TensorAt Tensor::at(std::initializer_list<Index> index, Where where) const { return TensorAt(*this, index, where); }

TensorAt::TensorAt(Tensor x, std::vector<Index> index, Where where)
    : x_(std::move(x)), index_(std::move(index)), where_(where) {}

Tensor TensorAt::get() const {
  const Tensor& x = x_;
  return take_region(x, resolve_all(x.shape(), index_, "at", where_), where_);
}

Tensor TensorAt::set(const Tensor& v) const { return update(v, false); }
Tensor TensorAt::add(const Tensor& v) const { return update(v, true); }

Tensor TensorAt::update(const Tensor& v, bool add) const {
  const Tensor& x = x_;
  const char* op = add ? "at.add" : "at.set";
  std::vector<AxisPick> picks = resolve_all(x.shape(), index_, op, where_);
  Shape region = region_shape(picks, true);
  Tensor vals = reshape(broadcast(as_type(v, x.dtype(), where_), region_shape(picks, false), {}, where_), region, where_);
  if (region.size() == 0) return x;
  bool contiguous = std::all_of(picks.begin(), picks.end(), [](const AxisPick& p) { return p.step == 1; });
  if (contiguous) {  // one box: put_slice
    std::vector<int64_t> starts;
    for (const AxisPick& p : picks) starts.push_back(p.first);
    if (add) vals = nx::add(reshape(take_region(x, picks, where_), region, where_), vals, where_);
    return put_slice(x, starts, vals, where_);
  }
  // Strided or reversed: scatter at the region's positions, (region..., rank) i64.
  std::vector<Tensor> coords;
  Shape one = region;
  one.push_back(1);
  for (size_t a = 0; a < picks.size(); ++a) {
    const AxisPick& p = picks[a];
    Tensor c = nx::add(multiply(iota(region, DType::i64, static_cast<int>(a), where_), scalar(p.step, DType::i64, where_),
                                where_),
                       scalar(p.first, DType::i64, where_), where_);
    coords.push_back(reshape(c, one, where_));
  }
  Tensor idx = concatenate(coords, -1, where_);
  return add ? indexed_add(x, idx, vals, {}, where_) : indexed_put(x, idx, vals, {}, where_);
}

Tensor Tensor::sum(ReduceOpts opts, Where where) const { return nx::sum(*this, std::move(opts), where); }
Tensor Tensor::mean(ReduceOpts opts, Where where) const { return nx::mean(*this, std::move(opts), where); }
Tensor Tensor::reshape(const Shape& s, Where where) const { return nx::reshape(*this, s, where); }
Tensor Tensor::reshape(std::initializer_list<int64_t> s, Where where) const { return nx::reshape(*this, s, where); }
Tensor Tensor::astype(DType dtype, Where where) const { return as_type(*this, dtype, where); }
Tensor Tensor::T(Where where) const { return transpose(*this, {}, where); }

const void* Tensor::host_data(DType as, Where where) const {
  if (!defined()) throw ValueError("data", "the tensor is undefined", where);
  if (is_traced()) throw ValueError("data", "a tensor traced inside nx::jit has no memory yet (return it instead)", where);
  if (dtype() != as)
    throw DTypeError("data", "the tensor is " + std::string(name(dtype())) + ", not " + std::string(name(as)) +
                                 " (read it with to_vector<T>(), or convert with astype)", where);
  const BufferPtr& b = buffer();
  if (!b->owner()->host_accessible())
    throw ValueError("data", "the tensor lives on " + std::string(b->owner()->name()) +
                                 ", not in host memory (copy it with to_vector<T>())", where);
  return b->data();
}

namespace detail {
Tensor view_host(DType dtype, const Shape& shape, const void* data, std::shared_ptr<void> keep, Where where) {
  TensorType type{dtype, shape};
  (void)type.bytes("view", where);  // a size past int64 raises here, naming the user's line
  return adopt_host(std::move(type), data, std::move(keep));
}
}  // namespace detail

}  // namespace nx
