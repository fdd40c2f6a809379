// Internals shared by the core, the backends and the jit templates. Not for users.
#pragma once
#include <functional>
#include <memory>
#include <span>
#include <vector>

#include "nx/backend.hpp"
#include "nx/graph.hpp"
#include "nx/ops.hpp"
#include "nx/tensor.hpp"

namespace nx {

struct TensorImpl {
  TensorType type;
  bool weak = false;
  BufferPtr buffer;  // concrete tensors
  bool donated = false;  // its buffer went to a jitted call (JitOptions::donate)
  Value value;       // traced tensors
};

namespace detail {

// Runs `op` on `inputs` now (all concrete) or records a node (any input traced).
// `outputs` are the already-inferred result types.
std::vector<Tensor> apply(Op op, Attrs attrs, std::span<const Tensor> inputs,
                          std::vector<TensorType> outputs, Where where, bool weak = false);
Tensor apply1(Op op, Attrs attrs, std::span<const Tensor> inputs, TensorType output, Where where,
              bool weak = false);
// An elementwise op (OpKind Unary or Binary) on operands of its input dtype: no Attrs to
// build, no copies of the tensors, and eagerly their buffers are only borrowed.
Tensor apply_elementwise(Op op, const Tensor& x, TensorType output, Where where, bool weak);
Tensor apply_elementwise(Op op, const Tensor& a, const Tensor& b, TensorType output, Where where, bool weak);
inline Tensor apply1(Op op, Attrs attrs, std::initializer_list<Tensor> inputs, TensorType output,
                     Where where, bool weak = false) {
  return apply1(op, std::move(attrs), std::span<const Tensor>(inputs.begin(), inputs.size()),
                std::move(output), where, weak);
}

// The buffer of concrete `t`, copied to `be` when `be` cannot read it where it lies.
BufferPtr buffer_on(const Tensor& t, Backend& be);
Tensor make_concrete(TensorType type, BufferPtr buffer, bool weak = false);
Tensor make_traced(Value value, bool weak = false);
// A tensor over host memory owned elsewhere, without a copy when the default backend reads
// host memory and `data` is aligned for the dtype (else copied). `keep` keeps it alive.
Tensor adopt_host(TensorType type, const void* data, std::shared_ptr<void> keep);

// A trace in progress. Nested traces (while/cond bodies) capture values of outer traces
// as extra parameters through `capture`.
struct Trace {
  int id = 0;
  std::vector<std::shared_ptr<const Node>> params;
  // Outer values used inside this trace, and the parameter standing for each.
  std::vector<Value> captured_outer;
  std::vector<Value> captured_param;
  // Host callbacks (debug_print): jit keeps them as hidden outputs, so they run even when
  // no result depends on them (a print inside a loss that grad differentiates).
  std::vector<Value> effects;
};
// Pushes a fresh trace for the current thread; pops it on destruction.
class TraceScope {
 public:
  TraceScope();
  ~TraceScope();
  TraceScope(const TraceScope&) = delete;
  TraceScope& operator=(const TraceScope&) = delete;
  Trace& trace() { return *trace_; }
  // A new parameter of this trace.
  Tensor parameter(const TensorType& type, bool weak);

 private:
  std::unique_ptr<Trace> trace_;
};
Trace* current_trace();
// The value standing for `t` in `trace`: its node, a new constant, or a captured outer value.
Value value_in_trace(const Tensor& t, Trace& trace, Where where);  // null when not tracing

// A node for a concrete tensor inside a trace.
Value constant_value(const Tensor& t);

// Elementwise conversion between dtypes (float -> int truncates, NaN -> 0, saturates).
void convert(const void* src, DType from, void* dst, DType to, int64_t n);

// Normalises a possibly negative axis; throws AxisError naming `op`.
int normalize_axis(int axis, int rank, const char* op, Where where);
std::vector<int64_t> normalize_axes(const Axes& axes, int rank, const char* op, Where where);
std::string shapes_str(std::span<const Tensor> ts);
// Full index tuples (shape indices.shape + [rank]) for gather/indexed_add: `indices`
// along `axis`, each element's own position on the other axes.
Tensor along_axis_index(const Tensor& indices, int axis, Where where);
// slice with XLA's `limit` form: `extents` span the input (stride 2 over extent 5 reads 3
// elements); the public slice takes output lengths. For gradient rules and indexing.
Tensor slice_extents(const Tensor& x, std::vector<int64_t> starts, std::vector<int64_t> extents,
                     std::vector<int64_t> strides, Where where);
// x with its last two axes swapped (the matrix transpose of a batch of matrices).
Tensor swap_last_two(const Tensor& x, Where where);

}  // namespace detail
}  // namespace nx
