// The oneDNN backend: host buffers; nodes it maps to oneDNN primitives run there, the rest
// on the interp kernels (per node, so every graph runs). Between nodes a value stays in the
// layout it was produced in (Held): transposes are views, convolutions keep oneDNN's
// blocked layouts, and a reorder to row-major happens only where a consumer needs it.
#include <mutex>
#include <unordered_map>
#include <unordered_set>

#include "fusion.hpp"
#include "kernels.hpp"
#include "nx/interp.hpp"
#include "nx/onednn.hpp"

namespace nx {
namespace onednn {
namespace {

std::mutex counts_mu;
std::map<std::string, int64_t, std::less<>> counts;

}  // namespace

void count(std::string_view kernel) {
  std::lock_guard lock(counts_mu);
  auto it = counts.find(kernel);  // no allocation once the kernel has been seen
  if (it == counts.end()) it = counts.emplace(std::string(kernel), 0).first;
  ++it->second;
}

std::map<std::string, int64_t> kernel_counts() {
  std::lock_guard lock(counts_mu);
  return {counts.begin(), counts.end()};
}

void reset_kernel_counts() {
  std::lock_guard lock(counts_mu);
  counts.clear();
}

namespace {

// A transpose of a strided or blocked value is the same memory with its axes permuted.
std::optional<HeldValues> transpose_view(const Node& n, const Input& x) {
  if (x.held.desc.is_zero() || x.type.shape.size() == 0) return std::nullopt;
  std::vector<int> to(n.attrs.axes.size());  // input axis perm[i] becomes axis i
  for (size_t i = 0; i < to.size(); ++i) to[static_cast<size_t>(n.attrs.axes[i])] = static_cast<int>(i);
  count("transpose_view");
  return HeldValues{{x.held.buffer, x.held.desc.permute_axes(to)}};
}

// What the graph around a node tells its kernel.
struct Hints {
  bool flipped_kernel = false;  // conv: the kernel is a reverse over its spatial axes
};

Hints hints_for(const Node& n) {
  Hints h;
  if (n.op == Op::Conv) {
    const Node& k = *n.inputs[1].node;
    std::vector<int64_t> spatial;
    for (int64_t i = 2; i < k.outputs[0].shape.rank(); ++i) spatial.push_back(i);
    h.flipped_kernel = k.op == Op::Reverse && k.attrs.axes == spatial;
  }
  return h;
}

// A oneDNN failure while running (a layout it cannot reorder, its own allocation) means
// "no primitive here": the caller falls back, and no dnnl::error reaches the user.
template <class F> std::optional<HeldValues> guarded(F&& f) {
  try {
    return f();
  } catch (const dnnl::error&) {
    return std::nullopt;
  }
}

std::optional<HeldValues> dispatch_primitive(const Node& n, std::span<const Input> in, Backend& be, const Hints& hints) {
  switch (n.op) {
    case Op::DotGeneral: return matmul(n, in, be);
    case Op::Conv: return conv(n, in, be, hints.flipped_kernel);
    case Op::Transpose: return transpose_view(n, in[0]);
    case Op::Sum: return reduce(n, in, be);
    case Op::WindowMax:
    case Op::WindowSum: return pool(n, in, be);
    case Op::WindowScatterMax: return pool_backward(n, in, be);
    default: break;
  }
  switch (op_kind(n.op)) {
    case OpKind::Unary: return unary(n, in, be);
    case OpKind::Binary: return binary(n, in, be);
    default: return std::nullopt;
  }
}

std::optional<HeldValues> run_primitive(const Node& n, std::span<const Input> in, Backend& be, const Hints& hints) {
  return guarded([&] { return dispatch_primitive(n, in, be, hints); });
}

// "interp:<op>", built once per op.
std::string_view interp_name(Op op) {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> v;
    for (int i = 0; i < num_ops(); ++i) v.push_back("interp:" + std::string(op_name(static_cast<Op>(i))));
    return v;
  }();
  return names[static_cast<size_t>(op)];
}

// One node: as a oneDNN primitive on the held layouts, else on row-major copies, else on
// the interp kernel.
HeldValues run_node(const Node& n, std::vector<Input>& in, Backend& be, const Hints& hints = {}) {
  if (auto r = run_primitive(n, in, be, hints)) return std::move(*r);
  bool reordered = false;
  for (Input& x : in)
    if (!is_row_major(x.held, x.type)) {
      x.held = plain(x.type, materialize(x.held, x.type, be));
      reordered = true;
    }
  if (reordered)
    if (auto r = run_primitive(n, in, be, hints)) return std::move(*r);
  std::vector<Operand> ops;
  for (const Input& x : in) ops.push_back({x.type, x.held.buffer});
  if (n.op != Op::Constant && n.op != Op::Reshape) count(interp_name(n.op));
  std::vector<BufferPtr> outs = interp::evaluate(n, ops, be);
  HeldValues held;
  for (size_t i = 0; i < outs.size(); ++i) held.push_back(plain(n.outputs[i], std::move(outs[i])));
  return held;
}

class Compiled : public Executable {
 public:
  Compiled(Graph g, Backend& be) : graph_(std::move(g)), be_(be) {
    size_t count = graph_.nodes.size();
    std::unordered_map<const Node*, size_t> slot;
    for (size_t i = 0; i < count; ++i) slot[graph_.nodes[i].get()] = i;
    auto ref = [&](const Value& v) { return ValueRef{slot.at(v.node.get()), static_cast<size_t>(v.index)}; };
    for (size_t i = 0; i < count; ++i) {
      std::vector<ValueRef> refs;
      for (const Value& v : graph_.nodes[i]->inputs) refs.push_back(ref(v));
      inputs_.push_back(std::move(refs));
      hints_.push_back(hints_for(*graph_.nodes[i]));
    }
    for (const Value& v : graph_.outputs) outputs_.push_back(ref(v));
    fusions_.resize(count);
    std::vector<size_t> done_at(count);  // where a node's inputs are last needed: its own step, or its group's end
    for (size_t i = 0; i < count; ++i) done_at[i] = i;
    for (Fusion& f : find_fusions(graph_)) {
      for (size_t n : f.nodes) done_at[n] = f.nodes.back();
      for (size_t k = 0; k + 1 < f.nodes.size(); ++k) absorbed_.insert(f.nodes[k]);
      fusions_[f.nodes.back()] = std::move(f);
    }
    last_use_.assign(count, 0);
    for (size_t i = 0; i < count; ++i)
      for (const ValueRef& r : inputs_[i]) last_use_[r.node] = std::max(last_use_[r.node], done_at[i]);
    for (const ValueRef& r : outputs_) last_use_[r.node] = count;
  }

  std::vector<BufferPtr> run(std::span<const BufferPtr> inputs) const override {
    check_inputs(graph_, inputs);
    std::vector<HeldValues> values(graph_.nodes.size());
    for (size_t i = 0; i < graph_.nodes.size(); ++i) {
      const Node& n = *graph_.nodes[i];
      if (n.op == Op::Parameter) {
        values[i] = {plain(n.outputs[0], inputs[static_cast<size_t>(n.param_index)])};
      } else if (!absorbed_.count(i)) {
        values[i] = fusions_[i] ? run_fused(*fusions_[i], values) : run_step(i, values);
        for (size_t c : fusions_[i] ? fusions_[i]->nodes : std::vector<size_t>{i})
          for (const ValueRef& r : inputs_[c])
            if (last_use_[r.node] == i) values[r.node].clear();
      }
    }
    std::vector<BufferPtr> out;
    for (const ValueRef& r : outputs_) out.push_back(materialize(values[r.node][r.index], type_of(r), be_));
    return out;
  }

 private:
  const TensorType& type_of(const ValueRef& r) const { return graph_.nodes[r.node]->outputs[r.index]; }
  Input input(const ValueRef& r, const std::vector<HeldValues>& values) const {
    return {type_of(r), values[r.node][r.index]};
  }

  HeldValues run_step(size_t i, const std::vector<HeldValues>& values) const {
    std::vector<Input> in;
    for (const ValueRef& r : inputs_[i]) in.push_back(input(r, values));
    return run_node(*graph_.nodes[i], in, be_, hints_[i]);
  }

  // The group as one primitive, or node by node where oneDNN has none (or, for softmax,
  // the input is not finite).
  HeldValues run_fused(const Fusion& f, std::vector<HeldValues>& values) const {
    std::optional<HeldValues> fused;
    if (f.kind == Fusion::Kind::post_ops) {
      size_t root = f.nodes[0];
      std::vector<Input> in;
      for (const ValueRef& r : inputs_[root]) in.push_back(input(r, values));
      PostOps post;
      if (f.addend) post.addend = input(*f.addend, values);
      post.activation = f.activation;
      const Node& n = *graph_.nodes[root];
      fused = guarded([&] {
        return n.op == Op::Conv ? conv(n, in, be_, hints_[root].flipped_kernel, post) : matmul(n, in, be_, post);
      });
    } else {
      fused = guarded([&] { return softmax(input(*f.input, values), f.axis, f.kind == Fusion::Kind::log_softmax, be_); });
    }
    if (fused) return std::move(*fused);
    for (size_t k = 0; k + 1 < f.nodes.size(); ++k) values[f.nodes[k]] = run_step(f.nodes[k], values);
    return run_step(f.nodes.back(), values);
  }

  Graph graph_;
  Backend& be_;
  std::vector<std::vector<ValueRef>> inputs_;
  std::vector<Hints> hints_;
  std::vector<std::optional<Fusion>> fusions_;  // by the group's last node
  std::unordered_set<size_t> absorbed_;         // nodes inside a group, run by its last node
  std::vector<ValueRef> outputs_;
  std::vector<size_t> last_use_;
};

class OnednnBackend : public Backend {
 public:
  std::string_view name() const override { return "onednn"; }
  BufferPtr allocate(size_t bytes) override { return make_host_buffer(this, bytes); }
  std::vector<BufferPtr> execute(const Node& node, std::span<const Operand> inputs) override {
    std::vector<Input> in;
    for (const Operand& x : inputs) in.push_back({x.type, plain(x.type, x.buffer)});
    HeldValues held = run_node(node, in, *this);
    std::vector<BufferPtr> out;
    for (size_t i = 0; i < held.size(); ++i) out.push_back(materialize(held[i], node.outputs[i], *this));
    return out;
  }
  std::unique_ptr<Executable> compile(const Graph& graph, const CompileOptions&) override {
    return std::make_unique<Compiled>(graph, *this);
  }
};

}  // namespace
}  // namespace onednn

void register_onednn_backend() {
  register_backend("onednn", [] { return std::make_unique<onednn::OnednnBackend>(); });
}

// Registered when the program starts, whatever headers it includes: nxpp::nxpp's link
// options name this symbol (-u), so the linker keeps this object in every program.
extern "C" const bool nx_onednn_backend_registered = (register_onednn_backend(), true);

}  // namespace nx
