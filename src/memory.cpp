// The host pool behind HostBuffer (see nx/memory.hpp).
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <mutex>
#include <string>
#if defined(__GLIBC__)
#include <malloc.h>
#endif
#if defined(__linux__)
#include <sys/mman.h>
#endif

#include "host_pool.hpp"
#include "nx/error.hpp"
#include "nx/memory.hpp"

namespace nx {
namespace detail {
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

using Clock = std::chrono::steady_clock;

// Blocks this large are placed on 2 MiB boundaries and offered to transparent huge pages
// (as numpy does): first touching 256 MiB then takes 128 page faults instead of 65536,
// which is most of the cost of filling fresh memory.
constexpr size_t kHugePage = size_t{2} << 20;
constexpr size_t kMinHuge = 4 * kHugePage;

void* fresh_block(size_t size) {
  if (size < kMinHuge) return std::aligned_alloc(64, size);
  void* block = std::aligned_alloc(kHugePage, (size + kHugePage - 1) / kHugePage * kHugePage);
#if defined(__linux__) && defined(MADV_HUGEPAGE)
  if (block) (void)::madvise(block, size, MADV_HUGEPAGE);  // advice: failing changes nothing
#endif
  return block;
}

// Whole cache lines plus one (kernels may read a vector past the end). From 1 MiB up,
// rounded up to a multiple of 1/8 of the size's power of two, so sizes a few percent
// apart share blocks: at most 12.5% more than asked for.
size_t size_class(size_t bytes) {
  size_t size = (bytes + 63) / 64 * 64 + 64;
  if (size < kMinPooled) return size;
  size_t step = (size_t{1} << (63 - __builtin_clzll(size))) / 8;
  return (size + step - 1) / step * step;
}

size_t default_max_bytes() {
  const char* e = std::getenv("NX_HOST_POOL_MAX_BYTES");
  if (!e || !*e) return HostPoolOptions{}.max_bytes;
  char* end = nullptr;
  unsigned long long n = std::strtoull(e, &end, 10);
  return end && *end == '\0' ? static_cast<size_t>(n) : HostPoolOptions{}.max_bytes;
}

struct Free {
  void* block;
  size_t size;
  Clock::time_point since;
};

struct Pool {
  std::mutex mu;
  std::multimap<size_t, Free> by_size;  // size class -> free block
  size_t cached = 0;
  HostPoolOptions options{.max_bytes = default_max_bytes()};

  // Gives back blocks idle too long, then the oldest until `cached + extra` fits the limit.
  void trim(size_t extra) {
    Clock::time_point now = Clock::now();
    auto idle = std::chrono::duration<double>(options.max_idle_seconds);
    for (;;) {
      auto oldest = by_size.end();
      for (auto it = by_size.begin(); it != by_size.end(); ++it)
        if (oldest == by_size.end() || it->second.since < oldest->second.since) oldest = it;
      if (oldest == by_size.end()) return;
      if (cached + extra <= options.max_bytes && now - oldest->second.since < idle) return;
      std::free(oldest->second.block);
      cached -= oldest->second.size;
      by_size.erase(oldest);
    }
  }
};

Pool& pool() {
  static Pool* p = new Pool;  // never destroyed: buffers may be freed during static destruction
  return *p;
}

// Blocks of the smallest size classes (up to 4 cache lines: tensors of a few elements, as
// eager scalar code makes) are kept per thread, without a lock: aligned_alloc and free
// were a third of an eager 1-element op's instructions. A block freed on another thread
// joins that thread's cache. Bounded: kPerClass blocks a class, freed when the thread ends.
constexpr size_t kSmallClasses = 4, kPerClass = 64;
constexpr bool kCacheSmall = kMinPooled != SIZE_MAX;  // not under AddressSanitizer
thread_local bool small_cache_gone = false;  // trivially destructible: readable to the end
struct SmallCache {
  void* blocks[kSmallClasses][kPerClass];
  size_t count[kSmallClasses] = {};
  ~SmallCache() {
    for (size_t c = 0; c < kSmallClasses; ++c)
      for (size_t i = 0; i < count[c]; ++i) std::free(blocks[c][i]);
    small_cache_gone = true;
  }
};
SmallCache& small_cache() {
  thread_local SmallCache cache;
  return cache;
}
// The class of a size (size_class() gives 64-byte multiples from 128 up), or kSmallClasses.
size_t small_class(size_t size) { return size >= 128 && size <= 64 * (kSmallClasses + 1) ? size / 64 - 2 : kSmallClasses; }

}  // namespace

void* host_alloc(size_t bytes) {
  if (bytes >= (size_t{1} << 62))
    throw Error("allocate", "out of memory: cannot allocate " + std::to_string(bytes) + " bytes on the host");
  size_t size = size_class(bytes);
  if (size_t c = small_class(size); kCacheSmall && c < kSmallClasses && !small_cache_gone) {
    SmallCache& cache = small_cache();
    if (cache.count[c] > 0) return cache.blocks[c][--cache.count[c]];
  }
  if (size >= kMinPooled) {
    Pool& p = pool();
    std::lock_guard lock(p.mu);
    if (auto it = p.by_size.find(size); it != p.by_size.end()) {
      void* block = it->second.block;
      p.by_size.erase(it);
      p.cached -= size;
      p.trim(0);
      return block;
    }
    p.trim(0);
  }
  void* block = fresh_block(size);
  if (!block) throw Error("allocate", "out of memory: cannot allocate " + std::to_string(bytes) + " bytes on the host");
  return block;
}

void host_free(void* block, size_t bytes) {
  size_t size = size_class(bytes);
  if (size_t c = small_class(size); kCacheSmall && block && c < kSmallClasses && !small_cache_gone) {
    SmallCache& cache = small_cache();
    if (cache.count[c] < kPerClass) {
      cache.blocks[c][cache.count[c]++] = block;
      return;
    }
  }
  if (block && size >= kMinPooled) {
    Pool& p = pool();
    std::lock_guard lock(p.mu);
    if (size <= p.options.max_bytes) {
      p.trim(size);
      p.by_size.emplace(size, Free{block, size, Clock::now()});
      p.cached += size;
      return;
    }
  }
  std::free(block);
}

}  // namespace detail

void set_host_pool_options(HostPoolOptions options) {
  detail::Pool& p = detail::pool();
  std::lock_guard lock(p.mu);
  p.options = options;
  p.trim(0);
}

HostPoolOptions host_pool_options() {
  detail::Pool& p = detail::pool();
  std::lock_guard lock(p.mu);
  return p.options;
}

size_t host_pool_cached_bytes() {
  detail::Pool& p = detail::pool();
  std::lock_guard lock(p.mu);
  return p.cached;
}

void trim_memory() {
  if (!detail::small_cache_gone) {
    detail::SmallCache& cache = detail::small_cache();
    for (size_t c = 0; c < detail::kSmallClasses; ++c)
      for (; cache.count[c] > 0; --cache.count[c]) std::free(cache.blocks[c][cache.count[c] - 1]);
  }
  detail::Pool& p = detail::pool();
  {
    std::lock_guard lock(p.mu);
    for (auto& [size, f] : p.by_size) std::free(f.block);
    p.by_size.clear();
    p.cached = 0;
  }
#if defined(__GLIBC__)
  malloc_trim(0);
#endif
}

}  // namespace nx
