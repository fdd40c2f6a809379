// The oneDNN backend: host buffers; nodes it maps to oneDNN primitives run there, the rest
// on the interp kernels (per node, so every graph runs). Between nodes a value stays in the
// layout it was produced in (Held): transposes are views, convolutions keep oneDNN's
// blocked layouts, and a reorder to row-major happens only where a consumer needs it.
#include <mutex>
#include <unordered_map>
#include <unordered_set>

#include "kernels.hpp"
#include "nx/interp.hpp"
#include "nx/onednn.hpp"

namespace nx {
namespace onednn {
namespace {

std::mutex counts_mu;
std::map<std::string, int64_t> counts;

}  // namespace

void count(const std::string& kernel) {
  std::lock_guard lock(counts_mu);
  ++counts[kernel];
}

std::map<std::string, int64_t> kernel_counts() {
  std::lock_guard lock(counts_mu);
  return counts;
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

std::optional<HeldValues> run_primitive(const Node& n, std::span<const Input> in, Backend& be, const Hints& hints) {
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
  if (n.op != Op::Constant && n.op != Op::Reshape) count("interp:" + std::string(op_name(n.op)));
  std::vector<BufferPtr> outs = interp::evaluate(n, ops, be);
  HeldValues held;
  for (size_t i = 0; i < outs.size(); ++i) held.push_back(plain(n.outputs[i], std::move(outs[i])));
  return held;
}

std::optional<dnnl::algorithm> activation_of(Op op) {
  if (op == Op::Tanh) return dnnl::algorithm::eltwise_tanh;
  if (op == Op::Sigmoid) return dnnl::algorithm::eltwise_logistic;
  return std::nullopt;  // relu is max(x, 0): oneDNN's drops NaN, so it stays unfused
}

class Compiled : public Executable {
 public:
  Compiled(Graph g, Backend& be) : graph_(std::move(g)), be_(be) {
    size_t count = graph_.nodes.size();
    std::unordered_map<const Node*, size_t> slot;
    for (size_t i = 0; i < count; ++i) slot[graph_.nodes[i].get()] = i;
    auto ref = [&](const Value& v) { return Ref{slot.at(v.node.get()), static_cast<size_t>(v.index)}; };
    std::vector<std::vector<size_t>> consumers(count);
    for (size_t i = 0; i < count; ++i) {
      std::vector<Ref> refs;
      for (const Value& v : graph_.nodes[i]->inputs) refs.push_back(ref(v)), consumers[refs.back().node].push_back(i);
      inputs_.push_back(std::move(refs));
      hints_.push_back(hints_for(*graph_.nodes[i]));
    }
    for (const Value& v : graph_.outputs) outputs_.push_back(ref(v)), consumers[outputs_.back().node].push_back(count);
    fusions_.resize(count);
    std::vector<size_t> done_at(count);  // where a node's inputs are last needed: its own step, or its chain's end
    for (size_t i = 0; i < count; ++i) done_at[i] = i;
    for (size_t i = 0; i < count; ++i)
      if (auto f = fuse_from(i, consumers, ref)) {
        for (size_t c : f->chain) done_at[c] = f->chain.back();
        for (size_t k = 0; k + 1 < f->chain.size(); ++k) absorbed_.insert(f->chain[k]);
        fusions_[f->chain.back()] = std::move(*f);
      }
    last_use_.assign(count, 0);
    for (size_t i = 0; i < count; ++i)
      for (const Ref& r : inputs_[i]) last_use_[r.node] = std::max(last_use_[r.node], done_at[i]);
    for (const Ref& r : outputs_) last_use_[r.node] = count;
  }

  std::vector<BufferPtr> run(std::span<const BufferPtr> inputs) const override {
    if (inputs.size() != graph_.params.size())
      throw ValueError("run", "expected " + std::to_string(graph_.params.size()) + " inputs, got " +
                                  std::to_string(inputs.size()));
    std::vector<HeldValues> values(graph_.nodes.size());
    for (size_t i = 0; i < graph_.nodes.size(); ++i) {
      const Node& n = *graph_.nodes[i];
      if (n.op == Op::Parameter) {
        values[i] = {plain(n.outputs[0], inputs[static_cast<size_t>(n.param_index)])};
      } else if (!absorbed_.count(i)) {
        values[i] = fusions_[i] ? run_fused(*fusions_[i], values) : run_step(i, values);
        for (size_t c : fusions_[i] ? fusions_[i]->chain : std::vector<size_t>{i})
          for (const Ref& r : inputs_[c])
            if (last_use_[r.node] == i) values[r.node].clear();
      }
    }
    std::vector<BufferPtr> out;
    for (const Ref& r : outputs_) out.push_back(materialize(values[r.node][r.index], type_of(r), be_));
    return out;
  }

 private:
  struct Ref {
    size_t node, index;
  };
  // A matmul or convolution with the nodes after it that run as its post-ops.
  struct Fusion {
    std::vector<size_t> chain;  // the root, then the add and/or activation
    std::optional<Ref> addend;
    std::optional<dnnl::algorithm> activation;
  };

  // The chain root -> [add(root, addend)] -> [tanh | sigmoid], when each link's only
  // consumer is the next.
  template <class RefOf>
  std::optional<Fusion> fuse_from(size_t i, const std::vector<std::vector<size_t>>& consumers, const RefOf& ref) const {
    const Node& root = *graph_.nodes[i];
    if ((root.op != Op::Conv && root.op != Op::DotGeneral) || root.outputs[0].dtype != DType::f32) return std::nullopt;
    Fusion f{{i}, {}, {}};
    auto next = [&]() -> const Node* {
      const auto& c = consumers[f.chain.back()];
      return c.size() == 1 && c[0] < graph_.nodes.size() ? graph_.nodes[c[0]].get() : nullptr;
    };
    const Node* c = next();
    if (c && c->op == Op::Add && c->outputs[0] == root.outputs[0]) {
      const Value& other = c->inputs[c->inputs[0].node.get() == &root ? 1 : 0];
      if (other.node.get() != &root && other.type().dtype == DType::f32) {
        f.addend = ref(other);
        f.chain.push_back(consumers[i][0]);
        c = next();
      }
    }
    if (c && activation_of(c->op)) {
      f.activation = activation_of(c->op);
      f.chain.push_back(consumers[f.chain.back()][0]);
    }
    if (f.chain.size() == 1) return std::nullopt;
    return f;
  }

  const TensorType& type_of(const Ref& r) const { return graph_.nodes[r.node]->outputs[r.index]; }

  HeldValues run_step(size_t i, const std::vector<HeldValues>& values) const {
    std::vector<Input> in;
    for (const Ref& r : inputs_[i]) in.push_back({type_of(r), values[r.node][r.index]});
    return run_node(*graph_.nodes[i], in, be_, hints_[i]);
  }

  // The chain as one primitive with post-ops, or node by node where oneDNN has none.
  HeldValues run_fused(const Fusion& f, std::vector<HeldValues>& values) const {
    size_t root = f.chain[0];
    std::vector<Input> in;
    for (const Ref& r : inputs_[root]) in.push_back({type_of(r), values[r.node][r.index]});
    PostOps post;
    if (f.addend) post.addend = Input{type_of(*f.addend), values[f.addend->node][f.addend->index]};
    post.activation = f.activation;
    const Node& n = *graph_.nodes[root];
    auto fused = n.op == Op::Conv ? conv(n, in, be_, hints_[root].flipped_kernel, post) : matmul(n, in, be_, post);
    if (fused) return std::move(*fused);
    for (size_t k = 0; k + 1 < f.chain.size(); ++k) values[f.chain[k]] = run_step(f.chain[k], values);
    return run_step(f.chain.back(), values);
  }

  Graph graph_;
  Backend& be_;
  std::vector<std::vector<Ref>> inputs_;
  std::vector<Hints> hints_;
  std::vector<std::optional<Fusion>> fusions_;  // by the chain's last node
  std::unordered_set<size_t> absorbed_;         // nodes inside a chain, run by its last node
  std::vector<Ref> outputs_;
  std::vector<size_t> last_use_;
};

class OnednnBackend : public Backend {
 public:
  std::string_view name() const override { return "onednn"; }
  BufferPtr allocate(size_t bytes) override { return std::make_shared<HostBuffer>(this, bytes); }
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

}  // namespace nx
