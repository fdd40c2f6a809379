// Host memory for HostBuffer: 64-byte aligned blocks, large ones recycled by the bounded
// pool of nx/memory.hpp (src/memory.cpp).
#pragma once
#include <cstddef>

namespace nx::detail {

// 64-byte aligned, with at least a cache line to spare past `bytes`; throws nx::Error when
// out of memory.
void* host_alloc(size_t bytes);
void host_free(void* p, size_t bytes);

}  // namespace nx::detail
