// Graph passes: constant folding, common-subexpression elimination, dead-code elimination.
#include <algorithm>
#include <cstring>
#include <unordered_map>

#include "nx/backend.hpp"
#include "nx/graph.hpp"

namespace nx {
namespace {

// Folding is capped so that a broadcast of a scalar never becomes a huge constant.
constexpr int64_t kMaxFoldElements = 1024;

using Remap = std::unordered_map<const Node*, std::shared_ptr<const Node>>;

// A copy of `n` whose inputs point at their replacements (or `n` itself when none changed).
std::shared_ptr<const Node> remap_inputs(const std::shared_ptr<const Node>& n, const Remap& remap) {
  bool changed = false;
  for (const Value& v : n->inputs) changed |= remap.count(v.node.get()) > 0;
  if (!changed) return n;
  auto copy = std::make_shared<Node>(*n);
  for (Value& v : copy->inputs)
    if (auto it = remap.find(v.node.get()); it != remap.end()) v.node = it->second;
  return copy;
}

Graph rebuild(const Graph& g, const Remap& remap) {
  Graph out;
  out.params = g.params;
  for (const Value& v : g.outputs) {
    auto it = remap.find(v.node.get());
    out.outputs.push_back(Value{it == remap.end() ? v.node : it->second, v.index});
  }
  out.finalize();
  return out;
}

bool same_node(const Node& a, const Node& b) {
  if (a.op != b.op || a.hash != b.hash || a.inputs.size() != b.inputs.size() || a.outputs != b.outputs) return false;
  if (a.op == Op::Parameter) return a.param_index == b.param_index;
  if (a.op == Op::Constant)
    return a.constant->bytes() == b.constant->bytes() &&
           std::memcmp(a.constant->data(), b.constant->data(), a.constant->bytes()) == 0;
  for (size_t i = 0; i < a.inputs.size(); ++i)
    if (a.inputs[i].node != b.inputs[i].node || a.inputs[i].index != b.inputs[i].index) return false;
  return a.attrs == b.attrs;
}

}  // namespace

Graph eliminate_common_subexpressions(const Graph& g) {
  Remap remap;
  std::unordered_multimap<size_t, std::shared_ptr<const Node>> seen;
  for (const auto& n0 : g.nodes) {
    std::shared_ptr<const Node> n = remap_inputs(n0, remap);
    if (n != n0) n->hash = node_hash(*n);
    std::shared_ptr<const Node> canonical;
    auto [lo, hi] = seen.equal_range(n->hash);
    for (auto it = lo; it != hi && !canonical; ++it)
      if (same_node(*it->second, *n)) canonical = it->second;
    if (!canonical) {
      seen.emplace(n->hash, n);
      canonical = n;
    }
    if (canonical != n0) remap[n0.get()] = canonical;
  }
  return rebuild(g, remap);
}

Graph fold_constants(const Graph& g) {
  Backend* interp = nullptr;
  for (const auto& name : backend_names())
    if (name == "interp") interp = &backend("interp");
  if (!interp) return g;
  Remap remap;
  for (const auto& n0 : g.nodes) {
    std::shared_ptr<const Node> n = remap_inputs(n0, remap);
    // A host callback runs when the graph runs, not once at compile time.
    bool foldable = n->op != Op::Parameter && n->op != Op::Constant && n->op != Op::HostCallback &&
                    op_kind(n->op) != OpKind::Control &&
                    n->outputs.size() == 1 && n->outputs[0].shape.size() <= kMaxFoldElements;
    for (const Value& v : n->inputs) foldable &= v.node->op == Op::Constant;
    if (foldable) {
      std::vector<Operand> ins;
      for (const Value& v : n->inputs) ins.push_back({v.type(), v.node->constant});
      Node call = *n;
      call.inputs.clear();
      auto outs = interp->execute(call, ins);
      auto c = std::make_shared<Node>();
      c->op = Op::Constant;
      c->outputs = n->outputs;
      c->constant = outs[0];
      c->trace_id = n->trace_id;
      c->where = n->where;
      remap[n0.get()] = c;
    } else if (n != n0) {
      remap[n0.get()] = n;
    }
  }
  return rebuild(g, remap);
}

namespace {
// True when `v` is a float constant, or a broadcast of one, whose every element is 1.
bool is_one(const Value& v) {
  const Node* n = v.node.get();
  if (n->op == Op::Broadcast) n = n->inputs[0].node.get();
  if (n->op != Op::Constant || n->outputs[0].shape.size() > kMaxFoldElements) return false;
  auto all = [&](auto one) {
    const auto* p = static_cast<const decltype(one)*>(n->constant->data());
    for (int64_t i = 0; i < n->outputs[0].shape.size(); ++i)
      if (p[i] != one) return false;
    return true;
  };
  switch (n->outputs[0].dtype) {
    case DType::f32: return all(1.0f);
    case DType::f64: return all(1.0);
    default: return false;
  }
}
}  // namespace

// x * 1 -> x (exact for every x, NaN and -0 included). Gradients seed their cotangents
// with ones, so this keeps a backward graph free of multiplications by one.
Graph simplify(const Graph& g) {
  Remap remap;
  for (const auto& n0 : g.nodes) {
    std::shared_ptr<const Node> n = remap_inputs(n0, remap);
    if (n->op == Op::Multiply)
      for (int side = 0; side < 2; ++side) {
        const Value &one = n->inputs[static_cast<size_t>(side)], &x = n->inputs[static_cast<size_t>(1 - side)];
        if (is_one(one) && x.index == 0 && x.node->outputs.size() == 1 && x.type() == n->outputs[0]) {
          n = x.node;
          break;
        }
      }
    if (n != n0) remap[n0.get()] = n;
  }
  return rebuild(g, remap);
}

// A reduction over trailing axes and leading ones with kept axes between (a channel bias's
// gradient: sum over N, H, W of (N, C, H, W)) becomes two: the trailing axes (contiguous
// rows), then the leading ones (columns). Each is a fast, vectorised pass; the single
// reduction would gather its operand transposed, element by element.
Graph split_middle_reductions(const Graph& g) {
  Remap remap;
  bool any = false;
  for (const auto& n0 : g.nodes) {
    std::shared_ptr<const Node> n = remap_inputs(n0, remap);
    // Not for f16/bf16 results: the partial result between the two would round once more.
    const DType dt = n->outputs[0].dtype;
    const bool reduction = (n->op == Op::Sum || n->op == Op::Product || n->op == Op::ReduceMax ||
                            n->op == Op::ReduceMin || n->op == Op::All || n->op == Op::Any) &&
                           dt != DType::f16 && dt != DType::bf16;
    if (reduction) {
      const std::vector<int64_t>& axes = n->attrs.axes;  // sorted, distinct
      const Shape& in = n->inputs[0].type().shape;
      const int rank = in.rank();
      size_t lead = 0;  // axes 0, 1, ..., lead - 1 are reduced
      while (lead < axes.size() && axes[lead] == static_cast<int64_t>(lead)) ++lead;
      const size_t trail = axes.size() - lead;  // the rest must run to the last axis
      bool split = lead > 0 && trail > 0 && axes.size() < static_cast<size_t>(rank);
      for (size_t k = lead; split && k < axes.size(); ++k)
        split = axes[k] == rank - static_cast<int64_t>(axes.size() - k);
      if (split) {
        auto step = [&](const Value& x, std::vector<int64_t> over) {
          auto r = std::make_shared<Node>();
          r->op = n->op;
          r->attrs.axes = std::move(over);
          r->inputs = {x};
          std::vector<int64_t> dims;
          const Shape& xs = x.type().shape;
          for (int d = 0; d < xs.rank(); ++d)
            if (std::find(r->attrs.axes.begin(), r->attrs.axes.end(), d) == r->attrs.axes.end()) dims.push_back(xs[d]);
          r->outputs = {TensorType{n->outputs[0].dtype, Shape(dims)}};
          r->trace_id = n->trace_id;
          r->where = n->where;
          return std::shared_ptr<const Node>(r);
        };
        std::shared_ptr<const Node> rows = step(n->inputs[0], std::vector<int64_t>(axes.begin() + lead, axes.end()));
        std::shared_ptr<const Node> cols = step(Value{rows, 0}, std::vector<int64_t>(axes.begin(), axes.begin() + lead));
        if (n->attrs.keep_axes) {
          auto reshape = std::make_shared<Node>();
          reshape->op = Op::Reshape;
          reshape->inputs = {Value{cols, 0}};
          reshape->outputs = n->outputs;
          reshape->trace_id = n->trace_id;
          reshape->where = n->where;
          cols = reshape;
        }
        remap[n0.get()] = cols;
        any = true;
        continue;
      }
    }
    if (n != n0) remap[n0.get()] = n;
  }
  return any ? rebuild(g, remap) : g;
}

Graph optimize(const Graph& g) { return eliminate_common_subexpressions(simplify(fold_constants(g))); }

}  // namespace nx
