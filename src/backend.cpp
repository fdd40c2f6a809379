// Defaults shared by host backends: aligned host buffers and memcpy transfers.
#include "nx/backend.hpp"

#include <cstdlib>
#include <cstring>

#include "nx/error.hpp"

namespace nx {

namespace {
// 64-byte aligned, rounded up to a whole cache line. Kernels must still not read past
// bytes(): foreign buffers (ForeignHostBuffer) have no such slack.
void* host_alloc(size_t bytes) {
  void* p = bytes < (size_t{1} << 62) ? std::aligned_alloc(64, (bytes + 63) / 64 * 64 + 64) : nullptr;
  if (!p) throw Error("allocate", "out of memory: cannot allocate " + std::to_string(bytes) + " bytes on the host");
  return p;
}
}  // namespace

HostBuffer::HostBuffer(Backend* owner, size_t bytes) : Buffer(owner, host_alloc(bytes), bytes) {}

HostBuffer::~HostBuffer() { std::free(data()); }

BufferPtr Backend::from_host(const void* data, size_t bytes) {
  BufferPtr b = allocate(bytes);
  if (bytes) std::memcpy(b->data(), data, bytes);
  return b;
}

void Backend::to_host(const Buffer& buffer, void* out, size_t bytes) const {
  if (bytes > buffer.bytes())
    throw ValueError("to_host", "asked for " + std::to_string(bytes) + " bytes from a buffer of " +
                                    std::to_string(buffer.bytes()));
  if (bytes) std::memcpy(out, buffer.data(), bytes);
}

}  // namespace nx
