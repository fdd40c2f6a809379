#include "nx/tensor.hpp"

#include <cmath>
#include <limits>

#include "nx/detail/core.hpp"

namespace nx {

namespace {
const TensorImpl& impl_of(const std::shared_ptr<TensorImpl>& impl) {
  if (!impl) throw ValueError("tensor", "the tensor is undefined (default-constructed)");
  return *impl;
}
Tensor weak_scalar(const void* v, DType dtype) {
  Backend& be = default_backend();
  return detail::make_concrete(TensorType{dtype, Shape{}}, be.from_host(v, static_cast<size_t>(item_size(dtype))),
                               /*weak=*/true);
}
}  // namespace

DType Tensor::dtype() const { return impl_of(impl_).type.dtype; }
const Shape& Tensor::shape() const { return impl_of(impl_).type.shape; }
bool Tensor::is_weak() const { return impl_of(impl_).weak; }
bool Tensor::is_traced() const { return impl_of(impl_).buffer == nullptr && !impl_->donated; }
int64_t Tensor::dim(int axis) const {
  return shape()[detail::normalize_axis(axis, rank(), "dim", Where{})];
}

const std::shared_ptr<Buffer>& Tensor::buffer() const {
  const TensorImpl& i = impl_of(impl_);
  if (i.donated)
    throw ValueError("tensor", "this tensor was donated to a jitted call (JitOptions::donate): its buffer may hold "
                               "that call's results now");
  if (!i.buffer)
    throw ValueError("tensor", "a traced tensor has no value yet: it is a node of the graph nx::jit is "
                               "building (read values outside the jitted function)");
  return i.buffer;
}
const Value& Tensor::value() const {
  const TensorImpl& i = impl_of(impl_);
  if (i.buffer) throw ValueError("tensor", "a concrete tensor is not a graph value");
  return i.value;
}

void Tensor::init_weak_bool(bool v) {
  uint8_t b = v ? 1 : 0;
  *this = weak_scalar(&b, DType::bool_);
}
void Tensor::init_weak_float(double v) { *this = weak_scalar(&v, DType::f64); }
void Tensor::init_weak_int(int64_t v) { *this = weak_scalar(&v, DType::i64); }

void Tensor::copy_out(void* dst, DType as, Where where) const {
  if (!defined()) throw ValueError("to_vector", "the tensor is undefined", where);
  if (is_traced())
    throw ValueError("to_vector", "cannot read the values of a tensor traced inside nx::jit (return it instead)", where);
  const BufferPtr& b = buffer();
  DType from = dtype();
  if (is_float(from) && !is_float(as))
    throw DTypeError("to_vector", "cannot read a " + std::string(name(from)) +
                                      " tensor as an integer type; convert with nx::as_type first", where);
  int64_t n = size();
  if (b->owner()->host_accessible()) {
    detail::convert(b->data(), from, dst, as, n);
  } else {
    std::vector<std::byte> host(b->bytes());
    b->owner()->to_host(*b, host.data(), host.size());
    detail::convert(host.data(), from, dst, as, n);
  }
}

Tensor from_bytes(const void* data, DType dtype, const Shape& shape, Where where) {
  TensorType type{dtype, shape};
  size_t bytes = type.bytes("from_bytes", where);
  return detail::make_concrete(std::move(type), default_backend().from_host(data, bytes));
}

Tensor scalar(double v, DType dtype, Where where) {
  return detail::as_type_for_creation(from_bytes(&v, DType::f64, Shape{}, where), dtype, where);
}

namespace detail {

Tensor integer_scalar(int64_t v, DType dtype, Where where) {
  auto fits = [&](int64_t lo, int64_t hi) { return lo <= v && v <= hi; };
  bool ok = dtype == DType::u8    ? fits(0, 255)
            : dtype == DType::u32 ? fits(0, 4294967295)
            : dtype == DType::i32 ? fits(INT32_MIN, INT32_MAX)
                                  : true;  // i64, floats (rounded), bool (nonzero is true)
  if (!ok)
    throw ValueError("scalar", std::to_string(v) + " is out of range for " + std::string(name(dtype)), where);
  return as_type_for_creation(from_bytes(&v, DType::i64, Shape{}, where), dtype, where);
}

Tensor unsigned_scalar(uint64_t v, DType dtype, Where where) {
  if (v <= static_cast<uint64_t>(INT64_MAX)) return integer_scalar(static_cast<int64_t>(v), dtype, where);
  if (!is_float(dtype))
    throw ValueError("scalar", std::to_string(v) + " is out of range for " + std::string(name(dtype)), where);
  return scalar(static_cast<double>(v), dtype, where);
}

void out_of_range(const char* op, int64_t value, size_t index, int bits, bool is_signed, Where where) {
  throw ValueError(op, "element " + std::to_string(index) + " is " + std::to_string(value) + ", out of range for " +
                           (is_signed ? "a signed " : "an unsigned ") + std::to_string(bits) + "-bit integer",
                   where);
}

}  // namespace detail

namespace detail {

void check_ragged(bool ok, Where where) {
  if (!ok) throw ValueError("tensor", "nested lists are ragged: every row must have the same length", where);
}

Tensor as_type_for_creation(const Tensor& t, DType dtype, Where where) {
  if (t.dtype() == dtype && !t.is_weak()) return t;
  // Conversion on the host: creation must not depend on tracing state.
  std::vector<std::byte> out(static_cast<size_t>(t.size()) * static_cast<size_t>(item_size(dtype)));
  const BufferPtr& b = t.buffer();
  std::vector<std::byte> staged;  // a device buffer (a device default backend) comes to the host first
  const void* src = b->data();
  if (!b->owner()->host_accessible()) {
    staged.resize(b->bytes());
    b->owner()->to_host(*b, staged.data(), staged.size());
    src = staged.data();
  }
  convert(src, t.dtype(), out.data(), dtype, t.size());
  return from_bytes(out.data(), dtype, t.shape(), where);
}

namespace {
template <class T> double load_as_double(const T* p) {
  if constexpr (std::is_same_v<T, float16_t> || std::is_same_v<T, bfloat16_t>) return static_cast<float>(*p);
  else return static_cast<double>(*p);
}
template <class To> To from_double(double v) {
  if constexpr (std::is_same_v<To, bool>) {
    return v != 0;
  } else if constexpr (std::is_same_v<To, float16_t> || std::is_same_v<To, bfloat16_t>) {
    return To(static_cast<float>(v));
  } else if constexpr (std::is_floating_point_v<To>) {
    return static_cast<To>(v);
  } else {
    if (std::isnan(v)) return 0;
    if (v <= static_cast<double>(std::numeric_limits<To>::lowest())) return std::numeric_limits<To>::lowest();
    if (v >= static_cast<double>(std::numeric_limits<To>::max())) return std::numeric_limits<To>::max();
    return static_cast<To>(v);
  }
}
template <class From, class To> void convert_typed(const From* src, To* dst, int64_t n) {
  constexpr bool from_int = std::is_integral_v<From>;
  constexpr bool to_int = std::is_integral_v<To> && !std::is_same_v<To, bool>;
  for (int64_t i = 0; i < n; ++i) {
    if constexpr (std::is_same_v<From, To>) {
      dst[i] = src[i];
    } else if constexpr (std::is_same_v<To, bool>) {
      dst[i] = load_as_double(src + i) != 0;
    } else if constexpr (from_int && to_int) {
      dst[i] = static_cast<To>(src[i]);  // wraps modulo 2^n, as C++ and numpy
    } else if constexpr (from_int && std::is_floating_point_v<To>) {
      dst[i] = static_cast<To>(src[i]);  // exact rounding of large i64 to f32
    } else if constexpr (std::is_same_v<From, float> && std::is_same_v<To, double>) {
      dst[i] = src[i];
    } else {
      dst[i] = from_double<To>(load_as_double(src + i));
    }
  }
}
template <class F> void dispatch_type(DType t, F&& f) {
  switch (t) {
    case DType::bool_: f(bool{}); break;
    case DType::u8: f(uint8_t{}); break;
    case DType::u32: f(uint32_t{}); break;
    case DType::i32: f(int32_t{}); break;
    case DType::i64: f(int64_t{}); break;
    case DType::f16: f(float16_t{}); break;
    case DType::bf16: f(bfloat16_t{}); break;
    case DType::f32: f(float{}); break;
    case DType::f64: f(double{}); break;
  }
}
}  // namespace

void convert(const void* src, DType from, void* dst, DType to, int64_t n) {
  if (from == to) {
    if (n > 0) std::memcpy(dst, src, static_cast<size_t>(n) * static_cast<size_t>(item_size(from)));
    return;
  }
  dispatch_type(from, [&](auto f) {
    using From = decltype(f);
    dispatch_type(to, [&](auto t) {
      using To = decltype(t);
      convert_typed(static_cast<const From*>(src), static_cast<To*>(dst), n);
    });
  });
}

}  // namespace detail
}  // namespace nx
