// The worker threads kernels run on: one per core, started once, the caller taking part.
// Work is split into fixed chunks (not by timing), so which thread computes an element
// never changes a result.
#pragma once
#include <cstdint>
#include <functional>

namespace nx::llvm_backend {

// Runs body(begin, end) over [0, n) in chunks of at least `grain` elements starting at
// multiples of `align`, on up to `threads` threads (0: one per core), and returns when
// every chunk is done.
void parallel_for(int64_t n, int64_t grain, int threads, const std::function<void(int64_t, int64_t)>& body,
                  int64_t align = 64);

}  // namespace nx::llvm_backend
