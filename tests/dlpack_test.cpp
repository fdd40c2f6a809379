#include <gtest/gtest.h>

#include <cstring>
#include <memory>
#include <numeric>

#include "nx/detail/core.hpp"
#include "nx/io/dlpack.hpp"
#include "nx/nx.hpp"
#include "test_support.hpp"

namespace {

using nx::io::from_dlpack;
using nx::io::to_dlpack;
using nx_test::expect_op_error;

const std::vector<nx::DType> kAllTypes{nx::boolean, nx::u8,  nx::u32, nx::i32, nx::i64,
                                       nx::f16,     nx::bf16, nx::f32, nx::f64};

// A producer's DLManagedTensor over memory this test owns; the deleter counts its calls.
struct Foreign {
  DLManagedTensor managed{};
  std::vector<int64_t> shape, strides;
  int* deletions = nullptr;
};

template <class T>
DLManagedTensor* foreign(std::vector<T>& data, DLDataType type, std::vector<int64_t> shape,
                         std::vector<int64_t> strides, int* deletions, uint64_t byte_offset = 0) {
  auto* f = new Foreign{};
  f->shape = std::move(shape);
  f->strides = std::move(strides);
  f->deletions = deletions;
  DLTensor& d = f->managed.dl_tensor;
  d.data = data.data();
  d.device = DLDevice{kDLCPU, 0};
  d.ndim = static_cast<int>(f->shape.size());
  d.dtype = type;
  d.shape = f->shape.data();
  d.strides = f->strides.empty() ? nullptr : f->strides.data();
  d.byte_offset = byte_offset;
  f->managed.manager_ctx = f;
  f->managed.deleter = [](DLManagedTensor* m) {
    auto* self = static_cast<Foreign*>(m->manager_ctx);
    ++*self->deletions;
    delete self;
  };
  return &f->managed;
}

const DLDataType kF32{kDLFloat, 32, 1};
const DLDataType kI32{kDLInt, 32, 1};

TEST(DLPack, RoundTripsEveryDTypeAndRank) {
  for (nx::DType t : kAllTypes) {
    for (int rank = 0; rank <= 8; ++rank) {
      nx::Shape s;
      for (int i = 0; i < rank; ++i) s.push_back(i % 3 + 1);
      nx::Tensor x = nx::as_type(nx::remainder(nx::iota(s), 7), t);
      DLManagedTensor* m = to_dlpack(x);
      ASSERT_EQ(m->dl_tensor.ndim, rank);
      EXPECT_EQ(m->dl_tensor.data, x.buffer()->data()) << "zero copy";
      nx::Tensor y = from_dlpack(m);
      EXPECT_EQ(y.buffer()->data(), x.buffer()->data()) << "zero copy back";
      ASSERT_EQ(y.dtype(), t);
      ASSERT_EQ(y.shape(), s);
      EXPECT_EQ(y.to_vector<double>(), x.to_vector<double>()) << nx::name(t) << " rank " << rank;
    }
    nx::Tensor empty = nx::zeros({3, 0, 2}, t);
    nx::Tensor back = from_dlpack(to_dlpack(empty));
    EXPECT_EQ(back.shape(), empty.shape());
    EXPECT_EQ(back.dtype(), t);
  }
}

TEST(DLPack, ExportDescribesTheTensor) {
  nx::Tensor x = nx::as_type(nx::iota({2, 3, 4}), nx::bf16);
  DLManagedTensor* m = to_dlpack(x);
  const DLTensor& d = m->dl_tensor;
  EXPECT_EQ(d.device.device_type, kDLCPU);
  EXPECT_EQ(d.dtype.code, kDLBfloat);
  EXPECT_EQ(d.dtype.bits, 16);
  EXPECT_EQ(d.dtype.lanes, 1);
  EXPECT_EQ(std::vector<int64_t>(d.shape, d.shape + 3), (std::vector<int64_t>{2, 3, 4}));
  EXPECT_EQ(std::vector<int64_t>(d.strides, d.strides + 3), (std::vector<int64_t>{12, 4, 1}));
  EXPECT_EQ(d.byte_offset, 0u);
  m->deleter(m);
  DLManagedTensor* b = to_dlpack(nx::as_type(nx::tensor({1, 0}), nx::boolean));
  EXPECT_EQ(b->dl_tensor.dtype.code, 6);  // kDLBool
  EXPECT_EQ(b->dl_tensor.dtype.bits, 8);
  b->deleter(b);
}

TEST(DLPack, ExportKeepsTheBufferAlive) {
  DLManagedTensor* m = nullptr;
  {
    nx::Tensor x = nx::tensor({1.5f, 2.5f, 3.5f});
    m = to_dlpack(x);
  }
  const float* p = static_cast<const float*>(m->dl_tensor.data);
  EXPECT_EQ(std::vector<float>(p, p + 3), (std::vector<float>{1.5f, 2.5f, 3.5f}));
  m->deleter(m);  // under ASan, a leak or double free would show here
}

TEST(DLPack, ImportIsZeroCopyAndReleasesOnceAfterTheLastUser) {
  std::vector<float> data(12);
  std::iota(data.begin(), data.end(), 0.0f);
  int deletions = 0;
  {
    nx::Tensor x = from_dlpack(foreign(data, kF32, {3, 4}, {}, &deletions));
    EXPECT_EQ(x.buffer()->data(), data.data());
    EXPECT_EQ(x.shape(), nx::Shape({3, 4}));
    nx::Tensor copy = x;
    nx::Tensor sum;
    {
      nx::Tensor y = x;
      x = nx::Tensor();
      sum = nx::sum(y);
    }
    EXPECT_EQ(deletions, 0);
    EXPECT_EQ(sum.item<float>(), 66.0f);
    EXPECT_EQ(copy.to_vector<float>(), data);
  }
  EXPECT_EQ(deletions, 1);
  // Explicit compact strides and odd strides on size-1 axes are still zero copy.
  nx::Tensor z = from_dlpack(foreign(data, kF32, {3, 1, 4}, {4, 999, 1}, &deletions));
  EXPECT_EQ(z.buffer()->data(), data.data());
  z = nx::Tensor();
  EXPECT_EQ(deletions, 2);
}

TEST(DLPack, ByteOffsetAndMisalignment) {
  std::vector<int32_t> data{10, 11, 12, 13, 14, 15};
  int deletions = 0;
  nx::Tensor x = from_dlpack(foreign(data, kI32, {2, 2}, {}, &deletions, 2 * sizeof(int32_t)));
  EXPECT_EQ(x.to_vector<int32_t>(), (std::vector<int32_t>{12, 13, 14, 15}));
  EXPECT_EQ(x.buffer()->data(), data.data() + 2);
  x = nx::Tensor();
  EXPECT_EQ(deletions, 1);
  // Misaligned data is copied, and the producer is released at once.
  std::vector<uint8_t> bytes(4 * 3 + 1);
  int32_t v[3] = {7, -8, 9};
  std::memcpy(bytes.data() + 1, v, sizeof v);
  nx::Tensor y = from_dlpack(foreign(bytes, kI32, {3}, {}, &deletions, 1));
  EXPECT_EQ(deletions, 2);
  EXPECT_EQ(y.to_vector<int32_t>(), (std::vector<int32_t>{7, -8, 9}));
}

TEST(DLPack, StridedInputIsGathered) {
  std::vector<double> data(12);
  std::iota(data.begin(), data.end(), 0.0);
  int deletions = 0;
  // The transpose of a (3, 4) row-major array.
  nx::Tensor t = from_dlpack(foreign(data, DLDataType{kDLFloat, 64, 1}, {4, 3}, {1, 4}, &deletions));
  EXPECT_EQ(deletions, 1);
  nx::Tensor want = nx::transpose(nx::reshape(nx::iota({12}, nx::f64), {3, 4}));
  EXPECT_EQ(t.to_vector<double>(), want.to_vector<double>());
  // Negative strides (a reversed view starting at the last element) and a broadcast axis.
  nx::Tensor r = from_dlpack(foreign(data, DLDataType{kDLFloat, 64, 1}, {3}, {-2}, &deletions, 4 * sizeof(double)));
  EXPECT_EQ(r.to_vector<double>(), (std::vector<double>{4, 2, 0}));
  nx::Tensor b = from_dlpack(foreign(data, DLDataType{kDLFloat, 64, 1}, {2, 3}, {0, 1}, &deletions));
  EXPECT_EQ(b.to_vector<double>(), (std::vector<double>{0, 1, 2, 0, 1, 2}));
  EXPECT_EQ(deletions, 3);
  // Every element size.
  for (nx::DType type : kAllTypes) {
    nx::Tensor x = nx::as_type(nx::reshape(nx::iota({6}), {2, 3}), type);
    DLManagedTensor* m = to_dlpack(x);
    // View the (2, 3) export as its (3, 2) transpose.
    std::swap(m->dl_tensor.shape[0], m->dl_tensor.shape[1]);
    std::swap(m->dl_tensor.strides[0], m->dl_tensor.strides[1]);
    nx::Tensor y = from_dlpack(m);
    EXPECT_EQ(y.to_vector<double>(), nx::transpose(x).to_vector<double>()) << nx::name(type);
  }
}

TEST(DLPack, BoolBytesAreNormalised) {
  std::vector<uint8_t> data{0, 1, 2, 255};
  int deletions = 0;
  nx::Tensor b = from_dlpack(foreign(data, DLDataType{6, 8, 1}, {4}, {}, &deletions));
  EXPECT_EQ(deletions, 1);  // copied, so released at once
  EXPECT_EQ(b.dtype(), nx::boolean);
  EXPECT_EQ(nx::as_type(b, nx::u8).to_vector<int>(), (std::vector<int>{0, 1, 1, 1}));
  nx::Tensor u = from_dlpack(foreign(data, DLDataType{kDLUInt, 8, 1}, {4}, {}, &deletions));
  EXPECT_EQ(u.dtype(), nx::u8);
  EXPECT_EQ(u.buffer()->data(), data.data());
}

TEST(DLPack, RefusesWhatItCannotReadAndStillReleases) {
  std::vector<float> data(8);
  int deletions = 0;
  int expected = 0;
  auto refuse = [&](DLManagedTensor* m, const std::string& needle) {
    expect_op_error<nx::ValueError>([&] { from_dlpack(m); }, "from_dlpack", needle);
    EXPECT_EQ(deletions, ++expected) << needle;
  };
  DLManagedTensor* m = foreign(data, kF32, {8}, {}, &deletions);
  m->dl_tensor.device.device_type = kDLCUDA;
  refuse(m, "not CPU memory");
  refuse(foreign(data, DLDataType{kDLFloat, 32, 4}, {2}, {}, &deletions), "4 lanes");
  refuse(foreign(data, DLDataType{kDLInt, 8, 1}, {8}, {}, &deletions), "type code 0 with 8 bits");
  refuse(foreign(data, DLDataType{kDLComplex, 64, 1}, {4}, {}, &deletions), "type code 5");
  refuse(foreign(data, kF32, std::vector<int64_t>(9, 1), {}, &deletions), "ndim 9");
  refuse(foreign(data, kF32, {2, -4}, {}, &deletions), "negative dimension -4");
  refuse(foreign(data, kF32, {int64_t{1} << 40, int64_t{1} << 40}, {}, &deletions), "overflows");
  refuse(foreign(data, kF32, {0, int64_t{1} << 40, int64_t{1} << 40}, {}, &deletions), "overflows");  // any order
  m = foreign(data, kF32, {8}, {}, &deletions);
  m->dl_tensor.data = nullptr;
  refuse(m, "data pointer is null");
  m = foreign(data, kF32, {2}, {}, &deletions);
  m->dl_tensor.shape = nullptr;
  refuse(m, "shape pointer is null");
  refuse(foreign(data, kF32, {3, 2}, {INT64_MAX / 2, 1}, &deletions), "strides");
  expect_op_error<nx::ValueError>([] { from_dlpack(nullptr); }, "from_dlpack", "null");
  // A producer without a deleter is fine.
  m = foreign(data, kF32, {8}, {}, &deletions);
  auto* owner = static_cast<Foreign*>(m->manager_ctx);
  m->deleter = nullptr;
  EXPECT_EQ(from_dlpack(m).size(), 8);
  delete owner;
}

TEST(DLPack, RefusesTracedTensors) {
  auto f = nx::jit([](const nx::Tensor& x) {
    DLManagedTensor* m = to_dlpack(x);
    m->deleter(m);
    return x;
  });
  expect_op_error<nx::ValueError>([&] { f(nx::ones({2})); }, "to_dlpack", "traced");
  expect_op_error<nx::ValueError>([] { to_dlpack(nx::Tensor()); }, "to_dlpack", "undefined");
}

// A device the CPU cannot read (its memory is host memory in disguise, for the test).
class OpaqueDevice : public nx::Backend {
 public:
  std::string_view name() const override { return "opaque_test_device"; }
  bool host_accessible() const override { return false; }
  nx::BufferPtr allocate(size_t bytes) override { return std::make_shared<nx::HostBuffer>(this, bytes); }
  std::vector<nx::BufferPtr> execute(const nx::Node&, std::span<const nx::Operand>) override {
    throw nx::Error("opaque", "no kernels");
  }
  std::unique_ptr<nx::Executable> compile(const nx::Graph&, const nx::CompileOptions&) override {
    throw nx::Error("opaque", "no compiler");
  }
};

TEST(DLPack, DeviceTensorsAreCopiedToTheHost) {
  OpaqueDevice device;
  std::vector<int32_t> v{4, 5, 6};
  nx::BufferPtr buffer = device.from_host(v.data(), v.size() * sizeof(int32_t));
  nx::Tensor x = nx::detail::make_concrete(nx::TensorType{nx::i32, nx::Shape{3}}, buffer);
  DLManagedTensor* m = to_dlpack(x);
  EXPECT_NE(m->dl_tensor.data, buffer->data());
  EXPECT_EQ(m->dl_tensor.device.device_type, kDLCPU);
  const int32_t* p = static_cast<const int32_t*>(m->dl_tensor.data);
  EXPECT_EQ(std::vector<int32_t>(p, p + 3), v);
  m->deleter(m);
}

}  // namespace
