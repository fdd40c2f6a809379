// Fusion groups for the compiling backends (llvm, cuda): elementwise nodes over one iteration space (the
// same result shape) merged into one kernel, with the reductions of that space over its
// trailing axes (per row: softmax's max and sum, and what follows them), its leading
// axes (per column: a bias gradient) or all of it. Inputs from outside may be scalars,
// or rows or columns of a (rows, cols) view of the shape (a bias, a keep-axes
// reduction). Every node that is not fused gets a named reason, printable for debugging
// (describe()).
#pragma once
#include <span>
#include <string>
#include <vector>

#include "nx/backend.hpp"
#include "nx/detail/fusion/kernel_spec.hpp"
#include "nx/graph.hpp"

namespace nx::fusion {

// A value by its producer's position in Graph::nodes and its output index.
struct ValueRef {
  size_t node, index;
};

struct Group {
  std::vector<size_t> nodes;         // topological; the group runs at the last one
  std::vector<ValueRef> inputs;      // KernelSpec input k reads inputs[k]
  std::vector<size_t> outputs;       // member nodes whose values leave the group
  KernelSpec spec;
  Shape shape;                       // the iteration space (a reduction's operand shape)
  bool broadcasts = false;           // some member reads a row or a column of a value
  int split_lo = 1, split_hi = 0;    // feasible k for a (rows, cols) = (dims < k, dims >= k) view
  int64_t rows = 0, cols = 1;        // the view the kernel runs on when spec.two_d (all: 1, size)
};

struct Partition {
  std::vector<Group> groups;
  std::vector<int> group_of;         // per node: its group, or -1
  std::vector<std::string> refusal;  // per node not fused: why
  std::string describe(const Graph& g) const;
};

// How a backend runs a partitioned graph step by step (a group runs at its last member):
// where each node's values come from, which nodes outside kernels run, and the last step
// that reads each node's values (after it, their buffers can go).
struct Schedule {
  std::vector<std::vector<ValueRef>> inputs;  // per node: the values it reads
  std::vector<ValueRef> outputs;               // the graph's
  std::vector<size_t> first;      // per node: where its outputs start in a run's values (and the total)
  std::vector<bool> needed;       // per node outside kernels: a kernel, a node that runs or the caller reads it
  std::vector<size_t> last_use;   // per node: the last step reading it (nodes.size(): the caller)
  explicit Schedule(const Graph& g);  // inputs, outputs, first
  void plan(const Partition& p);      // needed, last_use: after any rewrite of `inputs`

  // Over a run's values (node i's outputs from first[i]): node i's operands; dropping
  // the values `reads` name whose last use is `step`; the graph's results.
  std::vector<Operand> operands(const Graph& g, size_t node, const std::vector<BufferPtr>& values) const;
  void release(std::span<const ValueRef> reads, size_t step, std::vector<BufferPtr>& values) const;
  std::vector<BufferPtr> results(const std::vector<BufferPtr>& values) const;
};

// A graph of one node reading parameters of these types (the node is its last): how a
// backend runs an eager op through the path compiled graphs take.
Graph single_node_graph(const Node& node, std::span<const TensorType> inputs);

// Caps the work one kernel does (and its compile time).
constexpr size_t kMaxGroupNodes = 64;
// Flat elementwise kernels writing this much bypass the cache (non-temporal stores): the
// outputs would not fit in it, and reading a line before overwriting it costs bandwidth.
constexpr size_t kStreamBytes = size_t{32} << 20;
// Rows up to this long keep values between passes in a stack buffer (at most four).
constexpr int64_t kScratchCols = 8192;

// `kept_out` (per node, may be empty): nodes that stay outside kernels whatever they are
// (a transpose another backend reads as a strided view).
// `caps`: what the backend's kernels compute.
Partition partition(const Graph& g, const std::vector<bool>& kept_out = {}, const KernelCaps& caps = {});

// The shape ops kernels read through index maps (which are specialised to shapes).
inline bool is_view_op(Op op) {
  return op == Op::Reshape || op == Op::Transpose || op == Op::Slice || op == Op::Pad || op == Op::Concatenate ||
         op == Op::Reverse || op == Op::Iota || op == Op::PutSlice;
}

}  // namespace nx::fusion
