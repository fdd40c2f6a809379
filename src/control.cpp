// while_loop and cond: traces bodies into subgraphs and builds the control nodes.
#include "nx/control.hpp"

#include <unordered_map>

#include "nx/detail/core.hpp"
#include "nx/grad.hpp"

namespace nx::detail {
namespace {

struct Subgraph {
  std::shared_ptr<const Graph> graph;
  Leaves captures;  // outer values the body uses, passed as extra node inputs
  std::vector<TensorType> output_types;
};

// Traces fn over fresh parameters of `types` in a nested trace.
Subgraph trace_body(const Leaves& args, const LeafFn& fn, const char* op, Where where) {
  Subgraph s;
  TraceScope scope;
  Trace& trace = scope.trace();
  Leaves params;
  for (const Tensor& a : args) params.push_back(scope.parameter(a.impl()->type, a.is_weak()));
  Leaves outs = fn(params);
  Graph g;
  for (const Tensor& t : outs) {
    if (!t.defined()) throw ValueError(op, "a body returned an undefined tensor", where);
    g.outputs.push_back(value_in_trace(t, trace, where));
    s.output_types.push_back(t.impl()->type);
  }
  g.params = trace.params;  // state parameters, then the captures made while tracing
  g.finalize();
  s.graph = std::make_shared<const Graph>(optimize(g));
  for (const Value& v : trace.captured_outer) s.captures.push_back(make_traced(v));
  return s;
}

std::string types_str(const std::vector<TensorType>& ts) {
  std::string s = "(";
  for (size_t i = 0; i < ts.size(); ++i) s += (i ? ", " : "") + ts[i].str();
  return s + ")";
}

}  // namespace

Leaves while_leaves(const Leaves& init, const LeafFn& cond, const LeafFn& body, Where where) {
  for (const Tensor& t : init)
    if (!t.defined()) throw ValueError("while_loop", "the initial state holds an undefined tensor", where);
  Leaves state = init;
  std::vector<TensorType> types;
  for (const Tensor& t : init) types.push_back(t.impl()->type);
  Subgraph c = trace_body(init, [&](const Leaves& l) {
    Leaves p = cond(l);
    if (p[0].rank() != 0)
      throw ShapeError("while_loop", "the condition must return a scalar, got shape " + p[0].shape().str(), where);
    return Leaves{p[0].dtype() == DType::bool_ ? p[0] : not_equal(p[0], 0, where)};
  }, "while_loop", where);
  Subgraph b = trace_body(init, body, "while_loop", where);
  if (b.output_types != types)
    throw DTypeError("while_loop", "the body returns " + types_str(b.output_types) + " but the state is " +
                                       types_str(types), where);
  Attrs at;
  at.k = static_cast<int64_t>(c.captures.size());
  at.bodies = {c.graph, b.graph};
  Leaves inputs = init;
  inputs.insert(inputs.end(), c.captures.begin(), c.captures.end());
  inputs.insert(inputs.end(), b.captures.begin(), b.captures.end());
  Leaves out = apply(Op::While, std::move(at), inputs, types, where);
  for (size_t i = 0; i < out.size(); ++i) out[i].impl()->weak = init[i].is_weak();
  return out;
}

Leaves cond_leaves(const Tensor& pred, const LeafFn& on_true, const LeafFn& on_false, Where where) {
  if (!pred.defined() || pred.rank() != 0)
    throw ShapeError("cond", "the predicate must be a scalar, got " + (pred.defined() ? pred.shape().str() : "undefined"),
                     where);
  Tensor p = pred.dtype() == DType::bool_ ? pred : not_equal(pred, 0, where);
  Subgraph t = trace_body({}, on_true, "cond", where);
  Subgraph f = trace_body({}, on_false, "cond", where);
  if (t.output_types != f.output_types)
    throw DTypeError("cond", "the branches return different types: " + types_str(t.output_types) + " and " +
                                 types_str(f.output_types), where);
  Attrs at;
  at.k = static_cast<int64_t>(t.captures.size());
  at.bodies = {t.graph, f.graph};
  Leaves inputs{p};
  inputs.insert(inputs.end(), t.captures.begin(), t.captures.end());
  inputs.insert(inputs.end(), f.captures.begin(), f.captures.end());
  return apply(Op::Cond, std::move(at), inputs, t.output_types, where);
}

}  // namespace nx::detail

namespace nx {

Tensor custom_grad(const Tensor& y, const std::vector<Tensor>& inputs,
                   const std::function<std::vector<Tensor>(const Tensor&)>& backward, Where where) {
  using namespace detail;
  if (!y.defined()) throw ValueError("custom_grad", "the value is an undefined tensor", where);
  for (const Tensor& t : inputs)
    if (!t.defined()) throw ValueError("custom_grad", "an input is an undefined tensor", where);
  if (!current_trace()) return y;  // gradients are only taken in traces
  Subgraph b = trace_body({y}, [&](const Leaves& g) {
    Leaves r = backward(g[0]);
    if (r.size() != inputs.size())
      throw ValueError("custom_grad", "the backward function returned " + std::to_string(r.size()) +
                                          " gradients for " + std::to_string(inputs.size()) + " inputs", where);
    for (size_t i = 0; i < r.size(); ++i) {
      if (!r[i].defined()) r[i] = zeros_like(inputs[i], where);  // undefined: no gradient
      if (r[i].shape() == inputs[i].shape() && is_float(r[i].dtype()) && is_float(inputs[i].dtype()))
        r[i] = as_type(r[i], inputs[i].dtype(), where);  // float precision follows the input
      if (!(r[i].impl()->type == inputs[i].impl()->type))
        throw ShapeError("custom_grad", "gradient " + std::to_string(i) + " is " + r[i].impl()->type.str() +
                                            " but its input is " + inputs[i].impl()->type.str(), where);
    }
    return r;
  }, "custom_grad", where);
  Attrs at;
  at.k = static_cast<int64_t>(inputs.size());
  at.bodies = {b.graph};
  Leaves all{y};
  all.insert(all.end(), inputs.begin(), inputs.end());
  all.insert(all.end(), b.captures.begin(), b.captures.end());
  return apply1(Op::CustomGrad, std::move(at), all, y.impl()->type, where, y.is_weak());
}

}  // namespace nx

namespace nx::detail {

Leaves call_graph(const Graph& g, const Leaves& args) {
  std::unordered_map<const Node*, Leaves> values;
  for (const auto& n : g.nodes) {
    Leaves& out = values[n.get()];
    if (n->op == Op::Parameter) {
      out = {args.at(static_cast<size_t>(n->param_index))};
    } else if (n->op == Op::Constant) {
      out = {make_concrete(n->outputs[0], n->constant)};
    } else {
      Leaves ins;
      for (const Value& v : n->inputs) ins.push_back(values.at(v.node.get())[static_cast<size_t>(v.index)]);
      out = apply(n->op, n->attrs, ins, n->outputs, n->where);
    }
  }
  Leaves result;
  for (const Value& v : g.outputs) result.push_back(values.at(v.node.get())[static_cast<size_t>(v.index)]);
  return result;
}

}  // namespace nx::detail
