#include "scan.hpp"

#include <algorithm>
#include <sstream>

#include "cuda_emit.hpp"
#include "device.hpp"
#include "kernels.hpp"

namespace nx::cuda_backend {
namespace {

bool is_scan(Op op) {
  return op == Op::CumulativeSum || op == Op::CumulativeProduct || op == Op::CumulativeMax || op == Op::CumulativeMin;
}
bool floating(DType t) { return t == DType::f32 || t == DType::f64 || is_half(t); }

struct Lanes {
  int64_t len = 1, inner = 1, count = 1;
  // Few long lanes: a block each (else a thread each).
  bool by_block() const { return count < 1024 && len >= 256; }
};
Lanes lanes_of(const Node& n, const Shape& s) {
  Lanes l;
  int axis = static_cast<int>(n.attrs.axes[0]);
  l.len = s[axis];
  for (int i = axis + 1; i < s.rank(); ++i) l.inner *= s[i];
  l.count = s.size() / std::max<int64_t>(l.len, 1);
  return l;
}

// The accumulator's type, identity and combination (acc first, as interp's combine).
struct Accumulate {
  std::string type, identity;
  std::string combine(const std::string& acc, const std::string& x) const { return pattern(acc, x); }
  std::string (*pattern)(const std::string&, const std::string&);
};
Accumulate accumulate(Op op, DType t) {
  using P = std::string (*)(const std::string&, const std::string&);
  P sum = [](const std::string& a, const std::string& x) { return "(" + a + " + " + x + ")"; };
  P product = [](const std::string& a, const std::string& x) { return "(" + a + " * " + x + ")"; };
  P max = [](const std::string& a, const std::string& x) { return "nx_max(" + x + ", " + a + ")"; };
  P min = [](const std::string& a, const std::string& x) { return "nx_min(" + x + ", " + a + ")"; };
  bool additive = op == Op::CumulativeSum || op == Op::CumulativeProduct;
  P pattern = op == Op::CumulativeSum ? sum : op == Op::CumulativeProduct ? product : op == Op::CumulativeMax ? max : min;
  if (floating(t)) {
    std::string id = op == Op::CumulativeSum ? "0.0" : op == Op::CumulativeProduct ? "1.0"
                     : op == Op::CumulativeMax ? "-nx_inf<double>()" : "nx_inf<double>()";
    return {"double", id, pattern};
  }
  // Integers: sums and products wrap (in the unsigned type of the width), max and min exact.
  const char* u = t == DType::i64 ? "unsigned long long" : t == DType::u8 ? "unsigned char" : "unsigned";
  if (additive) return {u, op == Op::CumulativeSum ? "0" : "1", pattern};
  std::string lowest = t == DType::i32 ? "(-2147483647 - 1)" : t == DType::i64 ? "(-9223372036854775807ll - 1)" : "0";
  std::string highest = t == DType::i32 ? "2147483647" : t == DType::i64 ? "9223372036854775807ll" : t == DType::u8 ? "255" : "4294967295u";
  return {c_type(t), op == Op::CumulativeMax ? lowest : highest, pattern};
}

}  // namespace

bool scan_supported(const Node& n, std::span<const Operand> in) {
  DType t = in[0].type.dtype;
  return is_scan(n.op) && t != DType::bool_ && in[0].type.shape.size() > 0;
}

std::string scan_source(const Node& n, const TensorType& input, const std::string& name) {
  Lanes l = lanes_of(n, input.shape);
  DType dt = input.dtype;
  Accumulate acc = accumulate(n.op, dt);
  std::string t = c_type(dt), a = acc.type;
  auto ll = [](int64_t v) { return std::to_string(v) + "ll"; };
  std::string load = "(" + a + ")" + loaded(dt, "x[at(j)]");
  std::string store = std::string(1, '(');  // not "(" + ...: g++ 12 warns falsely (-Wrestrict)
  store = stored(dt, store + value_type(dt) + ")acc");
  std::ostringstream o;
  o << kernel_prelude();
  o << "extern \"C\" __global__ void __launch_bounds__(1024) " << name << "(const " << t << "* __restrict__ x, " << t
    << "* __restrict__ y, long long n) {\n";
  // The element at step j of the lane starting at `base`.
  std::string step_index = "j";
  if (n.attrs.flag) {  // reversed: from the end (appended, not "(" + ...: g++ 12 warns falsely, -Wrestrict)
    step_index = std::string(1, '(');
    step_index += ll(l.len - 1) + " - j)";
  }
  std::string at = "base + " + step_index + " * " + ll(l.inner);
  auto step = [&](const std::string& pad, bool write) {
    o << pad << "acc = " << acc.combine("acc", load) << ";\n";
    if (write) o << pad << "y[at(j)] = " << store << ";\n";
  };
  if (!l.by_block()) {
    o << "  const long long stride = (long long)gridDim.x * blockDim.x;\n";
    o << "  for (long long lane = blockIdx.x * (long long)blockDim.x + threadIdx.x; lane < " << ll(l.count) << "; lane += stride) {\n";
    o << "    const long long base = lane / " << ll(l.inner) << " * " << ll(l.len * l.inner) << " + lane % " << ll(l.inner) << ";\n";
    o << "    auto at = [&](long long j) { return " << at << "; };\n";
    o << "    " << a << " acc = " << acc.identity << ";\n";
    o << "    for (long long j = 0; j < " << ll(l.len) << "; ++j) {\n";
    step("      ", true);
    o << "    }\n  }\n}\n";
    return o.str();
  }
  o << "  __shared__ " << a << " prefix[1024];\n";
  o << "  const long long chunk = (" << ll(l.len) << " + blockDim.x - 1) / blockDim.x;\n";
  o << "  const long long j0 = threadIdx.x * chunk, j1 = j0 + chunk < " << ll(l.len) << " ? j0 + chunk : " << ll(l.len) << ";\n";
  o << "  for (long long lane = blockIdx.x; lane < " << ll(l.count) << "; lane += gridDim.x) {\n";
  o << "    const long long base = lane / " << ll(l.inner) << " * " << ll(l.len * l.inner) << " + lane % " << ll(l.inner) << ";\n";
  o << "    auto at = [&](long long j) { return " << at << "; };\n";
  o << "    " << a << " acc = " << acc.identity << ";\n";
  o << "    for (long long j = j0; j < j1; ++j) {\n";
  step("      ", false);
  o << "    }\n    prefix[threadIdx.x] = acc;\n    __syncthreads();\n";
  o << "    if (threadIdx.x == 0) {  // exclusive prefixes of the chunks, in order\n";
  o << "      " << a << " run = " << acc.identity << ";\n";
  o << "      for (unsigned k = 0; k < blockDim.x; ++k) {\n";
  o << "        const " << a << " total = prefix[k];\n        prefix[k] = run;\n";
  o << "        run = " << acc.combine("run", "total") << ";\n      }\n    }\n";
  o << "    __syncthreads();\n    acc = prefix[threadIdx.x];\n";
  o << "    for (long long j = j0; j < j1; ++j) {\n";
  step("      ", true);
  o << "    }\n    __syncthreads();  // the prefixes are read before the next lane's\n  }\n}\n";
  return o.str();
}

BufferPtr scan(const Node& n, std::span<const Operand> in, Backend& be) {
  const void* kernel = load_source(scan_source(n, in[0].type, "nx_scan"), "nx_scan");
  BufferPtr y = be.allocate(n.outputs[0].bytes());
  Lanes l = lanes_of(n, in[0].type.shape);
  if (!l.by_block()) {
    launch_over(kernel, {in[0].buffer->data(), y->data()}, l.count);
    return y;
  }
  void* x = in[0].buffer->data();
  void* out = y->data();
  long long count = in[0].type.shape.size();
  std::vector<void*> args{&x, &out, &count};
  auto blocks = static_cast<unsigned>(std::min<int64_t>(l.count, int64_t{need_device().sms} * 4));
  launch(kernel, dim3(blocks), dim3(kBlock), args);
  return y;
}

}  // namespace nx::cuda_backend
