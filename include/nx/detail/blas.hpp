// OpenBLAS for the few routines nx's own kernels do not match: the eigendecomposition
// (LAPACK's syevd, as numpy's and scipy's eigh) and the symmetric product x^T x (syrk:
// half a product's flops). Loaded on first use with dlopen, not linked: a build or a
// machine without it (the GPU machine) simply goes without, and OpenBLAS reads its kernel
// choice (OPENBLAS_CORETYPE) when loaded, which nx sets from the CPU's features unless the
// user did. On this project's VMs OpenBLAS's own detection fell back to Prescott (SSE3)
// kernels: syrk of 60000 x 784 took 680 ms, 170 ms with SkylakeX's.
// NX_BLAS=0 turns it off.
#pragma once
#include <cstddef>

namespace nx::detail {

struct Blas {
  // cblas_?syrk(order, uplo, trans, n, k, alpha, a, lda, beta, c, ldc); enums as ints.
  void (*ssyrk)(int, int, int, int, int, float, const float*, int, float, float*, int) = nullptr;
  void (*dsyrk)(int, int, int, int, int, double, const double*, int, double, double*, int) = nullptr;
  // LAPACK ?syevd_ (gfortran's ABI: the character arguments' lengths at the end).
  void (*ssyevd)(const char*, const char*, const int*, float*, const int*, float*, float*, const int*, int*,
                 const int*, int*, size_t, size_t) = nullptr;
  void (*dsyevd)(const char*, const char*, const int*, double*, const int*, double*, double*, const int*, int*,
                 const int*, int*, size_t, size_t) = nullptr;
  // ?syevr_(jobz, range, uplo, n, a, lda, vl, vu, il, iu, abstol, m, w, z, ldz, isuppz,
  // work, lwork, iwork, liwork, info, lengths): some eigenpairs (MRRR).
  void (*ssyevr)(const char*, const char*, const char*, const int*, float*, const int*, const float*, const float*,
                 const int*, const int*, const float*, int*, float*, float*, const int*, int*, float*, const int*,
                 int*, const int*, int*, size_t, size_t, size_t) = nullptr;
  void (*dsyevr)(const char*, const char*, const char*, const int*, double*, const int*, const double*,
                 const double*, const int*, const int*, const double*, int*, double*, double*, const int*, int*,
                 double*, const int*, int*, const int*, int*, size_t, size_t, size_t) = nullptr;
};

// The loaded library's routines, or nullptr when none could be loaded (or NX_BLAS=0).
const Blas* blas();

// CBLAS's enum values, for the int arguments above.
constexpr int kBlasRowMajor = 101, kBlasNoTrans = 111, kBlasTrans = 112, kBlasLower = 122;

}  // namespace nx::detail
