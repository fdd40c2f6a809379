// Eigen interop (opt-in: include <nx/eigen.hpp> and have Eigen's headers on the include
// path, e.g. find_package(Eigen3) and Eigen3::Eigen).
//
//   Eigen::MatrixXf m = ...;
//   nx::Tensor t = nx::from_eigen(m);            // a copy, row-major (any Eigen expression)
//   auto back = nx::to_eigen<float>(t);          // an owning RowMajor matrix (a copy)
//   auto map = nx::eigen_map<float>(t);          // no copy: valid while t lives
//   nx::Tensor v = nx::view(rm.data(), {rm.rows(), rm.cols()});  // no copy, RowMajor rm
//
// Rank 0 and 1 tensors map to one column; rank 2 to rows x columns; higher ranks raise.
#pragma once
#include <Eigen/Core>

#include "nx/tensor.hpp"

namespace nx {

template <class T>
using EigenRowMajor = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

namespace detail {
inline std::pair<Eigen::Index, Eigen::Index> eigen_dims(const Tensor& t, const char* op, Where where) {
  if (t.rank() > 2)
    throw ShapeError(op, "Eigen matrices have rank <= 2, the tensor is " + t.shape().str() + " (reshape it first)", where);
  if (t.rank() == 2) return {t.shape()[0], t.shape()[1]};
  return {t.rank() == 1 ? t.shape()[0] : 1, 1};
}
}  // namespace detail

// A read-only map of t's memory: no copy. T must be t's dtype's C++ type.
template <class T>
Eigen::Map<const EigenRowMajor<T>> eigen_map(const Tensor& t, Where where = Where::current()) {
  auto [rows, cols] = detail::eigen_dims(t, "eigen_map", where);
  return {t.data<T>(where), rows, cols};
}

// An owning copy, converted to T (as to_vector<T>).
template <class T> EigenRowMajor<T> to_eigen(const Tensor& t, Where where = Where::current()) {
  auto [rows, cols] = detail::eigen_dims(t, "to_eigen", where);
  std::vector<T> v = t.to_vector<T>(where);
  return Eigen::Map<const EigenRowMajor<T>>(v.data(), rows, cols);
}

// A tensor holding a copy of any Eigen matrix or expression, (rows, cols) row-major.
template <class Derived> Tensor from_eigen(const Eigen::DenseBase<Derived>& m, Where where = Where::current()) {
  using T = typename Derived::Scalar;
  EigenRowMajor<T> rm = m;  // evaluates expressions and column-major storage
  return from_span(std::span<const T>(rm.data(), static_cast<size_t>(rm.size())),
                   Shape{static_cast<int64_t>(rm.rows()), static_cast<int64_t>(rm.cols())}, where);
}

}  // namespace nx
