#include "upload.hpp"

#include <cuda_runtime_api.h>

#include <array>
#include <cstring>
#include <mutex>

#include "device.hpp"

namespace nx::cuda_backend {
namespace {

struct Block {
  void* host = nullptr;         // pinned, kStageBytes
  cudaEvent_t done = nullptr;   // recorded after the block's last copy
};

// Four blocks, handed out in turn; lives for the process (copies may be in flight at exit).
struct Ring {
  std::mutex mu;
  std::array<Block, 4> blocks;
  size_t next = 0;
  bool broken = false;  // pinned memory could not be had: copy from pageable memory
};
Ring& ring() {
  static auto* r = new Ring;
  return *r;
}

// The next block, once its last copy has been taken; null when pinned memory cannot be had.
Block* next_block(Ring& r) {
  if (r.broken) return nullptr;
  Block& b = r.blocks[r.next];
  r.next = (r.next + 1) % r.blocks.size();
  if (b.host) {
    check(cudaEventSynchronize(b.done), "cudaEventSynchronize");
    return &b;
  }
  if (cudaMallocHost(&b.host, kStageBytes) == cudaSuccess &&
      cudaEventCreateWithFlags(&b.done, cudaEventDisableTiming) == cudaSuccess)
    return &b;
  cudaGetLastError();
  r.broken = true;
  return nullptr;
}

}  // namespace

void upload(void* dst, const void* src, size_t bytes) {
  if (!bytes) return;
  cudaStream_t s = stream();
  if (bytes <= kStageBytes) {
    Ring& r = ring();
    std::lock_guard lock(r.mu);
    if (Block* b = next_block(r)) {
      std::memcpy(b->host, src, bytes);
      check(cudaMemcpyAsync(dst, b->host, bytes, cudaMemcpyHostToDevice, s), "cudaMemcpyAsync");
      check(cudaEventRecord(b->done, s), "cudaEventRecord");
      return;
    }
  }
  check(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyHostToDevice, s), "cudaMemcpyAsync");
}

}  // namespace nx::cuda_backend
