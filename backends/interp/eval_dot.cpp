// dot_general: operands packed to (batch, m, k) and (batch, k, n), then a plain
// triple loop accumulating in f64 for floats (the reference is accurate, not fast).
#include "kernels.hpp"
#include "nx/detail/dot_axes.hpp"

namespace nx::interp {
namespace {

// Packs x so that its dims are ordered batch, then `first`, then `second`, as a flat vector.
template <class T, class A>
std::vector<A> pack(const Operand& x, const std::vector<int64_t>& batch, const std::vector<int64_t>& first,
                    const std::vector<int64_t>& second) {
  const Shape& s = x.type.shape;
  auto is = s.strides();
  Shape ps;
  std::array<int64_t, kMaxRank> st{};
  int r = 0;
  for (const auto* list : {&batch, &first, &second})
    for (int64_t d : *list) {
      ps.push_back(s[static_cast<int>(d)]);
      st[static_cast<size_t>(r++)] = is[static_cast<size_t>(d)];
    }
  std::vector<A> out(static_cast<size_t>(ps.size()));
  const T* p = data<T>(x.buffer);
  for_each_strided<1>(ps, one(st), [&](int64_t i, const std::array<int64_t, 1>& k) {
    out[static_cast<size_t>(i)] = static_cast<A>(load(p[k[0]]));
  });
  return out;
}

int64_t prod(const Shape& s, const std::vector<int64_t>& axes) {
  int64_t p = 1;
  for (int64_t a : axes) p *= s[static_cast<int>(a)];
  return p;
}

}  // namespace

NX_KERNEL(eval_dot_general) {
  const TensorType& out = n.outputs[0];
  BufferPtr o = alloc(be, out);
  const Attrs& a = n.attrs;
  const Shape& as = in[0].type.shape;
  const Shape& bs = in[1].type.shape;
  auto fa = detail::free_axes(as.rank(), a.lhs_contract, a.lhs_batch);
  auto fb = detail::free_axes(bs.rank(), a.rhs_contract, a.rhs_batch);
  int64_t B = prod(as, a.lhs_batch), M = prod(as, fa), K = prod(as, a.lhs_contract), N = prod(bs, fb);
  detail::visit_dtype(out.dtype, [&](auto t) {
    using T = decltype(t);
    // Integers accumulate in u64: wraps modulo 2^n like the elementwise ops, never UB.
    using A = std::conditional_t<is_float_v<T>, double, uint64_t>;
    auto pa = pack<T, A>(in[0], a.lhs_batch, fa, a.lhs_contract);   // (B, M, K)
    auto pb = pack<T, A>(in[1], a.rhs_batch, a.rhs_contract, fb);   // (B, K, N)
    T* y = data<T>(o);
    std::vector<A> row(static_cast<size_t>(N));
    for (int64_t b = 0; b < B; ++b)
      for (int64_t i = 0; i < M; ++i) {
        std::fill(row.begin(), row.end(), A(0));
        for (int64_t k = 0; k < K; ++k) {
          A av = pa[static_cast<size_t>((b * M + i) * K + k)];
          const A* brow = pb.data() + (b * K + k) * N;
          for (int64_t j = 0; j < N; ++j) row[static_cast<size_t>(j)] += av * brow[j];
        }
        for (int64_t j = 0; j < N; ++j) y[(b * M + i) * N + j] = store<T>(row[static_cast<size_t>(j)]);
      }
  });
  return {o};
}

}  // namespace nx::interp
