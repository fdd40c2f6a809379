// The interp backend: plain reference kernels on the host; compile() walks the graph.
#include <cstdlib>
#include <cstring>
#include <functional>
#include <unordered_map>

#include "kernels.hpp"
#include "nx/interp.hpp"

namespace nx {

namespace interp {
namespace {

Outputs share_input(const Node&, std::span<const Operand> in, Backend&) { return {in[0].buffer}; }

Outputs dispatch(const Node& n, std::span<const Operand> in, Backend& be) {
  switch (op_kind(n.op)) {
    case OpKind::Unary: return eval_unary(n, in, be);
    case OpKind::Binary: return eval_binary(n, in, be);
    case OpKind::Reduce: return eval_reduce(n, in, be);
    case OpKind::Window: return eval_window(n, in, be);
    case OpKind::Linalg: return eval_linalg(n, in, be);
    case OpKind::Control: return eval_control(n, in, be);
    default: break;
  }
  switch (n.op) {
    case Op::Constant: return {n.constant};
    case Op::Iota: return eval_iota(n, in, be);
    case Op::Select: return eval_select(n, in, be);
    case Op::AsType: return eval_as_type(n, in, be);
    case Op::Bitcast:
    case Op::StopGrad:
    case Op::Reshape: return share_input(n, in, be);  // contiguous and immutable: no copy
    case Op::Argmax:
    case Op::Argmin: return eval_arg_reduce(n, in, be);
    case Op::CumulativeSum:
    case Op::CumulativeProduct:
    case Op::CumulativeMax:
    case Op::CumulativeMin: return eval_cumulative(n, in, be);
    case Op::Transpose: return eval_transpose(n, in, be);
    case Op::Broadcast: return eval_broadcast(n, in, be);
    case Op::Slice: return eval_slice(n, in, be);
    case Op::PutSlice: return eval_put_slice(n, in, be);
    case Op::Pad: return eval_pad(n, in, be);
    case Op::Concatenate: return eval_concatenate(n, in, be);
    case Op::Reverse: return eval_reverse(n, in, be);
    case Op::Gather: return eval_gather(n, in, be);
    case Op::IndexedAdd:
    case Op::IndexedPut: return eval_scatter(n, in, be);
    case Op::DotGeneral: return eval_dot_general(n, in, be);
    case Op::Conv: return eval_conv(n, in, be);
    case Op::WindowScatterMax:
    case Op::WindowScatterMin: return eval_window_scatter(n, in, be);
    case Op::Sort:
    case Op::Argsort:
    case Op::TopK: return eval_sort(n, in, be);
    case Op::RandomBits: return eval_random_bits(n, in, be);
    case Op::HostCallback: {  // calls the host function, then passes its first input through
      std::vector<BufferPtr> buffers;
      for (const Operand& o : in) buffers.push_back(o.buffer);
      (*n.attrs.callback)(buffers);
      return {in[0].buffer};
    }
    default: break;
  }
  throw Error(std::string(op_name(n.op)), "the interp backend cannot execute this op", n.where);
}

using NodeRunner = std::function<std::vector<BufferPtr>(const Node&, std::span<const Operand>)>;

// Runs a graph node by node; intermediate buffers are dropped after their last use.
class NodeByNode : public Executable {
 public:
  NodeByNode(Graph g, NodeRunner run) : graph_(std::move(g)), run_(std::move(run)) {
    for (size_t i = 0; i < graph_.nodes.size(); ++i) slot_[graph_.nodes[i].get()] = i;
    last_use_.assign(graph_.nodes.size(), 0);
    for (size_t i = 0; i < graph_.nodes.size(); ++i)
      for (const Value& v : graph_.nodes[i]->inputs) last_use_[slot_[v.node.get()]] = i;
    for (const Value& v : graph_.outputs) last_use_[slot_[v.node.get()]] = graph_.nodes.size();
  }

  std::vector<BufferPtr> run(std::span<const BufferPtr> inputs) const override {
    check_inputs(graph_, inputs);
    std::vector<std::vector<BufferPtr>> values(graph_.nodes.size());
    std::vector<Operand> ops;
    for (size_t i = 0; i < graph_.nodes.size(); ++i) {
      const Node& n = *graph_.nodes[i];
      if (n.op == Op::Parameter) {
        values[i] = {inputs[static_cast<size_t>(n.param_index)]};
        continue;
      }
      ops.clear();
      for (const Value& v : n.inputs)
        ops.push_back({v.type(), values[slot_.at(v.node.get())][static_cast<size_t>(v.index)]});
      values[i] = run_(n, ops);
      for (const Value& v : n.inputs) {
        size_t s = slot_.at(v.node.get());
        if (last_use_[s] == i) values[s].clear();
      }
    }
    std::vector<BufferPtr> out;
    for (const Value& v : graph_.outputs) out.push_back(values[slot_.at(v.node.get())][static_cast<size_t>(v.index)]);
    return out;
  }

 private:
  Graph graph_;
  NodeRunner run_;
  std::unordered_map<const Node*, size_t> slot_;
  std::vector<size_t> last_use_;
};

class InterpBackend : public Backend {
 public:
  std::string_view name() const override { return "interp"; }
  BufferPtr allocate(size_t bytes) override { return make_host_buffer(this, bytes); }
  std::vector<BufferPtr> execute(const Node& node, std::span<const Operand> inputs) override {
    return dispatch(node, inputs, *this);
  }
  BufferPtr execute1(const Node& node, std::span<const Operand> inputs) override {
    switch (op_kind(node.op)) {
      case OpKind::Unary: return eval_unary1(node, inputs, *this);
      case OpKind::Binary: return eval_binary1(node, inputs, *this);
      default: return std::move(dispatch(node, inputs, *this).at(0));
    }
  }
  std::unique_ptr<Executable> compile(const Graph& graph, const CompileOptions&) override {
    return std::make_unique<NodeByNode>(graph,
                                        [this](const Node& n, std::span<const Operand> in) { return dispatch(n, in, *this); });
  }
};

}  // namespace

std::vector<BufferPtr> evaluate(const Node& node, std::span<const Operand> inputs, Backend& be) {
  return dispatch(node, inputs, be);
}

}  // namespace interp

void register_interp_backend() {
  register_backend("interp", [] { return std::make_unique<interp::InterpBackend>(); });
}

// Registered when the program starts, whatever headers it includes: nxpp::nxpp's link
// options name this symbol (-u), so the linker keeps this object in every program.
extern "C" const bool nx_interp_backend_registered = (register_interp_backend(), true);

}  // namespace nx
