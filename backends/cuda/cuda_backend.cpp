// The cuda backend: fusion groups (the core's partition, as the llvm backend uses) run
// as NVRTC-compiled kernels, dot_general on cuBLASLt, convolutions on cuDNN (else
// columns and products), svd and large eigh on cuSOLVER, other ops in specialised
// kernels (device_path), loops and branches with their bodies compiled here, reshapes as
// the same buffer; any other node on interp through host copies. All work is queued on
// the device's one stream, so a run returns before the device finishes and a read
// (to_host) waits for it.
#include <algorithm>
#include <atomic>
#include <cstring>
#include <exception>
#include <mutex>
#include <thread>
#include <unordered_map>

#include "arg_reduce.hpp"
#include "blaslt.hpp"
#include "conv.hpp"
#include "cudnn.hpp"
#include "indexing.hpp"
#include "device.hpp"
#include "eager_plans.hpp"
#include "epilogue.hpp"
#include "kernels.hpp"
#include "linalg.hpp"
#include "launch_plan.hpp"
#include "nvrtc_compile.hpp"
#include "random_bits.hpp"
#include "scan.hpp"
#include "solver.hpp"
#include "sort.hpp"
#include "step_graph.hpp"
#include "upload.hpp"
#include "window.hpp"
#include "nx/cuda.hpp"
#include "nx/detail/fusion/partition.hpp"
#include "nx/interp.hpp"

namespace nx {
namespace cuda_backend {
namespace {

Backend& interp() {
  static Backend& b = backend("interp");
  return b;
}

bool on_device(const Buffer& b, const Backend& be) { return b.owner() == &be; }

// A node on interp: device operands copied to the host, the results back.
std::vector<BufferPtr> on_host(const Node& n, std::span<const Operand> in, Backend& be) {
  std::vector<Operand> host;
  host.reserve(in.size());
  for (const Operand& o : in) {
    if (o.buffer->owner()->host_accessible()) {
      host.push_back(o);
      continue;
    }
    BufferPtr b = interp().allocate(o.buffer->bytes());
    o.buffer->owner()->to_host(*o.buffer, b->data(), o.buffer->bytes());
    host.push_back({o.type, std::move(b)});
  }
  std::vector<BufferPtr> outs = interp().execute(n, host);
  for (BufferPtr& b : outs) b = be.from_host(b->data(), b->bytes());
  return outs;
}

// How a node outside fusion groups runs on the device, or null: on interp through host
// copies. Its operands are on the device (executables and eager calls move them first).
using DevicePath = std::vector<BufferPtr> (*)(const Node&, std::span<const Operand>, Backend&);
DevicePath device_path(const Node& n, std::span<const Operand> in) {
  if (n.op == Op::Reshape || n.op == Op::Bitcast || n.op == Op::StopGrad)
    return [](const Node&, std::span<const Operand> in, Backend&) { return std::vector{in[0].buffer}; };  // immutable: shared
  if (n.op == Op::DotGeneral && lt_supports(n.outputs[0].dtype, in[0].type.dtype, in[1].type.dtype))
    return [](const Node& n, std::span<const Operand> in, Backend& be) { return std::vector{lt_dot(n, in, be)}; };
  if (n.op == Op::RandomBits) return random_bits;
  if (n.op == Op::Conv && conv_supported(n, in))
    return [](const Node& n, std::span<const Operand> in, Backend& be) { return std::vector{conv(n, in, be)}; };
  if (window_supported(n, in)) return window;
  if (arg_reduce_supported(n, in))
    return [](const Node& n, std::span<const Operand> in, Backend& be) { return std::vector{arg_reduce(n, in, be)}; };
  if (sort_supported(n, in)) return sort;
  if (scan_supported(n, in))
    return [](const Node& n, std::span<const Operand> in, Backend& be) { return std::vector{scan(n, in, be)}; };
  if (gather_supported(n, in))
    return [](const Node& n, std::span<const Operand> in, Backend& be) { return std::vector{gather(n, in, be)}; };
  if (solver_supported(n, in)) return solver;  // before linalg: it takes eigh where Jacobi would be slow
  if (linalg_supported(n, in)) return linalg;
  if (scatter_supported(n, in))
    return [](const Node& n, std::span<const Operand> in, Backend& be) { return std::vector{scatter(n, in, be)}; };
  // A loop or branch runs its bodies compiled here; only its predicate comes to the host.
  if (op_kind(n.op) == OpKind::Control)
    return [](const Node& n, std::span<const Operand> in, Backend& be) { return interp::evaluate(n, in, be); };
  return nullptr;
}

std::vector<BufferPtr> run_node(const Node& n, std::span<const Operand> in, Backend& be) {
  if (DevicePath path = device_path(n, in)) return path(n, in, be);
  return on_host(n, in, be);
}

// Per node of a partitioned graph: whether it runs alone (outside kernels, needed, not a
// parameter or constant), and then how: its device path, or null for interp.
struct NodePaths {
  std::vector<bool> alone;
  std::vector<DevicePath> path;
};
NodePaths node_paths(const Graph& g, const Partition& part, const Schedule& sched) {
  NodePaths p{std::vector<bool>(g.nodes.size()), std::vector<DevicePath>(g.nodes.size())};
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    const Node& n = *g.nodes[i];
    p.alone[i] = part.group_of[i] < 0 && sched.needed[i] && n.op != Op::Parameter && n.op != Op::Constant;
    if (!p.alone[i]) continue;
    std::vector<Operand> in;
    for (const Value& v : n.inputs) in.push_back({v.type(), nullptr});
    p.path[i] = device_path(n, in);
  }
  return p;
}

std::vector<BufferPtr> run_group(const Group& grp, const LoadedKernel& k, const std::vector<BufferPtr>& inputs,
                                 const Graph& g, Backend& be) {
  std::vector<BufferPtr> outs;
  std::vector<void*> in, out;
  for (const BufferPtr& b : inputs) in.push_back(b->data());
  for (size_t node : grp.outputs) {
    outs.push_back(be.allocate(g.nodes[node]->outputs[0].bytes()));
    out.push_back(outs.back()->data());
  }
  auto [rows, cols] = kernel_extent(grp);
  run_kernel(k, in, out, rows, cols, be);
  return outs;
}

// Every group's kernel, compiled (NVRTC) on several threads: a training step has dozens.
std::vector<std::shared_ptr<const LoadedKernel>> load_kernels(const Partition& part, const std::vector<int>& skip) {
  size_t count = part.groups.size();
  std::vector<std::shared_ptr<const LoadedKernel>> kernels(count);
  std::vector<std::exception_ptr> errors(count);
  std::atomic<size_t> next{0};
  auto work = [&] {
    for (size_t i = next++; i < count; i = next++) {
      if (skip[i] >= 0) continue;
      try {
        kernels[i] = load_kernel(part.groups[i].spec);
      } catch (...) {
        errors[i] = std::current_exception();
      }
    }
  };
  size_t threads = std::min<size_t>(count, std::max(1u, std::thread::hardware_concurrency()));
  std::vector<std::thread> pool;
  for (size_t t = 1; t < threads; ++t) pool.emplace_back(work);
  work();
  for (std::thread& t : pool) t.join();
  for (const std::exception_ptr& e : errors)
    if (e) std::rethrow_exception(e);
  return kernels;
}

class Compiled : public Executable {
 public:
  Compiled(const Graph& g, Backend& be)
      : graph_(split_middle_reductions(g)), be_(be), part_(partition(graph_, {}, cuda_caps())), sched_(graph_) {
    sched_.plan(part_);
    size_t count = graph_.nodes.size();
    epilogue_of_.assign(part_.groups.size(), -1);
    folded_.assign(count, false);
    epilogues_ = find_epilogues(graph_, part_);
    for (size_t e = 0; e < epilogues_.size(); ++e) {
      const EpilogueFusion& f = epilogues_[e];
      size_t at = part_.groups[f.group].nodes.back();
      epilogue_of_[f.group] = static_cast<int>(e);
      folded_[f.dot] = true;
      for (const ValueRef& r : sched_.inputs[f.dot]) sched_.last_use[r.node] = std::max(sched_.last_use[r.node], at);
    }
    kernels_ = load_kernels(part_, epilogue_of_);  // now, not on the first run
    NodePaths paths = node_paths(graph_, part_, sched_);
    paths_ = std::move(paths.path);  // decided once, not each run
    capturable_ = true;  // no node waits on the host: none on interp, no loop's predicate, no cuSOLVER call
    for (size_t i = 0; i < count; ++i)
      if (paths.alone[i] && !folded_[i] &&
          (!paths_[i] || paths_[i] == solver || op_kind(graph_.nodes[i]->op) == OpKind::Control))
        capturable_ = false;
    // Constants go to the device once.
    constants_.resize(count);
    for (size_t i = 0; i < count; ++i) {
      const Node& n = *graph_.nodes[i];
      if (n.op != Op::Constant || !sched_.needed[i]) continue;
      const BufferPtr& c = n.constant;
      if (on_device(*c, be_)) constants_[i] = c;
      else constants_[i] = be_.from_host(c->data(), c->bytes());
    }
  }

  std::vector<BufferPtr> run(std::span<const BufferPtr> inputs) const override {
    check_inputs(graph_, inputs);
    // With CUDA graphs on, the second run is captured (the first loads every kernel and
    // plans every product) and later ones replay it.
    if (capturable_ && graphs() && runs_++ > 0) {
      std::call_once(graph_made_, [&] {
        std::vector<TensorType> in(inputs.size()), out;
        for (const auto& n : graph_.nodes)
          if (n->op == Op::Parameter) in[static_cast<size_t>(n->param_index)] = n->outputs[0];
        for (const Value& v : graph_.outputs) out.push_back(v.type());
        step_graph_ = std::make_unique<StepGraph>(in, out, be_);
      });
      auto step = [this](std::span<const BufferPtr> in) { return steps(in); };
      if (std::optional<std::vector<BufferPtr>> outs = step_graph_->run(inputs, step)) return std::move(*outs);
    }
    return steps(inputs);
  }

 private:
  std::vector<BufferPtr> steps(std::span<const BufferPtr> inputs) const {
    std::vector<BufferPtr> values(sched_.first.back());
    auto at = [&](const ValueRef& r) -> BufferPtr& { return values[sched_.first[r.node] + r.index]; };
    for (size_t i = 0; i < graph_.nodes.size(); ++i) {
      const Node& n = *graph_.nodes[i];
      int gi = part_.group_of[i];
      if (n.op == Op::Parameter) {
        const BufferPtr& b = inputs[static_cast<size_t>(n.param_index)];
        values[sched_.first[i]] = on_device(*b, be_) ? b : moved(*b);
        continue;
      }
      if (gi >= 0) {
        const Group& grp = part_.groups[static_cast<size_t>(gi)];
        if (grp.nodes.back() != i) continue;  // a group runs at its last member
        std::vector<BufferPtr> in;
        in.reserve(grp.inputs.size());
        for (const ValueRef& r : grp.inputs) in.push_back(at(r));
        std::vector<BufferPtr> outs;
        if (int e = epilogue_of_[static_cast<size_t>(gi)]; e >= 0) {  // the product, biased on cuBLASLt
          const EpilogueFusion& f = epilogues_[static_cast<size_t>(e)];
          std::vector<Operand> ops = sched_.operands(graph_, f.dot, values);
          outs = {lt_dot(*graph_.nodes[f.dot], ops, be_, {.bias = in[f.bias]->data(), .relu = f.relu})};
          sched_.release(sched_.inputs[f.dot], i, values);
        } else {
          outs = run_group(grp, *kernels_[static_cast<size_t>(gi)], in, graph_, be_);
        }
        for (size_t k = 0; k < grp.outputs.size(); ++k) values[sched_.first[grp.outputs[k]]] = std::move(outs[k]);
        sched_.release(grp.inputs, i, values);
        continue;
      }
      if (!sched_.needed[i] || folded_[i]) continue;  // a folded product runs in its reader's epilogue
      if (n.op == Op::Constant) {
        values[sched_.first[i]] = constants_[i];
        continue;
      }
      std::vector<Operand> ops = sched_.operands(graph_, i, values);
      std::vector<BufferPtr> outs = paths_[i] ? paths_[i](n, ops, be_) : on_host(n, ops, be_);
      for (size_t k = 0; k < outs.size(); ++k) values[sched_.first[i] + k] = std::move(outs[k]);
      sched_.release(sched_.inputs[i], i, values);
    }
    return sched_.results(values);
  }

  // A buffer of another backend (a caller running the executable directly), copied here.
  BufferPtr moved(const Buffer& b) const {
    std::vector<std::byte> host(b.bytes());
    b.owner()->to_host(b, host.data(), host.size());
    return be_.from_host(host.data(), host.size());
  }


  Graph graph_;
  Backend& be_;
  Partition part_;
  Schedule sched_;
  std::vector<std::shared_ptr<const LoadedKernel>> kernels_;  // per group
  std::vector<BufferPtr> constants_;  // per constant node: its value on the device
  std::vector<EpilogueFusion> epilogues_;
  std::vector<DevicePath> paths_;  // per node run alone: how on the device (null: interp)
  std::vector<int> epilogue_of_;  // per group: its epilogue in epilogues_, or -1
  std::vector<bool> folded_;      // per node: a product run by its reader's epilogue
  bool capturable_ = false;
  mutable std::atomic<int64_t> runs_{0};
  mutable std::once_flag graph_made_;
  mutable std::unique_ptr<StepGraph> step_graph_;
};

class CudaBackend : public Backend {
 public:
  std::string_view name() const override { return "cuda"; }
  bool host_accessible() const override { return false; }
  BufferPtr allocate(size_t bytes) override { return std::make_shared<DeviceBuffer>(this, bytes); }
  BufferPtr from_host(const void* data, size_t bytes) override {
    BufferPtr b = allocate(bytes);
    upload(b->data(), data, bytes);  // `data` may go once it returns
    return b;
  }
  void to_host(const Buffer& buffer, void* out, size_t bytes) const override {
    if (bytes > buffer.bytes())
      throw ValueError("to_host", "asked for " + std::to_string(bytes) + " bytes from a buffer of " + std::to_string(buffer.bytes()));
    if (!bytes) return;
    if (buffer.owner()->host_accessible()) {
      std::memcpy(out, buffer.data(), bytes);
      return;
    }
    cudaStream_t s = stream();
    check(cudaMemcpyAsync(out, buffer.data(), bytes, cudaMemcpyDeviceToHost, s), "cudaMemcpyAsync");
    check(cudaStreamSynchronize(s), "a kernel or copy on the device");
  }
  // One node (eager): as a one-node graph's fusion group when it has one, else as a
  // node outside kernels.
  std::vector<BufferPtr> execute(const Node& node, std::span<const Operand> inputs) override {
    std::vector<TensorType> types;
    for (const Operand& o : inputs) types.push_back(o.type);
    std::shared_ptr<const EagerPlan> plan = eager_plan(node, types);
    std::vector<Operand> here(inputs.begin(), inputs.end());
    for (Operand& o : here)
      if (!on_device(*o.buffer, *this)) {
        std::vector<std::byte> host(o.buffer->bytes());
        o.buffer->owner()->to_host(*o.buffer, host.data(), host.size());
        o.buffer = from_host(host.data(), host.size());
      }
    if (plan->group < 0) return run_node(node, here, *this);
    const Group& grp = plan->part.groups[static_cast<size_t>(plan->group)];
    std::vector<BufferPtr> in;
    for (const ValueRef& r : grp.inputs) {  // the group's inputs are the graph's parameters
      const Node& param = *plan->graph.nodes[r.node];
      if (param.op != Op::Parameter) throw Error("cuda", "an eager group reads a value that is not an operand");
      in.push_back(here[static_cast<size_t>(param.param_index)].buffer);
    }
    return run_group(grp, *plan->kernel, in, plan->graph, *this);
  }
  std::unique_ptr<Executable> compile(const Graph& graph, const CompileOptions&) override {
    return std::make_unique<Compiled>(graph, *this);
  }
};

}  // namespace
}  // namespace cuda_backend

void register_cuda_backend() {
  register_backend(
      "cuda", [] { return std::make_unique<cuda_backend::CudaBackend>(); },
      [] { return cuda_backend::unavailable_reason(); });
}

// Registered when the program starts, whatever headers it includes: nxpp::nxpp's link
// options name this symbol (-u), so the linker keeps this object in every program.
extern "C" const bool nx_cuda_backend_registered = (register_cuda_backend(), true);

namespace cuda {
bool available() { return cuda_backend::unavailable_reason().empty(); }
std::string unavailable_reason() { return cuda_backend::unavailable_reason(); }
std::string device_name() { return cuda_backend::need_device().name; }
int compute_capability() { return cuda_backend::need_device().arch; }
void set_tf32(bool on) { cuda_backend::set_tf32(on); }
bool tf32() { return cuda_backend::tf32(); }
void set_memory_pool_limit(size_t bytes) { cuda_backend::set_pool_limit(bytes); }
size_t memory_pool_limit() { return cuda_backend::pool_limit(); }
size_t memory_pool_bytes() { return cuda_backend::pool_reserved_bytes(); }
void trim_memory() { cuda_backend::trim_pool(); }
void set_graphs(bool on) { cuda_backend::set_graphs(on); }
bool graphs() { return cuda_backend::graphs(); }
void set_cudnn(bool on) { cuda_backend::set_cudnn(on); }
bool cudnn() { return cuda_backend::cudnn_enabled(); }
std::string cudnn_report() { return cuda_backend::cudnn_report(); }
void synchronize() {
  cuda_backend::check(cudaStreamSynchronize(cuda_backend::need_device().stream), "a kernel or copy on the device");
}

std::string fusion_report(const Graph& graph) {
  Graph g = split_middle_reductions(graph);
  fusion::Partition part = fusion::partition(g, {}, cuda_backend::cuda_caps());
  std::string report = part.describe(g);
  for (const cuda_backend::EpilogueFusion& f : cuda_backend::find_epilogues(g, part))
    report += "kernel " + std::to_string(f.group) + " runs as the epilogue of %" + std::to_string(f.dot) + " on cuBLASLt (bias" +
              (f.relu ? ", relu" : "") + ")\n";
  return report;
}

std::vector<std::string> host_fallbacks(const Graph& graph) {
  Graph g = split_middle_reductions(graph);
  fusion::Partition part = fusion::partition(g, {}, cuda_backend::cuda_caps());
  fusion::Schedule sched(g);
  sched.plan(part);
  std::vector<std::string> out;
  cuda_backend::NodePaths paths = cuda_backend::node_paths(g, part, sched);
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    if (!paths.alone[i] || paths.path[i]) continue;
    std::string shapes;
    for (const Value& v : g.nodes[i]->inputs)
      shapes += (shapes.empty() ? "" : ", ") + std::string(name(v.type().dtype)) + v.type().shape.str();
    out.push_back(std::string(op_name(g.nodes[i]->op)) + "(" + shapes + ")");
  }
  return out;
}

std::vector<std::string> kernel_sources(const Graph& graph) {
  Graph g = split_middle_reductions(graph);
  std::vector<std::string> out;
  for (const fusion::Group& grp : fusion::partition(g, {}, cuda_backend::cuda_caps()).groups)
    out.push_back(cuda_backend::emit_source(grp.spec, "nx_kernel_" + std::to_string(out.size())));
  return out;
}

size_t compile_source(const std::string& source, int arch) { return cuda_backend::compile_cubin(source, arch).size(); }

void set_disk_cache(const std::string& dir) { cuda_backend::set_cache_root(dir); }
std::string disk_cache() { return cuda_backend::cache_root(); }
CompileStats compile_stats() {
  cuda_backend::NvrtcStats s = cuda_backend::nvrtc_stats();
  return {s.compiled, s.loaded, s.compile_ms};
}
void clear_memory_cache() {
  cuda_backend::forget_cubins();
  cuda_backend::forget_loaded_kernels();
}
}  // namespace cuda

}  // namespace nx
