// Host memory for HostBuffer. Large blocks are recycled rather than returned to the OS: a
// graph run again allocates the same sizes, and fresh pages cost a page fault and a
// zeroing each, which for a 25 MB activation is milliseconds (as much as a convolution's
// layout reorders).
#pragma once
#include <cstddef>

namespace nx::detail {

// 64-byte aligned, rounded up to a whole cache line; throws nx::Error when out of memory.
void* host_alloc(size_t bytes);
void host_free(void* p, size_t bytes);

}  // namespace nx::detail
