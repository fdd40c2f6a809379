#include <gtest/gtest.h>

#include "nx/nx.hpp"

TEST(Smoke, AddBroadcast) {
  auto a = nx::tensor({{1.0, 2.0, 3.0}, {4.0, 5.0, 6.0}});
  auto s = nx::sum(a + nx::tensor({10, 20, 30}), {.axes = {0}});
  EXPECT_EQ(s.to_vector<float>(), (std::vector<float>{25, 47, 69}));
}

TEST(Smoke, OperatorErrorsNameTheUsersLine) {
  auto a = nx::ones({2, 3});
  auto b = nx::ones({4});
  int line = 0;
  try {
    line = __LINE__; auto c = 2.0 * a + b;  // NOLINT
    FAIL() << c;
  } catch (const nx::ShapeError& e) {
    EXPECT_NE(std::string(e.what()).find("smoke_test.cpp:" + std::to_string(line)), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("[add]"), std::string::npos) << e.what();
  }
}

TEST(Smoke, BoolTensorsFromListsAndVectors) {
  nx::Tensor t = nx::tensor({true, false, true});
  EXPECT_EQ(t.dtype(), nx::boolean);
  EXPECT_EQ(t.to_vector<bool>(), (std::vector<bool>{true, false, true}));
  nx::Tensor v = nx::from_vector(std::vector<bool>{false, true}, {2});
  EXPECT_EQ(nx::as_type(v, nx::i32).to_vector<int>(), (std::vector<int>{0, 1}));
}
