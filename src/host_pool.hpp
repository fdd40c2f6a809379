// Host memory for HostBuffer: 64-byte aligned blocks, large ones recycled by the bounded
// pool of nx/memory.hpp (src/memory.cpp).
#pragma once
#include <cstddef>

namespace nx::detail {

// 64-byte aligned, with at least a cache line to spare past `bytes`; throws nx::Error when
// out of memory.
void* host_alloc(size_t bytes);
void host_free(void* p, size_t bytes);

// For the small objects every eager op makes (a tensor's impl, a buffer's header, with
// their shared_ptr control blocks): blocks from host_alloc's per-thread cache cost a few
// instructions, malloc and free about 160 a pair.
template <class T>
struct SmallObjectAllocator {
  using value_type = T;
  SmallObjectAllocator() = default;
  template <class U>
  SmallObjectAllocator(const SmallObjectAllocator<U>&) {}  // NOLINT: rebinding
  T* allocate(size_t n) { return static_cast<T*>(host_alloc(n * sizeof(T))); }
  void deallocate(T* p, size_t n) { host_free(p, n * sizeof(T)); }
  template <class U>
  bool operator==(const SmallObjectAllocator<U>&) const { return true; }
};

}  // namespace nx::detail
