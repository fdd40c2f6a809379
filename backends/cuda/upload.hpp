// Host-to-device copies that do not wait for the device. A copy from pageable memory
// returns only once the device has taken the bytes, so it waits behind every kernel
// already queued: a training step's next batch could not be sent while the last step
// runs. Small copies go through a ring of pinned (page-locked) staging blocks instead:
// the bytes are copied into a free block on the host, the block is copied to the device
// in stream order, and an event marks when the block may be reused.
#pragma once
#include <cstddef>

namespace nx::cuda_backend {

// Up to this many bytes per copy are staged; larger ones copy from pageable memory.
constexpr size_t kStageBytes = size_t{8} << 20;

// Copies `bytes` from host memory `src` to device memory `dst` on the device's stream;
// `src` may be reused as soon as it returns.
void upload(void* dst, const void* src, size_t bytes);

}  // namespace nx::cuda_backend
