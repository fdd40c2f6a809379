#include "cudnn_problem.hpp"

#include <algorithm>

namespace nx::cuda_backend {
namespace {

// A post padding q >= 0 for which a convolution of `in` elements (pre padding `pre`, a
// window spanning `span` + 1, stride `stride`) gives `out`: (out - 1) * stride <= in + pre
// + q - span - 1 < out * stride. Of those, the one closest to pre: cuDNN's engines mostly
// take equal padding on both sides.
std::optional<int64_t> fit_post(int64_t in, int64_t pre, int64_t span, int64_t stride, int64_t out) {
  int64_t base = in + pre - span - 1;
  int64_t least = std::max<int64_t>(0, (out - 1) * stride - base), most = out * stride - 1 - base;
  if (out < 1 || pre < 0 || least > most) return std::nullopt;
  return std::clamp(pre, least, most);
}

// A size-1 dim's stride as a packed tensor's (cuDNN judges packing from every stride).
void unit_strides_packed(CudnnView& v) {
  for (size_t d = v.dims.size(); d-- > 0;)
    if (v.dims[d] == 1) v.strides[d] = d + 1 < v.dims.size() ? v.strides[d + 1] * v.dims[d + 1] : 1;
}

// A view of `shape` (row-major) with its dims taken in the order `order`.
CudnnView view(int operand, const Shape& shape, std::vector<int> order) {
  auto strides = shape.strides();
  CudnnView v{operand, {}, {}};
  for (int d : order) v.dims.push_back(shape[d]), v.strides.push_back(strides[static_cast<size_t>(d)]);
  return v;
}
std::vector<int> order(int rank, int first, int second) {
  std::vector<int> o{first, second};
  for (int d = 2; d < rank; ++d) o.push_back(d);
  return o;
}
bool all_one(const std::vector<int64_t>& v) {
  return std::all_of(v.begin(), v.end(), [](int64_t e) { return e == 1; });
}
bool cropped(const Attrs& at) {  // negative padding in front: cuDNN pads, it does not crop
  return std::any_of(at.lo.begin(), at.lo.end(), [](int64_t p) { return p < 0; });
}
int64_t spatial_size(const Shape& s) {
  int64_t n = 1;
  for (int d = 2; d < s.rank(); ++d) n *= s[d];
  return n;
}

// Negative padding at the end crops x: nothing past it is read, so x's view ends there.
bool crop_end(CudnnConv& c, const std::vector<int64_t>& hi) {
  for (size_t i = 0; i < hi.size(); ++i) c.x.dims[2 + i] += std::min<int64_t>(hi[i], 0);
  return std::all_of(c.x.dims.begin(), c.x.dims.end(), [](int64_t d) { return d > 0; });
}

// Sets post for every dim from x's and y's spatial sizes and w's (in cuDNN's roles); false
// where no padding fits.
bool fit_posts(CudnnConv& c) {
  for (size_t i = 0; i < c.pre.size(); ++i) {
    int64_t span = (c.w.dims[2 + i] - 1) * c.dilations[i];
    auto q = fit_post(c.x.dims[2 + i], c.pre[i], span, c.strides[i], c.y.dims[2 + i]);
    if (!q) return false;
    c.post.push_back(*q);
  }
  return true;
}

std::optional<CudnnConv> forward(const Attrs& at, const Shape& lhs, const Shape& rhs, const Shape& out) {
  if (!all_one(at.lhs_dilation) || at.k2 > 1 || cropped(at)) return std::nullopt;
  CudnnConv c{.op = CudnnOp::forward, .x = view(0, lhs, order(lhs.rank(), 0, 1)), .w = view(1, rhs, order(rhs.rank(), 0, 1)),
              .y = view(2, out, order(out.rank(), 0, 1)), .pre = at.lo, .post = {}, .strides = at.strides,
              .dilations = at.rhs_dilation, .flip = false};
  return crop_end(c, at.hi) && fit_posts(c) ? std::optional(c) : std::nullopt;
}

// The node: out[b, f, t] = sum lhs[b, e, t * stride - lo + j * rhs_dilation] rhs[f, e, j];
// cuDNN's dw[o, c, k] = sum dy[n, o, p] x[n, c, p * stride' - pre + k * dilation'] with
// (n, c, o, k, p) = (e, b, f, t, j): stride' is the node's rhs dilation and dilation' its
// stride.
std::optional<CudnnConv> backward_filter(const Attrs& at, const Shape& lhs, const Shape& rhs, const Shape& out) {
  if (!all_one(at.lhs_dilation) || at.k > 1 || cropped(at)) return std::nullopt;
  CudnnConv c{.op = CudnnOp::backward_filter, .x = view(0, lhs, order(lhs.rank(), 1, 0)),
              .w = view(2, out, order(out.rank(), 1, 0)), .y = view(1, rhs, order(rhs.rank(), 1, 0)), .pre = at.lo,
              .post = {}, .strides = at.rhs_dilation, .dilations = at.strides, .flip = false};
  return crop_end(c, at.hi) && fit_posts(c) ? std::optional(c) : std::nullopt;
}

// The node (stride 1): out[n, f, t] = sum dilated(lhs)[n, e, t + j * D - lo] rhs[f, e', j]
// with input dilation L. cuDNN's dx[n, c, h] = sum dy[n, o, i] w[o, c, K - 1 - k] over
// i * L - pre + k * D = h (convolution mode) matches with dy = lhs, dx = out, pre = (K - 1)
// * D - lo and w[o, c] = rhs[c, o] per feature group, which is a strided view where the
// groups keep the two feature dims' steps linear.
std::optional<CudnnConv> backward_data(const Attrs& at, const Shape& lhs, const Shape& rhs, const Shape& out) {
  if (!all_one(at.strides) || at.k2 > 1) return std::nullopt;
  int64_t groups = std::max<int64_t>(at.k, 1), in_per = lhs[1] / groups, out_per = out[1] / groups;
  auto rs = rhs.strides();
  int64_t o_stride = 0;
  if (groups == 1 || out_per == 1) o_stride = rs[1];
  else if (in_per == 1) o_stride = out_per * rs[0];
  else return std::nullopt;
  CudnnView w{1, {lhs[1], out_per}, {o_stride, rs[0]}};
  for (int d = 2; d < rhs.rank(); ++d) w.dims.push_back(rhs[d]), w.strides.push_back(rs[static_cast<size_t>(d)]);
  CudnnConv c{.op = CudnnOp::backward_data, .x = view(2, out, order(out.rank(), 0, 1)), .w = std::move(w),
              .y = view(0, lhs, order(lhs.rank(), 0, 1)), .pre = {}, .post = {}, .strides = at.lhs_dilation,
              .dilations = at.rhs_dilation, .flip = true};
  for (size_t i = 0; i < at.lo.size(); ++i) c.pre.push_back((rhs[2 + static_cast<int>(i)] - 1) * at.rhs_dilation[i] - at.lo[i]);
  return fit_posts(c) ? std::optional(c) : std::nullopt;
}

// One spatial dim as two, the first of size 1.
void lift_1d(CudnnConv& c) {
  for (CudnnView* v : {&c.x, &c.w, &c.y}) {
    v->dims.insert(v->dims.begin() + 2, 1);
    v->strides.insert(v->strides.begin() + 2, v->strides[2] * v->dims[3]);
  }
  c.pre.insert(c.pre.begin(), 0), c.post.insert(c.post.begin(), 0);
  c.strides.insert(c.strides.begin(), 1), c.dilations.insert(c.dilations.begin(), 1);
}

void append(std::string& s, const std::vector<int64_t>& v) {
  for (int64_t e : v) s += std::to_string(e) + ',';
  s += ';';
}

}  // namespace

std::string CudnnConv::key() const {
  std::string s = std::to_string(static_cast<int>(op)) + (flip ? "f" : "c") + ';';
  for (const CudnnView* v : {&x, &w, &y}) {
    s += std::to_string(v->operand) + ':';
    append(s, v->dims), append(s, v->strides);
  }
  for (const auto* v : {&pre, &post, &strides, &dilations}) append(s, *v);
  return s;
}

std::optional<CudnnConv> cudnn_conv_problem(const Attrs& at, const Shape& lhs, const Shape& rhs, const Shape& out) {
  int ns = lhs.rank() - 2;
  if (ns < 1 || ns > 3 || lhs.size() == 0 || rhs.size() == 0 || out.size() == 0) return std::nullopt;
  if (at.k > 1 && at.k2 > 1) return std::nullopt;
  std::optional<CudnnConv> c;
  if (!all_one(at.lhs_dilation)) c = backward_data(at, lhs, rhs, out);
  else if (at.k2 > 1 || spatial_size(rhs) > spatial_size(out)) c = backward_filter(at, lhs, rhs, out);
  if (!c) c = forward(at, lhs, rhs, out);
  if (c && ns == 1) lift_1d(*c);
  if (c)
    for (CudnnView* v : {&c->x, &c->w, &c->y}) unit_strides_packed(*v);
  return c;
}

}  // namespace nx::cuda_backend
