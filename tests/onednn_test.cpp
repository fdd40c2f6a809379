// The oneDNN backend's own mappings against interp: convolutions forward and both
// backward forms (recognised in gradient graphs), matmuls over transposed views, and
// values left in blocked layouts feeding interp nodes. kernel_counts() proves each case
// ran as a oneDNN primitive rather than silently falling back.
#include <gtest/gtest.h>

#include <nx/config.hpp>
#include <cmath>
#include <string>

#include "nx/nx.hpp"

#if NX_HAS_ONEDNN
namespace {

using Fn3 = std::function<std::vector<nx::Tensor>(const nx::Tensor&, const nx::Tensor&, const nx::Tensor&)>;

void expect_close(const nx::Tensor& got, const nx::Tensor& want, const std::string& what) {
  ASSERT_EQ(got.shape(), want.shape()) << what;
  auto g = got.to_vector<float>(), w = want.to_vector<float>();
  double scale = 0;
  for (float v : w) scale = std::isnan(v) ? scale : std::max(scale, double(std::abs(v)));
  for (size_t i = 0; i < g.size(); ++i) {
    ASSERT_EQ(std::isnan(g[i]), std::isnan(w[i])) << what << " at " << i;
    if (!std::isnan(w[i]) && g[i] != w[i]) {
      ASSERT_NEAR(g[i], w[i], 1e-5 * scale + 1e-5) << what << " at " << i;
    }
  }
}

nx::Tensor uniform(uint64_t seed, nx::Shape shape) { return nx::random::uniform(nx::random::key(seed), shape, {.min = -1.0, .max = 1.0}); }

// f's outputs on onednn against interp; returns the onednn kernels that ran.
std::map<std::string, int64_t> compare(const Fn3& f, const nx::Tensor& a, const nx::Tensor& b, const nx::Tensor& c,
                                       const std::string& what) {
  auto want = nx::jit(f, {.backend = "interp"})(a, b, c);
  nx::onednn::reset_kernel_counts();
  auto got = nx::jit(f, {.backend = "onednn"})(a, b, c);
  auto counts = nx::onednn::kernel_counts();
  for (size_t i = 0; i < got.size(); ++i) expect_close(got[i], want[i], what + " output " + std::to_string(i));
  return counts;
}

struct ConvCase {
  std::string name;
  nx::Shape x, k;
  nx::ConvOpts opts;
};

std::vector<ConvCase> conv_cases() {
  using nx::PaddingMode;
  return {
      {"2d same", {4, 3, 9, 9}, {5, 3, 3, 3}, {.padding = PaddingMode::same}},
      {"2d stride 2", {4, 3, 10, 10}, {6, 3, 3, 3}, {.strides = {2, 2}, .padding = PaddingMode::same}},
      {"2d stride 3 valid", {2, 4, 11, 8}, {5, 4, 3, 2}, {.strides = {3, 2}}},
      {"2d dilated", {3, 2, 12, 12}, {4, 2, 3, 3}, {.padding = PaddingMode::same, .kernel_dilation = {2, 2}}},
      {"2d groups", {2, 6, 8, 8}, {9, 2, 3, 3}, {.strides = {2, 1}, .padding = PaddingMode::same, .feature_group_size = 3}},
      {"2d asymmetric pad", {2, 3, 7, 7}, {4, 3, 3, 3}, {.strides = {2, 2}, .padding = std::vector<std::pair<int64_t, int64_t>>{{0, 2}, {1, 0}}}},
      {"1d", {3, 4, 20}, {6, 4, 5}, {.strides = {2}, .padding = PaddingMode::same}},
      {"3d", {2, 2, 6, 6, 6}, {3, 2, 3, 3, 3}, {.strides = {2, 1, 2}, .padding = PaddingMode::same}},
  };
}

TEST(Onednn, ConvolutionForwardAndBothBackwardPassesMatchInterp) {
  for (const ConvCase& c : conv_cases()) {
    nx::Tensor x = uniform(1, c.x), k = uniform(2, c.k);
    nx::ConvOpts opts = c.opts;
    nx::Tensor y = nx::conv(x, k, opts);
    nx::Tensor g = uniform(3, y.shape());
    Fn3 f = [opts](const nx::Tensor& a, const nx::Tensor& b, const nx::Tensor& ct) {
      auto loss = [opts](const nx::Tensor& p, const nx::Tensor& q, const nx::Tensor& r) {
        return nx::sum(nx::conv(p, q, opts) * r);
      };
      auto [gx, gk] = nx::grad<0, 1>(loss)(a, b, ct);
      return std::vector{nx::conv(a, b, opts), gx, gk};
    };
    auto counts = compare(f, x, k, g, c.name);
    EXPECT_EQ(counts["conv_forward"], 1) << c.name;
    EXPECT_EQ(counts["conv_backward_data"], 1) << c.name;
    EXPECT_EQ(counts["conv_backward_weights"], 1) << c.name;
    EXPECT_EQ(counts["interp:conv"], 0) << c.name;
    EXPECT_EQ(counts["interp:transpose"], 0) << c.name << ": x^T and g^T are read as views";
  }
}

// oneDNN runs 3x3 convolutions of large enough batches and 32 channels or more with
// Winograd's algorithm on AVX-512, forward and both gradients; set_allow_winograd(false)
// keeps them direct, as are those of fewer channels. All match interp to one tolerance.
TEST(Onednn, WinogradWhereOneDnnChoosesItAndDirectWhenDisallowed) {
  if (!__builtin_cpu_supports("avx512f")) GTEST_SKIP() << "oneDNN's f32 Winograd convolutions need AVX-512";
  ConvCase c{"winograd", {16, 32, 14, 14}, {32, 32, 3, 3}, {.padding = nx::PaddingMode::same}};
  nx::Tensor x = uniform(7, c.x), k = uniform(8, c.k), g = uniform(9, {16, 32, 14, 14});
  Fn3 f = [opts = c.opts](const nx::Tensor& a, const nx::Tensor& b, const nx::Tensor& ct) {
    auto loss = [opts](const nx::Tensor& p, const nx::Tensor& q, const nx::Tensor& r) {
      return nx::sum(nx::conv(p, q, opts) * r);
    };
    auto [gx, gk] = nx::grad<0, 1>(loss)(a, b, ct);
    return std::vector{nx::conv(a, b, opts), gx, gk};
  };
  ASSERT_TRUE(nx::onednn::allow_winograd());  // the default
  auto counts = compare(f, x, k, g, "winograd");
  EXPECT_EQ(counts["conv_forward_winograd"], 1);
  EXPECT_EQ(counts["conv_backward_data_winograd"], 1);
  EXPECT_EQ(counts["conv_backward_weights_winograd"], 1);
  nx::onednn::set_allow_winograd(false);
  counts = compare(f, x, k, g, "direct");
  nx::onednn::set_allow_winograd(true);
  EXPECT_EQ(counts["conv_forward"], 1);
  EXPECT_EQ(counts["conv_backward_data"], 1);
  EXPECT_EQ(counts["conv_backward_weights"], 1);
  EXPECT_EQ(counts["conv_forward_winograd"] + counts["conv_backward_data_winograd"] + counts["conv_backward_weights_winograd"], 0);
  nx::Tensor narrow = uniform(10, {16, 16, 14, 14});  // 16 input channels: direct
  counts = compare(f, narrow, uniform(11, {32, 16, 3, 3}), g, "16 channels");
  EXPECT_EQ(counts["conv_forward"], 1);
  EXPECT_EQ(counts["conv_backward_data"], 1);
  EXPECT_EQ(counts["conv_backward_weights"], 1);
}

TEST(Onednn, BlockedResultsFeedInterpNodesAndConvChains) {
  Fn3 f = [](const nx::Tensor& x, const nx::Tensor& k1, const nx::Tensor& k2) {
    nx::Tensor h = nx::conv(x, k1, {.padding = nx::PaddingMode::same});
    // h stays blocked; the second kernel is read through a transpose.
    nx::Tensor y = nx::conv(h, nx::transpose(k2, {1, 0, 2, 3}), {.padding = nx::PaddingMode::same});
    nx::Tensor z = nx::conv(y, nx::transpose(nx::reshape(k2, {4, 32, 3, 3}), {1, 0, 2, 3}), {.feature_group_size = 2});
    return std::vector{nx::tanh(y), nx::sum(h, {.axes = {0, 2, 3}}), y, z};
  };
  auto counts = compare(f, uniform(4, {8, 16, 12, 12}), uniform(5, {16, 16, 3, 3}), uniform(6, {16, 8, 3, 3}),
                        "conv chain");
  EXPECT_EQ(counts["conv_forward"], 3);
}

TEST(Onednn, ElementwiseAndSumsRunOnBlockedValues) {
  Fn3 f = [](const nx::Tensor& x, const nx::Tensor& k, const nx::Tensor& b) {
    nx::Tensor y = nx::conv(x, k, {.padding = nx::PaddingMode::same});
    nx::Tensor z = nx::tanh(y + nx::reshape(b, {8, 1, 1}));  // bias broadcast over (N, K, H, W)
    nx::Tensor s = nx::sigmoid(2.0f * z) - z / 3.0f;           // scalars on either side
    return std::vector{s, nx::sum(s, {.axes = {0, 2, 3}}), nx::sum(nx::log(nx::abs(y) + 1.0f), {.axes = {2, 3}}),
                       nx::reshape(b, {8, 1, 1}) - nx::sqrt(nx::abs(-y))};  // broadcast first operand: interp
  };
  auto counts = compare(f, uniform(10, {4, 3, 9, 9}), uniform(11, {8, 3, 3, 3}), uniform(12, {8}), "elementwise");
  EXPECT_EQ(counts["conv_forward"], 1);
  EXPECT_EQ(counts["binary"], 5);
  EXPECT_EQ(counts["eltwise"], 7);
  EXPECT_EQ(counts["reduction"], 2);
  EXPECT_EQ(counts["interp:subtract"], 1);
  EXPECT_EQ(counts["interp:tanh"] + counts["interp:sigmoid"] + counts["interp:sum"] + counts["interp:add"], 0);
}

TEST(Onednn, ExpMaxMinRunOnlyWithoutNaN) {
  Fn3 f = [](const nx::Tensor& x, const nx::Tensor& y, const nx::Tensor&) {
    return std::vector{nx::max(x, 0.0f), nx::min(y, x), nx::exp(x), nx::max(x, y)};
  };
  std::vector<float> nan_at_3(24, 0.5f);
  nan_at_3[3] = NAN;
  nx::Tensor clean = uniform(18, {4, 6}), dirty = nx::from_vector(nan_at_3, {4, 6});
  auto counts = compare(f, clean, clean * 2.0f, clean, "no NaN");
  EXPECT_EQ(counts["binary"], 3);
  EXPECT_EQ(counts["eltwise"], 1);
  counts = compare(f, dirty, clean, clean, "NaN in x");  // max(x, .) and exp(x) see it; min(clean, x) keeps it
  EXPECT_EQ(counts["binary"], 1);
  EXPECT_EQ(counts["interp:max"], 2);
  EXPECT_EQ(counts["interp:exp"], 1);
}

TEST(Onednn, BiasAndActivationFuseIntoConvAndMatmul) {
  Fn3 f = [](const nx::Tensor& x, const nx::Tensor& k, const nx::Tensor& b) {
    nx::Tensor y = nx::tanh(nx::conv(x, k, {.padding = nx::PaddingMode::same}) + nx::reshape(b, {8, 1, 1}));
    nx::Tensor flat = nx::reshape(y, {4, 8 * 81});
    nx::Tensor w = nx::reshape(nx::tile(k, {24, 1, 1, 1}), {8 * 81, 8});   // (648, 8)
    nx::Tensor h = nx::sigmoid(b + nx::dot(flat, w));                       // bias first: still fused
    nx::Tensor full = nx::dot(flat, 2.0f * w) + h;                           // a full-shape addend, no activation
    nx::Tensor shared = nx::dot(h, nx::transpose(h));                        // used twice: not fused
    nx::Tensor odd = nx::conv(x, -k, {.padding = nx::PaddingMode::same}) + nx::reshape(b, {1, 8, 1, 1});
    return std::vector{y, h, full, nx::tanh(shared) + shared, odd};
  };
  auto counts = compare(f, uniform(13, {4, 3, 9, 9}), uniform(14, {8, 3, 3, 3}), uniform(15, {8}), "fused");
  EXPECT_EQ(counts["conv_forward+post_ops"], 2);
  EXPECT_EQ(counts["matmul+post_ops"], 2);
  EXPECT_EQ(counts["matmul"], 1);
  EXPECT_EQ(counts["interp:tanh"] + counts["interp:sigmoid"] + counts["interp:add"], 0);
}

TEST(Onednn, PoolingMaxAndSumOnBlockedValues) {
  Fn3 f = [](const nx::Tensor& x, const nx::Tensor& k, const nx::Tensor& z) {
    nx::Tensor y = nx::conv(x, k, {.padding = nx::PaddingMode::same});  // blocked
    return std::vector{
        nx::window_max(y, {1, 1, 2, 2}, {.strides = {1, 1, 2, 2}}),
        nx::window_sum(y, {1, 1, 3, 3}, {.strides = {1, 1, 2, 2}, .padding = nx::PaddingMode::same}),
        nx::window_max(y, {1, 1, 3, 2}, {.strides = {1, 1, 1, 2}, .padding = nx::PaddingMode::same, .window_dilations = {1, 1, 2, 1}}),
        nx::window_max(z, {1, 1, 2}, {.strides = {1, 1, 2}}),  // a NaN inside: interp keeps it
        nx::window_sum(x, {2, 1, 1, 1})};  // a window over the batch: interp
  };
  std::vector<float> zv(2 * 3 * 8, 1.0f);
  zv[5] = NAN;
  auto counts = compare(f, uniform(16, {2, 3, 9, 9}), uniform(17, {4, 3, 3, 3}), nx::from_vector(zv, {2, 3, 8}), "pooling");
  EXPECT_GE(counts["pool_max"], 1);  // dilated windows have only a reference kernel on some CPUs: interp
  EXPECT_EQ(counts["pool_sum"], 1);
  EXPECT_EQ(counts["pool_max"] + counts["interp:window_max"], 3);
  EXPECT_EQ(counts["interp:window_sum"], 1);
}

TEST(Onednn, MaxPoolingGradientRunsAsPoolingBackwardWithInterpsTieRule) {
  // conv -> relu -> max pool: relu makes windows of tied zeros; the first one takes g.
  Fn3 f = [](const nx::Tensor& x, const nx::Tensor& k, const nx::Tensor& g) {
    auto loss = [&](const nx::Tensor& a, const nx::Tensor& b) {
      nx::Tensor h = nx::max(nx::conv(a, b, {.padding = nx::PaddingMode::same}), 0.0f);
      return nx::sum(nx::window_max(h, {1, 1, 2, 2}, {.strides = {1, 1, 2, 2}}) * g);
    };
    auto [gx, gk] = nx::grad<0, 1>(loss)(x, k);
    nx::Tensor ties = nx::round(nx::tile(x, {1, 2, 1, 1}) * 2.0f);  // (4, 6, 8, 8)
    nx::Tensor pooled = nx::window_scatter_max(ties, g, nx::scalar(0.0f), {1, 1, 3, 3},
                                               {.strides = {1, 1, 2, 2}, .padding = nx::PaddingMode::same});
    return std::vector{gx, gk, pooled};
  };
  auto counts = compare(f, uniform(19, {4, 3, 8, 8}), uniform(20, {6, 3, 3, 3}), uniform(21, {4, 6, 4, 4}), "max pool grad");
  EXPECT_EQ(counts["pool_max_backward"], 2);
  EXPECT_EQ(counts["interp:window_scatter_max"], 0);
}

TEST(Onednn, SoftmaxCompositesRunAsOneDnnSoftmax) {
  Fn3 f = [](const nx::Tensor& x, const nx::Tensor& y, const nx::Tensor& z) {
    // Over a middle axis oneDNN has only a reference kernel: node by node there.
    return std::vector{nx::softmax(x), nx::log_softmax(z), nx::softmax(y, {.axis = 1}), nx::log_softmax(y, {.axis = 0})};
  };
  nx::Tensor x = uniform(22, {16, 40}) * 30.0f;
  auto counts = compare(f, x, uniform(23, {2, 5, 3}), -x, "softmax");
  EXPECT_GE(counts["softmax"], 1);
  EXPECT_GE(counts["log_softmax"], 1);
  int64_t fused_for_y = counts["softmax"] + counts["log_softmax"] - 2;
  // An infinite input: nx's own composite semantics, node by node.
  std::vector<float> with_inf(640, 1.0f);
  with_inf[7] = INFINITY;
  nx::Tensor inf = nx::from_vector(with_inf, {16, 40});
  counts = compare(f, inf, uniform(23, {2, 5, 3}), -inf, "softmax of inf");
  EXPECT_EQ(counts["softmax"] + counts["log_softmax"], fused_for_y) << "x's two fall back";
  // The gradient reuses the intermediates: no fusion, same values.
  Fn3 g = [](const nx::Tensor& x, const nx::Tensor&, const nx::Tensor&) {
    auto [v, dx] = nx::value_and_grad([](const nx::Tensor& t) { return nx::sum(nx::log_softmax(t) * t); })(x);
    return std::vector{v, dx};
  };
  counts = compare(g, x, x, x, "log_softmax gradient");
  EXPECT_EQ(counts["log_softmax"], 0);
}

TEST(Onednn, MatmulReadsTransposesAsStrides) {
  Fn3 f = [](const nx::Tensor& a, const nx::Tensor& b, const nx::Tensor& c) {
    nx::Tensor at = nx::transpose(a);  // (64, 48)
    nx::Tensor batched = nx::transpose(nx::reshape(c, {4, 8, 48}), {0, 2, 1});
    return std::vector{nx::dot(at, b), nx::dot(b, at), nx::dot(at, batched)};
  };
  auto counts = compare(f, uniform(7, {48, 64}), uniform(8, {48, 64}), uniform(9, {32, 48}), "transposed matmul");
  EXPECT_EQ(counts["interp:dot_general"], 0);
  EXPECT_GE(counts["transpose_view"], 2);
}

TEST(Onednn, GramProductsComputeTheLowerBlocksAndMirrorThem) {
  // x^T x (one buffer both sides, odd sizes: blocks of 150 and 151) and x x^T.
  Fn3 f = [](const nx::Tensor& a, const nx::Tensor& b, const nx::Tensor&) {
    return std::vector{nx::dot(a, {0}, a, {0}), nx::dot(b, {1}, b, {1}), nx::dot(a, {0}, b, {1})};
  };
  nx::Tensor a = uniform(11, {700, 301}), b = uniform(12, {301, 700});
  auto counts = compare(f, a, b, a, "gram");
  EXPECT_EQ(counts["matmul_gram"], 2);
  EXPECT_EQ(counts["matmul"], 1);  // a^T b^T: two buffers, an ordinary product
  nx::Tensor g = nx::jit(f, {.backend = "onednn"})(a, b, a)[0];
  expect_close(g, nx::transpose(g), "symmetric");
}

TEST(Onednn, OtherDtypesAndEmptyShapesFallBack) {
  auto f = [](const nx::Tensor& a, const nx::Tensor& b) { return nx::dot(nx::transpose(a), b); };
  nx::Tensor a = nx::iota({3, 2}), b = nx::iota({3, 4});
  nx::onednn::reset_kernel_counts();
  EXPECT_EQ(nx::jit(f, {.backend = "onednn"})(a, b).to_vector<int64_t>(),
            nx::jit(f, {.backend = "interp"})(a, b).to_vector<int64_t>());
  EXPECT_EQ(nx::onednn::kernel_counts()["interp:dot_general"], 1);
  // bf16 and f16: oneDNN's kernels where the CPU has them, else interp; the same values either way.
  for (nx::DType t : {nx::bf16, nx::f16}) {
    nx::Tensor p = nx::as_type(uniform(24, {33, 20}), t), q = nx::as_type(uniform(25, {20, 17}), t);
    auto mm = [](const nx::Tensor& u, const nx::Tensor& v) { return nx::dot(u, v); };
    auto got = nx::as_type(nx::jit(mm, {.backend = "onednn"})(p, q), nx::f32).to_vector<float>();
    auto want = nx::as_type(nx::jit(mm, {.backend = "interp"})(p, q), nx::f32).to_vector<float>();
    for (size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got[i], want[i], 0.05) << nx::name(t) << " at " << i;
  }
  nx::Tensor e = nx::zeros({0, 5}), k = nx::zeros({5, 3});
  EXPECT_EQ(nx::jit([](const nx::Tensor& p, const nx::Tensor& q) { return nx::dot(p, q); }, {.backend = "onednn"})(e, k)
                .shape(),
            (nx::Shape{0, 3}));
}

}  // namespace
#endif
