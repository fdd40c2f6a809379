#include "blaslt.hpp"

#include <cublasLt.h>

#include <atomic>
#include <cstdlib>
#include <map>
#include <mutex>
#include <numeric>
#include <optional>
#include <string>
#include <tuple>

#include "device.hpp"
#include "kernels.hpp"
#include "nx/detail/dot_axes.hpp"
#include "nx/detail/fusion/index_map.hpp"
#include "nx/error.hpp"

namespace nx::cuda_backend {
namespace {

std::atomic<bool> tf32_on{[] {
  const char* e = std::getenv("NX_CUDA_TF32");
  return e && std::string(e) == "1";
}()};

void check_lt(cublasStatus_t s, const char* what) {
  if (s != CUBLAS_STATUS_SUCCESS) throw Error("cuda", std::string(what) + ": " + cublasLtGetStatusString(s));
}

cublasLtHandle_t handle() {
  static cublasLtHandle_t h = [] {
    cublasLtHandle_t made = nullptr;
    check_lt(cublasLtCreate(&made), "cublasLtCreate");
    return made;  // lives for the process
  }();
  return h;
}

cudaDataType_t data_type(DType t) {
  switch (t) {
    case DType::f32: return CUDA_R_32F;
    case DType::f64: return CUDA_R_64F;
    case DType::bf16: return CUDA_R_16BF;
    case DType::f16: return CUDA_R_16F;
    default: throw Error("cuda", "cuBLASLt has no product of " + std::string(name(t)));
  }
}

int64_t product(const Shape& s, const std::vector<int64_t>& axes) {
  int64_t p = 1;
  for (int64_t a : axes) p *= s[static_cast<int>(a)];
  return p;
}

// Operand x, whose axes `outer` then `inner` (plus `batch`) form a row-major (outer,
// inner) matrix, as cuBLASLt's column-major (inner, outer) one, if its strides allow.
std::optional<LtMatrix> as_matrix(const Shape& shape, const std::vector<int64_t>& batch, const std::vector<int64_t>& outer,
                                const std::vector<int64_t>& inner) {
  auto strides = shape.strides();
  auto b = detail::merge_axes(shape, strides, batch);
  auto o = detail::merge_axes(shape, strides, outer);
  auto i = detail::merge_axes(shape, strides, inner);
  if (!b || !o || !i) return std::nullopt;
  LtMatrix m;
  m.batch_stride = b->size > 1 ? b->stride : 0;
  if (i->size == 1 || i->stride == 1) {  // row-major (outer, inner): column-major (inner, outer)
    m.rows = i->size, m.cols = o->size, m.ld = o->size > 1 ? o->stride : i->size;
    if (m.ld < m.rows) return std::nullopt;
    return m;
  }
  if (o->size == 1 || o->stride == 1) {  // column-major (outer, inner): its transpose
    m.rows = o->size, m.cols = i->size, m.ld = i->stride, m.transposed = true;
    if (m.ld < m.rows) return std::nullopt;
    return m;
  }
  return std::nullopt;
}

// x with its axes in the order `order`, contiguous, made by a fused gather kernel.
BufferPtr gathered(const Operand& x, const std::vector<int64_t>& order, Backend& be) {
  KernelSpec spec;
  spec.inputs = {{x.type.dtype, KernelSpec::Access::full}};
  IndexMap m = contiguous(x.type.shape);
  map_transpose(m, order);
  spec.maps = {simplified(m)};
  spec.code = {{.op = Op::Parameter, .dtype = x.type.dtype, .operands = {}, .input = 0, .per_row = false, .map = 0}};
  spec.outputs = {0};
  auto k = load_kernel(spec);
  BufferPtr out = be.allocate(x.type.bytes());
  run_kernel(*k, {x.buffer->data()}, {out->data()}, 1, x.type.shape.size(), be);
  return out;
}

size_t alignment(const void* p, int64_t batch_stride_bytes) {
  auto a = reinterpret_cast<uintptr_t>(p) | static_cast<uintptr_t>(batch_stride_bytes) | 256;
  return static_cast<size_t>(a & (~a + 1));  // the lowest set bit
}

// A planned product (descriptors and the heuristic's algorithm), by everything that
// decides it.
struct Plan {
  cublasLtMatmulDesc_t desc = nullptr;
  cublasLtMatrixLayout_t a = nullptr, b = nullptr, c = nullptr;
  cublasLtMatmulAlgo_t algo{};
  size_t workspace = 0;
};
using PlanKey = std::tuple<int, int64_t, int64_t, int64_t, int64_t, bool, int64_t, int64_t, bool, int64_t, int64_t,
                           int64_t, int64_t, size_t, size_t, size_t, bool, int>;

constexpr size_t kWorkspaceBytes = size_t{32} << 20;

cublasLtMatrixLayout_t layout(cudaDataType_t t, int64_t rows, int64_t cols, int64_t ld, int64_t batch, int64_t stride) {
  cublasLtMatrixLayout_t l = nullptr;
  check_lt(cublasLtMatrixLayoutCreate(&l, t, static_cast<uint64_t>(rows), static_cast<uint64_t>(cols), ld),
           "cublasLtMatrixLayoutCreate");
  if (batch > 1) {
    auto count = static_cast<int32_t>(batch);
    check_lt(cublasLtMatrixLayoutSetAttribute(l, CUBLASLT_MATRIX_LAYOUT_BATCH_COUNT, &count, sizeof count), "batch count");
    check_lt(cublasLtMatrixLayoutSetAttribute(l, CUBLASLT_MATRIX_LAYOUT_STRIDED_BATCH_OFFSET, &stride, sizeof stride),
             "batch stride");
  }
  return l;
}

}  // namespace

void set_tf32(bool on) { tf32_on = on; }
bool tf32() { return tf32_on; }

bool lt_supports(DType result, DType lhs, DType rhs) {
  bool floating = result == DType::f32 || result == DType::f64 || result == DType::bf16 || result == DType::f16;
  return floating && lhs == result && rhs == result;
}

BufferPtr lt_dot(const Node& n, std::span<const Operand> in, Backend& be, const LtEpilogue& epilogue) {
  const Attrs& at = n.attrs;
  const TensorType& out = n.outputs[0];
  DType t = out.dtype;
  if (in[0].type.dtype != t || in[1].type.dtype != t) throw Error("cuda", "cuBLASLt: operands and result differ in dtype");
  const Shape &as = in[0].type.shape, &bs = in[1].type.shape;
  auto fa = detail::free_axes(as.rank(), at.lhs_contract, at.lhs_batch);
  auto fb = detail::free_axes(bs.rank(), at.rhs_contract, at.rhs_batch);
  int64_t B = product(as, at.lhs_batch), M = product(as, fa), K = product(as, at.lhs_contract), N = product(bs, fb);
  BufferPtr result = be.allocate(out.bytes());
  if (B * M * N == 0) return result;
  if (K == 0) {  // an empty sum
    check(cudaMemsetAsync(result->data(), 0, out.bytes(), stream()), "cudaMemsetAsync");
    return result;
  }
  // Row-major C (M, N) = A (M, K) B (K, N) is column-major C^T = B^T A^T: cuBLASLt's
  // first operand is ours B, its second ours A.
  BufferPtr a_buf = in[0].buffer, b_buf = in[1].buffer;
  auto join = [](std::vector<int64_t> x, const std::vector<int64_t>& y, const std::vector<int64_t>& z) {
    x.insert(x.end(), y.begin(), y.end());
    x.insert(x.end(), z.begin(), z.end());
    return x;
  };
  std::optional<LtMatrix> ma = as_matrix(as, at.lhs_batch, fa, at.lhs_contract);  // (M, K): column-major (K, M)
  std::optional<LtMatrix> mb = as_matrix(bs, at.rhs_batch, at.rhs_contract, fb);  // (K, N): column-major (N, K)
  if (!ma) {
    a_buf = gathered(in[0], join(at.lhs_batch, fa, at.lhs_contract), be);
    ma = LtMatrix{.rows = K, .cols = M, .ld = K, .batch_stride = B > 1 ? M * K : 0, .transposed = false};
  }
  if (!mb) {
    b_buf = gathered(in[1], join(at.rhs_batch, at.rhs_contract, fb), be);
    mb = LtMatrix{.rows = N, .cols = K, .ld = N, .batch_stride = B > 1 ? K * N : 0, .transposed = false};
  }
  // Row-major C (M, N) = A (M, K) B (K, N) is column-major C^T (N, M) = B^T A^T.
  lt_matmul(t, B, b_buf->data(), *mb, a_buf->data(), *ma, result->data(), N, M * N, N, M, K, be, epilogue);
  return result;
}

void lt_matmul(DType t, int64_t batch, const void* a, const LtMatrix& ma, const void* b, const LtMatrix& mb, void* d,
               int64_t ld_d, int64_t d_stride, int64_t m, int64_t n, int64_t k, Backend& be, const LtEpilogue& epilogue) {
  size_t bytes = item_size(t);
  int epi = !epilogue.bias ? 0 : epilogue.relu ? 2 : 1;
  size_t align_a = alignment(a, ma.batch_stride * static_cast<int64_t>(bytes));
  size_t align_b = alignment(b, mb.batch_stride * static_cast<int64_t>(bytes));
  size_t align_c = alignment(d, d_stride * static_cast<int64_t>(bytes));
  bool fast = t == DType::f32 && tf32_on;
  PlanKey key{static_cast<int>(t), batch, m, n, k, ma.transposed, ma.ld, ma.batch_stride, mb.transposed, mb.ld, mb.batch_stride,
              ld_d, d_stride, align_a, align_b, align_c, fast, epi};

  static std::mutex mu;
  static auto* plans = new std::map<PlanKey, Plan>;  // lives for the process
  Plan plan;
  {
    std::lock_guard lock(mu);
    auto it = plans->find(key);
    if (it != plans->end()) plan = it->second;
  }
  cudaDataType_t dt = data_type(t);
  if (!plan.desc) {
    cublasComputeType_t compute = t == DType::f64 ? CUBLAS_COMPUTE_64F : fast ? CUBLAS_COMPUTE_32F_FAST_TF32 : CUBLAS_COMPUTE_32F;
    cudaDataType_t scale = t == DType::f64 ? CUDA_R_64F : CUDA_R_32F;
    check_lt(cublasLtMatmulDescCreate(&plan.desc, compute, scale), "cublasLtMatmulDescCreate");
    cublasOperation_t op_a = ma.transposed ? CUBLAS_OP_T : CUBLAS_OP_N, op_b = mb.transposed ? CUBLAS_OP_T : CUBLAS_OP_N;
    check_lt(cublasLtMatmulDescSetAttribute(plan.desc, CUBLASLT_MATMUL_DESC_TRANSA, &op_a, sizeof op_a), "transa");
    check_lt(cublasLtMatmulDescSetAttribute(plan.desc, CUBLASLT_MATMUL_DESC_TRANSB, &op_b, sizeof op_b), "transb");
    if (epi) {
      cublasLtEpilogue_t e = epi == 2 ? CUBLASLT_EPILOGUE_RELU_BIAS : CUBLASLT_EPILOGUE_BIAS;
      check_lt(cublasLtMatmulDescSetAttribute(plan.desc, CUBLASLT_MATMUL_DESC_EPILOGUE, &e, sizeof e), "epilogue");
      check_lt(cublasLtMatmulDescSetAttribute(plan.desc, CUBLASLT_MATMUL_DESC_BIAS_POINTER, &epilogue.bias, sizeof epilogue.bias),
               "bias pointer");
    }
    plan.a = layout(dt, ma.rows, ma.cols, ma.ld, batch, ma.batch_stride);
    plan.b = layout(dt, mb.rows, mb.cols, mb.ld, batch, mb.batch_stride);
    plan.c = layout(dt, m, n, ld_d, batch, d_stride);
    cublasLtMatmulPreference_t pref = nullptr;
    check_lt(cublasLtMatmulPreferenceCreate(&pref), "cublasLtMatmulPreferenceCreate");
    size_t ws = kWorkspaceBytes;
    auto a32 = static_cast<uint32_t>(align_a), b32 = static_cast<uint32_t>(align_b), c32 = static_cast<uint32_t>(align_c);
    cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &ws, sizeof ws);
    cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_A_BYTES, &a32, sizeof a32);
    cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_B_BYTES, &b32, sizeof b32);
    cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_C_BYTES, &c32, sizeof c32);
    cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_D_BYTES, &c32, sizeof c32);
    cublasLtMatmulHeuristicResult_t found{};
    int count = 0;
    cublasStatus_t s = cublasLtMatmulAlgoGetHeuristic(handle(), plan.desc, plan.a, plan.b, plan.c, plan.c, pref, 1, &found, &count);
    cublasLtMatmulPreferenceDestroy(pref);
    check_lt(s, "cublasLtMatmulAlgoGetHeuristic");
    if (count == 0)
      throw Error("cuda", "cuBLASLt has no algorithm for a " + std::string(name(t)) + " product of (" + std::to_string(m) + ", " +
                              std::to_string(k) + ") by (" + std::to_string(k) + ", " + std::to_string(n) + ")");
    plan.algo = found.algo;
    plan.workspace = found.workspaceSize;
    std::lock_guard lock(mu);
    plan = plans->emplace(key, plan).first->second;  // another thread's plan, if it was first
  }
  BufferPtr workspace = plan.workspace ? be.allocate(plan.workspace) : nullptr;
  float one_f = 1, zero_f = 0;
  double one_d = 1, zero_d = 0;
  const void* alpha = t == DType::f64 ? static_cast<const void*>(&one_d) : &one_f;
  const void* beta = t == DType::f64 ? static_cast<const void*>(&zero_d) : &zero_f;
  // An epilogue's bias pointer is an attribute of the shared descriptor: set and used
  // under one lock (the call only queues the work).
  static std::mutex epilogue_mu;
  std::unique_lock<std::mutex> hold;
  if (epi) {
    hold = std::unique_lock(epilogue_mu);
    check_lt(cublasLtMatmulDescSetAttribute(plan.desc, CUBLASLT_MATMUL_DESC_BIAS_POINTER, &epilogue.bias, sizeof epilogue.bias),
             "bias pointer");
  }
  check_lt(cublasLtMatmul(handle(), plan.desc, alpha, a, plan.a, b, plan.b, beta, d, plan.c, d, plan.c, &plan.algo,
                          workspace ? workspace->data() : nullptr, plan.workspace, stream()),
           "cublasLtMatmul");
}

}  // namespace nx::cuda_backend
