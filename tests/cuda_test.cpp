// The cuda backend. Without a GPU: the CUDA C++ emitted for each kind of fusion group
// (flat, broadcast, rows with several passes, cols, all, index maps, bools, f64) has the
// structure the launcher expects and compiles with NVRTC; the backend reports itself
// unavailable with the reason. With one: results against interp, tensors moving between
// backends, eager ops staying on the device. Tests that need a device skip, saying why.
#include <gtest/gtest.h>

#include <nx/config.hpp>

#if NX_HAS_CUDA
#include <cmath>
#include <cstdlib>
#include <functional>
#include <string>

#include "nx/detail/core.hpp"
#include "nx/nx.hpp"
#include "test_support.hpp"

namespace {

// The whole suite with NX_BACKEND=cuda (ctest's suite_on_cuda) skips where there is no
// device, saying so (ctest reports the run skipped).
class CudaSuiteEnvironment : public ::testing::Environment {
 public:
  void SetUp() override {
    const char* b = std::getenv("NX_BACKEND");
    if (b && std::string(b) == "cuda" && !nx::cuda::available())
      GTEST_SKIP() << "NX_BACKEND=cuda, and this machine has no CUDA device: " << nx::cuda::unavailable_reason();
  }
};
[[maybe_unused]] auto* const cuda_environment = ::testing::AddGlobalTestEnvironment(new CudaSuiteEnvironment);

#define SKIP_WITHOUT_DEVICE() \
  if (!nx::cuda::available()) GTEST_SKIP() << "needs a CUDA device: " << nx::cuda::unavailable_reason()

using Fn1 = std::function<std::vector<nx::Tensor>(const nx::Tensor&)>;
using Fn2 = std::function<std::vector<nx::Tensor>(const nx::Tensor&, const nx::Tensor&)>;

nx::Tensor data(const nx::Shape& shape, int seed, nx::DType t = nx::f32) {
  return nx::as_type(nx::random::normal(nx::random::key(seed), shape), t);
}

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

// Every kernel of f's graph: compiles with NVRTC for Hopper (and Ampere), and returns them.
std::vector<std::string> checked_sources(const nx::Graph& g, size_t kernels) {
  std::vector<std::string> sources = nx::cuda::kernel_sources(g);
  EXPECT_EQ(sources.size(), kernels) << nx::cuda::fusion_report(g);
  for (const std::string& s : sources) {
    EXPECT_GT(nx::cuda::compile_source(s, 90), 0u) << s;
    EXPECT_GT(nx::cuda::compile_source(s, 80), 0u);
  }
  return sources;
}

TEST(CudaEmit, FlatChainIsOneVectorisedGridStrideKernel) {
  Fn2 f = [](const nx::Tensor& x, const nx::Tensor& y) { return std::vector{nx::tanh(x * 2.0f + y) * 3.0f + x}; };
  nx::Tensor x = data({1000, 37}, 1);
  auto src = checked_sources(nx::jit(f).graph(x, x), 1);
  const std::string& s = src[0];
  EXPECT_TRUE(contains(s, "extern \"C\" __global__ void __launch_bounds__(256) nx_kernel_0("));
  EXPECT_TRUE(contains(s, "nx_vec<float, 4> L0 = *reinterpret_cast<const nx_vec<float, 4>*>(in0 + e0)")) << s;
  EXPECT_TRUE(contains(s, "e += step")) << "a grid-stride tail loop";
  EXPECT_TRUE(contains(s, "tanhf(")) << s;
  EXPECT_FALSE(contains(s, "nx_block_reduce<")) << "no reduction";
}

TEST(CudaEmit, RowSoftmaxPassesEndInShuffleReductions) {
  Fn1 f = [](const nx::Tensor& x) { return std::vector{nx::softmax(x)}; };
  nx::Tensor x = data({64, 4096}, 2);
  auto src = checked_sources(nx::jit(f).graph(x), 1);
  const std::string& s = src[0];
  EXPECT_TRUE(contains(s, "nx_kernel_0_warp(")) << "short rows: a warp per row";
  EXPECT_TRUE(contains(s, "nx_block_reduce<nx_rmax<float>>(")) << s;
  EXPECT_TRUE(contains(s, "nx_block_reduce<nx_sum<float>>(")) << s;
  EXPECT_TRUE(contains(s, "nx_warp_reduce<nx_sum<float>>(")) << s;
  EXPECT_TRUE(contains(s, "__shfl_xor_sync")) << s;
}

TEST(CudaEmit, ColumnAndWholeReductionsFoldTheirPartials) {
  Fn1 cols = [](const nx::Tensor& x) { return std::vector{nx::sum(x * x, {.axes = {0}})}; };
  Fn1 all = [](const nx::Tensor& x) { return std::vector{nx::reduce_max(nx::exp(x))}; };
  nx::Tensor x = data({3000, 70}, 3);
  std::string c = checked_sources(nx::jit(cols).graph(x), 1)[0];
  EXPECT_TRUE(contains(c, "long long chunk")) << c;
  EXPECT_TRUE(contains(c, "out0[(long long)blockIdx.y * cols + c]")) << c;
  EXPECT_TRUE(contains(c, "nx_kernel_0_fold0(")) << c;
  std::string a = checked_sources(nx::jit(all).graph(x), 1)[0];
  EXPECT_TRUE(contains(a, "out0[blockIdx.x]")) << a;
  EXPECT_TRUE(contains(a, "nx_kernel_0_fold0(")) << a;
}

TEST(CudaEmit, ShapeOpsAreIndexMapsInsideTheKernel) {
  Fn1 f = [](const nx::Tensor& x) {
    nx::Tensor t = nx::transpose(x, {1, 0});
    nx::Tensor s = nx::slice(t, {1, 2}, {20, 30});
    nx::Tensor p = nx::pad(s, nx::scalar(0.0f, nx::f32), {{1, 2, 0}, {0, 3, 0}});
    return std::vector{nx::exp(p) + nx::reverse(p, {0})};
  };
  nx::Tensor x = data({40, 30}, 4);
  std::string s = checked_sources(nx::jit(f).graph(x), 1)[0];
  EXPECT_TRUE(contains(s, "nx_map0(long long element, bool& ok)")) << s;
  EXPECT_TRUE(contains(s, "ok = ok && (unsigned)(idx")) << "pad bounds, 32-bit index arithmetic";
}

TEST(CudaEmit, BroadcastBoolsAndDoubles) {
  Fn2 f = [](const nx::Tensor& x, const nx::Tensor& bias) {
    nx::Tensor b = nx::broadcast(bias, x.shape());
    nx::Tensor keep = nx::greater(x, b) || nx::is_nan(x);
    return std::vector{nx::select(keep, x - b, nx::sigmoid(x)), nx::as_type(keep, nx::f64)};
  };
  nx::Tensor x = data({128, 300}, 5, nx::f64);
  nx::Tensor bias = data({300}, 6, nx::f64);
  std::string s = checked_sources(nx::jit(f).graph(x, bias), 1)[0];
  EXPECT_TRUE(contains(s, "const double* __restrict__ in")) << s;
  EXPECT_TRUE(contains(s, "nx_sigmoid(")) << s;
  EXPECT_TRUE(contains(s, "(nx_bool)(")) << s;
}

// What a training step holds, forward and backward: a shuffled batch gathered from the
// data set, same, depthwise and strided convolutions, max pooling, an embedding bag, a product,
// log-softmax cross-entropy and SGD updates. Every node outside fusion groups has a
// device path: nothing goes to the host.
TEST(CudaEmit, TrainingStepsStayOnTheDevice) {
  auto loss = [](const nx::Tensor& k1, const nx::Tensor& k2, const nx::Tensor& w, const nx::Tensor& emb, const nx::Tensor& k3,
                 const nx::Tensor& x, const nx::Tensor& tokens, const nx::Tensor& labels) {
    nx::Tensor h = nx::max(nx::conv(x, k1, {.padding = nx::PaddingMode::same}), 0.0f);
    h = nx::window_max(h, {1, 1, 2, 2}, {.strides = {1, 1, 2, 2}});
    h = nx::conv(h, k3, {.padding = nx::PaddingMode::same, .feature_group_size = 4});  // depthwise
    h = nx::max(nx::conv(h, k2, {.strides = {2, 2}, .padding = nx::PaddingMode::same}), 0.0f);  // (N, 8, 4, 4)
    h = nx::reshape(h, {h.shape()[0], 128});
    nx::Tensor bag = nx::sum(nx::take(emb, tokens), {.axes = {1}});  // (N, 16)
    nx::Tensor logits = nx::dot(nx::concatenate({h, bag}, 1), w);
    nx::Tensor hot = nx::as_type(nx::equal(nx::reshape(labels, {labels.shape()[0], 1}), nx::iota({1, 10}, nx::i32)), x.dtype());
    return -nx::mean(nx::sum(nx::log_softmax(logits) * hot, {.axes = {1}}));
  };
  auto step = [&](const std::vector<nx::Tensor>& v) {
    nx::Tensor batch = nx::take(v[4], v[5]), tokens = nx::take(v[6], v[5]), labels = nx::take(v[7], v[5]);
    auto [g1, g2, g3, g4, g5] = nx::grad<0, 1, 2, 3, 4>(loss)(v[0], v[1], v[2], v[3], v[8], batch, tokens, labels);
    return std::vector{v[0] - g1 * 0.1f, v[1] - g2 * 0.1f, v[2] - g3 * 0.1f, v[3] - g4 * 0.1f, v[8] - g5 * 0.1f};
  };
  for (nx::DType t : {nx::f32, nx::bf16}) {  // bf16: a mixed-precision policy's compute dtype
    SCOPED_TRACE(std::string(nx::name(t)));
    std::vector<nx::Tensor> args{data({4, 1, 3, 3}, 1, t), data({8, 4, 3, 3}, 2, t),   data({144, 10}, 3, t),
                                 data({50, 16}, 4, t),     data({64, 1, 16, 16}, 5, t), nx::iota({32}, nx::i32) * 2,
                                 nx::remainder(nx::iota({64, 5}, nx::i32), nx::scalar(50, nx::i32)),
                                 nx::remainder(nx::iota({64}, nx::i32), nx::scalar(10, nx::i32)), data({4, 1, 3, 3}, 6, t)};
    nx::Graph g = nx::jit(step).graph(args);
    EXPECT_EQ(nx::cuda::host_fallbacks(g), std::vector<std::string>{}) << nx::cuda::fusion_report(g);
  }
}

// A dense layer at inference is one cuBLASLt call: its bias and relu run in the product's
// epilogue. Where the product has another reader (a gradient), it stays a kernel.
TEST(CudaEmit, DenseLayersRunAsProductEpilogues) {
  auto relu = [](const std::vector<nx::Tensor>& v) { return std::vector{nx::max(nx::dot(v[0], v[1]) + v[2], 0.0f)}; };
  Fn2 bias = [](const nx::Tensor& x, const nx::Tensor& w) { return std::vector{nx::dot(x, w) + nx::sum(w, {.axes = {0}})}; };
  Fn2 twice = [](const nx::Tensor& x, const nx::Tensor& w) {
    nx::Tensor y = nx::dot(x, w);
    return std::vector{y + nx::sum(w, {.axes = {0}}), y * 2.0f};
  };
  nx::Tensor x = data({128, 64}, 1), w = data({64, 32}, 2);
  std::string r = nx::cuda::fusion_report(nx::jit(relu).graph(std::vector{x, w, data({32}, 3)}));
  EXPECT_TRUE(contains(r, "on cuBLASLt (bias, relu)")) << r;
  r = nx::cuda::fusion_report(nx::jit(bias).graph(x, w));
  EXPECT_TRUE(contains(r, "on cuBLASLt (bias)")) << r;
  r = nx::cuda::fusion_report(nx::jit(twice).graph(x, w));
  EXPECT_FALSE(contains(r, "epilogue")) << r;
}

TEST(CudaEmit, BadSourceRaisesWithNvrtcsLog) {
  try {
    nx::cuda::compile_source("extern \"C\" __global__ void k() { undefined_thing(); }", 90);
    FAIL() << "compiled";
  } catch (const nx::Error& e) {
    EXPECT_TRUE(contains(e.what(), "NVRTC")) << e.what();
    EXPECT_TRUE(contains(e.what(), "undefined_thing")) << e.what();
  }
}

TEST(Cuda, WithoutADeviceTheBackendSaysWhy) {
  if (nx::cuda::available()) GTEST_SKIP() << "this machine has a CUDA device: " << nx::cuda::device_name();
  auto names = nx::backend_names();
  EXPECT_EQ(std::find(names.begin(), names.end(), "cuda"), names.end()) << "listed only where it can run";
  EXPECT_FALSE(nx::cuda::unavailable_reason().empty());
  try {
    nx::backend("cuda");
    FAIL() << "made a cuda backend without a device";
  } catch (const nx::Error& e) {
    EXPECT_TRUE(contains(e.what(), "cannot run here")) << e.what();
  }
  Fn1 f = [](const nx::Tensor& x) { return std::vector{x + 1.0f}; };
  EXPECT_THROW(nx::jit(f, {.backend = "cuda"})(nx::tensor({1.0f})), nx::Error);
  EXPECT_THROW(nx::to(nx::tensor({1.0f}), "cuda"), nx::Error);
}

// ---- on a device ----

using nx_test::expect_outputs_close;

template <class F, class... T> void against_interp(const F& f, double rel, const T&... args) {
  auto want = nx::jit(f, {.backend = "interp"})(args...);
  auto got = nx::jit(f, {.backend = "cuda"})(args...);
  expect_outputs_close(got, want, rel);
}

TEST(CudaDevice, FusedKernelsMatchInterp) {
  SKIP_WITHOUT_DEVICE();
  nx::Tensor x = data({513, 1031}, 7), y = data({513, 1031}, 8);
  Fn2 chain = [](const nx::Tensor& a, const nx::Tensor& b) { return std::vector{nx::tanh(a * 2.0f + b) * 3.0f + a}; };
  against_interp(chain, 1e-6, x, y);
  Fn2 exact = [](const nx::Tensor& a, const nx::Tensor& b) { return std::vector{(a * b - a) / (b + 3.0f), nx::max(a, b)}; };
  against_interp(exact, 0, x, y);
  Fn1 softmax = [](const nx::Tensor& a) { return std::vector{nx::softmax(a), nx::logsumexp(a, {.axes = {1}})}; };
  against_interp(softmax, 1e-5, x);
  Fn1 cols = [](const nx::Tensor& a) { return std::vector{nx::sum(a, {.axes = {0}}), nx::reduce_max(a, {.axes = {0}})}; };
  against_interp(cols, 1e-5, x);
  Fn1 all = [](const nx::Tensor& a) { return std::vector{nx::sum(a * a), nx::reduce_max(a)}; };
  against_interp(all, 1e-5, x);
  Fn1 maps = [](const nx::Tensor& a) {
    nx::Tensor p = nx::pad(nx::slice(nx::transpose(a, {1, 0}), {1, 2}, {200, 300}), nx::scalar(0.5f, nx::f32), {{1, 2, 0}, {0, 3, 0}});
    return std::vector{nx::exp(p) + nx::reverse(p, {0})};
  };
  against_interp(maps, 1e-6, x);
  Fn1 long_rows = [](const nx::Tensor& a) { return std::vector{nx::softmax(nx::reshape(a, {3, 513 * 1031 / 3}))}; };
  against_interp(long_rows, 1e-5, x);
}

TEST(CudaDevice, ProductEpiloguesMatchInterp) {
  SKIP_WITHOUT_DEVICE();
  for (nx::DType t : {nx::f32, nx::bf16}) {
    auto dense = [](const std::vector<nx::Tensor>& v) {
      const nx::Tensor &x = v[0], &w = v[1], &bias = v[2];
      return std::vector{nx::max(nx::dot(x, w) + bias, 0.0f), nx::dot(w, nx::transpose(w, {1, 0})) + nx::sum(w, {.axes = {1}})};
    };
    std::vector<nx::Tensor> args{nx::as_type(data({200, 80}, 3), t), nx::as_type(data({80, 96}, 4), t), nx::as_type(data({96}, 5), t)};
    auto want = nx::jit(dense, {.backend = "interp"})(args);
    auto got = nx::jit(dense, {.backend = "cuda"})(args);
    expect_outputs_close(got, want, t == nx::f32 ? 1e-5 : 2e-2);
  }
}

TEST(CudaDevice, NanPropagatesThroughMaxAndReductions) {
  SKIP_WITHOUT_DEVICE();
  float nan = std::numeric_limits<float>::quiet_NaN();
  nx::Tensor x = nx::tensor({1.0f, nan, 3.0f, -1.0f, 2.0f, 0.5f}).reshape({2, 3});
  Fn1 f = [](const nx::Tensor& a) {
    return std::vector{nx::reduce_max(a, {.axes = {1}}), nx::reduce_min(a, {.axes = {0}}), nx::max(a, 2.0f), nx::sum(a)};
  };
  against_interp(f, 0, x);
}

TEST(CudaDevice, ProductsOnCublasLtMatchInterp) {
  SKIP_WITHOUT_DEVICE();
  for (nx::DType t : {nx::f32, nx::f64, nx::bf16}) {
    SCOPED_TRACE(std::string(nx::name(t)));
    double rel = t == nx::bf16 ? 2e-2 : t == nx::f32 ? 1e-5 : 1e-12;
    nx::Tensor a = data({67, 129}, 9, t), b = data({129, 33}, 10, t), bt = data({33, 129}, 11, t);
    against_interp([](const nx::Tensor& x, const nx::Tensor& y) { return std::vector{nx::matmul(x, y)}; }, rel, a, b);
    against_interp([](const nx::Tensor& x, const nx::Tensor& y) { return std::vector{nx::dot(x, {1}, y, {1})}; }, rel, a, bt);
    nx::Tensor ba = data({5, 67, 129}, 12, t), bb = data({5, 129, 33}, 13, t);
    against_interp([](const nx::Tensor& x, const nx::Tensor& y) { return std::vector{nx::matmul(x, y)}; }, rel, ba, bb);
    // Contracting a middle axis: the operand is gathered first.
    nx::Tensor ma = data({6, 129, 7}, 14, t);
    if (t != nx::bf16)
      against_interp([](const nx::Tensor& x, const nx::Tensor& y) { return std::vector{nx::dot(x, {1}, y, {0})}; }, rel, ma, b);
  }
}

// svd at any size, and eigh, cholesky and solve beyond the block kernels' sizes, on
// cuSOLVER, signs as interp's; a matrix holding NaN (eigh) or not positive definite
// (cholesky) gives NaN.
TEST(CudaDevice, SolverMatchesInterp) {
  SKIP_WITHOUT_DEVICE();
  for (nx::DType t : {nx::f64, nx::f32}) {
    SCOPED_TRACE(std::string(nx::name(t)));
    double rel = t == nx::f64 ? 1e-8 : 1e-3;
    for (bool full : {false, true})
      for (nx::Shape s : {nx::Shape{3, 40, 25}, nx::Shape{2, 25, 40}, nx::Shape{64, 64}}) {
        Fn1 f = [full](const nx::Tensor& a) {
          auto [u, sv, vt] = nx::linalg::svd(a, {.full_matrices = full});
          return std::vector{u, sv, vt};
        };
        against_interp(f, rel, data(s, 17, t));
      }
    nx::Tensor a = data({2, 300, 300}, 18, t);
    a = a + nx::transpose(a, {0, 2, 1});
    // eigh in f64 only: interp's f32 eigh is LAPACK's in f32, whose vectors differ from
    // an f64 solver's by more than f32 tolerances where eigenvalues crowd.
    if (t == nx::f64) {
      Fn1 eigh = [](const nx::Tensor& m) {
        auto [w, v] = nx::linalg::eigh(m);
        return std::vector{w, v};
      };
      against_interp(eigh, rel, a);
      nx::Tensor holed = nx::select(nx::equal(nx::iota(a.shape(), nx::i32), nx::scalar(5, nx::i32)),
                                    nx::scalar(std::numeric_limits<double>::quiet_NaN()), a);
      against_interp(eigh, rel, holed);
    }
    // cholesky and solve of matrices too large for one block each (potrf, getrf/getrs);
    // the second matrix is not positive definite: NaN.
    nx::Tensor spd = nx::matmul(a, nx::transpose(a, {0, 2, 1})) + nx::eye(300, t) * 300.0;
    spd = spd * nx::reshape(nx::as_type(nx::tensor({1.0, -1.0}), t), {2, 1, 1});
    against_interp([](const nx::Tensor& m) { return std::vector{nx::linalg::cholesky(m)}; }, rel, spd);
    against_interp([](const nx::Tensor& m, const nx::Tensor& r) { return std::vector{nx::linalg::solve(m, r)}; }, rel, spd,
                   data({2, 300, 5}, 19, t));
  }
}

TEST(CudaDevice, TensorsMoveExplicitlyAndEagerOpsStayOnTheDevice) {
  SKIP_WITHOUT_DEVICE();
  nx::Tensor x = data({1000}, 15);
  nx::Tensor on = nx::to(x, "cuda");
  EXPECT_EQ(nx::device_of(on), "cuda");
  nx::Tensor y = nx::exp(on) + 1.0f;
  EXPECT_EQ(nx::device_of(y), "cuda") << "the result stays where its operand lives";
  nx::Tensor back = nx::to(y, "interp");
  EXPECT_EQ(nx::device_of(back), "interp");
  expect_outputs_close({back}, {nx::exp(x) + 1.0f}, 1e-6);
  EXPECT_EQ(nx::to(on, "cuda").impl()->buffer, on.impl()->buffer) << "already there: no copy";
  EXPECT_THROW((void)on.data<float>(), nx::Error) << "device memory is not host memory";
}

TEST(CudaDevice, LoopsHostFallbacksAndRandomBitsMatchInterp) {
  SKIP_WITHOUT_DEVICE();
  Fn1 f = [](const nx::Tensor& a) {
    auto [y, steps] = nx::while_loop(
        std::tuple{a, nx::scalar(0, nx::i64)}, [](const auto& s) { return std::get<1>(s) < 5; },
        [](const auto& s) { return std::tuple{nx::tanh(std::get<0>(s)) * 1.5f, std::get<1>(s) + 1}; });
    return std::vector{y, nx::sort(a), steps};
  };
  against_interp(f, 1e-6, data({300}, 16));
  Fn1 r = [](const nx::Tensor& k) { return std::vector{nx::random::uniform(k, {1000}), nx::random::normal(k, {33, 7})}; };
  against_interp(r, 0, nx::random::key(3));
}

// A step of several kernels and products, captured on its second run and replayed after:
// each run's inputs give that run's results; a step with a node on interp is not captured
// and runs as before.
TEST(CudaDevice, GraphsReplayStepsWithEachRunsInputs) {
  SKIP_WITHOUT_DEVICE();
  struct Restore {
    bool was = nx::cuda::graphs();
    ~Restore() { nx::cuda::set_graphs(was); }
  } restore;
  nx::cuda::set_graphs(true);
  Fn2 step = [](const nx::Tensor& w, const nx::Tensor& x) {
    nx::Tensor h = nx::max(nx::dot(x, w), 0.0f);
    nx::Tensor p = nx::softmax(h);
    return std::vector{w - nx::dot(nx::transpose(x, {1, 0}), p) * 0.01f, nx::sum(p * p), nx::reshape(w, {-1})};
  };
  auto on_cuda = nx::jit(step, {.backend = "cuda"});
  auto on_interp = nx::jit(step, {.backend = "interp"});
  nx::Tensor w = data({64, 32}, 30);
  for (int run = 0; run < 4; ++run) {
    SCOPED_TRACE("run " + std::to_string(run));
    nx::Tensor x = data({128, 64}, 31 + run);
    expect_outputs_close(on_cuda(nx::to(w, "cuda"), nx::to(x, "cuda")), on_interp(w, x), 1e-5);
    w = on_interp(w, x)[0];
  }
  Fn1 host = [](const nx::Tensor& a) {
    nx::Tensor spd = nx::dot(a, nx::transpose(a, {1, 0})) + nx::eye(8) * 8.0f;
    return std::vector{nx::linalg::cholesky(spd) * 2.0f};
  };
  for (int run = 0; run < 3; ++run) against_interp(host, 1e-5, data({8, 8}, 40 + run));
}

// Uploads go through a ring of pinned blocks without waiting for the device: more uploads
// than blocks, behind queued work, each host array changed right after its upload.
TEST(CudaDevice, UploadsThroughTheStagingRingKeepEachTensor) {
  SKIP_WITHOUT_DEVICE();
  nx::Tensor busy = nx::to(data({2048, 2048}, 50), "cuda");
  auto slow = nx::jit([](const nx::Tensor& a) { return nx::matmul(a, a); }, {.backend = "cuda"});
  std::vector<nx::Tensor> up;
  std::vector<float> host(1000);
  for (int k = 0; k < 12; ++k) {
    slow(busy);  // queued work the uploads do not wait for
    for (size_t i = 0; i < host.size(); ++i) host[i] = static_cast<float>(k * 1000 + i);
    up.push_back(nx::to(nx::from_bytes(host.data(), nx::f32, {1000}), "cuda"));
    std::fill(host.begin(), host.end(), -1.0f);
  }
  for (int k = 0; k < 12; ++k) EXPECT_EQ(nx::to(up[k], "interp").to_vector<float>()[999], static_cast<float>(k * 1000 + 999));
  nx::Tensor big = data({3, 1024, 1024}, 51);  // 12 MiB: larger than a block, copied directly
  expect_outputs_close({nx::to(nx::to(big, "cuda"), "interp")}, {big}, 0.0);
}

TEST(CudaDevice, MemoryPoolIsBoundedAndTrims) {
  SKIP_WITHOUT_DEVICE();
  size_t before = nx::cuda::memory_pool_limit();
  nx::cuda::set_memory_pool_limit(size_t{64} << 20);
  EXPECT_EQ(nx::cuda::memory_pool_limit(), size_t{64} << 20);
  { nx::Tensor big = nx::to(nx::zeros({64, 1024, 1024}, nx::f32), "cuda"); }
  nx::cuda::trim_memory();
  EXPECT_LE(nx::cuda::memory_pool_bytes(), size_t{64} << 20);
  nx::cuda::set_memory_pool_limit(before);
}

}  // namespace
#endif
