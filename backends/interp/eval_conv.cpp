// conv: a direct loop. For each output spatial position the (kernel offset, input offset)
// pairs that land on real input elements are listed once; padding and the holes of input
// dilation contribute nothing. Floats accumulate in f64, integers in u64 (wrapping).
#include "kernels.hpp"

namespace nx::interp {
namespace {

using detail::is_float_v;
using detail::load;
using detail::store;

struct Tap {
  int64_t kernel;  // offset within one (o, c) kernel slice
  int64_t input;   // offset within one (n, c) input slice
};

// The input index one spatial dimension reads for output position `o` and kernel
// position `k`, or -1 when it falls on padding or a dilation hole.
int64_t input_index(const Attrs& a, size_t d, int64_t in, int64_t o, int64_t k) {
  int64_t p = o * a.strides[d] + k * a.rhs_dilation[d] - a.lo[d];  // position in the dilated input
  int64_t dil = a.lhs_dilation[d];
  if (p < 0 || p % dil != 0) return -1;
  int64_t i = p / dil;
  return i < in ? i : -1;
}

// Taps of every output spatial position, in row-major order of the output spatial dims.
std::vector<std::vector<Tap>> plan_taps(const Attrs& a, const Shape& in, const Shape& k, const Shape& out) {
  int ns = in.rank() - 2;
  Shape osp, ksp, isp;
  for (int d = 0; d < ns; ++d) {
    osp.push_back(out[d + 2]);
    ksp.push_back(k[d + 2]);
    isp.push_back(in[d + 2]);
  }
  auto ist = isp.strides();
  std::vector<std::vector<Tap>> taps(static_cast<size_t>(osp.size()));
  std::array<int64_t, kMaxRank> oi{};
  for (int64_t op = 0; op < osp.size(); ++op) {
    std::array<int64_t, kMaxRank> ki{};
    for (int64_t kp = 0; kp < ksp.size(); ++kp) {
      int64_t off = 0;
      bool ok = true;
      for (int d = 0; d < ns && ok; ++d) {
        size_t u = static_cast<size_t>(d);
        int64_t i = input_index(a, u, isp[d], oi[u], ki[u]);
        ok = i >= 0;
        off += i * ist[u];
      }
      if (ok) taps[static_cast<size_t>(op)].push_back({kp, off});
      for (int d = ns - 1; d >= 0 && ++ki[static_cast<size_t>(d)] == ksp[d]; --d) ki[static_cast<size_t>(d)] = 0;
    }
    for (int d = ns - 1; d >= 0 && ++oi[static_cast<size_t>(d)] == osp[d]; --d) oi[static_cast<size_t>(d)] = 0;
  }
  return taps;
}

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
  auto taps = plan_taps(a, is, ks, out.shape);
  int64_t fg = a.k, bg = a.k2;
  int64_t n_out = out.shape[0], O = ks[0], Cg = ks[1], C = is[1];
  int64_t isp = 1, ksp = 1, osp = static_cast<int64_t>(taps.size());
  for (int d = 2; d < is.rank(); ++d) {
    isp *= is[d];
    ksp *= ks[d];
  }
  int64_t o_per_fg = O / fg, o_per_bg = O / bg;
  detail::visit_dtype(out.dtype, [&](auto t) {
    using T = decltype(t);
    using A = std::conditional_t<is_float_v<T>, double, uint64_t>;
    auto x = widen<T, A>(in[0]);
    auto w = widen<T, A>(in[1]);
    T* y = data<T>(o);
    for (int64_t b = 0; b < n_out; ++b)
      for (int64_t oc = 0; oc < O; ++oc) {
        // Feature groups pick a block of input channels; batch groups a block of the batch.
        int64_t c0 = (oc / o_per_fg) * Cg;
        int64_t nb = (oc / o_per_bg) * n_out + b;
        const A* wo = w.data() + oc * Cg * ksp;
        const A* xb = x.data() + (nb * C + c0) * isp;
        T* yo = y + (b * O + oc) * osp;
        for (int64_t p = 0; p < osp; ++p) {
          A acc = 0;
          for (int64_t c = 0; c < Cg; ++c)
            for (const Tap& tp : taps[static_cast<size_t>(p)]) acc += xb[c * isp + tp.input] * wo[c * ksp + tp.kernel];
          yo[p] = store<T>(acc);
        }
      }
  });
  return {o};
}

}  // namespace nx::interp
