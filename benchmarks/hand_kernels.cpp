#include "hand_kernels.hpp"

#include <immintrin.h>

#include <algorithm>
#include <cmath>

namespace hand {
namespace {

#define AVX2 __attribute__((target("avx2,fma")))

// Cephes' expf: 2^n * p(r) with r = x - n*ln2, about 1 ulp.
AVX2 __m256 exp8(__m256 x) {
  x = _mm256_min_ps(_mm256_max_ps(x, _mm256_set1_ps(-88.3762626647949f)), _mm256_set1_ps(88.3762626647949f));
  __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f)), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693359375f), x);
  r = _mm256_fnmadd_ps(n, _mm256_set1_ps(-2.12194440e-4f), r);
  __m256 p = _mm256_set1_ps(1.9875691500E-4f);
  for (float k : {1.3981999507E-3f, 8.3334519073E-3f, 4.1665795894E-2f, 1.6666665459E-1f, 5.0000001201E-1f})
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(k));
  p = _mm256_fmadd_ps(_mm256_mul_ps(p, r), r, _mm256_add_ps(r, _mm256_set1_ps(1.0f)));
  __m256i e = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
  return _mm256_mul_ps(p, _mm256_castsi256_ps(e));
}

// Eigen's rational tanh (the kernel compiler uses the same one).
AVX2 __m256 tanh8(__m256 x0) {
  __m256 x = _mm256_min_ps(_mm256_max_ps(x0, _mm256_set1_ps(-7.90531110763549805f)), _mm256_set1_ps(7.90531110763549805f));
  __m256 x2 = _mm256_mul_ps(x, x);
  __m256 p = _mm256_set1_ps(-2.76076847742355e-16f);
  for (float k : {2.00018790482477e-13f, -8.60467152213735e-11f, 5.12229709037114e-08f, 1.48572235717979e-05f,
                  6.37261928875436e-04f, 4.89352455891786e-03f})
    p = _mm256_fmadd_ps(p, x2, _mm256_set1_ps(k));
  p = _mm256_mul_ps(p, x);
  __m256 q = _mm256_set1_ps(1.19825839466702e-06f);
  for (float k : {1.18534705686654e-04f, 2.26843463243900e-03f, 4.89352518554385e-03f}) q = _mm256_fmadd_ps(q, x2, _mm256_set1_ps(k));
  __m256 small = _mm256_cmp_ps(_mm256_andnot_ps(_mm256_set1_ps(-0.0f), x0), _mm256_set1_ps(0.0004f), _CMP_LT_OQ);
  return _mm256_blendv_ps(_mm256_div_ps(p, q), x0, small);
}

AVX2 void tanh_chain_avx2(const float* x, float* y, int64_t begin, int64_t end, float a, float b, float c) {
  int64_t i = begin;
  for (; i < end && (reinterpret_cast<uintptr_t>(y + i) & 31); ++i) y[i] = std::tanh(x[i] * a + b) * c + x[i];
  __m256 va = _mm256_set1_ps(a), vb = _mm256_set1_ps(b), vc = _mm256_set1_ps(c);
  for (; i + 8 <= end; i += 8) {
    __m256 v = _mm256_loadu_ps(x + i);
    _mm256_stream_ps(y + i, _mm256_fmadd_ps(tanh8(_mm256_fmadd_ps(v, va, vb)), vc, v));
  }
  for (; i < end; ++i) y[i] = std::tanh(x[i] * a + b) * c + x[i];
  _mm_sfence();
}

AVX2 float hmax(__m256 v) {
  __m128 m = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  m = _mm_max_ps(m, _mm_movehl_ps(m, m));
  return std::max(_mm_cvtss_f32(m), _mm_cvtss_f32(_mm_shuffle_ps(m, m, 1)));
}
AVX2 float hsum(__m256 v) {
  __m128 m = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  m = _mm_add_ps(m, _mm_movehl_ps(m, m));
  return _mm_cvtss_f32(m) + _mm_cvtss_f32(_mm_shuffle_ps(m, m, 1));
}

AVX2 void softmax_avx2(const float* x, float* y, int64_t begin, int64_t end, int64_t cols) {
  for (int64_t r = begin; r < end; ++r) {
    const float* xr = x + r * cols;
    float* yr = y + r * cols;
    __m256 m0 = _mm256_set1_ps(-INFINITY), m1 = m0;
    int64_t j = 0;
    for (; j + 16 <= cols; j += 16)
      m0 = _mm256_max_ps(m0, _mm256_loadu_ps(xr + j)), m1 = _mm256_max_ps(m1, _mm256_loadu_ps(xr + j + 8));
    float m = hmax(_mm256_max_ps(m0, m1));
    for (; j < cols; ++j) m = std::max(m, xr[j]);
    __m256 vm = _mm256_set1_ps(m), s0 = _mm256_setzero_ps(), s1 = s0;
    for (j = 0; j + 16 <= cols; j += 16) {
      __m256 e0 = exp8(_mm256_sub_ps(_mm256_loadu_ps(xr + j), vm)), e1 = exp8(_mm256_sub_ps(_mm256_loadu_ps(xr + j + 8), vm));
      _mm256_storeu_ps(yr + j, e0);
      _mm256_storeu_ps(yr + j + 8, e1);
      s0 = _mm256_add_ps(s0, e0), s1 = _mm256_add_ps(s1, e1);
    }
    float s = hsum(_mm256_add_ps(s0, s1));
    for (; j < cols; ++j) s += (yr[j] = std::exp(xr[j] - m));
    __m256 inv = _mm256_set1_ps(1.0f / s);
    for (j = 0; j + 8 <= cols; j += 8) _mm256_storeu_ps(yr + j, _mm256_mul_ps(_mm256_loadu_ps(yr + j), inv));
    for (; j < cols; ++j) yr[j] *= 1.0f / s;
  }
}

AVX2 double sum_avx2(const float* x, int64_t begin, int64_t end) {
  __m256 a[8];
  for (__m256& v : a) v = _mm256_setzero_ps();
  int64_t i = begin;
  for (; i + 64 <= end; i += 64)
    for (int k = 0; k < 8; ++k) a[k] = _mm256_add_ps(a[k], _mm256_loadu_ps(x + i + 8 * k));
  for (int k = 1; k < 8; ++k) a[0] = _mm256_add_ps(a[0], a[k]);
  double s = hsum(a[0]);
  for (; i < end; ++i) s += x[i];
  return s;
}

}  // namespace

bool has_avx2() { return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"); }

void tanh_chain(const float* x, float* y, int64_t begin, int64_t end, float a, float b, float c) {
  if (has_avx2()) return tanh_chain_avx2(x, y, begin, end, a, b, c);
  for (int64_t i = begin; i < end; ++i) y[i] = std::tanh(x[i] * a + b) * c + x[i];
}

void softmax_rows(const float* x, float* y, int64_t begin, int64_t end, int64_t cols) {
  if (has_avx2()) return softmax_avx2(x, y, begin, end, cols);
  for (int64_t r = begin; r < end; ++r) {
    const float* xr = x + r * cols;
    float* yr = y + r * cols;
    float m = *std::max_element(xr, xr + cols), s = 0;
    for (int64_t j = 0; j < cols; ++j) s += (yr[j] = std::exp(xr[j] - m));
    for (int64_t j = 0; j < cols; ++j) yr[j] /= s;
  }
}

double sum(const float* x, int64_t begin, int64_t end) {
  if (has_avx2()) return sum_avx2(x, begin, end);
  double s = 0;
  for (int64_t i = begin; i < end; ++i) s += x[i];
  return s;
}

void triad(float* a, const float* b, const float* c, float s, int64_t begin, int64_t end) {
  for (int64_t i = begin; i < end; ++i) a[i] = b[i] + s * c[i];
}

}  // namespace hand
