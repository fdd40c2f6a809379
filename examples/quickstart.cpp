// A first tour of nx++: tensors, broadcasting, reductions, jit and control flow.
#include <nx/nx.hpp>

#include <iostream>

int main() {
  // Tensors from nested lists; floats default to f32, integers to i64 (as Nx).
  nx::Tensor x = nx::tensor({{1.0, 2.0, 3.0}, {4.0, 5.0, 6.0}});
  std::cout << "x =\n" << x << "\n";
  std::cout << "column sums: " << nx::sum(x, 0) << "\n";
  std::cout << "row argmax: " << nx::argmax(x, 1) << "\n";
  // numpy-style indexing; comparisons with numbers give bool tensors.
  std::cout << "x[-1] = " << x[-1] << ", x(0, 2) = " << x(0, 2) << "\n";
  std::cout << "x[:, ::2] =\n" << x.slice({nx::all, {0, nx::end, 2}}) << "\n";
  std::cout << "x > 2: " << (x > 2) << "\n";
  // C++ data in, typed and checked: the dtype comes from the element type.
  double raw[3] = {0.5, 1.5, 2.5};
  std::cout << "from_span: " << nx::from_span(raw, {3}) << "\n";

  // jit traces once per input signature and runs the compiled graph afterwards.
  auto layer = nx::jit([](const nx::Tensor& w, const nx::Tensor& b, const nx::Tensor& in) {
    return nx::softmax(nx::dot(in, w) + b);
  });
  nx::Tensor w = x.T() / 10.0;
  nx::Tensor probs = layer(w, nx::tensor({0.1, -0.1}), x);
  std::cout << "softmax(x . w + b) =\n" << probs << "\n";
  std::cout << "traced graph:\n" << layer.graph(w, nx::tensor({0.1, -0.1}), x).str() << "\n";

  // Loops are graph nodes with traced bodies: Newton's method for sqrt(2).
  auto newton = nx::jit([](const nx::Tensor& a) {
    return nx::while_loop(std::tuple{nx::scalar(0, nx::i64), a},
        [](const auto& s) { return std::get<0>(s) < 6; },
        [&](const auto& s) {
          const nx::Tensor& r = std::get<1>(s);
          return std::tuple{std::get<0>(s) + 1, (r + a / r) / 2.0};
        });
  });
  std::cout << "sqrt(2) ~ " << std::get<1>(newton(nx::scalar(2.0, nx::f64))).item<double>() << "\n";

  // Errors name the op, the shapes and your line.
  try {
    nx::Tensor bad = x + nx::ones({4});
  } catch (const nx::Error& e) {
    std::cout << "error: " << e.what() << "\n";
  }
  return 0;
}
