// nx::vmap as a graph transform: trace one example, replay the graph on the whole batch
// with a batching rule per primitive (a per-example loop where there is none), and the
// Jacobians (jacrev, jacfwd, hessian) as vmaps of VJPs and JVPs over one-hot directions.
#include "nx/vmap.hpp"

#include <string>
#include <unordered_map>

#include "nx/detail/core.hpp"

namespace nx::detail {
namespace {

// A value of the batched replay: the same for every example, or batched with the batch on
// axis 0.
struct Batched {
  Tensor t;
  bool batched = false;
};

std::vector<int64_t> shifted(const std::vector<int64_t>& axes, int64_t by = 1) {
  std::vector<int64_t> r;
  for (int64_t a : axes) r.push_back(a + by);
  return r;
}
std::vector<int64_t> prepended(int64_t first, const std::vector<int64_t>& rest) {
  std::vector<int64_t> r{first};
  r.insert(r.end(), rest.begin(), rest.end());
  return r;
}
Shape prepended(int64_t first, const Shape& rest) {
  Shape s{first};
  for (int64_t d : rest) s.push_back(d);
  return s;
}
Shape inserted(const Shape& s, int at, int64_t d) {
  std::vector<int64_t> v = s.to_vector();
  v.insert(v.begin() + at, d);
  return Shape(v);
}

// x with its axis `from` moved to position `to`, the others in order.
Tensor move_axis(const Tensor& x, int from, int to, Where where) {
  if (from == to) return x;
  std::vector<int> perm;
  for (int i = 0; i < x.rank(); ++i)
    if (i != from) perm.push_back(i);
  perm.insert(perm.begin() + to, from);
  return transpose(x, perm, where);
}

// Replays the nodes of a per-example graph on a batch of `size` examples.
class BatchReplay {
 public:
  BatchReplay(int64_t size, Where where) : size_(size), where_(where) {}

  std::vector<Batched> node(const Node& n, const std::vector<Batched>& ins) {
    bool any = false;
    for (const Batched& b : ins) any |= b.batched;
    if (!any) return unbatched(apply(n.op, n.attrs, plain(ins), n.outputs, n.where));
    switch (op_kind(n.op)) {
      case OpKind::Unary:
      case OpKind::Binary: return elementwise(n, ins);
      case OpKind::Reduce: return shift_axes(n, ins[0]);
      case OpKind::Window: return window(n, {ins[0].t});
      case OpKind::Linalg: return record(n, n.attrs, materialized(ins));
      default: break;
    }
    switch (n.op) {
      case Op::Select:
      case Op::AsType:
      case Op::Bitcast:
      case Op::StopGrad: return elementwise(n, ins);
      case Op::Argmax:
      case Op::Argmin:
      case Op::CumulativeSum:
      case Op::CumulativeProduct:
      case Op::CumulativeMax:
      case Op::CumulativeMin:
      case Op::Sort:
      case Op::Argsort:
      case Op::TopK:
      case Op::Reverse: return shift_axes(n, ins[0]);
      case Op::Concatenate: {
        Attrs at = n.attrs;
        at.axes = shifted(at.axes);
        return record(n, std::move(at), materialized(ins));
      }
      case Op::Reshape: return record(n, n.attrs, {ins[0].t});
      case Op::Transpose:
      case Op::Broadcast: {  // the batch axis stays in front
        Attrs at = n.attrs;
        at.axes = prepended(0, shifted(at.axes));
        return record(n, std::move(at), {ins[0].t});
      }
      case Op::Slice: {
        Attrs at = n.attrs;
        at.starts = prepended(0, at.starts);
        at.lengths = prepended(size_, at.lengths);
        if (!at.strides.empty()) at.strides = prepended(1, at.strides);
        return record(n, std::move(at), {ins[0].t});
      }
      case Op::PutSlice: {
        Attrs at = n.attrs;
        at.starts = prepended(0, at.starts);
        return record(n, std::move(at), materialized(ins));
      }
      case Op::Pad: {
        if (ins[1].batched) break;  // a pad value per example: no single pad does it
        Attrs at = n.attrs;
        at.lo = prepended(0, at.lo);
        at.hi = prepended(0, at.hi);
        at.interior = prepended(0, at.interior);
        return record(n, std::move(at), {ins[0].t, ins[1].t});
      }
      case Op::DotGeneral: return dot_general(n, ins);
      case Op::Gather: return gather(n, ins);
      case Op::IndexedAdd:
      case Op::IndexedPut: return scatter(n, ins);
      case Op::Conv:
        if (ins[1].batched || n.attrs.k2 != 1) break;  // per-example kernels or batch groups
        return conv(n, ins[0].t, ins[1].t);
      case Op::WindowScatterMax:
      case Op::WindowScatterMin:
        if (ins[2].batched) break;  // an init value per example
        return window(n, {materialize(ins[0]), materialize(ins[1]), ins[2].t});
      default: break;
    }
    return per_example(n, ins);
  }

  Tensor materialize(const Batched& b) const {
    return b.batched ? b.t : broadcast(b.t, prepended(size_, b.t.shape()), {}, where_);
  }

 private:
  static std::vector<Tensor> plain(const std::vector<Batched>& ins) {
    std::vector<Tensor> r;
    for (const Batched& b : ins) r.push_back(b.t);
    return r;
  }
  static std::vector<Batched> unbatched(const std::vector<Tensor>& ts) {
    std::vector<Batched> r;
    for (const Tensor& t : ts) r.push_back({t, false});
    return r;
  }
  static std::vector<Batched> batched(const std::vector<Tensor>& ts) {
    std::vector<Batched> r;
    for (const Tensor& t : ts) r.push_back({t, true});
    return r;
  }
  std::vector<Tensor> materialized(const std::vector<Batched>& ins) const {
    std::vector<Tensor> r;
    for (const Batched& b : ins) r.push_back(materialize(b));
    return r;
  }
  std::vector<TensorType> batched_types(const std::vector<TensorType>& types) const {
    std::vector<TensorType> r;
    for (const TensorType& t : types) r.push_back(TensorType{t.dtype, prepended(size_, t.shape)});
    return r;
  }
  // The node's op on batched operands: every output gains the batch axis in front.
  std::vector<Batched> record(const Node& n, Attrs at, const std::vector<Tensor>& ins) const {
    return batched(apply(n.op, std::move(at), ins, batched_types(n.outputs), n.where));
  }

  // Ops that broadcast their operands as numpy: batched operands get the batch in front
  // and ones up to the output's rank, so it lines up; unbatched ones broadcast over it.
  std::vector<Batched> elementwise(const Node& n, const std::vector<Batched>& ins) const {
    int rank = n.outputs[0].shape.rank();
    std::vector<Tensor> aligned;
    for (const Batched& b : ins) {
      if (!b.batched || b.t.rank() - 1 == rank) {
        aligned.push_back(b.t);
        continue;
      }
      Shape s{size_};
      for (int i = b.t.rank() - 1; i < rank; ++i) s.push_back(1);
      for (int i = 1; i < b.t.rank(); ++i) s.push_back(b.t.shape()[i]);
      aligned.push_back(reshape(b.t, s, where_));
    }
    return record(n, n.attrs, aligned);
  }

  // Ops with axis attributes over one operand: the axes move past the batch axis.
  std::vector<Batched> shift_axes(const Node& n, const Batched& x) const {
    Attrs at = n.attrs;
    at.axes = shifted(at.axes);
    return record(n, std::move(at), {x.t});
  }

  // Window reductions and window scatters: a window of 1 over the batch axis.
  std::vector<Batched> window(const Node& n, const std::vector<Tensor>& ins) const {
    Attrs at = n.attrs;
    at.window = prepended(1, at.window);
    at.strides = prepended(1, at.strides);
    at.lo = prepended(0, at.lo);
    at.hi = prepended(0, at.hi);
    if (!at.rhs_dilation.empty()) at.rhs_dilation = prepended(1, at.rhs_dilation);
    if (!at.lhs_dilation.empty()) at.lhs_dilation = prepended(1, at.lhs_dilation);
    return record(n, std::move(at), ins);
  }

  // Both batched: the batch becomes a dot batch dimension. One batched: it is a free
  // dimension of that operand, moved to the front of the result afterwards.
  std::vector<Batched> dot_general(const Node& n, const std::vector<Batched>& ins) const {
    const Batched &a = ins[0], &b = ins[1];
    Attrs at = n.attrs;
    const Shape& out = n.outputs[0].shape;
    int dot_batch = static_cast<int>(at.lhs_batch.size());
    if (a.batched && b.batched) {
      at.lhs_contract = shifted(at.lhs_contract);
      at.rhs_contract = shifted(at.rhs_contract);
      at.lhs_batch = prepended(0, shifted(at.lhs_batch));
      at.rhs_batch = prepended(0, shifted(at.rhs_batch));
      return record(n, std::move(at), {a.t, b.t});
    }
    int at_axis = dot_batch;  // lhs batched: the first lhs free dimension
    if (a.batched) {
      at.lhs_contract = shifted(at.lhs_contract);
      at.lhs_batch = shifted(at.lhs_batch);
    } else {
      at.rhs_contract = shifted(at.rhs_contract);
      at.rhs_batch = shifted(at.rhs_batch);
      int lhs_free = a.t.rank() - static_cast<int>(at.lhs_contract.size() + at.lhs_batch.size());
      at_axis = dot_batch + lhs_free;  // the first rhs free dimension
    }
    TensorType type{n.outputs[0].dtype, inserted(out, at_axis, size_)};
    Tensor r = apply(n.op, std::move(at), std::vector{a.t, b.t}, {type}, n.where)[0];
    return {{move_axis(r, at_axis, 0, where_), true}};
  }

  // Index tuples (n, ..., k) with the example's own position prepended: (n, ..., k + 1).
  Tensor with_batch_index(const Tensor& indices) const {
    Tensor idx = indices.dtype() == DType::i64 ? indices : as_type(indices, DType::i64, where_);
    Shape one = idx.shape();
    one[one.rank() - 1] = 1;
    return concatenate({iota(one, DType::i64, 0, where_), idx}, -1, where_);
  }

  std::vector<Batched> gather(const Node& n, const std::vector<Batched>& ins) const {
    const Batched &x = ins[0], &idx = ins[1];
    Attrs at = n.attrs;
    if (!x.batched) return record(n, std::move(at), {x.t, idx.t});  // the index dims lead
    if (idx.batched) {
      at.axes = prepended(0, shifted(at.axes));
      return record(n, std::move(at), {x.t, with_batch_index(idx.t)});
    }
    // Only x: its batch axis is the first one not addressed, after the index dims.
    at.axes = shifted(at.axes);
    int at_axis = idx.t.rank() - 1;
    TensorType type{n.outputs[0].dtype, inserted(n.outputs[0].shape, at_axis, size_)};
    Tensor r = apply(n.op, std::move(at), std::vector{x.t, idx.t}, {type}, n.where)[0];
    return {{move_axis(r, at_axis, 0, where_), true}};
  }

  // indexed_add/put: every example scatters into its own slice of the batched x.
  std::vector<Batched> scatter(const Node& n, const std::vector<Batched>& ins) const {
    Attrs at = n.attrs;
    at.axes = prepended(0, shifted(at.axes));
    return record(n, std::move(at),
                  {materialize(ins[0]), with_batch_index(materialize(ins[1])), materialize(ins[2])});
  }

  // Only the input batched: the examples' images join the conv's own batch axis N.
  std::vector<Batched> conv(const Node& n, const Tensor& input, const Tensor& kernel) const {
    Shape folded{size_ * input.shape()[1]};
    for (int i = 2; i < input.rank(); ++i) folded.push_back(input.shape()[i]);
    const Shape& out = n.outputs[0].shape;
    Shape folded_out{size_ * out[0]};
    for (int i = 1; i < out.rank(); ++i) folded_out.push_back(out[i]);
    Tensor r = apply(n.op, n.attrs, std::vector{reshape(input, folded, where_), kernel},
                     {TensorType{n.outputs[0].dtype, folded_out}}, n.where)[0];
    return {{reshape(r, prepended(size_, out), where_), true}};
  }

  // Example i of a batched value.
  Tensor example(const Batched& b, int64_t i) const {
    if (!b.batched) return b.t;
    std::vector<int64_t> starts(static_cast<size_t>(b.t.rank()), 0), lengths = b.t.shape().to_vector();
    starts[0] = i;
    lengths[0] = 1;
    std::vector<int64_t> inner(lengths.begin() + 1, lengths.end());
    return reshape(slice(b.t, starts, lengths, {}, where_), Shape(inner), where_);
  }

  // The fallback: the node once per example, the results stacked.
  std::vector<Batched> per_example(const Node& n, const std::vector<Batched>& ins) const {
    std::vector<std::vector<Tensor>> outs(n.outputs.size());
    for (int64_t i = 0; i < size_; ++i) {
      std::vector<Tensor> one;
      for (const Batched& b : ins) one.push_back(example(b, i));
      std::vector<Tensor> r = apply(n.op, n.attrs, one, n.outputs, n.where);
      for (size_t k = 0; k < r.size(); ++k) outs[k].push_back(r[k]);
    }
    std::vector<Batched> result;
    for (size_t k = 0; k < outs.size(); ++k) {
      const TensorType& t = n.outputs[k];
      result.push_back({size_ == 0 ? zeros(prepended(size_, t.shape), t.dtype, where_) : stack(outs[k], 0, where_),
                        true});
    }
    return result;
  }

  int64_t size_;
  Where where_;
};

std::string axis_str(const std::optional<int>& a) { return a ? std::to_string(*a) : "not_batched"; }

}  // namespace

std::vector<Tensor> vmap_leaves(const TensorListFn& fn, const std::vector<Tensor>& leaves,
                                const std::vector<std::optional<int>>& axes,
                                const std::vector<std::optional<int>>& out_axes, Where where) {
  // The batch axis of each leaf, checked, and the batch size they agree on.
  std::vector<int> axis(leaves.size(), -1);
  std::optional<int64_t> size;
  std::string batched_shapes;  // "(3, 2) on axis 0, ..." for the error message
  bool sizes_agree = true;
  for (size_t i = 0; i < leaves.size(); ++i) {
    const Tensor& t = leaves[i];
    if (!t.defined()) throw ValueError("vmap", "argument leaf " + std::to_string(i) + " is an undefined tensor", where);
    if (!axes[i]) continue;
    int r = t.rank(), a = *axes[i];
    if (a < -r || a >= r)
      throw AxisError("vmap", "in_axes " + axis_str(axes[i]) + " is out of range for argument leaf " +
                                  std::to_string(i) + " of shape " + t.shape().str() +
                                  (r == 0 ? " (a scalar: use nx::not_batched for it)" : ""), where);
    axis[i] = a < 0 ? a + r : a;
    int64_t n = t.shape()[axis[i]];
    sizes_agree &= !size || *size == n;
    if (!size) size = n;
    batched_shapes += (batched_shapes.empty() ? "" : ", ") + t.shape().str() + " on axis " + std::to_string(axis[i]);
  }
  if (!size) throw ValueError("vmap", "no argument is batched (every in_axes entry is nx::not_batched)", where);
  if (!sizes_agree)
    throw ShapeError("vmap", "the batched arguments disagree on the batch size: " + batched_shapes, where);

  // Trace one example: the batched leaves without their batch axis.
  Graph g;
  std::vector<Value> captured;  // outer values f uses, parameters after the leaves
  std::vector<bool> out_weak;
  {
    TraceScope scope;
    Trace& trace = scope.trace();
    std::vector<Tensor> params;
    for (size_t i = 0; i < leaves.size(); ++i) {
      TensorType type = leaves[i].impl()->type;
      if (axis[i] >= 0) {
        std::vector<int64_t> d = type.shape.to_vector();
        d.erase(d.begin() + axis[i]);
        type.shape = Shape(d);
      }
      params.push_back(scope.parameter(type, leaves[i].is_weak()));
    }
    std::vector<Tensor> outs = fn(params);
    for (const Tensor& t : outs) {
      if (!t.defined()) throw ValueError("vmap", "the function returned an undefined tensor", where);
      g.outputs.push_back(value_in_trace(t, trace, where));
      out_weak.push_back(t.is_weak());
    }
    g.params = trace.params;
    captured = trace.captured_outer;
    g.finalize();
    g = optimize(g);
  }

  if (!out_axes.empty() && out_axes.size() != 1 && out_axes.size() != g.outputs.size())
    throw ValueError("vmap", "out_axes has " + std::to_string(out_axes.size()) + " entries for " +
                                 std::to_string(g.outputs.size()) + " result tensors (one per result leaf, one for all, "
                                 "or none)", where);

  // Replay on the batch, in the enclosing trace (or eagerly).
  BatchReplay replay(*size, where);
  std::unordered_map<const Node*, std::vector<Batched>> values;
  for (const auto& n : g.nodes) {
    std::vector<Batched>& out = values[n.get()];
    if (n->op == Op::Parameter) {
      size_t p = static_cast<size_t>(n->param_index);
      if (p < leaves.size()) out = {{axis[p] >= 0 ? move_axis(leaves[p], axis[p], 0, where) : leaves[p], axis[p] >= 0}};
      else out = {{make_traced(captured.at(p - leaves.size())), false}};
    } else if (n->op == Op::Constant) {
      out = {{make_concrete(n->outputs[0], n->constant), false}};
    } else {
      std::vector<Batched> ins;
      for (const Value& v : n->inputs) ins.push_back(values.at(v.node.get())[static_cast<size_t>(v.index)]);
      out = replay.node(*n, ins);
    }
  }

  std::vector<Tensor> results;
  for (size_t k = 0; k < g.outputs.size(); ++k) {
    const Value& v = g.outputs[k];
    const Batched& b = values.at(v.node.get())[static_cast<size_t>(v.index)];
    std::optional<int> to = out_axes.empty() ? std::optional<int>(0) : out_axes[out_axes.size() == 1 ? 0 : k];
    Tensor t;
    if (!to) {
      if (b.batched)
        throw ValueError("vmap", "out_axes marks result " + std::to_string(k) +
                                     " not_batched, but it differs between examples", where);
      t = b.t;
    } else {
      t = replay.materialize(b);
      int r = t.rank(), a = *to;
      if (a < -r || a >= r)
        throw AxisError("vmap", "out_axes " + std::to_string(a) + " is out of range for result " + std::to_string(k) +
                                    " of batched shape " + t.shape().str(), where);
      t = move_axis(t, 0, a < 0 ? a + r : a, where);
    }
    if (t.is_weak() != out_weak[k])  // a new handle: t may be the caller's own tensor
      t = t.is_traced() ? make_traced(t.impl()->value, out_weak[k]) : make_concrete(t.impl()->type, t.buffer(), out_weak[k]);
    results.push_back(t);
  }
  return results;
}

namespace {

const char* jacobian_name(JacobianKind kind) {
  switch (kind) {
    case JacobianKind::reverse: return "jacrev";
    case JacobianKind::forward: return "jacfwd";
    default: return "hessian";
  }
}

// The type fn returns for x, from a throwaway trace.
TensorType result_type(const std::function<Tensor(const Tensor&)>& fn, const Tensor& x, const char* op,
                       Where where) {
  TraceScope scope;
  Tensor y = fn(scope.parameter(x.impl()->type, x.is_weak()));
  if (!y.defined()) throw ValueError(op, "the function returned an undefined tensor", where);
  return y.impl()->type;
}

Shape concat_shapes(const Shape& a, const Shape& b) {
  Shape s = a;
  for (int64_t d : b) s.push_back(d);
  return s;
}

// Rows d y / d x for one-hot cotangents of y: a VJP per output element.
Tensor jacobian_reverse(const std::function<Tensor(const Tensor&)>& fn, const Tensor& x, const char* op,
                        Where where) {
  TensorType y = result_type(fn, x, op, where);
  if (!is_float(y.dtype))
    throw DTypeError(op, "the function must return a float tensor, got " + y.str(), where);
  int64_t m = y.shape.size();
  Tensor seeds = reshape(eye(m, y.dtype, where), prepended(m, y.shape), where);
  Tensor rows = vmap_leaves(
      [&](const std::vector<Tensor>& seed) {
        Tensor leaf = grad_leaf(x, where);
        return backprop({fn(leaf)}, seed, {leaf}, where);
      },
      {seeds}, {0}, {}, where)[0];
  return reshape(rows, concat_shapes(y.shape, x.shape()), where);
}

// Columns d y / d x along one-hot tangents of x: a JVP per input element.
Tensor jacobian_forward(const std::function<Tensor(const Tensor&)>& fn, const Tensor& x, Where where) {
  int64_t n = x.size();
  Tensor tangents = reshape(eye(n, x.dtype(), where), prepended(n, x.shape()), where);
  Tensor columns = vmap_leaves(
      [&](const std::vector<Tensor>& tangent) {
        std::vector<Tensor> ys;
        return jvp_leaves([&](const std::vector<Tensor>& p) { return std::vector<Tensor>{fn(p[0])}; }, {x}, tangent,
                          ys, where);
      },
      {tangents}, {0}, {-1}, where)[0];
  Shape y;
  for (int i = 0; i + 1 < columns.rank(); ++i) y.push_back(columns.shape()[i]);
  return reshape(columns, concat_shapes(y, x.shape()), where);
}

}  // namespace

Tensor jacobian(JacobianKind kind, const std::function<Tensor(const Tensor&)>& fn, const Tensor& x, Where where) {
  const char* op = jacobian_name(kind);
  if (!x.defined()) throw ValueError(op, "the argument is an undefined tensor", where);
  if (!is_float(x.dtype()))
    throw DTypeError(op, "the argument must be a float tensor, got " + x.impl()->type.str(), where);
  switch (kind) {
    case JacobianKind::reverse: return jacobian_reverse(fn, x, op, where);
    case JacobianKind::forward: return jacobian_forward(fn, x, where);
    default:
      return jacobian_forward([&](const Tensor& at) { return jacobian_reverse(fn, at, op, where); }, x, where);
  }
}

}  // namespace nx::detail
