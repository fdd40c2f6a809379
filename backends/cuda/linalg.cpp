#include "linalg.hpp"

#include <algorithm>

#include "cuda_emit.hpp"
#include "device.hpp"
#include "kernels.hpp"

namespace nx::cuda_backend {
namespace {

// Shared by every kernel here (guarded: the tests compile several in one unit).
//   nx_la_lu: LU with partial pivoting of the m x c matrix w in place, as interp's
//     lu_in_place: perm (may be null) records the row order; returns the swaps (in
//     every thread). The pivot is the first row of the largest magnitude from row j on;
//     a NaN on the diagonal stays the pivot, NaNs below it are never chosen.
constexpr const char* kHelpers = R"(#ifndef NX_LINALG_HELPERS
#define NX_LINALG_HELPERS
__device__ __forceinline__ double nx_la_nan() { return __longlong_as_double(0x7ff8000000000000ll); }
// The sum of every thread's v over the block, in every thread.
__device__ double nx_la_sum(double v) {
  __shared__ double part[1024];
  const int t = threadIdx.x;
  part[t] = v;
  __syncthreads();
  for (int h = blockDim.x / 2; h > 0; h >>= 1) {
    if (t < h) part[t] += part[t + h];
    __syncthreads();
  }
  const double sum = part[0];
  __syncthreads();  // read before the next call writes
  return sum;
}
// A matrix of `count` elements into the f64 working copy w, by the whole block.
template <class T> __device__ void nx_la_load(double* w, const T* a, long long count) {
  for (long long e = threadIdx.x; e < count; e += blockDim.x) w[e] = (double)a[e];
  __syncthreads();
}
__device__ int nx_la_lu(double* w, long long* perm, long long m, long long c) {
  __shared__ double key[1024];
  __shared__ long long row[1024];
  const int t = threadIdx.x, n = blockDim.x;
  int swaps = 0;
  if (perm)
    for (long long i = t; i < m; i += n) perm[i] = i;
  __syncthreads();
  const long long k = m < c ? m : c;
  for (long long j = 0; j < k; ++j) {
    long long p = j;
    const double d = w[j * c + j];
    if (d == d) {
      double best = -1.0;
      long long at = j;
      for (long long i = j + t; i < m; i += n) {
        const double v = fabs(w[i * c + j]);
        if (v == v && v > best) { best = v; at = i; }
      }
      key[t] = best;
      row[t] = at;
      __syncthreads();
      for (int s = n / 2; s > 0; s >>= 1) {
        if (t < s && (key[t + s] > key[t] || (key[t + s] == key[t] && row[t + s] < row[t]))) {
          key[t] = key[t + s];
          row[t] = row[t + s];
        }
        __syncthreads();
      }
      p = row[0];
      __syncthreads();  // row[0] is read before the next column writes it
    }
    if (p != j) {
      for (long long col = t; col < c; col += n) {
        const double x = w[j * c + col];
        w[j * c + col] = w[p * c + col];
        w[p * c + col] = x;
      }
      if (perm && t == 0) {
        const long long x = perm[j];
        perm[j] = perm[p];
        perm[p] = x;
      }
      ++swaps;
      __syncthreads();
    }
    const double pivot = w[j * c + j];
    if (pivot != 0.0)
      for (long long i = j + 1 + t; i < m; i += n) w[i * c + j] /= pivot;
    __syncthreads();
    const long long rows = m - j - 1, cols = c - j - 1;
    for (long long e = t; e < rows * cols; e += n) {
      const long long i = j + 1 + e / cols, col = j + 1 + e % cols;
      w[i * c + col] -= w[i * c + j] * w[j * c + col];
    }
    __syncthreads();
  }
  return swaps;
}
#endif
)";

std::string replaced(std::string s, const std::string& name, const std::string& type) {
  for (auto [from, to] : {std::pair<std::string, std::string>{"$NAME", name}, {"$T", type}})
    for (size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size())) s.replace(at, from.size(), to);
  return s;
}

// Column by column (right-looking), reading a's lower triangle as interp's LLT does: a
// pivot that is not positive makes the whole matrix NaN. flag: write L, else L^T.
constexpr const char* kCholesky = R"(
extern "C" __global__ void __launch_bounds__(1024) $NAME(const $T* __restrict__ a, $T* __restrict__ out, double* __restrict__ work,
                                                       long long m, long long batch, long long lower) {
  __shared__ int bad;
  double* w = work + blockIdx.x * m * m;
  const int t = threadIdx.x, n = blockDim.x;
  for (long long b = blockIdx.x; b < batch; b += gridDim.x) {
    if (t == 0) bad = 0;
    nx_la_load(w, a + b * m * m, m * m);
    for (long long j = 0; j < m; ++j) {
      if (t == 0) {
        const double d = w[j * m + j];
        if (d <= 0.0) bad = 1;
        w[j * m + j] = sqrt(d);
      }
      __syncthreads();
      if (bad) break;
      const double p = w[j * m + j];
      for (long long i = j + 1 + t; i < m; i += n) w[i * m + j] /= p;
      __syncthreads();
      const long long r = m - j - 1;
      for (long long e = t; e < r * r; e += n) {
        const long long i = j + 1 + e / r, k = j + 1 + e % r;
        if (k <= i) w[i * m + k] -= w[i * m + j] * w[k * m + j];
      }
      __syncthreads();
    }
    for (long long e = t; e < m * m; e += n) {
      const long long i = e / m, k = e % m;
      const double v = bad ? nx_la_nan() : lower ? (k <= i ? w[i * m + k] : 0.0) : (k >= i ? w[k * m + i] : 0.0);
      out[b * m * m + e] = ($T)v;
    }
    __syncthreads();  // w and bad are reused by the next matrix
  }
}
)";

// a x = rhs (m x k): LU, the rows of rhs permuted, then unit-lower and upper substitution,
// a thread per column of rhs.
constexpr const char* kSolve = R"(
extern "C" __global__ void __launch_bounds__(1024) $NAME(const $T* __restrict__ a, const $T* __restrict__ rhs, $T* __restrict__ out,
                                                       double* __restrict__ work, long long* __restrict__ perms, long long m,
                                                       long long k, long long batch) {
  double* w = work + blockIdx.x * (m * m + m * k);
  double* x = w + m * m;
  long long* perm = perms + blockIdx.x * m;
  const int t = threadIdx.x, n = blockDim.x;
  for (long long b = blockIdx.x; b < batch; b += gridDim.x) {
    nx_la_load(w, a + b * m * m, m * m);
    nx_la_lu(w, perm, m, m);
    for (long long e = t; e < m * k; e += n) x[e] = (double)rhs[b * m * k + perm[e / k] * k + e % k];
    __syncthreads();
    for (long long c = t; c < k; c += n) {
      for (long long i = 0; i < m; ++i) {
        double s = x[i * k + c];
        for (long long j = 0; j < i; ++j) s -= w[i * m + j] * x[j * k + c];
        x[i * k + c] = s;
      }
      for (long long i = m - 1; i >= 0; --i) {
        double s = x[i * k + c];
        for (long long j = i + 1; j < m; ++j) s -= w[i * m + j] * x[j * k + c];
        x[i * k + c] = s / w[i * m + i];
      }
    }
    __syncthreads();
    for (long long e = t; e < m * k; e += n) out[b * m * k + e] = ($T)x[e];
    __syncthreads();
  }
}
)";

// The product of U's diagonal in order, negated for an odd number of row swaps.
constexpr const char* kDeterminant = R"(
extern "C" __global__ void __launch_bounds__(1024) $NAME(const $T* __restrict__ a, $T* __restrict__ out, double* __restrict__ work,
                                                       long long* __restrict__ perms, long long m, long long batch) {
  double* w = work + blockIdx.x * m * m;
  const int t = threadIdx.x, n = blockDim.x;
  for (long long b = blockIdx.x; b < batch; b += gridDim.x) {
    nx_la_load(w, a + b * m * m, m * m);
    const int swaps = nx_la_lu(w, nullptr, m, m);
    if (t == 0) {
      double det = swaps % 2 ? -1.0 : 1.0;
      for (long long i = 0; i < m; ++i) det *= w[i * m + i];
      out[b] = ($T)det;
    }
    __syncthreads();
  }
}
)";

// op(a) x = rhs (left) or x op(a) = rhs (right), rhs rows x cols: each independent vector
// (a column of rhs on the left, a row on the right) solves T y = v by substitution, a
// thread per vector, T lower or upper as `lower` says; T's element (i, j) is a's
// (i, j) or (j, i) as `swap` says.
constexpr const char* kTriangular = R"(
extern "C" __global__ void __launch_bounds__(1024) $NAME(const $T* __restrict__ a, const $T* __restrict__ rhs, $T* __restrict__ out,
                                                       double* __restrict__ work, long long m, long long rows, long long cols,
                                                       long long batch, long long left, long long lower, long long swap) {
  const long long vectors = left ? cols : rows, step = left ? cols : 1, stride = left ? 1 : cols;
  double* y = work + blockIdx.x * m * vectors;
  const int t = threadIdx.x, n = blockDim.x;
  for (long long b = blockIdx.x; b < batch; b += gridDim.x) {
    const $T* A = a + b * m * m;
    const $T* B = rhs + b * rows * cols;
    for (long long v = t; v < vectors; v += n) {
      double* z = y + v * m;
      for (long long q = 0; q < m; ++q) {
        const long long i = lower ? q : m - 1 - q;
        double s = (double)B[i * step + v * stride];
        for (long long r = 0; r < q; ++r) {
          const long long j = lower ? r : m - 1 - r;
          s -= (double)(swap ? A[j * m + i] : A[i * m + j]) * z[j];
        }
        z[i] = s / (double)A[i * m + i];
      }
      for (long long i = 0; i < m; ++i) out[b * rows * cols + i * step + v * stride] = ($T)z[i];
    }
    __syncthreads();
  }
}
)";

// Householder QR as Eigen's HouseholderQR (interp's): per column j, the reflector of the
// column's tail (beta = -sign(c0) |x|, the essential part x_tail / (c0 - beta), tau =
// (beta - c0) / beta; none for a zero tail), then applied to the columns on the right, a
// thread per column; Q is the reflectors applied to the identity, the last first. q is
// m x qc, r is rr x c (rr and qc: k, or m when complete).
constexpr const char* kQr = R"(
extern "C" __global__ void __launch_bounds__(1024) $NAME(const $T* __restrict__ a, $T* __restrict__ q_out, $T* __restrict__ r_out,
                                                       double* __restrict__ work, long long m, long long c, long long qc,
                                                       long long rr, long long batch) {
  __shared__ double tau_j, denom;
  const long long k = m < c ? m : c;
  double* w = work + blockIdx.x * (m * c + m * qc + k);
  double* q = w + m * c;
  double* tau = q + m * qc;
  const int t = threadIdx.x, n = blockDim.x;
  for (long long b = blockIdx.x; b < batch; b += gridDim.x) {
    nx_la_load(w, a + b * m * c, m * c);
    for (long long j = 0; j < k; ++j) {
      double s = 0.0;
      for (long long i = j + 1 + t; i < m; i += n) s += w[i * c + j] * w[i * c + j];
      const double tail = nx_la_sum(s);
      if (t == 0) {
        const double c0 = w[j * c + j];
        if (tail <= 2.2250738585072014e-308) {
          tau_j = 0.0;
          denom = 0.0;
        } else {
          double beta = sqrt(c0 * c0 + tail);
          if (c0 >= 0.0) beta = -beta;
          denom = c0 - beta;
          tau_j = (beta - c0) / beta;
          w[j * c + j] = beta;
        }
        tau[j] = tau_j;
      }
      __syncthreads();
      for (long long i = j + 1 + t; i < m; i += n) w[i * c + j] = denom == 0.0 ? 0.0 : w[i * c + j] / denom;
      __syncthreads();
      if (tau_j != 0.0)
        for (long long col = j + 1 + t; col < c; col += n) {
          double dot = w[j * c + col];
          for (long long i = j + 1; i < m; ++i) dot += w[i * c + j] * w[i * c + col];
          w[j * c + col] -= tau_j * dot;
          for (long long i = j + 1; i < m; ++i) w[i * c + col] -= tau_j * w[i * c + j] * dot;
        }
      __syncthreads();
    }
    for (long long e = t; e < m * qc; e += n) q[e] = e / qc == e % qc ? 1.0 : 0.0;
    __syncthreads();
    for (long long j = k - 1; j >= 0; --j) {
      const double tj = tau[j];
      if (tj != 0.0)
        for (long long col = t; col < qc; col += n) {
          double dot = q[j * qc + col];
          for (long long i = j + 1; i < m; ++i) dot += w[i * c + j] * q[i * qc + col];
          q[j * qc + col] -= tj * dot;
          for (long long i = j + 1; i < m; ++i) q[i * qc + col] -= tj * w[i * c + j] * dot;
        }
      __syncthreads();
    }
    for (long long e = t; e < m * qc; e += n) q_out[b * m * qc + e] = ($T)q[e];
    for (long long e = t; e < rr * c; e += n) r_out[b * rr * c + e] = ($T)(e % c >= e / c ? w[e] : 0.0);
    __syncthreads();
  }
}
)";

// LU's factors of an m x c matrix: p (m x m) with p[perm[i]][i] = 1, l (m x k) unit lower,
// u (k x c) upper, k = min(m, c).
constexpr const char* kLu = R"(
extern "C" __global__ void __launch_bounds__(1024) $NAME(const $T* __restrict__ a, $T* __restrict__ p_out, $T* __restrict__ l_out,
                                                       $T* __restrict__ u_out, double* __restrict__ work, long long* __restrict__ perms,
                                                       long long m, long long c, long long batch) {
  const long long k = m < c ? m : c;
  double* w = work + blockIdx.x * m * c;
  long long* perm = perms + blockIdx.x * m;
  const int t = threadIdx.x, n = blockDim.x;
  for (long long b = blockIdx.x; b < batch; b += gridDim.x) {
    nx_la_load(w, a + b * m * c, m * c);
    nx_la_lu(w, perm, m, c);
    for (long long e = t; e < m * m; e += n) p_out[b * m * m + e] = ($T)(perm[e % m] == e / m ? 1.0 : 0.0);
    for (long long e = t; e < m * k; e += n) {
      const long long i = e / k, j = e % k;
      l_out[b * m * k + e] = ($T)(i > j ? w[i * c + j] : i == j ? 1.0 : 0.0);
    }
    for (long long e = t; e < k * c; e += n) {
      const long long i = e / c, j = e % c;
      u_out[b * k * c + e] = ($T)(j >= i ? w[i * c + j] : 0.0);
    }
    __syncthreads();
  }
}
)";

// eigh by cyclic Jacobi rotations on the lower triangle made symmetric, until the
// off-diagonal part is below f64's resolution of the diagonal; then the k largest pairs in
// ascending order, each vector's largest entry (the first within 1e-8 of it) positive,
// as interp normalises them. Any NaN or infinity in a: NaN throughout (as interp's Eigen
// path; what LAPACK returns for such input is its own).
constexpr const char* kEigh = R"(
extern "C" __global__ void __launch_bounds__(1024) $NAME(const $T* __restrict__ a, $T* __restrict__ w_out, $T* __restrict__ v_out,
                                                       double* __restrict__ work, long long* __restrict__ orders, long long m,
                                                       long long k, long long batch) {
  __shared__ double rc, rs, rt;
  __shared__ int finite;
  double* w = work + blockIdx.x * 2 * m * m;
  double* v = w + m * m;
  long long* order = orders + blockIdx.x * m;
  const int t = threadIdx.x, n = blockDim.x;
  for (long long b = blockIdx.x; b < batch; b += gridDim.x) {
    if (t == 0) finite = 1;
    __syncthreads();
    for (long long e = t; e < m * m; e += n) {
      const long long i = e / m, j = e % m;
      const double x = (double)a[b * m * m + (i >= j ? e : j * m + i)];
      if (!(x - x == 0.0)) finite = 0;
      w[e] = x;
      v[e] = i == j ? 1.0 : 0.0;
    }
    __syncthreads();
    for (int sweep = 0; sweep < 100 && finite; ++sweep) {
      double off = 0.0, diag = 0.0;
      for (long long e = t; e < m * m; e += n) {
        const double x = w[e] * w[e];
        if (e / m == e % m) diag += x; else off += x;
      }
      off = nx_la_sum(off);
      diag = nx_la_sum(diag);
      if (off <= 1e-30 * diag || off == 0.0) break;
      for (long long p = 0; p + 1 < m; ++p)
        for (long long q = p + 1; q < m; ++q) {
          if (t == 0) {
            const double apq = w[p * m + q];
            rc = 1.0, rs = 0.0, rt = 0.0;
            if (apq != 0.0) {
              const double theta = (w[q * m + q] - w[p * m + p]) / (2.0 * apq);
              const double tt = (theta >= 0.0 ? 1.0 : -1.0) / (fabs(theta) + sqrt(theta * theta + 1.0));
              rt = tt, rc = 1.0 / sqrt(tt * tt + 1.0), rs = tt * rc;
            }
          }
          __syncthreads();
          const double c = rc, s = rs, tt = rt;
          if (s != 0.0) {
            for (long long r = t; r < m; r += n) {
              const double vp = v[r * m + p], vq = v[r * m + q];
              v[r * m + p] = c * vp - s * vq;
              v[r * m + q] = s * vp + c * vq;
              if (r == p || r == q) continue;
              const double wp = w[r * m + p], wq = w[r * m + q];
              w[r * m + p] = w[p * m + r] = c * wp - s * wq;
              w[r * m + q] = w[q * m + r] = s * wp + c * wq;
            }
            if (t == 0) {
              const double apq = w[p * m + q];
              w[p * m + p] -= tt * apq;
              w[q * m + q] += tt * apq;
              w[p * m + q] = w[q * m + p] = 0.0;
            }
          }
          __syncthreads();
        }
    }
    if (t == 0) {  // eigenvalues ascending (stable on ties)
      for (long long i = 0; i < m; ++i) order[i] = i;
      for (long long i = 1; i < m; ++i)
        for (long long j = i; j > 0 && w[order[j] * m + order[j]] < w[order[j - 1] * m + order[j - 1]]; --j) {
          const long long x = order[j];
          order[j] = order[j - 1];
          order[j - 1] = x;
        }
    }
    __syncthreads();
    for (long long c = t; c < k; c += n) {
      const long long col = order[m - k + c];
      double big = 0.0;
      for (long long r = 0; r < m; ++r) big = fmax(big, fabs(v[r * m + col]));
      double sign = 1.0;
      for (long long r = 0; r < m && big > 0.0; ++r)
        if (fabs(v[r * m + col]) >= big * (1.0 - 1e-8)) {
          sign = v[r * m + col] < 0.0 ? -1.0 : 1.0;
          break;
        }
      w_out[b * k + c] = ($T)(finite ? w[col * m + col] : nx_la_nan());
      for (long long r = 0; r < m; ++r) v_out[b * m * k + r * k + c] = ($T)(finite ? sign * v[r * m + col] : nx_la_nan());
    }
    __syncthreads();
  }
}
)";

bool is_linalg(Op op) {
  return op == Op::Cholesky || op == Op::Solve || op == Op::Determinant || op == Op::TriangularSolve || op == Op::Qr ||
         op == Op::Lu || op == Op::Eigh;
}

}  // namespace

bool linalg_supported(const Node& n, std::span<const Operand> in) {
  if (!is_linalg(n.op)) return false;
  DType t = n.outputs[0].dtype;
  if (t != DType::f32 && t != DType::f64) return false;
  for (const Operand& o : in)
    if (o.type.dtype != t || o.type.shape.size() == 0) return false;
  const Shape& s = in[0].type.shape;
  if (s.rank() < 2) return false;
  // The right-hand side has a's batch (the ops broadcast them so): each block reads both.
  auto batch = [](const Shape& x) { return x.size() / std::max<int64_t>(x[x.rank() - 1] * x[x.rank() - 2], 1); };
  if (in.size() > 1 && (in[1].type.shape.rank() < 2 || batch(in[1].type.shape) != batch(s))) return false;
  // Jacobi's rotations are sequential: larger symmetric matrices go to cuSOLVER (solver.hpp),
  // or to interp where it is missing.
  return n.op != Op::Eigh || s[s.rank() - 1] <= kMaxJacobi;
}

LinalgArgs linalg_args(const Node& n, std::span<const TensorType> types) {
  LinalgArgs a;
  const Shape& s = types[0].shape;
  a.m = s[s.rank() - 1];
  a.batch = s.size() / std::max<int64_t>(a.m * a.m, 1);
  a.lower = n.attrs.flag ? 1 : 0;
  a.work_doubles = a.m * a.m;
  if (n.op == Op::Solve) {
    a.k = types[1].shape[types[1].shape.rank() - 1];
    a.work_doubles += a.m * a.k;
  }
  if (n.op == Op::Lu) {
    a.rows = s[s.rank() - 2], a.cols = a.m;  // m x c
    a.batch = s.size() / std::max<int64_t>(a.rows * a.cols, 1);
    a.work_doubles = a.rows * a.cols;
    a.m = a.rows;  // perm's length
  }
  if (n.op == Op::Eigh) {
    a.k = n.attrs.k > 0 ? n.attrs.k : a.m;  // the pairs kept
    a.work_doubles = 2 * a.m * a.m;
  }
  if (n.op == Op::Qr) {
    a.rows = s[s.rank() - 2], a.cols = a.m;  // m x c
    a.k = n.outputs[0].shape[n.outputs[0].shape.rank() - 1];  // q's columns
    a.batch = s.size() / std::max<int64_t>(a.rows * a.cols, 1);
    a.work_doubles = a.rows * a.cols + a.rows * a.k + std::min(a.rows, a.cols);
  }
  if (n.op == Op::TriangularSolve) {
    const Shape& r = types[1].shape;
    a.rows = r[r.rank() - 2], a.cols = r[r.rank() - 1];
    a.left = n.attrs.flag2 ? 1 : 0;
    // op(a) is lower where a is lower and not transposed, or upper and transposed; a
    // right-side solve runs on op(a)^T: the other triangle, read the other way round.
    bool op_lower = n.attrs.flag != n.attrs.flag3;
    a.tri_lower = (a.left ? op_lower : !op_lower) ? 1 : 0;
    a.swap = (a.left ? n.attrs.flag3 : !n.attrs.flag3) ? 1 : 0;
    a.work_doubles = a.m * (a.left ? a.cols : a.rows);
  }
  return a;
}

std::string linalg_source(const Node& n, std::span<const TensorType> types, const std::string& name) {
  const char* body = n.op == Op::Cholesky ? kCholesky : n.op == Op::Solve ? kSolve : n.op == Op::Determinant ? kDeterminant
                     : n.op == Op::Qr ? kQr : n.op == Op::Lu ? kLu : n.op == Op::Eigh ? kEigh : kTriangular;
  return kHelpers + replaced(body, name, c_type(types[0].dtype));
}

std::vector<BufferPtr> linalg(const Node& n, std::span<const Operand> in, Backend& be) {
  std::vector<TensorType> types;
  for (const Operand& o : in) types.push_back(o.type);
  const void* kernel = load_source(linalg_source(n, types, "nx_linalg"), "nx_linalg");
  LinalgArgs la = linalg_args(n, types);
  auto blocks = static_cast<unsigned>(std::clamp<long long>(la.batch, 1, int64_t{need_device().sms} * 4));
  std::vector<BufferPtr> outs;
  for (const TensorType& t : n.outputs) outs.push_back(be.allocate(t.bytes()));
  BufferPtr work = be.allocate(static_cast<size_t>(blocks) * static_cast<size_t>(la.work_doubles) * sizeof(double));
  BufferPtr perms = be.allocate(static_cast<size_t>(blocks) * static_cast<size_t>(la.m) * sizeof(long long));
  void *a = in[0].buffer->data(), *b = in.size() > 1 ? in[1].buffer->data() : nullptr, *y = outs[0]->data(), *w = work->data(),
       *p = perms->data(), *r = outs.back()->data(), *l = outs.size() > 2 ? outs[1]->data() : nullptr;
  long long rr = outs.size() > 1 ? n.outputs[1].shape[n.outputs[1].shape.rank() - 2] : 0;
  std::vector<void*> args;
  switch (n.op) {
    case Op::Cholesky: args = {&a, &y, &w, &la.m, &la.batch, &la.lower}; break;
    case Op::Solve: args = {&a, &b, &y, &w, &p, &la.m, &la.k, &la.batch}; break;
    case Op::Determinant: args = {&a, &y, &w, &p, &la.m, &la.batch}; break;
    case Op::Qr: args = {&a, &y, &r, &w, &la.rows, &la.cols, &la.k, &rr, &la.batch}; break;
    case Op::Lu: args = {&a, &y, &l, &r, &w, &p, &la.m, &la.cols, &la.batch}; break;
    case Op::Eigh: args = {&a, &y, &r, &w, &p, &la.m, &la.k, &la.batch}; break;
    default: args = {&a, &b, &y, &w, &la.m, &la.rows, &la.cols, &la.batch, &la.left, &la.tri_lower, &la.swap};
  }
  launch(kernel, dim3(blocks), dim3(kBlock), args);
  return outs;  // work and perms are freed in stream order
}

}  // namespace nx::cuda_backend
