// Gradient checks shared by the gradient tests: central finite differences in f64
// (eps 1e-6, rtol 1e-3, atol 1e-5), in full or along random directions.
#pragma once
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include "nx/nx.hpp"

namespace nx_test {

using Fn = std::function<nx::Tensor(const nx::Tensor&)>;

inline void expect_fd_near(double analytic, double numeric, const std::string& what) {
  EXPECT_NEAR(analytic, numeric, 1e-5 + 1e-3 * std::abs(numeric)) << what;
}

// x: a concrete f64 tensor. Compares grad(f)(x) with central differences of f.
inline void check_grad(const std::string& name, const Fn& f, const nx::Tensor& x) {
  SCOPED_TRACE(name);
  std::vector<double> analytic = nx::grad(f)(x).to_vector<double>();
  std::vector<double> v = x.to_vector<double>();
  ASSERT_EQ(analytic.size(), v.size());
  const double eps = 1e-6;
  for (size_t i = 0; i < v.size(); ++i) {
    std::vector<double> p = v, m = v;
    p[i] += eps;
    m[i] -= eps;
    double fp = f(nx::from_vector(p, x.shape())).item<double>();
    double fm = f(nx::from_vector(m, x.shape())).item<double>();
    double numeric = (fp - fm) / (2 * eps);
    expect_fd_near(analytic[i], numeric, "element " + std::to_string(i));
  }
}

inline nx::Tensor sample(const nx::Shape& s, double lo, double hi, int seed = 1) {
  return nx::random::uniform(nx::random::key(seed), s, {.dtype = nx::f64, .min = lo, .max = hi});
}

// A fixed weight so that every output element matters differently.
inline nx::Tensor weigh(const nx::Tensor& y) {
  return nx::sum(y * nx::as_type(nx::reshape(nx::iota({y.size()}, nx::f64), y.shape()) * 0.1 + 1.0, y.dtype()));
}

inline double dot_all(const nx::Tensor& a, const nx::Tensor& b) { return nx::sum(a * b).item<double>(); }

// For shapes too large for the full Jacobian (as JAX's check_grads): along `directions`
// random unit-scale directions v, <grad f(x), v> against (f(x + eps v) - f(x - eps v)) / 2eps.
inline void check_grad_projected(const std::string& name, const Fn& f, const nx::Tensor& x, int directions = 3) {
  SCOPED_TRACE(name);
  nx::Tensor g = nx::grad(f)(x);
  const double eps = 1e-6;
  for (int d = 0; d < directions; ++d) {
    nx::Tensor v = sample(x.shape(), -1, 1, 1000 + d);
    double numeric = (f(x + eps * v).item<double>() - f(x - eps * v).item<double>()) / (2 * eps);
    expect_fd_near(dot_all(g, v), numeric, "direction " + std::to_string(d));
  }
}

// Second order: Hessian-vector products grad(<grad f, v>)(x) against finite differences
// of grad f along v, projected on a second random direction.
inline void check_hessian_projected(const std::string& name, const Fn& f, const nx::Tensor& x, int directions = 2) {
  SCOPED_TRACE(name);
  auto df = nx::grad(f);
  const double eps = 1e-6;
  for (int d = 0; d < directions; ++d) {
    nx::Tensor v = sample(x.shape(), -1, 1, 2000 + d), u = sample(x.shape(), -1, 1, 3000 + d);
    nx::Tensor hv = nx::grad([&](const nx::Tensor& y) { return nx::sum(nx::grad(f)(y) * v); })(x);
    double numeric = dot_all(df(x + eps * v) - df(x - eps * v), u) / (2 * eps);
    expect_fd_near(dot_all(hv, u), numeric, "direction " + std::to_string(d));
  }
}

}  // namespace nx_test
