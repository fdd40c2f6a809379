// Elementwise and reduction nodes as oneDNN eltwise, binary and reduction primitives on
// f32 values in whatever layout they are held (a blocked convolution result stays
// blocked through a bias add and an activation). oneDNN's exp, max and min lose NaN
// (exp(NaN) is inf; max/min return the second operand), so they run only on inputs
// that hold none (may_hold_nan), which keeps NaN positions exact.
#include <cmath>
#include <oneapi/dnnl/dnnl.hpp>
#include <string>
#include <vector>

#include "dnnl_common.hpp"
#include "kernels.hpp"

namespace nx::onednn {
namespace {

using dims = dnnl::memory::dims;

struct Eltwise {
  dnnl::algorithm alg;
  float alpha = 0, beta = 0;
};

std::optional<Eltwise> eltwise_of(Op op) {
  using a = dnnl::algorithm;
  switch (op) {
    case Op::Exp: return Eltwise{a::eltwise_exp};
    case Op::Log: return Eltwise{a::eltwise_log};
    case Op::Tanh: return Eltwise{a::eltwise_tanh};
    case Op::Sigmoid: return Eltwise{a::eltwise_logistic};
    case Op::Sqrt: return Eltwise{a::eltwise_sqrt};
    case Op::Abs: return Eltwise{a::eltwise_abs};
    case Op::Negate: return Eltwise{a::eltwise_linear, -1.0f, 0.0f};
    default: return std::nullopt;
  }
}

std::optional<dnnl::algorithm> binary_of(Op op) {
  using a = dnnl::algorithm;
  switch (op) {
    case Op::Add: return a::binary_add;
    case Op::Subtract: return a::binary_sub;
    case Op::Multiply: return a::binary_mul;
    case Op::Divide: return a::binary_div;
    case Op::Max: return a::binary_max;
    case Op::Min: return a::binary_min;
    default: return std::nullopt;
  }
}

bool f32(const TensorType& t) { return t.dtype == DType::f32 && t.shape.size() > 0; }

std::string key_of(const char* kind, int alg, std::initializer_list<const dnnl::memory::desc*> descs) {
  std::string key = std::string(kind) + std::to_string(alg) + ':';
  for (const dnnl::memory::desc* d : descs)
    key.append(reinterpret_cast<const char*>(&d->data), sizeof(d->data));  // descs are plain C structs
  return key;
}

HeldValues run(const dnnl::primitive& prim, const Held& out, std::unordered_map<int, dnnl::memory> args) {
  args[DNNL_ARG_DST] = memory_of(out);
  execute(prim, std::move(args));
  return {out};
}

}  // namespace

// Row-major values only (nullopt otherwise) when dims are added: broadcasting needs dims
// of size 1 to index.
std::optional<dnnl::memory::desc> with_rank(const Held& x, const TensorType& t, int rank) {
  if (t.shape.rank() == rank && !x.desc.is_zero()) return x.desc;
  if (t.shape.rank() > rank || !is_row_major(x, t)) return std::nullopt;
  std::vector<int64_t> d(static_cast<size_t>(rank - t.shape.rank()), 1), own = t.shape.to_vector();
  d.insert(d.end(), own.begin(), own.end());
  Shape s(d);
  dnnl::memory::desc desc = row_major({t.dtype, s});
  if (desc.is_zero()) return std::nullopt;
  return desc;
}

dnnl::primitive_attr post_op_attr(const PostOps& post, const dnnl::memory::desc& addend, std::string& key) {
  dnnl::post_ops ops;
  if (post.addend) {
    ops.append_binary(dnnl::algorithm::binary_add, addend);
    key.append("+add").append(reinterpret_cast<const char*>(&addend.data), sizeof(addend.data));
  }
  if (post.activation) {
    ops.append_eltwise(1.0f, *post.activation, 0.0f, 0.0f);
    key += "+act" + std::to_string(static_cast<int>(*post.activation));
  }
  dnnl::primitive_attr attr = shareable();
  attr.set_post_ops(ops);
  return attr;
}

std::optional<HeldValues> unary(const Node& n, std::span<const Input> in, Backend& be) {
  auto e = eltwise_of(n.op);
  if (!e || !f32(in[0].type) || in[0].held.desc.is_zero()) return std::nullopt;  // zero: a scalar
  if (n.op == Op::Exp && may_hold_nan(in[0], be)) return std::nullopt;
  const dnnl::memory::desc& d = in[0].held.desc;
  auto prim = cached<dnnl::eltwise_forward>(key_of("eltwise", static_cast<int>(e->alg), {&d}), [&]() -> std::shared_ptr<dnnl::eltwise_forward> {
    dnnl::eltwise_forward::primitive_desc pd(
        dnnl::eltwise_forward::desc(dnnl::prop_kind::forward_inference, e->alg, d, e->alpha, e->beta), shareable(), engine());
    if (is_reference(pd)) return nullptr;
    return std::make_shared<dnnl::eltwise_forward>(pd);
  });
  if (!prim) return std::nullopt;
  count("eltwise");
  return run(*prim, fresh(d, be), {{DNNL_ARG_SRC, memory_of(in[0].held)}});
}

std::optional<HeldValues> binary(const Node& n, std::span<const Input> in, Backend& be) {
  auto alg = binary_of(n.op);
  const TensorType& out = n.outputs[0];
  if (!alg || !f32(out) || out.shape.rank() == 0 || !f32(in[0].type) || !f32(in[1].type)) return std::nullopt;
  int a = 0, b = 1;  // oneDNN broadcasts only its second operand
  if (in[0].type.shape != out.shape) {
    if (n.op == Op::Subtract || n.op == Op::Divide || in[1].type.shape != out.shape) return std::nullopt;
    std::swap(a, b);
  }
  auto d0 = with_rank(in[a].held, in[a].type, out.shape.rank()), d1 = with_rank(in[b].held, in[b].type, out.shape.rank());
  if (!d0 || !d1) return std::nullopt;
  if ((n.op == Op::Max || n.op == Op::Min) && may_hold_nan(in[a], be)) return std::nullopt;  // src1's NaN survives
  auto prim = cached<dnnl::binary>(key_of("binary", static_cast<int>(*alg), {&*d0, &*d1}), [&]() -> std::shared_ptr<dnnl::binary> {
    dnnl::binary::primitive_desc pd(dnnl::binary::desc(*alg, *d0, *d1, *d0), shareable(), engine());
    if (is_reference(pd)) return nullptr;
    return std::make_shared<dnnl::binary>(pd);
  });
  if (!prim) return std::nullopt;
  count("binary");
  Held src0{in[a].held.buffer, *d0}, src1{in[b].held.buffer, *d1};
  return run(*prim, fresh(*d0, be), {{DNNL_ARG_SRC_0, memory_of(src0)}, {DNNL_ARG_SRC_1, memory_of(src1)}});
}

namespace {
// The sum of every element of x (NaN when oneDNN cannot sum it).
float total(const Input& x, Backend& be) {
  Node sum;
  sum.op = Op::Sum;
  for (int64_t i = 0; i < x.type.shape.rank(); ++i) sum.attrs.axes.push_back(i);
  sum.outputs = {TensorType{DType::f32, Shape{}}};
  auto r = reduce(sum, std::span<const Input>(&x, 1), be, false);
  return r ? *static_cast<const float*>((*r)[0].buffer->data()) : NAN;
}
}  // namespace

bool may_hold_nan(const Input& x, Backend& be) { return std::isnan(total(x, be)); }

std::optional<HeldValues> softmax(const Input& x, int axis, bool log, Backend& be) {
  if (!f32(x.type) || x.held.desc.is_zero() || !std::isfinite(total(x, be))) return std::nullopt;
  const dnnl::memory::desc& d = x.held.desc;
  auto prim = cached<dnnl::primitive>(key_of(log ? "log_softmax" : "softmax", axis, {&d}), [&]() -> std::shared_ptr<dnnl::primitive> {
    if (log) {
      dnnl::logsoftmax_forward::primitive_desc pd({dnnl::prop_kind::forward_inference, d, axis}, shareable(), engine());
      return is_reference(pd) ? nullptr : std::make_shared<dnnl::logsoftmax_forward>(pd);
    }
    dnnl::softmax_forward::primitive_desc pd({dnnl::prop_kind::forward_inference, d, axis}, shareable(), engine());
    return is_reference(pd) ? nullptr : std::make_shared<dnnl::softmax_forward>(pd);
  });
  if (!prim) return std::nullopt;
  count(log ? "log_softmax" : "softmax");
  return run(*prim, fresh(d, be), {{DNNL_ARG_SRC, memory_of(x.held)}});
}

namespace {

struct ColumnSum {
  dnnl::matmul prim;
  std::vector<float> ones;
};

// A sum over the leading axes of a row-major value as ones(1, P) @ x(P, Q), at gemm speed:
// oneDNN has only a reference reduction kernel for that case.
std::optional<HeldValues> column_sum(const Node& n, const Input& x, Backend& be) {
  const Shape& s = x.type.shape;
  size_t lead = n.attrs.axes.size();
  for (size_t i = 0; i < lead; ++i)
    if (n.attrs.axes[i] != static_cast<int64_t>(i)) return std::nullopt;
  if (!is_row_major(x.held, x.type) || lead == static_cast<size_t>(s.rank())) return std::nullopt;
  int64_t p = 1, q = 1;
  for (int i = 0; i < s.rank(); ++i) (static_cast<size_t>(i) < lead ? p : q) *= s[i];
  using dt = dnnl::memory::data_type;
  dnnl::memory::desc ones({1, p}, dt::f32, dims{p, 1}), xs({p, q}, dt::f32, dims{q, 1}), out({1, q}, dt::f32, dims{q, 1});
  auto plan = cached<ColumnSum>("column_sum" + std::to_string(p) + ',' + std::to_string(q), [&] {
    dnnl::matmul prim(dnnl::matmul::primitive_desc(dnnl::matmul::desc(ones, xs, out), shareable(), engine()));
    return std::make_shared<ColumnSum>(ColumnSum{prim, std::vector<float>(static_cast<size_t>(p), 1.0f)});
  });
  if (!plan) return std::nullopt;
  BufferPtr result = be.allocate(n.outputs[0].bytes());
  execute(plan->prim, {{DNNL_ARG_SRC, dnnl::memory(ones, engine(), plan->ones.data())},
                       {DNNL_ARG_WEIGHTS, memory_of({x.held.buffer, xs})},
                       {DNNL_ARG_DST, dnnl::memory(out, engine(), result->data())}});
  return HeldValues{plain(n.outputs[0], result)};
}

}  // namespace

std::optional<HeldValues> reduce(const Node& n, std::span<const Input> in, Backend& be, bool counted) {
  if (n.op != Op::Sum || !f32(in[0].type) || !f32(n.outputs[0]) || in[0].held.desc.is_zero()) return std::nullopt;
  if (auto r = column_sum(n, in[0], be)) {
    if (counted) count("reduction");
    return r;
  }
  // Leading and trailing axes (a bias gradient's (0, 2, 3)): the trailing ones by oneDNN's
  // reduction kernel, then the leading ones as a column sum.
  const std::vector<int64_t>& axes = n.attrs.axes;
  int rank = in[0].type.shape.rank();
  size_t lead = 0;
  while (lead < axes.size() && axes[lead] == static_cast<int64_t>(lead)) ++lead;
  bool split = lead > 0 && lead < axes.size() && is_row_major(in[0].held, in[0].type);
  for (size_t i = lead; split && i < axes.size(); ++i) split = axes[i] == rank - static_cast<int64_t>(axes.size() - i);
  if (split) {
    Node trailing = n, leading = n;
    trailing.attrs.axes.assign(axes.begin() + static_cast<std::ptrdiff_t>(lead), axes.end());
    Shape mid = in[0].type.shape;
    for (int64_t ax : trailing.attrs.axes) mid[static_cast<int>(ax)] = 1;
    trailing.outputs = {TensorType{DType::f32, mid}};
    leading.attrs.axes.resize(lead);
    if (auto partial = reduce(trailing, in, be, false))
      if (auto r = column_sum(leading, Input{trailing.outputs[0], (*partial)[0]}, be)) {
        if (counted) count("reduction");
        return HeldValues{plain(n.outputs[0], (*r)[0].buffer)};
      }
  }
  Shape kept = in[0].type.shape;  // the result with its reduced axes as 1s: same memory
  for (int64_t ax : n.attrs.axes) kept[static_cast<int>(ax)] = 1;
  dnnl::memory::desc src = in[0].held.desc, dst = row_major({DType::f32, kept});
  if (dst.is_zero()) return std::nullopt;
  auto prim = cached<dnnl::reduction>(key_of("reduction", 0, {&src, &dst}), [&]() -> std::shared_ptr<dnnl::reduction> {
    dnnl::reduction::primitive_desc pd(dnnl::reduction::desc(dnnl::algorithm::reduction_sum, src, dst, 0.0f, 0.0f),
                                       shareable(), engine());
    if (is_reference(pd)) return nullptr;  // slower than interp
    return std::make_shared<dnnl::reduction>(pd);
  });
  if (!prim) return std::nullopt;
  if (counted) count("reduction");
  HeldValues out = run(*prim, fresh(dst, be), {{DNNL_ARG_SRC, memory_of(in[0].held)}});
  return HeldValues{plain(n.outputs[0], out[0].buffer)};
}

}  // namespace nx::onednn
