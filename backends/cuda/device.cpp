#include "device.hpp"

#include <cstdlib>
#include <string>

#include "nx/error.hpp"

namespace nx::cuda_backend {

void check(cudaError_t e, const char* what) {
  if (e == cudaSuccess) return;
  cudaGetLastError();  // clears a sticky-free error so the next call does not report it again
  throw Error("cuda", std::string(what) + ": " + cudaGetErrorName(e) + " (" + cudaGetErrorString(e) + ")");
}

namespace {

// $NX_CUDA_POOL_MAX_BYTES, else 1 GiB: what the pool keeps past a synchronisation.
size_t default_pool_limit() {
  if (const char* e = std::getenv("NX_CUDA_POOL_MAX_BYTES"))
    if (char* end = nullptr; *e) {
      unsigned long long v = std::strtoull(e, &end, 10);
      if (end && *end == '\0') return static_cast<size_t>(v);
    }
  return size_t{1} << 30;
}

// Whether there is a device, from the device count alone: no context is made, so asking
// (backend_names() does, at start-up) costs a program that never uses the GPU nothing.
const std::string& count_reason() {
  static const std::string* reason = [] {
    int count = 0;
    cudaError_t e = cudaGetDeviceCount(&count);
    if (e != cudaSuccess) cudaGetLastError();
    if (e == cudaErrorInsufficientDriver || e == cudaErrorNoDevice)
      return new std::string("no CUDA device (no NVIDIA driver, or one older than this CUDA runtime)");
    if (e != cudaSuccess) return new std::string(std::string("no CUDA device (") + cudaGetErrorString(e) + ")");
    return new std::string(count == 0 ? "no CUDA device (the driver reports none)" : "");
  }();
  return *reason;
}

struct Setup {
  std::unique_ptr<Device> device;
  std::string reason;
};

// The first device, set up on first use (its context, stream and pool). Lives for the
// process: buffers freed during static destruction still find the stream.
const Setup& setup() {
  static const Setup* s = [] {
    auto* made = new Setup;
    if (!count_reason().empty()) {
      made->reason = count_reason();
      return made;
    }
    auto d = std::make_unique<Device>();
    try {
      check(cudaSetDevice(0), "cudaSetDevice");
      cudaDeviceProp prop{};
      check(cudaGetDeviceProperties(&prop, 0), "cudaGetDeviceProperties");
      d->arch = prop.major * 10 + prop.minor;
      d->sms = prop.multiProcessorCount;
      d->name = prop.name;
      d->memory = prop.totalGlobalMem;
      check(cudaStreamCreateWithFlags(&d->stream, cudaStreamNonBlocking), "cudaStreamCreateWithFlags");
      check(cudaDeviceGetDefaultMemPool(&d->pool, 0), "cudaDeviceGetDefaultMemPool");
      uint64_t limit = default_pool_limit();
      check(cudaMemPoolSetAttribute(d->pool, cudaMemPoolAttrReleaseThreshold, &limit), "cudaMemPoolSetAttribute");
    } catch (const Error& e) {
      made->reason = std::string("the CUDA device cannot be used: ") + e.what();
      return made;
    }
    made->device = std::move(d);
    return made;
  }();
  return *s;
}

}  // namespace

const Device* device() { return setup().device.get(); }
std::string unavailable_reason() { return count_reason(); }

const Device& need_device() {
  const Setup& s = setup();
  if (!s.device) throw Error("cuda", s.reason);
  return *s.device;
}

namespace {
thread_local cudaStream_t this_thread_stream = nullptr;  // null: the device's
}  // namespace

cudaStream_t stream() { return this_thread_stream ? this_thread_stream : need_device().stream; }
OnStream::OnStream(cudaStream_t s) : before_(this_thread_stream) { this_thread_stream = s; }
OnStream::~OnStream() { this_thread_stream = before_; }

namespace {

void* device_alloc(size_t bytes) {
  const Device& d = need_device();
  void* p = nullptr;
  size_t asked = bytes ? bytes : 1;
  cudaError_t e = cudaMallocAsync(&p, asked, stream());
  if (e == cudaErrorMemoryAllocation) {  // what the pool holds for reuse goes back first
    cudaGetLastError();
    trim_pool();
    e = cudaMallocAsync(&p, asked, stream());
  }
  if (e == cudaErrorMemoryAllocation)
    throw Error("cuda", "out of device memory: " + std::to_string(bytes) + " bytes asked, " + std::to_string(d.memory) +
                            " on " + d.name);
  check(e, "cudaMallocAsync");
  return p;
}

}  // namespace

DeviceBuffer::DeviceBuffer(Backend* owner, size_t bytes) : Buffer(owner, device_alloc(bytes), bytes) {}

DeviceBuffer::~DeviceBuffer() {
  // Errors are ignored: at exit the runtime may be gone before the last buffer.
  if (device()) cudaFreeAsync(data(), stream());
}

void set_pool_limit(size_t bytes) {
  const Device& d = need_device();
  uint64_t v = bytes;
  check(cudaMemPoolSetAttribute(d.pool, cudaMemPoolAttrReleaseThreshold, &v), "cudaMemPoolSetAttribute");
}

size_t pool_limit() {
  const Device& d = need_device();
  uint64_t v = 0;
  check(cudaMemPoolGetAttribute(d.pool, cudaMemPoolAttrReleaseThreshold, &v), "cudaMemPoolGetAttribute");
  return static_cast<size_t>(v);
}

void trim_pool() {
  const Device& d = need_device();
  check(cudaStreamSynchronize(stream()), "cudaStreamSynchronize");  // illegal while capturing: the capture fails
  check(cudaMemPoolTrimTo(d.pool, 0), "cudaMemPoolTrimTo");
  check(cudaDeviceGraphMemTrim(d.id), "cudaDeviceGraphMemTrim");  // what replayed CUDA graphs keep
}

size_t pool_reserved_bytes() {
  const Device& d = need_device();
  uint64_t v = 0;
  check(cudaMemPoolGetAttribute(d.pool, cudaMemPoolAttrReservedMemCurrent, &v), "cudaMemPoolGetAttribute");
  return static_cast<size_t>(v);
}

Module::Module(const std::string& cubin) {
  need_device();
  check(cudaLibraryLoadData(&library_, cubin.data(), nullptr, nullptr, 0, nullptr, nullptr, 0), "cudaLibraryLoadData");
}

Module::~Module() {
  if (library_) cudaLibraryUnload(library_);
}

const void* Module::kernel(const std::string& name) const {
  cudaKernel_t k = nullptr;
  check(cudaLibraryGetKernel(&k, library_, name.c_str()), ("cudaLibraryGetKernel " + name).c_str());
  return reinterpret_cast<const void*>(k);
}

void launch(const void* kernel, dim3 grid, dim3 block, std::vector<void*>& args) {
  check(cudaLaunchKernel(kernel, grid, block, args.data(), 0, stream()), "cudaLaunchKernel");
}

}  // namespace nx::cuda_backend
