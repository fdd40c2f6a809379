#include "sort.hpp"

#include <sstream>

#include "cuda_emit.hpp"
#include "kernels.hpp"

namespace nx::cuda_backend {
namespace {

struct Lane {
  int64_t len = 1, inner = 1, keep = 1;
  bool desc = false, floating = false;
};
Lane lane_of(const Node& n, const TensorType& input) {
  const Shape& s = input.shape;
  int axis = static_cast<int>(n.attrs.axes[0]);
  Lane l;
  l.len = s[axis];
  for (int i = axis + 1; i < s.rank(); ++i) l.inner *= s[i];
  l.keep = n.op == Op::TopK ? n.attrs.k : l.len;
  l.desc = n.attrs.flag;
  l.floating = input.dtype == DType::f32 || input.dtype == DType::f64 || is_half(input.dtype);
  return l;
}

std::string ll(int64_t v) { return std::to_string(v) + "ll"; }

// before(x, y): x sorts ahead of y (a strict weak order; NaN the largest value).
std::string before(const Lane& l, const std::string& x, const std::string& y) {
  std::string cmp = l.desc ? "(" + y + " < " + x + ")" : "(" + x + " < " + y + ")";
  if (!l.floating) return cmp;
  std::string nx_ = "(" + x + " != " + x + ")", ny = "(" + y + " != " + y + ")";
  std::string nan_case = l.desc ? "(" + nx_ + " && !" + ny + ")" : "(!" + nx_ + " && " + ny + ")";
  return "((" + nx_ + " || " + ny + ") ? " + nan_case + " : " + cmp + ")";
}

// A grid-stride loop over the elements, each giving: i (its place in its lane), the
// lane's (a, b) (outer, inner index), p (the lane's first element in `x`), raw (the
// element as stored) and v (its value, halves widened).
std::string element_of_lane(const Lane& l, DType dt, const std::string& x) {
  std::ostringstream o;
  o << grid_stride_loop("e");
  o << "    const long long i = e % " << ll(l.len) << ", lane = e / " << ll(l.len) << ";\n";
  o << "    const long long a = lane / " << ll(l.inner) << ", b = lane % " << ll(l.inner) << ";\n";
  o << "    const " << c_type(dt) << "* p = " << x << " + a * " << ll(l.len * l.inner) << " + b;\n";
  o << "    const " << c_type(dt) << " raw = p[i * " << ll(l.inner) << "];\n";
  o << "    const " << value_type(dt) << " v = " << loaded(dt, "raw") << ";\n";
  return o.str();
}

}  // namespace

bool sort_supported(const Node& n, std::span<const Operand> in) {
  if (n.op != Op::Sort && n.op != Op::Argsort && n.op != Op::TopK) return false;
  return in[0].type.shape.size() > 0;
}

std::string sort_source(const Node& n, const TensorType& input, const std::string& name) {
  Lane l = lane_of(n, input);
  DType dt = input.dtype;
  std::string t = c_type(dt), vt = value_type(dt);  // stored (copied as is), compared
  std::ostringstream o;
  o << kernel_prelude();
  o << "extern \"C\" __global__ void __launch_bounds__(256) " << name << "(const " << t << "* __restrict__ x, " << t
    << "* __restrict__ values, long long* __restrict__ indices, long long n) {\n";
  o << element_of_lane(l, dt, "x");
  o << "    long long rank = 0;\n";
  o << "    for (long long j = 0; j < " << ll(l.len) << "; ++j) {\n";
  o << "      const " << vt << " u = " << loaded(dt, "p[j * " + ll(l.inner) + "]") << ";\n";
  o << "      if (" << before(l, "u", "v") << " || (!" << before(l, "v", "u") << " && j < i)) ++rank;\n";
  o << "    }\n";
  o << "    if (rank < " << ll(l.keep) << ") {\n";
  o << "      const long long at = a * " << ll(l.keep * l.inner) << " + b + rank * " << ll(l.inner) << ";\n";
  o << "      if (values) values[at] = raw;\n      if (indices) indices[at] = i;\n    }\n  }\n}\n";
  return o.str();
}

std::string merge_source(const Node& n, const TensorType& input, const std::string& name) {
  Lane l = lane_of(n, input);
  DType dt = input.dtype;
  std::string t = c_type(dt), vt = value_type(dt);  // stored (copied as is), compared
  std::ostringstream o;
  o << kernel_prelude();
  o << "extern \"C\" __global__ void __launch_bounds__(256) " << name << "(const " << t << "* __restrict__ sv, const long long* __restrict__ si, "
    << t << "* __restrict__ dv, long long* __restrict__ di, long long n, long long w, long long keep) {\n";
  o << element_of_lane(l, dt, "sv");
  o << "    const long long s = i / (2 * w) * (2 * w), mid = s + w < " << ll(l.len) << " ? s + w : " << ll(l.len)
    << ", end = s + 2 * w < " << ll(l.len) << " ? s + 2 * w : " << ll(l.len) << ";\n";
  // In the left run: the right run's elements strictly ahead of v come first; in the
  // right run: the left run's elements not after v (ties included).
  o << "    const bool left = i < mid;\n";
  o << "    long long lo = left ? mid : s, hi = left ? end : mid;\n";
  o << "    while (lo < hi) {\n      const long long m = (lo + hi) / 2;\n";
  o << "      const " << vt << " u = " << loaded(dt, "p[m * " + ll(l.inner) + "]") << ";\n";
  o << "      if (left ? " << before(l, "u", "v") << " : !" << before(l, "v", "u") << ") lo = m + 1; else hi = m;\n    }\n";
  o << "    const long long place = left ? i + (lo - mid) : s + (i - mid) + (lo - s);\n";
  o << "    if (place < keep) {\n";
  o << "      const long long at = a * keep * " << ll(l.inner) << " + b + place * " << ll(l.inner) << ";\n";
  o << "      if (dv) dv[at] = raw;\n";
  o << "      di[at] = si ? si[a * " << ll(l.len * l.inner) << " + b + i * " << ll(l.inner) << "] : i;\n    }\n  }\n}\n";
  return o.str();
}

std::vector<int64_t> merge_widths(int64_t lane) {
  std::vector<int64_t> widths{1};
  while (widths.back() * 2 < lane) widths.push_back(widths.back() * 2);
  return widths;
}

std::vector<BufferPtr> sort(const Node& n, std::span<const Operand> in, Backend& be) {
  Lane l = lane_of(n, in[0].type);
  std::vector<BufferPtr> outs;
  for (const TensorType& t : n.outputs) outs.push_back(be.allocate(t.bytes()));
  void* values = n.op != Op::Argsort ? outs[0]->data() : nullptr;
  void* indices = n.op != Op::Sort ? outs.back()->data() : nullptr;
  long long count = in[0].type.shape.size();
  if (l.len <= kRankLane) {
    launch_over(load_source(sort_source(n, in[0].type, "nx_sort"), "nx_sort"), {in[0].buffer->data(), values, indices}, count);
    return outs;
  }
  const void* kernel = load_source(merge_source(n, in[0].type, "nx_merge"), "nx_merge");
  std::vector<int64_t> widths = merge_widths(l.len);
  size_t item = item_size(in[0].type.dtype), bytes = static_cast<size_t>(count);
  // Ping-pong buffers of values and indices for the passes before the last.
  BufferPtr v[2] = {be.allocate(bytes * item), be.allocate(bytes * item)};
  BufferPtr ix[2] = {be.allocate(bytes * 8), be.allocate(bytes * 8)};
  void* src_v = in[0].buffer->data();
  void* src_i = nullptr;
  for (size_t p = 0; p < widths.size(); ++p) {
    bool last = p + 1 == widths.size();
    void* dst_v = last ? values : v[p % 2]->data();
    void* dst_i = last ? indices : ix[p % 2]->data();
    if (last && !dst_i) dst_i = ix[p % 2]->data();  // sort: indices are needed only in passes
    std::vector<void*> pointers{src_v, src_i, dst_v, dst_i};
    std::vector<void*> args;
    for (void*& q : pointers) args.push_back(&q);
    long long w = widths[p], keep = last ? l.keep : l.len;
    args.insert(args.end(), {&count, &w, &keep});
    launch_counted(kernel, args, count);
    src_v = dst_v;
    src_i = dst_i;
  }
  return outs;  // the ping-pong buffers are freed in stream order
}

}  // namespace nx::cuda_backend
