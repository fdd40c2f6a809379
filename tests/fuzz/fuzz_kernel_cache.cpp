// The compiling backends' disk-cache file parser (src/detail/kernel_cache.cpp) on hostile
// bytes: a damaged or foreign file must be a miss (nullopt), never a crash.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "nx/detail/kernel_cache.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  (void)nx::detail::cache_object(bytes, "fuzz-key");
  return 0;
}
