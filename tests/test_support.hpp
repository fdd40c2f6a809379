// Helpers shared by the test files.
#pragma once
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <exception>
#include <limits>
#include <string>
#include <vector>

#include "nx/tensor.hpp"

namespace nx_test {

[[maybe_unused]] constexpr double kInf = std::numeric_limits<double>::infinity();
[[maybe_unused]] constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// An array in generated golden data (*.inc files): shape and values as doubles.
struct GoldenArray {
  std::vector<int64_t> shape;
  std::vector<double> data;
};

// A backend's outputs against the reference's, output by output: the same dtypes and
// shapes, and each value equal, NaN in both, or within `rel` (relative; absolute below 1).
inline void expect_outputs_close(const std::vector<nx::Tensor>& got, const std::vector<nx::Tensor>& want, double rel) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t k = 0; k < got.size(); ++k) {
    ASSERT_EQ(got[k].dtype(), want[k].dtype());
    ASSERT_EQ(got[k].shape(), want[k].shape());
    auto g = got[k].to_vector<double>(), w = want[k].to_vector<double>();
    for (size_t i = 0; i < g.size(); ++i)
      ASSERT_TRUE(g[i] == w[i] || (std::isnan(g[i]) && std::isnan(w[i])) || std::abs(g[i] - w[i]) <= rel * std::max(std::abs(w[i]), 1.0))
          << "output " << k << " at " << i << ": " << g[i] << " vs " << w[i];
  }
}

// A path in the test temp directory of this process's own: ctest runs the suite in
// several processes at once (suite_on_<backend>), which must not share files.
inline std::string temp_path(const std::string& name) {
  return ::testing::TempDir() + "/" + std::to_string(getpid()) + "_" + name;
}

// CRC-32 (zip, gzip) of bytes held in a string: for building archives by hand.
inline uint32_t crc32(const std::string& s) {
  uint32_t c = 0xFFFFFFFFu;
  for (unsigned char byte : s) {
    c ^= byte;
    for (int k = 0; k < 8; ++k) c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1u)));
  }
  return ~c;
}

// f() must throw E whose message contains `needle` and names the calling test file.
template <class E, class F>
void expect_error(F&& f, const std::string& needle, const char* file = __builtin_FILE()) {
  const char* slash = std::strrchr(file, '/');
  std::string base = slash ? slash + 1 : file;
  try {
    f();
    ADD_FAILURE() << "no exception; expected one mentioning " << needle;
  } catch (const E& e) {
    std::string what = e.what();
    EXPECT_NE(what.find(needle), std::string::npos) << what;
    EXPECT_NE(what.find("(at " + base + ":"), std::string::npos) << "no caller line in: " << what;
  } catch (const std::exception& e) {
    ADD_FAILURE() << "wrong exception type: " << e.what();
  }
}

// The same, also requiring "[op]" in the message.
template <class E, class F>
void expect_op_error(F&& f, const std::string& op, const std::string& needle, const char* file = __builtin_FILE()) {
  expect_error<E>([&] {
    try {
      f();
    } catch (const E& e) {
      EXPECT_NE(std::string(e.what()).find("[" + op + "]"), std::string::npos) << e.what();
      throw;
    }
  }, needle, file);
}

}  // namespace nx_test
