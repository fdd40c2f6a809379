// Linear algebra kernels: each matrix of the batch is read into an f64 Eigen matrix, solved,
// and the results are rounded to the output dtype. The front ends (src/linalg.cpp) have
// already checked shapes, converted to a float dtype and broadcast the batch dims.
// LU is our own (LAPACK getf2's pivot choice, rectangular inputs); eigh is LAPACK's
// divide and conquer where OpenBLAS can be loaded (nx/detail/blas.hpp), the rest is Eigen.
#include <Eigen/Dense>
#include <cmath>
#include <limits>
#include <numeric>
#include <vector>

#include "kernels.hpp"
#include "nx/detail/blas.hpp"

namespace nx::interp {
namespace {

using detail::load;
using detail::store;
using Mat = Eigen::MatrixXd;
using RowMat = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

int64_t dim(const Shape& s, int from_end) { return s[s.rank() - from_end]; }

// LAPACK's syevd (as numpy's and scipy's eigh), in the input's precision as theirs: Eigen's
// tridiagonal QR in f64 took 380 ms on a 784 x 784 matrix (a PCA's covariance), ssyevd
// 65 with Prescott kernels. a (symmetric, finite) becomes the eigenvectors.
template <class T> bool lapack_eigh(const detail::Blas& lib, Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic>& a,
                                    Eigen::Matrix<T, Eigen::Dynamic, 1>& w) {
  auto syevd = [&lib](auto*... args) {
    if constexpr (std::is_same_v<T, float>) lib.ssyevd(args..., 1, 1);
    else lib.dsyevd(args..., 1, 1);
  };
  int n = static_cast<int>(a.rows()), info = 0, query = -1, iwork_size = 0;
  T work_size = 0;
  const char *v = "V", *l = "L";
  syevd(v, l, &n, a.data(), &n, w.data(), &work_size, &query, &iwork_size, &query, &info);
  if (info != 0) return false;
  int lwork = static_cast<int>(work_size), liwork = iwork_size;
  std::vector<T> work(static_cast<size_t>(lwork));
  std::vector<int> iwork(static_cast<size_t>(liwork));
  syevd(v, l, &n, a.data(), &n, w.data(), work.data(), &lwork, iwork.data(), &liwork, &info);
  return info == 0;
}

// The k largest eigenpairs through LAPACK's syevr (MRRR: the others are never computed):
// w ascending [k], z [n, k]. a (symmetric, finite) is overwritten.
template <class T> bool lapack_eigh_top(const detail::Blas& lib, Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic>& a,
                                        int64_t k, Eigen::Matrix<T, Eigen::Dynamic, 1>& w,
                                        Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic>& z) {
  auto syevr = [&lib](auto*... args) {
    if constexpr (std::is_same_v<T, float>) lib.ssyevr(args..., 1, 1, 1);
    else lib.dsyevr(args..., 1, 1, 1);
  };
  int n = static_cast<int>(a.rows()), il = n - static_cast<int>(k) + 1, iu = n, found = 0, info = 0, query = -1,
      iwork_size = 0;
  T bound = 0, abstol = 0, work_size = 0;
  w.resize(n);
  z.resize(n, k);
  std::vector<int> support(static_cast<size_t>(2 * k));
  const char *v = "V", *range = "I", *l = "L";
  syevr(v, range, l, &n, a.data(), &n, &bound, &bound, &il, &iu, &abstol, &found, w.data(), z.data(), &n,
        support.data(), &work_size, &query, &iwork_size, &query, &info);
  if (info != 0) return false;
  int lwork = static_cast<int>(work_size), liwork = iwork_size;
  std::vector<T> work(static_cast<size_t>(lwork));
  std::vector<int> iwork(static_cast<size_t>(liwork));
  syevr(v, range, l, &n, a.data(), &n, &bound, &bound, &il, &iu, &abstol, &found, w.data(), z.data(), &n,
        support.data(), work.data(), &lwork, iwork.data(), &liwork, &info);
  w.conservativeResize(k);
  return info == 0 && found == k;
}

bool lapack_eigh_top(Mat& a, int64_t k, Eigen::VectorXd& w, Mat& v, DType dt) {
  const detail::Blas* lib = detail::blas();
  if (!lib || !lib->ssyevr || !lib->dsyevr || a.rows() < 32 || !a.allFinite()) return false;
  if (dt == DType::f64) return lapack_eigh_top<double>(*lib, a, k, w, v);
  Eigen::MatrixXf af = a.cast<float>(), vf;
  Eigen::VectorXf wf;
  if (!lapack_eigh_top<float>(*lib, af, k, wf, vf)) return false;
  v = vf.cast<double>();
  w = wf.cast<double>();
  return true;
}

// eigh through LAPACK where OpenBLAS is there (nx/detail/blas.hpp), in f32 for f32 and
// narrower inputs; false when it cannot serve.
bool lapack_eigh(Mat& a, Eigen::VectorXd& w, DType dt) {
  const detail::Blas* lib = detail::blas();
  if (!lib || !lib->ssyevd || !lib->dsyevd || a.rows() < 32 || !a.allFinite()) return false;  // small: Eigen is as fast
  if (dt == DType::f64) return lapack_eigh<double>(*lib, a, w);
  Eigen::MatrixXf af = a.cast<float>();
  Eigen::VectorXf wf(a.rows());
  if (!lapack_eigh<float>(*lib, af, wf)) return false;
  a = af.cast<double>();
  w = wf.cast<double>();
  return true;
}

// The number of matrices (or vectors, for `trailing` == 1) in a batch of shape `s`.
int64_t batch_count(const Shape& s, int trailing) {
  int64_t n = 1;
  for (int i = 0; i < s.rank() - trailing; ++i) n *= s[i];
  return n;
}

// Matrix `b` of the row-major batch `x`, as f64.
Mat read(const Operand& x, int64_t b, int64_t rows, int64_t cols) {
  RowMat m(rows, cols);
  detail::visit_dtype(x.type.dtype, [&](auto t) {
    using T = decltype(t);
    const T* p = data<T>(x.buffer) + b * rows * cols;
    for (int64_t i = 0; i < rows * cols; ++i) m.data()[i] = static_cast<double>(load(p[i]));
  });
  return m;
}

// Writes `m` (any Eigen expression) as item `b` of the row-major batch `o`.
template <class M> void write(const BufferPtr& o, DType dt, int64_t b, const M& m) {
  RowMat tmp = m;
  detail::visit_dtype(dt, [&](auto t) {
    using T = decltype(t);
    T* p = data<T>(o) + b * tmp.size();
    for (int64_t i = 0; i < tmp.size(); ++i) p[i] = store<T>(tmp.data()[i]);
  });
}

// True when vector v should be negated so that its largest-magnitude entry is positive.
// Entries within a relative 1e-8 of the largest are ties (rounding must not pick the
// sign); the first of them decides.
template <class V> bool needs_flip(const V& v) {
  double big = v.cwiseAbs().maxCoeff();
  if (!(big > 0)) return false;
  for (int64_t i = 0; i < v.size(); ++i)
    if (std::fabs(v(i)) >= big * (1 - 1e-8)) return v(i) < 0;
  return false;
}

// Applies the sign convention to the columns of u; the first `paired` rows of vt (when
// given) flip with their column of u, so u diag(s) vt is unchanged; vt's other rows alone.
void normalize_signs(Mat& u, Mat* vt, int64_t paired) {
  for (int64_t j = 0; j < u.cols(); ++j) {
    if (!needs_flip(u.col(j))) continue;
    u.col(j) *= -1;
    if (vt && j < paired) vt->row(j) *= -1;
  }
  if (!vt) return;
  for (int64_t j = paired; j < vt->rows(); ++j)
    if (needs_flip(vt->row(j))) vt->row(j) *= -1;
}

// In-place LU with partial pivoting (LAPACK getf2): on return `a` holds L below the
// diagonal (unit diagonal implied) and U on and above it; row i of the result is row
// perm[i] of the input. Returns the number of row swaps.
int lu_in_place(Mat& a, std::vector<int64_t>& perm) {
  int64_t m = a.rows(), n = a.cols(), k = std::min(m, n);
  perm.resize(static_cast<size_t>(m));
  std::iota(perm.begin(), perm.end(), 0);
  int swaps = 0;
  for (int64_t j = 0; j < k; ++j) {
    int64_t p = j;
    for (int64_t i = j + 1; i < m; ++i)
      if (std::fabs(a(i, j)) > std::fabs(a(p, j))) p = i;
    if (p != j) {
      a.row(j).swap(a.row(p));
      std::swap(perm[static_cast<size_t>(j)], perm[static_cast<size_t>(p)]);
      ++swaps;
    }
    // A zero pivot means the column is already eliminated (LAPACK goes on the same way).
    if (a(j, j) != 0) a.col(j).tail(m - j - 1) /= a(j, j);
    a.bottomRightCorner(m - j - 1, n - j - 1).noalias() -=
        a.col(j).tail(m - j - 1) * a.row(j).tail(n - j - 1);
  }
  return swaps;
}

Outputs cholesky(const Node& n, std::span<const Operand> in, Backend& be) {
  const TensorType& out = n.outputs[0];
  int64_t m = dim(out.shape, 1);
  BufferPtr o = alloc(be, out);
  for (int64_t b = 0; b < batch_count(out.shape, 2); ++b) {
    Eigen::LLT<Mat, Eigen::Lower> llt(read(in[0], b, m, m));
    if (llt.info() != Eigen::Success) {
      write(o, out.dtype, b, Mat::Constant(m, m, kNaN));  // not positive definite
      continue;
    }
    Mat l = llt.matrixL();
    if (n.attrs.flag) write(o, out.dtype, b, l);
    else write(o, out.dtype, b, l.transpose());
  }
  return {o};
}

template <int Mode> Mat triangular(const Mat& a, const Mat& rhs, bool left) {
  if (left) return a.triangularView<Mode>().solve(rhs);
  return a.triangularView<Mode>().template solve<Eigen::OnTheRight>(rhs);
}

// attrs: flag = lower, flag2 = left_side, flag3 = transpose a.
Outputs triangular_solve(const Node& n, std::span<const Operand> in, Backend& be) {
  const TensorType& out = n.outputs[0];
  int64_t m = dim(in[0].type.shape, 1), r = dim(out.shape, 2), c = dim(out.shape, 1);
  BufferPtr o = alloc(be, out);
  for (int64_t b = 0; b < batch_count(out.shape, 2); ++b) {
    Mat a = read(in[0], b, m, m);
    if (n.attrs.flag3) a.transposeInPlace();
    bool lower = n.attrs.flag != n.attrs.flag3;  // the transpose of lower is upper
    Mat rhs = read(in[1], b, r, c);
    write(o, out.dtype, b,
          lower ? triangular<Eigen::Lower>(a, rhs, n.attrs.flag2) : triangular<Eigen::Upper>(a, rhs, n.attrs.flag2));
  }
  return {o};
}

// a x = rhs through LU; a zero pivot gives Inf/NaN, as LAPACK-based solvers.
Mat lu_solve(Mat a, const Mat& rhs) {
  std::vector<int64_t> perm;
  lu_in_place(a, perm);
  Mat x(rhs.rows(), rhs.cols());
  for (int64_t i = 0; i < rhs.rows(); ++i) x.row(i) = rhs.row(perm[static_cast<size_t>(i)]);
  a.triangularView<Eigen::UnitLower>().solveInPlace(x);
  a.triangularView<Eigen::Upper>().solveInPlace(x);
  return x;
}

Outputs solve(const Node& n, std::span<const Operand> in, Backend& be) {
  const TensorType& out = n.outputs[0];
  int64_t m = dim(in[0].type.shape, 1), k = dim(out.shape, 1);
  BufferPtr o = alloc(be, out);
  for (int64_t b = 0; b < batch_count(out.shape, 2); ++b)
    write(o, out.dtype, b, lu_solve(read(in[0], b, m, m), read(in[1], b, m, k)));
  return {o};
}

Outputs determinant(const Node& n, std::span<const Operand> in, Backend& be) {
  const TensorType& out = n.outputs[0];
  int64_t m = dim(in[0].type.shape, 1);
  BufferPtr o = alloc(be, out);
  for (int64_t b = 0; b < batch_count(in[0].type.shape, 2); ++b) {
    Mat a = read(in[0], b, m, m);
    std::vector<int64_t> perm;
    int swaps = lu_in_place(a, perm);
    double det = swaps % 2 ? -1.0 : 1.0;
    for (int64_t i = 0; i < m; ++i) det *= a(i, i);
    write(o, out.dtype, b, Mat::Constant(1, 1, det));
  }
  return {o};
}

// Outputs p (m, m), l (m, k), u (k, n) with a = p l u.
Outputs lu(const Node& n, std::span<const Operand> in, Backend& be) {
  const Shape& s = in[0].type.shape;
  int64_t m = dim(s, 2), c = dim(s, 1), k = std::min(m, c);
  DType dt = n.outputs[0].dtype;
  Outputs o{alloc(be, n.outputs[0]), alloc(be, n.outputs[1]), alloc(be, n.outputs[2])};
  for (int64_t b = 0; b < batch_count(s, 2); ++b) {
    Mat a = read(in[0], b, m, c);
    std::vector<int64_t> perm;
    lu_in_place(a, perm);
    Mat p = Mat::Zero(m, m);
    for (int64_t i = 0; i < m; ++i) p(perm[static_cast<size_t>(i)], i) = 1;
    Mat l = a.leftCols(k).triangularView<Eigen::UnitLower>();
    Mat u = a.topRows(k).triangularView<Eigen::Upper>();
    write(o[0], dt, b, p);
    write(o[1], dt, b, l);
    write(o[2], dt, b, u);
  }
  return o;
}

// Outputs q, r; attrs.flag = complete (q is m x m).
Outputs qr(const Node& n, std::span<const Operand> in, Backend& be) {
  const Shape& s = in[0].type.shape;
  int64_t m = dim(s, 2), c = dim(s, 1);
  int64_t qc = dim(n.outputs[0].shape, 1), rr = dim(n.outputs[1].shape, 2);
  DType dt = n.outputs[0].dtype;
  Outputs o{alloc(be, n.outputs[0]), alloc(be, n.outputs[1])};
  for (int64_t b = 0; b < batch_count(s, 2); ++b) {
    Eigen::HouseholderQR<Mat> qr(read(in[0], b, m, c));
    Mat q = qr.householderQ() * Mat::Identity(m, qc);
    Mat r = qr.matrixQR().topRows(rr).triangularView<Eigen::Upper>();
    write(o[0], dt, b, q);
    write(o[1], dt, b, r);
  }
  return o;
}

// Outputs eigenvalues (ascending), eigenvectors (columns); attrs.k > 0: only the k largest.
Outputs eigh(const Node& n, std::span<const Operand> in, Backend& be) {
  int64_t m = dim(in[0].type.shape, 1), k = n.attrs.k > 0 ? n.attrs.k : m;
  DType dt = n.outputs[0].dtype;
  Outputs o{alloc(be, n.outputs[0]), alloc(be, n.outputs[1])};
  auto put = [&](int64_t b, const Eigen::VectorXd& w, Mat v) {  // the last k of ascending pairs
    Mat kept = v.rightCols(k);
    normalize_signs(kept, nullptr, 0);
    write(o[0], dt, b, w.tail(k).transpose());
    write(o[1], dt, b, kept);
  };
  for (int64_t b = 0; b < batch_count(in[0].type.shape, 2); ++b) {
    const Mat a = read(in[0], b, m, m);
    Eigen::VectorXd w(m);
    Mat work = a, v;  // LAPACK overwrites its input
    if (k < m && lapack_eigh_top(work, k, w, v, dt)) {
      put(b, w, v);
      continue;
    }
    work = a;
    w.resize(m);
    if (lapack_eigh(work, w, dt)) {
      put(b, w, work);
      continue;
    }
    Eigen::SelfAdjointEigenSolver<Mat> es(a);
    if (es.info() != Eigen::Success) {  // NaN/Inf input
      write(o[0], dt, b, Mat::Constant(1, k, kNaN));
      write(o[1], dt, b, Mat::Constant(m, k, kNaN));
      continue;
    }
    put(b, es.eigenvalues(), es.eigenvectors());
  }
  return o;
}

// Outputs u, s (descending), vt; attrs.flag = full_matrices.
Outputs svd(const Node& n, std::span<const Operand> in, Backend& be) {
  const Shape& s = in[0].type.shape;
  int64_t m = dim(s, 2), c = dim(s, 1), k = std::min(m, c);
  bool full = n.attrs.flag;
  DType dt = n.outputs[0].dtype;
  Outputs o{alloc(be, n.outputs[0]), alloc(be, n.outputs[1]), alloc(be, n.outputs[2])};
  int64_t uc = full ? m : k, vr = full ? c : k;
  for (int64_t b = 0; b < batch_count(s, 2); ++b) {
    Mat a = read(in[0], b, m, c);
    if (k == 0) {  // nothing to decompose: identity bases
      write(o[0], dt, b, Mat::Identity(m, uc));
      write(o[2], dt, b, Mat::Identity(vr, c));
      continue;
    }
    if (!a.allFinite()) {
      write(o[0], dt, b, Mat::Constant(m, uc, kNaN));
      write(o[1], dt, b, Mat::Constant(1, k, kNaN));
      write(o[2], dt, b, Mat::Constant(vr, c, kNaN));
      continue;
    }
    unsigned opts = full ? Eigen::ComputeFullU | Eigen::ComputeFullV : Eigen::ComputeThinU | Eigen::ComputeThinV;
    // Divide and conquer: Jacobi's sweeps took 4 s on a 2000 x 784 matrix (BDCSVD hands
    // blocks below 16 columns to Jacobi itself).
    Eigen::BDCSVD<Mat> svd(a, opts);
    Mat u = svd.matrixU();
    Mat vt = svd.matrixV().transpose();
    normalize_signs(u, &vt, k);
    write(o[0], dt, b, u);
    write(o[1], dt, b, svd.singularValues().transpose());
    write(o[2], dt, b, vt);
  }
  return o;
}

}  // namespace

NX_KERNEL(eval_linalg) {
  switch (n.op) {
    case Op::Cholesky: return cholesky(n, in, be);
    case Op::TriangularSolve: return triangular_solve(n, in, be);
    case Op::Solve: return solve(n, in, be);
    case Op::Determinant: return determinant(n, in, be);
    case Op::Lu: return lu(n, in, be);
    case Op::Qr: return qr(n, in, be);
    case Op::Eigh: return eigh(n, in, be);
    case Op::Svd: return svd(n, in, be);
    default: break;
  }
  throw Error(std::string(op_name(n.op)), "not a linalg op", n.where);
}

}  // namespace nx::interp
