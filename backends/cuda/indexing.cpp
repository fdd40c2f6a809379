#include "indexing.hpp"

#include <algorithm>
#include <sstream>

#include "cuda_emit.hpp"
#include "device.hpp"
#include "kernels.hpp"

namespace nx::cuda_backend {
namespace {

// Elements are moved as unsigned integers of their size: a gather or a put copies bits.
const char* bits_type(size_t bytes) {
  return bytes == 1 ? "unsigned char" : bytes == 2 ? "unsigned short" : bytes == 4 ? "unsigned" : "unsigned long long";
}
bool integer(DType t) { return t == DType::u8 || t == DType::u32 || t == DType::i32 || t == DType::i64; }
std::string ll(int64_t v) { return std::to_string(v) + "ll"; }

// Where slice b's element r lies in x: the statements setting `at`, and `place` (the
// addressed position, row-major over the addressed axes) and `inside` unless clamped.
struct Slices {
  int64_t k, rest;
  std::string emit(const Node& n, const Shape& xs, bool clamp) const {
    std::ostringstream o;
    auto strides = xs.strides();
    o << "    long long at = 0, place = 0;\n    bool inside = true;\n";
    for (int64_t j = 0; j < k; ++j) {
      int ax = static_cast<int>(n.attrs.axes[static_cast<size_t>(j)]);
      int64_t top = std::max<int64_t>(xs[ax] - 1, 0);
      o << "    { long long i = (long long)idx[b * " << ll(k) << " + " << ll(j) << "];";
      if (clamp) o << " i = i < 0 ? 0 : i > " << ll(top) << " ? " << ll(top) << " : i;";
      else o << " inside = inside && i >= 0 && i < " << ll(xs[ax]) << ";";
      o << " at += i * " << ll(strides[static_cast<size_t>(ax)]) << "; place = place * " << ll(xs[ax]) << " + i; }\n";
    }
    o << "    (void)place;\n    (void)inside;\n";
    Shape rest_shape;
    std::vector<int64_t> rest_strides;
    for (int i = 0; i < xs.rank(); ++i)
      if (std::find(n.attrs.axes.begin(), n.attrs.axes.end(), i) == n.attrs.axes.end()) {
        rest_shape.push_back(xs[i]);
        rest_strides.push_back(strides[static_cast<size_t>(i)]);
      }
    o << "    long long r = e % " << ll(rest) << ";\n";
    for (int d = rest_shape.rank() - 1; d >= 0; --d)
      o << "    at += (r % " << ll(rest_shape[d]) << ") * " << ll(rest_strides[static_cast<size_t>(d)]) << "; r /= " << ll(rest_shape[d])
        << ";\n";
    o << "    (void)r;\n";
    return o.str();
  }
};
Slices slices_of(const Node& n, const Shape& xs, const Shape& is) {
  int64_t rest = 1;
  for (int i = 0; i < xs.rank(); ++i)
    if (std::find(n.attrs.axes.begin(), n.attrs.axes.end(), i) == n.attrs.axes.end()) rest *= xs[i];
  return {is[is.rank() - 1], rest};
}

}  // namespace

bool gather_supported(const Node& n, std::span<const Operand> in) {
  return n.op == Op::Gather && in.size() == 2 && integer(in[1].type.dtype) && n.outputs[0].shape.size() > 0;
}

std::string gather_source(const Node& n, const TensorType& x, const TensorType& indices, const std::string& name) {
  Slices s = slices_of(n, x.shape, indices.shape);
  std::string t = bits_type(item_size(x.dtype)), it = c_type(indices.dtype);
  std::ostringstream o;
  o << "extern \"C\" __global__ void __launch_bounds__(256) " << name << "(const " << t << "* __restrict__ x, const " << it
    << "* __restrict__ idx, " << t << "* __restrict__ y, long long n) {\n";
  o << grid_stride_loop("e") << "    const long long b = e / " << ll(s.rest) << ";\n";
  o << s.emit(n, x.shape, true) << "    y[e] = x[at];\n  }\n}\n";
  return o.str();
}

BufferPtr gather(const Node& n, std::span<const Operand> in, Backend& be) {
  const void* kernel = load_source(gather_source(n, in[0].type, in[1].type, "nx_gather"), "nx_gather");
  BufferPtr y = be.allocate(n.outputs[0].bytes());
  launch_over(kernel, {in[0].buffer->data(), in[1].buffer->data(), y->data()}, n.outputs[0].shape.size());
  return y;
}

bool scatter_supported(const Node& n, std::span<const Operand> in) {
  if ((n.op != Op::IndexedAdd && n.op != Op::IndexedPut) || in.size() != 3 || !integer(in[1].type.dtype)) return false;
  const Shape& is = in[1].type.shape;
  return is.rank() > 0 && is[is.rank() - 1] > 0 && n.outputs[0].shape.size() > 0;
}

int64_t scatter_places(const Node& n, const TensorType& x) {
  int64_t places = 1;
  for (int64_t ax : n.attrs.axes) places *= x.shape[static_cast<int>(ax)];
  return places;
}

std::string scatter_source(const Node& n, const TensorType& x, const TensorType& indices, const std::string& name) {
  Slices s = slices_of(n, x.shape, indices.shape);
  bool put = n.op == Op::IndexedPut;
  DType dt = x.dtype;
  std::string t = put ? bits_type(item_size(dt)) : c_type(dt), it = c_type(indices.dtype);
  std::ostringstream o;
  o << kernel_prelude();
  if (put) {
    o << "extern \"C\" __global__ void __launch_bounds__(256) " << name << "_winner(const " << it
      << "* __restrict__ idx, long long* __restrict__ winner, long long n) {\n";
    o << grid_stride_loop("b") << "    const long long e = 0;\n" << s.emit(n, x.shape, false);
    o << "    if (inside) atomicMax(&winner[place], b);\n  }\n}\n";
  }
  o << "extern \"C\" __global__ void __launch_bounds__(256) " << name << "(const " << it << "* __restrict__ idx, const " << t
    << "* __restrict__ u, " << t << "* __restrict__ y, const long long* __restrict__ winner, long long n) {\n";
  o << grid_stride_loop("e") << "    const long long b = e / " << ll(s.rest) << ";\n" << s.emit(n, x.shape, false);
  o << "    if (!inside) continue;\n";
  if (put) o << "    if (winner[place] == b) y[at] = u[e];\n";
  else if (dt == DType::i64) o << "    atomicAdd((unsigned long long*)&y[at], (unsigned long long)u[e]);\n";
  else if (item_size(dt) >= 4) o << "    atomicAdd(&y[at], u[e]);\n";
  else {
    // No atomic add of 1 or 2 bytes: a compare-and-swap loop on the aligned word holding
    // the element, the sum rounded (halves) or wrapped (u8) as interp's, bools or-ed.
    std::string sum = is_half(dt) ? stored(dt, loaded(dt, "cur") + " + " + loaded(dt, "u[e]"))
                      : dt == DType::bool_ ? "(nx_bool)(cur || u[e])"
                                           : "(" + t + ")(cur + u[e])";
    o << "    unsigned* w = (unsigned*)((unsigned long long)&y[at] & ~3ull);\n";
    o << "    const unsigned sh = (unsigned)(((unsigned long long)&y[at] & 3ull) * 8ull), mask = "
      << (item_size(dt) == 2 ? "0xffffu" : "0xffu") << " << sh;\n";
    o << "    unsigned seen = *w, was;\n";
    o << "    do {\n      was = seen;\n      const " << t << " cur = (" << t << ")((was & mask) >> sh);\n";
    o << "      const " << t << " next = " << sum << ";\n";
    o << "      seen = atomicCAS(w, was, (was & ~mask) | ((unsigned)next << sh));\n    } while (seen != was);\n";
  }
  o << "  }\n}\n";
  return o.str();
}

BufferPtr scatter(const Node& n, std::span<const Operand> in, Backend& be) {
  std::string source = scatter_source(n, in[0].type, in[1].type, "nx_scatter");
  BufferPtr y = be.allocate(n.outputs[0].bytes());
  check(cudaMemcpyAsync(y->data(), in[0].buffer->data(), y->bytes(), cudaMemcpyDeviceToDevice, stream()), "cudaMemcpyAsync");
  const Shape& is = in[1].type.shape;
  int64_t slices = is.size() / is[is.rank() - 1];
  BufferPtr winner;
  if (n.op == Op::IndexedPut) {
    winner = be.allocate(static_cast<size_t>(scatter_places(n, in[0].type)) * sizeof(long long));
    check(cudaMemsetAsync(winner->data(), 0xff, winner->bytes(), stream()), "cudaMemsetAsync");  // -1: no update yet
    launch_over(load_source(source, "nx_scatter_winner"), {in[1].buffer->data(), winner->data()}, slices);
  }
  launch_over(load_source(source, "nx_scatter"),
              {in[1].buffer->data(), in[2].buffer->data(), y->data(), winner ? winner->data() : nullptr},
              slices * slices_of(n, in[0].type.shape, is).rest);
  return y;  // winner is freed in stream order, after the kernels that read it
}

}  // namespace nx::cuda_backend
