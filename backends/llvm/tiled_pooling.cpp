#include "tiled_pooling.hpp"

#include <cmath>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "thread_pool.hpp"

namespace nx::llvm_backend {
namespace {

// The planes (batch x channels), a plane's input and output sizes, and each window
// element's offset from the window's first element.
struct Tiling {
  int64_t planes = 1, in_plane = 1, out_plane = 1;
  std::vector<int64_t> out_dims, in_strides, window_offsets, window;
};

std::optional<Tiling> tiling(const Attrs& a, const Shape& x) {
  const int rank = x.rank();
  if (rank < 3 || rank > 5 || a.window.size() != static_cast<size_t>(rank)) return std::nullopt;
  Tiling t;
  for (int d = 0; d < rank; ++d) {
    const size_t u = static_cast<size_t>(d);
    const int64_t k = a.window[u];
    if (a.lo[u] != 0 || a.hi[u] != 0 || a.rhs_dilation[u] != 1 || a.strides[u] != k || k < 1 || x[d] % k) return std::nullopt;
    if (d < 2) {
      if (k != 1) return std::nullopt;
      t.planes *= x[d];
      continue;
    }
    t.window.push_back(k);
    t.out_dims.push_back(x[d] / k);
    t.in_plane *= x[d];
    t.out_plane *= x[d] / k;
  }
  int64_t volume = 1;
  for (int64_t k : t.window) volume *= k;
  if (volume < 2 || t.planes * t.in_plane == 0) return std::nullopt;
  // Row-major strides of a plane, and the window's offsets (row-major over the window).
  t.in_strides.assign(t.window.size(), 1);
  for (size_t d = t.window.size() - 1; d-- > 0;) t.in_strides[d] = t.in_strides[d + 1] * x[static_cast<int>(d + 3)];
  t.window_offsets = {0};
  for (size_t d = 0; d < t.window.size(); ++d) {
    std::vector<int64_t> next;
    for (int64_t off : t.window_offsets)
      for (int64_t k = 0; k < t.window[d]; ++k) next.push_back(off + k * t.in_strides[d]);
    t.window_offsets = std::move(next);
  }
  return t;
}

// Calls f(o, base) for each output position o of a plane, base the input offset of its
// window's first element.
template <class F> void each_window(const Tiling& t, F&& f) {
  const size_t nd = t.out_dims.size();
  std::vector<int64_t> idx(nd, 0);
  int64_t base = 0;
  for (int64_t o = 0; o < t.out_plane; ++o) {
    f(o, base);
    for (size_t d = nd; d-- > 0;) {  // odometer
      base += t.window[d] * t.in_strides[d];
      if (++idx[d] < t.out_dims[d]) break;
      base -= idx[d] * t.window[d] * t.in_strides[d];
      idx[d] = 0;
    }
  }
}

// The position (in window_offsets) of the window's first maximum, a NaN beating every number.
template <class T> size_t first_max(const T* w, const std::vector<int64_t>& offsets) {
  size_t best = 0;
  T bv = w[0];
  for (size_t k = 1; k < offsets.size() && !std::isnan(bv); ++k) {
    const T v = w[offsets[k]];
    if (std::isnan(v) || v > bv) best = k, bv = v;
  }
  return best;
}

// The common case, 2 x 2 windows over 2 spatial axes, as straight-line code over a pair of
// rows (branch-free, so the compiler vectorises it). `better` is first_max's test.
template <class T> inline bool better(T v, T bv) { return (bv == bv) & ((v != v) | (v > bv)); }

template <class T> void max_2x2_rows(const T* __restrict r0, const T* __restrict r1, T* __restrict y, int64_t wo) {
  for (int64_t j = 0; j < wo; ++j) {
    T m = r0[2 * j];
    m = better(r0[2 * j + 1], m) ? r0[2 * j + 1] : m;
    m = better(r1[2 * j], m) ? r1[2 * j] : m;
    m = better(r1[2 * j + 1], m) ? r1[2 * j + 1] : m;
    y[j] = m;
  }
}

template <class T>
void scatter_2x2_rows(const T* __restrict r0, const T* __restrict r1, const T* __restrict g, T init, T* __restrict o0,
                      T* __restrict o1, int64_t wo) {
  for (int64_t j = 0; j < wo; ++j) {
    const T a = r0[2 * j], b = r0[2 * j + 1], c = r1[2 * j], d = r1[2 * j + 1];
    const bool tb = better(b, a);
    const T mb = tb ? b : a;
    const bool tc = better(c, mb);
    const T mc = tc ? c : mb;
    const bool td = better(d, mc);
    // The first maximum: d if it beats the rest, else c if it beat a and b, ...
    const bool hd = td, hc = tc & !td, hb = tb & !tc & !td, ha = !tb & !tc & !td;
    const T hit = init + g[j];
    o0[2 * j] = ha ? hit : init;
    o0[2 * j + 1] = hb ? hit : init;
    o1[2 * j] = hc ? hit : init;
    o1[2 * j + 1] = hd ? hit : init;
  }
}

#if defined(__SSE2__)
// Four windows at a time in f32 (SSE2 is every x86-64's baseline): the even and odd
// columns of each row pair deinterleaved, first_max's test as masks.
inline __m128 better4(__m128 v, __m128 bv) {
  return _mm_and_ps(_mm_cmpord_ps(bv, bv), _mm_or_ps(_mm_cmpunord_ps(v, v), _mm_cmpgt_ps(v, bv)));
}
inline __m128 pick(__m128 mask, __m128 a, __m128 b) { return _mm_or_ps(_mm_and_ps(mask, a), _mm_andnot_ps(mask, b)); }

template <> void max_2x2_rows<float>(const float* __restrict r0, const float* __restrict r1, float* __restrict y, int64_t wo) {
  int64_t j = 0;
  for (; j + 4 <= wo; j += 4) {
    __m128 p0 = _mm_loadu_ps(r0 + 2 * j), p1 = _mm_loadu_ps(r0 + 2 * j + 4);
    __m128 q0 = _mm_loadu_ps(r1 + 2 * j), q1 = _mm_loadu_ps(r1 + 2 * j + 4);
    __m128 a = _mm_shuffle_ps(p0, p1, _MM_SHUFFLE(2, 0, 2, 0)), b = _mm_shuffle_ps(p0, p1, _MM_SHUFFLE(3, 1, 3, 1));
    __m128 c = _mm_shuffle_ps(q0, q1, _MM_SHUFFLE(2, 0, 2, 0)), d = _mm_shuffle_ps(q0, q1, _MM_SHUFFLE(3, 1, 3, 1));
    __m128 m = pick(better4(b, a), b, a);
    m = pick(better4(c, m), c, m);
    m = pick(better4(d, m), d, m);
    _mm_storeu_ps(y + j, m);
  }
  for (; j < wo; ++j) {
    float m = r0[2 * j];
    m = better(r0[2 * j + 1], m) ? r0[2 * j + 1] : m;
    m = better(r1[2 * j], m) ? r1[2 * j] : m;
    m = better(r1[2 * j + 1], m) ? r1[2 * j + 1] : m;
    y[j] = m;
  }
}

template <>
void scatter_2x2_rows<float>(const float* __restrict r0, const float* __restrict r1, const float* __restrict g, float init,
                             float* __restrict o0, float* __restrict o1, int64_t wo) {
  int64_t j = 0;
  const __m128 vinit = _mm_set1_ps(init);
  for (; j + 4 <= wo; j += 4) {
    __m128 p0 = _mm_loadu_ps(r0 + 2 * j), p1 = _mm_loadu_ps(r0 + 2 * j + 4);
    __m128 q0 = _mm_loadu_ps(r1 + 2 * j), q1 = _mm_loadu_ps(r1 + 2 * j + 4);
    __m128 a = _mm_shuffle_ps(p0, p1, _MM_SHUFFLE(2, 0, 2, 0)), b = _mm_shuffle_ps(p0, p1, _MM_SHUFFLE(3, 1, 3, 1));
    __m128 c = _mm_shuffle_ps(q0, q1, _MM_SHUFFLE(2, 0, 2, 0)), d = _mm_shuffle_ps(q0, q1, _MM_SHUFFLE(3, 1, 3, 1));
    __m128 tb = better4(b, a), mb = pick(tb, b, a);
    __m128 tc = better4(c, mb), mc = pick(tc, c, mb);
    __m128 td = better4(d, mc);
    __m128 hc = _mm_andnot_ps(td, tc), hb = _mm_andnot_ps(_mm_or_ps(tc, td), tb);
    __m128 ha = _mm_andnot_ps(_mm_or_ps(_mm_or_ps(tb, tc), td), _mm_castsi128_ps(_mm_set1_epi32(-1)));
    __m128 hit = _mm_add_ps(vinit, _mm_loadu_ps(g + j));
    __m128 oa = pick(ha, hit, vinit), ob = pick(hb, hit, vinit), oc = pick(hc, hit, vinit), od = pick(td, hit, vinit);
    _mm_storeu_ps(o0 + 2 * j, _mm_unpacklo_ps(oa, ob));
    _mm_storeu_ps(o0 + 2 * j + 4, _mm_unpackhi_ps(oa, ob));
    _mm_storeu_ps(o1 + 2 * j, _mm_unpacklo_ps(oc, od));
    _mm_storeu_ps(o1 + 2 * j + 4, _mm_unpackhi_ps(oc, od));
  }
  for (; j < wo; ++j) {
    const float a = r0[2 * j], b = r0[2 * j + 1], c = r1[2 * j], d = r1[2 * j + 1];
    const bool tb = better(b, a);
    const float mb = tb ? b : a;
    const bool tc = better(c, mb);
    const bool td = better(d, tc ? c : mb);
    const float hit = init + g[j];
    o0[2 * j] = !tb & !tc & !td ? hit : init;
    o0[2 * j + 1] = tb & !tc & !td ? hit : init;
    o1[2 * j] = tc & !td ? hit : init;
    o1[2 * j + 1] = td ? hit : init;
  }
}
#endif

bool is_2x2(const Tiling& t) { return t.window.size() == 2 && t.window[0] == 2 && t.window[1] == 2; }

template <class T>
void window_max(const Tiling& t, const T* x, T* y, int threads) {
  if (is_2x2(t)) {
    const int64_t ho = t.out_dims[0], wo = t.out_dims[1], w = 2 * wo;
    parallel_for(t.planes * ho, std::max<int64_t>(1, (1 << 14) / (4 * wo)), threads, [&](int64_t b, int64_t e) {
      for (int64_t r = b; r < e; ++r) {  // r: an output row of some plane
        const T* r0 = x + r * 2 * w;
        max_2x2_rows(r0, r0 + w, y + r * wo, wo);
      }
    }, 1);
    return;
  }
  parallel_for(t.planes, std::max<int64_t>(1, (1 << 14) / t.in_plane), threads, [&](int64_t b, int64_t e) {
    for (int64_t p = b; p < e; ++p) {
      const T* xp = x + p * t.in_plane;
      T* yp = y + p * t.out_plane;
      each_window(t, [&](int64_t o, int64_t base) { yp[o] = xp[base + t.window_offsets[first_max(xp + base, t.window_offsets)]]; });
    }
  }, 1);
}

template <class T>
void scatter_max(const Tiling& t, const T* x, const T* g, T init, T* out, int threads) {
  if (is_2x2(t)) {
    const int64_t ho = t.out_dims[0], wo = t.out_dims[1], w = 2 * wo;
    parallel_for(t.planes * ho, std::max<int64_t>(1, (1 << 14) / (4 * wo)), threads, [&](int64_t b, int64_t e) {
      for (int64_t r = b; r < e; ++r) {
        const T* r0 = x + r * 2 * w;
        T* o0 = out + r * 2 * w;
        scatter_2x2_rows(r0, r0 + w, g + r * wo, init, o0, o0 + w, wo);
      }
    }, 1);
    return;
  }
  parallel_for(t.planes, std::max<int64_t>(1, (1 << 14) / t.in_plane), threads, [&](int64_t b, int64_t e) {
    for (int64_t p = b; p < e; ++p) {
      const T* xp = x + p * t.in_plane;
      const T* gp = g + p * t.out_plane;
      T* op = out + p * t.in_plane;
      each_window(t, [&](int64_t o, int64_t base) {
        const size_t best = first_max(xp + base, t.window_offsets);
        for (size_t k = 0; k < t.window_offsets.size(); ++k) op[base + t.window_offsets[k]] = k == best ? init + gp[o] : init;
      });
    }
  }, 1);
}

}  // namespace

std::optional<std::vector<BufferPtr>> run_tiled_pooling(const Node& n, std::span<const Operand> in, Backend& be, int threads) {
  if (n.op != Op::WindowMax && n.op != Op::WindowScatterMax) return std::nullopt;
  const DType dt = in[0].type.dtype;
  if (dt != DType::f32 && dt != DType::f64) return std::nullopt;
  std::optional<Tiling> t = tiling(n.attrs, in[0].type.shape);
  if (!t) return std::nullopt;
  BufferPtr out = be.allocate(n.outputs[0].bytes());
  auto run = [&](auto zero) {
    using T = decltype(zero);
    const T* x = static_cast<const T*>(in[0].buffer->data());
    if (n.op == Op::WindowMax) {
      window_max(*t, x, static_cast<T*>(out->data()), threads);
    } else {
      if (in[1].type.dtype != dt || in[2].type.dtype != dt || in[2].type.shape.size() != 1) return false;
      scatter_max(*t, x, static_cast<const T*>(in[1].buffer->data()), *static_cast<const T*>(in[2].buffer->data()),
                  static_cast<T*>(out->data()), threads);
    }
    return true;
  };
  if (!(dt == DType::f32 ? run(0.0f) : run(0.0))) return std::nullopt;
  return std::vector<BufferPtr>{out};
}

}  // namespace nx::llvm_backend
