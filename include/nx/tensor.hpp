// nx::Tensor: a value-semantic handle. It holds either a concrete buffer on a backend
// or, while nx::jit traces, a node of the expression graph. Copying copies the handle.
#pragma once
#include <array>
#include <cstdint>
#include <initializer_list>
#include <iosfwd>
#include <memory>
#include <optional>
#include <span>
#include <type_traits>
#include <utility>
#include <vector>

#include "nx/axes.hpp"
#include "nx/dtype.hpp"
#include "nx/error.hpp"
#include "nx/index.hpp"
#include "nx/shape.hpp"

namespace nx {

class Buffer;
class Backend;
struct Value;
struct TensorImpl;
class Tensor;
class TensorAt;

// An integer index that remembers the user's line (operators take no default arguments,
// a converting constructor's do): `x[-1]`, `x(i, j)`.
struct LocatedIndex {
  template <class I>
    requires std::is_integral_v<I>
  LocatedIndex(I i, Where w = Where::current()) : value(static_cast<int64_t>(i)), where(w) {}  // NOLINT
  int64_t value;
  Where where;
};

template <class T>
concept Scalar = std::is_arithmetic_v<T> || std::is_same_v<T, float16_t> ||
                 std::is_same_v<T, bfloat16_t>;

class Tensor {
 public:
  Tensor() = default;  // an undefined tensor: defined() is false
  // C++ numbers become weakly typed scalars: `bf16_tensor * 2.0` stays bf16.
  template <class S>
    requires std::is_arithmetic_v<S>
  Tensor(S v) {  // NOLINT(google-explicit-constructor)
    if constexpr (std::is_same_v<S, bool>) init_weak_bool(v);
    else if constexpr (std::is_floating_point_v<S>) init_weak_float(static_cast<double>(v));
    else init_weak_int(static_cast<int64_t>(v));
  }
  explicit Tensor(std::shared_ptr<TensorImpl> impl) : impl_(std::move(impl)) {}

  bool defined() const { return impl_ != nullptr; }
  DType dtype() const;
  const Shape& shape() const;
  int rank() const { return shape().rank(); }
  int64_t size() const { return shape().size(); }
  int64_t dim(int axis) const;  // negative axes count from the end
  bool is_weak() const;         // a C++ number not yet given a dtype by an op
  bool is_traced() const;       // a node of a graph being traced by nx::jit

  // The single element, converted to E. Throws unless size() == 1 and E holds the dtype's
  // category (float E for float tensors; any arithmetic E for ints/bool), and ValueError
  // for an integer value E cannot hold (i64 300 as uint8_t), instead of wrapping.
  template <class E> E item(Where where = Where::current()) const;
  // All elements in row-major order, converted to E (same rules as item()).
  template <class E> std::vector<E> to_vector(Where where = Where::current()) const;
  // The elements where they lie, read-only, row-major, without a copy: valid while this
  // tensor (or a copy of it) lives. Throws unless E is exactly the dtype's C++ type
  // (float for f32, int64_t for i64, bool for bool, ...) and the tensor is concrete in
  // host memory (not traced, donated or on a device).
  template <class E> const E* data(Where where = Where::current()) const;
  template <class E> std::span<const E> span(Where where = Where::current()) const;

  // ---- indexing (nx/index.hpp) ----
  // x[i]: the sub-tensor at position i of axis 0 (negative from the end).
  Tensor operator[](LocatedIndex i) const;
  // x(i, j, ...): positions along the leading axes; all of them gives a scalar.
  template <class... I>
    requires(std::is_integral_v<I> && ...)
  Tensor operator()(LocatedIndex first, I... rest) const;
  // x.slice({nx::all, {1, 5}, {0, nx::end, 2}}): numpy's x[:, 1:5, 0::2] (stop indices,
  // unlike the free nx::slice, which takes lengths).
  Tensor slice(std::initializer_list<Index> index, Where where = Where::current()) const;
  // JAX's x.at[...]: x.at({0, nx::all}).set(v) and .add(v) return the updated tensor.
  TensorAt at(std::initializer_list<Index> index, Where where = Where::current()) const;

  // ---- short forms of common ops (each calls the free function) ----
  Tensor sum(ReduceOpts opts = {}, Where where = Where::current()) const;
  template <class A = Axes>
  Tensor sum(std::type_identity_t<A> axes, Where where = Where::current()) const {
    return sum(ReduceOpts{.axes = std::move(axes)}, where);
  }
  Tensor mean(ReduceOpts opts = {}, Where where = Where::current()) const;
  template <class A = Axes>
  Tensor mean(std::type_identity_t<A> axes, Where where = Where::current()) const {
    return mean(ReduceOpts{.axes = std::move(axes)}, where);
  }
  Tensor reshape(const Shape& shape, Where where = Where::current()) const;
  Tensor reshape(std::initializer_list<int64_t> shape, Where where = Where::current()) const;
  Tensor astype(DType dtype, Where where = Where::current()) const;
  Tensor T(Where where = Where::current()) const;  // the axes reversed (numpy's .T)

  // Concrete access: the buffer (throws while traced) and the graph value (throws if concrete).
  const std::shared_ptr<Buffer>& buffer() const;
  const Value& value() const;
  const std::shared_ptr<TensorImpl>& impl() const { return impl_; }

 private:
  void init_weak_bool(bool v);
  void init_weak_float(double v);
  void init_weak_int(int64_t v);
  void copy_out(void* dst, DType as, Where where) const;  // converts every element to `as`
  const void* host_data(DType as, Where where) const;     // data<E>()'s checks
  Tensor positions(std::vector<int64_t> index, Where where) const;  // operator[] and ()
  std::shared_ptr<TensorImpl> impl_;
};

std::ostream& operator<<(std::ostream& os, const Tensor& t);
std::ostream& operator<<(std::ostream& os, const Shape& s);
std::ostream& operator<<(std::ostream& os, DType t);
std::string to_string(const Tensor& t, int64_t limit = 30);

// What x.at(index) returns: the region, and the updates of it (JAX's .at[...].set/add).
class TensorAt {
 public:
  TensorAt(Tensor x, std::vector<Index> index, Where where);
  // x with the region replaced by v (broadcast to the region's shape, cast to x's dtype).
  Tensor set(const Tensor& v) const;
  // x with v added to the region.
  Tensor add(const Tensor& v) const;
  // The region (as x.slice(index)).
  Tensor get() const;

 private:
  Tensor update(const Tensor& v, bool add) const;
  Tensor x_;
  std::vector<Index> index_;
  Where where_;
};

// ---- creation ----
// From a flat vector (any arithmetic T or f16/bf16) and a shape.
template <class T>
Tensor from_vector(const std::vector<T>& data, const Shape& shape, Where where = Where::current());
Tensor from_bytes(const void* data, DType dtype, const Shape& shape, Where where = Where::current());
// Typed copies of contiguous data: the dtype comes from T; a size that does not fill the
// shape raises. from_span(std::span<const T>), std::array and C arrays (`double c[6]`).
template <class T>
Tensor from_span(std::span<const T> data, const Shape& shape, Where where = Where::current());
template <class T, size_t N>
Tensor from_span(const std::array<T, N>& data, const Shape& shape, Where where = Where::current()) {
  return from_span(std::span<const T>(data), shape, where);
}
template <class T, size_t N>
Tensor from_span(const T (&data)[N], const Shape& shape, Where where = Where::current()) {
  return from_span(std::span<const T>(data), shape, where);
}
// A tensor over user memory without a copy (torch::from_blob, Eigen::Map) on host backends:
// `data` must stay valid, and unchanged, while the tensor (or a result sharing it) lives;
// `keep_alive`, when given, is held until then. T must be exactly a dtype's C++ type
// (float, double, int32_t, int64_t, uint8_t, uint32_t, bool, float16_t, bfloat16_t).
// Memory not aligned for T, or a default backend on a device, gets a copy.
template <class T>
Tensor view(const T* data, const Shape& shape, std::shared_ptr<void> keep_alive = {},
            Where where = Where::current());
// Nested initializer lists. Floats default to f32, integers to i64, bool to bool.
template <class T>
Tensor tensor(std::initializer_list<T> v, std::optional<DType> dtype = {}, Where where = Where::current());
template <class T>
Tensor tensor(std::initializer_list<std::initializer_list<T>> v, std::optional<DType> dtype = {},
              Where where = Where::current());
template <class T>
Tensor tensor(std::initializer_list<std::initializer_list<std::initializer_list<T>>> v,
              std::optional<DType> dtype = {}, Where where = Where::current());
template <class T>
Tensor tensor(
    std::initializer_list<std::initializer_list<std::initializer_list<std::initializer_list<T>>>> v,
    std::optional<DType> dtype = {}, Where where = Where::current());
// A scalar tensor with a fixed (not weak) dtype. Integers are kept exactly (not through
// double): scalar(9007199254740993, i64); a value an integer dtype cannot hold is refused.
Tensor scalar(double v, DType dtype = f32, Where where = Where::current());
namespace detail {
Tensor integer_scalar(int64_t v, DType dtype, Where where);
Tensor unsigned_scalar(uint64_t v, DType dtype, Where where);
[[noreturn]] void out_of_range(const char* op, int64_t value, size_t index, int bits, bool is_signed, Where where);
}  // namespace detail
template <class T>
  requires(std::is_integral_v<T> && !std::is_same_v<T, bool>)
Tensor scalar(T v, DType dtype = f32, Where where = Where::current()) {
  if constexpr (std::is_signed_v<T>) return detail::integer_scalar(v, dtype, where);
  else return detail::unsigned_scalar(v, dtype, where);
}

}  // namespace nx

// ---- template definitions ----
namespace nx {
namespace detail {
// The storage type a C++ number is held in: int -> int32_t, long -> int64_t, ...
template <class T> auto canonical_type() {
  if constexpr (std::is_same_v<T, bool>) return bool{};
  else if constexpr (std::is_same_v<T, float16_t> || std::is_same_v<T, bfloat16_t>) return T{};
  else if constexpr (std::is_floating_point_v<T>) {
    if constexpr (sizeof(T) <= 4) return float{}; else return double{};
  } else if constexpr (std::is_unsigned_v<T>) {
    if constexpr (sizeof(T) == 1) return uint8_t{};
    else if constexpr (sizeof(T) <= 4) return uint32_t{};
    else return int64_t{};
  } else {
    if constexpr (sizeof(T) <= 4) return int32_t{}; else return int64_t{};
  }
}
template <class T> using canonical_t = decltype(canonical_type<T>());
// The element of a contiguous staging vector (std::vector<bool> has no data()).
template <class T> using staged_t = std::conditional_t<std::is_same_v<canonical_t<T>, bool>, uint8_t, canonical_t<T>>;
Tensor as_type_for_creation(const Tensor& t, DType dtype, Where where);
void check_ragged(bool ok, Where where);

template <class T>
void flatten_level(std::initializer_list<T> v, std::vector<staged_t<T>>& out, Shape& s, int depth,
                   Where where) {
  if (s.rank() <= depth) s.push_back(static_cast<int64_t>(v.size()));
  else check_ragged(s[depth] == static_cast<int64_t>(v.size()), where);
  for (const T& x : v) out.push_back(static_cast<staged_t<T>>(static_cast<canonical_t<T>>(x)));
}
template <class T, class Inner>
void flatten_level(std::initializer_list<Inner> v, std::vector<staged_t<T>>& out, Shape& s, int depth,
                   Where where) {
  if (s.rank() <= depth) s.push_back(static_cast<int64_t>(v.size()));
  else check_ragged(s[depth] == static_cast<int64_t>(v.size()), where);
  for (const Inner& x : v) {
    if constexpr (std::is_same_v<Inner, T>) out.push_back(static_cast<staged_t<T>>(static_cast<canonical_t<T>>(x)));
    else flatten_level<T>(x, out, s, depth + 1, where);
  }
}
template <class T, class List>
Tensor tensor_from_list(List v, std::optional<DType> dtype, Where where) {
  std::vector<staged_t<T>> flat;
  Shape shape;
  flatten_level<T>(v, flat, shape, 0, where);
  DType def = std::is_same_v<T, bool> ? DType::bool_
              : std::is_floating_point_v<T> ? DType::f32
              : std::is_same_v<T, float16_t> ? DType::f16
              : std::is_same_v<T, bfloat16_t> ? DType::bf16 : DType::i64;
  Tensor t = from_bytes(flat.data(), dtype_v<canonical_t<T>>, shape, where);
  return as_type_for_creation(t, dtype.value_or(def), where);
}
}  // namespace detail

template <class T>
Tensor from_vector(const std::vector<T>& data, const Shape& shape, Where where) {
  using C = detail::canonical_t<T>;
  if (static_cast<int64_t>(data.size()) != shape.size())
    throw ValueError("from_vector", std::to_string(data.size()) + " values do not fill shape " + shape.str(),
                     where);
  if constexpr (std::is_same_v<C, T> && !std::is_same_v<T, bool>) {
    return from_bytes(data.data(), dtype_v<C>, shape, where);
  } else {
    std::vector<detail::staged_t<T>> c(data.begin(), data.end());
    return from_bytes(c.data(), dtype_v<C>, shape, where);
  }
}
template <class T>
Tensor tensor(std::initializer_list<T> v, std::optional<DType> dtype, Where where) {
  return detail::tensor_from_list<T>(v, dtype, where);
}
template <class T>
Tensor tensor(std::initializer_list<std::initializer_list<T>> v, std::optional<DType> dtype, Where where) {
  return detail::tensor_from_list<T>(v, dtype, where);
}
template <class T>
Tensor tensor(std::initializer_list<std::initializer_list<std::initializer_list<T>>> v,
              std::optional<DType> dtype, Where where) {
  return detail::tensor_from_list<T>(v, dtype, where);
}
template <class T>
Tensor tensor(
    std::initializer_list<std::initializer_list<std::initializer_list<std::initializer_list<T>>>> v,
    std::optional<DType> dtype, Where where) {
  return detail::tensor_from_list<T>(v, dtype, where);
}

template <class T> std::vector<T> Tensor::to_vector(Where where) const {
  using C = detail::canonical_t<T>;
  if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>) {
    // Read exactly (every nx integer dtype fits in i64), then refuse what T cannot hold.
    std::vector<int64_t> wide(static_cast<size_t>(size()));
    copy_out(wide.data(), DType::i64, where);
    std::vector<T> out(wide.size());
    for (size_t i = 0; i < wide.size(); ++i) {
      if (!std::in_range<T>(wide[i]))
        detail::out_of_range("to_vector", wide[i], i, 8 * sizeof(T), std::is_signed_v<T>, where);
      out[i] = static_cast<T>(wide[i]);
    }
    return out;
  } else {
    std::vector<detail::staged_t<T>> out(static_cast<size_t>(size()));
    copy_out(out.data(), dtype_v<C>, where);
    if constexpr (std::is_same_v<C, T> && !std::is_same_v<T, bool>) return out;
    else return std::vector<T>(out.begin(), out.end());
  }
}
template <class T> T Tensor::item(Where where) const {
  if (size() != 1)
    throw ValueError("item", "needs exactly one element, the tensor has shape " + shape().str(), where);
  return to_vector<T>(where)[0];
}

namespace detail {
Tensor view_host(DType dtype, const Shape& shape, const void* data, std::shared_ptr<void> keep, Where where);
// The dtype whose storage is exactly T (int -> i32, long -> i64 ...), checked at compile time.
template <class T> constexpr DType exact_dtype() {
  using C = canonical_t<T>;
  static_assert(std::is_same_v<C, T> || (std::is_integral_v<T> && sizeof(T) == sizeof(C) &&
                                         std::is_signed_v<T> == std::is_signed_v<C>),
                "nx: no dtype is stored as this C++ type (use float, double, int32_t, int64_t, uint8_t, "
                "uint32_t, bool, float16_t or bfloat16_t)");
  return dtype_v<C>;
}
}  // namespace detail

template <class T> const T* Tensor::data(Where where) const {
  return static_cast<const T*>(host_data(detail::exact_dtype<T>(), where));
}
template <class T> std::span<const T> Tensor::span(Where where) const {
  const T* p = data<T>(where);
  return {p, static_cast<size_t>(size())};
}
template <class... I>
  requires(std::is_integral_v<I> && ...)
Tensor Tensor::operator()(LocatedIndex first, I... rest) const {
  return positions({first.value, static_cast<int64_t>(rest)...}, first.where);
}
template <class T> Tensor from_span(std::span<const T> data, const Shape& shape, Where where) {
  if (static_cast<int64_t>(data.size()) != shape.size())
    throw ValueError("from_span", std::to_string(data.size()) + " values do not fill shape " + shape.str(), where);
  using C = detail::canonical_t<std::remove_cv_t<T>>;
  if constexpr (std::is_same_v<C, std::remove_cv_t<T>> && !std::is_same_v<C, bool>) {
    return from_bytes(data.data(), dtype_v<C>, shape, where);
  } else {
    std::vector<detail::staged_t<std::remove_cv_t<T>>> c(data.begin(), data.end());
    return from_bytes(c.data(), dtype_v<C>, shape, where);
  }
}
template <class T>
Tensor view(const T* data, const Shape& shape, std::shared_ptr<void> keep_alive, Where where) {
  constexpr DType dt = detail::exact_dtype<T>();
  if (shape.size() > 0 && !data) throw ValueError("view", "the data pointer is null for shape " + shape.str(), where);
  return detail::view_host(dt, shape, data, std::move(keep_alive), where);
}
}  // namespace nx
