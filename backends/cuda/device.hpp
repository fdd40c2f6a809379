// The GPU under the cuda backend: probed once, its stream, its memory pool, buffers in
// its memory, and kernels loaded from cubins. Everything the backend does is ordered on
// one stream, so a buffer freed there (stream-ordered) is reused only by later work.
#pragma once
#include <cuda_runtime_api.h>

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "nx/backend.hpp"

namespace nx::cuda_backend {

// Throws nx::Error("cuda", "<what>: <CUDA's message>") unless e is cudaSuccess.
void check(cudaError_t e, const char* what);

struct Device {
  int id = 0;
  int arch = 0;  // compute capability as 10 * major + minor (90 on Hopper)
  int sms = 0;   // multiprocessors
  std::string name;
  size_t memory = 0;
  cudaStream_t stream = nullptr;
  cudaMemPool_t pool = nullptr;
};

// Why no device can run work here ("" when one can), from the device count alone: no
// context is made. Thread-safe.
std::string unavailable_reason();
// The first device, set up (context, stream, pool) on first use; null when there is none
// or it cannot be set up. need_device() raises nx::Error with the reason instead.
const Device* device();
const Device& need_device();

// The stream this thread's work goes on: the device's, or a graph capture's while this
// thread captures one (other threads' work stays on the device's stream, out of the
// graph). Throws without a device.
cudaStream_t stream();
// Sends this thread's work to `s` while it lives.
class OnStream {
 public:
  explicit OnStream(cudaStream_t s);
  ~OnStream();
  OnStream(const OnStream&) = delete;
  OnStream& operator=(const OnStream&) = delete;

 private:
  cudaStream_t before_;
};

// Device memory from the pool, freed on the stream when the last reference goes.
class DeviceBuffer : public Buffer {
 public:
  DeviceBuffer(Backend* owner, size_t bytes);
  ~DeviceBuffer() override;
};

// The most bytes the pool keeps for reuse after a synchronisation (the rest goes back
// to the driver); trim() gives back all it can now.
void set_pool_limit(size_t bytes);
size_t pool_limit();
void trim_pool();
size_t pool_reserved_bytes();

// A loaded cubin's entry points by name.
class Module {
 public:
  explicit Module(const std::string& cubin);
  ~Module();
  Module(const Module&) = delete;
  Module& operator=(const Module&) = delete;
  // The kernel, as cudaLaunchKernel takes it; throws for a missing name.
  const void* kernel(const std::string& name) const;

 private:
  cudaLibrary_t library_ = nullptr;
};

// Launches `kernel` on the device's stream; args point at each parameter's value.
void launch(const void* kernel, dim3 grid, dim3 block, std::vector<void*>& args);

}  // namespace nx::cuda_backend
