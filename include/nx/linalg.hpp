// Linear algebra, named as Nx.LinAlg. Every op works on the last two dimensions and is
// batched over the leading ones: a (..., m, n) input is a stack of m x n matrices.
//
// Dtypes: f16, bf16, f32 and f64 (the interp backend computes in f64 and rounds the result);
// integer inputs are computed in f32, as Nx does; bool is a DTypeError. Two-operand ops
// promote both operands to a common float type and broadcast their batch dimensions.
//
// Values are unknown while tracing, so numerically bad input never throws. It gives
// NaN/Inf like LAPACK-based libraries (JAX) do:
//   cholesky of a matrix that is not positive definite: every element of that matrix NaN;
//   solve, invert, triangular_solve with a singular matrix: Inf/NaN from the zero pivot;
//   determinant of a singular matrix: 0 (or a tiny number from rounding);
//   lu of a singular matrix: a valid factorisation whose u has a zero on the diagonal.
//
// Sign conventions (a factorisation is unique only up to signs; these make results
// deterministic):
//   qr: Householder reflections as LAPACK geqrf/orgqr, so q and r match numpy/JAX/scipy
//       (r's diagonal may be negative; it is not normalised);
//   eigh: each eigenvector is scaled so its largest-magnitude component is positive
//       (components within a relative 1e-8 of the largest tie; the first of them counts);
//   svd: each left singular vector (column of u) is scaled the same way, and the matching
//       row of vt with it, so u * s * vt is unchanged.
// numpy/JAX leave the eigh/svd signs to LAPACK, so compare those up to sign.
#pragma once
#include <cstdint>
#include <limits>
#include <optional>
#include <tuple>
#include <utility>

#include "nx/ops.hpp"

namespace nx::linalg {

// The Cholesky factor L (lower triangular) with a = L L^T. Reads only a's lower triangle.
Tensor cholesky(const Tensor& a, Where where = Where::current());

enum class Transform { none, transpose };
struct TriangularSolveOpts {
  bool left_side = true;  // solve a x = b (true) or x a = b (false)
  bool lower = true;      // a is lower (true) or upper triangular; the other triangle is ignored
  Transform transform_a = Transform::none;  // use a^T in place of a
};
// a (..., m, m) triangular; b (..., m, n) for left_side, (..., n, m) otherwise, or
// vectors (..., m). b is a batch of vectors when its rank is a's minus one (as Nx) or 1.
Tensor triangular_solve(const Tensor& a, const Tensor& b, TriangularSolveOpts opts = {},
                        Where where = Where::current());

// x with a x = b: a (..., n, n); b (..., n, k), or vectors (..., n) (rank of a minus one,
// or 1). LU with partial pivoting.
Tensor solve(const Tensor& a, const Tensor& b, Where where = Where::current());

enum class QrMode { reduced, complete };
struct QrOpts {
  QrMode mode = QrMode::reduced;
};
// a (..., m, n) = q r. reduced: q (..., m, k), r (..., k, n) with k = min(m, n);
// complete: q (..., m, m), r (..., m, n).
std::pair<Tensor, Tensor> qr(const Tensor& a, QrOpts opts = {}, Where where = Where::current());

// Eigenvalues (ascending) and eigenvectors (columns) of symmetric a (..., n, n):
// a = v diag(w) v^T. Reads only a's lower triangle.
std::pair<Tensor, Tensor> eigh(const Tensor& a, Where where = Where::current());
struct EighOpts {
  int64_t largest = 0;  // only the k largest eigenpairs (0: all): w (..., k) ascending, v (..., n, k)
};
// The same, for the k largest only where LAPACK can skip the others (a PCA keeps 50 of
// 784: half the time); no gradient when partial.
std::pair<Tensor, Tensor> eigh(const Tensor& a, EighOpts opts, Where where = Where::current());

struct SvdOpts {
  bool full_matrices = true;
};
// a (..., m, n) = u diag(s) vt, s descending and >= 0. full_matrices: u (..., m, m),
// vt (..., n, n); otherwise u (..., m, k), vt (..., k, n) with k = min(m, n).
std::tuple<Tensor, Tensor, Tensor> svd(const Tensor& a, SvdOpts opts = {},
                                       Where where = Where::current());

// The inverse of square a (..., n, n): solve(a, identity).
Tensor invert(const Tensor& a, Where where = Where::current());

// The determinant of square a (..., n, n), shape (...).
Tensor determinant(const Tensor& a, Where where = Where::current());

// a (..., m, n) = p l u with partial pivoting (the largest magnitude in the column, the
// first on ties, as LAPACK getrf): p (..., m, m) a permutation matrix in a's dtype,
// l (..., m, k) unit lower triangular, u (..., k, n) upper triangular, k = min(m, n).
std::tuple<Tensor, Tensor, Tensor> lu(const Tensor& a, Where where = Where::current());

struct LeastSquaresOpts {
  // Singular values at most rcond * the largest count as zero (numpy.linalg.lstsq's rcond);
  // default: machine epsilon of the dtype times max(m, n), as numpy.
  std::optional<double> rcond;
};
// The minimum-norm x minimising |a x - b|: a (..., m, n); b (..., m, k) or (..., m).
// Through the SVD, so rank-deficient a works as numpy.linalg.lstsq.
Tensor least_squares(const Tensor& a, const Tensor& b, LeastSquaresOpts opts = {},
                     Where where = Where::current());

// The `ord` of norm: a number p (1, 2, inf, -inf, 0, any p) or the matrix norms fro/nuc.
struct Ord {
  enum Kind : uint8_t { number, frobenius, nuclear };
  constexpr Ord(double v) : kind(number), p(v) {}  // NOLINT(google-explicit-constructor)
  constexpr explicit Ord(Kind k) : kind(k), p(0) {}
  Kind kind;
  double p;
};
inline constexpr Ord fro{Ord::frobenius};
inline constexpr Ord nuc{Ord::nuclear};
inline constexpr double inf = std::numeric_limits<double>::infinity();

struct NormOpts {
  detail::NamedFieldsOnly named_fields_only;
  // Unset: the 2-norm of vectors, the Frobenius norm of matrices.
  std::optional<Ord> ord;
  // One axis (vector norm) or two (matrix norm: rows, columns). Default (every axis): a
  // rank 1 or 2 input is a vector or a matrix; a higher rank needs explicit axes unless ord
  // is unset (then the 2-norm of all elements, as numpy).
  Axes axes;
  bool keep_axes = false;
};
// As Nx.LinAlg.norm / numpy.linalg.norm.
//   vectors: p -> sum(|x|^p)^(1/p); inf/-inf -> max/min |x|; 0 -> the count of non-zeros.
//   matrices: fro; nuc (sum of singular values); 1/-1 -> max/min column sum of |x|;
//             inf/-inf -> max/min row sum; 2/-2 -> largest/smallest singular value.
Tensor norm(const Tensor& x, NormOpts opts = {}, Where where = Where::current());

}  // namespace nx::linalg
