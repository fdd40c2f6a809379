// The expression graph: immutable nodes, each one primitive with its attributes,
// inputs and output types. A Graph is a list of parameters and output values.
#pragma once
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "nx/dtype.hpp"
#include "nx/error.hpp"
#include "nx/op.hpp"
#include "nx/shape.hpp"

namespace nx {

class Buffer;
struct Graph;
// A host function a HostCallback node calls with its input buffers (host memory) when the
// graph runs: nx::debug_print and nx::debug_callback.
using HostFn = std::function<void(const std::vector<std::shared_ptr<Buffer>>&)>;

struct TensorType {
  DType dtype = DType::f32;
  Shape shape;
  bool operator==(const TensorType& o) const { return dtype == o.dtype && shape == o.shape; }
  std::string str() const;  // "f32(2, 3)"
  // The bytes of a buffer of this type; throws ShapeError naming `op` when it does not fit
  // in a signed 64-bit size (so later size arithmetic cannot wrap).
  size_t bytes(const char* op = "tensor", Where where = Where::current()) const;
};

// Attributes of a primitive. Each op uses the fields it needs; the rest stay empty.
// (One flat struct keeps hashing, equality and printing generic.)
struct Attrs {
  std::vector<int64_t> axes;        // reduce axes, permutation, reverse/concat/sort axis
  std::vector<int64_t> starts;      // slice/put_slice start indices
  std::vector<int64_t> lengths;     // slice lengths
  std::vector<int64_t> strides;     // slice, conv and window strides
  std::vector<int64_t> lo, hi;      // pad / conv / window padding (may be negative for pad)
  std::vector<int64_t> interior;    // pad interior
  std::vector<int64_t> window;      // window dimensions
  std::vector<int64_t> lhs_dilation, rhs_dilation;  // conv/window dilations
  std::vector<int64_t> lhs_contract, rhs_contract, lhs_batch, rhs_batch;  // dot_general
  int64_t k = 0;                    // top_k k; conv feature groups; iota axis; eigh: the largest kept (0: all)
  int64_t k2 = 0;                   // conv batch groups
  bool keep_axes = false;
  bool flag = false;                // reverse (cumulative), descending (sort), last index on ties
                                    // (argmax), lower (triangular_solve), complete (qr),
                                    // full_matrices (svd)
  bool flag2 = false;               // left_side (triangular_solve)
  bool flag3 = false;               // transpose_a (triangular_solve)
  std::vector<std::shared_ptr<const Graph>> bodies;  // while: cond, body; cond: branches
  std::shared_ptr<const HostFn> callback;            // host_callback: compared by identity

  bool operator==(const Attrs& o) const;
  size_t hash() const;
  std::string str() const;  // only the non-empty fields
};

struct Node;
// One output of a node.
struct Value {
  std::shared_ptr<const Node> node;
  int index = 0;
  const TensorType& type() const;
  explicit operator bool() const { return node != nullptr; }
};

struct Node {
  Op op;
  Attrs attrs;
  std::vector<Value> inputs;
  std::vector<TensorType> outputs;
  std::shared_ptr<Buffer> constant;  // Constant: its host buffer
  int param_index = -1;              // Parameter: position in the graph's inputs
  int trace_id = 0;                  // the trace that recorded it
  Where where;                       // the user's line
  mutable size_t hash = 0;           // structural hash (set by Graph::finalize)
};

inline const TensorType& Value::type() const { return node->outputs[static_cast<size_t>(index)]; }

// A traced function: parameters in order, outputs, and every node in topological order.
struct Graph {
  std::vector<std::shared_ptr<const Node>> params;
  std::vector<Value> outputs;
  std::vector<std::shared_ptr<const Node>> nodes;  // topological; filled by finalize()

  // Collects reachable nodes in topological order and computes structural hashes.
  void finalize();
  size_t hash() const;            // structural: equal graphs hash equal
  std::string str() const;        // text form, one node a line
  std::string dot() const;        // Graphviz
  std::vector<TensorType> input_types() const;
  std::vector<TensorType> output_types() const;
};

// The structural hash of one node, from its op, attributes, types and inputs' hashes.
size_t node_hash(const Node& n);

// Optimisation passes; each returns a new graph.
Graph eliminate_common_subexpressions(const Graph& g);
Graph fold_constants(const Graph& g);
Graph simplify(const Graph& g);  // algebraic identities (x * 1 -> x)
// Reductions over leading and trailing axes around kept ones become two reductions (for
// backends whose kernels reduce rows and columns fast, and middle axes slowly).
Graph split_middle_reductions(const Graph& g);
Graph optimize(const Graph& g);  // constant folding + simplify + CSE + dead-code elimination

}  // namespace nx
