// Graph structure: attribute hashing/printing, topological order, text and DOT output.
#include "nx/graph.hpp"

#include <functional>
#include <iomanip>
#include <sstream>
#include <unordered_map>
#include <unordered_set>

#include "nx/backend.hpp"
#include "nx/detail/core.hpp"

namespace nx {
namespace {

inline void mix(size_t& h, size_t v) { h ^= v + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2); }
void mix_list(size_t& h, const std::vector<int64_t>& v) {
  mix(h, v.size());
  for (int64_t x : v) mix(h, std::hash<int64_t>{}(x));
}

// Every list field with its printed name, in one place.
template <class A, class F> void for_each_list(A& a, F&& f) {
  f("axes", a.axes);
  f("starts", a.starts);
  f("lengths", a.lengths);
  f("strides", a.strides);
  f("lo", a.lo);
  f("hi", a.hi);
  f("interior", a.interior);
  f("window", a.window);
  f("lhs_dilation", a.lhs_dilation);
  f("rhs_dilation", a.rhs_dilation);
  f("lhs_contract", a.lhs_contract);
  f("rhs_contract", a.rhs_contract);
  f("lhs_batch", a.lhs_batch);
  f("rhs_batch", a.rhs_batch);
}

size_t bytes_hash(const void* p, size_t n) {
  return std::hash<std::string_view>{}(std::string_view(static_cast<const char*>(p), n));
}

}  // namespace

std::string TensorType::str() const { return std::string(name(dtype)) + shape.str(); }

bool Attrs::operator==(const Attrs& o) const {
  bool eq = k == o.k && k2 == o.k2 && keep_axes == o.keep_axes && flag == o.flag && flag2 == o.flag2 &&
            flag3 == o.flag3 && bodies.size() == o.bodies.size() && callback == o.callback;
  for (size_t i = 0; eq && i < bodies.size(); ++i) eq = bodies[i]->hash() == o.bodies[i]->hash();
  const std::vector<int64_t>* mine[14];
  int n = 0;
  for_each_list(*this, [&](const char*, const std::vector<int64_t>& v) { mine[n++] = &v; });
  n = 0;
  for_each_list(o, [&](const char*, const std::vector<int64_t>& v) { eq = eq && *mine[n++] == v; });
  return eq;
}

size_t Attrs::hash() const {
  size_t h = 0;
  for_each_list(*this, [&](const char*, const std::vector<int64_t>& v) { mix_list(h, v); });
  mix(h, static_cast<size_t>(k));
  mix(h, static_cast<size_t>(k2));
  mix(h, static_cast<size_t>(keep_axes) | static_cast<size_t>(flag) << 1 | static_cast<size_t>(flag2) << 2 |
             static_cast<size_t>(flag3) << 3);
  for (const auto& b : bodies) mix(h, b->hash());
  mix(h, reinterpret_cast<size_t>(callback.get()));
  return h;
}

std::string Attrs::str() const {
  std::ostringstream os;
  bool first = true;
  auto sep = [&] { os << (first ? "" : ", "); first = false; };
  for_each_list(*this, [&](const char* name, const std::vector<int64_t>& v) {
    if (v.empty()) return;
    sep();
    os << name << "=[";
    for (size_t i = 0; i < v.size(); ++i) os << (i ? "," : "") << v[i];
    os << "]";
  });
  if (k) { sep(); os << "k=" << k; }
  if (k2) { sep(); os << "k2=" << k2; }
  if (keep_axes) { sep(); os << "keep_axes"; }
  if (flag) { sep(); os << "flag"; }
  if (flag2) { sep(); os << "flag2"; }
  if (flag3) { sep(); os << "flag3"; }
  for (size_t i = 0; i < bodies.size(); ++i) { sep(); os << "body" << i << "=#" << std::hex << bodies[i]->hash() << std::dec; }
  return os.str();
}

size_t node_hash(const Node& n) {
  size_t h = static_cast<size_t>(n.op) + 1;
  mix(h, n.attrs.hash());
  for (const Value& v : n.inputs) {
    mix(h, v.node->hash);
    mix(h, static_cast<size_t>(v.index));
  }
  for (const TensorType& t : n.outputs) {
    mix(h, static_cast<size_t>(t.dtype));
    mix_list(h, t.shape.to_vector());
  }
  if (n.op == Op::Parameter) mix(h, static_cast<size_t>(n.param_index));
  if (n.op == Op::Constant) mix(h, bytes_hash(n.constant->data(), n.constant->bytes()));
  return h;
}

void Graph::finalize() {
  nodes.clear();
  std::unordered_set<const Node*> seen;
  // Iterative post-order DFS: graphs can be deep (long chains from unrolled user loops).
  std::vector<std::pair<std::shared_ptr<const Node>, size_t>> stack;
  auto visit = [&](const std::shared_ptr<const Node>& root) {
    if (!seen.insert(root.get()).second) return;
    stack.push_back({root, 0});
    while (!stack.empty()) {
      auto& [n, i] = stack.back();
      if (i < n->inputs.size()) {
        const std::shared_ptr<const Node>& child = n->inputs[i++].node;
        if (seen.insert(child.get()).second) stack.push_back({child, 0});
      } else {
        nodes.push_back(std::move(n));
        stack.pop_back();
      }
    }
  };
  for (const auto& p : params) visit(p);
  for (const Value& v : outputs) visit(v.node);
  for (const auto& n : nodes) n->hash = node_hash(*n);
}

size_t Graph::hash() const {
  size_t h = params.size();
  for (const auto& p : params) mix(h, p->hash);
  for (const Value& v : outputs) {
    mix(h, v.node->hash);
    mix(h, static_cast<size_t>(v.index));
  }
  return h;
}

std::vector<TensorType> Graph::input_types() const {
  std::vector<TensorType> t;
  for (const auto& p : params) t.push_back(p->outputs[0]);
  return t;
}
std::vector<TensorType> Graph::output_types() const {
  std::vector<TensorType> t;
  for (const Value& v : outputs) t.push_back(v.type());
  return t;
}

namespace {
std::unordered_map<const Node*, int> number_nodes(const Graph& g) {
  std::unordered_map<const Node*, int> id;
  for (const auto& n : g.nodes) id.emplace(n.get(), static_cast<int>(id.size()));
  return id;
}
std::string types_str(const Node& n) {
  std::string s;
  for (size_t i = 0; i < n.outputs.size(); ++i) s += (i ? ", " : "") + n.outputs[i].str();
  return n.outputs.size() == 1 ? s : "(" + s + ")";
}
}  // namespace

// Small constants print their values: "constant(2.5)", "constant([1, 2, 3])".
std::string constant_str(const Node& n) {
  const TensorType& t = n.outputs[0];
  if (!n.constant || t.shape.size() > 8 || !n.constant->owner()->host_accessible()) return "";
  std::vector<double> v(static_cast<size_t>(t.shape.size()));
  detail::convert(n.constant->data(), t.dtype, v.data(), DType::f64, t.shape.size());
  std::ostringstream os;
  os << std::setprecision(8);
  if (t.shape.rank() > 0) os << "[";
  for (size_t i = 0; i < v.size(); ++i) os << (i ? ", " : "") << v[i];
  if (t.shape.rank() > 0) os << "]";
  return os.str();
}

size_t TensorType::bytes(const char* op, Where where) const {
  int64_t b = 0;
  if (__builtin_mul_overflow(shape.size(), static_cast<int64_t>(item_size(dtype)), &b))
    throw ShapeError(op, "a result of type " + str() + " is too large to address", where);
  return static_cast<size_t>(b);
}

std::string Graph::str() const {
  auto id = number_nodes(*this);
  std::ostringstream os;
  os << "graph(";
  for (size_t i = 0; i < params.size(); ++i) os << (i ? ", " : "") << "%" << id[params[i].get()] << ": " << params[i]->outputs[0].str();
  os << ") {\n";
  for (const auto& n : nodes) {
    if (n->op == Op::Parameter) continue;
    os << "  %" << id[n.get()] << " = " << op_name(n->op) << "(";
    for (size_t i = 0; i < n->inputs.size(); ++i) {
      const Value& v = n->inputs[i];
      os << (i ? ", " : "") << "%" << id[v.node.get()];
      if (v.node->outputs.size() > 1) os << "." << v.index;
    }
    std::string a = n->op == Op::Constant ? constant_str(*n) : n->attrs.str();
    if (!a.empty()) os << (n->inputs.empty() ? "" : "; ") << a;
    os << ") : " << types_str(*n) << "\n";
  }
  os << "  return ";
  for (size_t i = 0; i < outputs.size(); ++i) {
    os << (i ? ", " : "") << "%" << id[outputs[i].node.get()];
    if (outputs[i].node->outputs.size() > 1) os << "." << outputs[i].index;
  }
  os << "\n}\n";
  return os.str();
}

std::string Graph::dot() const {
  auto id = number_nodes(*this);
  std::ostringstream os;
  os << "digraph nx {\n  rankdir=TB;\n  node [shape=box, fontname=monospace];\n";
  for (const auto& n : nodes) {
    os << "  n" << id[n.get()] << " [label=\"" << op_name(n->op);
    if (n->op == Op::Parameter) os << " " << n->param_index;
    os << "\\n" << types_str(*n) << "\"";
    if (n->op == Op::Parameter) os << ", style=filled, fillcolor=lightblue";
    if (n->op == Op::Constant) os << ", style=filled, fillcolor=lightgray";
    os << "];\n";
    for (const Value& v : n->inputs) os << "  n" << id[v.node.get()] << " -> n" << id[n.get()] << ";\n";
  }
  for (size_t i = 0; i < outputs.size(); ++i)
    os << "  out" << i << " [shape=oval, label=\"output " << i << "\"];\n  n" << id[outputs[i].node.get()] << " -> out" << i << ";\n";
  os << "}\n";
  return os.str();
}

}  // namespace nx
