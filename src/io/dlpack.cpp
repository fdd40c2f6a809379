// DLPack export (views of nx host buffers) and import (adopting or gathering foreign memory).
#include "nx/io/dlpack.hpp"

#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "nx/detail/core.hpp"

namespace nx::io {
namespace {

// kDLBool arrived in DLPack 0.8; the 0.6 header lacks the enumerator, not the meaning.
constexpr uint8_t kBoolCode = 6;

DLDataType dl_type(DType t) {
  auto make = [](uint8_t code, int bits) { return DLDataType{code, static_cast<uint8_t>(bits), 1}; };
  switch (t) {
    case DType::bool_: return make(kBoolCode, 8);
    case DType::u8: return make(kDLUInt, 8);
    case DType::u32: return make(kDLUInt, 32);
    case DType::i32: return make(kDLInt, 32);
    case DType::i64: return make(kDLInt, 64);
    case DType::f16: return make(kDLFloat, 16);
    case DType::bf16: return make(kDLBfloat, 16);
    case DType::f32: return make(kDLFloat, 32);
    case DType::f64: return make(kDLFloat, 64);
  }
  return make(kDLOpaqueHandle, 0);
}

std::optional<DType> nx_type(DLDataType t) {
  for (DType d : {boolean, u8, u32, i32, i64, f16, bf16, f32, f64}) {
    DLDataType e = dl_type(d);
    if (e.code == t.code && e.bits == t.bits) return d;
  }
  return std::nullopt;
}

// What to_dlpack hands out: the DLManagedTensor and everything its pointers point into.
struct Exported {
  DLManagedTensor managed{};
  BufferPtr buffer;                   // the tensor's host buffer, kept alive
  std::vector<std::byte> host_copy;   // or a host copy of a device buffer
  int64_t shape[kMaxRank] = {};
  int64_t strides[kMaxRank] = {};
};

// Copies n elements of size S from `src`, laid out with element strides, in row-major order.
template <size_t S>
void gather(const std::byte* src, const Shape& shape, const int64_t* strides, std::byte* out, int64_t n) {
  int rank = shape.rank();
  int64_t index[kMaxRank] = {};
  int64_t offset = 0;
  for (int64_t k = 0; k < n; ++k) {
    std::memcpy(out + k * static_cast<int64_t>(S), src + offset * static_cast<int64_t>(S), S);
    for (int i = rank - 1; i >= 0; --i) {
      if (index[i] + 1 < shape[i]) {
        ++index[i];
        offset += strides[i];
        break;
      }
      offset -= (shape[i] - 1) * strides[i];  // back to the start of this axis
      index[i] = 0;
    }
  }
}

}  // namespace

DLManagedTensor* to_dlpack(const Tensor& t, Where where) {
  if (!t.defined()) throw ValueError("to_dlpack", "the tensor is undefined", where);
  if (t.is_traced())
    throw ValueError("to_dlpack", "cannot export a traced tensor inside nx::jit (export its value outside)", where);
  size_t bytes = TensorType{t.dtype(), t.shape()}.bytes("to_dlpack", where);
  auto e = std::make_unique<Exported>();
  const BufferPtr& b = t.buffer();
  void* data = nullptr;
  if (b->owner()->host_accessible()) {
    e->buffer = b;
    data = b->data();
  } else {
    e->host_copy.resize(bytes);
    b->owner()->to_host(*b, e->host_copy.data(), bytes);
    data = e->host_copy.data();
  }
  auto strides = t.shape().strides();
  for (int i = 0; i < t.rank(); ++i) e->shape[i] = t.shape()[i], e->strides[i] = strides[i];
  DLTensor& d = e->managed.dl_tensor;
  d.data = data;
  d.device = DLDevice{kDLCPU, 0};
  d.ndim = t.rank();
  d.dtype = dl_type(t.dtype());
  d.shape = e->shape;
  d.strides = e->strides;
  d.byte_offset = 0;
  e->managed.manager_ctx = e.get();
  e->managed.deleter = [](DLManagedTensor* m) { delete static_cast<Exported*>(m->manager_ctx); };
  return &e.release()->managed;
}

Tensor from_dlpack(DLManagedTensor* m, Where where) {
  auto bad = [&](const std::string& what) { throw ValueError("from_dlpack", what, where); };
  if (!m) bad("the DLManagedTensor pointer is null");
  // From here every path, errors included, returns m through its deleter exactly once:
  // when this handle and every tensor adopting the memory are gone.
  std::shared_ptr<void> keep(static_cast<void*>(m), [](void* p) {
    auto* mt = static_cast<DLManagedTensor*>(p);
    if (mt->deleter) mt->deleter(mt);
  });
  const DLTensor& d = m->dl_tensor;
  DLDeviceType dev = d.device.device_type;
  if (dev != kDLCPU && dev != kDLCUDAHost && dev != kDLROCMHost)
    bad("device type " + std::to_string(static_cast<int>(dev)) + " is not CPU memory; copy the tensor to the CPU first");
  std::string type_str = "type code " + std::to_string(d.dtype.code) + " with " + std::to_string(d.dtype.bits) +
                         " bits";
  if (d.dtype.lanes != 1) bad("vector dtypes (" + std::to_string(d.dtype.lanes) + " lanes) are not supported");
  std::optional<DType> dtype = nx_type(d.dtype);
  if (!dtype) bad(type_str + " has no nx dtype (bool, u8, u32, i32, i64, f16, bf16, f32, f64)");
  if (d.ndim < 0 || d.ndim > kMaxRank)
    bad("ndim " + std::to_string(d.ndim) + " is outside 0.." + std::to_string(kMaxRank));
  if (d.ndim > 0 && !d.shape) bad("the shape pointer is null");
  std::span<const int64_t> dims(d.shape, static_cast<size_t>(d.ndim));
  for (int64_t dim : dims)
    if (dim < 0) bad("negative dimension " + std::to_string(dim) + " in the shape");
  std::optional<int64_t> count = checked_element_count(dims);  // in any axis order
  if (!count) bad("the shape's element count overflows");
  Shape shape(dims);
  int64_t n = *count;
  TensorType type{*dtype, shape};
  size_t bytes = type.bytes("from_dlpack", where);
  if (n == 0) return zeros(shape, *dtype, where);
  if (!d.data) bad("the data pointer is null for " + std::to_string(n) + " elements");
  uintptr_t base = 0;
  if (__builtin_add_overflow(reinterpret_cast<uintptr_t>(d.data), d.byte_offset, &base))
    bad("byte_offset " + std::to_string(d.byte_offset) + " runs past the address space");
  const auto* data = reinterpret_cast<const std::byte*>(base);

  // Element strides, size-1 axes normalised to 0 (their stride is never applied).
  int64_t strides[kMaxRank] = {};
  auto compact = shape.strides();
  bool is_compact = true;
  for (int i = 0; i < d.ndim; ++i) {
    strides[i] = shape[i] == 1 ? 0 : d.strides ? d.strides[i] : compact[i];
    if (shape[i] != 1 && strides[i] != compact[i]) is_compact = false;
  }
  bool valid_bools = true;
  if (*dtype == boolean && is_compact)
    for (int64_t i = 0; i < n && valid_bools; ++i) valid_bools = static_cast<uint8_t>(data[i]) <= 1;
  if (is_compact && valid_bools) return detail::adopt_host(type, data, keep);

  // Gather. The element offsets span [lo, hi]; check that neither they nor their byte
  // addresses overflow (the producer vouches for the memory itself).
  int64_t lo = 0, hi = 0, span = 0;
  int64_t isz = item_size(*dtype);
  for (int i = 0; i < d.ndim; ++i) {
    if (__builtin_mul_overflow(shape[i] - 1, strides[i], &span) ||
        __builtin_add_overflow(span < 0 ? lo : hi, span, span < 0 ? &lo : &hi))
      bad("the strides overflow");
  }
  int64_t lo_bytes = 0, hi_end = 0, hi_bytes = 0;
  uintptr_t ignored = 0;
  if (__builtin_mul_overflow(lo, isz, &lo_bytes) || __builtin_add_overflow(hi, 1, &hi_end) ||
      __builtin_mul_overflow(hi_end, isz, &hi_bytes) || uintptr_t{0} - static_cast<uintptr_t>(lo_bytes) > base ||
      __builtin_add_overflow(base, static_cast<uintptr_t>(hi_bytes), &ignored))
    bad("the strides reach outside the address space");
  std::vector<std::byte> out(bytes);
  switch (isz) {
    case 1: gather<1>(data, shape, strides, out.data(), n); break;
    case 2: gather<2>(data, shape, strides, out.data(), n); break;
    case 4: gather<4>(data, shape, strides, out.data(), n); break;
    default: gather<8>(data, shape, strides, out.data(), n); break;
  }
  if (*dtype == boolean)
    for (auto& x : out) x = std::byte{x != std::byte{0}};  // only 0/1 are valid bools
  return from_bytes(out.data(), *dtype, shape, where);
}

}  // namespace nx::io
