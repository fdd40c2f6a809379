// window_max and window_sum over the spatial axes of (N, C, spatial...) values as oneDNN
// pooling, in the input's layout (a convolution's blocked result is pooled without a
// reorder). window_sum is average pooling over the padded window times its size.
// oneDNN's max pooling drops NaN, so inputs that may hold one go to interp (may_hold_nan).
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

}  // namespace

std::optional<HeldValues> pool(const Node& n, std::span<const Input> in, Backend& be) {
  const Attrs& at = n.attrs;
  const TensorType &xt = in[0].type, &yt = n.outputs[0];
  int rank = xt.shape.rank();
  if ((n.op != Op::WindowMax && n.op != Op::WindowSum) || xt.dtype != DType::f32 || rank < 3 || rank > 5 ||
      xt.shape.size() == 0 || yt.shape.size() == 0 || in[0].held.desc.is_zero())
    return std::nullopt;
  for (size_t i = 0; i < 2; ++i)  // batch and channels: windows of one, unpadded
    if (at.window[i] != 1 || at.strides[i] != 1 || at.lo[i] != 0 || at.hi[i] != 0) return std::nullopt;
  dims kernel, strides, dilation, pad_l, pad_r;
  int64_t volume = 1;
  for (size_t i = 2; i < static_cast<size_t>(rank); ++i) {
    if (at.lo[i] < 0 || at.hi[i] < 0) return std::nullopt;
    kernel.push_back(at.window[i]);
    strides.push_back(at.strides[i]);
    dilation.push_back(at.rhs_dilation[i] - 1);
    pad_l.push_back(at.lo[i]);
    pad_r.push_back(at.hi[i]);
    volume *= at.window[i];
  }
  bool max = n.op == Op::WindowMax;
  if (max && may_hold_nan(in[0], be)) return std::nullopt;
  const dnnl::memory::desc& src = in[0].held.desc;
  dnnl::memory::desc dst(yt.shape.to_vector(), dnnl::memory::data_type::f32, dnnl::memory::format_tag::any);
  std::string key = std::string(max ? "max" : "sum") + std::to_string(volume);
  key.append(reinterpret_cast<const char*>(&src.data), sizeof(src.data));
  for (const dims* v : {&kernel, &strides, &dilation, &pad_l, &pad_r})
    for (int64_t x : *v) key += ',' + std::to_string(x);
  auto plan = cached<PoolPlan>(key, [&]() -> std::shared_ptr<PoolPlan> {
    dnnl::pooling_v2_forward::desc d(dnnl::prop_kind::forward_inference,
                                     max ? dnnl::algorithm::pooling_max : dnnl::algorithm::pooling_avg_include_padding,
                                     src, dst, strides, kernel, dilation, pad_l, pad_r);
    dnnl::primitive_attr attr;
    if (!max) {  // average times the window size: the sum
      dnnl::post_ops ops;
      ops.append_eltwise(1.0f, dnnl::algorithm::eltwise_linear, static_cast<float>(volume), 0.0f);
      attr.set_post_ops(ops);
    }
    dnnl::pooling_v2_forward::primitive_desc pd(d, attr, engine());
    if (is_reference(pd)) return nullptr;
    return std::make_shared<PoolPlan>(PoolPlan{pd, dnnl::pooling_v2_forward(pd)});
  });
  if (!plan) return std::nullopt;
  Held out = fresh(plan->pd.dst_desc(), be);
  dnnl::stream& s = stream();
  plan->prim.execute(s, {{DNNL_ARG_SRC, memory_of(in[0].held)}, {DNNL_ARG_DST, memory_of(out)}});
  s.wait();
  count(max ? "pool_max" : "pool_sum");
  return HeldValues{out};
}

}  // namespace nx::onednn
