// Max pooling over windows that tile the input (the llvm backend's own one-pass kernels,
// SSE2 for 2 x 2 in f32) against interp, bit for bit: ties go to the first maximum, a NaN
// beats every number, an init other than 0, odd widths (the vector loop's tail), other
// window shapes and ranks, f64.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include <nx/config.hpp>
#include <nx/nx.hpp>

#if NX_HAS_LLVM
namespace {

// Values with many ties (a few distinct levels), NaNs at some positions, large enough
// (> 16384 elements) that the llvm backend runs the node itself.
nx::Tensor ties_and_nans(const nx::Shape& shape, nx::DType dtype, bool nans) {
  nx::Tensor levels = nx::floor(nx::random::uniform(nx::random::key(3), shape, {.dtype = nx::f64}) * 4.0);
  if (nans) {
    nx::Tensor where = nx::random::uniform(nx::random::key(4), shape, {.dtype = nx::f64}) < 0.01;
    levels = nx::select(where, nx::full(shape, NAN, nx::f64), levels);
  }
  return nx::as_type(levels, dtype);
}

void expect_same(const std::vector<int64_t>& window, const nx::Shape& shape, nx::DType dtype, bool nans, double init) {
  auto f = [&](const nx::Tensor& x, const nx::Tensor& g) {
    nx::Tensor y = nx::window_max(x, window, {.strides = window});
    nx::Tensor s = nx::window_scatter_max(x, g, nx::scalar(init, dtype), window, {.strides = window});
    return std::vector{y, s};
  };
  nx::Tensor x = ties_and_nans(shape, dtype, nans);
  nx::Shape out = shape;
  for (int d = 0; d < out.rank(); ++d) out[d] /= window[d];
  nx::Tensor g = nx::as_type(nx::random::normal(nx::random::key(5), out), dtype);
  auto want = nx::jit(f, {.backend = "interp"})(x, g);
  auto got = nx::jit(f, {.backend = "llvm"})(x, g);
  for (size_t k = 0; k < 2; ++k) {
    auto a = got[k].to_vector<double>(), b = want[k].to_vector<double>();
    ASSERT_EQ(a.size(), b.size());
    for (size_t i = 0; i < a.size(); ++i)
      ASSERT_TRUE(a[i] == b[i] || (std::isnan(a[i]) && std::isnan(b[i]))) << "output " << k << " at " << i << ": " << a[i]
                                                                         << " vs " << b[i];
  }
}

}  // namespace

TEST(TiledPooling, TwoByTwoF32MatchesInterp) {
  expect_same({1, 1, 2, 2}, {8, 16, 28, 28}, nx::f32, false, 0.0);
  expect_same({1, 1, 2, 2}, {8, 16, 28, 28}, nx::f32, true, 0.0);
  expect_same({1, 1, 2, 2}, {4, 8, 30, 26}, nx::f32, true, 0.5);  // width 13: a scalar tail
}

TEST(TiledPooling, OtherWindowsRanksAndF64MatchInterp) {
  expect_same({1, 1, 2, 2}, {8, 16, 28, 28}, nx::f64, true, 0.0);
  expect_same({1, 1, 3, 3}, {4, 8, 27, 27}, nx::f32, true, 0.0);
  expect_same({1, 1, 2, 1}, {4, 8, 28, 28}, nx::f32, true, 0.0);
  expect_same({1, 1, 4}, {8, 16, 256}, nx::f32, true, 0.0);
  expect_same({1, 1, 2, 2, 2}, {2, 8, 16, 16, 16}, nx::f32, true, 0.0);
}
#endif
