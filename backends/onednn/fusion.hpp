// Groups of graph nodes the oneDNN backend runs as one primitive: a matmul or convolution
// with an add and/or activation after it (post-ops), and the softmax / log_softmax
// composites (as nx builds them) as oneDNN's softmax primitives.
#pragma once
#include <oneapi/dnnl/dnnl.hpp>
#include <optional>
#include <vector>

#include "nx/graph.hpp"

namespace nx::onednn {

// A value by its producer's position in Graph::nodes and its output index.
struct ValueRef {
  size_t node, index;
};

struct Fusion {
  enum class Kind { post_ops, softmax, log_softmax } kind;
  std::vector<size_t> nodes;  // topological; the last one's value is the group's result
  // post_ops: nodes[0] is the matmul/convolution.
  std::optional<ValueRef> addend;
  std::optional<dnnl::algorithm> activation;
  // softmax, log_softmax: over `axis` of `input`.
  std::optional<ValueRef> input;
  int axis = 0;
};

// Every fusion in `g`, each group's inner values used only inside the group.
std::vector<Fusion> find_fusions(const Graph& g);

}  // namespace nx::onednn
