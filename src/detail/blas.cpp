#include "nx/detail/blas.hpp"

#include <cstdlib>
#include <cstring>
#include <mutex>

#if defined(__linux__)
#include <dlfcn.h>
#endif

namespace nx::detail {
namespace {

template <class F> void bind(void* lib, const char* name, F& f) {
#if defined(__linux__)
  f = reinterpret_cast<F>(dlsym(lib, name));
#endif
}

Blas* load() {
#if defined(__linux__)
  if (const char* off = std::getenv("NX_BLAS"); off && std::strcmp(off, "0") == 0) return nullptr;
#if defined(__x86_64__)
  if (!std::getenv("OPENBLAS_CORETYPE")) {
    const char* core = __builtin_cpu_supports("avx512f")  ? "SkylakeX"
                       : __builtin_cpu_supports("avx2") ? "Haswell"
                                                        : nullptr;
    if (core) setenv("OPENBLAS_CORETYPE", core, 0);
  }
#endif
  void* lib = nullptr;
  for (const char* name : {"libopenblas.so.0", "libopenblas.so"})
    if ((lib = dlopen(name, RTLD_NOW | RTLD_LOCAL))) break;
  if (!lib) return nullptr;
  auto* b = new Blas;  // kept for the process, as the library
  bind(lib, "cblas_ssyrk", b->ssyrk);
  bind(lib, "cblas_dsyrk", b->dsyrk);
  bind(lib, "ssyevd_", b->ssyevd);
  bind(lib, "dsyevd_", b->dsyevd);
  bind(lib, "ssyevr_", b->ssyevr);
  bind(lib, "dsyevr_", b->dsyevr);
  return b;
#else
  return nullptr;
#endif
}

}  // namespace

const Blas* blas() {
  static Blas* b = load();
  return b;
}

}  // namespace nx::detail
