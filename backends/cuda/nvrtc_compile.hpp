// CUDA C++ source -> cubin with NVRTC (which needs no GPU, so it runs and is tested on
// any machine with the toolkit), cached in memory and on disk (<root>/cuda/<nx++
// version, NVRTC version, architecture>/, with the llvm backend's cache hygiene).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace nx::cuda_backend {

// The options every kernel compiles with: IEEE division and square roots, no fused
// multiply-add contraction (results match the CPU backends' roundings), C++17.
std::vector<std::string> nvrtc_options(int arch);

// The cubin for `source` on sm_<arch> (90 for Hopper). Throws nx::Error("cuda", ...)
// with NVRTC's log when the source does not compile.
std::string compile_cubin(const std::string& source, int arch);

// The same through the caches (memory, then disk), so a process compiles a kernel once
// and a second process loads it. Thread-safe.
std::string cached_cubin(const std::string& source, int arch);

// "13.0".
std::string nvrtc_version();

struct NvrtcStats {
  int64_t compiled = 0, loaded = 0;  // from NVRTC, from the disk cache
  double compile_ms = 0;
};
NvrtcStats nvrtc_stats();

void set_cache_root(std::string dir);  // "" turns the disk cache off
std::string cache_root();
void forget_cubins();  // the in-memory cache only: a cold start for measurements

}  // namespace nx::cuda_backend
