// The Backend interface: device buffers, transfers, eager execution of one primitive,
// and compile(Graph) -> Executable whose run() is thread-safe.
#pragma once
#include <cstddef>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "nx/graph.hpp"

namespace nx {

class Backend;

// Memory owned by a backend's device. Host backends give a CPU pointer.
class Buffer {
 public:
  Buffer(Backend* owner, void* data, size_t bytes) : owner_(owner), data_(data), bytes_(bytes) {}
  virtual ~Buffer() = default;
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;
  void* data() const { return data_; }
  size_t bytes() const { return bytes_; }
  Backend* owner() const { return owner_; }
  // True only for memory nx++ allocated itself, writable and 64-byte aligned: a kernel
  // may then write a result over it once nothing else holds it (a donated argument). A
  // read-only file mapping or another library's memory is never written.
  virtual bool reusable() const { return false; }

 private:
  Backend* owner_;
  void* data_;
  size_t bytes_;
};
using BufferPtr = std::shared_ptr<Buffer>;

// A host buffer: 64-byte aligned heap memory.
class HostBuffer : public Buffer {
 public:
  HostBuffer(Backend* owner, size_t bytes);
  ~HostBuffer() override;
  bool reusable() const override { return true; }
};
// A HostBuffer whose header comes from a per-thread cache (what host backends' allocate()
// return: eager ops make one per result).
BufferPtr make_host_buffer(Backend* owner, size_t bytes);

// Host memory owned elsewhere (a memory-mapped file, a DLPack producer), used without a
// copy: `keep` holds it alive until the last buffer using it is gone. Unlike HostBuffer
// it has no padding past the end, so kernels must not read beyond bytes().
class ForeignHostBuffer : public Buffer {
 public:
  ForeignHostBuffer(Backend* owner, void* data, size_t bytes, std::shared_ptr<void> keep)
      : Buffer(owner, data, bytes), keep_(std::move(keep)) {}

 private:
  std::shared_ptr<void> keep_;
};

// A concrete input or output of an execution.
struct Operand {
  TensorType type;
  BufferPtr buffer;
};

class Executable {
 public:
  virtual ~Executable() = default;
  // Thread-safe: may be called concurrently.
  virtual std::vector<BufferPtr> run(std::span<const BufferPtr> inputs) const = 0;
};

// Throws ValueError unless `inputs` holds one buffer per parameter of `graph` (the first
// check of every Executable::run).
void check_inputs(const Graph& graph, std::span<const BufferPtr> inputs);

struct CompileOptions {
  int num_threads = 0;  // 0: the backend's default
  // Per graph parameter: the caller gives its buffer up, so a backend may write results
  // into it (the llvm backend does, in place, when nothing else holds the buffer).
  std::vector<bool> donate;
  bool operator==(const CompileOptions&) const = default;
};

class Backend {
 public:
  virtual ~Backend() = default;
  virtual std::string_view name() const = 0;
  // True when buffer data() is directly readable by the CPU.
  virtual bool host_accessible() const { return true; }
  virtual BufferPtr allocate(size_t bytes) = 0;
  virtual BufferPtr from_host(const void* data, size_t bytes);
  virtual void to_host(const Buffer& buffer, void* out, size_t bytes) const;
  // Executes one primitive eagerly (node.inputs are empty: `inputs` carries the values).
  virtual std::vector<BufferPtr> execute(const Node& node, std::span<const Operand> inputs) = 0;
  // The same for a node with one output, without a vector of results (the eager path's
  // fixed cost); the default calls execute().
  virtual BufferPtr execute1(const Node& node, std::span<const Operand> inputs);
  virtual std::unique_ptr<Executable> compile(const Graph& graph, const CompileOptions& opts) = 0;
};

using BackendFactory = std::function<std::unique_ptr<Backend>()>;
// `unavailable`, when given, says why the backend cannot run in this process ("" when it
// can): a device backend on a machine without its device. Such a backend is left out of
// backend_names(), and backend() raises with the reason.
void register_backend(std::string name, BackendFactory factory, std::function<std::string()> unavailable = {});
Backend& backend(std::string_view name);  // throws nx::Error for unknown or unavailable names
std::vector<std::string> backend_names();  // the backends that can run here
// The backend eager ops run on: NX_BACKEND from the environment, else "interp".
Backend& default_backend();
void set_default_backend(std::string_view name);

class Tensor;
// The backend holding t's buffer ("interp", "llvm", "cuda", ...). Throws for a traced
// or donated tensor.
std::string device_of(const Tensor& t, Where where = Where::current());
// t on `backend`: t itself when that backend reads its buffer where it lies (host
// backends share host memory), else a copy there. Eager ops run on the backend of an
// operand that lives on a device, so `nx::exp(nx::to(x, "cuda"))` runs on the GPU and
// its result stays there.
Tensor to(const Tensor& t, std::string_view backend, Where where = Where::current());

}  // namespace nx
