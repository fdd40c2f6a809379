#include "solver.hpp"

#include <cusolverDn.h>

#include <algorithm>
#include <mutex>

#include "device.hpp"
#include "kernels.hpp"
#include "linalg.hpp"
#include "nx/error.hpp"
#include "shared_library.hpp"

namespace nx::cuda_backend {
namespace {

struct Library {
  SharedLibrary so{{"libcusolver.so.12", "libcusolver.so.11", "libcusolver.so"}, "cuSOLVER"};
  decltype(&cusolverGetVersion) version = nullptr;
  decltype(&cusolverDnCreate) create = nullptr;
  decltype(&cusolverDnSetStream) set_stream = nullptr;
  decltype(&cusolverDnCreateParams) create_params = nullptr;
  decltype(&cusolverDnXgesvd_bufferSize) gesvd_size = nullptr;
  decltype(&cusolverDnXgesvd) gesvd = nullptr;
  decltype(&cusolverDnXsyevd_bufferSize) syevd_size = nullptr;
  decltype(&cusolverDnXsyevd) syevd = nullptr;
  decltype(&cusolverDnXpotrf_bufferSize) potrf_size = nullptr;
  decltype(&cusolverDnXpotrf) potrf = nullptr;
  decltype(&cusolverDnXgetrf_bufferSize) getrf_size = nullptr;
  decltype(&cusolverDnXgetrf) getrf = nullptr;
  decltype(&cusolverDnXgetrs) getrs = nullptr;
};

const Library& library() {
  static const Library lib = [] {
    Library l;
    l.so.bind(l.version, "cusolverGetVersion");
    l.so.bind(l.create, "cusolverDnCreate");
    l.so.bind(l.set_stream, "cusolverDnSetStream");
    l.so.bind(l.create_params, "cusolverDnCreateParams");
    l.so.bind(l.gesvd_size, "cusolverDnXgesvd_bufferSize");
    l.so.bind(l.gesvd, "cusolverDnXgesvd");
    l.so.bind(l.syevd_size, "cusolverDnXsyevd_bufferSize");
    l.so.bind(l.syevd, "cusolverDnXsyevd");
    l.so.bind(l.potrf_size, "cusolverDnXpotrf_bufferSize");
    l.so.bind(l.potrf, "cusolverDnXpotrf");
    l.so.bind(l.getrf_size, "cusolverDnXgetrf_bufferSize");
    l.so.bind(l.getrf, "cusolverDnXgetrf");
    l.so.bind(l.getrs, "cusolverDnXgetrs");
    return l;
  }();
  return lib;
}

void ok(cusolverStatus_t s, const char* what) {
  if (s != CUSOLVER_STATUS_SUCCESS) throw Error("cuda", std::string("cuSOLVER ") + what + " failed (status " + std::to_string(s) + ")");
}

// The handle and its parameters, made once; calls go one at a time (the stream is set
// per call, as a capture's may differ).
std::mutex solver_mutex;
struct Handle {
  cusolverDnHandle_t handle = nullptr;
  cusolverDnParams_t params = nullptr;
};
const Handle& handle() {
  static const Handle h = [] {
    need_device();
    Handle made;
    ok(library().create(&made.handle), "cusolverDnCreate");
    ok(library().create_params(&made.params), "cusolverDnCreateParams");
    return made;
  }();
  return h;
}

constexpr const char* kKernels = R"(
// mark: note matrices holding NaN or Inf in bad and load them as zeros (cuSOLVER's
// iterations fail on NaN; their outputs become NaN anyway); else copy as they are.
extern "C" __global__ void nx_solver_load(const T* a, double* w, int* bad, long long rows, long long cols, long long off,
                                          long long rs, long long cs, long long bs, long long batch, long long mark) {
  long long per = rows * cols, total = per * batch;
  for (long long e = blockIdx.x * (long long)blockDim.x + threadIdx.x; e < total; e += (long long)gridDim.x * blockDim.x) {
    long long b = e / per, r = e % per, i = r % rows, j = r / rows;
    double v = (double)a[off + b * bs + i * rs + j * cs];
    bool finite = isfinite(v);
    w[e] = finite || !mark ? v : 0.0;
    if (!finite && mark) bad[b] = 1;
  }
}

// Interp's sign rule: a vector whose first entry within 1e-8 of its largest magnitude is
// negative is negated. Block per vector: columns of u (with row j of vt for j < paired),
// then vt's unpaired rows. blockDim.x a power of two, at most 256.
extern "C" __global__ void nx_solver_signs(double* u, long long ur, long long uc, long long uo, long long urs, long long ucs,
                                           long long ubs, double* vt, long long vr, long long vc, long long vo, long long vrs,
                                           long long vcs, long long vbs, long long paired, long long batch) {
  __shared__ double big[256];
  __shared__ long long first[256];
  long long lanes = uc + (vt ? vr - paired : 0);
  unsigned t = threadIdx.x;
  for (long long task = blockIdx.x; task < batch * lanes; task += gridDim.x) {
    long long b = task / lanes, j = task % lanes;
    bool in_u = j < uc;
    double* v = in_u ? u + uo + b * ubs + j * ucs : vt + vo + b * vbs + (paired + j - uc) * vrs;
    long long len = in_u ? ur : vc, step = in_u ? urs : vcs;
    double m = 0;
    for (long long i = t; i < len; i += blockDim.x) m = fmax(m, fabs(v[i * step]));
    big[t] = m;
    __syncthreads();
    for (unsigned s = blockDim.x / 2; s > 0; s >>= 1) {
      if (t < s) big[t] = fmax(big[t], big[t + s]);
      __syncthreads();
    }
    double top = big[0];
    long long f = len;
    for (long long i = t; top > 0 && i < len; i += blockDim.x)
      if (fabs(v[i * step]) >= top * (1 - 1e-8)) {
        f = i;
        break;
      }
    first[t] = f;
    __syncthreads();
    for (unsigned s = blockDim.x / 2; s > 0; s >>= 1) {
      if (t < s && first[t + s] < first[t]) first[t] = first[t + s];
      __syncthreads();
    }
    bool flip = first[0] < len && v[first[0] * step] < 0;
    __syncthreads();  // every thread has read the deciding entry
    if (flip) {
      for (long long i = t; i < len; i += blockDim.x) v[i * step] = -v[i * step];
      if (in_u && vt && j < paired)
        for (long long l = t; l < vc; l += blockDim.x) vt[vo + b * vbs + j * vrs + l * vcs] *= -1;
    }
    __syncthreads();  // before the next vector reuses the shared arrays
  }
}

// flags: batch ints saying a matrix held NaN or Inf, then cuSOLVER's info per matrix
// (non-zero: it did not converge, or the matrix is not positive definite). tri: 1 keeps
// the lower triangle (i >= j), 2 the upper, writing zeros elsewhere; 0 all.
extern "C" __global__ void nx_solver_store(const double* src, T* out, const int* flags, long long rows, long long cols,
                                           long long off, long long rs, long long cs, long long bs, long long batch,
                                           long long tri) {
  long long per = rows * cols, total = per * batch;
  for (long long e = blockIdx.x * (long long)blockDim.x + threadIdx.x; e < total; e += (long long)gridDim.x * blockDim.x) {
    long long b = e / per, r = e % per, i = r / cols, j = r % cols;
    bool kept = tri == 0 || (tri == 1 ? i >= j : i <= j);
    out[e] = flags[b] || flags[batch + b] ? (T)nan("") : kept ? (T)src[off + b * bs + i * rs + j * cs] : (T)0;
  }
}
)";

MatrixView vector_view(int64_t count, int64_t offset, int64_t batch) { return {1, count, offset, 0, 1, batch}; }

}  // namespace

std::string solver_source(const std::string& type) { return "typedef " + type + " T;\n" + kKernels; }

SolverPlan solver_plan(const Node& n, std::span<const TensorType> in) {
  const Shape& s = in[0].shape;
  int64_t m = s[s.rank() - 2], c = s[s.rank() - 1], k = std::min(m, c);
  SolverPlan p;
  p.batch = s.size() / std::max<int64_t>(m * c, 1);
  p.tri.assign(n.outputs.size(), 0);
  if (n.op == Op::Cholesky) {  // potrf's lower L over a's lower triangle; above it, a is left
    p.rows = p.cols = m;
    p.load = {m, m, 0, m, 1, m * m};
    p.outputs = {n.attrs.flag ? MatrixView{m, m, 0, 1, m, m * m} : MatrixView{m, m, 0, m, 1, m * m}};
    p.source = {0};
    p.tri = {n.attrs.flag ? 1 : 2};
    return p;
  }
  if (n.op == Op::Solve) {  // getrf then getrs; the right-hand side column-major in source 2
    const Shape& r = in[1].shape;
    p.rows = p.cols = m;
    p.rhs_cols = r[r.rank() - 1];
    p.load = {m, m, 0, m, 1, m * m};
    p.rhs_load = {m, p.rhs_cols, 0, p.rhs_cols, 1, m * p.rhs_cols};
    p.outputs = {{m, p.rhs_cols, 0, 1, m, m * p.rhs_cols}};
    p.source = {2};
    p.mark = false;  // NaN and Inf go through, and a singular a gives Inf/NaN, as LAPACK's solvers
    return p;
  }
  if (n.op == Op::Eigh) {
    int64_t kept = n.attrs.k > 0 ? n.attrs.k : m;
    p.rows = p.cols = m;
    p.load = {m, m, 0, m, 1, m * m};  // column-major copy of a: its lower triangle is LAPACK's lower
    p.outputs = {vector_view(kept, m - kept, m), {m, kept, (m - kept) * m, 1, m, m * m}};
    p.source = {1, 0};
    return p;
  }
  bool full = n.attrs.flag;
  int64_t uc = full ? m : k, vr = full ? c : k;
  p.job = full ? 'A' : 'S';
  p.paired = k;
  if (c >= m) {
    // cuSOLVER needs rows >= cols: it factors a^T = U S VT, so u = VT^T and vt = U^T.
    p.rows = c, p.cols = m, p.u_cols = vr, p.vt_rows = uc;
    p.load = {c, m, 0, 1, c, m * c};
    p.outputs = {{m, uc, 0, p.vt_rows, 1, p.vt_rows * p.cols}, vector_view(k, 0, k), {vr, c, 0, p.rows, 1, p.rows * p.u_cols}};
    p.source = {3, 1, 2};
  } else {
    p.rows = m, p.cols = c, p.u_cols = uc, p.vt_rows = vr;
    p.load = {m, c, 0, c, 1, m * c};
    p.outputs = {{m, uc, 0, 1, p.rows, p.rows * p.u_cols}, vector_view(k, 0, k), {vr, c, 0, 1, p.vt_rows, p.vt_rows * p.cols}};
    p.source = {2, 1, 3};
  }
  return p;
}

bool solver_supported(const Node& n, std::span<const Operand> in) {
  if (n.op != Op::Svd && n.op != Op::Eigh && n.op != Op::Cholesky && n.op != Op::Solve) return false;
  DType t = n.outputs[0].dtype;
  for (const Operand& o : in)
    if (o.type.dtype != t || o.type.shape.rank() < 2 || o.type.shape.size() == 0) return false;  // empty: interp's
  if (t != DType::f32 && t != DType::f64) return false;
  const Shape& s = in[0].type.shape;
  int64_t m = s[s.rank() - 1], batch = s.size() / (m * s[s.rank() - 2]);
  if (n.op == Op::Solve) {  // the right-hand side has a's batch (the op broadcasts them so)
    const Shape& r = in[1].type.shape;
    if (r.size() / (r[r.rank() - 1] * r[r.rank() - 2]) != batch || r[r.rank() - 2] != m) return false;
  }
  // The block-per-matrix kernels (linalg.hpp) suit many small matrices at once: eigh's
  // Jacobi rotates one pair at a time (a 256 x 256 matrix takes ~30k rotations a sweep,
  // each two barriers), cholesky and LU take m steps of one block. cuSOLVER's blocked
  // routines suit few or larger matrices.
  if (n.op == Op::Eigh && m <= kMaxJacobi && (m <= kJacobiAlways || batch >= kBlocksBatch)) return false;
  if (n.op != Op::Eigh && n.op != Op::Svd && m <= kBlockLimit && (m <= kBlockAlways || batch >= kBlocksBatch)) return false;
  return library().so.missing().empty();
}

std::vector<BufferPtr> solver(const Node& n, std::span<const Operand> in, Backend& be) {
  std::vector<TensorType> types;
  for (const Operand& o : in) types.push_back(o.type);
  SolverPlan p = solver_plan(n, types);
  DType t = n.outputs[0].dtype;
  std::string source = solver_source(t == DType::f64 ? "double" : "float");
  const void* load = load_source(source, "nx_solver_load");
  const void* signs = load_source(source, "nx_solver_signs");
  const void* store = load_source(source, "nx_solver_store");
  bool svd = n.op == Op::Svd, solve = n.op == Op::Solve;
  int64_t k = std::min(p.rows, p.cols), per = p.rows * p.cols;
  auto doubles = [&](int64_t count) { return be.allocate(static_cast<size_t>(std::max<int64_t>(count, 1)) * sizeof(double)); };
  int64_t third = svd ? p.rows * p.u_cols : solve ? p.rows * p.rhs_cols : 0;
  std::vector<BufferPtr> sources{doubles(p.batch * per), doubles(p.batch * k), doubles(p.batch * third),
                                 doubles(svd ? p.batch * p.vt_rows * p.cols : 0)};
  // bad, then the info the store reads, then solve's info (an exact zero pivot gives
  // Inf/NaN through the substitution, as LAPACK's solvers, not NaN throughout).
  BufferPtr flags = be.allocate(static_cast<size_t>(p.batch) * 3 * sizeof(int));
  int* bad = static_cast<int*>(flags->data());
  int* info = bad + (solve ? 2 : 1) * p.batch;
  check(cudaMemsetAsync(bad, 0, static_cast<size_t>(p.batch) * 3 * sizeof(int), stream()), "cudaMemsetAsync");
  BufferPtr pivots = solve ? be.allocate(static_cast<size_t>(p.batch * p.rows) * sizeof(int64_t)) : nullptr;

  long long batch = p.batch, mark = p.mark ? 1 : 0;
  auto load_into = [&](const void* a, void* w, MatrixView l) {
    std::vector<void*> args{&a, &w, &bad, &l.rows, &l.cols, &l.offset, &l.row, &l.col, &l.batch, &batch, &mark};
    launch_counted(load, args, p.batch * l.rows * l.cols);
  };
  load_into(in[0].buffer->data(), sources[0]->data(), p.load);
  if (solve) load_into(in[1].buffer->data(), sources[2]->data(), p.rhs_load);

  {
    std::lock_guard lock(solver_mutex);
    const Handle& h = handle();
    ok(library().set_stream(h.handle, stream()), "cusolverDnSetStream");
    size_t device_bytes = 0, host_bytes = 0;
    auto* a0 = static_cast<double*>(sources[0]->data());
    auto* s0 = static_cast<double*>(sources[1]->data());
    auto* x0 = static_cast<double*>(sources[2]->data());  // svd's U, solve's right-hand sides
    auto* vt0 = static_cast<double*>(sources[3]->data());
    auto* piv0 = solve ? static_cast<int64_t*>(pivots->data()) : nullptr;
    const cusolverEigMode_t vectors = CUSOLVER_EIG_MODE_VECTOR;
    const cublasFillMode_t lower = CUBLAS_FILL_MODE_LOWER;
    switch (n.op) {
      case Op::Svd:
        ok(library().gesvd_size(h.handle, h.params, p.job, p.job, p.rows, p.cols, CUDA_R_64F, a0, p.rows, CUDA_R_64F, s0, CUDA_R_64F,
                                x0, p.rows, CUDA_R_64F, vt0, p.vt_rows, CUDA_R_64F, &device_bytes, &host_bytes),
           "gesvd workspace");
        break;
      case Op::Eigh:
        ok(library().syevd_size(h.handle, h.params, vectors, lower, p.rows, CUDA_R_64F, a0, p.rows, CUDA_R_64F, s0, CUDA_R_64F,
                                &device_bytes, &host_bytes),
           "syevd workspace");
        break;
      case Op::Cholesky:
        ok(library().potrf_size(h.handle, h.params, lower, p.rows, CUDA_R_64F, a0, p.rows, CUDA_R_64F, &device_bytes, &host_bytes),
           "potrf workspace");
        break;
      default:
        ok(library().getrf_size(h.handle, h.params, p.rows, p.rows, CUDA_R_64F, a0, p.rows, CUDA_R_64F, &device_bytes, &host_bytes),
           "getrf workspace");
    }
    BufferPtr device_work = be.allocate(std::max<size_t>(device_bytes, 1));
    std::vector<char> host_work(std::max<size_t>(host_bytes, 1));
    void* dw = device_work->data();
    void* hw = host_work.data();
    for (int64_t b = 0; b < p.batch; ++b) {
      double* ab = a0 + b * per;
      switch (n.op) {
        case Op::Svd:
          ok(library().gesvd(h.handle, h.params, p.job, p.job, p.rows, p.cols, CUDA_R_64F, ab, p.rows, CUDA_R_64F, s0 + b * k,
                             CUDA_R_64F, x0 + b * third, p.rows, CUDA_R_64F, vt0 + b * p.vt_rows * p.cols, p.vt_rows, CUDA_R_64F, dw,
                             device_bytes, hw, host_bytes, info + b),
             "gesvd");
          break;
        case Op::Eigh:
          ok(library().syevd(h.handle, h.params, vectors, lower, p.rows, CUDA_R_64F, ab, p.rows, CUDA_R_64F, s0 + b * k, CUDA_R_64F,
                             dw, device_bytes, hw, host_bytes, info + b),
             "syevd");
          break;
        case Op::Cholesky:
          ok(library().potrf(h.handle, h.params, lower, p.rows, CUDA_R_64F, ab, p.rows, CUDA_R_64F, dw, device_bytes, hw, host_bytes,
                             info + b),
             "potrf");
          break;
        default:
          ok(library().getrf(h.handle, h.params, p.rows, p.rows, CUDA_R_64F, ab, p.rows, piv0 + b * p.rows, CUDA_R_64F, dw,
                             device_bytes, hw, host_bytes, info + b),
             "getrf");
          ok(library().getrs(h.handle, h.params, CUBLAS_OP_N, p.rows, p.rhs_cols, CUDA_R_64F, ab, p.rows, piv0 + b * p.rows,
                             CUDA_R_64F, x0 + b * third, p.rows, info + b),
             "getrs");
      }
    }
    // The host workspace must outlive the queued calls.
    if (host_bytes > 0) check(cudaStreamSynchronize(stream()), "a cuSOLVER call");
  }

  if (svd || n.op == Op::Eigh) {
    int vec = svd ? 0 : 1;  // the output whose columns the sign rule normalises
    MatrixView uv = p.outputs[static_cast<size_t>(vec)];
    MatrixView vv = svd ? p.outputs[2] : MatrixView{};
    void* u = sources[static_cast<size_t>(p.source[static_cast<size_t>(vec)])]->data();
    void* vt = svd ? sources[static_cast<size_t>(p.source[2])]->data() : nullptr;
    long long paired = p.paired;
    std::vector<void*> sign_args{&u,       &uv.rows,   &uv.cols, &uv.offset, &uv.row,   &uv.col, &uv.batch, &vt,
                                 &vv.rows, &vv.cols,   &vv.offset, &vv.row,  &vv.col, &vv.batch, &paired,  &batch};
    long long count = p.batch * (uv.cols + (svd ? vv.rows - p.paired : 0));
    auto blocks = static_cast<unsigned>(std::clamp<long long>(count, 1, int64_t{need_device().sms} * 8));
    launch(signs, dim3(blocks), dim3(256), sign_args);
  }

  std::vector<BufferPtr> outs;
  for (size_t o = 0; o < n.outputs.size(); ++o) {
    outs.push_back(be.allocate(n.outputs[o].bytes()));
    const void* src = sources[static_cast<size_t>(p.source[o])]->data();
    void* out = outs.back()->data();
    MatrixView v = p.outputs[o];
    long long tri = p.tri[o];
    std::vector<void*> store_args{&src, &out, &bad, &v.rows, &v.cols, &v.offset, &v.row, &v.col, &v.batch, &batch, &tri};
    launch_counted(store, store_args, p.batch * v.rows * v.cols);
  }
  return outs;  // the working buffers are freed in stream order
}

}  // namespace nx::cuda_backend
