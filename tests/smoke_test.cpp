#include <gtest/gtest.h>

#include "nx/nx.hpp"

TEST(Smoke, AddBroadcast) {
  auto a = nx::tensor({{1.0, 2.0, 3.0}, {4.0, 5.0, 6.0}});
  auto s = nx::sum(a + nx::tensor({10, 20, 30}), {.axes = {0}});
  EXPECT_EQ(s.to_vector<float>(), (std::vector<float>{25, 47, 69}));
}
