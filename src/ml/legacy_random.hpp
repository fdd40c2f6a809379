// numpy's legacy RandomState (MT19937 seeded with one 32-bit integer), the stream behind
// scikit-learn's random_state=<int>: splits, folds, tree feature draws and forest bootstraps
// made from it equal scikit-learn's for the same seed. Host-side, not a tensor op.
#pragma once
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "nx/error.hpp"

namespace nx::ml::detail {

class LegacyRandomState {
 public:
  explicit LegacyRandomState(uint32_t seed) : mt_(seed) {}
  uint32_t next_u32() { return static_cast<uint32_t>(mt_()); }
  // Uniform in [0, max] by masked rejection, as numpy's random_interval and its bounded
  // integers for ranges below 2^32.
  uint64_t interval(uint64_t max);
  // randint(low, high): [low, high).
  int64_t randint(int64_t low, int64_t high) { return low + static_cast<int64_t>(interval(static_cast<uint64_t>(high - low - 1))); }
  // shuffle / permutation: Fisher-Yates from the end, as numpy's.
  template <class T> void shuffle(std::vector<T>& v) {
    for (size_t i = v.size(); i-- > 1;) std::swap(v[i], v[interval(i)]);
  }
  std::vector<int64_t> permutation(int64_t n);
  double random_sample();  // [0, 1) with 53 random bits, as numpy's random_sample
  // choice(n, size, replace=True, p=weights / sum(weights)): inverse CDF of uniform draws.
  std::vector<int64_t> weighted_choice(const std::vector<double>& weights, int64_t size);

 private:
  std::mt19937 mt_;
};

// A seed as numpy's legacy seeding takes it (below 2^32), else ValueError naming `who`.
uint32_t legacy_seed(uint64_t seed, const std::string& who, Where where);

// scikit-learn's trees draw features with their own xorshift (our_rand_r), seeded from
// the estimator's RandomState.
class TreeRandom {
 public:
  explicit TreeRandom(uint32_t seed) : state_(seed) {}
  // In [low, high), as scikit-learn's rand_int.
  int64_t rand_int(int64_t low, int64_t high);

 private:
  uint32_t state_;
};

}  // namespace nx::ml::detail
