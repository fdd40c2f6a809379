#include "ml/legacy_random.hpp"

#include <algorithm>
#include <numeric>

namespace nx::ml::detail {

uint64_t LegacyRandomState::interval(uint64_t max) {
  if (max == 0) return 0;
  uint64_t mask = max;
  for (int shift : {1, 2, 4, 8, 16, 32}) mask |= mask >> shift;
  if (max <= 0xffffffffu) {
    for (;;)
      if (uint64_t v = next_u32() & mask; v <= max) return v;
  }
  for (;;) {  // numpy's 64-bit draw: two words, high first
    uint64_t hi = next_u32();
    uint64_t v = ((hi << 32) | next_u32()) & mask;
    if (v <= max) return v;
  }
}

std::vector<int64_t> LegacyRandomState::permutation(int64_t n) {
  std::vector<int64_t> v(static_cast<size_t>(n));
  std::iota(v.begin(), v.end(), int64_t{0});
  shuffle(v);
  return v;
}

double LegacyRandomState::random_sample() {
  uint32_t a = next_u32() >> 5, b = next_u32() >> 6;
  return (a * 67108864.0 + b) / 9007199254740992.0;
}

std::vector<int64_t> LegacyRandomState::weighted_choice(const std::vector<double>& weights, int64_t size) {
  double total = 0;
  for (double w : weights) total += w;
  std::vector<double> cdf(weights.size());
  double run = 0;
  for (size_t i = 0; i < weights.size(); ++i) cdf[i] = run += weights[i] / total;
  for (double& c : cdf) c /= cdf.back();
  std::vector<int64_t> out(static_cast<size_t>(size));
  for (int64_t& o : out)  // searchsorted(side="right")
    o = std::upper_bound(cdf.begin(), cdf.end(), random_sample()) - cdf.begin();
  return out;
}

uint32_t legacy_seed(uint64_t seed, const std::string& who, Where where) {
  if (seed > 0xffffffffu) throw ValueError(who, "seed must be below 2^32 (numpy's legacy seeding)", where);
  return static_cast<uint32_t>(seed);
}

int64_t TreeRandom::rand_int(int64_t low, int64_t high) {
  if (state_ == 0) state_ = 1;
  state_ ^= state_ << 13;
  state_ ^= state_ >> 17;
  state_ ^= state_ << 5;
  uint32_t r = state_ % (static_cast<uint32_t>(0x7fffffff) + 1u);
  return low + static_cast<int64_t>(r % static_cast<uint64_t>(high - low));
}

}  // namespace nx::ml::detail
