// svd, and eigh, cholesky and solve beyond what the block kernels suit (linalg.hpp), on
// cuSOLVER (loaded at run time): each matrix factored in f64 as interp factors it, by the
// 64-bit API's gesvd, syevd, potrf and getrf/getrs, a call per matrix. Three small kernels around the calls: one loads the batch
// into f64 column-major working copies, noting matrices with NaN or Inf (loaded as
// zeros: cuSOLVER fails on them); one applies interp's sign rule (each singular or eigen
// vector's largest entry positive, its partner row of vt flipped with it); one stores
// the outputs in their dtype, transposing as the layout needs, NaN for a matrix that held
// a non-finite value (as interp) or that cuSOLVER did not converge on. gesvd waits on the
// host inside, so steps holding these are not captured in CUDA graphs.
#pragma once
#include <span>
#include <string>

#include "nx/backend.hpp"

namespace nx::cuda_backend {

// Element (i, j) of matrix b of a strided batch: offset + b * batch + i * row + j * col.
struct MatrixView {
  int64_t rows = 0, cols = 0, offset = 0, row = 0, col = 0, batch = 0;
};

// How node n (svd or eigh) runs: cuSOLVER factors `rows` x `cols` column-major f64
// matrices (eigh: rows = cols), loaded from the input through `load`; for svd, U has
// u_cols columns (leading dim rows) and VT vt_rows rows (leading dim vt_rows), for eigh
// the matrix holds the vectors and W the values. outputs[i] says where output i's element
// (i, j) is in its source buffer, source[i]: 0 the working matrix (eigh's vectors), 1 S
// or W, 2 U, 3 VT. Signs are normalised along the columns of output 0 (u, or eigh's
// vectors), the first `paired` rows of output 2 (vt) flipping with them, and vt's other
// rows alone.
// cholesky: potrf's L in the working matrix, stored through a triangle mask (tri: 1
// lower, 2 upper). solve: getrf then getrs, the right-hand side loaded through rhs_load
// into source 2 (rows x rhs_cols), non-finite values passed through (mark false).
struct SolverPlan {
  int64_t rows = 0, cols = 0, batch = 0, u_cols = 0, vt_rows = 0, paired = 0, rhs_cols = 0;
  char job = 'S';  // svd: 'A' full matrices, 'S' thin
  bool mark = true;
  MatrixView load, rhs_load;
  std::vector<MatrixView> outputs;
  std::vector<int> source, tri;
};
SolverPlan solver_plan(const Node& n, std::span<const TensorType> in);

// svd always; eigh beyond the Jacobi kernel's size, or beyond kJacobiAlways in batches
// smaller than kBlocksBatch (where a block per matrix leaves the device idle); cholesky
// and solve beyond kBlockLimit, or beyond kBlockAlways in batches under kBlocksBatch.
// Where cuSOLVER is missing, the block kernels take what they can.
constexpr int64_t kJacobiAlways = 32, kBlockAlways = 128, kBlockLimit = 1024, kBlocksBatch = 64;
bool solver_supported(const Node& n, std::span<const Operand> in);
std::vector<BufferPtr> solver(const Node& n, std::span<const Operand> in, Backend& be);

// The kernels, for element type `type` (float or double):
//   nx_solver_load(const T* a, double* w, int* bad, MatrixView of a as 6 long longs, batch, mark)
//     w[b * rows * cols + i + j * rows] = a's (i, j); with mark, bad[b] = 1 where one is
//     not finite (loaded as 0);
//   nx_solver_signs(double* u, 6 long longs, double* vt, 6 long longs, paired, batch)
//     one block per (matrix, column of u or unpaired row of vt);
//   nx_solver_store(const double* src, T* out, const int* flags, 6 long longs, batch, tri)
//     out (row-major rows x cols per matrix) from src's view, NaN where flags[b] (bad) or
//     flags[batch + b] (cuSOLVER's info) is set, zeros outside the triangle tri keeps.
std::string solver_source(const std::string& type);

}  // namespace nx::cuda_backend
