// The llvm backend's disk-cache file parser (backends/llvm/kernel_cache.cpp) on hostile
// bytes: a damaged or foreign file must be a miss (nullopt), never a crash.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "kernel_cache.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  (void)nx::llvm_backend::cache_object(bytes, "fuzz-key");
  return 0;
}
