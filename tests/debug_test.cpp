// debug_print / debug_callback: at once when eager; every run when compiled (not once at
// trace or compile time); gradients pass through; every backend runs the node.
#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <vector>

#include "nx/nx.hpp"

namespace {

TEST(Debug, CallbackRunsAtOnceWhenEager) {
  std::vector<float> seen;
  nx::Tensor x = nx::tensor({1.0f, 2.0f});
  nx::Tensor y = nx::debug_callback(x, [&](const nx::Tensor& v) { seen = v.to_vector<float>(); });
  EXPECT_EQ(seen, (std::vector<float>{1, 2}));
  EXPECT_EQ(y.to_vector<float>(), seen);
}

TEST(Debug, CallbackRunsEachTimeTheCompiledFunctionRuns) {
  for (const std::string& backend : nx::backend_names()) {
    SCOPED_TRACE(backend);
    std::atomic<int> calls{0};
    std::vector<float> last;
    auto f = nx::jit(
        [&](const nx::Tensor& a) {
          nx::Tensor s = nx::debug_callback(nx::sum(a * a), [&](const nx::Tensor& v) {
            ++calls;
            last = {v.item<float>()};
          });
          return s + 1.0f;
        },
        {.backend = backend});
    EXPECT_EQ(calls, 0) << "nothing runs before the call";
    EXPECT_EQ(f(nx::tensor({1.0f, 2.0f})).item<float>(), 6.0f);
    EXPECT_EQ(calls, 1);
    EXPECT_EQ(last, std::vector<float>{5.0f});
    f(nx::tensor({3.0f, 0.0f}));  // a cache hit: the node runs again
    EXPECT_EQ(calls, 2);
    EXPECT_EQ(last, std::vector<float>{9.0f});
    EXPECT_EQ(f.compiles(), 1);
  }
}

TEST(Debug, ConstantsAreNotFoldedAwayAndGradientsPassThrough) {
  int calls = 0;
  auto f = nx::jit([&](const nx::Tensor& a) {
    nx::Tensor c = nx::debug_callback(nx::tensor({7.0f}), [&](const nx::Tensor&) { ++calls; });
    return a + c;
  });
  f(nx::ones({1}));
  f(nx::ones({1}));
  EXPECT_EQ(calls, 2) << "a callback on a constant still runs at every call";
  auto loss = [](const nx::Tensor& w) { return nx::sum(nx::debug_print(w * 3.0f, "w*3 = {}")); };
  testing::internal::CaptureStdout();
  std::vector<float> g = nx::grad(loss)(nx::ones({2})).to_vector<float>();  // the print is an effect: kept
  std::string out = testing::internal::GetCapturedStdout();
  EXPECT_EQ(g, (std::vector<float>{3, 3}));
  EXPECT_NE(out.find("w*3 = "), std::string::npos) << out;
  EXPECT_NE(out.find("3"), std::string::npos) << out;
}

TEST(Debug, PrintFormatsTheValue) {
  testing::internal::CaptureStdout();
  nx::debug_print(nx::tensor({1, 2}), "value: {} (end)");
  nx::debug_print(nx::scalar(2.5f));
  std::string out = testing::internal::GetCapturedStdout();
  EXPECT_NE(out.find("value: "), std::string::npos) << out;
  EXPECT_NE(out.find("(end)\n"), std::string::npos) << out;
  EXPECT_NE(out.find("2.5"), std::string::npos) << out;
  EXPECT_THROW(nx::debug_callback(nx::ones({1}), {}), nx::ValueError);
}

}  // namespace
