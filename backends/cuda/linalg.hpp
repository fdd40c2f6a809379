// cholesky, solve, determinant, triangular_solve, lu and qr on the device, as interp computes
// them: each matrix of the batch by one block, in f64 (its working copy in device
// memory), by the same unblocked algorithms (cholesky column by column, a
// non-positive pivot making the whole result NaN; LU with partial pivoting, the first
// largest magnitude on ties, a zero pivot leaving its column; substitution; Householder
// reflectors with Eigen's signs), so results agree with interp's up to the order of the
// sums. For the small and medium matrices of ML (normal equations, Gaussian processes,
// Mahalanobis distances, range finders); cuSOLVER's blocked routines would be the way
// for large ones. eigh runs by cyclic Jacobi rotations (up to kMaxJacobi), its pairs
// normalised as interp's, where cuSOLVER is not taking it (solver.hpp); SVD runs there.
#pragma once
#include <span>
#include <string>

#include "nx/backend.hpp"

namespace nx::cuda_backend {

// eigh runs on the device up to this size (its Jacobi rotations go one after another).
constexpr int64_t kMaxJacobi = 256;

bool linalg_supported(const Node& n, std::span<const Operand> in);

// What the kernel of node n over operands of `types` takes besides its buffers.
struct LinalgArgs {
  long long m = 0, batch = 0, k = 0, rows = 0, cols = 0;  // a is m x m; solve: rhs m x k; triangular: rhs rows x cols;
                                                          // qr: a rows x cols, q with k columns
  long long lower = 0;                         // cholesky: write L (else L^T)
  long long left = 0, tri_lower = 0, swap = 0;  // triangular: T y = v with T lower, T(i, j) = a(j, i) if swap
  int64_t work_doubles = 0;          // per block
};
LinalgArgs linalg_args(const Node& n, std::span<const TensorType> types);

// The kernel (entry point `name`), its parameters by op:
//   cholesky(a, out, work, m, batch, lower)
//   solve(a, rhs, out, work, perm, m, k, batch)
//   determinant(a, out, work, perm, m, batch)
//   triangular_solve(a, rhs, out, work, m, rows, cols, batch, left, tri_lower, swap)
//   qr(a, q, r, work, rows, cols, k, r's rows, batch)
//   lu(a, p, l, u, work, perm, m (rows), cols, batch)
//   eigh(a, values, vectors, work, order, m, k (pairs kept), batch)
// work: work_doubles per block; perm: m long longs per block. Any number of blocks (each
// takes matrices blockIdx.x, + gridDim.x, ...), blockDim.x a power of two, at most 1024.
std::string linalg_source(const Node& n, std::span<const TensorType> types, const std::string& name);
std::vector<BufferPtr> linalg(const Node& n, std::span<const Operand> in, Backend& be);

}  // namespace nx::cuda_backend
