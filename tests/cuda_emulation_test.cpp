// The cuda backend's kernels run on the CPU: the CUDA C++ emitted for a fusion group,
// compiled by the host compiler beside a small emulation of CUDA's execution model (a
// thread per CUDA thread, blocks one after another, __syncthreads and warp shuffles as
// barriers), launched as the backend's launch plan says (grids, partial results, folds),
// and compared with interp. This checks what NVRTC's compile cannot: that the kernels
// compute the right values (every mode, both rows variants, chunked columns, multi-block
// reductions, index maps, NaN), on machines without a GPU. Skips without a host compiler.
#include <gtest/gtest.h>

#include <nx/config.hpp>

#if NX_HAS_CUDA
#include <Eigen/Dense>
#include <dlfcn.h>
#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <string>

#include "../backends/cuda/arg_reduce.hpp"
#include "../backends/cuda/scan.hpp"
#include "../backends/cuda/linalg.hpp"
#include "../backends/cuda/conv.hpp"
#include "../backends/cuda/cudnn.hpp"
#include "../backends/cuda/indexing.hpp"
#include "../backends/cuda/launch_plan.hpp"
#include "../backends/cuda/random_bits.hpp"
#include "../backends/cuda/solver.hpp"
#include "../backends/cuda/sort.hpp"
#include "../backends/cuda/window.hpp"
#include "nx/detail/core.hpp"
#include "nx/nx.hpp"
#include "test_support.hpp"

namespace {

namespace fs = std::filesystem;
using nx::cuda_backend::Launch;
using nx::cuda_backend::LaunchPlan;
using nx::DType;

// CUDA's execution model on host threads, for kernels that use only what the emitter
// emits: thread and block indices, __syncthreads, __shfl_xor_sync/__shfl_sync over full
// warps, __shared__ arrays, a few bit casts and libm.
constexpr const char* kShim = R"(#include <math.h>
#include <barrier>
#include <cstring>
#include <memory>
#include <thread>
#include <utility>
#include <vector>
struct nx_dim3 { unsigned x = 1, y = 1, z = 1; };
static thread_local nx_dim3 threadIdx;
static nx_dim3 blockIdx, blockDim, gridDim;
static std::barrier<>* nx_block_barrier;
static std::vector<std::unique_ptr<std::barrier<>>> nx_warp_barriers;
static unsigned long long nx_lanes[1024];
#define __global__
#define __device__
#define __forceinline__ inline
#define __launch_bounds__(n)
#define __restrict__ __restrict
#define __shared__ static
inline void __syncthreads() { nx_block_barrier->arrive_and_wait(); }
inline float __int_as_float(int v) { float f; std::memcpy(&f, &v, 4); return f; }
inline double __longlong_as_double(long long v) { double d; std::memcpy(&d, &v, 8); return d; }
inline float __uint_as_float(unsigned v) { float f; std::memcpy(&f, &v, 4); return f; }
inline unsigned __float_as_uint(float f) { unsigned v; std::memcpy(&v, &f, 4); return v; }
inline int __clz(int x) { return x ? __builtin_clz(unsigned(x)) : 32; }
inline int __clzll(long long x) { return x ? __builtin_clzll((unsigned long long)x) : 64; }
inline int __popc(unsigned x) { return __builtin_popcount(x); }
inline int __popcll(unsigned long long x) { return __builtin_popcountll(x); }
// CUDA's erfinv, which the host's libm lacks: bisection on erf.
inline double erfinv(double x) {
  if (!(x >= -1 && x <= 1)) return NAN;
  if (x == 1 || x == -1) return x * INFINITY;
  double lo = -10, hi = 10;
  for (int i = 0; i < 200; ++i) (erf((lo + hi) / 2) < x ? lo : hi) = (lo + hi) / 2;
  return (lo + hi) / 2;
}
inline float erfinvf(float x) { return (float)erfinv(x); }
// Atomics, as real ones: the emulated threads run at once.
template <class T> T atomicAdd(T* p, T v) {
  if constexpr (sizeof(T) == 4 && !__is_same(T, float)) return __atomic_fetch_add(p, v, __ATOMIC_RELAXED);
  else if constexpr (__is_same(T, unsigned long long)) return __atomic_fetch_add(p, v, __ATOMIC_RELAXED);
  else {
    T old, want;
    __atomic_load(p, &old, __ATOMIC_RELAXED);
    do want = old + v;
    while (!__atomic_compare_exchange(p, &old, &want, false, __ATOMIC_RELAXED, __ATOMIC_RELAXED));
    return old;
  }
}
inline unsigned atomicCAS(unsigned* p, unsigned expected, unsigned desired) {
  __atomic_compare_exchange_n(p, &expected, desired, false, __ATOMIC_RELAXED, __ATOMIC_RELAXED);
  return expected;
}
inline long long atomicMax(long long* p, long long v) {
  long long old = __atomic_load_n(p, __ATOMIC_RELAXED);
  while (old < v && !__atomic_compare_exchange_n(p, &old, v, false, __ATOMIC_RELAXED, __ATOMIC_RELAXED)) {}
  return old;
}
template <class T> T nx_exchange(T v, unsigned lane) {
  unsigned t = threadIdx.x;
  unsigned long long bits = 0;
  std::memcpy(&bits, &v, sizeof(T));
  nx_lanes[t] = bits;
  nx_warp_barriers[t >> 5]->arrive_and_wait();
  bits = nx_lanes[(t & ~31u) + lane];
  nx_warp_barriers[t >> 5]->arrive_and_wait();
  T r;
  std::memcpy(&r, &bits, sizeof(T));
  return r;
}
template <class T> T __shfl_xor_sync(unsigned, T v, int o) { return nx_exchange(v, (threadIdx.x & 31u) ^ unsigned(o)); }
template <class T> T __shfl_sync(unsigned, T v, int lane) { return nx_exchange(v, unsigned(lane)); }
using nx_arg = unsigned long long;
// Every kernel parameter is a pointer or a long long: one integer register or stack
// slot each in the x86-64 calling convention, so any kernel is called as f(nx_arg...).
template <size_t... I> void nx_call(void* f, const nx_arg* a, std::index_sequence<I...>) {
  using F = void (*)(decltype((void)I, nx_arg())...);
  reinterpret_cast<F>(f)(a[I]...);
}
static void nx_invoke(void* f, const nx_arg* a, int n) {
  switch (n) {
    case 3: return nx_call(f, a, std::make_index_sequence<3>());
    case 4: return nx_call(f, a, std::make_index_sequence<4>());
    case 5: return nx_call(f, a, std::make_index_sequence<5>());
    case 6: return nx_call(f, a, std::make_index_sequence<6>());
    case 7: return nx_call(f, a, std::make_index_sequence<7>());
    case 8: return nx_call(f, a, std::make_index_sequence<8>());
    case 9: return nx_call(f, a, std::make_index_sequence<9>());
    case 10: return nx_call(f, a, std::make_index_sequence<10>());
    case 11: return nx_call(f, a, std::make_index_sequence<11>());
    case 12: return nx_call(f, a, std::make_index_sequence<12>());
    case 13: return nx_call(f, a, std::make_index_sequence<13>());
    case 14: return nx_call(f, a, std::make_index_sequence<14>());
    case 15: return nx_call(f, a, std::make_index_sequence<15>());
    case 16: return nx_call(f, a, std::make_index_sequence<16>());
    case 17: return nx_call(f, a, std::make_index_sequence<17>());
    case 18: return nx_call(f, a, std::make_index_sequence<18>());
    case 19: return nx_call(f, a, std::make_index_sequence<19>());
    case 20: return nx_call(f, a, std::make_index_sequence<20>());
    case 21: return nx_call(f, a, std::make_index_sequence<21>());
    case 22: return nx_call(f, a, std::make_index_sequence<22>());
    case 23: return nx_call(f, a, std::make_index_sequence<23>());
    case 24: return nx_call(f, a, std::make_index_sequence<24>());
    case 25: return nx_call(f, a, std::make_index_sequence<25>());
    case 26: return nx_call(f, a, std::make_index_sequence<26>());
    case 27: return nx_call(f, a, std::make_index_sequence<27>());
    case 28: return nx_call(f, a, std::make_index_sequence<28>());
    case 29: return nx_call(f, a, std::make_index_sequence<29>());
    case 30: return nx_call(f, a, std::make_index_sequence<30>());
    case 31: return nx_call(f, a, std::make_index_sequence<31>());
    case 32: return nx_call(f, a, std::make_index_sequence<32>());
    case 33: return nx_call(f, a, std::make_index_sequence<33>());
    case 34: return nx_call(f, a, std::make_index_sequence<34>());
    case 35: return nx_call(f, a, std::make_index_sequence<35>());
    case 36: return nx_call(f, a, std::make_index_sequence<36>());
    case 37: return nx_call(f, a, std::make_index_sequence<37>());
    case 38: return nx_call(f, a, std::make_index_sequence<38>());
    case 39: return nx_call(f, a, std::make_index_sequence<39>());
    case 40: return nx_call(f, a, std::make_index_sequence<40>());
    default: std::abort();
  }
}
// One host thread per CUDA thread of a block, kept for every block of the grid (blocks run
// one after another, between two barriers of all threads).
extern "C" void nx_emulate(void* f, const nx_arg* args, int n, unsigned gx, unsigned gy, unsigned bx) {
  gridDim = {gx, gy, 1};
  blockDim = {bx, 1, 1};
  blockIdx = {0, 0, 0};
  std::barrier<> block(bx), between(bx);
  nx_block_barrier = &block;
  nx_warp_barriers.clear();
  for (unsigned w = 0; w < bx / 32; ++w) nx_warp_barriers.push_back(std::make_unique<std::barrier<>>(32));
  std::vector<std::thread> threads;
  for (unsigned t = 0; t < bx; ++t)
    threads.emplace_back([=, &between] {
      threadIdx = {t, 0, 0};
      for (unsigned b = 0; b < gx * gy; ++b) {
        nx_invoke(f, args, n);
        between.arrive_and_wait();  // the block is done
        if (t == 0) blockIdx = {(b + 1) % gx, (b + 1) / gx, 0};
        between.arrive_and_wait();  // the next block's index is set
      }
    });
  for (std::thread& t : threads) t.join();
}
)";

// The host compiler ($CXX, else c++), or "" when there is none.
std::string host_compiler() {
  const char* cxx = std::getenv("CXX");
  std::string c = cxx && *cxx ? cxx : "c++";
  return std::system((c + " --version >/dev/null 2>&1").c_str()) == 0 ? c : "";
}

// A compiled kernel source loaded into this process.
class HostKernels {
 public:
  HostKernels(const std::string& source, const std::string& tag) {
    fs::path dir = fs::temp_directory_path() / ("nx_cuda_emulation_" + std::to_string(getpid()));
    fs::create_directories(dir);
    fs::path cpp = dir / (tag + ".cpp"), so = dir / (tag + ".so"), log = dir / (tag + ".log");
    std::ofstream(cpp) << kShim << source;
    std::string cmd = host_compiler() + " -std=c++20 -O1 -w -shared -fPIC -pthread -o " + so.string() + " -x c++ " +
                      cpp.string() + " >" + log.string() + " 2>&1";
    if (std::system(cmd.c_str()) != 0) {
      std::ifstream in(log);
      error_ = std::string(std::istreambuf_iterator<char>(in), {});
      return;
    }
    handle_ = dlopen(so.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (!handle_) error_ = dlerror();
  }
  ~HostKernels() {
    if (handle_) dlclose(handle_);
  }
  const std::string& error() const { return error_; }
  void launch(const std::string& name, std::vector<unsigned long long> args, const Launch& l) const {
    void* f = dlsym(handle_, name.c_str());
    ASSERT_NE(f, nullptr) << name;
    auto emulate = reinterpret_cast<void (*)(void*, const unsigned long long*, int, unsigned, unsigned, unsigned)>(
        dlsym(handle_, "nx_emulate"));
    ASSERT_NE(emulate, nullptr);
    emulate(f, args.data(), static_cast<int>(args.size()), l.grid.x, l.grid.y, l.block.x);
  }

 private:
  void* handle_ = nullptr;
  std::string error_;
};

unsigned long long arg(const void* p) { return reinterpret_cast<unsigned long long>(p); }
unsigned long long arg(int64_t v) { return static_cast<unsigned long long>(v); }

// Runs a spec's kernels on the CPU as the backend launches them over (rows, cols):
// `inputs` are its input pointers, `outs` its outputs.
void run_emulated(const HostKernels& kernels, const std::string& name, const nx::fusion::KernelSpec& spec,
                  std::vector<unsigned long long> buffers, std::vector<std::vector<std::byte>>& outs, int64_t rows,
                  int64_t cols) {
  LaunchPlan plan = nx::cuda_backend::plan_launches(spec, rows, cols, 2);
  std::vector<std::vector<std::byte>> partials;
  for (size_t o = 0; o < outs.size(); ++o) {
    partials.emplace_back(static_cast<size_t>(plan.partials[o]) * nx::cuda_backend::partial_item_size(spec, o));
    buffers.push_back(arg(plan.partials[o] ? partials.back().data() : outs[o].data()));
  }
  buffers.push_back(arg(rows));
  buffers.push_back(arg(cols));
  if (plan.chunked) buffers.push_back(arg(plan.chunk));
  for (const Launch& l : plan.launches) {
    if (l.fold < 0) kernels.launch(name + l.suffix, buffers, l);
    else {
      auto o = static_cast<size_t>(l.fold);
      kernels.launch(name + l.suffix, {arg(partials[o].data()), arg(outs[o].data()), arg(l.parts), arg(l.width)}, l);
    }
  }
}

template <class... T> void emulated_against_interp(const std::function<std::vector<nx::Tensor>(const T&...)>& f, double rel,
                                                   const T&... args) {
  std::string cxx = host_compiler();
  if (cxx.empty()) GTEST_SKIP() << "no host C++ compiler ($CXX or c++) to run the kernels with";
  std::vector<nx::Tensor> host{nx::to(args, "interp")...};
  nx::Graph g = nx::split_middle_reductions(nx::jit(f).graph(args...));
  nx::fusion::Partition part = nx::fusion::partition(g, {}, nx::cuda_backend::cuda_caps());
  ASSERT_EQ(part.groups.size(), 1u) << part.describe(g);
  const nx::fusion::Group& grp = part.groups[0];
  std::string name = "nx_emulated", source = nx::cuda_backend::emit_source(grp.spec, name);
  EXPECT_GT(nx::cuda::compile_source(source, 90), 0u) << "NVRTC compiles what the host runs";
  HostKernels kernels(source, name + std::to_string(std::hash<std::string>()(grp.spec.key())));
  ASSERT_EQ(kernels.error(), "") << source;

  std::vector<unsigned long long> buffers;
  for (const nx::fusion::ValueRef& r : grp.inputs) {
    const nx::Node* at = g.nodes[r.node].get();
    while (at->op == nx::Op::Reshape) at = at->inputs[0].node.get();  // the same bytes, as the backend shares them
    const nx::Node& n = *at;
    if (n.op == nx::Op::Parameter) buffers.push_back(arg(host[static_cast<size_t>(n.param_index)].impl()->buffer->data()));
    else if (n.op == nx::Op::Constant) buffers.push_back(arg(n.constant->data()));
    else FAIL() << "a group input computed outside the group:\n" << part.describe(g);
  }
  auto [rows, cols] = nx::cuda_backend::kernel_extent(grp);
  std::vector<std::vector<std::byte>> outs;
  for (size_t o = 0; o < grp.outputs.size(); ++o)  // poisoned: every element must be written
    outs.emplace_back(static_cast<size_t>(g.nodes[grp.outputs[o]]->outputs[0].bytes()), std::byte{0x7f});
  run_emulated(kernels, name, grp.spec, buffers, outs, rows, cols);
  std::vector<nx::Tensor> want = nx::jit(f, {.backend = "interp"})(args...);
  std::vector<nx::Tensor> got;
  for (size_t k = 0; k < g.outputs.size(); ++k) {
    size_t node = std::find_if(g.nodes.begin(), g.nodes.end(), [&](const auto& n) { return n == g.outputs[k].node; }) - g.nodes.begin();
    auto o = static_cast<size_t>(std::find(grp.outputs.begin(), grp.outputs.end(), node) - grp.outputs.begin());
    ASSERT_LT(o, grp.outputs.size()) << "graph output " << k << " is not the group's";
    const nx::TensorType& t = g.nodes[node]->outputs[0];
    got.push_back(nx::from_bytes(outs[o].data(), t.dtype, t.shape));
  }
  nx_test::expect_outputs_close(got, want, rel);
}

using F1 = std::function<std::vector<nx::Tensor>(const nx::Tensor&)>;
using F2 = std::function<std::vector<nx::Tensor>(const nx::Tensor&, const nx::Tensor&)>;

nx::Tensor data(const nx::Shape& shape, int seed, nx::DType t = nx::f32) {
  return nx::as_type(nx::random::normal(nx::random::key(seed), shape), t);
}

TEST(CudaEmulation, FlatChainVectorStepsAndTail) {
  F2 f = [](const nx::Tensor& x, const nx::Tensor& y) { return std::vector{(x * 2.0f + y) / (nx::abs(y) + 1.0f), nx::max(x, y)}; };
  emulated_against_interp(f, 0.0, data({1003, 7}, 1), data({1003, 7}, 2));  // 7021 elements: vector steps and a tail
  F1 g = [](const nx::Tensor& x) { return std::vector{nx::tanh(x) * nx::exp(x) + nx::sigmoid(x)}; };
  emulated_against_interp(g, 1e-6, data({5000}, 3));
}

TEST(CudaEmulation, BroadcastRowsAndColumnsBoolsAndDoubles) {
  F2 f = [](const nx::Tensor& x, const nx::Tensor& bias) {
    nx::Tensor b = nx::broadcast(bias, x.shape());
    nx::Tensor keep = nx::greater(x, b) || nx::is_nan(x);
    return std::vector{nx::select(keep, x - b, nx::sigmoid(x)), nx::as_type(keep, nx::f64)};
  };
  emulated_against_interp(f, 1e-15, data({37, 300}, 4, nx::f64), data({300}, 5, nx::f64));
  F2 col = [](const nx::Tensor& x, const nx::Tensor& c) { return std::vector{x * nx::reshape(c, {37, 1})}; };
  emulated_against_interp(col, 0.0, data({37, 300}, 6), data({37}, 7));
}

TEST(CudaEmulation, RowSoftmaxWarpPerRowAndBlockPerRow) {
  F1 f = [](const nx::Tensor& x) { return std::vector{nx::softmax(x), nx::log_softmax(x)}; };
  emulated_against_interp(f, 1e-5, data({19, 700}, 8));   // a warp per row: 19 rows over 3 blocks of 8 warps
  emulated_against_interp(f, 1e-5, data({3, 3000}, 9));    // a block per row
}

TEST(CudaEmulation, ColumnReductionsInChunksFolded) {
  F1 f = [](const nx::Tensor& x) { return std::vector{nx::sum(x * x, {.axes = {0}}), nx::reduce_max(x, {.axes = {0}})}; };
  emulated_against_interp(f, 1e-5, data({4000, 300}, 10));  // chunks of rows over two column blocks
}

TEST(CudaEmulation, WholeReductionsOverBlocksFolded) {
  F1 f = [](const nx::Tensor& x) { return std::vector{nx::sum(nx::exp(x)), nx::reduce_min(x)}; };
  emulated_against_interp(f, 1e-5, data({70000}, 11));
}

TEST(CudaEmulation, ProductAllAndAnyInEveryMode) {
  F1 rows = [](const nx::Tensor& x) {
    nx::Tensor near_one = 1.0f + x * 0.01f;
    return std::vector{nx::product(near_one, {.axes = {1}}), nx::all(nx::greater(x, -2.5f), {.axes = {1}}),
                       nx::any(nx::greater(x, 2.5f), {.axes = {1}})};
  };
  emulated_against_interp(rows, 1e-5, data({37, 300}, 73));
  F1 cols = [](const nx::Tensor& x) {
    return std::vector{nx::product(1.0f + x * 0.01f, {.axes = {0}}), nx::any(x, {.axes = {0}}), nx::all(x, {.axes = {0}})};
  };
  emulated_against_interp(cols, 1e-5, nx::round(data({500, 40}, 74) * 2.0f));  // zeros: all false somewhere
  F1 all = [](const nx::Tensor& x) { return std::vector{nx::product(nx::as_type(1.0f + x * 0.001f, nx::bf16)), nx::all(x), nx::any(x)}; };
  emulated_against_interp(all, 1e-2, data({20000}, 75));
}

TEST(CudaEmulation, IndexMapsAndNan) {
  F1 maps = [](const nx::Tensor& x) {
    nx::Tensor p = nx::pad(nx::slice(nx::transpose(x, {1, 0}), {1, 2}, {20, 30}), nx::scalar(0.5f, nx::f32),
                           {{1, 2, 0}, {0, 3, 0}});
    return std::vector{nx::exp(p) + nx::reverse(p, {0})};
  };
  emulated_against_interp(maps, 1e-6, data({40, 30}, 12));
  float nan = std::numeric_limits<float>::quiet_NaN();
  nx::Tensor x = nx::tensor({1.0f, nan, 3.0f, -1.0f, 2.0f, 0.5f, nan, 4.0f}).reshape({2, 4});
  F1 f = [](const nx::Tensor& a) { return std::vector{nx::reduce_max(a, {.axes = {1}}), nx::max(a, 2.0f) + nx::min(a, 0.0f)}; };
  emulated_against_interp(f, 0.0, x);
  F2 put = [](const nx::Tensor& a, const nx::Tensor& u) { return std::vector{nx::put_slice(a * 2.0f, {3, 1}, nx::exp(u)) + 1.0f}; };
  emulated_against_interp(put, 1e-6, data({9, 8}, 13), data({4, 5}, 14));
}

TEST(CudaEmulation, IntegersAsInterpComputesThem) {
  int32_t lo = std::numeric_limits<int32_t>::min();
  nx::Tensor a = nx::tensor({7, -7, 0, 5, lo, 100, -3, 2, -1, 31});
  nx::Tensor b = nx::tensor({2, 0, 3, -1, -1, 7, 40, -2, 31, 1});
  F2 f = [](const nx::Tensor& x, const nx::Tensor& y) {
    return std::vector{nx::quotient(x, y), nx::remainder(x, y), nx::left_shift(x, y), nx::right_shift(x, y), x * y + x,
                       nx::max(x, y), nx::bitwise_xor(x, y), nx::as_type(x, nx::f32) * 0.5f, nx::less(x, y), -x,
                       nx::abs(x), nx::sign(x)};
  };
  emulated_against_interp(f, 0.0, a, b);
  emulated_against_interp(f, 0.0, nx::as_type(a, nx::i64), nx::as_type(b, nx::i64));
  emulated_against_interp(f, 0.0, nx::as_type(nx::abs(a), nx::u32), nx::as_type(nx::abs(b), nx::u32));
  float nan = std::numeric_limits<float>::quiet_NaN();
  nx::Tensor x = nx::tensor({nan, 3.7f, -3.7f, 1e10f, -1e10f, 300.0f, -1.0f, 0.5f, 255.5f, -0.0f});
  F1 to_ints = [](const nx::Tensor& v) {
    return std::vector{nx::as_type(v, nx::u8), nx::as_type(v, nx::i32), nx::as_type(v, nx::i64), nx::as_type(v, nx::u32),
                       nx::as_type(v, nx::boolean)};
  };
  emulated_against_interp(to_ints, 0.0, x);
}

TEST(CudaEmulation, HalfPrecisionRoundsAfterEveryOpAsInterp) {
  float nan = std::numeric_limits<float>::quiet_NaN(), inf = std::numeric_limits<float>::infinity();
  // Subnormal, overflowing, NaN and tie-rounding values, beside ordinary ones.
  nx::Tensor special = nx::tensor({1e-7f, 6e-8f, 70000.0f, -65519.0f, nan, inf, -0.0f, 1.00048828125f, 3.0f, -2.5f, 1e-3f, 255.0f});
  for (nx::DType t : {nx::bf16, nx::f16}) {
    SCOPED_TRACE(std::string(nx::name(t)));
    F2 f = [t](const nx::Tensor& x, const nx::Tensor& y) {
      nx::Tensor a = nx::as_type(x, t), b = nx::as_type(y, t);
      return std::vector{a * b + a, nx::exp(a) - b, nx::max(a, b), nx::as_type(a, nx::f32), nx::less(a, b), nx::as_type(nx::as_type(a, nx::i32), t)};
    };
    emulated_against_interp(f, 0.0, data({1003}, 60) * 3.0f, data({1003}, 61));
    emulated_against_interp(f, 0.0, special, nx::reverse(special, {0}));
    F1 maps = [t](const nx::Tensor& x) {  // halves read through index maps, padded with a half
      nx::Tensor h = nx::as_type(x, t);
      return std::vector{nx::pad(nx::transpose(h, {1, 0}), nx::scalar(0.5f, t), {{1, 0, 0}, {2, 1, 0}}) * nx::scalar(3.0f, t)};
    };
    emulated_against_interp(maps, 0.0, data({7, 5}, 62));
  }
}

// Reductions of halves accumulate in f64 and round once, as interp: rows (a softmax), columns in chunks, and whole arrays over blocks, all folded.
TEST(CudaEmulation, HalfPrecisionReductionsRoundOnce) {
  auto rows = [](nx::DType t) {
    return F1([t](const nx::Tensor& x) {
      nx::Tensor h = nx::as_type(x, t);
      return std::vector{nx::softmax(h), nx::reduce_max(h, {.axes = {1}}), nx::sum(h, {.axes = {1}})};
    });
  };
  auto cols = [](nx::DType t) { return F1([t](const nx::Tensor& x) { return std::vector{nx::sum(nx::as_type(x, t), {.axes = {0}})}; }); };
  auto all = [](nx::DType t) {
    return F1([t](const nx::Tensor& x) { return std::vector{nx::sum(nx::as_type(x, t)), nx::reduce_min(nx::as_type(x, t))}; });
  };
  emulated_against_interp(rows(nx::bf16), 0.0, data({19, 700}, 67));  // a warp per row
  emulated_against_interp(rows(nx::f16), 0.0, data({3, 3000}, 68));   // a block per row
  emulated_against_interp(cols(nx::f16), 0.0, data({1000, 300}, 69)); // chunks of rows
  emulated_against_interp(cols(nx::bf16), 0.0, data({20, 300}, 70));  // one chunk: folded all the same
  emulated_against_interp(all(nx::bf16), 0.0, data({20000}, 71));
  emulated_against_interp(all(nx::f16), 0.0, data({100}, 72));
}

TEST(CudaEmulation, EveryFloatFunctionAndIntegerBitOp) {
  F2 f = [](const nx::Tensor& x, const nx::Tensor& y) {
    nx::Tensor u = nx::tanh(x) * 0.9f;  // in (-1, 1)
    return std::vector{nx::tan(x), nx::asin(u), nx::acos(u), nx::atan(x), nx::sinh(x), nx::cosh(x), nx::asinh(x),
                       nx::acosh(nx::abs(x) + 1.0f), nx::atanh(u), nx::erfc(x), nx::erf_inv(u), nx::cbrt(x), nx::atan2(x, y),
                       nx::remainder(x * 5.0f, y)};
  };
  emulated_against_interp(f, 2e-6, data({2000}, 62), data({2000}, 63));
  emulated_against_interp(f, 1e-14, data({300}, 64, nx::f64), data({300}, 65, nx::f64));
  F1 h = [](const nx::Tensor& x) { return std::vector{nx::as_type(nx::sinh(nx::as_type(x, nx::bf16)), nx::f32)}; };
  emulated_against_interp(h, 0.0, data({500}, 66));
  nx::Tensor a = nx::tensor({0, 1, -1, 7, -7, 255, 1 << 20, std::numeric_limits<int32_t>::min(), 3, -2});
  nx::Tensor e = nx::tensor({3, -2, -3, 2, 3, 0, 1, 2, 21, 31});
  F2 bits = [](const nx::Tensor& x, const nx::Tensor& y) {
    return std::vector{nx::pow(x, y), nx::count_leading_zeros(x), nx::population_count(x), nx::is_nan(x), nx::is_infinity(x),
                       nx::logical_not(x)};
  };
  for (nx::DType t : {nx::i32, nx::i64, nx::u32, nx::u8}) {
    SCOPED_TRACE(std::string(nx::name(t)));
    nx::Tensor ta = nx::as_type(t == nx::u8 || t == nx::u32 ? nx::abs(a) : a, t);
    emulated_against_interp(bits, 0.0, ta, nx::as_type(t == nx::u8 || t == nx::u32 ? nx::abs(e) : e, t));
  }
}

TEST(CudaEmulation, UniformFromRandomBitsIsOneKernel) {
  // What random::uniform does to threefry's bits: shifts, an or, then a bitcast (the same
  // bytes) and a subtraction: the integer half is one kernel.
  F1 f = [](const nx::Tensor& bits) { return std::vector{nx::bitwise_or(nx::right_shift(bits, 9u), 0x3F800000u)}; };
  nx::Tensor bits = nx::as_type(nx::iota({1000}, nx::i64) * int64_t{2654435761}, nx::u32);
  emulated_against_interp(f, 0.0, bits);
}

TEST(CudaEmulation, RandomBitsAreInterpsThreefryStreams) {
  if (host_compiler().empty()) GTEST_SKIP() << "no host C++ compiler ($CXX or c++) to run the kernels with";
  const std::string& source = nx::cuda_backend::random_bits_source();
  EXPECT_GT(nx::cuda::compile_source(source, 90), 0u);
  HostKernels kernels(source, "random_bits");
  ASSERT_EQ(kernels.error(), "");
  nx::Tensor key = nx::to(nx::random::key(42), "interp");
  nx::TensorType t{nx::u32, nx::Shape{3, 1000}};
  nx::Node node{.op = nx::Op::RandomBits, .attrs = {}, .inputs = {}, .outputs = {t, t}};
  std::vector<nx::Operand> in{{key.impl()->type, key.impl()->buffer}};
  std::vector<nx::BufferPtr> want = nx::backend("interp").execute(node, in);
  std::vector<uint32_t> y0(3000), y1(3000);
  Launch l{.suffix = "", .grid = {3, 1, 1}, .block = {256, 1, 1}};  // fewer threads than counters: grid-stride
  kernels.launch("nx_random_bits", {arg(key.impl()->buffer->data()), arg(y0.data()), arg(y1.data()), arg(int64_t{3000})}, l);
  EXPECT_EQ(std::memcmp(y0.data(), want[0]->data(), 3000 * 4), 0);
  EXPECT_EQ(std::memcmp(y1.data(), want[1]->data(), 3000 * 4), 0);
}

// cuBLASLt's product as lt_matmul describes it, on the host (column-major operands).
void host_product(const nx::cuda_backend::ConvProduct& p, const float* a, const float* b, float* d) {
  auto at = [](const nx::cuda_backend::LtMatrix& m, const float* base, int64_t batch, int64_t i, int64_t j) {
    const float* x = base + batch * m.batch_stride;
    return m.transposed ? x[j + i * m.ld] : x[i + j * m.ld];
  };
  for (int64_t bi = 0; bi < p.batch; ++bi)
    for (int64_t i = 0; i < p.m; ++i)
      for (int64_t j = 0; j < p.n; ++j) {
        double acc = 0;
        for (int64_t l = 0; l < p.k; ++l) acc += double(at(p.a, a, bi, i, l)) * at(p.b, b, bi, l, j);
        d[bi * p.d_stride + i + j * p.ld_d] = static_cast<float>(acc);
      }
}

TEST(CudaEmulation, ConvolutionAsColumnsAndProductsMatchesInterp) {
  if (host_compiler().empty()) GTEST_SKIP() << "no host C++ compiler ($CXX or c++) to run the kernels with";
  struct Case {
    nx::Shape x, k;
    nx::ConvOpts opts;
  };
  std::vector<Case> cases = {
      {{2, 3, 9, 8}, {4, 3, 3, 3}, {.padding = nx::PaddingMode::same}},
      {{2, 3, 11, 10}, {5, 3, 3, 2}, {.strides = {2, 1}, .padding = {{1, 0}, {2, 1}}, .kernel_dilation = {2, 1}}},
      {{2, 4, 7, 7}, {6, 2, 3, 3}, {.padding = nx::PaddingMode::same, .feature_group_size = 2}},
      {{3, 2, 17}, {4, 2, 5}, {.strides = {3}, .padding = {{2, 2}}}},
      // A stride-2 convolution's data gradient: input dilation, padding on both sides.
      {{2, 3, 5, 4}, {2, 3, 3, 3}, {.padding = {{2, 3}, {1, 2}}, .input_dilation = {2, 3}}},
      {{2, 2, 9}, {3, 2, 2}, {.strides = {2}, .padding = {{-2, 1}}, .input_dilation = {3}, .kernel_dilation = {2}}},
      // A grouped convolution's kernel gradient: batch groups.
      {{4, 3, 7, 6}, {6, 3, 3, 3}, {.padding = nx::PaddingMode::same, .batch_group_size = 2}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.x.str() + " * " + c.k.str());
    nx::Tensor x = nx::to(data(c.x, 20), "interp"), k = nx::to(data(c.k, 21), "interp");
    F2 f = [&](const nx::Tensor& a, const nx::Tensor& b) { return std::vector{nx::conv(a, b, c.opts)}; };
    nx::Graph g = nx::jit(f).graph(x, k);
    auto node = std::find_if(g.nodes.begin(), g.nodes.end(), [](const auto& n) { return n->op == nx::Op::Conv; });
    ASSERT_NE(node, g.nodes.end());
    const nx::Shape& out_shape = (*node)->outputs[0].shape;
    auto plan = nx::cuda_backend::plan_conv((*node)->attrs, nx::f32, c.x, c.k, out_shape);
    ASSERT_TRUE(plan.has_value());
    std::string source = nx::cuda_backend::emit_source(plan->columns, "nx_columns");
    EXPECT_GT(nx::cuda::compile_source(source, 90), 0u);
    HostKernels kernels(source, "columns" + std::to_string(std::hash<std::string>()(plan->columns.key())));
    ASSERT_EQ(kernels.error(), "") << source;
    float zero = 0;
    std::vector<std::vector<std::byte>> columns{std::vector<std::byte>(static_cast<size_t>(plan->columns_shape.size()) * 4, std::byte{0x7f})};
    run_emulated(kernels, "nx_columns", plan->columns, {arg(x.impl()->buffer->data()), arg(&zero)}, columns, 1,
                 plan->columns_shape.size());
    std::vector<float> out(static_cast<size_t>(out_shape.size()), std::numeric_limits<float>::quiet_NaN());
    for (const auto& p : plan->products)
      host_product(p, reinterpret_cast<const float*>(columns[0].data()) + p.a_offset, k.data<float>() + p.b_offset,
                   out.data() + p.d_offset);
    nx_test::expect_outputs_close({nx::from_bytes(out.data(), nx::f32, out_shape)}, f(x, k), 1e-5);
  }
}

// x with a NaN at flat position `at`.
nx::Tensor with_nan_at(const nx::Tensor& x, int at) {
  nx::Tensor where = nx::equal(nx::iota(x.shape(), nx::i32), nx::scalar(at, nx::i32));
  return nx::select(where, nx::full({}, std::numeric_limits<float>::quiet_NaN()), x);
}

// Specialised kernels (pooling, argmax) checked together: their sources compiled as one
// translation unit (once by NVRTC, once by the host compiler), each launched over its
// results and compared with interp's.
class KernelBatch {
 public:
  // `source` defines `name`(pointers..., result, long long count), count the results'.
  void add(const std::string& source, const std::string& name, std::vector<unsigned long long> pointers, const nx::Tensor& want,
           double rel) {
    int64_t count = want.size();
    add(source, name, [pointers, count](void* result) {
      std::vector<unsigned long long> args = pointers;
      args.push_back(arg(result));
      args.push_back(arg(count));
      return args;
    }, want, rel);
  }
  // The kernel's arguments given where its result goes.
  void add(const std::string& source, const std::string& name, std::function<std::vector<unsigned long long>(void*)> args,
           const nx::Tensor& want, double rel) {
    source_ += source;
    Case& c = cases_.emplace_back();
    c.name = name, c.args = std::move(args), c.want = want, c.rel = rel;
    c.result.assign(static_cast<size_t>(want.impl()->type.bytes()), std::byte{0x7f});  // poisoned
  }
  void run(const std::string& tag) {
    EXPECT_GT(nx::cuda::compile_source(source_, 90), 0u);
    HostKernels kernels(source_, tag);
    ASSERT_EQ(kernels.error(), "") << source_;
    for (Case& c : cases_) {
      SCOPED_TRACE(c.name);
      kernels.launch(c.name, c.args(c.result.data()), Launch{.suffix = "", .grid = {3, 1, 1}, .block = {64, 1, 1}});
      nx_test::expect_outputs_close({nx::from_bytes(c.result.data(), c.want.dtype(), c.want.shape())}, {c.want}, c.rel);
    }
  }

 private:
  struct Case {
    std::string name;
    std::function<std::vector<unsigned long long>(void*)> args;
    nx::Tensor want;
    double rel = 0;
    std::vector<std::byte> result;
  };
  std::string source_;
  std::deque<Case> cases_;  // stable addresses
};

// The node of `op` kind in f's graph over `args` (host tensors), and the pointers of its operands.
template <class F>
std::pair<std::shared_ptr<const nx::Node>, std::vector<unsigned long long>> node_of(const F& f, const std::vector<nx::Tensor>& args,
                                                                                   std::initializer_list<nx::Op> ops) {
  nx::Graph g = nx::jit([&](const std::vector<nx::Tensor>& v) { return f(v); }).graph(args);
  for (const auto& n : g.nodes) {
    if (std::find(ops.begin(), ops.end(), n->op) == ops.end()) continue;
    std::vector<unsigned long long> pointers;
    for (const nx::Value& v : n->inputs) {
      const nx::Node* at = v.node.get();
      while (at->op == nx::Op::Reshape) at = at->inputs[0].node.get();  // the same bytes, as the backend shares them
      EXPECT_EQ(at->op, nx::Op::Parameter) << "the test's op reads its arguments";
      if (at->op != nx::Op::Parameter) return {};
      pointers.push_back(arg(args.at(static_cast<size_t>(at->param_index)).impl()->buffer->data()));
    }
    return {n, pointers};
  }
  ADD_FAILURE() << "no such node";
  return {};
}

TEST(CudaEmulation, PoolingAndItsGradientMatchInterp) {
  if (host_compiler().empty()) GTEST_SKIP() << "no host C++ compiler ($CXX or c++) to run the kernels with";
  KernelBatch batch;
  int count = 0;
  std::vector<nx::Tensor> inputs;  // kept alive: the batch reads them at run()
  auto add = [&](const std::function<nx::Tensor(const std::vector<nx::Tensor>&)>& f, std::vector<nx::Tensor> args) {
    for (nx::Tensor& a : args) a = inputs.emplace_back(nx::to(a, "interp"));
    auto [node, pointers] = node_of(f, args, {nx::Op::WindowMax, nx::Op::WindowSum, nx::Op::WindowMin, nx::Op::WindowScatterMax});
    if (!node) return;
    std::vector<nx::TensorType> types;
    for (const nx::Value& v : node->inputs) types.push_back(v.type());
    std::string name = "nx_window_" + std::to_string(count++);
    batch.add(nx::cuda_backend::window_source(*node, types, name), name, pointers, f(args), 1e-6);
  };
  nx::Tensor x = data({2, 3, 9, 8}, 30);
  nx::WindowOpts pool{.strides = {1, 1, 2, 2}};
  nx::WindowOpts odd{.strides = {1, 1, 2, 1}, .padding = {{0, 0}, {0, 0}, {1, 2}, {1, 0}}, .window_dilations = {1, 1, 1, 2}};
  for (const nx::WindowOpts& o : {pool, odd}) {
    add([&](const auto& v) { return nx::window_max(v[0], {1, 1, 2, 2}, o); }, {x});
    add([&](const auto& v) { return nx::window_sum(v[0], {1, 1, 3, 2}, o); }, {x});
    add([&](const auto& v) { return nx::window_min(v[0], {1, 1, 2, 3}, o); }, {x});
  }
  // The max-pooling gradient, with ties (the first maximum takes it) and a NaN (it beats all).
  nx::Tensor tied = nx::round(x * 2.0f);
  nx::Tensor with_nan = with_nan_at(tied, 17);
  for (const nx::Tensor& in : {x, tied, with_nan}) {
    add([&](const auto& v) { return nx::window_scatter_max(v[0], v[1], v[2], {1, 1, 2, 2}, pool); },
        {in, data({2, 3, 4, 4}, 31), nx::scalar(0.5f, nx::f32)});
    add([&](const auto& v) { return nx::window_scatter_max(v[0], v[1], v[2], {1, 1, 3, 2}, odd); },
        {in, data(nx::window_max(in, {1, 1, 3, 2}, odd).shape(), 32), nx::scalar(0.0f, nx::f32)});
  }
  // bf16 (a bf16 policy's pooling): computed in f32, sums in f64, rounded once, as interp.
  nx::Tensor h = nx::as_type(tied, nx::bf16);
  add([&](const auto& v) { return nx::window_max(v[0], {1, 1, 2, 2}, pool); }, {h});
  add([&](const auto& v) { return nx::window_sum(v[0], {1, 1, 3, 2}, odd); }, {h});
  add([&](const auto& v) { return nx::window_scatter_max(v[0], v[1], v[2], {1, 1, 2, 2}, pool); },
      {h, nx::as_type(data({2, 3, 4, 4}, 33), nx::bf16), nx::scalar(0.5f, nx::bf16)});
  batch.run("windows");
}

TEST(CudaEmulation, ArgmaxAndArgminMatchInterp) {
  if (host_compiler().empty()) GTEST_SKIP() << "no host C++ compiler ($CXX or c++) to run the kernels with";
  KernelBatch batch;
  nx::Tensor ties = nx::round(data({4, 7, 5}, 40));
  nx::Tensor with_nan = with_nan_at(ties, 23);
  std::vector<nx::Tensor> inputs;  // kept alive: the batch reads them at run()
  for (const nx::Tensor& x : {ties, with_nan, nx::as_type(ties, nx::i32), nx::as_type(with_nan, nx::bf16)})
    for (int axis : {0, 1, 2})
      for (bool last : {false, true})
        for (bool max : {false, true}) {
          nx::Tensor host = inputs.emplace_back(nx::to(x, "interp"));
          nx::ArgOpts opts{.axis = axis, .tie_break = last ? nx::TieBreak::high : nx::TieBreak::low};
          auto f = [&](const std::vector<nx::Tensor>& v) { return max ? nx::argmax(v[0], opts) : nx::argmin(v[0], opts); };
          auto [node, pointers] = node_of(f, {host}, {nx::Op::Argmax, nx::Op::Argmin});
          if (!node) return;
          std::string name = "nx_arg_" + std::to_string(inputs.size());
          batch.add(nx::cuda_backend::arg_reduce_source(*node, host.impl()->type, name), name, pointers, f({host}), 0.0);
        }
  batch.run("arg_reduce");
}

TEST(CudaEmulation, CumulativeOpsMatchInterp) {
  if (host_compiler().empty()) GTEST_SKIP() << "no host C++ compiler ($CXX or c++) to run the kernels with";
  KernelBatch batch;
  std::vector<nx::Tensor> inputs;  // kept alive: the batch reads them at run()
  using Scan = nx::Tensor (*)(const nx::Tensor&, nx::CumulativeOpts, nx::Where);
  std::pair<const char*, Scan> ops[] = {{"sum", nx::cumulative_sum}, {"product", nx::cumulative_product},
                                        {"max", nx::cumulative_max}, {"min", nx::cumulative_min}};
  auto add = [&](const nx::Tensor& x, int axis, double rel) {
    for (bool reverse : {false, true})
      for (auto [label, op] : ops) {
        nx::Tensor host = inputs.emplace_back(nx::to(x, "interp"));
        nx::CumulativeOpts opts{.axis = axis, .reverse = reverse};
        auto f = [&](const std::vector<nx::Tensor>& v) { return op(v[0], opts, nx::Where::current()); };
        auto [node, pointers] = node_of(f, {host}, {nx::Op::CumulativeSum, nx::Op::CumulativeProduct, nx::Op::CumulativeMax,
                                                    nx::Op::CumulativeMin});
        if (!node) return;
        std::string name = std::string("nx_scan_") + label + "_" + std::to_string(inputs.size());
        batch.add(nx::cuda_backend::scan_source(*node, host.impl()->type, name), name, pointers, f({host}), rel);
      }
  };
  nx::Tensor small = with_nan_at(data({4, 7, 5}, 80), 17);
  for (int axis : {0, 1, 2}) add(small, axis, 0.0);  // a thread per lane
  add(data({3, 2000}, 81) * 0.01f + 1.0f, 1, 1e-6);   // a block per lane: chunks of 32 for 64 threads
  add(data({600, 3}, 82, nx::f64) * 0.01 + 1.0, 0, 1e-13);
  nx::Tensor ints = nx::as_type(data({5, 300}, 83) * 1000.0f, nx::i32);
  add(ints, 1, 0.0);  // products wrap
  add(nx::as_type(ints, nx::u8), 1, 0.0);
  add(nx::as_type(ints, nx::i64), 0, 0.0);
  add(nx::as_type(data({9, 40}, 84), nx::bf16), 1, 0.0);
  add(nx::as_type(data({2, 700}, 85), nx::f16), 1, 0.0);  // a block per lane
  batch.run("scan");
}

TEST(CudaEmulation, SortArgsortAndTopKMatchInterp) {
  if (host_compiler().empty()) GTEST_SKIP() << "no host C++ compiler ($CXX or c++) to run the kernels with";
  KernelBatch batch;
  float nan = std::numeric_limits<float>::quiet_NaN();
  nx::Tensor ties = nx::round(data({3, 9, 4}, 50));
  nx::Tensor at = nx::iota({3, 9, 4}, nx::i32);
  nx::Tensor special = nx::select(nx::equal(nx::remainder(at, nx::scalar(11, nx::i32)), nx::scalar(3, nx::i32)), nx::full({}, nan),
                                  nx::select(nx::equal(ties, nx::scalar(0.0f, nx::f32)), nx::full({}, -0.0f), ties));
  std::vector<nx::Tensor> inputs;  // kept alive: the batch reads them at run()
  int count = 0;
  // f's node on x, checked on its output `which` (0: values, 1: indices; top_k has both).
  auto add = [&](const std::function<std::vector<nx::Tensor>(const nx::Tensor&)>& f, const nx::Tensor& x, int which) {
    nx::Tensor host = inputs.emplace_back(nx::to(x, "interp"));
    auto [node, pointers] = node_of([&](const auto& v) { return f(v[0]); }, {host}, {nx::Op::Sort, nx::Op::Argsort, nx::Op::TopK});
    if (!node) return;
    std::string name = "nx_sort_" + std::to_string(count++);
    std::vector<nx::Tensor> want = f(host);
    int64_t elements = host.size();
    bool indices = node->op == nx::Op::Argsort || which == 1;
    batch.add(nx::cuda_backend::sort_source(*node, host.impl()->type, name), name, [=](void* result) {
      return std::vector<unsigned long long>{pointers[0], indices ? 0ull : arg(result), indices ? arg(result) : 0ull, arg(elements)};
    }, want[static_cast<size_t>(std::min<int>(which, static_cast<int>(want.size()) - 1))], 0.0);
  };
  for (const nx::Tensor& x : {ties, special, nx::as_type(ties, nx::i32), nx::as_type(special, nx::f16)})
    for (int axis : {0, 1, 2})
      for (auto dir : {nx::Direction::asc, nx::Direction::desc}) {
        nx::SortOpts o{.axis = axis, .direction = dir};
        add([=](const nx::Tensor& v) { return std::vector{nx::sort(v, o)}; }, x, 0);
        add([=](const nx::Tensor& v) { return std::vector{nx::argsort(v, o)}; }, x, 1);
      }
  for (const nx::Tensor& x : {ties, special})
    for (int which : {0, 1})
      add([](const nx::Tensor& v) {
        auto [values, indices] = nx::top_k(v, 3);
        return std::vector{values, indices};
      }, x, which);
  batch.run("sort");
}

// Long lanes: the merge passes, launched as the backend does (ping-pong buffers, the last
// pass writing the result).
TEST(CudaEmulation, MergeSortOfLongLanesMatchesInterp) {
  if (host_compiler().empty()) GTEST_SKIP() << "no host C++ compiler ($CXX or c++) to run the kernels with";
  float nan = std::numeric_limits<float>::quiet_NaN();
  auto special = [&](const nx::Shape& shape, int seed) {  // ties, NaN and -0.0
    nx::Tensor x = nx::round(data(shape, seed) * 3.0f);
    nx::Tensor at = nx::iota(shape, nx::i32);
    return nx::select(nx::equal(nx::remainder(at, nx::scalar(17, nx::i32)), nx::scalar(5, nx::i32)), nx::full({}, nan),
                      nx::select(nx::equal(x, nx::scalar(0.0f, nx::f32)), nx::full({}, -0.0f), x));
  };
  struct Case {
    std::function<std::vector<nx::Tensor>(const nx::Tensor&)> f;
    nx::Tensor x;
  };
  std::vector<Case> cases;
  for (const nx::Tensor& x : {special({2, 300}, 100), nx::as_type(special({2, 300}, 101), nx::i32),
                              nx::as_type(special({2, 300}, 104), nx::bf16)})
    for (auto dir : {nx::Direction::asc, nx::Direction::desc})
      cases.push_back({[=](const nx::Tensor& v) { return std::vector{nx::sort(v, {.axis = 1, .direction = dir})}; }, x});
  nx::Tensor tall = special({257, 3}, 102);  // a lane of 257: a last run of one
  for (auto dir : {nx::Direction::asc, nx::Direction::desc})
    cases.push_back({[=](const nx::Tensor& v) { return std::vector{nx::argsort(v, {.axis = 0, .direction = dir})}; }, tall});
  cases.push_back({[](const nx::Tensor& v) {
    auto [values, indices] = nx::top_k(v, 7);
    return std::vector{values, indices};
  }, special({3, 500}, 103)});
  std::string source;
  std::vector<std::shared_ptr<const nx::Node>> nodes;
  std::vector<nx::Tensor> hosts;
  for (size_t c = 0; c < cases.size(); ++c) {
    nx::Tensor host = hosts.emplace_back(nx::to(cases[c].x, "interp"));
    auto [node, pointers] = node_of([&](const auto& v) { return cases[c].f(v[0]); }, {host}, {nx::Op::Sort, nx::Op::Argsort, nx::Op::TopK});
    ASSERT_TRUE(node);
    nodes.push_back(node);
    source += nx::cuda_backend::merge_source(*node, host.impl()->type, "nx_merge_" + std::to_string(c));
  }
  EXPECT_GT(nx::cuda::compile_source(source, 90), 0u);
  HostKernels kernels(source, "merge");
  ASSERT_EQ(kernels.error(), "") << source;
  for (size_t c = 0; c < cases.size(); ++c) {
    SCOPED_TRACE("case " + std::to_string(c));
    const nx::Node& node = *nodes[c];
    const nx::Tensor& x = hosts[c];
    int axis = static_cast<int>(node.attrs.axes[0]);
    int64_t count = x.size(), len = x.shape()[axis], keep = node.op == nx::Op::TopK ? node.attrs.k : len;
    size_t item = nx::item_size(x.dtype());
    std::vector<std::byte> v[2] = {std::vector<std::byte>(count * item), std::vector<std::byte>(count * item)};
    std::vector<long long> ix[2] = {std::vector<long long>(count), std::vector<long long>(count)};
    std::vector<std::byte> values(count * item, std::byte{0x7f});
    std::vector<long long> indices(count, -7);
    const void* src_v = x.impl()->buffer->data();
    const long long* src_i = nullptr;
    std::vector<int64_t> widths = nx::cuda_backend::merge_widths(len);
    for (size_t p = 0; p < widths.size(); ++p) {
      bool last = p + 1 == widths.size();
      std::byte* dst_v = last ? values.data() : v[p % 2].data();
      long long* dst_i = last ? indices.data() : ix[p % 2].data();
      kernels.launch("nx_merge_" + std::to_string(c),
                     {arg(src_v), arg(src_i), arg(dst_v), arg(dst_i), arg(count), arg(widths[p]), arg(last ? keep : len)},
                     Launch{.suffix = "", .grid = {3, 1, 1}, .block = {64, 1, 1}});
      src_v = dst_v;
      src_i = dst_i;
    }
    std::vector<nx::Tensor> want = cases[c].f(x);
    nx::Shape out_shape = want.back().shape();
    if (node.op != nx::Op::Argsort)
      nx_test::expect_outputs_close({nx::from_bytes(values.data(), x.dtype(), want[0].shape())}, {want[0]}, 0.0);
    if (node.op != nx::Op::Sort)
      nx_test::expect_outputs_close({nx::from_bytes(indices.data(), nx::i64, out_shape)}, {want.back()}, 0.0);
  }
}

TEST(CudaEmulation, GatherMatchesInterp) {
  if (host_compiler().empty()) GTEST_SKIP() << "no host C++ compiler ($CXX or c++) to run the kernels with";
  KernelBatch batch;
  std::vector<nx::Tensor> inputs;  // kept alive: the batch reads them at run()
  int count = 0;
  auto add = [&](const std::function<nx::Tensor(const std::vector<nx::Tensor>&)>& f, std::vector<nx::Tensor> args) {
    for (nx::Tensor& a : args) a = inputs.emplace_back(nx::to(a, "interp"));
    auto [node, pointers] = node_of(f, args, {nx::Op::Gather});
    if (!node) return;
    std::string name = "nx_gather_" + std::to_string(count++);
    // The reference is interp's run of this node (take may move axes after it).
    std::vector<nx::Operand> operands;
    for (size_t i = 0; i < node->inputs.size(); ++i) {
      const nx::Tensor* source = nullptr;
      for (const nx::Tensor& a : args)
        if (arg(a.impl()->buffer->data()) == pointers[i]) source = &a;
      operands.push_back({node->inputs[i].type(), source->impl()->buffer});
    }
    nx::Node call = *node;
    call.inputs.clear();
    nx::BufferPtr want = nx::backend("interp").execute(call, operands)[0];
    const nx::TensorType& out = node->outputs[0];
    batch.add(nx::cuda_backend::gather_source(*node, node->inputs[0].type(), node->inputs[1].type(), name), name, pointers,
              nx::from_bytes(want->data(), out.dtype, out.shape), 0.0);
  };
  nx::Tensor x = data({7, 5, 3}, 70);
  nx::Tensor rows = nx::tensor({3, 0, 6, 6, -2, 9});  // out of range: clamped, as interp
  add([](const auto& v) { return nx::take(v[0], v[1], 0); }, {x, rows});
  add([](const auto& v) { return nx::take(v[0], v[1], 1); }, {x, nx::as_type(nx::tensor({4, 1}), nx::i64)});
  add([](const auto& v) { return nx::take(v[0], v[1], 2); }, {nx::as_type(x, nx::f64), nx::as_type(nx::tensor({2, 2, 0}), nx::u8)});
  add([](const auto& v) { return nx::take(v[0], v[1], 0); }, {nx::as_type(x * 10.0f, nx::i32), nx::tensor({{1, 2}, {3, 4}})});
  add([](const auto& v) { return nx::take(v[0], v[1], 1); }, {nx::as_type(x, nx::bf16), nx::tensor({0, 4})});
  batch.run("gather");
}

// Linear algebra by a block per matrix in f64, launched as the backend does.
TEST(CudaEmulation, LinearAlgebraMatchesInterp) {
  if (host_compiler().empty()) GTEST_SKIP() << "no host C++ compiler ($CXX or c++) to run the kernels with";
  struct Case {
    std::string name;
    std::shared_ptr<const nx::Node> node;
    std::vector<nx::Tensor> args;  // host
    std::vector<nx::Tensor> want;
    double rel;
  };
  std::vector<Case> cases;
  std::string source;
  // f's linear-algebra node over args (host), its attributes changed by `tweak`.
  auto add = [&](const std::function<nx::Tensor(const std::vector<nx::Tensor>&)>& f, std::vector<nx::Tensor> args, double rel,
                 const std::function<void(nx::Node&)>& tweak = {}) {
    for (nx::Tensor& a : args) a = nx::to(a, "interp");
    SCOPED_TRACE("case " + std::to_string(cases.size()));
    auto [found, pointers] = node_of(f, args, {nx::Op::Cholesky, nx::Op::Solve, nx::Op::Determinant, nx::Op::TriangularSolve,
                                               nx::Op::Qr, nx::Op::Lu, nx::Op::Eigh});
    if (!found) return;
    auto changed = std::make_shared<nx::Node>(*found);
    if (tweak) tweak(*changed);
    std::shared_ptr<const nx::Node> node = changed;
    std::string name = "nx_linalg_" + std::to_string(cases.size());
    std::vector<nx::TensorType> types;
    for (const nx::Value& v : node->inputs) types.push_back(v.type());
    source += nx::cuda_backend::linalg_source(*node, types, name);
    // The reference: interp's run of this node (the op may transform its operands first).
    std::vector<nx::Operand> operands;
    for (size_t i = 0; i < node->inputs.size(); ++i) operands.push_back({types[i], args[i].impl()->buffer});
    nx::Node call = *node;
    call.inputs.clear();
    std::vector<nx::BufferPtr> results = nx::backend("interp").execute(call, operands);
    std::vector<nx::Tensor> want;
    for (size_t o = 0; o < results.size(); ++o)
      want.push_back(nx::from_bytes(results[o]->data(), node->outputs[o].dtype, node->outputs[o].shape));
    cases.push_back({name, node, args, want, rel});
  };
  auto spd = [](const nx::Tensor& x) {  // x x^T + m I, batched
    int r = x.rank();
    std::vector<int> perm;
    for (int i = 0; i < r - 2; ++i) perm.push_back(i);
    perm.insert(perm.end(), {r - 1, r - 2});
    return nx::matmul(x, nx::transpose(x, perm)) + nx::eye(x.shape()[r - 1], x.dtype()) * static_cast<double>(x.shape()[r - 1]);
  };
  for (bool lower : {true, false})  // the factor L, or (a node of its own) L^T
    add([](const auto& v) { return nx::linalg::cholesky(v[0]); }, {spd(data({3, 33, 33}, 110, nx::f64))}, 1e-12,
        [lower](nx::Node& n) { n.attrs.flag = lower; });
  nx::Tensor not_pd = nx::tensor({{1.0f, 2.0f}, {2.0f, 1.0f}});  // NaN throughout, as interp
  add([](const auto& v) { return nx::linalg::cholesky(v[0]); }, {not_pd}, 0.0);
  nx::Tensor square = data({2, 37, 37}, 111, nx::f64);
  add([](const auto& v) { return nx::linalg::solve(v[0], v[1]); }, {square, data({2, 37, 5}, 112, nx::f64)}, 1e-9);
  add([](const auto& v) { return nx::linalg::solve(v[0], v[1]); }, {data({6, 6}, 113), data({6, 3}, 114)}, 1e-4);
  nx::Tensor singular = nx::tensor({{1.0, 2.0, 3.0}, {2.0, 4.0, 6.0}, {0.0, 1.0, 1.0}});
  add([](const auto& v) { return nx::linalg::solve(v[0], v[1]); }, {singular, nx::tensor({{1.0}, {-1.0}, {2.0}})}, 1e-9);
  add([](const auto& v) { return nx::linalg::determinant(v[0]); }, {square}, 1e-9);
  add([](const auto& v) { return nx::linalg::determinant(v[0]); }, {singular}, 0.0);
  nx::Tensor tri = data({2, 9, 9}, 115, nx::f64) + nx::eye(9, nx::f64) * 6.0;
  for (bool left : {true, false})
    for (bool lower : {true, false})
      for (bool transposed : {false, true}) {
        nx::linalg::TriangularSolveOpts o{.left_side = left, .lower = lower,
                                          .transform_a = transposed ? nx::linalg::Transform::transpose : nx::linalg::Transform::none};
        add([o](const auto& v) { return nx::linalg::triangular_solve(v[0], v[1], o); },
            {tri, data(left ? nx::Shape{2, 9, 4} : nx::Shape{2, 4, 9}, 116, nx::f64)}, 1e-10);
      }
  for (nx::linalg::QrMode mode : {nx::linalg::QrMode::reduced, nx::linalg::QrMode::complete}) {
    for (const nx::Shape& shape : {nx::Shape{2, 12, 7}, nx::Shape{7, 12}})  // tall and wide
      add([mode](const auto& v) { return nx::linalg::qr(v[0], {.mode = mode}).first; }, {data(shape, 117, nx::f64)}, 1e-10);
    nx::Tensor rank_deficient = nx::tensor({{1.0, 2.0, 0.0}, {2.0, 4.0, 0.0}, {3.0, 6.0, 0.0}, {0.0, 0.0, 0.0}});
    add([mode](const auto& v) { return nx::linalg::qr(v[0], {.mode = mode}).first; }, {rank_deficient}, 1e-10);
  }
  for (const nx::Tensor& x : {data({2, 9, 6}, 118, nx::f64), data({5, 8}, 119, nx::f64), nx::round(data({7, 7}, 120, nx::f64))})
    add([](const auto& v) {
      auto [p, l, u] = nx::linalg::lu(v[0]);
      return p;
    }, {x}, 1e-10);
  auto symmetric = [](const nx::Tensor& x) { return x + nx::transpose(x, {0, 2, 1}); };
  add([](const auto& v) { return nx::linalg::eigh(v[0]).first; }, {symmetric(data({2, 9, 9}, 121, nx::f64))}, 1e-10);
  add([](const auto& v) { return nx::linalg::eigh(v[0], nx::linalg::EighOpts{.largest = 3}).first; }, {symmetric(data({1, 20, 20}, 122, nx::f64))}, 1e-10);
  EXPECT_GT(nx::cuda::compile_source(source, 90), 0u);
  HostKernels kernels(source, "linalg");
  ASSERT_EQ(kernels.error(), "") << source;
  const unsigned blocks = 2;  // fewer than matrices: blocks take several
  for (Case& c : cases) {
    SCOPED_TRACE(c.name);
    std::vector<nx::TensorType> types;
    for (const nx::Value& v : c.node->inputs) types.push_back(v.type());
    nx::cuda_backend::LinalgArgs la = nx::cuda_backend::linalg_args(*c.node, types);
    std::vector<double> work(static_cast<size_t>(blocks * la.work_doubles), std::numeric_limits<double>::quiet_NaN());
    std::vector<long long> perms(static_cast<size_t>(blocks * la.m), -7);
    std::vector<std::vector<std::byte>> outs;
    for (const nx::Tensor& want : c.want) outs.emplace_back(static_cast<size_t>(want.impl()->type.bytes()), std::byte{0x7f});
    unsigned long long a = arg(c.args[0].impl()->buffer->data()), y = arg(outs[0].data()), w = arg(work.data()), p = arg(perms.data());
    unsigned long long b = c.args.size() > 1 ? arg(c.args[1].impl()->buffer->data()) : 0;
    std::vector<unsigned long long> args;
    switch (c.node->op) {
      case nx::Op::Cholesky: args = {a, y, w, arg(la.m), arg(la.batch), arg(la.lower)}; break;
      case nx::Op::Solve: args = {a, b, y, w, p, arg(la.m), arg(la.k), arg(la.batch)}; break;
      case nx::Op::Determinant: args = {a, y, w, p, arg(la.m), arg(la.batch)}; break;
      case nx::Op::Eigh: args = {a, y, arg(outs[1].data()), w, p, arg(la.m), arg(la.k), arg(la.batch)}; break;
      case nx::Op::Lu:
        args = {a, y, arg(outs[1].data()), arg(outs[2].data()), w, p, arg(la.m), arg(la.cols), arg(la.batch)};
        break;
      case nx::Op::Qr:
        args = {a, y, arg(outs[1].data()), w, arg(la.rows), arg(la.cols), arg(la.k), arg(c.want[1].shape()[c.want[1].rank() - 2]), arg(la.batch)};
        break;
      default: args = {a, b, y, w, arg(la.m), arg(la.rows), arg(la.cols), arg(la.batch), arg(la.left), arg(la.tri_lower), arg(la.swap)};
    }
    kernels.launch(c.name, args, Launch{.suffix = "", .grid = {blocks, 1, 1}, .block = {64, 1, 1}});
    std::vector<nx::Tensor> got;
    for (size_t o = 0; o < outs.size(); ++o) got.push_back(nx::from_bytes(outs[o].data(), c.want[o].dtype(), c.want[o].shape()));
    nx_test::expect_outputs_close(got, c.want, c.rel);
  }
}

TEST(CudaEmulation, IndexedAddAndPutMatchInterp) {
  if (host_compiler().empty()) GTEST_SKIP() << "no host C++ compiler ($CXX or c++) to run the kernels with";
  std::string source;
  struct Case {
    std::string name;
    std::shared_ptr<const nx::Node> node;
    std::vector<nx::Tensor> args;  // x, indices, updates (host)
    nx::Tensor want;
    double rel;
  };
  std::vector<Case> cases;
  auto add = [&](bool put, const nx::Tensor& x, const nx::Tensor& idx, const nx::Tensor& u, std::vector<int> axes, double rel) {
    std::vector<nx::Tensor> args{nx::to(x, "interp"), nx::to(idx, "interp"), nx::to(u, "interp")};
    auto f = [&](const std::vector<nx::Tensor>& v) {
      return put ? nx::indexed_put(v[0], v[1], v[2], {.axes = axes}) : nx::indexed_add(v[0], v[1], v[2], {.axes = axes});
    };
    auto [node, pointers] = node_of(f, args, {nx::Op::IndexedAdd, nx::Op::IndexedPut});
    if (!node) return;
    std::string name = "nx_scatter_" + std::to_string(cases.size());
    source += nx::cuda_backend::scatter_source(*node, args[0].impl()->type, args[1].impl()->type, name);
    cases.push_back({name, node, args, f(args), rel});
  };
  nx::Tensor table = data({6, 5}, 90);
  nx::Tensor rows = nx::tensor({{1}, {4}, {1}, {7}, {-1}, {5}, {1}});  // repeated, and out of range: skipped
  nx::Tensor updates = data({7, 5}, 91);
  for (bool put : {false, true}) {
    add(put, table, rows, updates, {0}, 1e-6);
    add(put, nx::as_type(table, nx::f64), nx::as_type(rows, nx::i64), nx::as_type(updates, nx::f64), {0}, 1e-14);
    add(put, nx::as_type(table * 100.0f, nx::i32), rows, nx::as_type(updates * 100.0f, nx::i32), {0}, 0.0);
    add(put, nx::as_type(table * 100.0f, nx::i64), rows, nx::as_type(updates * 100.0f, nx::i64), {0}, 0.0);
    nx::Tensor cols = nx::tensor({{2, 0}, {0, 3}, {2, 0}, {5, 1}});  // (row, col) pairs over axes 1 and 0
    add(put, data({4, 3, 2}, 92), cols, data({4, 3}, 93), {2, 0}, 1e-6);
  }
  add(true, nx::as_type(table, nx::bf16), rows, nx::as_type(updates, nx::bf16), {0}, 0.0);
  // Adds of narrow types by compare-and-swap: a bf16 embedding's gradient, bytes, bools.
  add(false, nx::as_type(table, nx::bf16), rows, nx::as_type(updates, nx::bf16), {0}, 1e-2);
  add(false, nx::as_type(nx::abs(table) * 50.0f, nx::u8), rows, nx::as_type(nx::abs(updates) * 90.0f, nx::u8), {0}, 0.0);
  add(false, nx::greater(table, 0.5f), rows, nx::greater(updates, 0.0f), {0}, 0.0);
  EXPECT_GT(nx::cuda::compile_source(source, 90), 0u);
  HostKernels kernels(source, "scatter");
  ASSERT_EQ(kernels.error(), "") << source;
  Launch l{.suffix = "", .grid = {3, 1, 1}, .block = {64, 1, 1}};
  for (Case& c : cases) {
    SCOPED_TRACE(c.name);
    const nx::Tensor &x = c.args[0], &idx = c.args[1], &u = c.args[2];
    std::vector<std::byte> y(static_cast<size_t>(x.impl()->type.bytes()));
    std::memcpy(y.data(), x.impl()->buffer->data(), y.size());
    std::vector<long long> winner(static_cast<size_t>(nx::cuda_backend::scatter_places(*c.node, x.impl()->type)), -1);
    int64_t slices = idx.size() / idx.shape()[idx.rank() - 1];
    if (c.node->op == nx::Op::IndexedPut) kernels.launch(c.name + "_winner", {arg(idx.impl()->buffer->data()), arg(winner.data()), arg(slices)}, l);
    kernels.launch(c.name, {arg(idx.impl()->buffer->data()), arg(u.impl()->buffer->data()), arg(y.data()), arg(winner.data()), arg(u.size())}, l);
    nx_test::expect_outputs_close({nx::from_bytes(y.data(), x.dtype(), x.shape())}, {c.want}, c.rel);
  }
}


// svd, eigh, cholesky and solve on cuSOLVER: the load, sign and store kernels run
// emulated around Eigen, which factors each working matrix as cuSOLVER would
// (column-major, the layout the plan gives; svd and eigh with every other pair's signs
// flipped so the sign kernel has work; potrf leaving the upper triangle as it was), and
// the outputs must be interp's: NaN for a matrix holding one (svd, eigh) or not positive
// definite (cholesky).
TEST(CudaEmulation, SolverLayoutsAndSignsMatchInterp) {
  if (host_compiler().empty()) GTEST_SKIP() << "no host C++ compiler ($CXX or c++) to run the kernels with";
  using Mat = Eigen::MatrixXd;
  struct Case {
    nx::Shape shape;
    nx::Op op;
    bool flag = false;  // svd: full matrices; cholesky: lower
    int64_t largest = 0;
  };
  std::vector<Case> cases = {{{2, 5, 3}, nx::Op::Svd, false},      {{2, 5, 3}, nx::Op::Svd, true},   {{2, 3, 5}, nx::Op::Svd, false},
                             {{2, 3, 5}, nx::Op::Svd, true},       {{4, 4}, nx::Op::Svd, true},      {{3, 6, 6}, nx::Op::Eigh},
                             {{2, 6, 6}, nx::Op::Eigh, false, 2},  {{3, 5, 5}, nx::Op::Cholesky, true}, {{3, 5, 5}, nx::Op::Cholesky, false},
                             {{2, 6, 6}, nx::Op::Solve}};
  for (nx::DType t : {nx::f64, nx::f32}) {
    std::string source = nx::cuda_backend::solver_source(t == nx::f64 ? "double" : "float");
    EXPECT_GT(nx::cuda::compile_source(source, 90), 0u);
    HostKernels kernels(source, std::string("solver_") + std::string(nx::name(t)));
    ASSERT_EQ(kernels.error(), "") << source;
    Launch grid{.suffix = "", .grid = {3, 1, 1}, .block = {64, 1, 1}};
    for (const Case& c : cases) {
      SCOPED_TRACE(c.shape.str() + " " + std::string(nx::op_name(c.op)) + (c.flag ? " (flag)" : "") + " " + std::string(nx::name(t)));
      std::vector<int> swap = c.shape.rank() == 3 ? std::vector<int>{0, 2, 1} : std::vector<int>{1, 0};
      nx::Tensor x = data(c.shape, 40, t), rhs = data({2, 6, 3}, 41, t);
      if (c.op == nx::Op::Eigh) x = x + nx::transpose(x, swap);
      if (c.op == nx::Op::Cholesky) {  // positive definite, but the middle matrix negated: not
        x = nx::matmul(x, nx::transpose(x, swap)) + nx::eye(c.shape[2], t) * 5.0;
        x = x * nx::reshape(nx::tensor({1.0, -1.0, 1.0}, t), {3, 1, 1});
      }
      // svd and eigh: the last matrix holds a NaN, and interp's outputs for it are NaN throughout.
      if (c.op == nx::Op::Svd || c.op == nx::Op::Eigh) x = with_nan_at(x, static_cast<int>(x.size() - 2));
      x = nx::to(x, "interp"), rhs = nx::to(rhs, "interp");
      auto [found, pointers] = node_of(
          [&](const std::vector<nx::Tensor>& v) {
            if (c.op == nx::Op::Eigh)
              return c.largest ? nx::linalg::eigh(v[0], nx::linalg::EighOpts{.largest = c.largest}).second : nx::linalg::eigh(v[0]).second;
            if (c.op == nx::Op::Cholesky) return nx::linalg::cholesky(v[0]);
            if (c.op == nx::Op::Solve) return nx::linalg::solve(v[0], v[1]);
            return std::get<0>(nx::linalg::svd(v[0], {.full_matrices = c.flag}));
          },
          c.op == nx::Op::Solve ? std::vector{x, rhs} : std::vector{x}, {nx::Op::Svd, nx::Op::Eigh, nx::Op::Cholesky, nx::Op::Solve});
      ASSERT_TRUE(found);
      auto changed = std::make_shared<nx::Node>(*found);
      if (c.op == nx::Op::Cholesky) changed->attrs.flag = c.flag;  // upper: L^T
      const nx::Node& node = *changed;
      std::vector<nx::TensorType> types;
      for (const nx::Value& v : node.inputs) types.push_back(v.type());
      nx::cuda_backend::SolverPlan p = nx::cuda_backend::solver_plan(node, types);
      int64_t per = p.rows * p.cols, k = std::min(p.rows, p.cols);
      int64_t third = c.op == nx::Op::Solve ? p.rows * p.rhs_cols : p.rows * p.u_cols;
      std::vector<std::vector<double>> sources{std::vector<double>(static_cast<size_t>(p.batch * per)),
                                               std::vector<double>(static_cast<size_t>(p.batch * k)),
                                               std::vector<double>(static_cast<size_t>(p.batch * third)),
                                               std::vector<double>(static_cast<size_t>(p.batch * p.vt_rows * p.cols))};
      std::vector<int> flags(static_cast<size_t>(2 * p.batch), 0);  // bad, then cuSOLVER's info
      auto view_args = [](const nx::cuda_backend::MatrixView& v) {
        return std::vector<unsigned long long>{arg(v.rows), arg(v.cols), arg(v.offset), arg(v.row), arg(v.col), arg(v.batch)};
      };
      auto load = [&](unsigned long long from, std::vector<double>& to, const nx::cuda_backend::MatrixView& v) {
        std::vector<unsigned long long> args{from, arg(to.data()), arg(flags.data())};
        for (auto a : view_args(v)) args.push_back(a);
        args.push_back(arg(p.batch));
        args.push_back(arg(int64_t{p.mark ? 1 : 0}));
        kernels.launch("nx_solver_load", args, grid);
      };
      load(pointers[0], sources[0], p.load);
      if (c.op == nx::Op::Solve) load(pointers[1], sources[2], p.rhs_load);
      if (c.op == nx::Op::Svd || c.op == nx::Op::Eigh) {
        EXPECT_EQ(flags[static_cast<size_t>(p.batch - 1)], 1);
      }
      // cuSOLVER's part.
      for (int64_t b = 0; b < p.batch; ++b) {
        if (flags[static_cast<size_t>(b)]) continue;  // its outputs become NaN whatever is there
        Eigen::Map<Mat> a(sources[0].data() + b * per, p.rows, p.cols);
        Eigen::Map<Eigen::VectorXd> s(sources[1].data() + b * k, k);
        if (c.op == nx::Op::Cholesky) {
          Eigen::LLT<Mat> llt(a);
          if (llt.info() != Eigen::Success) flags[static_cast<size_t>(p.batch + b)] = 1;
          else a.triangularView<Eigen::Lower>() = Mat(llt.matrixL());
          continue;
        }
        if (c.op == nx::Op::Solve) {
          Eigen::Map<Mat> r(sources[2].data() + b * third, p.rows, p.rhs_cols);
          r = Eigen::PartialPivLU<Mat>(a).solve(Mat(r));
          continue;
        }
        if (c.op == nx::Op::Eigh) {
          Eigen::SelfAdjointEigenSolver<Mat> es(a);
          Mat v = es.eigenvectors();
          for (int64_t j = 1; j < v.cols(); j += 2) v.col(j) *= -1;
          s = es.eigenvalues();
          a = v;
          continue;
        }
        Eigen::JacobiSVD<Mat> svd(a, c.flag ? Eigen::ComputeFullU | Eigen::ComputeFullV : Eigen::ComputeThinU | Eigen::ComputeThinV);
        Mat u = svd.matrixU(), vt = svd.matrixV().transpose();
        for (int64_t j = 1; j < k; j += 2) u.col(j) *= -1, vt.row(j) *= -1;
        s = svd.singularValues();
        Eigen::Map<Mat>(sources[2].data() + b * third, p.rows, p.u_cols) = u;
        Eigen::Map<Mat>(sources[3].data() + b * p.vt_rows * p.cols, p.vt_rows, p.cols) = vt;
      }
      if (c.op == nx::Op::Svd || c.op == nx::Op::Eigh) {
        bool svd = c.op == nx::Op::Svd;
        const auto& uv = p.outputs[svd ? 0 : 1];
        nx::cuda_backend::MatrixView vv = svd ? p.outputs[2] : nx::cuda_backend::MatrixView{};
        std::vector<unsigned long long> signs{arg(sources[static_cast<size_t>(p.source[svd ? 0 : 1])].data())};
        for (auto a : view_args(uv)) signs.push_back(a);
        signs.push_back(svd ? arg(sources[static_cast<size_t>(p.source[2])].data()) : 0);
        for (auto a : view_args(vv)) signs.push_back(a);
        signs.push_back(arg(p.paired));
        signs.push_back(arg(p.batch));
        kernels.launch("nx_solver_signs", signs, grid);
      }
      std::vector<nx::Tensor> got;
      for (size_t o = 0; o < node.outputs.size(); ++o) {
        std::vector<std::byte> out(static_cast<size_t>(node.outputs[o].bytes()));
        std::vector<unsigned long long> store{arg(sources[static_cast<size_t>(p.source[o])].data()), arg(out.data()), arg(flags.data())};
        for (auto a : view_args(p.outputs[o])) store.push_back(a);
        store.push_back(arg(p.batch));
        store.push_back(arg(int64_t{p.tri[o]}));
        kernels.launch("nx_solver_store", store, grid);
        got.push_back(nx::from_bytes(out.data(), node.outputs[o].dtype, node.outputs[o].shape));
      }
      std::vector<nx::Operand> operands{{types[0], x.impl()->buffer}};
      if (c.op == nx::Op::Solve) operands.push_back({types[1], rhs.impl()->buffer});
      nx::Node call = node;
      call.inputs.clear();
      std::vector<nx::BufferPtr> results = nx::backend("interp").execute(call, operands);
      std::vector<nx::Tensor> want;
      for (size_t o = 0; o < node.outputs.size(); ++o)
        want.push_back(nx::from_bytes(results[o]->data(), node.outputs[o].dtype, node.outputs[o].shape));
      nx_test::expect_outputs_close(got, want, t == nx::f64 ? 1e-9 : 1e-5);
    }
  }
}

// The copies that give cuDNN packed tensors: a transposed 4-D view gathered into a packed
// buffer, then scattered back through the same view into a second buffer, for 2-, 4- and
// 8-byte elements; a 3-D view pads its leading dims.
TEST(CudaEmulation, ViewCopiesForCudnn) {
  if (host_compiler().empty()) GTEST_SKIP() << "no host C++ compiler ($CXX or c++) to run the kernels with";
  for (size_t bytes : {2u, 4u, 8u}) {
    std::string source = nx::cuda_backend::view_copy_source(bytes);
    EXPECT_GT(nx::cuda::compile_source(source, 90), 0u);
    HostKernels kernels(source, "view_copy" + std::to_string(bytes));
    ASSERT_EQ(kernels.error(), "") << source;
    for (std::vector<int64_t> dims : {std::vector<int64_t>{3, 4, 5, 6}, std::vector<int64_t>{4, 3, 7}}) {
      // A buffer laid out (d1, d0, rest...): the view (d0, d1, rest...) reads it transposed.
      int64_t n = 1;
      for (int64_t d : dims) n *= d;
      std::vector<int64_t> packed(dims.size(), 1), view;
      for (size_t d = dims.size(); d-- > 1;) packed[d - 1] = packed[d] * dims[d];
      view = packed;
      view[1] = n / dims[1];              // d1 outermost
      view[0] = n / (dims[0] * dims[1]);  // then d0, then the rest as packed
      std::vector<uint64_t> src(static_cast<size_t>(n)), mid(static_cast<size_t>(n), ~0ull), back(static_cast<size_t>(n), ~0ull);
      for (int64_t i = 0; i < n; ++i) src[static_cast<size_t>(i)] = 0x0101010101010101ull * static_cast<uint64_t>(i % 97 + 1);
      auto copy = [&](const void* from, const std::vector<int64_t>& fs, void* to, const std::vector<int64_t>& ts) {
        size_t pad = 5 - dims.size();
        std::vector<unsigned long long> args{arg(from), arg(to)};
        for (const std::vector<int64_t>* v : std::initializer_list<const std::vector<int64_t>*>{&dims, &fs, &ts})
          for (size_t d = 0; d < 5; ++d) args.push_back(arg(d < pad ? (v == &dims ? int64_t{1} : int64_t{0}) : (*v)[d - pad]));
        args.push_back(arg(n));
        kernels.launch("nx_view_copy", args, Launch{.suffix = "", .grid = {3, 1, 1}, .block = {64, 1, 1}});
      };
      copy(src.data(), view, mid.data(), packed);
      copy(mid.data(), packed, back.data(), view);
      // Element by element in bytes of this size: the round trip restores the buffer, and
      // the packed copy holds the view in order.
      EXPECT_EQ(std::memcmp(back.data(), src.data(), static_cast<size_t>(n) * bytes), 0);
      const auto* s8 = reinterpret_cast<const unsigned char*>(src.data());
      const auto* m8 = reinterpret_cast<const unsigned char*>(mid.data());
      int64_t i0 = dims[0] - 1, i1 = dims[1] - 2, rest = 3;  // one element's place both ways
      int64_t from = i0 * view[0] + i1 * view[1] + rest, to = i0 * packed[0] + i1 * packed[1] + rest;
      EXPECT_EQ(std::memcmp(m8 + to * static_cast<int64_t>(bytes), s8 + from * static_cast<int64_t>(bytes), bytes), 0);
    }
  }
}

}  // namespace
#endif
