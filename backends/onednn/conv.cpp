// conv -> oneDNN convolutions. nx's gradient of a convolution is itself two convolutions
// (src/grad.cpp); this file recognises them by their attributes and runs oneDNN's
// backward primitives, as XLA's GPU backend does for cuDNN:
//  - forward: no input dilation, no batch groups;
//  - backward data: input dilation s with unit strides, i.e. the transposed convolution
//    conv(g dilated by s, flipped and channel-swapped w). oneDNN wants w itself, so the
//    (small) kernel is flipped back while it is reordered;
//  - backward weights: conv(x^T, g^T) with the gradient image as the kernel (larger than
//    the output) or with batch groups. x and g are read through the transposes (Held
//    views), the weight gradient written through strides into the row-major result.
// All descriptors use format_tag::any, so oneDNN picks blocked layouts; operands are
// reordered into them, and the result is returned in the layout it was computed in.
#include <algorithm>
#include <oneapi/dnnl/dnnl.hpp>
#include <string>
#include <unordered_map>

#include "dnnl_common.hpp"
#include "kernels.hpp"
#include "nx/onednn.hpp"

namespace nx::onednn {
namespace {

using dims = dnnl::memory::dims;
using dt = dnnl::memory::data_type;

dnnl::memory::desc any(const dims& d) { return {d, dt::f32, dnnl::memory::format_tag::any}; }

struct Geometry {
  dims strides, dilates, pad_l, pad_r;  // oneDNN's: dilation counts the gaps
};

// The right padding oneDNN needs for `out` outputs from `in` inputs, given the left
// padding: any value that makes the floor division come out right describes the same
// convolution; the one closest to zero keeps oneDNN's checks happy.
int64_t right_padding(int64_t in, int64_t out, int64_t pad_l, int64_t span, int64_t stride) {
  int64_t lo = (out - 1) * stride + span + 1 - in - pad_l;
  return std::clamp<int64_t>(0, lo, lo + stride - 1);
}

// Winograd is offered (oneDNN still decides) only where allowed and both channel counts,
// per group, are at least 32: oneDNN's own choice also takes it for 1 to 16 channels,
// where it ran up to 9x slower than direct (docs/PERFORMANCE.md). Dims in the forward
// sense: x (N, C, ...), w (O, C/G, ...) or grouped (G, O/G, C/G, ...), y (N, O, ...).
bool winograd_offered(const dims& x, const dims& w, const dims& y) {
  int64_t groups = w.size() > x.size() ? w[0] : 1;
  return allow_winograd() && x[1] / groups >= 32 && y[1] / groups >= 32;
}
dnnl::algorithm algorithm(const dims& x, const dims& w, const dims& y) {
  return winograd_offered(x, w, y) ? dnnl::algorithm::convolution_auto : dnnl::algorithm::convolution_direct;
}

std::string key_of(const char* kind, std::initializer_list<const dims*> parts) {
  std::string key = std::string(kind) + (allow_winograd() ? ":auto;" : ":direct;");
  for (const dims* v : parts) {
    for (int64_t x : *v) key += std::to_string(x) + ',';
    key += ';';
  }
  return key;
}

dnnl::convolution_forward::desc forward_desc(dnnl::prop_kind prop, const dims& x, const dims& w, const dims& y,
                                             const Geometry& g) {
  return {prop, algorithm(x, w, y), any(x), any(w), any(y), g.strides, g.dilates, g.pad_l, g.pad_r};
}

// Weights dims for `groups` (oneDNN puts the group first: (G, O/G, I/G, ...)).
dims grouped(dims w, int64_t groups) {
  if (groups == 1) return w;
  w.insert(w.begin(), groups);
  w[1] /= groups;
  return w;
}

// Whether oneDNN chose Winograd for a primitive (kernel_counts() names it).
template <class PrimitiveDesc>
bool is_winograd(const PrimitiveDesc& pd) {
  return std::string_view(pd.impl_info_str()).find("wino") != std::string_view::npos;
}

struct ForwardPlan {
  dnnl::convolution_forward::primitive_desc pd;
  dnnl::convolution_forward prim;
  dnnl::memory::desc weights;  // row-major, grouped
  bool winograd = is_winograd(pd);
};

HeldValues forward(const Node& n, std::span<const Input> in, const Geometry& geo, const PostOps& post, Backend& be) {
  dims x = in[0].type.shape.to_vector(), y = n.outputs[0].shape.to_vector();
  dims wd = grouped(in[1].type.shape.to_vector(), n.attrs.k);
  std::optional<dnnl::memory::desc> addend = dnnl::memory::desc();
  if (post.addend) addend = with_rank(post.addend->held, post.addend->type, n.outputs[0].shape.rank());
  if (!addend) return {};
  std::string key = key_of("conv", {&x, &wd, &y, &geo.strides, &geo.dilates, &geo.pad_l, &geo.pad_r});
  dnnl::primitive_attr attr = post_op_attr(post, *addend, key);
  auto plan = cached<ForwardPlan>(key, [&] {
    // As for training, whatever the graph: oneDNN's choices for inference never take
    // Winograd, and for few input channels they write NHWC, whose reorder to NCHW cost the
    // CNN's first layer 2 ms a step against 0.3 ms for its blocked result.
    dnnl::convolution_forward::primitive_desc pd(forward_desc(dnnl::prop_kind::forward_training, x, wd, y, geo), attr,
                                                  engine());
    return std::make_shared<ForwardPlan>(ForwardPlan{pd, dnnl::convolution_forward(pd), {wd, dt::f32, row_major_strides(wd)}});
  });
  if (!plan) return {};
  // Grouped weights are a view of row-major ones; ungrouped ones may be any layout.
  Held w = n.attrs.k == 1 ? in[1].held : Held{materialize(in[1].held, in[1].type, be), plan->weights};
  Held xb = in_layout(in[0].held, plan->pd.src_desc(), be), wb = in_layout(w, plan->pd.weights_desc(), be);
  Held out = fresh(plan->pd.dst_desc(), be);
  std::unordered_map<int, dnnl::memory> args{
      {DNNL_ARG_SRC, memory_of(xb)}, {DNNL_ARG_WEIGHTS, memory_of(wb)}, {DNNL_ARG_DST, memory_of(out)}};
  if (post.addend) args[kAddendArg] = memory_of({post.addend->held.buffer, *addend});
  execute(plan->prim, std::move(args));
  count(std::string(plan->winograd ? "conv_forward_winograd" : "conv_forward") + (post.empty() ? "" : "+post_ops"));
  return {out};
}

struct DataPlan {
  dnnl::convolution_backward_data::primitive_desc pd;
  dnnl::convolution_backward_data prim;
  bool winograd = is_winograd(pd);
};

// kt (C, O/G, k...) holds w (O, C/G, k...) with the channels of each group swapped and the
// window reversed; writes w row-major, grouped (G, O/G, C/G, k...).
void unflip(const float* kt, float* w, int64_t groups, int64_t c, int64_t o_per, int64_t window) {
  int64_t c_per = c / groups;
  for (int64_t g = 0; g < groups; ++g)
    for (int64_t o = 0; o < o_per; ++o)
      for (int64_t ci = 0; ci < c_per; ++ci) {
        const float* from = kt + ((g * c_per + ci) * o_per + o) * window;
        float* to = w + ((g * o_per + o) * c_per + ci) * window;
        for (int64_t k = 0; k < window; ++k) to[k] = from[window - 1 - k];
      }
}

HeldValues backward_data(const Node& n, std::span<const Input> in, Backend& be) {
  const Attrs& at = n.attrs;
  const Shape &gs = in[0].type.shape, &ks = in[1].type.shape, &xs = n.outputs[0].shape;
  int ns = gs.rank() - 2;
  int64_t groups = at.k, window = 1;
  Geometry geo;
  for (int i = 0; i < ns; ++i) {
    size_t u = static_cast<size_t>(i);
    int64_t span = (ks[2 + i] - 1) * at.rhs_dilation[u];
    window *= ks[2 + i];
    geo.strides.push_back(at.lhs_dilation[u]);
    geo.dilates.push_back(at.rhs_dilation[u] - 1);
    geo.pad_l.push_back(span - at.lo[u]);
    geo.pad_r.push_back(right_padding(xs[2 + i], gs[2 + i], geo.pad_l.back(), span, at.lhs_dilation[u]));
    if (geo.pad_l.back() < 0) return {};
  }
  dims x = xs.to_vector(), y = gs.to_vector(), w{gs[1], xs[1] / groups};  // (O, C/G): O is g's channels
  for (int i = 0; i < ns; ++i) w.push_back(ks[2 + i]);
  w = grouped(w, groups);
  auto plan = cached<DataPlan>(key_of("conv_bwd_data", {&x, &w, &y, &geo.strides, &geo.dilates, &geo.pad_l, &geo.pad_r}), [&] {
    dnnl::convolution_forward::primitive_desc hint(forward_desc(dnnl::prop_kind::forward_training, x, w, y, geo),
                                                    engine());
    dnnl::convolution_backward_data::desc d(algorithm(x, w, y), any(x), any(w), any(y), geo.strides,
                                            geo.dilates, geo.pad_l, geo.pad_r);
    dnnl::convolution_backward_data::primitive_desc pd(d, shareable(), engine(), hint);
    return std::make_shared<DataPlan>(DataPlan{pd, dnnl::convolution_backward_data(pd)});
  });
  if (!plan) return {};
  BufferPtr kt = materialize(in[1].held, in[1].type, be);
  Held wr = fresh({w, dt::f32, row_major_strides(w)}, be);
  unflip(static_cast<const float*>(kt->data()), static_cast<float*>(wr.buffer->data()), groups, xs[1], gs[1] / groups,
         window);
  Held gb = in_layout(in[0].held, plan->pd.diff_dst_desc(), be), wb = in_layout(wr, plan->pd.weights_desc(), be);
  Held out = fresh(plan->pd.diff_src_desc(), be);
  execute(plan->prim, {{DNNL_ARG_DIFF_DST, memory_of(gb)}, {DNNL_ARG_WEIGHTS, memory_of(wb)}, {DNNL_ARG_DIFF_SRC, memory_of(out)}});
  count(plan->winograd ? "conv_backward_data_winograd" : "conv_backward_data");
  return {out};
}

struct WeightsPlan {
  dnnl::convolution_backward_weights::primitive_desc pd;
  dnnl::convolution_backward_weights prim;
  bool winograd = is_winograd(pd);
};

// Swaps the first two axes of a held value (a view: no copy).
dnnl::memory::desc swap01(const dnnl::memory::desc& d) {
  std::vector<int> perm(static_cast<size_t>(d.data.ndims));
  for (size_t i = 0; i < perm.size(); ++i) perm[i] = static_cast<int>(i);
  std::swap(perm[0], perm[1]);
  return d.permute_axes(perm);
}

HeldValues backward_weights(const Node& n, std::span<const Input> in, Backend& be) {
  const Attrs& at = n.attrs;
  // lhs x^T (C, N, x...), rhs g^T (O, N, g...), result (C/B, O, k...) for B batch groups.
  const Shape &xs = in[0].type.shape, &gs = in[1].type.shape, &ws = n.outputs[0].shape;
  int ns = xs.rank() - 2;
  int64_t groups = at.k2, c = xs[0], o = gs[0];
  Geometry geo;
  for (int i = 0; i < ns; ++i) {
    size_t u = static_cast<size_t>(i);
    geo.strides.push_back(at.rhs_dilation[u]);
    geo.dilates.push_back(at.strides[u] - 1);
    geo.pad_l.push_back(at.lo[u]);
    geo.pad_r.push_back(right_padding(xs[2 + i], gs[2 + i], at.lo[u], (ws[2 + i] - 1) * at.strides[u], at.rhs_dilation[u]));
  }
  dims x{xs[1], c}, y{gs[1], o}, w{o, c / groups}, w_str{1, o};  // strides of w in (C/B, O, k...)
  int64_t window = 1;
  for (int i = 0; i < ns; ++i) x.push_back(xs[2 + i]), y.push_back(gs[2 + i]), w.push_back(ws[2 + i]), window *= ws[2 + i];
  dims k_str = row_major_strides(dims(w.begin() + 2, w.end()));
  for (int64_t& s : w_str) s *= window;
  w_str.insert(w_str.end(), k_str.begin(), k_str.end());
  if (groups > 1) {  // (G, O/G, C/G, k...): group g starts at output channel g*O/G
    w = grouped(w, groups);
    w_str.insert(w_str.begin(), w_str[0] * (o / groups));
  }
  auto plan = cached<WeightsPlan>(key_of("conv_bwd_weights", {&x, &w, &y, &geo.strides, &geo.dilates, &geo.pad_l, &geo.pad_r}), [&] {
    dnnl::convolution_forward::primitive_desc hint(forward_desc(dnnl::prop_kind::forward_training, x, w, y, geo),
                                                    engine());
    dnnl::convolution_backward_weights::desc d(algorithm(x, w, y), any(x), any(w), any(y),
                                               geo.strides, geo.dilates, geo.pad_l, geo.pad_r);
    dnnl::convolution_backward_weights::primitive_desc pd(d, shareable(), engine(), hint);
    return std::make_shared<WeightsPlan>(WeightsPlan{pd, dnnl::convolution_backward_weights(pd)});
  });
  if (!plan) return {};
  Held xv{in[0].held.buffer, swap01(in[0].held.desc)}, gv{in[1].held.buffer, swap01(in[1].held.desc)};
  Held xb = in_layout(xv, plan->pd.src_desc(), be), gb = in_layout(gv, plan->pd.diff_dst_desc(), be);
  // The weight gradient lands in the row-major (C/B, O, k...) result through strides.
  Held result{be.allocate(n.outputs[0].bytes("conv", n.where)), {w, dt::f32, w_str}};
  Held wb = plan->pd.diff_weights_desc() == result.desc ? result : fresh(plan->pd.diff_weights_desc(), be);
  execute(plan->prim, {{DNNL_ARG_SRC, memory_of(xb)}, {DNNL_ARG_DIFF_DST, memory_of(gb)}, {DNNL_ARG_DIFF_WEIGHTS, memory_of(wb)}});
  if (wb.buffer != result.buffer) {
    dnnl::memory from = memory_of(wb), to = memory_of(result);
    dnnl::reorder(from, to).execute(stream(), from, to);
    stream().wait();
  }
  count(plan->winograd ? "conv_backward_weights_winograd" : "conv_backward_weights");
  return {plain(n.outputs[0], result.buffer)};
}

}  // namespace

std::optional<HeldValues> conv(const Node& n, std::span<const Input> in, Backend& be, bool flipped_kernel,
                               const PostOps& post) {
  const Attrs& at = n.attrs;
  const Shape &xs = in[0].type.shape, &ks = in[1].type.shape, &ys = n.outputs[0].shape;
  int ns = xs.rank() - 2;
  if (in[0].type.dtype != DType::f32 || in[1].type.dtype != DType::f32 || ns < 1 || ns > 3 || xs.size() == 0 ||
      ks.size() == 0 || ys.size() == 0)
    return std::nullopt;
  bool input_dilated = false, unit_strides = true, non_negative = true;
  int64_t kernel_volume = 1, out_volume = 1;
  for (int i = 0; i < ns; ++i) {
    size_t u = static_cast<size_t>(i);
    input_dilated |= at.lhs_dilation[u] != 1;
    unit_strides &= at.strides[u] == 1;
    non_negative &= at.lo[u] >= 0 && at.hi[u] >= 0;
    kernel_volume *= ks[2 + i];
    out_volume *= ys[2 + i];
  }
  enum class Form { forward, backward_data, backward_weights, none } form = Form::none;
  if (!input_dilated && at.k == 1 && (at.k2 > 1 || kernel_volume >= out_volume)) form = Form::backward_weights;
  else if ((input_dilated || flipped_kernel) && unit_strides && at.k2 == 1) form = Form::backward_data;
  else if (!input_dilated && at.k2 == 1 && non_negative) form = Form::forward;
  if (!post.empty() && form != Form::forward) return std::nullopt;  // post-ops fuse into forward convolutions only
  HeldValues out;
  if (form == Form::backward_weights) out = backward_weights(n, in, be);
  if (form == Form::backward_data) out = backward_data(n, in, be);
  if (form == Form::forward) {
    Geometry geo;
    for (int i = 0; i < ns; ++i) {
      size_t u = static_cast<size_t>(i);
      geo.strides.push_back(at.strides[u]);
      geo.dilates.push_back(at.rhs_dilation[u] - 1);
      geo.pad_l.push_back(at.lo[u]);
      geo.pad_r.push_back(at.hi[u]);
    }
    out = forward(n, in, geo, post, be);
  }
  if (out.empty()) return std::nullopt;
  return out;
}

}  // namespace nx::onednn
