// The primitive operations. Each call checks shapes and dtypes at once (also while
// tracing) and either runs on the default backend or records a graph node.
#pragma once
#include <initializer_list>
#include <optional>
#include <type_traits>
#include <utility>
#include <vector>

#include "nx/tensor.hpp"

namespace nx {

// `f(x, axes)` beside `f(x, Opts)`: `sum(x, 1)`, `sum(x, {0, 1})`. A template (its
// parameter is not deduced: always Axes) so that `f(x, {})` prefers the options.
#define NX_AXES_FORM(name, Opts)                                                                      \
  template <class A = Axes>                                                                           \
  Tensor name(const Tensor& x, std::type_identity_t<A> axes, Where where = Where::current()) {       \
    return name(x, Opts{.axes = std::move(axes)}, where);                                           \
  }
// `f(x, axis)` beside `f(x, Opts)` for options with one `axis`.
#define NX_AXIS_FORM(name, Opts)                                                                          \
  inline Tensor name(const Tensor& x, Axis axis, Where where = Where::current()) {                      \
    return name(x, Opts{.axis = axis.value}, where);                                                    \
  }

// ---- creation ----
Tensor zeros(const Shape& shape, DType dtype = f32, Where where = Where::current());
Tensor ones(const Shape& shape, DType dtype = f32, Where where = Where::current());
Tensor full(const Shape& shape, double value, DType dtype = f32, Where where = Where::current());
Tensor zeros_like(const Tensor& t, Where where = Where::current());
Tensor ones_like(const Tensor& t, Where where = Where::current());
Tensor full_like(const Tensor& t, double value, Where where = Where::current());
// Integer fills are exact (not through double): full({2}, int64_t{1} << 62, i64).
template <class T>
  requires(std::is_integral_v<T> && !std::is_same_v<T, bool>)
Tensor full(const Shape& shape, T value, DType dtype = f32, Where where = Where::current()) {
  return broadcast(scalar(value, dtype, where), shape, {}, where);
}
template <class T>
  requires(std::is_integral_v<T> && !std::is_same_v<T, bool>)
Tensor full_like(const Tensor& t, T value, Where where = Where::current()) {
  return full(t.shape(), value, t.dtype(), where);
}
// Counts 0, 1, ... along `axis` of `shape`.
Tensor iota(const Shape& shape, DType dtype = i64, std::optional<int> axis = {},
            Where where = Where::current());
Tensor arange(double start, double stop, double step = 1, DType dtype = i64,
              Where where = Where::current());
Tensor arange(int64_t stop, DType dtype = i64, Where where = Where::current());
Tensor linspace(double start, double stop, int64_t n, DType dtype = f32, bool endpoint = true,
                Where where = Where::current());
Tensor eye(int64_t n, DType dtype = f32, Where where = Where::current());

// ---- unary elementwise ----
#define NX_UNARY_DECL(name) Tensor name(const Tensor& x, Where where = Where::current());
NX_UNARY_DECL(negate) NX_UNARY_DECL(abs) NX_UNARY_DECL(sign) NX_UNARY_DECL(floor)
NX_UNARY_DECL(ceil) NX_UNARY_DECL(round) NX_UNARY_DECL(exp) NX_UNARY_DECL(expm1)
NX_UNARY_DECL(log) NX_UNARY_DECL(log1p) NX_UNARY_DECL(sqrt) NX_UNARY_DECL(rsqrt)
NX_UNARY_DECL(cbrt) NX_UNARY_DECL(sin) NX_UNARY_DECL(cos) NX_UNARY_DECL(tan)
NX_UNARY_DECL(asin) NX_UNARY_DECL(acos) NX_UNARY_DECL(atan) NX_UNARY_DECL(sinh)
NX_UNARY_DECL(cosh) NX_UNARY_DECL(tanh) NX_UNARY_DECL(asinh) NX_UNARY_DECL(acosh)
NX_UNARY_DECL(atanh) NX_UNARY_DECL(sigmoid) NX_UNARY_DECL(erf) NX_UNARY_DECL(erfc)
NX_UNARY_DECL(erf_inv) NX_UNARY_DECL(is_nan) NX_UNARY_DECL(is_infinity)
NX_UNARY_DECL(logical_not) NX_UNARY_DECL(bitwise_not) NX_UNARY_DECL(count_leading_zeros)
NX_UNARY_DECL(population_count)
#undef NX_UNARY_DECL

// ---- binary elementwise (numpy broadcasting, Nx/JAX promotion) ----
#define NX_BINARY_DECL(name) \
  Tensor name(const Tensor& a, const Tensor& b, Where where = Where::current());
NX_BINARY_DECL(add) NX_BINARY_DECL(subtract) NX_BINARY_DECL(multiply) NX_BINARY_DECL(divide)
NX_BINARY_DECL(quotient) NX_BINARY_DECL(remainder) NX_BINARY_DECL(pow) NX_BINARY_DECL(max)
NX_BINARY_DECL(min) NX_BINARY_DECL(atan2) NX_BINARY_DECL(equal) NX_BINARY_DECL(not_equal)
NX_BINARY_DECL(less) NX_BINARY_DECL(less_equal) NX_BINARY_DECL(greater)
NX_BINARY_DECL(greater_equal) NX_BINARY_DECL(logical_and) NX_BINARY_DECL(logical_or)
NX_BINARY_DECL(logical_xor) NX_BINARY_DECL(bitwise_and) NX_BINARY_DECL(bitwise_or)
NX_BINARY_DECL(bitwise_xor) NX_BINARY_DECL(left_shift) NX_BINARY_DECL(right_shift)
#undef NX_BINARY_DECL

// pred ? on_true : on_false, broadcasting all three.
Tensor select(const Tensor& pred, const Tensor& on_true, const Tensor& on_false,
              Where where = Where::current());
// Converts values (float -> int truncates toward zero; NaN -> 0; saturates at the range).
Tensor as_type(const Tensor& x, DType dtype, Where where = Where::current());
// Reinterprets the bits; the item sizes must match.
Tensor bitcast(const Tensor& x, DType dtype, Where where = Where::current());

// ---- operators ----
// A C++ number compared with a tensor (`x == 2`), remembering the user's line. Without
// these overloads C++20 picks the reversed `2 == x` candidate for `x == 2`, and a rewritten
// == must return bool.
class LocatedNumber {
 public:
  template <class T, std::enable_if_t<std::is_arithmetic_v<T>, int> = 0>
  LocatedNumber(T v, Where w = Where::current()) : where(w), value(v) {}  // NOLINT
  Where where;
  Tensor value;
};

// An operator operand that remembers the user's line: the default argument of a converting
// constructor is evaluated inside the user's expression, so `a + b` errors name that line.
class Located {
 public:
  Located(const Tensor& t, Where w = Where::current()) : where(w), ref_(&t) {}  // NOLINT
  template <class T, std::enable_if_t<std::is_arithmetic_v<T>, int> = 0>
  Located(T v, Where w = Where::current()) : where(w), owned_(v) {}  // NOLINT
  Located(const Located&) = delete;
  Located& operator=(const Located&) = delete;
  const Tensor& tensor() const { return ref_ ? *ref_ : owned_; }
  Where where;

 private:
  const Tensor* ref_ = nullptr;
  Tensor owned_;
};
Tensor operator-(Located x);
Tensor operator~(Located x);
Tensor operator!(Located x);
Tensor operator+(Located a, const Tensor& b);
Tensor operator-(Located a, const Tensor& b);
Tensor operator*(Located a, const Tensor& b);
Tensor operator/(Located a, const Tensor& b);
Tensor operator%(Located a, const Tensor& b);
Tensor operator&(Located a, const Tensor& b);
Tensor operator|(Located a, const Tensor& b);
Tensor operator^(Located a, const Tensor& b);
Tensor operator<<(Located a, const Tensor& b);
Tensor operator>>(Located a, const Tensor& b);
Tensor operator&&(Located a, const Tensor& b);
Tensor operator||(Located a, const Tensor& b);
Tensor operator==(Located a, const Tensor& b);
Tensor operator!=(Located a, const Tensor& b);
Tensor operator<(Located a, const Tensor& b);
Tensor operator<=(Located a, const Tensor& b);
Tensor operator>(Located a, const Tensor& b);
Tensor operator>=(Located a, const Tensor& b);
Tensor operator==(const Tensor& a, LocatedNumber b);
Tensor operator!=(const Tensor& a, LocatedNumber b);
Tensor& operator+=(Tensor& a, Located b);
Tensor& operator-=(Tensor& a, Located b);
Tensor& operator*=(Tensor& a, Located b);
Tensor& operator/=(Tensor& a, Located b);

// ---- reductions ----
Tensor sum(const Tensor& x, ReduceOpts opts = {}, Where where = Where::current());
Tensor product(const Tensor& x, ReduceOpts opts = {}, Where where = Where::current());
// NaN propagates through reduce_max/reduce_min (as numpy/JAX).
Tensor reduce_max(const Tensor& x, ReduceOpts opts = {}, Where where = Where::current());
Tensor reduce_min(const Tensor& x, ReduceOpts opts = {}, Where where = Where::current());
Tensor all(const Tensor& x, ReduceOpts opts = {}, Where where = Where::current());
Tensor any(const Tensor& x, ReduceOpts opts = {}, Where where = Where::current());
NX_AXES_FORM(sum, ReduceOpts)
NX_AXES_FORM(product, ReduceOpts)
NX_AXES_FORM(reduce_max, ReduceOpts)
NX_AXES_FORM(reduce_min, ReduceOpts)
NX_AXES_FORM(all, ReduceOpts)
NX_AXES_FORM(any, ReduceOpts)

enum class TieBreak { low, high };
struct ArgOpts {
  detail::NamedFieldsOnly named_fields_only;
  std::optional<int> axis;  // default: over the flattened tensor
  bool keep_axes = false;
  TieBreak tie_break = TieBreak::low;  // first index on ties; NaN counts as the extreme
};
Tensor argmax(const Tensor& x, ArgOpts opts = {}, Where where = Where::current());
Tensor argmin(const Tensor& x, ArgOpts opts = {}, Where where = Where::current());
NX_AXIS_FORM(argmax, ArgOpts)
NX_AXIS_FORM(argmin, ArgOpts)

struct CumulativeOpts {
  detail::NamedFieldsOnly named_fields_only;
  int axis = 0;
  bool reverse = false;
};
Tensor cumulative_sum(const Tensor& x, CumulativeOpts opts = {}, Where where = Where::current());
Tensor cumulative_product(const Tensor& x, CumulativeOpts opts = {}, Where where = Where::current());
Tensor cumulative_max(const Tensor& x, CumulativeOpts opts = {}, Where where = Where::current());
Tensor cumulative_min(const Tensor& x, CumulativeOpts opts = {}, Where where = Where::current());
NX_AXIS_FORM(cumulative_sum, CumulativeOpts)
NX_AXIS_FORM(cumulative_product, CumulativeOpts)
NX_AXIS_FORM(cumulative_max, CumulativeOpts)
NX_AXIS_FORM(cumulative_min, CumulativeOpts)

// ---- shape ----
// One dimension may be -1 (inferred).
Tensor reshape(const Tensor& x, const Shape& shape, Where where = Where::current());
Tensor reshape(const Tensor& x, std::initializer_list<int64_t> shape, Where where = Where::current());
// Empty `axes` reverses the dimensions.
Tensor transpose(const Tensor& x, std::vector<int> axes = {}, Where where = Where::current());
struct BroadcastOpts {
  std::vector<int> axes;  // where x's dims go in `shape`; empty: numpy rules (align right)
};
Tensor broadcast(const Tensor& x, const Shape& shape, BroadcastOpts opts = {},
                 Where where = Where::current());
// The shape a and b broadcast to; throws ShapeError naming `op` when they do not.
Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op = "broadcast",
                       Where where = Where::current());
Tensor squeeze(const Tensor& x, Axes axes = {}, Where where = Where::current());
Tensor new_axis(const Tensor& x, int axis, Where where = Where::current());
Tensor flatten(const Tensor& x, Where where = Where::current());
struct SliceOpts {
  std::vector<int64_t> strides;  // default 1
};
// A negative start counts from the end (-1: the last element); starts are then clamped so
// that the slice fits (as Nx). Lengths count output elements: length 3 with stride 2 reads
// positions start, start + 2, start + 4 (numpy's x[start:start + 5:2]).
Tensor slice(const Tensor& x, std::vector<int64_t> starts, std::vector<int64_t> lengths,
             SliceOpts opts = {}, Where where = Where::current());
// slice along one axis.
Tensor slice_along_axis(const Tensor& x, int axis, int64_t start, int64_t length, int64_t stride = 1,
                        Where where = Where::current());
// Starts as slice's: negative from the end, then clamped so that `update` fits.
Tensor put_slice(const Tensor& x, std::vector<int64_t> starts, const Tensor& update,
                 Where where = Where::current());
struct PadConfig {
  int64_t lo = 0, hi = 0, interior = 0;
};
Tensor pad(const Tensor& x, const Tensor& value, std::vector<PadConfig> config,
           Where where = Where::current());
Tensor concatenate(const std::vector<Tensor>& xs, int axis = 0, Where where = Where::current());
Tensor stack(const std::vector<Tensor>& xs, int axis = 0, Where where = Where::current());
Tensor reverse(const Tensor& x, Axes axes = {}, Where where = Where::current());
Tensor tile(const Tensor& x, std::vector<int64_t> repetitions, Where where = Where::current());

// ---- indexing ----
// What an integer index outside [0, dim) does (JAX's `mode`):
//   clip   (the default, as XLA and Nx): gathers clamp it into range (-1 reads index 0);
//          scatters (indexed_add/put) drop its update, as XLA's scatter does;
//   wrap:  taken modulo dim, so -1 is the last element (numpy's negative indices);
//   fill:  gathers read fill_value (default NaN for floats, the lowest value for signed
//          integers, the highest for unsigned, true for bool); scatters drop the update;
//   check: raises nx::IndexError naming the index (eager only: inside nx::jit the
//          indices have no values yet, so tracing with check raises ValueError).
enum class IndexMode { clip, wrap, fill, check };
struct GatherOpts {
  std::vector<int> axes;  // the axes the last dim of indices addresses; default 0..k-1
  IndexMode mode = IndexMode::clip;
  std::optional<double> fill_value;  // IndexMode::fill for gathers
};
struct TakeOpts {
  int axis = 0;
  IndexMode mode = IndexMode::clip;
  std::optional<double> fill_value;
};
Tensor take(const Tensor& x, const Tensor& indices, TakeOpts opts, Where where = Where::current());
inline Tensor take(const Tensor& x, const Tensor& indices, int axis = 0, Where where = Where::current()) {
  return take(x, indices, TakeOpts{.axis = axis}, where);
}
Tensor take_along_axis(const Tensor& x, const Tensor& indices, int axis,
                       Where where = Where::current());
// A box of x whose starts are tensors (integer scalars, one per axis, e.g. a while_loop's
// counter), as XLA's DynamicSlice: each start is clamped so the box fits.
Tensor dynamic_slice(const Tensor& x, const std::vector<Tensor>& starts, std::vector<int64_t> lengths,
                     Where where = Where::current());
// x with `update` written at tensor starts (clamped so it fits), as DynamicUpdateSlice.
Tensor dynamic_update_slice(const Tensor& x, const Tensor& update, const std::vector<Tensor>& starts,
                            Where where = Where::current());
// indices has shape (..., k): each row picks x[i0, ..., ik-1, :, ...].
Tensor gather(const Tensor& x, const Tensor& indices, GatherOpts opts = {},
              Where where = Where::current());
// Adds (or puts) updates (shape indices.shape[:-1] + trailing dims of x) at the indices.
Tensor indexed_add(const Tensor& x, const Tensor& indices, const Tensor& updates,
                   GatherOpts opts = {}, Where where = Where::current());
Tensor indexed_put(const Tensor& x, const Tensor& indices, const Tensor& updates,
                   GatherOpts opts = {}, Where where = Where::current());

// ---- contraction ----
struct DotOpts {
  std::vector<int> contract_a, contract_b, batch_a, batch_b;
};
// Output: batch dims, then a's free dims, then b's free dims (as XLA/Nx).
Tensor dot_general(const Tensor& a, const Tensor& b, DotOpts opts, Where where = Where::current());
// Vector/matrix product as Nx.dot: contracts a's last axis with b's second-to-last (or only).
Tensor dot(const Tensor& a, const Tensor& b, Where where = Where::current());
Tensor dot(const Tensor& a, std::vector<int> contract_a, const Tensor& b, std::vector<int> contract_b,
           Where where = Where::current());
Tensor dot(const Tensor& a, std::vector<int> contract_a, std::vector<int> batch_a, const Tensor& b,
           std::vector<int> contract_b, std::vector<int> batch_b, Where where = Where::current());

// ---- convolution and windows ----
enum class PaddingMode { explicit_, valid, same };
struct Padding {
  Padding() = default;
  Padding(PaddingMode m) : mode(m) {}  // NOLINT(google-explicit-constructor)
  Padding(std::vector<std::pair<int64_t, int64_t>> p) : mode(PaddingMode::explicit_), pairs(std::move(p)) {}  // NOLINT
  // `.padding = {{1, 1}, {2, 0}}`: (lo, hi) per dim.
  Padding(std::initializer_list<std::pair<int64_t, int64_t>> p) : mode(PaddingMode::explicit_), pairs(p) {}  // NOLINT
  PaddingMode mode = PaddingMode::valid;
  std::vector<std::pair<int64_t, int64_t>> pairs;  // (lo, hi) per spatial/window dim
};
struct ConvOpts {
  std::vector<int64_t> strides;           // per spatial dim; default 1
  Padding padding = PaddingMode::valid;
  std::vector<int64_t> input_dilation;    // default 1
  std::vector<int64_t> kernel_dilation;   // default 1
  int64_t feature_group_size = 1;
  int64_t batch_group_size = 1;
};
// input (N, C, spatial...), kernel (O, C / groups, spatial...) -> (N, O, spatial'...), as Nx.
Tensor conv(const Tensor& input, const Tensor& kernel, ConvOpts opts = {},
            Where where = Where::current());
struct WindowOpts {
  std::vector<int64_t> strides;           // default 1 (note: Nx defaults to the window)
  Padding padding = PaddingMode::valid;
  std::vector<int64_t> window_dilations;  // default 1
};
Tensor window_sum(const Tensor& x, std::vector<int64_t> window, WindowOpts opts = {},
                  Where where = Where::current());
Tensor window_max(const Tensor& x, std::vector<int64_t> window, WindowOpts opts = {},
                  Where where = Where::current());
Tensor window_min(const Tensor& x, std::vector<int64_t> window, WindowOpts opts = {},
                  Where where = Where::current());
Tensor window_product(const Tensor& x, std::vector<int64_t> window, WindowOpts opts = {},
                      Where where = Where::current());
// A tensor shaped like x, filled with `init` (a scalar), plus each element of `source`
// (shaped like window_max(x, window, opts)) added at its window's first maximum of x
// (first minimum for window_scatter_min); a NaN counts as the maximum. The gradient of
// window_max (max pooling), as Nx.window_scatter_max / XLA SelectAndScatter.
Tensor window_scatter_max(const Tensor& x, const Tensor& source, const Tensor& init, std::vector<int64_t> window,
                          WindowOpts opts = {}, Where where = Where::current());
Tensor window_scatter_min(const Tensor& x, const Tensor& source, const Tensor& init, std::vector<int64_t> window,
                          WindowOpts opts = {}, Where where = Where::current());

// ---- sorting ----
enum class Direction { asc, desc };
struct SortOpts {
  int axis = -1;
  Direction direction = Direction::asc;
};
// Stable; NaNs sort after every number in ascending order (before in descending).
Tensor sort(const Tensor& x, SortOpts opts = {}, Where where = Where::current());
Tensor argsort(const Tensor& x, SortOpts opts = {}, Where where = Where::current());
// The k largest along the last axis: values and indices (i64), largest first.
std::pair<Tensor, Tensor> top_k(const Tensor& x, int64_t k, Where where = Where::current());

}  // namespace nx
