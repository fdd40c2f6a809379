// window_max and window_sum over the spatial axes of (N, C, spatial...) values as oneDNN
// pooling, in the input's layout (a convolution's blocked result is pooled without a
// reorder); window_sum is average pooling over the padded window times its size.
// window_scatter_max (the max-pooling gradient) as oneDNN's pooling backward. oneDNN's max
// pooling drops NaN, so inputs that may hold one go to interp (may_hold_nan).
#include <oneapi/dnnl/dnnl.hpp>
#include <string>

#include "dnnl_common.hpp"
#include "kernels.hpp"

namespace nx::onednn {
namespace {

using dims = dnnl::memory::dims;

struct PoolPlan {
  dnnl::pooling_v2_forward::primitive_desc pd;
  dnnl::pooling_v2_forward prim;
};

struct PoolBackwardPlan {
  dnnl::pooling_v2_forward::primitive_desc fwd_pd;  // forward_training: writes the argmax workspace
  dnnl::pooling_v2_forward fwd;
  dnnl::pooling_v2_backward::primitive_desc pd;
  dnnl::pooling_v2_backward prim;
};

// oneDNN's view of a window op's attributes: windows over the spatial axes only.
struct Geometry {
  dims kernel, strides, dilation, pad_l, pad_r;
  int64_t volume = 1;
  std::string key;
};

std::optional<Geometry> geometry(const Attrs& at, const TensorType& x, const Input& src) {
  int rank = x.shape.rank();
  if (x.dtype != DType::f32 || rank < 3 || rank > 5 || x.shape.size() == 0 || src.held.desc.is_zero()) return std::nullopt;
  for (size_t i = 0; i < 2; ++i)  // batch and channels: windows of one, unpadded
    if (at.window[i] != 1 || at.strides[i] != 1 || at.lo[i] != 0 || at.hi[i] != 0) return std::nullopt;
  Geometry g;
  for (size_t i = 2; i < static_cast<size_t>(rank); ++i) {
    if (at.lo[i] < 0 || at.hi[i] < 0) return std::nullopt;
    g.kernel.push_back(at.window[i]);
    g.strides.push_back(at.strides[i]);
    g.dilation.push_back(at.rhs_dilation[i] - 1);
    g.pad_l.push_back(at.lo[i]);
    g.pad_r.push_back(at.hi[i]);
    g.volume *= at.window[i];
  }
  const dnnl::memory::desc& d = src.held.desc;
  g.key.append(reinterpret_cast<const char*>(&d.data), sizeof(d.data));
  for (const dims* v : {&g.kernel, &g.strides, &g.dilation, &g.pad_l, &g.pad_r})
    for (int64_t v1 : *v) g.key += ',' + std::to_string(v1);
  return g;
}

dnnl::memory::desc any(const Shape& s) {
  return {s.to_vector(), dnnl::memory::data_type::f32, dnnl::memory::format_tag::any};
}

dnnl::pooling_v2_forward::desc forward_desc(dnnl::prop_kind prop, dnnl::algorithm alg, const dnnl::memory::desc& src,
                                            const Shape& out, const Geometry& g) {
  return {prop, alg, src, any(out), g.strides, g.kernel, g.dilation, g.pad_l, g.pad_r};
}

}  // namespace

std::optional<HeldValues> pool(const Node& n, std::span<const Input> in, Backend& be) {
  if (n.op != Op::WindowMax && n.op != Op::WindowSum) return std::nullopt;
  auto geo = geometry(n.attrs, in[0].type, in[0]);
  if (!geo || n.outputs[0].shape.size() == 0) return std::nullopt;
  bool max = n.op == Op::WindowMax;
  if (max && may_hold_nan(in[0], be)) return std::nullopt;
  auto plan = cached<PoolPlan>((max ? "max" : "sum") + geo->key, [&]() -> std::shared_ptr<PoolPlan> {
    auto alg = max ? dnnl::algorithm::pooling_max : dnnl::algorithm::pooling_avg_include_padding;
    dnnl::primitive_attr attr = shareable();
    if (!max) {  // average times the window size: the sum
      dnnl::post_ops ops;
      ops.append_eltwise(1.0f, dnnl::algorithm::eltwise_linear, static_cast<float>(geo->volume), 0.0f);
      attr.set_post_ops(ops);
    }
    dnnl::pooling_v2_forward::primitive_desc pd(
        forward_desc(dnnl::prop_kind::forward_inference, alg, in[0].held.desc, n.outputs[0].shape, *geo), attr, engine());
    if (is_reference(pd)) return nullptr;
    return std::make_shared<PoolPlan>(PoolPlan{pd, dnnl::pooling_v2_forward(pd)});
  });
  if (!plan) return std::nullopt;
  Held out = fresh(plan->pd.dst_desc(), be);
  execute(plan->prim, {{DNNL_ARG_SRC, memory_of(in[0].held)}, {DNNL_ARG_DST, memory_of(out)}});
  count(max ? "pool_max" : "pool_sum");
  return HeldValues{out};
}

std::optional<HeldValues> pool_backward(const Node& n, std::span<const Input> in, Backend& be) {
  if (n.op != Op::WindowScatterMax) return std::nullopt;  // oneDNN has no min pooling
  auto geo = geometry(n.attrs, in[0].type, in[0]);
  if (!geo || in[1].type.shape.size() == 0 || in[1].held.desc.is_zero()) return std::nullopt;
  if (*static_cast<const float*>(in[2].held.buffer->data()) != 0.0f) return std::nullopt;  // oneDNN's result starts at 0
  if (may_hold_nan(in[0], be)) return std::nullopt;
  auto plan = cached<PoolBackwardPlan>("max_backward" + geo->key, [&]() -> std::shared_ptr<PoolBackwardPlan> {
    const Shape &xs = in[0].type.shape, &ys = in[1].type.shape;
    dnnl::pooling_v2_forward::primitive_desc fwd(
        forward_desc(dnnl::prop_kind::forward_training, dnnl::algorithm::pooling_max, in[0].held.desc, ys, *geo), shareable(), engine());
    dnnl::pooling_v2_backward::desc d(dnnl::algorithm::pooling_max, any(xs), any(ys), geo->strides, geo->kernel,
                                      geo->dilation, geo->pad_l, geo->pad_r);
    dnnl::pooling_v2_backward::primitive_desc pd(d, shareable(), engine(), fwd);
    if (is_reference(fwd) || is_reference(pd)) return nullptr;
    return std::make_shared<PoolBackwardPlan>(PoolBackwardPlan{fwd, dnnl::pooling_v2_forward(fwd), pd, dnnl::pooling_v2_backward(pd)});
  });
  if (!plan) return std::nullopt;
  // The forward pass again, for the workspace that says where each window's maximum is.
  Held y = fresh(plan->fwd_pd.dst_desc(), be), ws = fresh(plan->fwd_pd.workspace_desc(), be);
  Held g = in_layout(in[1].held, plan->pd.diff_dst_desc(), be), out = fresh(plan->pd.diff_src_desc(), be);
  execute(plan->fwd, {{DNNL_ARG_SRC, memory_of(in[0].held)}, {DNNL_ARG_DST, memory_of(y)}, {DNNL_ARG_WORKSPACE, memory_of(ws)}});
  execute(plan->prim, {{DNNL_ARG_DIFF_DST, memory_of(g)}, {DNNL_ARG_WORKSPACE, memory_of(ws)}, {DNNL_ARG_DIFF_SRC, memory_of(out)}});
  count("pool_max_backward");
  return HeldValues{out};
}

}  // namespace nx::onednn
