#include "fusion.hpp"

#include <algorithm>
#include <unordered_map>

namespace nx::onednn {
namespace {

std::optional<dnnl::algorithm> activation_of(Op op) {
  if (op == Op::Tanh) return dnnl::algorithm::eltwise_tanh;
  if (op == Op::Sigmoid) return dnnl::algorithm::eltwise_logistic;
  return std::nullopt;  // relu is max(x, 0): oneDNN's drops NaN, so it stays unfused
}

class Finder {
 public:
  explicit Finder(const Graph& g) : g_(g), consumers_(g.nodes.size()) {
    for (size_t i = 0; i < g.nodes.size(); ++i) slot_[g.nodes[i].get()] = i;
    for (size_t i = 0; i < g.nodes.size(); ++i)
      for (const Value& v : g.nodes[i]->inputs) consumers_[slot(v)].push_back(i);
    for (const Value& v : g.outputs) consumers_[slot(v)].push_back(g.nodes.size());
  }

  std::vector<Fusion> all() {
    std::vector<Fusion> found;
    std::vector<bool> used(g_.nodes.size());
    for (size_t i = g_.nodes.size(); i-- > 0;) {  // from the end: a softmax is found by its last node
      if (used[i]) continue;
      std::optional<Fusion> f = softmax_ending(i);
      if (!f) f = post_ops_from(i);
      if (!f || std::any_of(f->nodes.begin(), f->nodes.end(), [&](size_t n) { return used[n]; })) continue;
      for (size_t n : f->nodes) used[n] = true;
      found.push_back(std::move(*f));
    }
    return found;
  }

 private:
  size_t slot(const Value& v) const { return slot_.at(v.node.get()); }
  ValueRef ref(const Value& v) const { return {slot(v), static_cast<size_t>(v.index)}; }
  const Node& node(size_t i) const { return *g_.nodes[i]; }
  // The single consumer of node i, if it has exactly one (and is not a graph output).
  std::optional<size_t> only_consumer(size_t i) const {
    const auto& c = consumers_[i];
    if (c.size() != 1 || c[0] >= g_.nodes.size()) return std::nullopt;
    return c[0];
  }

  // root -> [add(root, addend)] -> [tanh | sigmoid], each link consumed only by the next.
  std::optional<Fusion> post_ops_from(size_t i) const {
    const Node& root = node(i);
    if ((root.op != Op::Conv && root.op != Op::DotGeneral) || root.outputs[0].dtype != DType::f32) return std::nullopt;
    Fusion f{Fusion::Kind::post_ops, {i}};
    std::optional<size_t> c = only_consumer(i);
    if (c && node(*c).op == Op::Add && node(*c).outputs[0] == root.outputs[0]) {
      const Node& add = node(*c);
      const Value& other = add.inputs[add.inputs[0].node.get() == &root ? 1 : 0];
      if (other.node.get() != &root && other.type().dtype == DType::f32) {
        f.addend = ref(other);
        f.nodes.push_back(*c);
        c = only_consumer(*c);
      }
    }
    if (c && activation_of(node(*c).op)) {
      f.activation = activation_of(node(*c).op);
      f.nodes.push_back(*c);
    }
    if (f.nodes.size() == 1) return std::nullopt;
    return f;
  }

  // Node i's input k, if produced by `op`.
  std::optional<size_t> input_of(size_t i, size_t k, Op op) const {
    const Node& n = node(i);
    if (k >= n.inputs.size() || n.inputs[k].node->op != op || n.inputs[k].index != 0) return std::nullopt;
    return slot(n.inputs[k]);
  }
  // A keep-axes reduction of value x over one axis; the axis.
  std::optional<int> one_axis_of(size_t reduce, const Value& x) const {
    const Node& r = node(reduce);
    if (r.attrs.axes.size() != 1 || !r.attrs.keep_axes || r.inputs[0].node != x.node || r.inputs[0].index != x.index)
      return std::nullopt;
    return static_cast<int>(r.attrs.axes[0]);
  }

  // divide(e, sum(e)) with e = exp(x - reduce_max(x)): nx::softmax.
  std::optional<Fusion> softmax_ending(size_t i) const {
    const Node& out = node(i);
    if (out.op == Op::Divide) {
      auto e = input_of(i, 0, Op::Exp), s = input_of(i, 1, Op::Sum);
      if (!e || !s || node(*s).inputs[0].node.get() != &node(*e)) return std::nullopt;
      auto d = input_of(*e, 0, Op::Subtract);
      if (!d) return std::nullopt;
      const Value& x = node(*d).inputs[0];
      auto m = input_of(*d, 1, Op::ReduceMax);
      if (!m) return std::nullopt;
      auto ax = one_axis_of(*m, x), ax2 = one_axis_of(*s, node(*s).inputs[0]);
      if (!ax || ax != ax2) return std::nullopt;
      return closed({Fusion::Kind::softmax, {*m, *d, *e, *s, i}, {}, {}, ref(x), *ax});
    }
    // subtract(x, log(sum(exp(x - safe))) + safe), safe = select(is_infinity(m), 0, m),
    // m = reduce_max(x): nx::log_softmax.
    if (out.op == Op::Subtract) {
      const Value& x = out.inputs[0];
      auto a = input_of(i, 1, Op::Add);
      if (!a) return std::nullopt;
      auto l = input_of(*a, 0, Op::Log), sel = input_of(*a, 1, Op::Select);
      if (!l || !sel) return std::nullopt;
      auto s = input_of(*l, 0, Op::Sum);
      auto inf = input_of(*sel, 0, Op::IsInfinity);
      auto m = input_of(*sel, 2, Op::ReduceMax);
      if (!s || !inf || !m || node(*inf).inputs[0].node.get() != &node(*m) || node(*sel).inputs[1].node->op != Op::Constant)
        return std::nullopt;
      auto e = input_of(*s, 0, Op::Exp);
      if (!e) return std::nullopt;
      auto d = input_of(*e, 0, Op::Subtract);
      if (!d || node(*d).inputs[0].node != x.node || node(*d).inputs[0].index != x.index ||
          node(*d).inputs[1].node.get() != &node(*sel))
        return std::nullopt;
      auto ax = one_axis_of(*m, x), ax2 = one_axis_of(*s, node(*s).inputs[0]);
      if (!ax || ax != ax2) return std::nullopt;
      std::vector<size_t> group{*m, *inf, *sel, *d, *e, *s, *l, *a, i};
      std::sort(group.begin(), group.end());
      return closed({Fusion::Kind::log_softmax, group, {}, {}, ref(x), *ax});
    }
    return std::nullopt;
  }

  // `f` if every node but its last is consumed only inside the group, and the types are f32.
  std::optional<Fusion> closed(Fusion f) const {
    std::sort(f.nodes.begin(), f.nodes.end());
    if (node(f.nodes.back()).outputs[0].dtype != DType::f32) return std::nullopt;
    for (size_t k = 0; k + 1 < f.nodes.size(); ++k)
      for (size_t c : consumers_[f.nodes[k]])
        if (!std::binary_search(f.nodes.begin(), f.nodes.end(), c)) return std::nullopt;
    return f;
  }

  const Graph& g_;
  std::unordered_map<const Node*, size_t> slot_;
  std::vector<std::vector<size_t>> consumers_;
};

}  // namespace

std::vector<Fusion> find_fusions(const Graph& g) { return Finder(g).all(); }

}  // namespace nx::onednn
