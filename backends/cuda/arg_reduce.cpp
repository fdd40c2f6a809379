#include "arg_reduce.hpp"

#include <sstream>

#include "cuda_emit.hpp"
#include "kernels.hpp"

namespace nx::cuda_backend {

bool arg_reduce_supported(const Node& n, std::span<const Operand> in) {
  if (n.op != Op::Argmax && n.op != Op::Argmin) return false;
  return n.outputs[0].dtype == DType::i64 && in[0].type.shape.size() > 0;
}

std::string arg_reduce_source(const Node& n, const TensorType& input, const std::string& name) {
  const Shape& s = input.shape;
  int axis = static_cast<int>(n.attrs.axes[0]);
  int64_t len = s[axis], inner = 1;
  for (int i = axis + 1; i < s.rank(); ++i) inner *= s[i];
  DType dt = input.dtype;
  bool floating = dt == DType::f32 || dt == DType::f64 || is_half(dt);
  std::string t = c_type(dt), vt = value_type(dt), cmp = n.op == Op::Argmax ? ">" : "<";
  std::ostringstream o;
  o << kernel_prelude();
  o << "extern \"C\" __global__ void __launch_bounds__(256) " << name << "(const " << t << "* __restrict__ x, long long* __restrict__ y, long long n) {\n";
  o << grid_stride_loop("e");
  o << "    const " << t << "* p = x + (e / " << inner << "ll) * " << len * inner << "ll + e % " << inner << "ll;\n";
  o << "    long long best = 0;\n    " << vt << " bv = " << loaded(dt, "p[0]") << ";\n";
  if (floating) o << "    if (bv == bv)\n";
  o << "    for (long long i = 1; i < " << len << "ll; ++i) {\n";
  o << "      const " << vt << " v = " << loaded(dt, "p[i * " + std::to_string(inner) + "ll]") << ";\n";
  if (floating) o << "      if (v != v) { best = i; break; }\n";
  o << "      if (v " << cmp << " bv" << (n.attrs.flag ? " || v == bv" : "") << ") { best = i; bv = v; }\n";
  o << "    }\n    y[e] = best;\n  }\n}\n";
  return o.str();
}

BufferPtr arg_reduce(const Node& n, std::span<const Operand> in, Backend& be) {
  const void* kernel = load_source(arg_reduce_source(n, in[0].type, "nx_arg_reduce"), "nx_arg_reduce");
  BufferPtr y = be.allocate(n.outputs[0].bytes());
  launch_over(kernel, {in[0].buffer->data(), y->data()}, n.outputs[0].shape.size());
  return y;
}

}  // namespace nx::cuda_backend
