#include "gemm.hpp"

#include <algorithm>
#include <vector>

#include "thread_pool.hpp"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace nx::llvm_backend {
namespace {

// Register tile MR x NR (6 rows of two 8-float or 4-double vectors: 12 accumulators of
// AVX2's 16 registers), cache blocks KC (a packed B sliver stays in L1) and MC x KC (a
// packed A block stays in L2), NC columns of B packed at a time (in L3).
template <class T> struct Tile {
  static constexpr int64_t mr = 6, nr = sizeof(T) == 4 ? 16 : 8, kc = 256, mc = 72, nc = 2048;
};

// acc (MR x NR, row-major) = sum over p < kc of a[p][0..MR) x b[p][0..NR), from packed
// slivers: a holds MR values per p, b holds NR.
template <class T> void micro_portable(int64_t kc, const T* a, const T* b, T* acc) {
  constexpr int64_t mr = Tile<T>::mr, nr = Tile<T>::nr;
  T c[mr][nr] = {};
  for (int64_t p = 0; p < kc; ++p)
    for (int64_t i = 0; i < mr; ++i)
      for (int64_t j = 0; j < nr; ++j) c[i][j] += a[p * mr + i] * b[p * nr + j];
  std::copy(&c[0][0], &c[0][0] + mr * nr, acc);
}

#if defined(__x86_64__)
// AVX2 vectors of float or double, so one micro-kernel serves both.
#define NX_AVX2 __attribute__((target("avx2,fma"), always_inline)) inline
NX_AVX2 __m256 vload(const float* p) { return _mm256_loadu_ps(p); }
NX_AVX2 __m256d vload(const double* p) { return _mm256_loadu_pd(p); }
NX_AVX2 __m256 vsplat(const float* p) { return _mm256_broadcast_ss(p); }
NX_AVX2 __m256d vsplat(const double* p) { return _mm256_broadcast_sd(p); }
NX_AVX2 __m256 vfma(__m256 a, __m256 b, __m256 c) { return _mm256_fmadd_ps(a, b, c); }
NX_AVX2 __m256d vfma(__m256d a, __m256d b, __m256d c) { return _mm256_fmadd_pd(a, b, c); }
NX_AVX2 void vstore(float* p, __m256 v) { _mm256_storeu_ps(p, v); }
NX_AVX2 void vstore(double* p, __m256d v) { _mm256_storeu_pd(p, v); }
#undef NX_AVX2

// The 6 x 2-vector tile in twelve named registers (an array of them would be spilled to
// the stack on every step).
template <class T> __attribute__((target("avx2,fma"))) void micro_avx2(int64_t kc, const T* a, const T* b, T* acc) {
  constexpr int64_t w = 32 / sizeof(T), nr = 2 * w;
  using V = decltype(vload(b));
  V z = V{}, c00 = z, c01 = z, c10 = z, c11 = z, c20 = z, c21 = z, c30 = z, c31 = z, c40 = z, c41 = z, c50 = z, c51 = z;
  for (int64_t p = 0; p < kc; ++p, a += 6, b += nr) {
    V b0 = vload(b), b1 = vload(b + w), ai = vsplat(a);
    c00 = vfma(ai, b0, c00), c01 = vfma(ai, b1, c01), ai = vsplat(a + 1);
    c10 = vfma(ai, b0, c10), c11 = vfma(ai, b1, c11), ai = vsplat(a + 2);
    c20 = vfma(ai, b0, c20), c21 = vfma(ai, b1, c21), ai = vsplat(a + 3);
    c30 = vfma(ai, b0, c30), c31 = vfma(ai, b1, c31), ai = vsplat(a + 4);
    c40 = vfma(ai, b0, c40), c41 = vfma(ai, b1, c41), ai = vsplat(a + 5);
    c50 = vfma(ai, b0, c50), c51 = vfma(ai, b1, c51);
  }
  V rows[12] = {c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51};
  for (int64_t k = 0; k < 12; ++k) vstore(acc + k * w, rows[k]);
}
#endif

template <class T> using Micro = void (*)(int64_t, const T*, const T*, T*);
template <class T> Micro<T> micro_kernel() {
#if defined(__x86_64__)
  static const bool avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  if (avx2) return micro_avx2<T>;
#endif
  return micro_portable<T>;
}

// Packs rows [i0, i0 + mc) x cols [p0, p0 + kc) of A into MR-row slivers (zero-padded).
template <class T> void pack_a(const T* a, int64_t row, int64_t col, int64_t i0, int64_t mc, int64_t p0, int64_t kc, T* out) {
  constexpr int64_t mr = Tile<T>::mr;
  for (int64_t s = 0; s < mc; s += mr)
    for (int64_t p = 0; p < kc; ++p)
      for (int64_t i = 0; i < mr; ++i)
        *out++ = s + i < mc ? a[(i0 + s + i) * row + (p0 + p) * col] : T(0);
}

// Packs rows [p0, p0 + kc) x cols [j0, j0 + nc) of B into NR-column slivers (zero-padded).
template <class T> void pack_b(const T* b, int64_t row, int64_t col, int64_t p0, int64_t kc, int64_t j0, int64_t nc, T* out) {
  constexpr int64_t nr = Tile<T>::nr;
  for (int64_t s = 0; s < nc; s += nr)
    for (int64_t p = 0; p < kc; ++p)
      for (int64_t j = 0; j < nr; ++j)
        *out++ = s + j < nc ? b[(p0 + p) * row + (j0 + s + j) * col] : T(0);
}

}  // namespace

template <class T>
void gemm(int64_t batches, int64_t m, int64_t n, int64_t k, Strided<T> a, Strided<T> b, T* c, int threads) {
  using Blocks = Tile<T>;
  constexpr int64_t mr = Blocks::mr, nr = Blocks::nr;
  Micro<T> micro = micro_kernel<T>();
  if (k == 0) {
    std::fill(c, c + batches * m * n, T(0));
    return;
  }
  std::vector<T> packed_b(static_cast<size_t>(((std::min(n, Blocks::nc) + nr - 1) / nr) * nr * std::min(k, Blocks::kc)));
  int64_t row_blocks = (m + Blocks::mc - 1) / Blocks::mc;
  for (int64_t bt = 0; bt < batches; ++bt) {
    const T* ab = a.data + bt * a.batch;
    const T* bb = b.data + bt * b.batch;
    T* cb = c + bt * m * n;
    for (int64_t j0 = 0; j0 < n; j0 += Blocks::nc) {
      int64_t nc = std::min(Blocks::nc, n - j0);
      for (int64_t p0 = 0; p0 < k; p0 += Blocks::kc) {
        int64_t kc = std::min(Blocks::kc, k - p0);
        parallel_for((nc + nr - 1) / nr, 1, threads, [&](int64_t first, int64_t last) {
          int64_t js = first * nr;
          pack_b(bb, b.row, b.col, p0, kc, j0 + js, std::min(nc - js, (last - first) * nr), packed_b.data() + js * kc);
        }, 1);
        // Tasks of a block of rows by a run of B's slivers, at least 8 of them so that
        // both cores stay busy on short matrices; each task packs its own A block.
        int64_t slivers = (nc + nr - 1) / nr;
        int64_t runs = std::min(slivers, std::max<int64_t>(1, (8 + row_blocks - 1) / row_blocks));
        parallel_for(row_blocks * runs, 1, threads, [&](int64_t first, int64_t last) {
          std::vector<T> packed_a(static_cast<size_t>(((Blocks::mc + mr - 1) / mr) * mr * kc));
          T acc[mr * nr];
          for (int64_t task = first; task < last; ++task) {
            int64_t blk = task / runs, run = task % runs;
            int64_t i0 = blk * Blocks::mc, mc = std::min(Blocks::mc, m - i0);
            if (task == first || run == 0) pack_a(ab, a.row, a.col, i0, mc, p0, kc, packed_a.data());
            for (int64_t js = slivers * run / runs * nr; js < std::min(nc, slivers * (run + 1) / runs * nr); js += nr)
              for (int64_t is = 0; is < mc; is += mr) {
                micro(kc, packed_a.data() + is * kc, packed_b.data() + js * kc, acc);
                int64_t rows = std::min(mr, mc - is), cols = std::min(nr, nc - js);
                for (int64_t i = 0; i < rows; ++i) {
                  T* out = cb + (i0 + is + i) * n + j0 + js;
                  const T* from = acc + i * nr;
                  if (p0 == 0) std::copy(from, from + cols, out);
                  else
                    for (int64_t j = 0; j < cols; ++j) out[j] += from[j];
                }
              }
          }
        }, 1);
      }
    }
  }
}

template void gemm<float>(int64_t, int64_t, int64_t, int64_t, Strided<float>, Strided<float>, float*, int);
template void gemm<double>(int64_t, int64_t, int64_t, int64_t, Strided<double>, Strided<double>, double*, int);

}  // namespace nx::llvm_backend
