// The reference backend, registered under the name "interp". Other host backends reuse
// its kernels for the nodes they do not handle themselves.
#pragma once
#include <span>
#include <vector>

#include "nx/backend.hpp"

namespace nx {
void register_interp_backend();

namespace interp {
// The reference result of one node, in buffers allocated from `be` (a host backend).
std::vector<BufferPtr> evaluate(const Node& node, std::span<const Operand> inputs, Backend& be);
}  // namespace interp
}  // namespace nx
