#include "gather.hpp"

#include <algorithm>
#include <sstream>

#include "cuda_emit.hpp"
#include "kernels.hpp"

namespace nx::cuda_backend {
namespace {

// Elements are moved as unsigned integers of their size: a gather copies bits.
const char* bits_type(size_t bytes) {
  return bytes == 1 ? "unsigned char" : bytes == 2 ? "unsigned short" : bytes == 4 ? "unsigned" : "unsigned long long";
}
bool integer(DType t) { return t == DType::u8 || t == DType::u32 || t == DType::i32 || t == DType::i64; }

}  // namespace

bool gather_supported(const Node& n, std::span<const Operand> in) {
  return n.op == Op::Gather && in.size() == 2 && integer(in[1].type.dtype) && n.outputs[0].shape.size() > 0;
}

std::string gather_source(const Node& n, const TensorType& x, const TensorType& indices, const std::string& name) {
  const Shape& xs = x.shape;
  const Shape& is = indices.shape;
  const std::vector<int64_t>& axes = n.attrs.axes;
  int64_t k = is[is.rank() - 1];
  auto strides = xs.strides();
  Shape rest_shape;
  std::vector<int64_t> rest_strides;
  for (int i = 0; i < xs.rank(); ++i)
    if (std::find(axes.begin(), axes.end(), i) == axes.end()) {
      rest_shape.push_back(xs[i]);
      rest_strides.push_back(strides[static_cast<size_t>(i)]);
    }
  int64_t rest = rest_shape.size();
  auto ll = [](int64_t v) { return std::to_string(v) + "ll"; };
  std::string t = bits_type(item_size(x.dtype)), it = c_type(indices.dtype);
  std::ostringstream o;
  o << "extern \"C\" __global__ void __launch_bounds__(256) " << name << "(const " << t << "* __restrict__ x, const " << it
    << "* __restrict__ idx, " << t << "* __restrict__ y, long long n) {\n";
  o << "  for (long long e = blockIdx.x * (long long)blockDim.x + threadIdx.x; e < n; e += (long long)gridDim.x * blockDim.x) {\n";
  o << "    const long long b = e / " << ll(rest) << ";\n    long long r = e % " << ll(rest) << ", at = 0;\n";
  for (int64_t j = 0; j < k; ++j) {
    int ax = static_cast<int>(axes[static_cast<size_t>(j)]);
    o << "    { long long i = (long long)idx[b * " << ll(k) << " + " << ll(j) << "]; i = i < 0 ? 0 : i > " << ll(std::max<int64_t>(xs[ax] - 1, 0))
      << " ? " << ll(std::max<int64_t>(xs[ax] - 1, 0)) << " : i; at += i * " << ll(strides[static_cast<size_t>(ax)]) << "; }\n";
  }
  for (int d = rest_shape.rank() - 1; d >= 0; --d)
    o << "    at += (r % " << ll(rest_shape[d]) << ") * " << ll(rest_strides[static_cast<size_t>(d)]) << "; r /= " << ll(rest_shape[d])
      << ";\n";
  o << "    (void)r;\n    y[e] = x[at];\n  }\n}\n";
  return o.str();
}

BufferPtr gather(const Node& n, std::span<const Operand> in, Backend& be) {
  const void* kernel = load_source(gather_source(n, in[0].type, in[1].type, "nx_gather"), "nx_gather");
  BufferPtr y = be.allocate(n.outputs[0].bytes());
  launch_over(kernel, {in[0].buffer->data(), in[1].buffer->data(), y->data()}, n.outputs[0].shape.size());
  return y;
}

}  // namespace nx::cuda_backend
