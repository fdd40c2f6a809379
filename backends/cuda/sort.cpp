#include "sort.hpp"

#include <sstream>

#include "cuda_emit.hpp"
#include "kernels.hpp"

namespace nx::cuda_backend {

bool sort_supported(const Node& n, std::span<const Operand> in) {
  if (n.op != Op::Sort && n.op != Op::Argsort && n.op != Op::TopK) return false;
  DType t = in[0].type.dtype;
  const Shape& s = in[0].type.shape;
  return t != DType::f16 && t != DType::bf16 && s.size() > 0 && s[static_cast<int>(n.attrs.axes[0])] <= kMaxSortLane;
}

std::string sort_source(const Node& n, const TensorType& input, const std::string& name) {
  const Shape& s = input.shape;
  int axis = static_cast<int>(n.attrs.axes[0]);
  int64_t len = s[axis], inner = 1;
  for (int i = axis + 1; i < s.rank(); ++i) inner *= s[i];
  int64_t keep = n.op == Op::TopK ? n.attrs.k : len;
  bool desc = n.attrs.flag, floating = input.dtype == DType::f32 || input.dtype == DType::f64;
  std::string t = c_type(input.dtype);
  auto ll = [](int64_t v) { return std::to_string(v) + "ll"; };
  std::ostringstream o;
  o << "typedef unsigned char nx_bool;\n";
  // before(a, b): a sorts ahead of b (a strict weak order; NaN the largest value).
  o << "extern \"C\" __global__ void __launch_bounds__(256) " << name << "(const " << t << "* __restrict__ x, " << t
    << "* __restrict__ values, long long* __restrict__ indices, long long n) {\n";
  o << "  for (long long e = blockIdx.x * (long long)blockDim.x + threadIdx.x; e < n; e += (long long)gridDim.x * blockDim.x) {\n";
  o << "    const long long i = e % " << ll(len) << ", lane = e / " << ll(len) << ";\n";
  o << "    const long long a = lane / " << ll(inner) << ", b = lane % " << ll(inner) << ";\n";
  o << "    const " << t << "* p = x + a * " << ll(len * inner) << " + b;\n";
  o << "    const " << t << " v = p[i * " << ll(inner) << "];\n";
  o << "    long long rank = 0;\n";
  o << "    for (long long j = 0; j < " << ll(len) << "; ++j) {\n";
  o << "      const " << t << " u = p[j * " << ll(inner) << "];\n";
  auto before = [&](const std::string& x, const std::string& y) {
    std::string cmp = desc ? "(" + y + " < " + x + ")" : "(" + x + " < " + y + ")";
    if (!floating) return cmp;
    std::string nx_ = "(" + x + " != " + x + ")", ny = "(" + y + " != " + y + ")";
    std::string nan_case = desc ? "(" + nx_ + " && !" + ny + ")" : "(!" + nx_ + " && " + ny + ")";
    return "((" + nx_ + " || " + ny + ") ? " + nan_case + " : " + cmp + ")";
  };
  o << "      if (" << before("u", "v") << " || (!" << before("v", "u") << " && j < i)) ++rank;\n";
  o << "    }\n";
  o << "    if (rank < " << ll(keep) << ") {\n";
  o << "      const long long at = a * " << ll(keep * inner) << " + b + rank * " << ll(inner) << ";\n";
  o << "      if (values) values[at] = v;\n      if (indices) indices[at] = i;\n    }\n  }\n}\n";
  return o.str();
}

std::vector<BufferPtr> sort(const Node& n, std::span<const Operand> in, Backend& be) {
  const void* kernel = load_source(sort_source(n, in[0].type, "nx_sort"), "nx_sort");
  std::vector<BufferPtr> outs;
  for (const TensorType& t : n.outputs) outs.push_back(be.allocate(t.bytes()));
  void* values = n.op != Op::Argsort ? outs[0]->data() : nullptr;
  void* indices = n.op != Op::Sort ? outs.back()->data() : nullptr;
  launch_over(kernel, {in[0].buffer->data(), values, indices}, in[0].type.shape.size());
  return outs;
}

}  // namespace nx::cuda_backend
