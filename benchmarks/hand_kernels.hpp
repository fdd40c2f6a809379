// Hand-written C++ anchors for the llvm backend's benchmarks: what a performance-minded
// C++ programmer writes with AVX2/FMA intrinsics (and a portable loop elsewhere), on the
// caller's threads. Not part of nx++: they define the "hand-fused loop" of TARGETS.md.
#pragma once
#include <cstdint>

namespace hand {

bool has_avx2();
// y = tanh(a*x + b)*c + x with a rational tanh (Eigen's) and streaming stores, over [begin, end).
void tanh_chain(const float* x, float* y, int64_t begin, int64_t end, float a, float b, float c);
// Rows [begin, end) of cols: pass 1 the max, pass 2 exp(x - max) into y and its sum, then
// y *= 1/sum while the row is in cache.
void softmax_rows(const float* x, float* y, int64_t begin, int64_t end, int64_t cols);
// The sum of x[begin, end) with eight vector accumulators.
double sum(const float* x, int64_t begin, int64_t end);
// STREAM's triad a = b + s*c over [begin, end): the bandwidth anchor.
void triad(float* a, const float* b, const float* c, float s, int64_t begin, int64_t end);

}  // namespace hand
