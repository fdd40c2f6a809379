// The reference backend, registered under the name "interp". Other host backends reuse
// its kernels for the nodes they do not handle themselves, and its graph walker.
#pragma once
#include <functional>
#include <memory>
#include <span>
#include <vector>

#include "nx/backend.hpp"

namespace nx {
void register_interp_backend();

namespace interp {
// The reference result of one node, in buffers allocated from `be` (a host backend).
std::vector<BufferPtr> evaluate(const Node& node, std::span<const Operand> inputs, Backend& be);

using NodeRunner = std::function<std::vector<BufferPtr>(const Node&, std::span<const Operand>)>;
// An executable that runs `graph` node by node with `run`, dropping each intermediate
// buffer after its last use.
std::unique_ptr<Executable> node_by_node(Graph graph, NodeRunner run);
}  // namespace interp
}  // namespace nx
