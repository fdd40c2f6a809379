// The cuda backend's convolutions on cuDNN, checked without a GPU: every conv node of a
// CNN's forward and backward graphs is mapped to a cuDNN operation (cudnn_problem.hpp),
// which a host model of cuDNN's documented semantics computes through the mapped views
// and compares with interp; and cuDNN's own descriptors for those operations are built and
// finalised (no device needed up to the operation graph), so attribute errors show here.
#include <gtest/gtest.h>

#include <nx/config.hpp>

#if NX_HAS_CUDA
#include <cmath>
#include <iostream>
#include <limits>
#include <map>
#include <string>

#include "../backends/cuda/cudnn.hpp"
#include "../backends/cuda/cudnn_problem.hpp"
#include "nx/detail/core.hpp"
#include "nx/nx.hpp"
#include "test_support.hpp"

namespace {

using nx::cuda_backend::CudnnConv;
using nx::cuda_backend::CudnnOp;
using nx::cuda_backend::CudnnView;

// cuDNN's convolution on the host, through the views of the node's buffers (f64):
// forward writes y, backward data dx (x's view), backward filter dw (w's view). Every
// element of the written view is set, so a view that misses part of the output leaves
// the NaN it was filled with.
void host_cudnn(const CudnnConv& c, std::vector<std::vector<double>*> buffers) {
  auto at = [&](const CudnnView& v, const std::vector<int64_t>& index) -> double& {
    int64_t offset = 0;
    for (size_t d = 0; d < index.size(); ++d) offset += index[d] * v.strides[d];
    return buffers[static_cast<size_t>(v.operand)]->at(static_cast<size_t>(offset));
  };
  size_t ns = c.pre.size();
  for (size_t i = 0; i < ns; ++i) {  // the sizes agree as cuDNN checks
    int64_t span = (c.w.dims[2 + i] - 1) * c.dilations[i];
    ASSERT_EQ((c.x.dims[2 + i] + c.pre[i] + c.post[i] - span - 1) / c.strides[i] + 1, c.y.dims[2 + i]);
  }
  const CudnnView& out = c.op == CudnnOp::forward ? c.y : c.op == CudnnOp::backward_data ? c.x : c.w;
  std::map<std::vector<int64_t>, double> sums;  // the written view's elements
  int64_t n_count = c.x.dims[0], per_group = c.w.dims[1], groups = c.x.dims[1] / per_group, o_count = c.w.dims[0];
  ASSERT_EQ(groups * per_group, c.x.dims[1]);
  std::vector<int64_t> p(ns), k(ns);
  auto next = [](std::vector<int64_t>& i, const std::vector<int64_t>& dims, size_t from) {
    for (size_t d = i.size(); d-- > 0;)
      if (++i[d] < dims[from + d]) return true;
      else i[d] = 0;
    return false;
  };
  for (int64_t n = 0; n < n_count; ++n)
    for (int64_t o = 0; o < o_count; ++o)
      for (int64_t cl = 0; cl < per_group; ++cl) {
        int64_t ch = o / (o_count / groups) * per_group + cl;
        std::fill(p.begin(), p.end(), 0);
        do {
          std::fill(k.begin(), k.end(), 0);
          do {
            std::vector<int64_t> xi{n, ch}, wi{o, cl}, yi{n, o};
            bool inside = true;
            for (size_t d = 0; d < ns; ++d) {
              int64_t h = p[d] * c.strides[d] - c.pre[d] + k[d] * c.dilations[d];
              inside = inside && h >= 0 && h < c.x.dims[2 + d];
              xi.push_back(h), wi.push_back(c.flip ? c.w.dims[2 + d] - 1 - k[d] : k[d]), yi.push_back(p[d]);
            }
            if (c.op == CudnnOp::forward) sums[yi] += inside ? at(c.x, xi) * at(c.w, wi) : 0.0;
            else if (c.op == CudnnOp::backward_filter) sums[wi] += inside ? at(c.y, yi) * at(c.x, xi) : 0.0;
            else if (inside) sums[xi] += at(c.y, yi) * at(c.w, wi);
          } while (next(k, c.w.dims, 2));
        } while (next(p, c.y.dims, 2));
      }
  std::vector<int64_t> i(out.dims.size(), 0);
  do {
    at(out, i) = sums[i];  // dx elements no dy reaches are 0
  } while (next(i, out.dims, 0));
}

std::vector<double> values(const nx::Shape& shape, int seed) {
  return nx::as_type(nx::random::normal(nx::random::key(seed), shape), nx::f64).to_vector<double>();
}

struct Case {
  nx::Shape x, k;
  nx::ConvOpts opts;
};

// The conv nodes of the forward and both gradients of sum(conv(x, k) * r).
std::vector<std::shared_ptr<const nx::Node>> conv_nodes(const Case& c) {
  nx::Tensor x = nx::random::normal(nx::random::key(1), c.x), k = nx::random::normal(nx::random::key(2), c.k);
  auto loss = [&](const nx::Tensor& a, const nx::Tensor& b) {
    nx::Tensor y = nx::conv(a, b, c.opts);
    return nx::sum(y * nx::cos(y));
  };
  nx::Graph g = nx::jit([&](const std::vector<nx::Tensor>& v) {
                  auto [gx, gk] = nx::grad<0, 1>(loss)(v[0], v[1]);
                  return std::vector{nx::conv(v[0], v[1], c.opts), gx, gk};
                }).graph(std::vector{x, k});
  std::vector<std::shared_ptr<const nx::Node>> nodes;
  for (const auto& n : g.nodes)
    if (n->op == nx::Op::Conv) nodes.push_back(n);
  return nodes;
}

// Every case's conv nodes, with the cuDNN operation each maps to.
const std::vector<Case>& cases() {
  static const std::vector<Case> all = {
      {{2, 3, 9, 8}, {4, 3, 3, 3}, {.padding = nx::PaddingMode::same}},
      {{2, 3, 10, 9}, {4, 3, 3, 3}, {.strides = {2, 2}, .padding = nx::PaddingMode::same}},  // lo 0, hi 1
      {{2, 3, 11, 10}, {5, 3, 3, 2}, {.strides = {2, 1}, .padding = {{1, 0}, {2, 1}}, .kernel_dilation = {2, 1}}},
      {{2, 4, 7, 7}, {6, 2, 3, 3}, {.padding = nx::PaddingMode::same, .feature_group_size = 2}},
      {{2, 4, 8, 8}, {4, 1, 3, 3}, {.strides = {2, 2}, .padding = nx::PaddingMode::same, .feature_group_size = 4}},  // depthwise
      {{2, 2, 6, 6}, {4, 1, 3, 3}, {.strides = {2, 1}, .padding = {{1, 1}, {1, 1}}, .feature_group_size = 2}},  // multiplier 2
      {{3, 2, 17}, {4, 2, 5}, {.strides = {3}, .padding = {{2, 2}}}},
      {{1, 2, 5, 6, 4}, {3, 2, 2, 3, 2}, {.strides = {1, 2, 1}, .padding = nx::PaddingMode::same}},
      {{2, 3, 5, 4}, {2, 3, 3, 3}, {.padding = {{2, 3}, {1, 2}}, .input_dilation = {2, 3}}},
  };
  return all;
}

TEST(CudaEmit, CudnnOperationsMatchInterp) {
  std::map<CudnnOp, int> mapped;
  for (const Case& c : cases()) {
    SCOPED_TRACE(c.x.str() + " * " + c.k.str());
    for (const auto& node : conv_nodes(c)) {
      const nx::Shape& lhs = node->inputs[0].type().shape;
      const nx::Shape& rhs = node->inputs[1].type().shape;
      const nx::Shape& out = node->outputs[0].shape;
      SCOPED_TRACE(lhs.str() + " * " + rhs.str() + " -> " + out.str() + " " + node->attrs.str());
      auto problem = nx::cuda_backend::cudnn_conv_problem(node->attrs, lhs, rhs, out);
      ASSERT_TRUE(problem.has_value());
      ++mapped[problem->op];
      std::vector<double> a = values(lhs, 3), b = values(rhs, 4), got(static_cast<size_t>(out.size()), std::numeric_limits<double>::quiet_NaN());
      host_cudnn(*problem, {&a, &b, &got});
      nx::Tensor ta = nx::to(nx::from_vector(a, lhs), "interp"), tb = nx::to(nx::from_vector(b, rhs), "interp");
      nx::Node n = *node;
      n.outputs[0].dtype = nx::f64;
      std::vector<nx::Operand> in{{ta.impl()->type, ta.impl()->buffer}, {tb.impl()->type, tb.impl()->buffer}};
      nx::BufferPtr want = nx::backend("interp").execute(n, in)[0];
      nx_test::expect_outputs_close({nx::from_vector(got, out)}, {nx::from_bytes(want->data(), nx::f64, out)}, 1e-12);
    }
  }
  // Each kind was exercised (a mapping that always declined would pass nothing above).
  std::string counts = std::to_string(mapped[CudnnOp::forward]) + " forward, " + std::to_string(mapped[CudnnOp::backward_data]) +
                       " backward data, " + std::to_string(mapped[CudnnOp::backward_filter]) + " backward filter";
  EXPECT_GE(mapped[CudnnOp::forward], 20) << counts;
  EXPECT_GE(mapped[CudnnOp::backward_data], 9) << counts;
  EXPECT_GE(mapped[CudnnOp::backward_filter], 7) << counts;
}

TEST(CudaEmit, CudnnDeclinesWhatItCannotView) {
  auto problem = [](const nx::ConvOpts& o, nx::Shape x, nx::Shape k) {
    nx::Tensor a = nx::zeros(x), b = nx::zeros(k);
    nx::Graph g = nx::jit([&](const nx::Tensor& u, const nx::Tensor& v) { return nx::conv(u, v, o); }).graph(a, b);
    for (const auto& n : g.nodes)
      if (n->op == nx::Op::Conv)
        return nx::cuda_backend::cudnn_conv_problem(n->attrs, x, k, n->outputs[0].shape);
    return std::optional<CudnnConv>();
  };
  EXPECT_FALSE(problem({.padding = {{-1, 0}}}, {1, 2, 8}, {3, 2, 3}));  // cropping
  // Input dilation with feature groups of 2 in and 3 out: the swapped kernel is no view.
  EXPECT_FALSE(problem({.input_dilation = {2}, .feature_group_size = 2}, {1, 4, 8}, {6, 2, 3}));
  EXPECT_TRUE(problem({.input_dilation = {2}, .feature_group_size = 2}, {1, 2, 8}, {6, 1, 3}));
}

// cuDNN's tensor, convolution and operation descriptors for every mapped node, finalised
// by the library itself (the operation graph and plans need a device).
TEST(CudaEmit, CudnnDescriptorsFinalise) {
  std::string why = nx::cuda_backend::cudnn_unavailable_reason();
  if (!why.empty()) GTEST_SKIP() << why;
  for (const Case& c : cases())
    for (const auto& node : conv_nodes(c)) {
      auto problem = nx::cuda_backend::cudnn_conv_problem(node->attrs, node->inputs[0].type().shape,
                                                          node->inputs[1].type().shape, node->outputs[0].shape);
      ASSERT_TRUE(problem.has_value());
      for (nx::DType t : {nx::f32, nx::bf16, nx::f16, nx::f64}) {
        // What runs (every tensor packed), and the views as mapped.
        EXPECT_EQ(nx::cuda_backend::cudnn_describe(nx::cuda_backend::packed_problem(*problem), t), "") << problem->key();
        EXPECT_EQ(nx::cuda_backend::cudnn_describe(*problem, t), "") << problem->key() << " " << nx::name(t);
      }
    }
}

// On a GPU: each case's forward and gradients by cuDNN (f32 within 1e-5 shows TF32 stayed
// off; f64 and bf16 on the first cases), then by the columns path, against interp.
TEST(CudaDevice, ConvolutionsOnCudnnMatchInterp) {
  if (!nx::cuda::available()) GTEST_SKIP() << "needs a CUDA device: " << nx::cuda::unavailable_reason();
  if (!nx::cuda::cudnn()) GTEST_SKIP() << "cuDNN is off or missing: " << nx::cuda::cudnn_report();
  for (bool with_cudnn : {true, false}) {
    nx::cuda::set_cudnn(with_cudnn);
    for (nx::DType t : {nx::f32, nx::f64, nx::bf16})
      for (size_t i = 0; i < cases().size(); ++i) {
        if ((t != nx::f32 || !with_cudnn) && i >= 3) break;
        const Case& c = cases()[i];
        SCOPED_TRACE(c.x.str() + " * " + c.k.str() + " " + std::string(nx::name(t)) + (with_cudnn ? " cuDNN" : " columns"));
        auto f = [&](const nx::Tensor& a, const nx::Tensor& b) {
          auto loss = [&](const nx::Tensor& u, const nx::Tensor& v) { return nx::sum(nx::conv(u, v, c.opts) * 0.5f); };
          auto [gx, gk] = nx::grad<0, 1>(loss)(a, b);
          return std::vector{nx::conv(a, b, c.opts), gx, gk};
        };
        nx::Tensor x = nx::as_type(nx::random::normal(nx::random::key(5), c.x), t);
        nx::Tensor k = nx::as_type(nx::random::normal(nx::random::key(6), c.k), t);
        auto want = nx::jit(f, {.backend = "interp"})(x, k);
        auto got = nx::jit(f, {.backend = "cuda"})(x, k);
        nx_test::expect_outputs_close(got, want, t == nx::bf16 ? 3e-2 : t == nx::f32 ? 1e-5 : 1e-12);
      }
  }
  nx::cuda::set_cudnn(true);
  std::string report = nx::cuda::cudnn_report();
  std::cout << report << "\n";
  EXPECT_EQ(report.find(" 0 convolutions run"), std::string::npos) << report;
  EXPECT_NE(report.find(" 0 failed when run"), std::string::npos) << report;
}

}  // namespace
#endif
