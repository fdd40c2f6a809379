// The llvm backend's fusion: which nodes become one kernel, and that fused kernels give
// interp's values bit for bit (IEEE arithmetic, NaN-propagating max/min), or within a
// tolerance where sums reassociate; determinism across thread counts; the disk cache.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <unistd.h>
#include <filesystem>
#include <fstream>
#include <limits>
#include <numeric>
#include <random>
#include <nx/config.hpp>
#include <string>

#include "nx/nx.hpp"
#include "test_support.hpp"
#if NX_HAS_ONEDNN
#include <nx/onednn.hpp>
#endif

#if NX_HAS_LLVM
namespace {

using Fn = std::function<std::vector<nx::Tensor>(const nx::Tensor&, const nx::Tensor&)>;

// f on llvm against interp: bit for bit, or within `rel` (relative, absolute below 1)
// where reductions or transcendentals (another summation order, polynomials) take part.
void expect_bitwise(const Fn& f, const nx::Tensor& a, const nx::Tensor& b, double rel = 0) {
  auto want = nx::jit(f, {.backend = "interp"})(a, b);
  auto got = nx::jit(f, {.backend = "llvm"})(a, b);
  nx_test::expect_outputs_close(got, want, rel);
}

std::string report(const Fn& f, const nx::Tensor& a, const nx::Tensor& b) {
  return nx::llvm_jit::fusion_report(nx::jit(f).graph(a, b));
}

TEST(Llvm, ElementwiseChainsFuseIntoOneKernel) {
  Fn f = [](const nx::Tensor& x, const nx::Tensor& y) {
    nx::Tensor t = nx::abs(x * 2.0f + y) / (y * y + 1.0f);
    return std::vector{nx::sqrt(t) - nx::max(x, y), nx::min(-t, x)};
  };
  nx::Tensor x = nx::random::uniform(nx::random::key(1), {1000, 37}, {.min = -2.0, .max = 2.0});
  nx::Tensor y = nx::random::uniform(nx::random::key(2), {1000, 37}, {.min = -2.0, .max = 2.0});
  std::string r = report(f, x, y);
  EXPECT_NE(r.find("kernel 0"), std::string::npos) << r;
  EXPECT_EQ(r.find("kernel 1"), std::string::npos) << r;  // one kernel, two outputs
  expect_bitwise(f, x, y);
  expect_bitwise(f, nx::as_type(x, nx::f64), nx::as_type(y, nx::f64));
}

TEST(Llvm, NaNInfinitiesAndSignedZerosMatchInterp) {
  std::vector<float> a{NAN, 1, -INFINITY, 0.0f, -0.0f, 3, INFINITY, NAN}, b{2, NAN, 5, -0.0f, 0.0f, INFINITY, -INFINITY, NAN};
  Fn f = [](const nx::Tensor& x, const nx::Tensor& y) {
    return std::vector{nx::max(x, y), nx::min(x, y), x / y, nx::sqrt(x) * y, nx::abs(x) - y};
  };
  expect_bitwise(f, nx::from_vector(a, {8}), nx::from_vector(b, {8}));
}

TEST(Llvm, ComparisonsSelectsAndConversionsFuse) {
  // relu and its gradient's tie weights: comparisons, selects and conversions in one kernel.
  Fn f = [](const nx::Tensor& x, const nx::Tensor& y) {
    nx::Tensor relu = nx::max(x, 0.0f);
    nx::Tensor w = nx::select(x > y, nx::scalar(1.0f), nx::select(x == y, nx::scalar(0.5f), nx::scalar(0.0f)));
    nx::Tensor as64 = nx::as_type(relu, nx::f64) * 2.0;
    return std::vector{relu * w, as64, nx::as_type(x <= y, nx::f32) - nx::as_type(nx::as_type(y, nx::boolean), nx::f32),
                       nx::as_type(x != y, nx::f32), nx::as_type(x >= 0.0f, nx::f32) + nx::as_type(x < 0.0f, nx::f32),
                       nx::select(nx::is_nan(x), y, nx::select(nx::is_infinity(y), x, y * 2.0f))};
  };
  std::vector<float> a{NAN, 1, -1, 0, 2, 0, -0.0f, INFINITY}, b{1, 1, 3, 0, NAN, -0.0f, 0, 1};
  std::string r = report(f, nx::from_vector(a, {8}), nx::from_vector(b, {8}));
  EXPECT_EQ(r.find("not fused"), std::string::npos) << r;
  expect_bitwise(f, nx::from_vector(a, {8}), nx::from_vector(b, {8}));
}

// exp, log, tanh, sigmoid, erf, sin: vectorised (polynomials, or libmvec where the CPU
// and libc have it), within a few ulp of interp's libm, NaN and infinities exact;
// floor, round and sign exact.
TEST(Llvm, TranscendentalsAreAccurateAndKeepSpecialValues) {
  std::vector<float> xs;
  for (int i = -200000; i <= 200000; ++i) xs.push_back(static_cast<float>(i) * 4.5e-4f);  // [-90, 90]
  for (float v : {0.0f, -0.0f, 1e-30f, -1e-30f, 88.7f, -103.0f, 1e-6f, INFINITY, -INFINITY, NAN}) xs.push_back(v);
  nx::Tensor x = nx::from_vector(xs, {static_cast<int64_t>(xs.size())});
  Fn f = [](const nx::Tensor& t, const nx::Tensor&) {
    return std::vector{nx::exp(t), nx::log(nx::abs(t)), nx::tanh(t), nx::sigmoid(t), nx::tanh(t * 0.5f) * 2.0f + t,
                       nx::erf(t * 0.05f), nx::sin(t), nx::floor(t) + nx::round(t) * nx::sign(t)};
  };
  std::string r = report(f, x, x);
  EXPECT_EQ(r.find("not fused"), std::string::npos) << r;
  auto want = nx::jit(f, {.backend = "interp"})(x, x);
  auto got = nx::jit(f, {.backend = "llvm"})(x, x);
  for (size_t k = 0; k < got.size(); ++k) {
    auto g = got[k].to_vector<float>(), w = want[k].to_vector<float>();
    for (size_t i = 0; i < g.size(); ++i) {
      if (std::isnan(w[i]) || std::isinf(w[i]) || w[i] == 0) {
        ASSERT_TRUE(g[i] == w[i] || (std::isnan(g[i]) && std::isnan(w[i]))) << k << " at x = " << xs[i] << ": " << g[i] << " vs " << w[i];
        continue;
      }
      ASSERT_NEAR(g[i], w[i], 4 * std::numeric_limits<float>::epsilon() * std::abs(w[i]) + 1e-37f)
          << "output " << k << " at x = " << xs[i];
    }
  }
  // The same value whichever thread and lane computes an element.
  auto one = nx::jit(f, {.backend = "llvm", .compile = {.num_threads = 1}})(x, x);
  for (size_t k = 0; k < got.size(); ++k) {
    auto a = one[k].to_vector<float>(), b = got[k].to_vector<float>();
    for (size_t i = 0; i < a.size(); ++i)
      if (std::memcmp(&a[i], &b[i], sizeof(float)) != 0) {
        ADD_FAILURE() << "output " << k << " differs at " << i << " of " << a.size() << ": " << a[i] << " vs " << b[i];
        break;
      }
  }
}

TEST(Llvm, RowAndColumnBroadcastsFuse) {
  Fn f = [](const nx::Tensor& x, const nx::Tensor& b) {  // x (4, 5, 6), b (6)
    nx::Tensor bias = nx::max(x + b, 0.0f);                                     // b: a column of (20, 6)
    nx::Tensor rowmax = nx::reduce_max(x, {.axes = {2}, .keep_axes = true});   // (4, 5, 1): a row
    nx::Tensor centred = nx::exp(x - rowmax) * nx::reshape(b, {6}) / 3.0f;
    nx::Tensor per_batch = x * nx::reshape(nx::sum(x, {.axes = {1, 2}}), {4, 1, 1});  // a row of (4, 30)
    return std::vector{bias, centred, per_batch};
  };
  nx::Tensor x = nx::random::uniform(nx::random::key(7), {4, 5, 6}, {.min = -2.0, .max = 2.0});
  nx::Tensor b = nx::random::uniform(nx::random::key(8), {6});
  std::string r = report(f, x, b);
  for (const char* op : {" add", " max", " exp", " divide"}) {
    size_t at = r.find(op);
    EXPECT_TRUE(at != std::string::npos && r.rfind("kernel", at) != std::string::npos) << op << "\n" << r;
  }
  EXPECT_EQ(r.find("broadcasts"), std::string::npos) << r;
  expect_bitwise(f, x, b, 1e-6);
  // Explicit broadcast nodes (as gradients emit them) fuse too: one value read as a row
  // through axes {0} and as a column through numpy alignment in the same kernel.
  Fn h = [](const nx::Tensor&, const nx::Tensor& v) {  // v (6)
    nx::Tensor rows = nx::broadcast(v, {6, 6}, {.axes = {0}}), cols = nx::broadcast(v, {6, 6});
    return std::vector{rows * 2.0f - cols, nx::max(rows, v)};
  };
  std::string rh = report(h, x, b);
  EXPECT_EQ(rh.find("not fused"), std::string::npos) << rh;
  expect_bitwise(h, x, b);
  // (1, 5, 1) inside (4, 5, 6) is neither a row nor a column: the kernel reads it
  // through a broadcast index map.
  Fn g = [](const nx::Tensor& x, const nx::Tensor&) { return std::vector{x * nx::reshape(nx::iota({5}, nx::f32), {1, 5, 1})}; };
  EXPECT_EQ(report(g, x, b).find("multiply not fused"), std::string::npos) << report(g, x, b);
  expect_bitwise(g, x, b);
}

TEST(Llvm, DumpsEachKernelsIrWhenAsked) {
  std::string dir = ::testing::TempDir() + "nx_llvm_dump_" + std::to_string(getpid());  // ctest runs copies in parallel
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  setenv("NX_LLVM_DUMP", dir.c_str(), 1);
  // A kernel no other test compiles: five divides in a row.
  nx::Tensor x = nx::ones({300}), y = nx::jit([](const nx::Tensor& t) { return t / 2.0f / 3.0f / 5.0f / 7.0f / 11.0f; },
                                              {.backend = "llvm"})(x);
  unsetenv("NX_LLVM_DUMP");
  EXPECT_NEAR(y.to_vector<float>()[0], 1.0 / 2310, 1e-9);
  std::string ir, assembly;  // each kernel's .ll and .s
  for (const auto& f : std::filesystem::directory_iterator(dir)) {
    std::ifstream in(f.path());
    (f.path().extension() == ".s" ? assembly : ir) += std::string(std::istreambuf_iterator<char>(in), {});
  }
  EXPECT_NE(ir.find("; nx kernel spec:"), std::string::npos);
  EXPECT_NE(ir.find("fdiv"), std::string::npos) << ir.substr(0, 2000);
  EXPECT_NE(assembly.find("divps"), std::string::npos) << assembly.substr(0, 2000);  // SSE/AVX: vdivps or divps
  std::filesystem::remove_all(dir);
}

TEST(Llvm, UnfusedNodesSayWhyAndStillRun) {
  Fn f = [](const nx::Tensor& x, const nx::Tensor& y) {
    nx::Tensor h = nx::dot(x, nx::transpose(y)) * 0.5f;  // dot: not elementwise
    nx::Tensor r = nx::reshape(y, {37, 1000}) + 1.0f;
    return std::vector{h - 1.0f, nx::sum(r, {.axes = {0}}), nx::as_type(x, nx::i32) + 1};
  };
  nx::Tensor x = nx::random::uniform(nx::random::key(3), {20, 37}), y = nx::random::uniform(nx::random::key(4), {1000, 37});
  std::string r = report(f, x, y);
  EXPECT_NE(r.find("dot_general not fused: not elementwise"), std::string::npos) << r;
  EXPECT_NE(r.find("add not fused: no kernel code for add on i32, i32"), std::string::npos) << r;
  auto want = nx::jit(f, {.backend = "interp"})(x, y);
  auto got = nx::jit(f, {.backend = "llvm"})(x, y);
  for (size_t k = 0; k < got.size(); ++k) {
    auto g = got[k].to_vector<double>(), w = want[k].to_vector<double>();
    for (size_t i = 0; i < g.size(); ++i) ASSERT_NEAR(g[i], w[i], 1e-4 * std::max(1.0, std::abs(w[i])));
  }
}

// Shape ops are index maps inside kernels: a transposed, sliced, reversed, padded,
// concatenated or reshaped array, or an iota, is read where it is used, not copied.
TEST(Llvm, ShapeOpsAreReadThroughInsideKernels) {
  Fn f = [](const nx::Tensor& x, const nx::Tensor& y) {
    nx::Tensor xt = nx::transpose(x);  // (300, 200), read at y's elements
    nx::Tensor a = xt * 2.0f + y;
    nx::Tensor b = nx::reverse(nx::slice(y, {5, 1}, {125, 50}, {.strides = {2, 3}}), {0}) - 1.0f;  // (125, 50)
    nx::Tensor c = nx::pad(x, nx::scalar(-7.0f), {{3, -2, 0}, {-4, 6, 0}});                        // (201, 302)
    nx::Tensor d = nx::concatenate({x, nx::reverse(x, {1}), nx::slice(x, {0, 10}, {200, 5})}, 1) * 0.5f;  // (200, 605)
    nx::Tensor e = nx::reshape(xt, {600, 100}) + nx::iota({600, 100}, nx::f32, 0);  // a reshape strides cannot express
    nx::Tensor s = nx::softmax(nx::transpose(y));                                 // a rows kernel reading a transpose
    nx::Tensor m = nx::sum(nx::slice(x, {1, 0}, {150, 300}), {.axes = {0}});     // a cols kernel reading a slice
    return std::vector{a, b, c, d, e, s, m, nx::iota({3, 4}, nx::f32) * 1.5f};
  };
  nx::Tensor x = nx::random::normal(nx::random::key(5), {200, 300});
  nx::Tensor y = nx::random::normal(nx::random::key(6), {300, 200});
  std::string r = report(f, x, y);
  EXPECT_NE(r.find("kernel 0 (300, 200): %2 transpose %4 multiply %5 add\n"), std::string::npos) << r;
  EXPECT_NE(r.find("reducing rows: %20 transpose %21 reduce_max"), std::string::npos) << r;
  for (size_t at = r.find("not fused"); at != std::string::npos; at = r.find("not fused", at + 1))
    EXPECT_EQ(r.compare(at, 40, "not fused: every reader reads through it"), 0) << r;
  expect_bitwise(f, x, y, 1e-5);
  expect_bitwise(f, nx::as_type(x, nx::f64), nx::as_type(y, nx::f64), 1e-12);
  // A pad and a concatenate of bools, and shape ops over a computed value (which the
  // kernel computing it writes out first).
  Fn g = [](const nx::Tensor& x, const nx::Tensor& y) {
    nx::Tensor pos = nx::pad(x > 0.0f, nx::scalar(true), {{1, 1, 0}, {0, 0, 0}});
    nx::Tensor t = nx::exp(x) * 3.0f;
    nx::Tensor u = nx::transpose(nx::concatenate({t, nx::slice(t, {0, 0}, {200, 100})}, 1));  // (400, 200)
    return std::vector{nx::select(pos, nx::pad(x, nx::scalar(0.0f), {{1, 1, 0}, {0, 0, 0}}), 1.0f), u + nx::transpose(y * y)};
  };
  expect_bitwise(g, x, nx::random::normal(nx::random::key(7), {200, 400}), 1e-6);
}

// A producer read through shape ops moves into its reader's kernel (computed at the
// reader's index), unless it is expensive and read twice.
TEST(Llvm, ProducersFuseIntoReadersThroughShapeOps) {
  Fn f = [](const nx::Tensor& x, const nx::Tensor& y) {
    nx::Tensor once = nx::transpose(nx::exp(x) * 2.0f) + y;                                          // one kernel
    nx::Tensor middle = nx::sum(nx::reshape(nx::tanh(x), {20, 10, 300}), {.axes = {1}});  // one kernel
    nx::Tensor e = nx::exp(x * 0.5f);                                                     // read twice
    return std::vector{once, middle, nx::concatenate({e, nx::reverse(e, {0})}, 0)};
  };
  nx::Tensor x = nx::random::normal(nx::random::key(14), {200, 300}), y = nx::random::normal(nx::random::key(15), {300, 200});
  std::string r = report(f, x, y);
  EXPECT_NE(r.find(": %5 transpose %6 add\n"), std::string::npos) << r;
  EXPECT_NE(r.find("%2 exp not fused: recomputed inside its readers' kernels"), std::string::npos) << r;
  EXPECT_NE(r.find("reducing rows: %9 sum\n"), std::string::npos) << r;
  EXPECT_NE(r.find("%7 tanh not fused: recomputed inside its readers' kernels"), std::string::npos) << r;
  EXPECT_NE(r.find(": %11 multiply %12 exp\n"), std::string::npos) << r;  // e: its own kernel, read from memory
  expect_bitwise(f, x, y, 1e-5);
}

// A property test of the index maps: random chains of shape ops and elementwise ops
// (which readers through shape ops recompute) give interp's values.
TEST(Llvm, RandomShapeOpChainsMatchInterp) {
  for (unsigned seed = 1; seed <= 40; ++seed) {
    Fn f = [seed](const nx::Tensor& x, const nx::Tensor&) {
      std::mt19937 rng(seed);
      auto pick = [&](int64_t lo, int64_t hi) { return std::uniform_int_distribution<int64_t>(lo, hi)(rng); };
      nx::Tensor t = x;
      for (int step = 0; step < 5; ++step) {
        std::vector<int64_t> d = t.shape().to_vector();
        int r = t.rank();
        size_t ax = static_cast<size_t>(pick(0, r - 1));
        switch (pick(0, 7)) {
          case 0: {
            std::vector<int> perm(static_cast<size_t>(r));
            std::iota(perm.begin(), perm.end(), 0);
            std::shuffle(perm.begin(), perm.end(), rng);
            t = nx::transpose(t, perm);
            break;
          }
          case 1: {
            std::vector<int64_t> starts, lengths, strides;
            for (int64_t n : d) {
              int64_t extent = pick(1, n), stride = pick(1, 3);
              starts.push_back(pick(0, n - extent)), lengths.push_back((extent - 1) / stride + 1), strides.push_back(stride);
            }
            t = nx::slice(t, starts, lengths, {.strides = strides});
            break;
          }
          case 2: t = nx::reverse(t, {static_cast<int>(ax)}); break;
          case 3: {
            std::vector<nx::PadConfig> pads;
            for (int64_t n : d) pads.push_back({pick(n > 1 ? -1 : 0, 2), pick(0, 2), 0});
            t = nx::pad(t, nx::scalar(-3.0f), pads);
            break;
          }
          case 4: {  // merge two axes, or split one
            if (r > 1 && pick(0, 1) == 0) {
              d[ax == 0 ? 0 : ax - 1] *= d[ax == 0 ? 1 : ax];
              d.erase(d.begin() + static_cast<long>(ax == 0 ? 1 : ax));
            } else {
              int64_t k = d[ax] % 2 == 0 ? 2 : d[ax] % 3 == 0 ? 3 : 1;
              d[ax] /= k;
              d.insert(d.begin() + static_cast<long>(ax), k);
            }
            t = nx::reshape(t, nx::Shape(d));
            break;
          }
          case 5: t = nx::concatenate({t, nx::reverse(t, {static_cast<int>(ax)})}, static_cast<int>(ax)); break;
          case 6: t = t * 1.5f - 0.25f; break;         // cheap: recomputed by every reader
          default: t = nx::exp(t * 0.125f); break;  // expensive: recomputed only by a sole reader
        }
      }
      return std::vector{t * 2.0f + 1.0f, t};
    };
    SCOPED_TRACE("seed " + std::to_string(seed));
    nx::Tensor x = nx::random::normal(nx::random::key(static_cast<int>(seed)), {6, 10, 8});
    expect_bitwise(f, x, x, 1e-6);
  }
}

// Donated arguments (JitOptions::donate) take the results in place when nothing else
// holds their buffers; the donated tensors are spent.
TEST(Llvm, DonatedArgumentsTakeTheResultsInPlace) {
  auto step = [](const nx::Tensor& w, const nx::Tensor& g) { return w - g * 0.1f; };
  nx::Tensor g = nx::random::normal(nx::random::key(8), {500, 300});
  nx::Tensor w = nx::random::normal(nx::random::key(9), {500, 300});
  std::vector<float> want = (w - g * 0.1f).to_vector<float>(), grads = g.to_vector<float>();
  nx::Tensor kept = nx::jit(step, {.backend = "llvm"})(w, g);
  EXPECT_NE(kept.buffer()->data(), w.buffer()->data());
  EXPECT_EQ(kept.to_vector<float>(), want);
  auto donating = nx::jit(step, {.backend = "llvm", .donate = {0}});
  const void* at = w.buffer()->data();
  nx::Tensor w2 = donating(w, g);
  EXPECT_EQ(w2.buffer()->data(), at);
  EXPECT_EQ(w2.to_vector<float>(), want);
  EXPECT_EQ(g.to_vector<float>(), grads);
  EXPECT_THROW(w.to_vector<float>(), nx::Error);
  EXPECT_THROW(w + 1.0f, nx::Error);
  EXPECT_THROW(donating(w, g), nx::Error);
  EXPECT_THROW(nx::jit(step, {.backend = "llvm", .donate = {2}})(g, g), nx::Error);
  // A buffer that something else shares (an eager reshape) is not written over.
  nx::Tensor shared = nx::reshape(w2, {300, 500});
  std::vector<float> before = shared.to_vector<float>();
  nx::Tensor w3 = donating(w2, g);
  EXPECT_NE(w3.buffer()->data(), shared.buffer()->data());
  EXPECT_EQ(shared.to_vector<float>(), before);
}

// Bit for bit the same results on one thread and on every core.
void expect_same_on_one_thread(const Fn& f, const nx::Tensor& a, const nx::Tensor& b) {
  auto all = nx::jit(f, {.backend = "llvm"})(a, b);
  auto one = nx::jit(f, {.backend = "llvm", .compile = {.num_threads = 1}})(a, b);
  for (size_t k = 0; k < all.size(); ++k) {
    ASSERT_EQ(all[k].shape(), one[k].shape());
    auto x = all[k].to_vector<double>(), y = one[k].to_vector<double>();
    for (size_t i = 0; i < x.size(); ++i)
      ASSERT_TRUE(std::memcmp(&x[i], &y[i], sizeof(double)) == 0) << "output " << k << " at " << i << ": " << x[i] << " vs " << y[i];
  }
}

// With oneDNN off (as in a build without it), dot_general and conv run on the backend's
// own blocked GEMM: plain, transposed, batched and odd-sized operands, f32 and f64.
TEST(Llvm, OwnGemmRunsDotsWithoutOneDnn) {
  bool was = nx::llvm_jit::use_onednn();
  nx::llvm_jit::set_use_onednn(false);
#if NX_HAS_ONEDNN
  int64_t matmuls = nx::onednn::kernel_counts()["matmul"];
#endif
  Fn f = [](const nx::Tensor& x, const nx::Tensor& y) {
    nx::Tensor x3 = nx::reshape(x, {10, 13, 301}), y3 = nx::broadcast(y, {10, 301, 77});
    return std::vector{nx::dot(x, y), nx::dot(nx::transpose(y), nx::transpose(x)),
                       nx::dot_general(x3, y3, {.contract_a = {2}, .contract_b = {1}, .batch_a = {0}, .batch_b = {0}}),
                       nx::dot(nx::slice(x, {0, 0}, {7, 301}), nx::slice(y, {0, 0}, {301, 1}))};
  };
  nx::Tensor x = nx::random::normal(nx::random::key(10), {130, 301}), y = nx::random::normal(nx::random::key(11), {301, 77});
  expect_bitwise(f, x, y, 1e-4);  // f32 sums of 301 products, against interp's f64 sums
  expect_bitwise(f, nx::as_type(x, nx::f64), nx::as_type(y, nx::f64), 1e-12);
  expect_same_on_one_thread(f, x, y);
  // Convolutions (large enough not to run on interp): im2col + the GEMM (padding,
  // strides, both dilations, feature groups).
  Fn conv = [](const nx::Tensor& x, const nx::Tensor& k) {
    nx::Tensor k2 = nx::slice(k, {0, 0, 0, 0}, {6, 2, 3, 3});
    return std::vector{nx::conv(x, k, {.strides = {2, 1}, .padding = nx::PaddingMode::same}),
                       nx::conv(x, k, {.padding = std::vector<std::pair<int64_t, int64_t>>{{2, 1}, {0, 3}},
                                       .input_dilation = {2, 1}, .kernel_dilation = {1, 2}}),
                       nx::conv(x, k2, {.feature_group_size = 2})};
  };
  nx::Tensor img = nx::random::normal(nx::random::key(12), {4, 4, 40, 33}), ker = nx::random::normal(nx::random::key(13), {6, 4, 3, 3});
  expect_bitwise(conv, img, ker, 1e-4);
  expect_bitwise(conv, nx::as_type(img, nx::f64), nx::as_type(ker, nx::f64), 1e-12);
#if NX_HAS_ONEDNN
  EXPECT_EQ(nx::onednn::kernel_counts()["matmul"], matmuls);
#endif
  nx::llvm_jit::set_use_onednn(was);
}

// Each micro-kernel of the own GEMM this CPU runs (AVX-512, AVX2, portable) gives
// interp's products: plain, transposed, batched, and sizes that leave partial tiles at
// every edge, f32 and f64, one thread or all. f64 products use it with oneDNN on too.
TEST(Llvm, EveryGemmKernelMatchesInterp) {
  std::string kernel = nx::llvm_jit::gemm_kernel();
  bool was = nx::llvm_jit::use_onednn();
  nx::llvm_jit::set_use_onednn(false);
  Fn f = [](const nx::Tensor& x, const nx::Tensor& y) {
    nx::Tensor x3 = nx::reshape(x, {3, 43, 611}), y3 = nx::broadcast(nx::slice(y, {0, 0}, {611, 29}), {3, 611, 29});
    return std::vector{nx::dot(x, y), nx::dot(nx::transpose(y), nx::transpose(x)),
                       nx::dot_general(x3, y3, {.contract_a = {2}, .contract_b = {1}, .batch_a = {0}, .batch_b = {0}}),
                       nx::dot(nx::slice(x, {0, 0}, {13, 611}), nx::slice(y, {0, 0}, {611, 33}))};
  };
  nx::Tensor x = nx::random::normal(nx::random::key(16), {129, 611}), y = nx::random::normal(nx::random::key(17), {611, 97});
  for (const std::string& k : nx::llvm_jit::gemm_kernels()) {
    SCOPED_TRACE(k);
    nx::llvm_jit::set_gemm_kernel(k);
    EXPECT_EQ(nx::llvm_jit::gemm_kernel(), k);
    expect_bitwise(f, x, y, 1e-4);
    expect_bitwise(f, nx::as_type(x, nx::f64), nx::as_type(y, nx::f64), 1e-12);
    // Half types are widened while packed, summed in f32 and rounded once, as interp
    // does: the order of the sums differs, so the last bit may.
    expect_bitwise(f, nx::as_type(x, nx::bf16), nx::as_type(y, nx::bf16), 1e-2);
    expect_bitwise(f, nx::as_type(x, nx::f16), nx::as_type(y, nx::f16), 2e-3);
    expect_same_on_one_thread(f, x, y);
  }
  nx::llvm_jit::set_use_onednn(was);
  expect_bitwise(f, nx::as_type(x, nx::f64), nx::as_type(y, nx::f64), 1e-12);
  expect_bitwise(f, nx::as_type(x, nx::bf16), nx::as_type(y, nx::bf16), 1e-2);  // whichever of oneDNN and ours is faster
  expect_bitwise(f, nx::as_type(x, nx::f16), nx::as_type(y, nx::f16), 2e-3);
  nx::llvm_jit::set_gemm_kernel(kernel);
  nx_test::expect_error<nx::Error>([] { nx::llvm_jit::set_gemm_kernel("avx1024"); }, "no micro-kernel 'avx1024'");
  EXPECT_EQ(nx::llvm_jit::gemm_kernel(), kernel);
}

#if NX_HAS_ONEDNN
// A convolution's weight gradient reads x^T and g^T: oneDNN reads those transposes as
// views (no kernel copies them), with interp's values; a graph compiled that way still
// runs, node by node, after oneDNN has been turned off.
TEST(Llvm, ConvolutionsReadTransposedOperandsAsViews) {
  if (!nx::llvm_jit::use_onednn()) GTEST_SKIP() << "oneDNN is turned off (NX_LLVM_ONEDNN=0)";
  Fn f = [](const nx::Tensor& x, const nx::Tensor& k) {
    auto loss = [](const nx::Tensor& x, const nx::Tensor& k) {
      return nx::sum(nx::tanh(nx::conv(x, k, {.strides = {1, 2}, .padding = nx::PaddingMode::same})));
    };
    auto [gx, gk] = nx::grad<0, 1>(loss)(x, k);
    return std::vector{gx, gk};
  };
  nx::Tensor img = nx::random::normal(nx::random::key(14), {16, 4, 30, 33}), ker = nx::random::normal(nx::random::key(15), {8, 4, 3, 3});
  std::string r = report(f, img, ker);
  EXPECT_NE(r.find("read as a strided view by oneDNN"), std::string::npos) << r;
  int64_t views = nx::onednn::kernel_counts()["transpose_view"];
  expect_bitwise(f, img, ker, 1e-4);
  EXPECT_GE(nx::onednn::kernel_counts()["transpose_view"], views + 2);
  auto compiled = nx::jit(f, {.backend = "llvm"});
  auto want = compiled(img, ker);
  bool was = nx::llvm_jit::use_onednn();
  nx::llvm_jit::set_use_onednn(false);
  auto got = compiled(img, ker);
  nx::llvm_jit::set_use_onednn(was);
  for (size_t i = 0; i < got.size(); ++i) EXPECT_TRUE(nx::allclose(got[i], want[i], {.rtol = 1e-4, .atol = 1e-4})) << i;
}
#endif

// An operand broadcast along middle axes (neither a row nor a column of the kernel's
// view) is read through a broadcast index map.
TEST(Llvm, MiddleAxisBroadcastsReadThroughMaps) {
  Fn f = [](const nx::Tensor& x, const nx::Tensor& y) {
    nx::Tensor x3 = nx::reshape(x, {20, 10, 300});
    return std::vector{x3 * nx::reshape(y, {20, 1, 300}) + 1.0f, nx::sum(x3 - nx::reshape(y, {20, 1, 300}), {.axes = {2}})};
  };
  nx::Tensor x = nx::random::normal(nx::random::key(16), {200, 300}), y = nx::random::normal(nx::random::key(17), {20, 300});
  std::string r = report(f, x, y);
  EXPECT_EQ(r.find("multiply not fused"), std::string::npos) << r;
  EXPECT_EQ(r.find("subtract not fused"), std::string::npos) << r;
  expect_bitwise(f, x, y, 1e-5);
  expect_same_on_one_thread(f, x, y);
}

TEST(Llvm, SoftmaxAndLogSoftmaxAreOneRowReducingKernel) {
  Fn f = [](const nx::Tensor& x, const nx::Tensor&) { return std::vector{nx::softmax(x), nx::log_softmax(x)}; };
  nx::Tensor x = nx::random::normal(nx::random::key(11), {300, 257}) * 4.0f;
  std::string r = report(f, x, x);
  EXPECT_NE(r.find("kernel 0 (300, 257) reducing rows"), std::string::npos) << r;
  EXPECT_EQ(r.find("kernel 1"), std::string::npos) << r;
  expect_bitwise(f, x, x, 2e-6);
  expect_same_on_one_thread(f, x, x);
  // NaN and infinities stay where interp puts them: a NaN row, a row with +inf, a row of -inf.
  std::vector<float> v{1, NAN, 3, 0, 2, INFINITY, -1, 0, -INFINITY, -INFINITY, -INFINITY, -INFINITY, 5, -INFINITY, 6, 7};
  nx::Tensor special = nx::from_vector(v, {4, 4});
  expect_bitwise(f, special, special, 2e-6);
  // Long rows (no room for a row buffer) recompute instead.
  nx::Tensor wide = nx::random::normal(nx::random::key(12), {3, 20000});
  expect_bitwise(f, wide, wide, 2e-6);
}

TEST(Llvm, SumsAndMaximaReduceRowsColumnsAndEverything) {
  Fn f = [](const nx::Tensor& x, const nx::Tensor& b) {
    nx::Tensor y = x * 2.0f + b;  // (300, 700) + (700): fused into each reduction below
    return std::vector{nx::sum(y, {.axes = {1}}), nx::sum(y * y, {.axes = {0}}), nx::reduce_max(y, {.axes = {0}}),
                       nx::sum(y), nx::reduce_min(y), nx::reduce_max(nx::exp(x))};
  };
  nx::Tensor x = nx::random::uniform(nx::random::key(13), {300, 700}), b = nx::random::uniform(nx::random::key(14), {700});
  std::string r = report(f, x, b);
  for (const char* mode : {"reducing rows", "reducing columns", "reducing all"})
    EXPECT_NE(r.find(mode), std::string::npos) << mode << "\n" << r;
  EXPECT_EQ(r.find("not fused"), std::string::npos) << r;
  expect_bitwise(f, x, b, 2e-6);
  expect_bitwise(f, nx::as_type(x, nx::f64), nx::as_type(b, nx::f64), 1e-13);
  expect_same_on_one_thread(f, x, b);
  // A NaN anywhere makes its row's, column's and the total's max and sum NaN.
  std::vector<float> v = x.to_vector<float>();
  v[5 * 700 + 9] = NAN;
  nx::Tensor with_nan = nx::from_vector(v, {300, 700});
  expect_bitwise(f, with_nan, b, 2e-6);
  // Middle and non-adjacent axes: a rows kernel reads the operand transposed.
  Fn middle = [](const nx::Tensor& x, const nx::Tensor&) {
    nx::Tensor t = nx::reshape(x, {30, 10, 7, 100});
    return std::vector{nx::sum(t, {.axes = {1}}), nx::reduce_max(nx::exp(t), {.axes = {0, 2}, .keep_axes = true}),
                       nx::reduce_min(t * 2.0f, {.axes = {1, 2}})};
  };
  std::string m = report(middle, x, b);
  for (const char* op : {"sum", "reduce_max", "reduce_min"}) EXPECT_EQ(m.find(std::string(op) + " not fused"), std::string::npos) << m;
  EXPECT_NE(m.find("(30, 100, 10, 7) reducing rows"), std::string::npos) << m;
  expect_bitwise(middle, x, b, 1e-5);
  expect_bitwise(middle, with_nan, b, 1e-5);
  expect_same_on_one_thread(middle, x, b);
}

TEST(Llvm, ColumnReductionsOverManyRowsRunInRowBlocks) {
  // 5000 rows: blocks of 512 rows, each over every column into partial results, folded in
  // block order; inputs read whole and per column ([77]).
  Fn f = [](const nx::Tensor& x, const nx::Tensor& b) {
    nx::Tensor y = x * 2.0f + b;
    return std::vector{nx::sum(y, {.axes = {0}}), nx::reduce_max(y, {.axes = {0}}), nx::reduce_min(x, {.axes = {0}}),
                       nx::sum(x * x, {.axes = {0}, .keep_axes = true})};
  };
  nx::Tensor x = nx::random::normal(nx::random::key(17), {5000, 77}), r = nx::random::uniform(nx::random::key(18), {77});
  std::string rep = report(f, x, r);
  EXPECT_NE(rep.find("reducing columns"), std::string::npos) << rep;
  expect_bitwise(f, x, r, 2e-5);
  expect_bitwise(f, nx::as_type(x, nx::f64), nx::as_type(r, nx::f64), 1e-13);
  expect_same_on_one_thread(f, x, r);
  std::vector<float> v = x.to_vector<float>();
  v[4321 * 77 + 5] = NAN;  // in the last block: column 5's sum, max and min are NaN
  expect_bitwise(f, nx::from_vector(v, {5000, 77}), r, 2e-5);
}

TEST(Llvm, ReductionsAreBitwiseTheSameOnOneAndTwoThreads) {
  // Sizes that give several blocks of a total, several chunks of rows and columns.
  Fn f = [](const nx::Tensor& x, const nx::Tensor& y) {
    nx::Tensor t = nx::tanh(x) * y + nx::exp(y * 0.1f);
    return std::vector{nx::sum(t), nx::sum(t, {.axes = {1}}), nx::sum(t, {.axes = {0}}), nx::reduce_max(t, {.axes = {1}}),
                       nx::softmax(t), t};
  };
  nx::Tensor x = nx::random::normal(nx::random::key(15), {517, 1031}), y = nx::random::normal(nx::random::key(16), {517, 1031});
  expect_same_on_one_thread(f, x, y);
  expect_bitwise(f, x, y, 1e-4);
}

TEST(Llvm, LargeOutputsStreamWithTheSameValues) {
  // 32 MiB and more of output: written through stack blocks with non-temporal stores;
  // an odd length exercises the last block's tail.
  Fn f = [](const nx::Tensor& x, const nx::Tensor&) { return std::vector{x * 3.0f - 1.0f, nx::as_type(x > 0.5f, nx::f32)}; };
  nx::Tensor x = nx::random::uniform(nx::random::key(17), {(8 << 20) + 13});
  expect_bitwise(f, x, x);
  // Rows kernels stream too (rows of whole cache lines), keeping what later passes read
  // in row buffers.
  Fn rows = [](const nx::Tensor& x, const nx::Tensor&) { return std::vector{nx::softmax(x), nx::log_softmax(x) * 2.0f}; };
  nx::Tensor m = nx::random::normal(nx::random::key(19), {2048, 4096});
  expect_bitwise(rows, m, m, 2e-6);
  expect_same_on_one_thread(rows, m, m);
}

TEST(Llvm, KernelsComeBackFromTheDiskCache) {
  std::string dir = std::filesystem::temp_directory_path() / ("nx_llvm_cache_test_" + std::to_string(getpid()));
  std::filesystem::remove_all(dir);
  std::string before = nx::llvm_jit::disk_cache();
  nx::llvm_jit::set_disk_cache(dir);
  Fn f = [](const nx::Tensor& x, const nx::Tensor&) { return std::vector{nx::sqrt(x * 7.0f + 13.0f) / 17.0f - 19.0f}; };
  nx::Tensor x = nx::random::uniform(nx::random::key(18), {1000});
  auto want = nx::jit(f, {.backend = "interp"})(x, x)[0].to_vector<float>();
  auto stats = nx::llvm_jit::compile_stats();
  nx::llvm_jit::clear_memory_cache();
  EXPECT_EQ(nx::jit(f, {.backend = "llvm"})(x, x)[0].to_vector<float>(), want);
  auto after_first = nx::llvm_jit::compile_stats();
  EXPECT_EQ(after_first.kernels + after_first.loaded, stats.kernels + stats.loaded + 1);
  std::vector<std::filesystem::path> files;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir))
    if (e.is_regular_file()) files.push_back(e.path());
  ASSERT_EQ(files.size(), 1u);
  // A second "process": the kernel loads instead of compiling.
  nx::llvm_jit::clear_memory_cache();
  EXPECT_EQ(nx::jit(f, {.backend = "llvm"})(x, x)[0].to_vector<float>(), want);
  EXPECT_EQ(nx::llvm_jit::compile_stats().loaded, after_first.loaded + 1);
  // A damaged file (truncated, then flipped bytes) is a miss: the kernel compiles again.
  for (int damage = 0; damage < 2; ++damage) {
    auto size = std::filesystem::file_size(files[0]);
    if (damage == 0) {
      std::filesystem::resize_file(files[0], size / 2);
    } else {
      std::fstream io(files[0], std::ios::in | std::ios::out | std::ios::binary);
      io.seekp(static_cast<std::streamoff>(size - 100));
      io.write("garbage!", 8);
    }
    nx::llvm_jit::clear_memory_cache();
    auto compiled = nx::llvm_jit::compile_stats().kernels;
    EXPECT_EQ(nx::jit(f, {.backend = "llvm"})(x, x)[0].to_vector<float>(), want);
    EXPECT_EQ(nx::llvm_jit::compile_stats().kernels, compiled + 1) << "damage " << damage;
  }
  // "" turns it off: nothing is written.
  nx::llvm_jit::set_disk_cache("");
  std::filesystem::remove_all(dir);
  nx::llvm_jit::clear_memory_cache();
  EXPECT_EQ(nx::jit(f, {.backend = "llvm"})(x, x)[0].to_vector<float>(), want);
  EXPECT_FALSE(std::filesystem::exists(dir));
  nx::llvm_jit::set_disk_cache(before);
}

TEST(Llvm, IntermediatesReadOutsideAGroupLeaveIt) {
  // u feeds both the kernel and a dot: the kernel that makes u must run before the dot.
  Fn f = [](const nx::Tensor& x, const nx::Tensor& y) {
    nx::Tensor u = x * y + 1.0f;
    nx::Tensor d = nx::dot(u, nx::transpose(u));
    nx::Tensor v = u * 3.0f - x;
    return std::vector{v, d};
  };
  nx::Tensor x = nx::random::uniform(nx::random::key(5), {6, 7}), y = nx::random::uniform(nx::random::key(6), {6, 7});
  auto want = nx::jit(f, {.backend = "interp"})(x, y);
  auto got = nx::jit(f, {.backend = "llvm"})(x, y);
  EXPECT_EQ(got[0].to_vector<float>(), want[0].to_vector<float>());
  auto g = got[1].to_vector<float>(), w = want[1].to_vector<float>();
  for (size_t i = 0; i < g.size(); ++i) EXPECT_NEAR(g[i], w[i], 1e-4);
}

}  // namespace
#endif
