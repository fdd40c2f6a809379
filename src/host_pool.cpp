#include "host_pool.hpp"

#include <cstdint>
#include <cstdlib>
#include <map>
#include <mutex>
#include <string>

#include "nx/error.hpp"

namespace nx::detail {
namespace {

#if defined(__SANITIZE_ADDRESS__)
constexpr size_t kMinPooled = SIZE_MAX;  // AddressSanitizer must see every free
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
constexpr size_t kMinPooled = SIZE_MAX;
#else
constexpr size_t kMinPooled = size_t{1} << 20;
#endif
#else
constexpr size_t kMinPooled = size_t{1} << 20;  // smaller blocks: malloc's own bins do well
#endif
constexpr size_t kMaxCached = size_t{1} << 30;  // free blocks kept, in all

size_t rounded(size_t bytes) { return (bytes + 63) / 64 * 64 + 64; }

struct Pool {
  std::mutex mu;
  std::multimap<size_t, void*> free;  // by exact rounded size
  size_t cached = 0;
};

Pool& pool() {
  static Pool* p = new Pool;  // never destroyed: buffers may be freed during static destruction
  return *p;
}

}  // namespace

void* host_alloc(size_t bytes) {
  if (bytes >= (size_t{1} << 62))
    throw Error("allocate", "out of memory: cannot allocate " + std::to_string(bytes) + " bytes on the host");
  size_t size = rounded(bytes);
  if (size >= kMinPooled) {
    Pool& p = pool();
    std::lock_guard lock(p.mu);
    if (auto it = p.free.find(size); it != p.free.end()) {
      void* block = it->second;
      p.free.erase(it);
      p.cached -= size;
      return block;
    }
  }
  void* block = std::aligned_alloc(64, size);
  if (!block) throw Error("allocate", "out of memory: cannot allocate " + std::to_string(bytes) + " bytes on the host");
  return block;
}

void host_free(void* block, size_t bytes) {
  size_t size = rounded(bytes);
  if (block && size >= kMinPooled) {
    Pool& p = pool();
    std::lock_guard lock(p.mu);
    if (p.cached + size <= kMaxCached) {
      p.free.emplace(size, block);
      p.cached += size;
      return;
    }
  }
  std::free(block);
}

}  // namespace nx::detail
