#include <nx/nx.hpp>

#include <iostream>

int main() {
  auto f = nx::jit([](const nx::Tensor& x) { return nx::softmax(x); });
  nx::Tensor y = f(nx::tensor({1.0, 2.0, 3.0}));
  float total = nx::sum(y).item<float>();
  std::cout << y << "\nsum = " << total << "\n";
  return std::abs(total - 1.0f) < 1e-5f ? 0 : 1;
}
