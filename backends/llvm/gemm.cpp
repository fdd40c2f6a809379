#include "gemm.hpp"

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdio>
#include <utility>
#include <cstdlib>
#include <thread>
#include <unistd.h>

#include "nx/dtype.hpp"
#include "nx/error.hpp"
#include "thread_pool.hpp"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace nx::llvm_backend {
namespace {

// C's MR x NR tile (row stride ldc) = (C if accumulate) + sum over p < kc of
// a[p][0..MR) x b[p][0..NR), from packed slivers: a holds MR values per p, b holds NR.
template <class T, int64_t MR, int64_t NR>
void micro_portable(int64_t kc, const T* a, const T* b, T* c, int64_t ldc, bool accumulate) {
  T t[MR][NR] = {};
  for (int64_t p = 0; p < kc; ++p)
    for (int64_t i = 0; i < MR; ++i)
      for (int64_t j = 0; j < NR; ++j) t[i][j] += a[p * MR + i] * b[p * NR + j];
  for (int64_t i = 0; i < MR; ++i)
    for (int64_t j = 0; j < NR; ++j) c[i * ldc + j] = accumulate ? c[i * ldc + j] + t[i][j] : t[i][j];
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

// The 6 x 2-vector tile in twelve named registers.
template <class T>
__attribute__((target("avx2,fma"))) void micro_avx2(int64_t kc, const T* a, const T* b, T* c, int64_t ldc, bool accumulate) {
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
  for (int64_t k = 0; k < 12; ++k) {
    T* to = c + (k / 2) * ldc + (k % 2) * w;
    vstore(to, accumulate ? rows[k] + vload(to) : rows[k]);
  }
}

#define NX_AVX512 __attribute__((target("avx512f"), always_inline)) inline
NX_AVX512 __m512 wload(const float* p) { return _mm512_loadu_ps(p); }
NX_AVX512 __m512d wload(const double* p) { return _mm512_loadu_pd(p); }
NX_AVX512 __m512 wsplat(const float* p) { return _mm512_set1_ps(*p); }
NX_AVX512 __m512d wsplat(const double* p) { return _mm512_set1_pd(*p); }
NX_AVX512 __m512 wfma(__m512 a, __m512 b, __m512 c) { return _mm512_fmadd_ps(a, b, c); }
NX_AVX512 __m512d wfma(__m512d a, __m512d b, __m512d c) { return _mm512_fmadd_pd(a, b, c); }
NX_AVX512 void wstore(float* p, __m512 v) { _mm512_storeu_ps(p, v); }
NX_AVX512 void wstore(double* p, __m512d v) { _mm512_storeu_pd(p, v); }
#undef NX_AVX512

// 14 rows x 2 vectors: 28 of the 32 registers accumulate, two hold B's row, and A's
// values are broadcast from memory. Fully unrolled, the tile stays in registers (the
// disassembly has no stack traffic in the loop).
template <class T>
__attribute__((target("avx512f"))) void micro_avx512(int64_t kc, const T* a, const T* b, T* c, int64_t ldc, bool accumulate) {
  constexpr int64_t w = 64 / sizeof(T), mr = 14;
  using V = decltype(wload(b));
  V t[mr][2];
#pragma GCC unroll 14
  for (int64_t i = 0; i < mr; ++i) t[i][0] = t[i][1] = V{};
  for (int64_t p = 0; p < kc; ++p, a += mr, b += 2 * w) {
    V b0 = wload(b), b1 = wload(b + w);
#pragma GCC unroll 14
    for (int64_t i = 0; i < mr; ++i) {
      V ai = wsplat(a + i);
      t[i][0] = wfma(ai, b0, t[i][0]);
      t[i][1] = wfma(ai, b1, t[i][1]);
    }
  }
#pragma GCC unroll 14
  for (int64_t i = 0; i < mr; ++i) {
    T* row = c + i * ldc;
    wstore(row, accumulate ? t[i][0] + wload(row) : t[i][0]);
    wstore(row + w, accumulate ? t[i][1] + wload(row + w) : t[i][1]);
  }
}
#endif

template <class T> using Micro = void (*)(int64_t, const T*, const T*, T*, int64_t, bool);
constexpr int64_t kMaxTile = 14 * 32;  // the largest MR x NR (AVX-512, f32)

template <class T> struct Kernel {
  const char* name;
  int64_t mr, nr;  // the register tile
  Micro<T> fn;
};

// Every kernel this build has, widest first (the same names for f32 and f64).
template <class T> const std::vector<Kernel<T>>& all_kernels() {
  constexpr int64_t lanes = 64 / sizeof(T);  // per 512-bit vector
  static const std::vector<Kernel<T>> kernels{
#if defined(__x86_64__)
      {"avx512", 14, 2 * lanes, micro_avx512<T>},
      {"avx2", 6, lanes, micro_avx2<T>},
#endif
      {"portable", 6, lanes / 2, micro_portable<T, 6, lanes / 2>}};
  return kernels;
}

bool cpu_runs(const std::string& name) {
#if defined(__x86_64__)
  if (name == "avx512") return __builtin_cpu_supports("avx512f");
  if (name == "avx2") return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#endif
  return name == "portable";
}

constexpr int kWidest = -1;

// The position of kernel `name` in all_kernels() ("" or "auto": kWidest).
int index_of(const std::string& name, Where where = Where::current()) {
  if (name.empty() || name == "auto") return kWidest;
  const auto& ks = all_kernels<float>();
  for (size_t i = 0; i < ks.size(); ++i)
    if (ks[i].name == name && cpu_runs(name)) return static_cast<int>(i);
  std::string runs;
  for (const std::string& n : gemm_kernels()) runs += (runs.empty() ? "" : ", ") + n;
  throw Error("gemm", "no micro-kernel '" + name + "' on this CPU (NX_GEMM or set_gemm_kernel); it runs: " + runs, where);
}

// The kernel in use: NX_GEMM's at start-up, then set_gemm_kernel's. NX_GEMM naming no
// kernel of this build makes every product throw; naming one this CPU lacks, the widest
// it runs is used, with a warning (which ctest's runs per kernel read as a skip).
std::atomic<int>& selected() {
  static std::atomic<int> s{[] {
    const char* e = std::getenv("NX_GEMM");
    if (!e) return kWidest;
    const auto& ks = all_kernels<float>();
    bool built = std::any_of(ks.begin(), ks.end(), [&](const Kernel<float>& k) { return k.name == std::string(e); });
    if (built && !cpu_runs(e)) {
      std::fprintf(stderr, "nx: NX_GEMM=%s names a micro-kernel this CPU lacks; using the widest it runs\n", e);
      return kWidest;
    }
    return index_of(e);
  }()};
  return s;
}

template <class T> const Kernel<T>& kernel_in_use() {
  const auto& ks = all_kernels<T>();
  int i = selected();
  if (i != kWidest) return ks[static_cast<size_t>(i)];
  for (const Kernel<T>& k : ks)
    if (cpu_runs(k.name)) return k;
  return ks.back();
}

// Cache blocks from the L2 size the system reports (glibc reads CPUID), in the
// proportions a sweep found best on AVX-512 with a 2 MiB L2 (kc 512, mc 126; blocks
// sized to L1 and half of L2 were 15% slower: docs/PERFORMANCE.md, "Own GEMM"): a
// packed B sliver (kc x nr) is 1/32 of L2, a depth block of the packed A (mc x kc,
// shared by the threads) 1/8, and one of the packed B panel (kc x nc) at most a quarter
// of L3. As many depth blocks as fit in kPackBytes are packed at once (`group`).
constexpr int64_t kPackBytes = int64_t{8} << 20;
struct Blocks {
  int64_t kc, mc, nc, group;
};
// The size of cache level 2 or 3 from glibc (0 in some VMs, absent elsewhere: `fallback`).
int64_t cache_bytes(int level, int64_t fallback) {
#if defined(_SC_LEVEL2_CACHE_SIZE) && defined(_SC_LEVEL3_CACHE_SIZE)
  if (long v = sysconf(level == 2 ? _SC_LEVEL2_CACHE_SIZE : _SC_LEVEL3_CACHE_SIZE); v > 0) return v;
#endif
  return fallback;
}
template <class T> Blocks blocks_for(const Kernel<T>& kern, int64_t m, int64_t n, int64_t k) {
  static const int64_t l2 = cache_bytes(2, int64_t{1} << 20), l3 = cache_bytes(3, int64_t{8} << 20);
  constexpr int64_t t = sizeof(T);
  Blocks b;
  // The deepest block that fits, then k split evenly (no thin last block).
  int64_t deepest = std::clamp<int64_t>(l2 / 32 / (kern.nr * t), 64, 1024), depths = (k + deepest - 1) / deepest;
  b.kc = (k + depths - 1) / depths;
  b.mc = std::max<int64_t>(kern.mr, std::min<int64_t>(l2 / 8 / (b.kc * t), 4096) / kern.mr * kern.mr);
  b.nc = std::max<int64_t>(kern.nr, std::min<int64_t>(std::min(l3 / 4, kPackBytes / 2) / (b.kc * t), 4096) / kern.nr * kern.nr);
  int64_t mc = std::min(m, b.mc) + kern.mr, nc = std::min(n, b.nc) + kern.nr;  // rounded up, at most
  b.group = std::clamp<int64_t>(kPackBytes / ((mc + nc) * b.kc * t), 1, depths);
  return b;
}

// A buffer of at least `count` values for this thread's products (not zeroed, 64-byte
// aligned: a vector load across two cache lines costs two), kept between calls so that
// a product pays no allocation and no page faults.
template <class T> T* scratch(size_t count) {
  thread_local std::vector<T> buffer;
  constexpr size_t pad = 64 / sizeof(T);
  if (buffer.size() < count + pad) {
    buffer = {};
    buffer.resize(count + pad);
  }
  auto at = reinterpret_cast<uintptr_t>(buffer.data());
  return reinterpret_cast<T*>((at + 63) / 64 * 64);
}

// `count` values widened to T (a copy when the types agree).
template <class T, class In> void widen(const In* from, int64_t count, T* to) {
  if constexpr (std::is_same_v<T, In>) std::copy_n(from, count, to);
  else
    for (int64_t i = 0; i < count; ++i) to[i] = static_cast<T>(static_cast<float>(from[i]));
}
template <class T, class In> T widened(const In& v) {
  if constexpr (std::is_same_v<T, In>) return v;
  else return static_cast<T>(static_cast<float>(v));
}

// Packs A's rows [i0, i0 + rows) (rows <= mr) x columns [p0, p0 + kc) into one sliver:
// mr values per p, zero past `rows`. Contiguous runs of A are read as runs.
template <class T, class In>
void pack_a(const In* a, int64_t row, int64_t col, int64_t i0, int64_t rows, int64_t p0, int64_t kc, int64_t mr, T* out) {
  if (rows < mr) std::fill(out, out + kc * mr, T(0));
  if (row == 1) {  // A stored transposed: a sliver's column is contiguous
    for (int64_t p = 0; p < kc; ++p) widen(a + i0 + (p0 + p) * col, rows, out + p * mr);
    return;
  }
  for (int64_t i = 0; i < rows; ++i) {
    const In* from = a + (i0 + i) * row + p0 * col;
    if (col == 1)
      for (int64_t p = 0; p < kc; ++p) out[p * mr + i] = widened<T>(from[p]);
    else
      for (int64_t p = 0; p < kc; ++p) out[p * mr + i] = widened<T>(from[p * col]);
  }
}

// Packs B's rows [p0, p0 + kc) x columns [j0, j0 + cols) (cols <= nr) into one sliver:
// nr values per p, zero past `cols`.
template <class T, class In>
void pack_b(const In* b, int64_t row, int64_t col, int64_t p0, int64_t kc, int64_t j0, int64_t cols, int64_t nr, T* out) {
  if (cols < nr) std::fill(out, out + kc * nr, T(0));
  if (col == 1) {  // a sliver's row is contiguous
    for (int64_t p = 0; p < kc; ++p) widen(b + (p0 + p) * row + j0, cols, out + p * nr);
    return;
  }
  // A transposed B (row == 1) is transposed 16 rows of the sliver at a time, so the
  // lines being written stay in L1 while every column is read.
  for (int64_t q0 = 0; q0 < kc; q0 += 16)
    for (int64_t j = 0; j < cols; ++j) {
      const In* from = b + (j0 + j) * col + (p0 + q0) * row;
      for (int64_t p = 0; p < std::min<int64_t>(16, kc - q0); ++p) out[(q0 + p) * nr + j] = widened<T>(from[p * row]);
    }
}

}  // namespace

std::vector<std::string> gemm_kernels() {
  std::vector<std::string> names;
  for (const Kernel<float>& k : all_kernels<float>())
    if (cpu_runs(k.name)) names.push_back(k.name);
  return names;
}

std::string gemm_kernel() { return kernel_in_use<float>().name; }

void set_gemm_kernel(const std::string& name, Where where) { selected() = index_of(name, where); }

template <class T, class In>
void gemm(int64_t batches, int64_t m, int64_t n, int64_t k, Strided<In> a, Strided<In> b, T* c, int threads) {
  const Kernel<T>& kern = kernel_in_use<T>();
  const int64_t mr = kern.mr, nr = kern.nr;
  if (k == 0) {
    std::fill(c, c + batches * m * n, T(0));
    return;
  }
  const Blocks blk = blocks_for(kern, std::min(m, int64_t{4096}), std::min(n, int64_t{4096}), k);
  const int64_t workers = threads > 0 ? threads : std::max<int64_t>(1, std::thread::hardware_concurrency());
  const int64_t depths = (k + blk.kc - 1) / blk.kc;
  auto depth = [&](int64_t d) { return std::pair{d * blk.kc, std::min(blk.kc, k - d * blk.kc)}; };  // (p0, kc)
  const int64_t a_cap = (std::min(m, blk.mc) + mr - 1) / mr * mr, b_cap = (std::min(n, blk.nc) + nr - 1) / nr * nr;
  T* packed_a = scratch<T>(static_cast<size_t>((a_cap + b_cap) * std::min(k, blk.group * blk.kc)));
  T* packed_b = packed_a + a_cap * std::min(k, blk.group * blk.kc);
  for (int64_t bt = 0; bt < batches; ++bt) {
    const In* ab = a.data + bt * a.batch;
    const In* bb = b.data + bt * b.batch;
    T* cb = c + bt * m * n;
    // Groups of depth blocks, packed at once: A's rows [i0, i0 + mc) and B's columns
    // [j0, j0 + nc), depth block after depth block (each a run of slivers). Small products
    // are one group: one packing pass and one compute pass.
    for (int64_t g0 = 0; g0 < depths; g0 += blk.group) {
      const int64_t g1 = std::min(depths, g0 + blk.group), q0 = depth(g0).first;
      for (int64_t j0 = 0; j0 < n; j0 += blk.nc) {
        const int64_t nc = std::min(blk.nc, n - j0), slivers_b = (nc + nr - 1) / nr;
        for (int64_t i0 = 0; i0 < m; i0 += blk.mc) {
          const int64_t mc = std::min(blk.mc, m - i0), slivers_a = (mc + mr - 1) / mr;
          // One parallel pass packs A's block and, for the first block, B's panel.
          const int64_t a_tasks = (g1 - g0) * slivers_a, b_tasks = i0 == 0 ? (g1 - g0) * slivers_b : 0;
          parallel_for(a_tasks + b_tasks, 1, threads, [&](int64_t first, int64_t last) {
            for (int64_t t = first; t < last; ++t) {
              const bool is_a = t < a_tasks;
              const int64_t u = is_a ? t : t - a_tasks, slivers = is_a ? slivers_a : slivers_b;
              const auto [p0, kc] = depth(g0 + u / slivers);
              const int64_t s = u % slivers;
              if (is_a)
                pack_a(ab, a.row, a.col, i0 + s * mr, std::min(mr, mc - s * mr), p0, kc, mr,
                       packed_a + (p0 - q0) * slivers_a * mr + s * mr * kc);
              else
                pack_b(bb, b.row, b.col, p0, kc, j0 + s * nr, std::min(nr, nc - s * nr), nr,
                       packed_b + (p0 - q0) * slivers_b * nr + s * nr * kc);
            }
          }, 1);
          // Tasks of a run of B's slivers (each stays in L1 while A's slivers stream past
          // it from L2) by a range of A's slivers, four per worker where the shape allows;
          // a task owns its tiles of C.
          const int64_t want = 4 * workers, runs_b = std::min(slivers_b, want);
          const int64_t runs_a = std::min(slivers_a, (want + runs_b - 1) / runs_b);
          parallel_for(runs_b * runs_a, 1, threads, [&](int64_t first, int64_t last) {
            T edge[kMaxTile];
            for (int64_t task = first; task < last; ++task) {
              const int64_t rb = task / runs_a, ra = task % runs_a;
              for (int64_t d = g0; d < g1; ++d) {
                const auto [p0, kc] = depth(d);
                const T *pa = packed_a + (p0 - q0) * slivers_a * mr, *pb = packed_b + (p0 - q0) * slivers_b * nr;
                for (int64_t sb = slivers_b * rb / runs_b; sb < slivers_b * (rb + 1) / runs_b; ++sb)
                  for (int64_t sa = slivers_a * ra / runs_a; sa < slivers_a * (ra + 1) / runs_a; ++sa) {
                    const int64_t is = sa * mr, js = sb * nr;
                    const int64_t rows = std::min(mr, mc - is), cols = std::min(nr, nc - js);
                    T* out = cb + (i0 + is) * n + j0 + js;
                    if (rows == mr && cols == nr) {
                      kern.fn(kc, pa + is * kc, pb + js * kc, out, n, p0 > 0);
                      continue;
                    }
                    kern.fn(kc, pa + is * kc, pb + js * kc, edge, nr, false);
                    for (int64_t i = 0; i < rows; ++i)
                      for (int64_t j = 0; j < cols; ++j) out[i * n + j] = (p0 > 0 ? out[i * n + j] : T(0)) + edge[i * nr + j];
                  }
              }
            }
          }, 1);
        }
      }
    }
  }
}

template void gemm<float>(int64_t, int64_t, int64_t, int64_t, Strided<float>, Strided<float>, float*, int);
template void gemm<double>(int64_t, int64_t, int64_t, int64_t, Strided<double>, Strided<double>, double*, int);
template void gemm<float, bfloat16_t>(int64_t, int64_t, int64_t, int64_t, Strided<bfloat16_t>, Strided<bfloat16_t>, float*,
                                      int);
template void gemm<float, float16_t>(int64_t, int64_t, int64_t, int64_t, Strided<float16_t>, Strided<float16_t>, float*,
                                     int);

}  // namespace nx::llvm_backend
