// Arguments nx::jit and nx::grad cannot take must fail with one readable error. CTest
// compiles this file once per NX_CASE_* (tests/compile/expect_compile_error.cmake) and once
// with none, which must compile: the cases fail for their own reason only.
#include <nx/nx.hpp>

struct Layer {  // holds tensors, but is not registered with NX_TREE
  nx::Tensor w, b;
};

int main() {
  nx::Tensor x = nx::ones({2});
#if defined(NX_CASE_UNREGISTERED_STRUCT)
  auto f = nx::jit([](const Layer& l, const nx::Tensor& y) { return l.w * y + l.b; });
  nx::Tensor y = f(Layer{x, x}, x);  // using the result adds no second error
  (void)(y + 1.0);
#elif defined(NX_CASE_GRAD_OF_STATIC_ARGUMENT)
  auto g = nx::grad<1>([](const nx::Tensor& y, int n) { return nx::sum(y * n); });
  nx::Tensor gy = g(x, 3);
  (void)gy;
#else
  auto f = nx::jit([](const nx::Tensor& y, int n) { return y * n; });
  f(x, 3);
#endif
  return 0;
}
