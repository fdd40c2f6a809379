// conv: a direct loop. For each output spatial position the (kernel offset, input offset)
// pairs that land on real input elements are listed once; padding and the holes of input
// dilation contribute nothing. Floats accumulate in f64, integers in u64 (wrapping).
#include "kernels.hpp"

namespace nx::interp {
namespace {

struct Tap {
  int64_t kernel;  // offset within one (o, c) kernel slice
  int64_t input;   // offset within one (n, c) input slice
};

// For each spatial dim, the input index read by (output position o, kernel position k)
// at [o * kernel + k], or -1 when it falls on padding or a dilation hole.
std::vector<std::vector<int64_t>> index_tables(const Attrs& a, const Shape& in, const Shape& k, const Shape& out) {
  std::vector<std::vector<int64_t>> t(static_cast<size_t>(in.rank() - 2));
  for (size_t d = 0; d < t.size(); ++d) {
    int dim = static_cast<int>(d) + 2;
    int64_t kd = k[dim], dil = a.lhs_dilation[d];
    t[d].resize(static_cast<size_t>(out[dim] * kd));
    for (int64_t o = 0; o < out[dim]; ++o)
      for (int64_t j = 0; j < kd; ++j) {
        int64_t p = o * a.strides[d] + j * a.rhs_dilation[d] - a.lo[d];  // position in the dilated input
        bool hit = p >= 0 && p % dil == 0 && p / dil < in[dim];
        t[d][static_cast<size_t>(o * kd + j)] = hit ? p / dil : -1;
      }
  }
  return t;
}

// Lists the taps of the output spatial position `oi` into `taps`.
void collect_taps(const std::vector<std::vector<int64_t>>& tables, const Shape& ksp,
                  const std::array<int64_t, kMaxRank>& ist, const std::array<int64_t, kMaxRank>& oi,
                  std::vector<Tap>& taps) {
  taps.clear();
  int ns = ksp.rank();
  std::array<int64_t, kMaxRank> ki{};
  for (int64_t kp = 0; kp < ksp.size(); ++kp) {
    int64_t off = 0;
    bool ok = true;
    for (int d = 0; d < ns && ok; ++d) {
      size_t u = static_cast<size_t>(d);
      int64_t i = tables[u][static_cast<size_t>(oi[u] * ksp[d] + ki[u])];
      ok = i >= 0;
      off += i * ist[u];
    }
    if (ok) taps.push_back({kp, off});
    for (int d = ns - 1; d >= 0 && ++ki[static_cast<size_t>(d)] == ksp[d]; --d) ki[static_cast<size_t>(d)] = 0;
  }
}

Shape spatial(const Shape& s) { return Shape(s.dims().subspan(2)); }

template <class T, class A> std::vector<A> widen(const Operand& x) {
  const T* p = data<T>(x.buffer);
  std::vector<A> v(static_cast<size_t>(x.type.shape.size()));
  for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<A>(load(p[i]));
  return v;
}

}  // namespace

NX_KERNEL(eval_conv) {
  const TensorType& out = n.outputs[0];
  BufferPtr o = alloc(be, out);
  if (out.shape.size() == 0) return {o};
  const Attrs& a = n.attrs;
  const Shape& is = in[0].type.shape;
  const Shape& ks = in[1].type.shape;
  auto tables = index_tables(a, is, ks, out.shape);
  Shape isp = spatial(is), ksp = spatial(ks), osp = spatial(out.shape);
  auto ist = isp.strides();
  int64_t fg = a.k, bg = a.k2;
  int64_t n_out = out.shape[0], O = ks[0], Cg = ks[1], C = is[1];
  int64_t o_per_fg = O / fg, o_per_bg = O / bg;
  detail::visit_dtype(out.dtype, [&](auto t) {
    using T = decltype(t);
    using A = std::conditional_t<is_float_v<T>, double, uint64_t>;
    auto x = widen<T, A>(in[0]);
    auto w = widen<T, A>(in[1]);
    T* y = data<T>(o);
    std::vector<Tap> taps;
    std::array<int64_t, kMaxRank> oi{};
    for (int64_t p = 0; p < osp.size(); ++p) {
      collect_taps(tables, ksp, ist, oi, taps);
      for (int64_t b = 0; b < n_out; ++b)
        for (int64_t oc = 0; oc < O; ++oc) {
          // Feature groups pick a block of input channels; batch groups a block of the batch.
          int64_t c0 = (oc / o_per_fg) * Cg;
          int64_t nb = (oc / o_per_bg) * n_out + b;
          const A* wo = w.data() + oc * Cg * ksp.size();
          const A* xb = x.data() + (nb * C + c0) * isp.size();
          A acc = 0;
          for (int64_t c = 0; c < Cg; ++c)
            for (const Tap& tp : taps) acc += xb[c * isp.size() + tp.input] * wo[c * ksp.size() + tp.kernel];
          y[(b * O + oc) * osp.size() + p] = store<T>(acc);
        }
      for (int d = osp.rank() - 1; d >= 0 && ++oi[static_cast<size_t>(d)] == osp[d]; --d) oi[static_cast<size_t>(d)] = 0;
    }
  });
  return {o};
}

}  // namespace nx::interp
