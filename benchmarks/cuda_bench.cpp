// The cuda backend's speed on a GPU, each workload beside its ceiling or its reference in
// the same run (scripts/gpu_check.sh runs it with benchmarks/peers_cuda.py, PyTorch on
// the same GPU, and benchmarks/report_cuda.py prints the table):
//   copy         device-to-device cudaMemcpyAsync of 256 MiB: the bandwidth ceiling
//   chain        y = tanh(a*x+b)*c+x over 64M f32, one fused kernel: goal >= 85% of copy
//   matmul_*     f32 4096^3 and bf16 8192^3 through nx::jit, and cuBLASLt called directly
//                (lt_*): goal within 5%
//   softmax      rows of a 4096 x 4096 f32 array: goal at least PyTorch's speed
//   eager_add    one eager add of 1024 f32 (the host's cost per small op), beside PyTorch's
//   mlp_step, cnn_step  the Adam step of the training benchmarks' models at batch 128
//                       (and *_graphs: the same with CUDA graphs on; cnn_step_columns:
//                       convolutions without cuDNN)
// A plain program (the GPU machine has no Google Benchmark): one JSON object per line,
// {"name", "ms" (median of repeats), "bytes" or "flops"}. Inputs are random, never zeros.
#include <cublasLt.h>
#include <cuda_runtime_api.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <tuple>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

#include "train_models.hpp"

namespace {

void check(cudaError_t e, const char* what) {
  if (e != cudaSuccess) throw std::runtime_error(std::string(what) + ": " + cudaGetErrorString(e));
}
void check(cublasStatus_t s, const char* what) {
  if (s != CUBLAS_STATUS_SUCCESS) throw std::runtime_error(std::string(what) + ": " + cublasLtGetStatusString(s));
}

// The median over `repeats` of the time per call of `inner` calls, each batch ended by a
// device synchronisation; after two warm-up calls (compilation, plans, module loads).
double median_ms(const std::function<void()>& f, int repeats = 15, int inner = 5) {
  f();
  f();
  check(cudaDeviceSynchronize(), "warm-up");
  std::vector<double> t;
  for (int r = 0; r < repeats; ++r) {
    auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < inner; ++i) f();
    check(cudaDeviceSynchronize(), "timed calls");
    t.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count() / inner);
  }
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}

void report(const std::string& name, double ms, const char* unit, double amount) {
  std::printf("{\"name\": \"%s\", \"ms\": %.6f, \"%s\": %.6g}\n", name.c_str(), ms, unit, amount);
  std::fflush(stdout);
}

nx::Tensor on_gpu(const nx::Shape& shape, int seed, nx::DType t = nx::f32) {
  return nx::to(nx::as_type(nx::random::normal(nx::random::key(seed), shape), t), "cuda");
}

// cuBLASLt called directly for row-major C (m, n) = A (m, k) B (k, n): the reference of
// the matmul rows (what nx::jit's product should cost).
double direct_lt_ms(int64_t m, int64_t n, int64_t k, cudaDataType_t type, size_t item) {
  void *a = nullptr, *b = nullptr, *c = nullptr, *ws = nullptr;
  size_t ws_bytes = size_t{32} << 20;
  check(cudaMalloc(&a, m * k * item), "cudaMalloc");
  check(cudaMalloc(&b, k * n * item), "cudaMalloc");
  check(cudaMalloc(&c, m * n * item), "cudaMalloc");
  check(cudaMalloc(&ws, ws_bytes), "cudaMalloc");
  // Random operands, nx's normal draws copied over.
  nx::DType t = type == CUDA_R_32F ? nx::f32 : nx::bf16;
  for (auto [dst, shape, seed] : {std::tuple{a, nx::Shape{m, k}, 7}, std::tuple{b, nx::Shape{k, n}, 8}}) {
    nx::Tensor r = nx::to(nx::as_type(nx::random::normal(nx::random::key(seed), shape), t), "interp");
    const void* src = t == nx::f32 ? static_cast<const void*>(r.data<float>()) : r.data<nx::bfloat16_t>();
    check(cudaMemcpy(dst, src, shape.size() * item, cudaMemcpyHostToDevice), "cudaMemcpy");
  }
  cublasLtHandle_t h;
  check(cublasLtCreate(&h), "cublasLtCreate");
  cublasLtMatmulDesc_t desc;
  check(cublasLtMatmulDescCreate(&desc, CUBLAS_COMPUTE_32F, CUDA_R_32F), "desc");
  cublasLtMatrixLayout_t la, lb, lc;  // column-major: C^T (n, m) = B^T (n, k) A^T (k, m)
  check(cublasLtMatrixLayoutCreate(&la, type, n, k, n), "layout");
  check(cublasLtMatrixLayoutCreate(&lb, type, k, m, k), "layout");
  check(cublasLtMatrixLayoutCreate(&lc, type, n, m, n), "layout");
  cublasLtMatmulPreference_t pref;
  check(cublasLtMatmulPreferenceCreate(&pref), "preference");
  check(cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &ws_bytes, sizeof ws_bytes), "ws");
  cublasLtMatmulHeuristicResult_t found{};
  int count = 0;
  check(cublasLtMatmulAlgoGetHeuristic(h, desc, la, lb, lc, lc, pref, 1, &found, &count), "heuristic");
  if (count == 0) throw std::runtime_error("cuBLASLt has no algorithm");
  float one = 1, zero = 0;
  double ms = median_ms([&] {
    check(cublasLtMatmul(h, desc, &one, b, la, a, lb, &zero, c, lc, c, lc, &found.algo, ws, ws_bytes, nullptr), "matmul");
  });
  cublasLtMatmulPreferenceDestroy(pref);
  cublasLtMatrixLayoutDestroy(la);
  cublasLtMatrixLayoutDestroy(lb);
  cublasLtMatrixLayoutDestroy(lc);
  cublasLtMatmulDescDestroy(desc);
  cublasLtDestroy(h);
  for (void* p : {a, b, c, ws}) cudaFree(p);
  return ms;
}

void train_step(const std::string& name, const bench::nn::Model& model, const nx::Shape& example) {
  constexpr int64_t kSteps = 16;
  nx::train::DataSource data = bench::fixed_batches(example, kSteps);
  bench::nn::Variables vars = bench::nn::init(model, nx::random::key(0), nx::zeros(example));
  auto loop = nx::train::trainer(model, bench::sparse_ce, nx::optim::adam(1e-3)).progress({.enabled = false});
  double ms = median_ms([&] { loop.run(data, vars, {.epochs = 1}); }, 5, 1) / kSteps;
  report(name, ms, "examples", 128);
}

}  // namespace

int main(int argc, char** argv) try {
  std::string only = argc > 1 ? argv[1] : "";
  auto wanted = [&](const char* name) { return only.empty() || only.find(name) != std::string::npos; };
  if (!nx::cuda::available()) {
    std::fprintf(stderr, "nx_bench_cuda: %s\n", nx::cuda::unavailable_reason().c_str());
    return 1;
  }
  std::fprintf(stderr, "device: %s (sm_%d)\n", nx::cuda::device_name().c_str(), nx::cuda::compute_capability());
  nx::set_default_backend("cuda");
  const int64_t n = int64_t{64} << 20;  // 64M f32: 256 MiB
  if (wanted("copy")) {
    void *src = nullptr, *dst = nullptr;
    check(cudaMalloc(&src, n * 4), "cudaMalloc");
    check(cudaMalloc(&dst, n * 4), "cudaMalloc");
    check(cudaMemset(src, 1, n * 4), "cudaMemset");
    report("copy", median_ms([&] { check(cudaMemcpyAsync(dst, src, n * 4, cudaMemcpyDeviceToDevice, nullptr), "copy"); }),
           "bytes", 2.0 * n * 4);
    cudaFree(src);
    cudaFree(dst);
  }
  if (wanted("chain")) {
    nx::Tensor x = on_gpu({n}, 1);
    auto f = nx::jit([](const nx::Tensor& v) { return nx::tanh(v * 1.5f + 0.25f) * 0.5f + v; }, {.backend = "cuda"});
    report("chain", median_ms([&] { f(x); }), "bytes", 2.0 * n * 4);
  }
  if (wanted("matmul")) {
    nx::Tensor a = on_gpu({4096, 4096}, 2), b = on_gpu({4096, 4096}, 3);
    auto mm = nx::jit([](const nx::Tensor& p, const nx::Tensor& q) { return nx::matmul(p, q); }, {.backend = "cuda"});
    double flops32 = 2.0 * 4096 * 4096 * 4096;
    report("matmul_f32", median_ms([&] { mm(a, b); }), "flops", flops32);
    report("lt_f32", direct_lt_ms(4096, 4096, 4096, CUDA_R_32F, 4), "flops", flops32);
    nx::Tensor ah = on_gpu({8192, 8192}, 4, nx::bf16), bh = on_gpu({8192, 8192}, 5, nx::bf16);
    double flops16 = 2.0 * 8192 * 8192 * 8192;
    report("matmul_bf16", median_ms([&] { mm(ah, bh); }), "flops", flops16);
    report("lt_bf16", direct_lt_ms(8192, 8192, 8192, CUDA_R_16BF, 2), "flops", flops16);
  }
  if (wanted("softmax")) {
    nx::Tensor x = on_gpu({4096, 4096}, 6);
    auto f = nx::jit([](const nx::Tensor& v) { return nx::softmax(v); }, {.backend = "cuda"});
    report("softmax", median_ms([&] { f(x); }), "bytes", 2.0 * 4096 * 4096 * 4);
  }
  if (wanted("eager")) {  // the host's cost of a small eager op: 100 adds of 1024 elements
    nx::Tensor a = on_gpu({1024}, 7), b = on_gpu({1024}, 8);
    report("eager_add", median_ms([&] {
      nx::Tensor c = a;
      for (int i = 0; i < 100; ++i) c = c + b;
    }) / 100, "ops", 1);
  }
  if (wanted("mlp")) train_step("mlp_step", bench::mlp_model(), {128, 784});
  if (wanted("cnn")) {
    train_step("cnn_step", bench::cnn_model(), {128, 1, 28, 28});
    nx::cuda::set_cudnn(false);  // the convolutions as columns and products instead
    train_step("cnn_step_columns", bench::cnn_model(), {128, 1, 28, 28});
    nx::cuda::set_cudnn(true);
    std::fprintf(stderr, "%s\n", nx::cuda::cudnn_report().c_str());
  }
  nx::cuda::set_graphs(true);  // the same steps captured once and replayed
  if (wanted("mlp")) train_step("mlp_step_graphs", bench::mlp_model(), {128, 784});
  if (wanted("cnn")) train_step("cnn_step_graphs", bench::cnn_model(), {128, 1, 28, 28});
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "nx_bench_cuda: %s\n", e.what());
  return 1;
}
