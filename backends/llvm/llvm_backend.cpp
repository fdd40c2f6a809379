// The llvm backend: fusion groups (partition.cpp) run as compiled kernels; every other
// node runs on the oneDNN backend when it is built (matmul, convolutions, pooling), else
// dot_general on our blocked GEMM and the rest on interp, one node at a time.
#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <optional>
#include <string>
#include <unordered_map>

#include "nx/detail/kernel_cache.hpp"
#include "nx/interp.hpp"
#include "nx/llvm.hpp"
#include "gemm.hpp"
#include "own_kernels.hpp"
#include "kernel.hpp"
#include "nx/detail/fusion/partition.hpp"
#include "profile.hpp"
#include "thread_pool.hpp"
#include "tiled_pooling.hpp"

namespace nx {
namespace llvm_backend {
namespace {

std::atomic<bool> onednn_wanted{[] {
  const char* e = std::getenv("NX_LLVM_ONEDNN");
  return !(e && std::string(e) == "0");
}()};
Backend* onednn() {
  static Backend* b = [] {
    for (const std::string& n : backend_names())
      if (n == "onednn") return &backend("onednn");
    return static_cast<Backend*>(nullptr);
  }();
  return b;
}
// The backend non-fused nodes run on: onednn when registered and wanted, else interp.
Backend& fallback() { return onednn() && onednn_wanted ? *onednn() : backend("interp"); }

// Elements per chunk of a kernel's range: enough to amortise waking a thread.
constexpr int64_t kGrain = 1 << 14;

// A node outside kernels runs on interp when it touches fewer elements than a chunk:
// oneDNN's per-call setup (microseconds) would cost more than the work.
bool small(const Node& n, std::span<const Operand> in) {
  int64_t work = 0;
  for (const Operand& o : in) work = std::max(work, o.type.shape.size());
  for (const TensorType& t : n.outputs) work = std::max(work, t.shape.size());
  return work < kGrain;
}
bool small(const Node& n) {
  std::vector<Operand> in;
  for (const Value& v : n.inputs) in.push_back({v.type(), nullptr});
  return small(n, in);
}
Backend& interp() {
  static Backend& b = backend("interp");
  return b;
}
Backend& runner_for(const Node& n, std::span<const Operand> in) { return small(n, in) ? interp() : fallback(); }

// Whether our GEMM (bf16/f16 operands widened to f32 while packed) beats oneDNN's
// products of `t` on this CPU: measured once per process and dtype, a 256^3 product each
// way (best of 3, after one that builds the primitive). oneDNN multiplies half types with
// the CPU's own instructions, which range from AMX (far faster than f32 FMAs) to
// AVX512_BF16's dot product at half the f32 FMA rate (the Xeon in docs/PERFORMANCE.md).
bool own_half_faster(DType t) {
  static std::atomic<int> known[2] = {-1, -1};  // bf16, f16: -1 unmeasured, else 0/1
  std::atomic<int>& k = known[t == DType::bf16 ? 0 : 1];
  if (int v = k.load(); v >= 0) return v == 1;
  constexpr int64_t kSide = 256;
  Node n{.op = Op::DotGeneral, .attrs = {}, .inputs = {}, .outputs = {TensorType{t, Shape{kSide, kSide}}}};
  n.attrs.lhs_contract = {1};
  n.attrs.rhs_contract = {0};
  Backend& host = interp();
  BufferPtr zeros = host.allocate(kSide * kSide * 2);
  std::fill_n(static_cast<std::byte*>(zeros->data()), kSide * kSide * 2, std::byte{0});
  std::array<Operand, 2> ops{Operand{n.outputs[0], zeros}, Operand{n.outputs[0], zeros}};
  auto best = [&](auto&& run) {
    run();
    double b = 1e30;
    for (int r = 0; r < 3; ++r) {
      auto t0 = std::chrono::steady_clock::now();
      run();
      b = std::min(b, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    }
    return b;
  };
  bool own = false;
  try {
    double theirs = best([&] { onednn()->execute(n, ops); });
    own = best([&] { run_own(n, ops, host, 0); }) < theirs;
  } catch (const std::exception&) {
    own = true;  // oneDNN cannot run it here
  }
  k = own ? 1 : 0;
  return own;
}

// Which of oneDNN and our own kernels runs a product, by shape class (the table in
// docs/PERFORMANCE.md, "Own GEMM"): oneDNN's f32 products were faster on every shape
// measured (square, the training steps' transposed ones); it has no f64 products, ours
// do; bf16/f16 ones go to whichever own_half_faster() measured faster.
bool own_first(const Node& n) {
  if (!(onednn() && onednn_wanted)) return true;
  DType t = n.outputs[0].dtype;
  if (n.op != Op::DotGeneral && n.op != Op::Conv) return false;
  if (t == DType::f64) return true;
  return n.op == Op::DotGeneral && (t == DType::bf16 || t == DType::f16) && own_half_faster(t);
}

// A node outside kernels: small ones on interp, dot_general on oneDNN or our GEMM, the
// rest on oneDNN or interp.
std::vector<BufferPtr> run_node(const Node& n, std::span<const Operand> in, Backend& be, int threads) {
  // A loop or branch over large values has its bodies compiled here (fused kernels, our
  // GEMM for f64), not on the backend a node falls back to: a Newton solve's f64 products
  // ran 80% of its time in interp's reference product that way.
  if (op_kind(n.op) == OpKind::Control && !small(n, in)) return interp::evaluate(n, in, be);
  if (!small(n, in))
    if (auto out = run_tiled_pooling(n, in, be, threads)) return *out;
  if (!small(n, in) && own_first(n))
    if (auto out = run_own(n, in, be, threads)) return *out;
  return runner_for(n, in).execute(n, in);
}

// Transposes that only convolutions read, when oneDNN will run those: it reads a
// transpose as a strided view of the operand (a weight gradient is conv(x^T, g^T)), so
// no kernel copies it.
std::vector<bool> transposes_for_onednn(const Graph& g) {
  size_t count = g.nodes.size();
  std::vector<bool> viewed(count);
  if (!onednn() || !onednn_wanted) return viewed;
  std::unordered_map<const Node*, size_t> slot;
  for (size_t i = 0; i < count; ++i) slot[g.nodes[i].get()] = i;
  std::vector<int> readers(count), conv_readers(count);
  for (const auto& n : g.nodes)
    for (const Value& v : n->inputs) {
      ++readers[slot.at(v.node.get())];
      if (n->op == Op::Conv && !small(*n)) ++conv_readers[slot.at(v.node.get())];
    }
  for (const Value& v : g.outputs) ++readers[slot.at(v.node.get())];
  for (size_t i = 0; i < count; ++i)
    viewed[i] = g.nodes[i]->op == Op::Transpose && g.nodes[i]->outputs[0].dtype == DType::f32 && readers[i] > 0 &&
                readers[i] == conv_readers[i];
  return viewed;
}

// A convolution with transposed operands, as a graph of its own: parameters (the
// transposes' operands, or the convolution's), the transposes, the convolution.
Graph conv_through_views(const Node& conv, const std::vector<const Node*>& transposes) {
  Graph sub;
  auto call = std::make_shared<Node>(conv);
  for (size_t k = 0; k < call->inputs.size(); ++k) {
    auto p = std::make_shared<Node>();
    p->op = Op::Parameter;
    p->param_index = static_cast<int>(k);
    p->outputs = {transposes[k] ? transposes[k]->inputs[0].type() : conv.inputs[k].type()};
    sub.params.push_back(p);
    call->inputs[k] = Value{p, 0};
    if (transposes[k]) {
      auto t = std::make_shared<Node>(*transposes[k]);
      t->inputs = {Value{p, 0}};
      call->inputs[k] = Value{t, 0};
    }
  }
  sub.outputs = {Value{call, 0}};
  sub.finalize();
  return sub;
}

// Folds partial results (one per block, in block order: the same on any number of
// threads; `stride` elements apart) into out[0], in double.
template <class T> void fold_partials(Op op, const T* partial, int64_t blocks, T* out, int64_t stride = 1) {
  double acc = op == Op::Sum ? 0.0 : partial[0];
  for (int64_t k = op == Op::Sum ? 0 : 1; k < blocks; ++k) {
    double x = partial[k * stride];
    if (op == Op::Sum) acc += x;
    else if (std::isnan(x) || std::isnan(acc)) acc = std::numeric_limits<double>::quiet_NaN();
    else acc = op == Op::ReduceMax ? std::max(acc, x) : std::min(acc, x);
  }
  *out = static_cast<T>(acc);
}

// Mode::cols over many rows runs in fixed blocks of this many rows, each over every column
// into a row of partial results, folded in block order afterwards (the same on any number
// of threads). Splitting the columns among threads instead had each read a few cache lines
// of every row: a column sum of 60000 x 784 f32 ran at 11 GB/s.
constexpr int64_t kColBlockRows = 512;

// Whether group grp's column reductions can run in row blocks: every output a float
// reduction, and every input read whole, by row, by column or as a scalar (no index map,
// whose offsets the block's pointers would not shift).
bool row_blocked(const Group& grp, const Graph& g) {
  if (grp.spec.mode != Mode::cols || grp.rows < 4 * kColBlockRows || !grp.spec.maps.empty()) return false;
  for (size_t k = 0; k < grp.outputs.size(); ++k) {
    DType t = g.nodes[grp.outputs[k]]->outputs[0].dtype;
    if (!is_reduction(grp.spec.code[static_cast<size_t>(grp.spec.outputs[k])].op) || (t != DType::f32 && t != DType::f64))
      return false;
  }
  return true;
}

void run_row_blocks(const Group& grp, KernelFn fn, const std::vector<void*>& ptrs, const std::vector<BufferPtr>& outs,
                    const Graph& g, Backend& be, int threads) {
  int64_t blocks = (grp.rows + kColBlockRows - 1) / kColBlockRows, cols = grp.cols;
  size_t nin = grp.spec.inputs.size();
  std::vector<BufferPtr> partials;
  std::vector<int64_t> strides;  // elements per partial row, whole cache lines (aligned stores)
  for (size_t k = 0; k < outs.size(); ++k) {
    auto bytes = static_cast<int64_t>(item_size(g.nodes[grp.outputs[k]]->outputs[0].dtype));
    strides.push_back((cols * bytes + 63) / 64 * 64 / bytes);
    partials.push_back(be.allocate(static_cast<size_t>(blocks * strides.back() * bytes)));
  }
  parallel_for(blocks, 1, threads, [&](int64_t b, int64_t e) {
    std::vector<void*> p(ptrs.size());
    for (int64_t blk = b; blk < e; ++blk) {
      int64_t r0 = blk * kColBlockRows, rows = std::min(kColBlockRows, grp.rows - r0);
      for (size_t i = 0; i < nin; ++i) {
        auto bytes = static_cast<int64_t>(item_size(grp.spec.inputs[i].dtype));
        auto* base = static_cast<char*>(ptrs[i]);
        switch (grp.spec.inputs[i].access) {
          case KernelSpec::Access::full: p[i] = base + r0 * cols * bytes; break;
          case KernelSpec::Access::row: p[i] = base + r0 * bytes; break;
          default: p[i] = base;
        }
      }
      for (size_t k = 0; k < outs.size(); ++k) {
        auto bytes = static_cast<int64_t>(item_size(g.nodes[grp.outputs[k]]->outputs[0].dtype));
        p[nin + k] = static_cast<char*>(partials[k]->data()) + blk * strides[k] * bytes;
      }
      fn(p.data(), 0, cols, rows, cols);
    }
  }, 1);
  for (size_t k = 0; k < outs.size(); ++k) {
    Op op = grp.spec.code[static_cast<size_t>(grp.spec.outputs[k])].op;
    for (int64_t j = 0; j < cols; ++j) {
      if (g.nodes[grp.outputs[k]]->outputs[0].dtype == DType::f64)
        fold_partials(op, static_cast<const double*>(partials[k]->data()) + j, blocks,
                      static_cast<double*>(outs[k]->data()) + j, strides[k]);
      else
        fold_partials(op, static_cast<const float*>(partials[k]->data()) + j, blocks,
                      static_cast<float*>(outs[k]->data()) + j, strides[k]);
    }
  }
}

// Runs a group's kernel; outputs[k] given (an input's buffer, in place) or allocated.
std::vector<BufferPtr> run_group(const Group& grp, KernelFn fn, const std::vector<BufferPtr>& inputs, const Graph& g,
                                 Backend& be, int threads, std::vector<BufferPtr> given = {}) {
  std::vector<BufferPtr> outs, partials;
  std::vector<void*> ptrs;
  outs.reserve(grp.outputs.size());
  if (grp.spec.mode == Mode::all) partials.reserve(grp.outputs.size());
  ptrs.reserve(inputs.size() + grp.outputs.size());
  for (const BufferPtr& b : inputs) ptrs.push_back(b->data());
  int64_t size = grp.shape.size(), blocks = (size + kReduceBlock - 1) / kReduceBlock;
  for (size_t k = 0; k < grp.outputs.size(); ++k) {
    const TensorType& t = g.nodes[grp.outputs[k]]->outputs[0];
    outs.push_back(k < given.size() && given[k] ? given[k] : be.allocate(t.bytes()));
    // The kernels' stores assume 64-byte aligned outputs (streamed ones are aligned
    // non-temporal stores): a buffer that breaks this must never reach them.
    if (reinterpret_cast<uintptr_t>(outs.back()->data()) % 64 != 0)
      throw Error("llvm", "internal: a kernel output buffer is not 64-byte aligned");
    bool partial = grp.spec.mode == Mode::all && is_reduction(grp.spec.code[static_cast<size_t>(grp.spec.outputs[k])].op);
    if (grp.spec.mode == Mode::all) partials.push_back(partial ? be.allocate(static_cast<size_t>(blocks * item_size(t.dtype))) : nullptr);
    ptrs.push_back(partial ? partials.back()->data() : outs.back()->data());
  }
  // Rows and blocks may split anywhere (each is one thread's); columns and elements at
  // multiples of 64, so each lands in the same part of the vector loop on any thread count.
  // Work of one chunk runs here, without the pool (a jit call on a few elements).
  auto run = [&](int64_t n, int64_t grain, int64_t align) {
    if (n <= std::max<int64_t>(1, grain)) return fn(ptrs.data(), 0, n, grp.rows, grp.cols);
    parallel_for(n, std::max<int64_t>(1, grain), threads, [&](int64_t b, int64_t e) { fn(ptrs.data(), b, e, grp.rows, grp.cols); }, align);
  };
  switch (grp.spec.mode) {
    case Mode::elementwise:
      if (grp.spec.two_d) run(grp.rows, kGrain / std::max<int64_t>(grp.cols, 1), 1);
      else run(size, kGrain, 64);
      break;
    case Mode::rows: run(grp.rows, kGrain / grp.cols, 1); break;
    case Mode::cols:
      if (row_blocked(grp, g)) run_row_blocks(grp, fn, ptrs, outs, g, be, threads);
      else run(grp.cols, kGrain / grp.rows, 64);
      break;
    case Mode::all:
      if (blocks == 1) fn(ptrs.data(), 0, 1, 1, size);
      else parallel_for(blocks, 1, threads, [&](int64_t b, int64_t e) { fn(ptrs.data(), b, e, 1, size); }, 1);
      break;
  }
  for (size_t k = 0; k < partials.size(); ++k) {
    if (!partials[k]) continue;
    Op op = grp.spec.code[static_cast<size_t>(grp.spec.outputs[k])].op;
    if (g.nodes[grp.outputs[k]]->outputs[0].dtype == DType::f64)
      fold_partials(op, static_cast<const double*>(partials[k]->data()), blocks, static_cast<double*>(outs[k]->data()));
    else
      fold_partials(op, static_cast<const float*>(partials[k]->data()), blocks, static_cast<float*>(outs[k]->data()));
  }
  return outs;
}

class Compiled : public Executable {
 public:
  Compiled(Graph g, Backend& be, const CompileOptions& opts)
      : graph_(split_middle_reductions(g)),
        be_(be),
        threads_(opts.num_threads),
        viewed_(transposes_for_onednn(graph_)),
        part_(partition(graph_, viewed_)),
        sched_(graph_) {
    size_t count = graph_.nodes.size();
    delegated_.resize(count);
    for (size_t i = 0; i < count; ++i) {
      if (graph_.nodes[i]->op != Op::Conv) continue;
      std::vector<const Node*> transposes;
      for (const ValueRef& r : sched_.inputs[i]) transposes.push_back(viewed_[r.node] ? graph_.nodes[r.node].get() : nullptr);
      if (std::none_of(transposes.begin(), transposes.end(), [](const Node* t) { return t != nullptr; })) continue;
      // The convolution reads the transposes' operands from now on.
      for (ValueRef& r : sched_.inputs[i])
        if (viewed_[r.node]) r = sched_.inputs[r.node][0];
      Graph sub = conv_through_views(*graph_.nodes[i], transposes);
      auto exe = onednn()->compile(sub, {});
      delegated_[i] = Delegated{std::move(sub), std::move(exe)};
    }
    std::vector<const KernelSpec*> specs;
    for (const Group& grp : part_.groups) specs.push_back(&grp.spec);
    kernels_ = compile_kernels(specs);  // now, not on the first run
    sched_.plan(part_);
    plan_in_place(opts.donate);
  }

  std::vector<BufferPtr> run(std::span<const BufferPtr> inputs) const override {
    check_inputs(graph_, inputs);
    // Every node's output buffers in one array (node i's from sched_.first[i]): no allocation per node.
    std::vector<BufferPtr> values(sched_.first.back());
    auto at = [&](const ValueRef& r) -> BufferPtr& { return values[sched_.first[r.node] + r.index]; };
    auto set = [&](size_t node, std::vector<BufferPtr>&& outs) {
      for (size_t k = 0; k < outs.size(); ++k) values[sched_.first[node] + k] = std::move(outs[k]);
    };
    for (size_t i = 0; i < graph_.nodes.size(); ++i) {
      const Node& n = *graph_.nodes[i];
      int gi = part_.group_of[i];
      if (n.op == Op::Parameter) {
        values[sched_.first[i]] = inputs[static_cast<size_t>(n.param_index)];
        continue;
      }
      if (gi >= 0) {
        const Group& grp = part_.groups[static_cast<size_t>(gi)];
        if (grp.nodes.back() != i) continue;  // a group runs at its last member
        // In place where planned, if the buffer is nx++'s own (not a file mapping or
        // another library's memory) and nothing else holds it (a parameter's is also in
        // the caller's list; an interp reshape shares its operand's).
        std::vector<BufferPtr> given;
        if (!in_place_[static_cast<size_t>(gi)].empty()) given.resize(grp.outputs.size());
        for (auto [k, j] : in_place_[static_cast<size_t>(gi)]) {
          const ValueRef& r = grp.inputs[j];
          const BufferPtr& b = at(r);
          if (b->reusable() && b.use_count() == (graph_.nodes[r.node]->op == Op::Parameter ? 2 : 1)) given[k] = b;
        }
        std::vector<BufferPtr> in;
        in.reserve(grp.inputs.size());
        for (const ValueRef& r : grp.inputs) in.push_back(at(r));
        StepTimer timer([&] { return group_label(grp); });
        std::vector<BufferPtr> outs = run_group(grp, kernels_[static_cast<size_t>(gi)], in, graph_, be_, threads_, std::move(given));
        for (size_t k = 0; k < grp.outputs.size(); ++k) values[sched_.first[grp.outputs[k]]] = std::move(outs[k]);
        sched_.release(grp.inputs, i, values);
        continue;
      }
      if (!sched_.needed[i]) continue;
      std::vector<Operand> ops = sched_.operands(graph_, i, values);
      StepTimer timer([&] { return std::string(op_name(n.op)) + (delegated_[i] ? " (of views) " : " ") + n.outputs[0].str(); });
      if (delegated_[i]) set(i, run_delegated(*delegated_[i], ops));
      else if (n.op == Op::Constant) values[sched_.first[i]] = n.constant;
      else set(i, run_node(n, ops, be_, threads_));
      sched_.release(sched_.inputs[i], i, values);
    }
    return sched_.results(values);
  }

 private:
  struct Delegated {
    Graph graph;                     // transposes feeding a convolution (conv_through_views)
    std::unique_ptr<Executable> exe;  // on oneDNN
  };

  // On oneDNN, or node by node when it has been turned off since (set_use_onednn).
  std::vector<BufferPtr> run_delegated(const Delegated& d, std::span<const Operand> in) const {
    if (onednn_wanted) {
      std::vector<BufferPtr> buffers;
      for (const Operand& o : in) buffers.push_back(o.buffer);
      return d.exe->run(buffers);
    }
    std::unordered_map<const Node*, std::vector<BufferPtr>> values;
    for (const auto& n : d.graph.nodes) {
      if (n->op == Op::Parameter) {
        values[n.get()] = {in[static_cast<size_t>(n->param_index)].buffer};
        continue;
      }
      std::vector<Operand> ops;
      for (const Value& v : n->inputs) ops.push_back({v.type(), values.at(v.node.get())[static_cast<size_t>(v.index)]});
      values[n.get()] = run_node(*n, ops, be_, threads_);
    }
    const Value& out = d.graph.outputs[0];
    return {values.at(out.node.get())[static_cast<size_t>(out.index)]};
  }

  // "kernel add+max+... -> f32(128, 32, 28, 28)" for the profile.
  std::string group_label(const Group& grp) const {
    std::string ops;
    for (size_t k = 0; k < grp.nodes.size(); ++k) {
      const Op op = graph_.nodes[grp.nodes[k]]->op;
      if (op == Op::Parameter || op == Op::Constant) continue;
      if (k >= 6) {
        ops += "+...";
        break;
      }
      if (!ops.empty()) ops += '+';
      ops += op_name(op);
    }
    return "kernel " + ops + " -> " + graph_.nodes[grp.nodes.back()]->outputs[0].str();
  }

  // The liveness plan: which kernel outputs may be written over an input. An
  // elementwise kernel reads a whole (unmapped) input at element e before it writes an
  // output that depends on it at e, so that output may take the input's buffer when the
  // input is not read after this kernel, has the same size, is read by the kernel once,
  // and is not a constant or a parameter the caller did not donate.
  void plan_in_place(const std::vector<bool>& donate) {
    in_place_.resize(part_.groups.size());
    for (size_t gi = 0; gi < part_.groups.size(); ++gi) {
      const Group& grp = part_.groups[gi];
      const KernelSpec& spec = grp.spec;
      if (spec.mode != Mode::elementwise) continue;
      std::vector<bool> taken(grp.inputs.size());
      for (size_t k = 0; k < grp.outputs.size(); ++k) {
        std::vector<bool> reads(spec.code.size());  // the instructions output k depends on
        reads[static_cast<size_t>(spec.outputs[k])] = true;
        for (size_t i = spec.code.size(); i-- > 0;)
          if (reads[i])
            for (int o : spec.code[i].operands) reads[static_cast<size_t>(o)] = true;
        for (size_t i = 0; i < spec.code.size(); ++i) {
          const KernelSpec::Instr& ins = spec.code[i];
          if (!reads[i] || ins.op != Op::Parameter || ins.map >= 0) continue;
          size_t j = static_cast<size_t>(ins.input);
          const ValueRef& r = grp.inputs[j];
          const Node& src = *graph_.nodes[r.node];
          bool once = std::count_if(grp.inputs.begin(), grp.inputs.end(),
                                    [&](const ValueRef& o) { return o.node == r.node && o.index == r.index; }) == 1;
          bool mine = src.op != Op::Constant && (src.op != Op::Parameter || (static_cast<size_t>(src.param_index) < donate.size() &&
                                                                             donate[static_cast<size_t>(src.param_index)]));
          if (taken[j] || spec.inputs[j].access != KernelSpec::Access::full || !once || !mine ||
              sched_.last_use[r.node] != grp.nodes.back() ||
              src.outputs[r.index].bytes() != graph_.nodes[grp.outputs[k]]->outputs[0].bytes())
            continue;
          taken[j] = true;
          in_place_[gi].push_back({k, j});
          break;
        }
      }
    }
  }


  Graph graph_;
  Backend& be_;
  int threads_;
  std::vector<bool> viewed_;  // per node: a transpose oneDNN reads as a view (no copy)
  Partition part_;
  std::vector<KernelFn> kernels_;  // per group
  Schedule sched_;  // where values come from and go; its inputs read transposes' operands for delegated convolutions
  std::vector<std::vector<std::pair<size_t, size_t>>> in_place_;  // per group: (output, input) sharing a buffer
  std::vector<std::optional<Delegated>> delegated_;  // per node: a convolution run with its transposes
};

class LlvmBackend : public Backend {
 public:
  std::string_view name() const override { return "llvm"; }
  BufferPtr allocate(size_t bytes) override { return make_host_buffer(this, bytes); }
  // One node (eager): a small one on interp (a kernel launch or oneDNN's setup would
  // cost more than the work), a shape op there too (its kernel, specialised to its
  // shapes, would compile for each new shape to make one copy), others as a one-node
  // graph through the same path as compiled graphs.
  std::vector<BufferPtr> execute(const Node& node, std::span<const Operand> inputs) override {
    if (small(node, inputs) || is_view_op(node.op)) return runner_for(node, inputs).execute(node, inputs);
    std::vector<TensorType> types;
    for (const Operand& o : inputs) types.push_back(o.type);
    Graph g = single_node_graph(node, types);
    Partition part = partition(g);
    auto call = std::find_if(g.nodes.begin(), g.nodes.end(), [&](const auto& n) { return n == g.outputs[0].node; });
    int gi = part.group_of[static_cast<size_t>(call - g.nodes.begin())];
    if (gi < 0) return run_node(node, inputs, *this, 0);
    std::vector<BufferPtr> in;
    for (const Operand& o : inputs) in.push_back(o.buffer);
    const Group& grp = part.groups[static_cast<size_t>(gi)];
    return run_group(grp, compile_kernel(grp.spec), in, g, *this, 0);
  }
  BufferPtr execute1(const Node& node, std::span<const Operand> inputs) override {
    if (small(node, inputs)) return interp().execute1(node, inputs);
    if (is_view_op(node.op)) return fallback().execute1(node, inputs);
    return std::move(execute(node, inputs).at(0));
  }
  std::unique_ptr<Executable> compile(const Graph& graph, const CompileOptions& opts) override {
    return std::make_unique<Compiled>(graph, *this, opts);
  }
};

}  // namespace
}  // namespace llvm_backend

void register_llvm_backend() {
  register_backend("llvm", [] { return std::make_unique<llvm_backend::LlvmBackend>(); });
}

// Registered when the program starts, whatever headers it includes: nxpp::nxpp's link
// options name this symbol (-u), so the linker keeps this object in every program.
extern "C" const bool nx_llvm_backend_registered = (register_llvm_backend(), true);

std::string llvm_jit::fusion_report(const Graph& graph) {
  return llvm_backend::partition(graph, llvm_backend::transposes_for_onednn(graph)).describe(graph);
}

llvm_jit::CompileStats llvm_jit::compile_stats() {
  llvm_backend::CompileTimes t = llvm_backend::total_compile_times();
  return {t.compiled, t.loaded, t.emit_ms, t.optimize_ms, t.codegen_ms, t.load_ms};
}

void llvm_jit::set_disk_cache(const std::string& dir) { llvm_backend::set_cache_root(dir); }
std::string llvm_jit::disk_cache() { return llvm_backend::cache_root(); }
void llvm_jit::clear_memory_cache() { llvm_backend::forget_kernels(); }
void llvm_jit::set_use_onednn(bool use) { llvm_backend::onednn_wanted = use; }
std::vector<std::string> llvm_jit::gemm_kernels() { return llvm_backend::gemm_kernels(); }
std::string llvm_jit::gemm_kernel() { return llvm_backend::gemm_kernel(); }
void llvm_jit::set_gemm_kernel(const std::string& name, Where where) { llvm_backend::set_gemm_kernel(name, where); }
void llvm_jit::set_disk_cache_limit(size_t bytes) { detail::set_cache_limit(bytes); }
size_t llvm_jit::disk_cache_limit() { return static_cast<size_t>(detail::cache_limit()); }
bool llvm_jit::use_onednn() { return llvm_backend::onednn_wanted && llvm_backend::onednn(); }

}  // namespace nx
