// The oneDNN backend: host buffers, nodes it maps to oneDNN primitives run there, the rest
// on the interp kernels (per node, so every graph runs).
#include "conv.hpp"
#include "matmul.hpp"
#include "nx/interp.hpp"
#include "nx/onednn.hpp"

namespace nx {
namespace onednn {
namespace {

class OnednnBackend : public Backend {
 public:
  std::string_view name() const override { return "onednn"; }
  BufferPtr allocate(size_t bytes) override { return std::make_shared<HostBuffer>(this, bytes); }
  std::vector<BufferPtr> execute(const Node& node, std::span<const Operand> inputs) override {
    if (node.op == Op::DotGeneral)
      if (auto r = matmul(node, inputs, *this)) return std::move(*r);
    if (node.op == Op::Conv)
      if (auto r = conv(node, inputs, *this)) return std::move(*r);
    return interp::evaluate(node, inputs, *this);
  }
  std::unique_ptr<Executable> compile(const Graph& graph, const CompileOptions&) override {
    return interp::node_by_node(graph, [this](const Node& n, std::span<const Operand> in) { return execute(n, in); });
  }
};

}  // namespace
}  // namespace onednn

void register_onednn_backend() {
  register_backend("onednn", [] { return std::make_unique<onednn::OnednnBackend>(); });
}

}  // namespace nx
