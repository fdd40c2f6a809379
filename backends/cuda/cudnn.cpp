#include "cudnn.hpp"

#include <cudnn_graph.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <optional>
#include <unordered_map>
#include <vector>

#include "blaslt.hpp"
#include "device.hpp"
#include "kernels.hpp"
#include "nx/error.hpp"
#include "shared_library.hpp"

// The operation graph's and plan's handle attributes are deprecated from cuDNN 9.x in
// favour of device properties, which older 9.x lack; the handle works in every 9.x.
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"

namespace nx::cuda_backend {
namespace {

// The entry points used, from the library loaded at run time.
struct Library {
  SharedLibrary so{{"libcudnn.so.9", "libcudnn.so"}, "cuDNN 9"};
  decltype(&cudnnGetVersion) version = nullptr;
  decltype(&cudnnGetErrorString) error_string = nullptr;
  decltype(&cudnnCreate) create = nullptr;
  decltype(&cudnnSetStream) set_stream = nullptr;
  decltype(&cudnnBackendCreateDescriptor) create_descriptor = nullptr;
  decltype(&cudnnBackendDestroyDescriptor) destroy_descriptor = nullptr;
  decltype(&cudnnBackendSetAttribute) set_attribute = nullptr;
  decltype(&cudnnBackendGetAttribute) get_attribute = nullptr;
  decltype(&cudnnBackendFinalize) finalize = nullptr;
  decltype(&cudnnBackendExecute) execute = nullptr;
  const std::string& missing() const { return so.missing(); }
};

const Library& library() {
  static const Library lib = [] {
    Library l;
    l.so.bind(l.version, "cudnnGetVersion");
    l.so.bind(l.error_string, "cudnnGetErrorString");
    l.so.bind(l.create, "cudnnCreate");
    l.so.bind(l.set_stream, "cudnnSetStream");
    l.so.bind(l.create_descriptor, "cudnnBackendCreateDescriptor");
    l.so.bind(l.destroy_descriptor, "cudnnBackendDestroyDescriptor");
    l.so.bind(l.set_attribute, "cudnnBackendSetAttribute");
    l.so.bind(l.get_attribute, "cudnnBackendGetAttribute");
    l.so.bind(l.finalize, "cudnnBackendFinalize");
    l.so.bind(l.execute, "cudnnBackendExecute");
    if (l.missing().empty() && l.version() < 90000) l.so.set_missing("cuDNN " + std::to_string(l.version()) + " is older than 9");
    return l;
  }();
  return lib;
}

void ok(cudnnStatus_t s, const char* what) {
  if (s != CUDNN_STATUS_SUCCESS) throw Error("cudnn", std::string(what) + ": " + library().error_string(s));
}

// A backend descriptor, destroyed with its owner.
class Desc {
 public:
  explicit Desc(cudnnBackendDescriptorType_t type) { ok(library().create_descriptor(type, &d_), "create descriptor"); }
  ~Desc() {
    if (d_) library().destroy_descriptor(d_);
  }
  Desc(const Desc&) = delete;
  Desc& operator=(const Desc&) = delete;
  cudnnBackendDescriptor_t get() const { return d_; }
  void set(cudnnBackendAttributeName_t name, cudnnBackendAttributeType_t type, int64_t count, const void* values) {
    ok(library().set_attribute(d_, name, type, count, values), "set attribute");
  }
  void set(cudnnBackendAttributeName_t name, const std::vector<int64_t>& v) {
    set(name, CUDNN_TYPE_INT64, static_cast<int64_t>(v.size()), v.data());
  }
  void set(cudnnBackendAttributeName_t name, const Desc& d) {
    cudnnBackendDescriptor_t raw = d.get();
    set(name, CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, &raw);
  }
  void finalize(const char* what) { ok(library().finalize(d_), what); }

 private:
  cudnnBackendDescriptor_t d_ = nullptr;
};

cudnnDataType_t data_type(DType t) {
  switch (t) {
    case DType::f64: return CUDNN_DATA_DOUBLE;
    case DType::f16: return CUDNN_DATA_HALF;
    case DType::bf16: return CUDNN_DATA_BFLOAT16;
    default: return CUDNN_DATA_FLOAT;
  }
}

constexpr int64_t kAlignment = 16;  // bytes; pool buffers are aligned far more

std::vector<int64_t> packed_strides(const std::vector<int64_t>& dims) {
  std::vector<int64_t> s(dims.size(), 1);
  for (size_t d = dims.size(); d-- > 1;) s[d - 1] = s[d] * dims[d];
  return s;
}
int64_t elements(const std::vector<int64_t>& dims) {
  int64_t n = 1;
  for (int64_t d : dims) n *= d;
  return n;
}

// dst's view = src's view (element by element; dims up to 5).
void copy_view(const void* src, const std::vector<int64_t>& src_strides, void* dst, const std::vector<int64_t>& dst_strides,
               const std::vector<int64_t>& dims, DType t) {
  const void* kernel = load_source(view_copy_source(item_size(t)), "nx_view_copy");
  size_t pad = kMaxViewDims - dims.size();
  std::vector<long long> v(3 * kMaxViewDims, 0);
  for (size_t d = 0; d < kMaxViewDims; ++d) {
    bool real = d >= pad;
    v[d] = real ? dims[d - pad] : 1;
    v[kMaxViewDims + d] = real ? src_strides[d - pad] : 0;
    v[2 * kMaxViewDims + d] = real ? dst_strides[d - pad] : 0;
  }
  std::vector<void*> args{&src, &dst};
  for (long long& e : v) args.push_back(&e);
  long long count = elements(dims);
  args.push_back(&count);
  launch_counted(kernel, args, count);
}

// One problem's descriptors up to its operation (kept alive while plans use them).
struct Described {
  Desc x{CUDNN_BACKEND_TENSOR_DESCRIPTOR}, w{CUDNN_BACKEND_TENSOR_DESCRIPTOR}, y{CUDNN_BACKEND_TENSOR_DESCRIPTOR};
  Desc conv{CUDNN_BACKEND_CONVOLUTION_DESCRIPTOR};
  std::unique_ptr<Desc> op;
};

// The uid of a tensor is its node operand plus one (x, w and y in variant packs).
int64_t uid(const CudnnView& v) { return v.operand + 1; }

std::unique_ptr<Described> describe(const CudnnConv& c, DType t) {
  auto d = std::make_unique<Described>();
  cudnnDataType_t type = data_type(t);
  for (auto [desc, view] : {std::pair{&d->x, &c.x}, std::pair{&d->w, &c.w}, std::pair{&d->y, &c.y}}) {
    int64_t id = uid(*view), alignment = kAlignment;
    desc->set(CUDNN_ATTR_TENSOR_DATA_TYPE, CUDNN_TYPE_DATA_TYPE, 1, &type);
    desc->set(CUDNN_ATTR_TENSOR_DIMENSIONS, view->dims);
    desc->set(CUDNN_ATTR_TENSOR_STRIDES, view->strides);
    desc->set(CUDNN_ATTR_TENSOR_UNIQUE_ID, CUDNN_TYPE_INT64, 1, &id);
    desc->set(CUDNN_ATTR_TENSOR_BYTE_ALIGNMENT, CUDNN_TYPE_INT64, 1, &alignment);
    desc->finalize("tensor descriptor");
  }
  cudnnDataType_t compute = t == DType::f64 ? CUDNN_DATA_DOUBLE : CUDNN_DATA_FLOAT;
  cudnnConvolutionMode_t mode = c.flip ? CUDNN_CONVOLUTION : CUDNN_CROSS_CORRELATION;
  int64_t spatial = static_cast<int64_t>(c.pre.size());
  d->conv.set(CUDNN_ATTR_CONVOLUTION_COMP_TYPE, CUDNN_TYPE_DATA_TYPE, 1, &compute);
  d->conv.set(CUDNN_ATTR_CONVOLUTION_CONV_MODE, CUDNN_TYPE_CONVOLUTION_MODE, 1, &mode);
  d->conv.set(CUDNN_ATTR_CONVOLUTION_SPATIAL_DIMS, CUDNN_TYPE_INT64, 1, &spatial);
  d->conv.set(CUDNN_ATTR_CONVOLUTION_PRE_PADDINGS, c.pre);
  d->conv.set(CUDNN_ATTR_CONVOLUTION_POST_PADDINGS, c.post);
  d->conv.set(CUDNN_ATTR_CONVOLUTION_FILTER_STRIDES, c.strides);
  d->conv.set(CUDNN_ATTR_CONVOLUTION_DILATIONS, c.dilations);
  d->conv.finalize("convolution descriptor");

  struct Names {
    cudnnBackendDescriptorType_t type;
    cudnnBackendAttributeName_t alpha, beta, conv, x, w, y;
  };
  Names n = c.op == CudnnOp::forward
                ? Names{CUDNN_BACKEND_OPERATION_CONVOLUTION_FORWARD_DESCRIPTOR, CUDNN_ATTR_OPERATION_CONVOLUTION_FORWARD_ALPHA,
                        CUDNN_ATTR_OPERATION_CONVOLUTION_FORWARD_BETA, CUDNN_ATTR_OPERATION_CONVOLUTION_FORWARD_CONV_DESC,
                        CUDNN_ATTR_OPERATION_CONVOLUTION_FORWARD_X, CUDNN_ATTR_OPERATION_CONVOLUTION_FORWARD_W,
                        CUDNN_ATTR_OPERATION_CONVOLUTION_FORWARD_Y}
            : c.op == CudnnOp::backward_data
                ? Names{CUDNN_BACKEND_OPERATION_CONVOLUTION_BACKWARD_DATA_DESCRIPTOR, CUDNN_ATTR_OPERATION_CONVOLUTION_BWD_DATA_ALPHA,
                        CUDNN_ATTR_OPERATION_CONVOLUTION_BWD_DATA_BETA, CUDNN_ATTR_OPERATION_CONVOLUTION_BWD_DATA_CONV_DESC,
                        CUDNN_ATTR_OPERATION_CONVOLUTION_BWD_DATA_DX, CUDNN_ATTR_OPERATION_CONVOLUTION_BWD_DATA_W,
                        CUDNN_ATTR_OPERATION_CONVOLUTION_BWD_DATA_DY}
                : Names{CUDNN_BACKEND_OPERATION_CONVOLUTION_BACKWARD_FILTER_DESCRIPTOR,
                        CUDNN_ATTR_OPERATION_CONVOLUTION_BWD_FILTER_ALPHA, CUDNN_ATTR_OPERATION_CONVOLUTION_BWD_FILTER_BETA,
                        CUDNN_ATTR_OPERATION_CONVOLUTION_BWD_FILTER_CONV_DESC, CUDNN_ATTR_OPERATION_CONVOLUTION_BWD_FILTER_X,
                        CUDNN_ATTR_OPERATION_CONVOLUTION_BWD_FILTER_DW, CUDNN_ATTR_OPERATION_CONVOLUTION_BWD_FILTER_DY};
  d->op = std::make_unique<Desc>(n.type);
  double alpha64 = 1, beta64 = 0;
  float alpha32 = 1, beta32 = 0;
  bool wide = t == DType::f64;
  d->op->set(n.alpha, wide ? CUDNN_TYPE_DOUBLE : CUDNN_TYPE_FLOAT, 1, wide ? static_cast<const void*>(&alpha64) : &alpha32);
  d->op->set(n.beta, wide ? CUDNN_TYPE_DOUBLE : CUDNN_TYPE_FLOAT, 1, wide ? static_cast<const void*>(&beta64) : &beta32);
  d->op->set(n.conv, d->conv);
  d->op->set(n.x, d->x);
  d->op->set(n.w, d->w);
  d->op->set(n.y, d->y);
  d->op->finalize("convolution operation");
  return d;
}

std::atomic<bool> enabled{[] {
  const char* e = std::getenv("NX_CUDA_CUDNN");
  return !(e && std::strcmp(e, "0") == 0);
}()};

std::mutex handle_mutex;  // the handle's stream is set per call; one call at a time
cudnnHandle_t handle() {
  static const cudnnHandle_t h = [] {
    need_device();
    cudnnHandle_t made = nullptr;
    ok(library().create(&made), "cudnnCreate");
    return made;
  }();
  return h;
}

// Whether an engine's notes allow it for dtype t (see the header), and whether it compiles
// at run time.
struct EngineNotes {
  bool allowed = true, runtime_compiled = false;
};
EngineNotes notes_of(const Desc& config, DType t) {
  Desc engine(CUDNN_BACKEND_ENGINE_DESCRIPTOR);
  cudnnBackendDescriptor_t raw = engine.get();
  int64_t count = 0;
  ok(library().get_attribute(config.get(), CUDNN_ATTR_ENGINECFG_ENGINE, CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, &count, &raw),
     "engine of a configuration");
  std::vector<cudnnBackendNumericalNote_t> numerical(CUDNN_NUMERICAL_NOTE_TYPE_COUNT);
  ok(library().get_attribute(raw, CUDNN_ATTR_ENGINE_NUMERICAL_NOTE, CUDNN_TYPE_NUMERICAL_NOTE,
                             static_cast<int64_t>(numerical.size()), &count, numerical.data()),
     "numerical notes");
  numerical.resize(static_cast<size_t>(std::clamp<int64_t>(count, 0, CUDNN_NUMERICAL_NOTE_TYPE_COUNT)));
  std::vector<cudnnBackendBehaviorNote_t> behavior(CUDNN_BEHAVIOR_NOTE_TYPE_COUNT);
  ok(library().get_attribute(raw, CUDNN_ATTR_ENGINE_BEHAVIOR_NOTE, CUDNN_TYPE_BEHAVIOR_NOTE,
                             static_cast<int64_t>(behavior.size()), &count, behavior.data()),
     "behavior notes");
  behavior.resize(static_cast<size_t>(std::clamp<int64_t>(count, 0, CUDNN_BEHAVIOR_NOTE_TYPE_COUNT)));
  EngineNotes e;
  bool strict_f32 = t == DType::f32 && !tf32();
  for (cudnnBackendNumericalNote_t note : numerical)
    if (note == CUDNN_NUMERICAL_NOTE_NONDETERMINISTIC || note == CUDNN_NUMERICAL_NOTE_REDUCED_PRECISION_REDUCTION ||
        note == CUDNN_NUMERICAL_NOTE_DOWN_CONVERT_INPUTS || (strict_f32 && note == CUDNN_NUMERICAL_NOTE_TENSOR_CORE))
      e.allowed = false;
  e.runtime_compiled = std::find(behavior.begin(), behavior.end(), CUDNN_BEHAVIOR_NOTE_RUNTIME_COMPILATION) != behavior.end();
  return e;
}

// A finalised plan with what it refers to.
struct Plan {
  std::unique_ptr<Described> described;
  std::unique_ptr<Desc> graph, plan;
  std::vector<std::unique_ptr<Desc>> heuristics, configs;
  int64_t workspace = 0;
};

// The engine configurations cuDNN's heuristics propose in `mode`, best first (kept in p).
std::vector<const Desc*> proposals(Plan& p, cudnnBackendHeurMode_t mode) {
  auto& heur = *p.heuristics.emplace_back(std::make_unique<Desc>(CUDNN_BACKEND_ENGINEHEUR_DESCRIPTOR));
  heur.set(CUDNN_ATTR_ENGINEHEUR_OPERATION_GRAPH, *p.graph);
  heur.set(CUDNN_ATTR_ENGINEHEUR_MODE, CUDNN_TYPE_HEUR_MODE, 1, &mode);
  heur.finalize("engine heuristics");
  int64_t count = 0, returned = 0;
  ok(library().get_attribute(heur.get(), CUDNN_ATTR_ENGINEHEUR_RESULTS, CUDNN_TYPE_BACKEND_DESCRIPTOR, 0, &count, nullptr),
     "heuristics' count");
  std::vector<cudnnBackendDescriptor_t> raw;
  std::vector<const Desc*> out;
  for (int64_t i = 0; i < count; ++i) {
    out.push_back(p.configs.emplace_back(std::make_unique<Desc>(CUDNN_BACKEND_ENGINECFG_DESCRIPTOR)).get());
    raw.push_back(out.back()->get());
  }
  ok(library().get_attribute(heur.get(), CUDNN_ATTR_ENGINEHEUR_RESULTS, CUDNN_TYPE_BACKEND_DESCRIPTOR, count, &returned,
                             raw.data()),
     "heuristics' results");
  out.resize(static_cast<size_t>(std::clamp<int64_t>(returned, 0, count)));
  return out;
}

std::unique_ptr<Plan> make_plan(const CudnnConv& c, DType t) {
  auto p = std::make_unique<Plan>();
  p->described = describe(c, t);
  std::lock_guard lock(handle_mutex);  // the handle serves one call at a time
  cudnnHandle_t h = handle();
  p->graph = std::make_unique<Desc>(CUDNN_BACKEND_OPERATIONGRAPH_DESCRIPTOR);
  p->graph->set(CUDNN_ATTR_OPERATIONGRAPH_OPS, *p->described->op);
  p->graph->set(CUDNN_ATTR_OPERATIONGRAPH_HANDLE, CUDNN_TYPE_HANDLE, 1, &h);
  p->graph->finalize("operation graph");
  for (cudnnBackendHeurMode_t mode : {CUDNN_HEUR_MODE_A, CUDNN_HEUR_MODE_FALLBACK}) {
    std::vector<const Desc*> configs = proposals(*p, mode);
    for (bool compiled_too : {false, true})
      for (const Desc* config : configs) {
        EngineNotes e = notes_of(*config, t);
        if (!e.allowed || e.runtime_compiled != compiled_too) continue;
        auto plan = std::make_unique<Desc>(CUDNN_BACKEND_EXECUTION_PLAN_DESCRIPTOR);
        plan->set(CUDNN_ATTR_EXECUTION_PLAN_HANDLE, CUDNN_TYPE_HANDLE, 1, &h);
        plan->set(CUDNN_ATTR_EXECUTION_PLAN_ENGINE_CONFIG, *config);
        if (library().finalize(plan->get()) != CUDNN_STATUS_SUCCESS) continue;  // this engine cannot: the next
        int64_t count = 0;
        ok(library().get_attribute(plan->get(), CUDNN_ATTR_EXECUTION_PLAN_WORKSPACE_SIZE, CUDNN_TYPE_INT64, 1, &count,
                                   &p->workspace),
           "workspace size");
        p->plan = std::move(plan);
        return p;
      }
  }
  return nullptr;
}

// Plans by problem, dtype and TF32 setting; null: none (cuDNN declined or failed), and
// what happened, for cudnn_report.
std::mutex plans_mutex;
std::unordered_map<std::string, std::shared_ptr<const Plan>> plans;
std::atomic<int64_t> runs{0}, declined{0}, failed{0};
std::string last_failure;  // under plans_mutex

std::string plan_key(const CudnnConv& c, DType t) { return c.key() + std::string(name(t)) + (tf32() ? "t" : ""); }

std::shared_ptr<const Plan> plan_for(const CudnnConv& c, DType t) {
  std::string key = plan_key(c, t);
  std::lock_guard lock(plans_mutex);
  auto it = plans.find(key);
  if (it != plans.end()) return it->second;
  std::shared_ptr<const Plan> made;
  try {
    made = make_plan(c, t);
    if (!made) ++declined;
  } catch (const Error& e) {
    ++declined;
    last_failure = e.what();
  }
  return plans[key] = made;
}

// After a failed execution the problem goes to the columns path from then on.
void drop_plan(const CudnnConv& c, DType t, const Error& e) {
  std::lock_guard lock(plans_mutex);
  plans[plan_key(c, t)] = nullptr;
  last_failure = e.what();
  ++failed;
}

}  // namespace

std::string cudnn_unavailable_reason() { return library().missing(); }

std::string view_copy_source(size_t item_bytes) {
  const char* type = item_bytes == 8 ? "unsigned long long" : item_bytes == 4 ? "unsigned" : item_bytes == 2 ? "unsigned short" : "unsigned char";
  return std::string("typedef ") + type + R"( T;
extern "C" __global__ void nx_view_copy(const T* src, T* dst, long long n0, long long n1, long long n2, long long n3,
                                        long long n4, long long s0, long long s1, long long s2, long long s3, long long s4,
                                        long long t0, long long t1, long long t2, long long t3, long long t4, long long count) {
  for (long long e = blockIdx.x * (long long)blockDim.x + threadIdx.x; e < count; e += (long long)gridDim.x * blockDim.x) {
    long long r = e, i4 = r % n4;
    r /= n4;
    long long i3 = r % n3;
    r /= n3;
    long long i2 = r % n2;
    r /= n2;
    long long i1 = r % n1, i0 = r / n1;
    dst[i0 * t0 + i1 * t1 + i2 * t2 + i3 * t3 + i4 * t4] = src[i0 * s0 + i1 * s1 + i2 * s2 + i3 * s3 + i4 * s4];
  }
}
)";
}

CudnnConv packed_problem(const CudnnConv& c) {
  CudnnConv packed = c;
  for (CudnnView* v : {&packed.x, &packed.w, &packed.y}) v->strides = packed_strides(v->dims);
  return packed;
}

std::string cudnn_describe(const CudnnConv& c, DType t) {
  if (!library().missing().empty()) return library().missing();
  try {
    describe(c, t);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

void set_cudnn(bool on) { enabled = on; }
bool cudnn_enabled() { return enabled && library().missing().empty(); }

BufferPtr cudnn_conv(const Node& n, std::span<const Operand> in, Backend& be) {
  DType t = n.outputs[0].dtype;
  bool floating = t == DType::f32 || t == DType::f64 || t == DType::bf16 || t == DType::f16;
  if (!floating || in[0].type.dtype != t || in[1].type.dtype != t || !cudnn_enabled()) return nullptr;
  std::optional<CudnnConv> c = cudnn_conv_problem(n.attrs, in[0].type.shape, in[1].type.shape, n.outputs[0].shape);
  if (!c) return nullptr;
  CudnnConv packed = packed_problem(*c);
  std::shared_ptr<const Plan> plan = plan_for(packed, t);
  if (!plan) return nullptr;
  BufferPtr out = be.allocate(n.outputs[0].bytes());
  void* operands[3] = {in[0].buffer->data(), in[1].buffer->data(), out->data()};
  const CudnnView* written = c->op == CudnnOp::forward ? &c->y : c->op == CudnnOp::backward_data ? &c->x : &c->w;
  std::vector<BufferPtr> copies;
  std::vector<void*> pointers;
  for (const CudnnView* v : {&c->x, &c->w, &c->y}) {
    void* at = operands[v->operand];
    if (v->strides != packed_strides(v->dims)) {
      copies.push_back(be.allocate(static_cast<size_t>(elements(v->dims)) * item_size(t)));
      if (v != written) copy_view(at, v->strides, copies.back()->data(), packed_strides(v->dims), v->dims, t);
      at = copies.back()->data();
    }
    if (reinterpret_cast<uintptr_t>(at) % kAlignment != 0) return nullptr;
    pointers.push_back(at);
  }
  BufferPtr workspace = plan->workspace > 0 ? be.allocate(static_cast<size_t>(plan->workspace)) : nullptr;
  std::vector<int64_t> uids{uid(c->x), uid(c->w), uid(c->y)};
  void* space = workspace ? workspace->data() : nullptr;
  try {
    Desc pack(CUDNN_BACKEND_VARIANT_PACK_DESCRIPTOR);
    pack.set(CUDNN_ATTR_VARIANT_PACK_UNIQUE_IDS, uids);
    pack.set(CUDNN_ATTR_VARIANT_PACK_DATA_POINTERS, CUDNN_TYPE_VOID_PTR, 3, pointers.data());
    pack.set(CUDNN_ATTR_VARIANT_PACK_WORKSPACE, CUDNN_TYPE_VOID_PTR, 1, &space);
    pack.finalize("variant pack");
    std::lock_guard lock(handle_mutex);
    ok(library().set_stream(handle(), stream()), "cudnnSetStream");
    ok(library().execute(handle(), plan->plan->get(), pack.get()), "execute");
  } catch (const Error& e) {
    drop_plan(packed, t, e);
    return nullptr;
  }
  size_t w = written == &c->x ? 0 : written == &c->w ? 1 : 2;
  if (pointers[w] != operands[written->operand])
    copy_view(pointers[w], packed_strides(written->dims), operands[written->operand], written->strides, written->dims, t);
  ++runs;
  return out;
}

std::string cudnn_report() {
  if (!library().missing().empty()) return library().missing();
  std::lock_guard lock(plans_mutex);
  std::string s = "cuDNN " + std::to_string(library().version()) + (enabled ? "" : " (off)") + ": " +
                  std::to_string(runs) + " convolutions run, " + std::to_string(plans.size()) + " problems planned, " +
                  std::to_string(declined) + " declined, " + std::to_string(failed) + " failed when run";
  return last_failure.empty() ? s : s + "; last: " + last_failure;
}

}  // namespace nx::cuda_backend
