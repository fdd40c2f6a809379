#include "fma_peak.hpp"

#include <chrono>
#include <cstdint>
#include <thread>
#include <vector>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace bench {
namespace {

#if defined(__x86_64__)
// Independent chains enough to cover a 4-cycle latency on 2 ports, all in registers
// (AVX2 has 16: 12 chains and the two constants; AVX-512 32). Returns a value so the
// work cannot be dropped.
__attribute__((target("avx2,fma"))) float fmas_256(int64_t rounds) {
  __m256 a = _mm256_set1_ps(0.999f), b = _mm256_set1_ps(1e-6f), c[12];
  for (int i = 0; i < 12; ++i) c[i] = _mm256_set1_ps(float(i));
  for (int64_t r = 0; r < rounds; ++r)
#pragma GCC unroll 12
    for (int i = 0; i < 12; ++i) c[i] = _mm256_fmadd_ps(c[i], a, b);
  __m256 s = c[0];
  for (int i = 1; i < 12; ++i) s = _mm256_add_ps(s, c[i]);
  return _mm256_cvtss_f32(s);
}
__attribute__((target("avx512f"))) float fmas_512(int64_t rounds) {
  __m512 a = _mm512_set1_ps(0.999f), b = _mm512_set1_ps(1e-6f), c[16];
  for (int i = 0; i < 16; ++i) c[i] = _mm512_set1_ps(float(i));
  for (int64_t r = 0; r < rounds; ++r)
#pragma GCC unroll 16
    for (int i = 0; i < 16; ++i) c[i] = _mm512_fmadd_ps(c[i], a, b);
  __m512 s = c[0];
  for (int i = 1; i < 16; ++i) s = _mm512_add_ps(s, c[i]);
  return _mm512_reduce_add_ps(s);
}
#endif

}  // namespace

double fma_peak_gflops(int bits, int threads, double seconds) {
#if defined(__x86_64__)
  if (bits == 512 && !__builtin_cpu_supports("avx512f")) return 0;
  if (bits == 256 && !(__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))) return 0;
  auto run = [bits](int64_t rounds) { return bits == 512 ? fmas_512(rounds) : fmas_256(rounds); };
  const double flops_per_round = (bits == 512 ? 16.0 : 12.0) * (bits / 32) * 2;
  // Calibrate one thread's rounds for the time asked, then time all threads at once.
  int64_t rounds = 1 << 16;
  for (;;) {
    auto t0 = std::chrono::steady_clock::now();
    volatile float sink = run(rounds);
    (void)sink;
    double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (s > seconds / 4) {
      rounds = static_cast<int64_t>(double(rounds) * seconds / s);
      break;
    }
    rounds *= 2;
  }
  std::vector<std::thread> pool;
  std::vector<float> out(static_cast<size_t>(threads));
  auto t0 = std::chrono::steady_clock::now();
  for (int t = 0; t < threads; ++t) pool.emplace_back([&, t] { out[static_cast<size_t>(t)] = run(rounds); });
  for (std::thread& t : pool) t.join();
  double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return flops_per_round * double(rounds) * threads / s / 1e9;
#else
  (void)bits, (void)threads, (void)seconds;
  return 0;
#endif
}

}  // namespace bench
