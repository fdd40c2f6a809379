// Defaults shared by host backends: aligned host buffers and memcpy transfers.
#include "nx/backend.hpp"

#include <cstdlib>
#include <cstring>

#include "host_pool.hpp"
#include "nx/error.hpp"

namespace nx {

HostBuffer::HostBuffer(Backend* owner, size_t bytes) : Buffer(owner, detail::host_alloc(bytes), bytes) {}

HostBuffer::~HostBuffer() { detail::host_free(data(), bytes()); }

BufferPtr make_host_buffer(Backend* owner, size_t bytes) {
  return std::allocate_shared<HostBuffer>(detail::SmallObjectAllocator<HostBuffer>(), owner, bytes);
}

BufferPtr Backend::execute1(const Node& node, std::span<const Operand> inputs) {
  std::vector<BufferPtr> out = execute(node, inputs);
  return std::move(out.at(0));
}

void check_inputs(const Graph& graph, std::span<const BufferPtr> inputs) {
  if (inputs.size() != graph.params.size())
    throw ValueError("run", "expected " + std::to_string(graph.params.size()) + " inputs, got " +
                                std::to_string(inputs.size()));
}

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
