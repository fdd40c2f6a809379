// nx::random against JAX golden values (tests/golden/gen_linalg_random.py): keys, split,
// fold_in, bits and uniform bit for bit, randint/bernoulli/shuffle exactly, normal to an
// ulp or so; plus determinism under jit, distribution sanity, empty shapes and errors.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <numeric>
#include <set>
#include <string>

#include "nx/nx.hpp"
#include "test_support.hpp"

namespace {

using nx_test::expect_error;
using nx_test::expect_op_error;
using nx_test::kInf;
using nx_test::kNaN;

using G = nx_test::GoldenArray;
#include "golden/linalg_random/random_cases.inc"

namespace r = nx::random;

template <class T> std::vector<T> bits_of(const nx::Tensor& t, nx::DType as) {
  return nx::bitcast(t, as).to_vector<T>();
}

nx::Tensor u32_key(const std::vector<uint32_t>& k) { return nx::from_vector(k, {2}); }

TEST(Random, KeyFromSeed) {
  EXPECT_EQ(r::key(0).to_vector<uint32_t>(), key_0);
  EXPECT_EQ(r::key(42).to_vector<uint32_t>(), key_42);
  EXPECT_EQ(r::key((int64_t{1} << 40) + 5).to_vector<uint32_t>(), key_big);
  EXPECT_EQ(r::key(-1).to_vector<uint32_t>(), key_neg1);  // as JAX with jax_enable_x64
  EXPECT_EQ(r::key(0).dtype(), nx::u32);
  EXPECT_EQ(r::key(0).shape(), nx::Shape({2}));
  // A tensor seed: i64 as above; a 32-bit seed has no high word (as JAX without x64).
  EXPECT_EQ(r::key(nx::scalar(42, nx::i64)).to_vector<uint32_t>(), key_42);
  EXPECT_EQ(r::key(nx::scalar(-1, nx::i32)).to_vector<uint32_t>(), (std::vector<uint32_t>{0u, 4294967295u}));
}

TEST(Random, SplitAndFoldIn) {
  EXPECT_EQ(r::split(r::key(0), 3).to_vector<uint32_t>(), split_0_3);
  EXPECT_EQ(r::split(r::key(0), 3).shape(), nx::Shape({3, 2}));
  EXPECT_EQ(r::split(r::key(42)).to_vector<uint32_t>(), split_42);
  EXPECT_EQ(r::fold_in(r::key(0), 7).to_vector<uint32_t>(), fold_0_7);
  EXPECT_EQ(r::fold_in(r::key(42), nx::scalar(4294967295.0, nx::u32)).to_vector<uint32_t>(), fold_42_max);
  // The ops-composed threefry of fold_in agrees with the RandomBits kernel of split.
  auto keys = r::split(r::key(9), 5).to_vector<uint32_t>();
  auto k3 = r::fold_in(r::key(9), 3).to_vector<uint32_t>();
  EXPECT_EQ(k3, (std::vector<uint32_t>{keys[6], keys[7]}));
  EXPECT_EQ(r::split(r::key(0), 0).shape(), nx::Shape({0, 2}));
}

TEST(Random, BitsMatchJax) {
  EXPECT_EQ(r::bits(r::key(0), {5}).to_vector<uint32_t>(), bits_0_5);
  auto b = r::bits(u32_key(key_42), {2, 3});
  EXPECT_EQ(b.shape(), nx::Shape({2, 3}));
  EXPECT_EQ(b.to_vector<uint32_t>(), bits_42_2x3);
}

TEST(Random, UniformF32BitwiseAsJax) {
  EXPECT_EQ(bits_of<uint32_t>(r::uniform(r::key(0), {8}), nx::u32), uniform_0_f32);
  auto u = r::uniform(r::key(42), {2, 3}, {.min = -2.0, .max = 3.0});
  EXPECT_EQ(u.dtype(), nx::f32);
  EXPECT_EQ(bits_of<uint32_t>(u, nx::u32), uniform_42_f32_range);
  auto v = r::uniform(r::key(7), {2, 3}, {.min = nx::tensor({0.0, 10.0, -1.0}), .max = nx::tensor({1.0, 20.0, 1.0})});
  EXPECT_EQ(bits_of<uint32_t>(v, nx::u32), uniform_7_f32_vec);
}

TEST(Random, UniformOtherFloatsAsJax) {
  auto d = r::uniform(r::key(0), {6}, {.dtype = nx::f64});
  EXPECT_EQ(d.dtype(), nx::f64);
  EXPECT_EQ(bits_of<int64_t>(d, nx::i64), std::vector<int64_t>(uniform_0_f64.begin(), uniform_0_f64.end()));
  // 16-bit floats: compare the bit patterns through f32 (exact conversions).
  auto half_bits = [](const nx::Tensor& t) {
    std::vector<uint16_t> out;
    for (float f : nx::as_type(t, nx::f32).to_vector<float>()) {
      if (t.dtype() == nx::f16) out.push_back(nx::float16_t(f).bits);
      else out.push_back(nx::bfloat16_t(f).bits);
    }
    return out;
  };
  EXPECT_EQ(half_bits(r::uniform(r::key(0), {6}, {.dtype = nx::f16})), uniform_0_f16);
  EXPECT_EQ(half_bits(r::uniform(r::key(0), {6}, {.dtype = nx::bf16})), uniform_0_bf16);
  // 16-bit floats scale and shift with a rounding per op, as XLA.
  EXPECT_EQ(half_bits(r::uniform(r::key(42), {2, 3}, {.dtype = nx::f16, .min = -2.0, .max = 3.0})),
            uniform_42_f16_range);
  EXPECT_EQ(half_bits(r::uniform(r::key(42), {2, 3}, {.dtype = nx::bf16, .min = -2.0, .max = 3.0})),
            uniform_42_bf16_range);
  // f64 with bounds: XLA's fused multiply-add rounds once, nx twice (a few ulps).
  auto dr = r::uniform(r::key(42), {2, 3}, {.dtype = nx::f64, .min = -2.0, .max = 3.0}).to_vector<double>();
  for (size_t i = 0; i < dr.size(); ++i) EXPECT_NEAR(dr[i], uniform_42_f64_range.data[i], 4e-15) << i;
}

TEST(Random, NormalCloseToJax) {
  auto n = r::normal(r::key(0), {8}).to_vector<float>();
  for (size_t i = 0; i < n.size(); ++i) EXPECT_NEAR(n[i], normal_0_f32.data[i], 4e-7 * (1 + std::fabs(n[i]))) << i;
  auto d = r::normal(r::key(42), {2, 3}, {.dtype = nx::f64});
  EXPECT_EQ(d.shape(), nx::Shape({2, 3}));
  auto dv = d.to_vector<double>();
  for (size_t i = 0; i < dv.size(); ++i) EXPECT_NEAR(dv[i], normal_42_f64.data[i], 1e-13) << i;
  // mean + stddev * z
  auto s = r::normal(r::key(0), {8}, {.mean = 3.0, .stddev = 2.0}).to_vector<float>();
  for (size_t i = 0; i < s.size(); ++i) EXPECT_FLOAT_EQ(s[i], 3.0f + 2.0f * n[i]);
}

TEST(Random, RandintAsJax) {
  auto i32 = [](const nx::Tensor& t) { return nx::as_type(t, nx::i32).to_vector<int32_t>(); };
  auto a = r::randint(r::key(0), {10}, 0, 10, {.dtype = nx::i32});
  EXPECT_EQ(a.dtype(), nx::i32);
  EXPECT_EQ(i32(a), randint_0_i32);
  EXPECT_EQ(i32(r::randint(r::key(42), {2, 4}, -5, 5, {.dtype = nx::i32})), randint_42_i32_neg);
  auto lo = nx::tensor({0, 100, -7}), hi = nx::tensor({3, 1000, -7});
  EXPECT_EQ(i32(r::randint(r::key(1), {2, 3}, lo, hi, {.dtype = nx::i32})), randint_1_i32_vec);
  EXPECT_EQ(i32(r::randint(r::key(2), {6}, INT32_MIN, INT32_MAX, {.dtype = nx::i32})), randint_2_i32_wide);
  auto u8 = r::randint(r::key(3), {8}, 0, 256, {.dtype = nx::u8});
  EXPECT_EQ(u8.dtype(), nx::u8);
  EXPECT_EQ(i32(u8), randint_3_u8);
  auto u32 = r::randint(r::key(4), {6}, 5, int64_t{4294967293}, {.dtype = nx::u32});
  EXPECT_EQ(nx::as_type(u32, nx::i64).to_vector<int64_t>(), randint_4_u32);
  // i64 (the default) as JAX with jax_enable_x64: u64 arithmetic emulated on i64.
  auto d = r::randint(r::key(0), {10}, 0, 10);
  EXPECT_EQ(d.dtype(), nx::i64);
  EXPECT_EQ(d.to_vector<int64_t>(), randint_0_i64);
  EXPECT_EQ(r::randint(r::key(5), {6}, -(int64_t{1} << 40), int64_t{1} << 50).to_vector<int64_t>(), randint_5_i64_big);
  constexpr int64_t kMin = std::numeric_limits<int64_t>::min(), kMax = std::numeric_limits<int64_t>::max();
  EXPECT_EQ(r::randint(r::key(6), {6}, kMin, kMax).to_vector<int64_t>(), randint_6_i64_full);
  EXPECT_EQ(r::randint(r::key(8), {6}, -3, kMax).to_vector<int64_t>(), randint_8_i64_top);
}

TEST(Random, BernoulliAsJax) {
  auto b = r::bernoulli(r::key(3), 0.3, {10});
  EXPECT_EQ(b.dtype(), nx::boolean);
  EXPECT_EQ(nx::as_type(b, nx::i32).to_vector<int32_t>(), bernoulli_3);
  auto v = r::bernoulli(r::key(4), nx::tensor({0.1, 0.5, 0.9}), {2, 3});
  EXPECT_EQ(nx::as_type(v, nx::i32).to_vector<int32_t>(), bernoulli_4_vec);
  EXPECT_EQ(r::bernoulli(r::key(4), nx::tensor({0.1, 0.5, 0.9})).shape(), nx::Shape({3}));
}

TEST(Random, ShuffleAsJaxPermutation) {
  EXPECT_EQ(r::shuffle(r::key(0), nx::arange(10)).to_vector<int64_t>(), perm_0_10);
  auto x = nx::reshape(nx::arange(12), {3, 4});
  EXPECT_EQ(r::shuffle(r::key(1), x, {.axis = 1}).to_vector<int64_t>(), perm_1_axis1);
  EXPECT_EQ(r::shuffle(r::key(1), x, {.axis = 1, .independent = true}).to_vector<int64_t>(), perm_1_axis1_indep);
  EXPECT_EQ(r::shuffle(r::key(2), x).to_vector<int64_t>(), perm_2_axis0);
  // 2000 elements take two sort rounds.
  EXPECT_EQ(r::shuffle(r::key(5), nx::arange(2000)).to_vector<int64_t>(), perm_5_2000);
  auto f = r::shuffle(r::key(0), nx::as_type(nx::arange(10), nx::f32));
  EXPECT_EQ(f.dtype(), nx::f32);
  EXPECT_EQ(nx::as_type(f, nx::i64).to_vector<int64_t>(), perm_0_10);
}

TEST(Random, SameKeySameNumbersSplitKeysDiffer) {
  auto k = r::key(123);
  EXPECT_EQ(r::uniform(k, {100}).to_vector<float>(), r::uniform(k, {100}).to_vector<float>());
  auto ks = r::split(k, 2);
  auto k1 = nx::reshape(nx::slice(ks, {0, 0}, {1, 2}), {2}), k2 = nx::reshape(nx::slice(ks, {1, 0}, {1, 2}), {2});
  auto a = r::uniform(k1, {100}).to_vector<float>(), b = r::uniform(k2, {100}).to_vector<float>();
  int same = 0;
  for (size_t i = 0; i < a.size(); ++i) same += a[i] == b[i];
  EXPECT_LT(same, 3);
  EXPECT_NE(r::uniform(k, {100}).to_vector<float>(), a);
  // A prefix of a larger draw is not the same draw (counters depend only on position).
  auto big = r::bits(k, {6}).to_vector<uint32_t>(), small = r::bits(k, {3}).to_vector<uint32_t>();
  EXPECT_TRUE(std::equal(small.begin(), small.end(), big.begin()));
}

TEST(Random, JitGivesTheEagerNumbers) {
  auto f = nx::jit([](const nx::Tensor& key) {
    auto ks = r::split(key, 3);
    auto k0 = nx::reshape(nx::slice(ks, {0, 0}, {1, 2}), {2});
    auto k1 = nx::reshape(nx::slice(ks, {1, 0}, {1, 2}), {2});
    return r::uniform(k0, {4, 5}) + nx::as_type(r::randint(k1, {4, 5}, 0, 7), nx::f32) +
           r::normal(r::fold_in(key, 11), {4, 5});
  });
  auto key = r::key(77);
  auto ks = r::split(key, 3);
  auto k0 = nx::reshape(nx::slice(ks, {0, 0}, {1, 2}), {2});
  auto k1 = nx::reshape(nx::slice(ks, {1, 0}, {1, 2}), {2});
  auto eager = r::uniform(k0, {4, 5}) + nx::as_type(r::randint(k1, {4, 5}, 0, 7), nx::f32) +
               r::normal(r::fold_in(key, 11), {4, 5});
  EXPECT_EQ(f(key).to_vector<float>(), eager.to_vector<float>());
}

double mean_of(const std::vector<double>& v) { return std::accumulate(v.begin(), v.end(), 0.0) / static_cast<double>(v.size()); }
double var_of(const std::vector<double>& v) {
  double m = mean_of(v), s = 0;
  for (double x : v) s += (x - m) * (x - m);
  return s / static_cast<double>(v.size());
}

TEST(Random, DistributionSanity100k) {
  constexpr int64_t n = 100000;
  // Bounds: 6 standard errors of the estimate.
  auto u = r::uniform(r::key(1), {n}, {.dtype = nx::f64, .min = -1.0, .max = 3.0}).to_vector<double>();
  EXPECT_NEAR(mean_of(u), 1.0, 6 * std::sqrt(16.0 / 12 / n));
  EXPECT_NEAR(var_of(u), 16.0 / 12, 0.02);
  EXPECT_GE(*std::min_element(u.begin(), u.end()), -1.0);
  EXPECT_LT(*std::max_element(u.begin(), u.end()), 3.0);

  auto z = r::normal(r::key(2), {n}, {.mean = 5.0, .stddev = 2.0}).to_vector<double>();
  EXPECT_NEAR(mean_of(z), 5.0, 6 * 2.0 / std::sqrt(n));
  EXPECT_NEAR(var_of(z), 4.0, 0.12);
  int64_t within1 = std::count_if(z.begin(), z.end(), [](double x) { return std::fabs(x - 5) < 2; });
  EXPECT_NEAR(static_cast<double>(within1) / n, 0.6827, 0.01);

  auto k = nx::as_type(r::randint(r::key(3), {n}, -3, 4), nx::f64).to_vector<double>();
  EXPECT_NEAR(mean_of(k), 0.0, 6 * 2.0 / std::sqrt(n));
  EXPECT_NEAR(var_of(k), 4.0, 0.1);  // uniform on 7 integers: (7^2 - 1) / 12
  std::set<double> seen(k.begin(), k.end());
  EXPECT_EQ(seen, (std::set<double>{-3, -2, -1, 0, 1, 2, 3}));

  auto b = nx::as_type(r::bernoulli(r::key(4), 0.25, {n}), nx::f64).to_vector<double>();
  EXPECT_NEAR(mean_of(b), 0.25, 6 * std::sqrt(0.25 * 0.75 / n));

  for (nx::DType dt : {nx::f16, nx::bf16}) {
    auto h = nx::as_type(r::uniform(r::key(5), {n}, {.dtype = dt}), nx::f64).to_vector<double>();
    EXPECT_NEAR(mean_of(h), 0.5, 0.01) << nx::name(dt);
    EXPECT_LT(*std::max_element(h.begin(), h.end()), 1.0);
  }
}

TEST(Random, ShuffleIsAPermutation) {
  auto s = r::shuffle(r::key(8), nx::arange(1000)).to_vector<int64_t>();
  std::vector<int64_t> sorted = s;
  std::sort(sorted.begin(), sorted.end());
  std::vector<int64_t> want(1000);
  std::iota(want.begin(), want.end(), 0);
  EXPECT_EQ(sorted, want);
  EXPECT_NE(s, want);
  // Whole rows move together when not independent.
  auto x = nx::reshape(nx::arange(20), {5, 4});
  auto rows = r::shuffle(r::key(8), x).to_vector<int64_t>();
  for (int i = 0; i < 5; ++i)
    for (int j = 1; j < 4; ++j) EXPECT_EQ(rows[i * 4 + j], rows[i * 4] + j);
}

TEST(Random, ZeroSizedShapes) {
  EXPECT_EQ(r::bits(r::key(0), {0}).shape(), nx::Shape({0}));
  EXPECT_EQ(r::uniform(r::key(0), {3, 0}).shape(), nx::Shape({3, 0}));
  EXPECT_EQ(r::uniform(r::key(0), {0}, {.dtype = nx::f64}).size(), 0);
  EXPECT_EQ(r::normal(r::key(0), {0, 2}).shape(), nx::Shape({0, 2}));
  EXPECT_EQ(r::randint(r::key(0), {0}, 0, 5).shape(), nx::Shape({0}));
  EXPECT_EQ(r::bernoulli(r::key(0), 0.5, {2, 0}).shape(), nx::Shape({2, 0}));
  EXPECT_EQ(r::shuffle(r::key(0), nx::zeros({0, 3})).shape(), nx::Shape({0, 3}));
  EXPECT_EQ(r::shuffle(r::key(0), nx::zeros({3, 0}), {.axis = 1, .independent = true}).shape(), nx::Shape({3, 0}));
  // Scalars: one value.
  EXPECT_EQ(r::uniform(r::key(0), {}).shape(), nx::Shape{});
  EXPECT_EQ(bits_of<uint32_t>(r::uniform(r::key(0), {}), nx::u32)[0], uniform_0_f32[0]);
}

TEST(Random, Errors) {
  expect_error<nx::DTypeError>([] { r::uniform(nx::tensor({1, 2}), {3}); }, "[uniform] expects a key");
  expect_error<nx::ShapeError>([] { r::bits(nx::zeros({3}, nx::u32), {3}); }, "[bits] expects a key");
  expect_error<nx::DTypeError>([] { r::uniform(r::key(0), {3}, {.dtype = nx::i32}); }, "[uniform] expects a float dtype");
  expect_error<nx::DTypeError>([] { r::normal(r::key(0), {3}, {.dtype = nx::u8}); }, "[normal] expects a float dtype");
  expect_error<nx::DTypeError>([] { r::randint(r::key(0), {3}, 0, 5, {.dtype = nx::f32}); }, "[randint] expects dtype");
  expect_error<nx::ShapeError>([] { r::uniform(r::key(0), {3}, {.min = nx::zeros({4})}); }, "[uniform]");
  expect_error<nx::ShapeError>([] { r::randint(r::key(0), {2}, nx::zeros({2, 2}, nx::i64), 5); }, "does not broadcast");
  expect_error<nx::ShapeError>([] { r::shuffle(r::key(0), nx::scalar(1)); }, "[shuffle] expects a tensor of rank >= 1");
  expect_error<nx::AxisError>([] { r::shuffle(r::key(0), nx::zeros({2}), {.axis = 1}); }, "[shuffle]");
  expect_error<nx::ValueError>([] { r::split(r::key(0), -1); }, "[split] num must be >= 0");
  expect_error<nx::DTypeError>([] { r::fold_in(r::key(0), 1.5); }, "[fold_in] expects an integer scalar");
}

}  // namespace
