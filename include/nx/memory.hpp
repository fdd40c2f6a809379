// Host memory that nx++ keeps for reuse, and giving it back.
//
// Buffers of 1 MiB and more are recycled instead of returned to the OS: a graph run again
// allocates the same sizes, and fresh pages cost a page fault and a zeroing each. Sizes
// are rounded up into classes (at most 1/8 apart), so slowly changing shapes share blocks.
// The free blocks kept are bounded in bytes (oldest given back first) and by age: a block
// unused for `max_idle_seconds` is given back at the next allocation or free. Tensors of a
// few elements (up to 256 bytes) reuse blocks kept per thread (64 of each size), given
// back when the thread ends or it calls trim_memory().
#pragma once
#include <cstddef>

namespace nx {

struct HostPoolOptions {
  size_t max_bytes = size_t{256} << 20;  // default: $NX_HOST_POOL_MAX_BYTES, else 256 MiB
  double max_idle_seconds = 10.0;
};
void set_host_pool_options(HostPoolOptions options);  // trims to the new bounds at once
HostPoolOptions host_pool_options();
// Bytes held in free blocks now.
size_t host_pool_cached_bytes();

// Gives every free block back to the OS (and asks malloc to return its free pages), e.g.
// after a phase that used much memory: the shared pool's, and the calling thread's small ones.
void trim_memory();

}  // namespace nx
