// Eager execution or graph recording for every primitive, and the backend registry.
#include <algorithm>
#include <array>
#include <atomic>
#include <cstdlib>
#include <map>
#include <mutex>
#include <optional>
#include <utility>

#include "host_pool.hpp"
#include "nx/detail/core.hpp"

namespace nx {
namespace detail {
namespace {

thread_local std::vector<Trace*> g_traces;
std::atomic<int> g_next_trace_id{1};

}  // namespace

// The graph value of `t` inside the current trace: its node, a constant, or a capture.
Value value_in_trace(const Tensor& t, Trace& trace, Where where) {
  if (!t.is_traced()) return constant_value(t);
  const Value& v = t.impl()->value;
  if (v.node->trace_id == trace.id) return v;
  // A value of an enclosing trace: becomes a parameter of this one.
  for (size_t i = 0; i < trace.captured_outer.size(); ++i) {
    const Value& c = trace.captured_outer[i];
    if (c.node == v.node && c.index == v.index) return trace.captured_param[i];
  }
  bool outer = false;
  for (Trace* t2 : g_traces) outer |= (t2->id == v.node->trace_id && t2 != &trace);
  if (!outer)
    throw ValueError(std::string(op_name(v.node->op)),
                     "a traced tensor is used outside the nx::jit trace that made it", where);
  auto p = std::make_shared<Node>();
  p->op = Op::Parameter;
  p->outputs = {v.type()};
  p->param_index = static_cast<int>(trace.params.size());
  p->trace_id = trace.id;
  p->where = where;
  trace.params.push_back(p);
  Value pv{p, 0};
  trace.captured_outer.push_back(v);
  trace.captured_param.push_back(pv);
  return pv;
}

Trace* current_trace() { return g_traces.empty() ? nullptr : g_traces.back(); }

TraceScope::TraceScope() : trace_(std::make_unique<Trace>()) {
  trace_->id = g_next_trace_id++;
  g_traces.push_back(trace_.get());
}
TraceScope::~TraceScope() { g_traces.pop_back(); }

Tensor TraceScope::parameter(const TensorType& type, bool weak) {
  auto p = std::make_shared<Node>();
  p->op = Op::Parameter;
  p->outputs = {type};
  p->param_index = static_cast<int>(trace_->params.size());
  p->trace_id = trace_->id;
  trace_->params.push_back(p);
  return make_traced(Value{p, 0}, weak);
}

Value constant_value(const Tensor& t) {
  auto c = std::make_shared<Node>();
  c->op = Op::Constant;
  c->outputs = {t.impl()->type};
  // Graph constants are host memory (hashed, compared and folded on the host; a device
  // backend uploads them when it compiles): a tensor on a device is copied back.
  c->constant = t.buffer();
  if (!c->constant->owner()->host_accessible()) {
    std::vector<std::byte> host(c->constant->bytes());
    c->constant->owner()->to_host(*c->constant, host.data(), host.size());
    c->constant = backend("interp").from_host(host.data(), host.size());
  }
  c->trace_id = current_trace() ? current_trace()->id : 0;
  return Value{c, 0};
}

namespace {
std::shared_ptr<TensorImpl> new_impl() { return std::allocate_shared<TensorImpl>(SmallObjectAllocator<TensorImpl>()); }
}  // namespace

Tensor make_concrete(TensorType type, BufferPtr buffer, bool weak) {
  auto impl = new_impl();
  impl->type = std::move(type);
  impl->weak = weak;
  impl->buffer = std::move(buffer);
  return Tensor(std::move(impl));
}

Tensor adopt_host(TensorType type, const void* data, std::shared_ptr<void> keep) {
  Backend& be = default_backend();
  size_t bytes = type.bytes("adopt");
  bool aligned = reinterpret_cast<uintptr_t>(data) % static_cast<uintptr_t>(item_size(type.dtype)) == 0;
  if (!be.host_accessible() || !aligned || bytes == 0) return make_concrete(type, be.from_host(data, bytes));
  // Buffers are immutable: the const_cast never leads to a write.
  auto buffer = std::make_shared<ForeignHostBuffer>(&be, const_cast<void*>(data), bytes, std::move(keep));
  return make_concrete(std::move(type), std::move(buffer));
}

Tensor make_traced(Value value, bool weak) {
  auto impl = new_impl();
  impl->type = value.type();
  impl->weak = weak;
  impl->value = std::move(value);
  return Tensor(std::move(impl));
}

namespace {

// Whether the op is recorded into a trace (inside one, or on a traced input); checks the
// inputs and the outputs' sizes.
bool recorded(Op op, std::span<const Tensor> inputs, std::span<const TensorType> outputs, Where where) {
  bool traced = current_trace() != nullptr;
  for (const Tensor& t : inputs) {
    if (!t.defined()) throw ValueError(std::string(op_name(op)), "an input tensor is undefined", where);
    traced |= t.is_traced();
  }
  for (const TensorType& t : outputs) t.bytes(op_name(op).data(), where);
  if (traced && !current_trace())
    throw ValueError(std::string(op_name(op)), "a traced tensor is used outside the nx::jit trace that made it", where);
  return traced;
}

// Records `node` (given its op, attributes, outputs, place) into the current trace.
std::shared_ptr<Node> record(Node&& node, std::span<const Tensor> inputs) {
  Trace& trace = *current_trace();
  auto n = std::make_shared<Node>(std::move(node));
  n->inputs.reserve(inputs.size());
  for (const Tensor& t : inputs) n->inputs.push_back(value_in_trace(t, trace, n->where));
  n->trace_id = trace.id;
  return n;
}

// Runs `node` on the default backend now, with the operands of the common small counts
// built straight into an array on the stack: the fixed cost of a small eager op is mostly
// such bookkeeping. `Run` is Backend::execute or execute1.
//
// An op runs where an operand lives on a device (a backend whose memory the CPU cannot
// read: the result stays there, as in PyTorch), else on the default backend.
Backend* device_owner(const Tensor& t) {
  const auto& impl = t.impl();
  if (!impl || !impl->buffer) return nullptr;
  Backend* owner = impl->buffer->owner();
  return owner->host_accessible() ? nullptr : owner;
}
Backend& eager_backend(std::span<const Tensor> inputs) {
  for (const Tensor& t : inputs)
    if (Backend* b = device_owner(t)) return *b;
  return default_backend();
}
template <size_t... I, class Run>
auto run_few(Backend& be, const Node& node, std::span<const Tensor> in, std::index_sequence<I...>, Run run) {
  std::array<Operand, sizeof...(I)> operands{Operand{in[I].impl()->type, buffer_on(in[I], be)}...};
  return run(be, node, std::span<const Operand>(operands));
}
template <class Run>
auto run_now(const Node& node, std::span<const Tensor> inputs, Run run) {
  Backend& be = eager_backend(inputs);
  switch (inputs.size()) {
    case 1: return run_few(be, node, inputs, std::make_index_sequence<1>(), run);
    case 2: return run_few(be, node, inputs, std::make_index_sequence<2>(), run);
    case 3: return run_few(be, node, inputs, std::make_index_sequence<3>(), run);
    default: break;
  }
  std::vector<Operand> operands;
  operands.reserve(inputs.size());
  for (const Tensor& t : inputs) operands.push_back({t.impl()->type, buffer_on(t, be)});
  return run(be, node, std::span<const Operand>(operands));
}
std::vector<BufferPtr> run_all(const Node& node, std::span<const Tensor> inputs) {
  return run_now(node, inputs, [](Backend& be, const Node& n, std::span<const Operand> in) { return be.execute(n, in); });
}
BufferPtr run_one(const Node& node, std::span<const Tensor> inputs) {
  return run_now(node, inputs, [](Backend& be, const Node& n, std::span<const Operand> in) { return be.execute1(n, in); });
}

// The node an eager op without attributes runs on, reused: building and destroying a Node
// (its Attrs, a vector of output types) was a tenth of a small op's instructions. A few
// per thread, as a backend may run eager ops inside one; beyond them, or while the thread
// ends, a fresh node.
struct EagerNodes {
  static constexpr int kDepth = 4;
  Node nodes[kDepth];
  int used = 0;
  EagerNodes() {
    for (Node& n : nodes) n.outputs.resize(1);
  }
  ~EagerNodes() { gone = true; }
  static thread_local bool gone;  // trivially destructible: readable to the end
};
thread_local bool EagerNodes::gone = false;

class EagerNode {
 public:
  EagerNode(Op op, const TensorType& output, Where where) {
    thread_local EagerNodes stack;
    if (!EagerNodes::gone && stack.used < EagerNodes::kDepth) {
      stack_ = &stack;
      node_ = &stack.nodes[stack.used++];
    } else {
      node_ = &own_.emplace();
      node_->outputs.resize(1);
    }
    node_->op = op;
    node_->outputs[0] = output;
    node_->where = where;
  }
  ~EagerNode() {
    if (stack_) --stack_->used;
  }
  EagerNode(const EagerNode&) = delete;
  EagerNode& operator=(const EagerNode&) = delete;
  const Node& operator*() const { return *node_; }

 private:
  EagerNodes* stack_ = nullptr;
  Node* node_;
  std::optional<Node> own_;
};

}  // namespace

// The node is built in place (a moved-in Attrs costs less than one assigned).
std::vector<Tensor> apply(Op op, Attrs attrs, std::span<const Tensor> inputs,
                          std::vector<TensorType> outputs, Where where, bool weak) {
  bool traced = recorded(op, inputs, outputs, where);
  Node node{.op = op, .attrs = std::move(attrs), .inputs = {}, .outputs = std::move(outputs), .where = where};
  std::vector<Tensor> results;
  results.reserve(node.outputs.size());
  if (traced) {
    std::shared_ptr<Node> n = record(std::move(node), inputs);
    for (int i = 0; i < static_cast<int>(n->outputs.size()); ++i) results.push_back(make_traced(Value{n, i}, weak));
    return results;
  }
  std::vector<BufferPtr> out = run_all(node, inputs);
  for (size_t i = 0; i < out.size(); ++i) results.push_back(make_concrete(node.outputs[i], std::move(out[i]), weak));
  return results;
}

namespace {
// Whether `be` reads `b` where it lies (its own, or host memory on a host backend).
bool readable_by(const Buffer& b, const Backend& be) {
  return b.owner() == &be || (be.host_accessible() && b.owner()->host_accessible());
}
}  // namespace

BufferPtr buffer_on(const Tensor& t, Backend& be) {
  const BufferPtr& b = t.buffer();  // raises for a donated tensor
  if (readable_by(*b, be)) return b;
  std::vector<std::byte> host(b->bytes());
  b->owner()->to_host(*b, host.data(), host.size());
  return be.from_host(host.data(), host.size());
}

Tensor apply1(Op op, Attrs attrs, std::span<const Tensor> inputs, TensorType output, Where where, bool weak) {
  Node node{.op = op, .attrs = std::move(attrs), .inputs = {}, .outputs = {std::move(output)}, .where = where};
  if (recorded(op, inputs, node.outputs, where)) return make_traced(Value{record(std::move(node), inputs), 0}, weak);
  BufferPtr out = run_one(node, inputs);
  return make_concrete(node.outputs[0], std::move(out), weak);
}

namespace {
// An eager elementwise op's operands borrow the tensors' buffers (a shared_ptr without a
// control block): the tensors outlive the call, which makes a fresh result and keeps
// nothing, and each shared_ptr copy would cost two atomic operations (about 17 ns, a
// tenth of a 1-element op). A buffer moved to another backend is owned.
Operand borrowed_operand(const Tensor& t, Backend& be) {
  const BufferPtr& b = t.buffer();  // raises for a donated tensor
  if (readable_by(*b, be)) return {t.impl()->type, BufferPtr(BufferPtr(), b.get())};
  return {t.impl()->type, buffer_on(t, be)};
}

template <size_t... I>
Tensor elementwise(Op op, std::array<const Tensor*, sizeof...(I)> in, TensorType output, Where where, bool weak,
                   std::index_sequence<I...>) {
  bool traced = current_trace() != nullptr;
  for (const Tensor* t : in) traced |= !t->defined() || t->is_traced();
  if (traced) {  // recorded, or an error raised, by the general path
    std::array<Tensor, sizeof...(I)> copies{*in[I]...};
    return apply1(op, {}, std::span<const Tensor>(copies), std::move(output), where, weak);
  }
  output.bytes(op_name(op).data(), where);
  Backend* on_device = nullptr;
  for (const Tensor* t : in) on_device = on_device ? on_device : device_owner(*t);
  Backend& be = on_device ? *on_device : default_backend();
  std::array<Operand, sizeof...(I)> operands{borrowed_operand(*in[I], be)...};
  BufferPtr out;
  {
    EagerNode node(op, output, where);
    out = be.execute1(*node, operands);
  }
  if (out.use_count() == 0)  // a backend passed a borrowed operand through: own it
    for (const Tensor* t : in)
      if (out.get() == t->buffer().get()) out = t->buffer();
  return make_concrete(std::move(output), std::move(out), weak);
}
}  // namespace

Tensor apply_elementwise(Op op, const Tensor& x, TensorType output, Where where, bool weak) {
  return elementwise(op, {&x}, std::move(output), where, weak, std::make_index_sequence<1>());
}
Tensor apply_elementwise(Op op, const Tensor& a, const Tensor& b, TensorType output, Where where, bool weak) {
  return elementwise(op, {&a, &b}, std::move(output), where, weak, std::make_index_sequence<2>());
}

int normalize_axis(int axis, int rank, const char* op, Where where) {
  int a = axis < 0 ? axis + rank : axis;
  if (a < 0 || a >= rank)
    throw AxisError(op, "axis " + std::to_string(axis) + " is out of range for rank " + std::to_string(rank),
                    where);
  return a;
}

std::vector<int64_t> normalize_axes(const Axes& axes, int rank, const char* op, Where where) {
  std::vector<int64_t> out;
  if (axes.all()) {
    for (int i = 0; i < rank; ++i) out.push_back(i);
    return out;
  }
  std::vector<bool> seen(static_cast<size_t>(rank), false);
  for (int a : axes.list()) {
    int n = normalize_axis(a, rank, op, where);
    if (seen[static_cast<size_t>(n)])
      throw AxisError(op, "axis " + std::to_string(a) + " is repeated", where);
    seen[static_cast<size_t>(n)] = true;
  }
  for (int i = 0; i < rank; ++i)
    if (seen[static_cast<size_t>(i)]) out.push_back(i);
  return out;
}

std::string shapes_str(std::span<const Tensor> ts) {
  std::string s;
  for (size_t i = 0; i < ts.size(); ++i) {
    if (i) s += " and ";
    s += std::string(name(ts[i].dtype())) + ts[i].shape().str();
  }
  return s;
}

}  // namespace detail

// ---- registry ----
namespace {
struct Registry {
  std::mutex mu;
  std::map<std::string, BackendFactory, std::less<>> factories;
  std::map<std::string, std::function<std::string()>, std::less<>> probes;
  std::map<std::string, std::unique_ptr<Backend>, std::less<>> instances;
  std::atomic<Backend*> default_backend{nullptr};
};
Registry& registry() {
  static Registry r;
  return r;
}
}  // namespace

void register_backend(std::string name, BackendFactory factory, std::function<std::string()> unavailable) {
  Registry& r = registry();
  std::lock_guard lock(r.mu);
  if (unavailable) r.probes[name] = std::move(unavailable);
  r.factories[std::move(name)] = std::move(factory);
}

Backend& backend(std::string_view name) {
  Registry& r = registry();
  std::lock_guard lock(r.mu);
  if (auto it = r.instances.find(name); it != r.instances.end()) return *it->second;
  auto f = r.factories.find(name);
  if (f == r.factories.end()) {
    std::string known;
    for (auto& [n, _] : r.factories) known += (known.empty() ? "" : ", ") + n;
    throw ValueError("backend", "unknown backend '" + std::string(name) + "' (known: " + known + ")");
  }
  if (auto p = r.probes.find(name); p != r.probes.end())
    if (std::string why = p->second(); !why.empty())
      throw Error("backend", "the " + std::string(name) + " backend cannot run here: " + why);
  auto [it, _] = r.instances.emplace(std::string(name), f->second());
  return *it->second;
}

std::vector<std::string> backend_names() {
  Registry& r = registry();
  std::lock_guard lock(r.mu);
  std::vector<std::string> names;
  for (auto& [n, _] : r.factories)
    if (auto p = r.probes.find(n); p == r.probes.end() || p->second().empty()) names.push_back(n);
  return names;
}

Backend& default_backend() {
  Registry& r = registry();
  if (Backend* b = r.default_backend) return *b;
  const char* env = std::getenv("NX_BACKEND");
  // Else the LLVM JIT when this build has it (it runs oneDNN's kernels too), else interp.
  std::vector<std::string> names = backend_names();
  bool llvm = std::find(names.begin(), names.end(), "llvm") != names.end();
  Backend& b = backend(env && *env ? env : llvm ? "llvm" : "interp");
  r.default_backend = &b;
  return b;
}

void set_default_backend(std::string_view name) { registry().default_backend = &backend(name); }

std::string device_of(const Tensor& t, Where where) {
  if (!t.defined() || t.is_traced()) throw ValueError("device_of", "a traced or undefined tensor lies on no device", where);
  if (t.impl()->donated) throw ValueError("device_of", "the tensor was donated to a jitted call", where);
  return std::string(t.impl()->buffer->owner()->name());
}

Tensor to(const Tensor& t, std::string_view name, Where where) {
  if (!t.defined() || t.is_traced()) throw ValueError("to", "a traced or undefined tensor cannot move between backends", where);
  Backend& be = backend(name);
  BufferPtr b = detail::buffer_on(t, be);
  return detail::make_concrete(t.impl()->type, std::move(b), t.impl()->weak);
}

}  // namespace nx
