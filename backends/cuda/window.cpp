#include "window.hpp"

#include <algorithm>
#include <sstream>

#include "cuda_emit.hpp"
#include "device.hpp"
#include "kernels.hpp"

namespace nx::cuda_backend {
namespace {

bool is_window(Op op) { return op == Op::WindowSum || op == Op::WindowMax || op == Op::WindowMin || op == Op::WindowProduct; }
bool is_scatter(Op op) { return op == Op::WindowScatterMax || op == Op::WindowScatterMin; }

std::string ll(int64_t v) { return std::to_string(v) + "ll"; }

// Unflattens `flat` over `shape` into variables <prefix>0.. (the last axis fastest).
void coordinates(std::ostringstream& o, const std::string& flat, const std::string& prefix, const Shape& shape) {
  o << "    long long rest = " << flat << ";\n";
  for (int d = shape.rank() - 1; d >= 0; --d) {
    o << "    const long long " << prefix << d << " = rest % " << ll(shape[d]) << ";\n";
    o << "    rest /= " << ll(shape[d]) << ";\n";
  }
  o << "    (void)rest;\n";
}

// Loops over the window of output position o<d>, leaving `body` with the in-range input
// offset `off` (windows positions in row-major order).
void over_window(std::ostringstream& o, const Attrs& a, const Shape& in, const std::string& body, const std::string& pad) {
  auto strides = in.strides();
  int r = in.rank();
  std::string indent = pad;
  for (int d = 0; d < r; ++d) {
    auto u = static_cast<size_t>(d);
    o << indent << "for (long long k" << d << " = 0; k" << d << " < " << ll(a.window[u]) << "; ++k" << d << ") {\n";
    o << indent << "  const long long i" << d << " = o" << d << " * " << ll(a.strides[u]) << " + k" << d << " * "
      << ll(a.rhs_dilation[u]) << " - " << ll(a.lo[u]) << ";\n";
    o << indent << "  if (i" << d << " < 0 || i" << d << " >= " << ll(in[d]) << ") continue;\n";
    indent += "  ";
  }
  o << indent << "const long long off = ";
  for (int d = 0; d < r; ++d) o << (d ? " + " : "") << "i" << d << " * " << ll(strides[static_cast<size_t>(d)]);
  o << ";\n" << indent << body << "\n";
  for (int d = r - 1; d >= 0; --d) o << pad << std::string(static_cast<size_t>(2 * d), ' ') << "}\n";
}

}  // namespace

bool window_supported(const Node& n, std::span<const Operand> in) {
  if (!is_window(n.op) && !is_scatter(n.op)) return false;
  DType t = n.outputs[0].dtype;
  if (t != DType::f32 && t != DType::f64 && !is_half(t)) return false;
  return std::all_of(in.begin(), in.end(), [&](const Operand& o) { return o.type.dtype == t; });
}

namespace {

// A window reduction: a thread per output position over its window.
std::string reduce_source(const Node& n, const Shape& input, const std::string& name) {
  const Attrs& a = n.attrs;
  DType dt = n.outputs[0].dtype;
  std::string t = c_type(dt), vt = value_type(dt);  // stored, computed (halves: f32)
  std::ostringstream o;
  o << kernel_prelude();
  {
    const Shape& out = n.outputs[0].shape;
    bool fold = n.op == Op::WindowSum || n.op == Op::WindowProduct;
    o << "extern \"C\" __global__ void __launch_bounds__(256) " << name << "(const " << t << "* __restrict__ x, " << t
      << "* __restrict__ y, long long n) {\n";
    o << grid_stride_loop("e");
    coordinates(o, "e", "o", out);
    std::string body;
    if (fold) {
      o << "    double acc = " << (n.op == Op::WindowSum ? "0.0" : "1.0") << ";\n";
      body = std::string("acc ") + (n.op == Op::WindowSum ? "+=" : "*=") + " (double)" + loaded(dt, "x[off]") + ";";
    } else {
      bool max = n.op == Op::WindowMax;
      o << "    " << vt << " acc = " << (max ? "-" : "") << "nx_inf<" << vt << ">();\n";
      body = "{ const " + vt + " v = " + loaded(dt, "x[off]") + "; acc = (acc != acc || v != v) ? v + acc : (v " + (max ? ">" : "<") +
             " acc ? v : acc); }";
    }
    over_window(o, a, input, body, "    ");
    o << "    y[e] = " << stored(dt, "(" + vt + ")acc") << ";\n  }\n}\n";
    return o.str();
  }
}

// A scatter, as a gather: a thread per input position p over the windows holding it, in
// the windows' row-major order; each adds its source value where p is its first
// extremum.
std::string scatter_source(const Node& n, const Shape& input, const Shape& windows, const std::string& name) {
  const Attrs& a = n.attrs;
  DType dt = n.outputs[0].dtype;
  std::string t = c_type(dt), vt = value_type(dt);  // stored, computed (halves: f32)
  bool max = n.op == Op::WindowScatterMax;
  int r = input.rank();
  std::ostringstream o;
  o << kernel_prelude();
  o << "#ifndef NX_FLOOR_DIV\n#define NX_FLOOR_DIV\n"
       "__device__ __forceinline__ long long nx_floor_div(long long a, long long b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }\n"
       "#endif\n";
  o << "extern \"C\" __global__ void __launch_bounds__(256) " << name << "(const " << t << "* __restrict__ x, const " << t
    << "* __restrict__ source, const " << t << "* __restrict__ init, " << t << "* __restrict__ y, long long n) {\n";
  o << grid_stride_loop("e");
  coordinates(o, "e", "p", input);
  o << "    double acc = (double)" << loaded(dt, "init[0]") << ";\n";
  std::string indent = "    ";
  // Windows holding p along axis d: o with o * stride + k * dilation - lo == p for a k
  // in the window.
  for (int d = 0; d < r; ++d) {
    auto u = static_cast<size_t>(d);
    int64_t s = a.strides[u], dil = a.rhs_dilation[u], lo = a.lo[u], w = a.window[u];
    o << indent << "for (long long o" << d << " = nx_floor_div(p" << d << " + " << ll(lo) << " - " << ll((w - 1) * dil) << " + "
      << ll(s - 1) << ", " << ll(s) << ") < 0 ? 0 : nx_floor_div(p" << d << " + " << ll(lo) << " - " << ll((w - 1) * dil)
      << " + " << ll(s - 1) << ", " << ll(s) << "); o" << d << " < " << ll(windows[d]) << " && o" << d << " * " << ll(s)
      << " <= p" << d << " + " << ll(lo) << "; ++o" << d << ") {\n";
    o << indent << "  const long long at" << d << " = p" << d << " + " << ll(lo) << " - o" << d << " * " << ll(s) << ";\n";
    o << indent << "  if (at" << d << " % " << ll(dil) << " != 0 || at" << d << " / " << ll(dil) << " >= " << ll(w)
      << ") continue;\n";
    indent += "  ";
  }
  auto in_strides = input.strides();
  auto win_strides = windows.strides();
  o << indent << "long long best = -1;\n" << indent << vt << " bv = 0;\n";
  std::string better = std::string("if (best < 0 || (bv == bv && (v != v || v ") + (max ? ">" : "<") + " bv))) { best = off; bv = v; }";
  over_window(o, a, input, "{ const " + vt + " v = " + loaded(dt, "x[off]") + "; " + better + " }", indent);
  o << indent << "const long long here = ";
  for (int d = 0; d < r; ++d) o << (d ? " + " : "") << "p" << d << " * " << ll(in_strides[static_cast<size_t>(d)]);
  std::string at;
  for (int d = 0; d < r; ++d) at += (d ? " + " : "") + std::string("o") + std::to_string(d) + " * " + ll(win_strides[static_cast<size_t>(d)]);
  o << ";\n" << indent << "if (best == here) acc += (double)" << loaded(dt, "source[" + at + "]") << ";\n";
  for (int d = r - 1; d >= 0; --d) o << "    " << std::string(static_cast<size_t>(2 * d), ' ') << "}\n";
  o << "    y[e] = " << stored(dt, "(" + vt + ")acc") << ";\n  }\n}\n";
  return o.str();
}

}  // namespace

std::string window_source(const Node& n, std::span<const TensorType> in, const std::string& name) {
  return is_scatter(n.op) ? scatter_source(n, in[0].shape, in[1].shape, name) : reduce_source(n, in[0].shape, name);
}

std::vector<BufferPtr> window(const Node& n, std::span<const Operand> in, Backend& be) {
  std::vector<TensorType> types;
  for (const Operand& o : in) types.push_back(o.type);
  const void* kernel = load_source(window_source(n, types, "nx_window"), "nx_window");
  BufferPtr y = be.allocate(n.outputs[0].bytes());
  std::vector<void*> pointers;
  for (const Operand& o : in) pointers.push_back(o.buffer->data());
  pointers.push_back(y->data());
  launch_over(kernel, pointers, n.outputs[0].shape.size());
  return {y};
}

}  // namespace nx::cuda_backend
