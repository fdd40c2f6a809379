// conv -> dnnl::convolution_forward with format_tag::any, so oneDNN chooses blocked layouts;
// operands are reordered into them and the result back to row-major. The primitive and its
// reorders are cached by shapes and attributes.
#include "conv.hpp"

#include <mutex>
#include <oneapi/dnnl/dnnl.hpp>
#include <string>
#include <unordered_map>

#include "dnnl_common.hpp"

namespace nx::onednn {
namespace {

using dims = dnnl::memory::dims;
using dt = dnnl::memory::data_type;

struct Plan {
  dnnl::memory::desc src, weights, dst;  // row-major, as nx holds them
  dnnl::convolution_forward::primitive_desc pd;
  dnnl::convolution_forward prim;
};

dims row_major(const dims& d) {
  dims s(d.size(), 1);
  for (size_t i = d.size(); i-- > 1;) s[i - 1] = s[i] * d[i];
  return s;
}

// A memory object for `want`: `plain` itself when the layouts agree, else a reordered copy.
dnnl::memory in_layout(const dnnl::memory& plain, const dnnl::memory::desc& want, dnnl::stream& s) {
  if (plain.get_desc() == want) return plain;
  dnnl::memory m(want, engine());
  dnnl::reorder(plain, m).execute(s, const_cast<dnnl::memory&>(plain), m);
  return m;
}

}  // namespace

std::optional<std::vector<BufferPtr>> conv(const Node& n, std::span<const Operand> in, Backend& be) {
  const Attrs& at = n.attrs;
  const Shape &xs = in[0].type.shape, &ks = in[1].type.shape, &ys = n.outputs[0].shape;
  int spatial = xs.rank() - 2;
  if (in[0].type.dtype != DType::f32 || in[1].type.dtype != DType::f32 || spatial < 1 || spatial > 3 || at.k2 != 1 ||
      xs.size() == 0 || ks.size() == 0 || ys.size() == 0)
    return std::nullopt;
  dims strides, dilates, pad_l, pad_r;
  for (int i = 0; i < spatial; ++i) {
    size_t u = static_cast<size_t>(i);
    if (at.lhs_dilation[u] != 1 || at.lo[u] < 0 || at.hi[u] < 0) return std::nullopt;
    strides.push_back(at.strides[u]);
    dilates.push_back(at.rhs_dilation[u] - 1);  // oneDNN counts the gaps
    pad_l.push_back(at.lo[u]);
    pad_r.push_back(at.hi[u]);
  }
  int64_t groups = at.k;
  dims x_dims = xs.to_vector(), y_dims = ys.to_vector(), k_dims = ks.to_vector();
  if (groups > 1) {  // (O, C/G, ...) is (G, O/G, C/G, ...) in the same memory
    k_dims.insert(k_dims.begin(), groups);
    k_dims[1] /= groups;
  }
  std::string key = "conv";
  for (const dims* v : {&x_dims, &k_dims, &y_dims, &strides, &dilates, &pad_l, &pad_r}) {
    for (int64_t x : *v) key += std::to_string(x) + ',';
    key += ';';
  }
  std::shared_ptr<Plan> plan = cached<Plan>(key, [&]() -> std::shared_ptr<Plan> {
    auto any = [](const dims& d) { return dnnl::memory::desc(d, dt::f32, dnnl::memory::format_tag::any); };
    dnnl::convolution_forward::desc d(dnnl::prop_kind::forward_inference, dnnl::algorithm::convolution_direct,
                                      any(x_dims), any(k_dims), any(y_dims), strides, dilates, pad_l, pad_r);
    dnnl::convolution_forward::primitive_desc pd(d, engine());
    return std::make_shared<Plan>(Plan{{x_dims, dt::f32, row_major(x_dims)}, {k_dims, dt::f32, row_major(k_dims)},
                                       {y_dims, dt::f32, row_major(y_dims)}, pd, dnnl::convolution_forward(pd)});
  });
  if (!plan) return std::nullopt;
  BufferPtr out = be.allocate(n.outputs[0].bytes("conv", n.where));
  dnnl::stream& s = stream();
  dnnl::memory x(plan->src, engine(), in[0].buffer->data()), k(plan->weights, engine(), in[1].buffer->data());
  dnnl::memory y(plan->dst, engine(), out->data());
  dnnl::memory xb = in_layout(x, plan->pd.src_desc(), s), kb = in_layout(k, plan->pd.weights_desc(), s);
  bool plain_out = plan->pd.dst_desc() == plan->dst;
  dnnl::memory yb = plain_out ? y : dnnl::memory(plan->pd.dst_desc(), engine());
  plan->prim.execute(s, {{DNNL_ARG_SRC, xb}, {DNNL_ARG_WEIGHTS, kb}, {DNNL_ARG_DST, yb}});
  if (!plain_out) dnnl::reorder(yb, y).execute(s, yb, y);
  s.wait();
  return std::vector<BufferPtr>{out};
}

}  // namespace nx::onednn
