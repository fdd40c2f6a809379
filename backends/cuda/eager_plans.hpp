// Eager calls' plans: the one-node graph of an op over its operand types, that graph's
// fusion group (or none: the node runs outside kernels) and the group's loaded kernel,
// made once per (op, attributes, operand and result types). A repeated eager op then
// costs a hash and a lookup instead of building a graph, partitioning it and keying its
// kernel: on a GPU the host's time per op is what small eager ops cost.
#pragma once
#include <memory>
#include <span>

#include "kernels.hpp"
#include "nx/detail/fusion/partition.hpp"

namespace nx::cuda_backend {

struct EagerPlan {
  Op op;
  Attrs attrs;
  std::vector<TensorType> inputs, outputs;
  Graph graph;
  fusion::Partition part;
  int group = -1;  // the node's group in part, or -1
  std::shared_ptr<const LoadedKernel> kernel;
};

// The plan of `node` over operands of `types` (planned now if new; thread-safe).
std::shared_ptr<const EagerPlan> eager_plan(const Node& node, std::span<const TensorType> types);

}  // namespace nx::cuda_backend
