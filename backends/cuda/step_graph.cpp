#include "step_graph.hpp"

#include <atomic>
#include <cstdlib>
#include <string>

#include "device.hpp"
#include "upload.hpp"

namespace nx::cuda_backend {
namespace {

std::atomic<bool> graphs_on{[] {
  const char* e = std::getenv("NX_CUDA_GRAPHS");
  return e && std::string(e) == "1";
}()};

void copy(void* to, const void* from, size_t bytes, cudaStream_t s) {
  if (bytes) check(cudaMemcpyAsync(to, from, bytes, cudaMemcpyDeviceToDevice, s), "cudaMemcpyAsync");
}

}  // namespace

void set_graphs(bool on) { graphs_on = on; }
bool graphs() { return graphs_on; }

StepGraph::StepGraph(const std::vector<TensorType>& inputs, const std::vector<TensorType>& outputs, Backend& be) : be_(be) {
  for (const TensorType& t : inputs) in_slots_.push_back(be.allocate(t.bytes()));
  for (const TensorType& t : outputs) out_slots_.push_back(be.allocate(t.bytes()));
}

StepGraph::~StepGraph() {  // errors ignored: at exit the runtime may be gone
  if (exec_) cudaGraphExecDestroy(exec_);
  if (capturing_) cudaStreamDestroy(capturing_);
}

// The step recorded on a stream of its own (this thread's work goes there meanwhile:
// OnStream), so work other threads queue on the device's stream is not captured. Thread-
// local mode: their CUDA calls stay legal during the capture.
bool StepGraph::capture(const Step& step) {
  if (!capturing_) check(cudaStreamCreateWithFlags(&capturing_, cudaStreamNonBlocking), "cudaStreamCreateWithFlags");
  cudaStream_t s = capturing_;
  check(cudaStreamBeginCapture(s, cudaStreamCaptureModeThreadLocal), "cudaStreamBeginCapture");
  bool ok = true;
  try {
    OnStream here(s);
    std::vector<BufferPtr> results = step(in_slots_);
    for (size_t k = 0; k < results.size(); ++k) copy(out_slots_[k]->data(), results[k]->data(), out_slots_[k]->bytes(), s);
    // The step's own buffers are freed now, inside the capture: the graph frees what it
    // allocates, so it can be launched again.
  } catch (const std::exception&) {
    ok = false;  // e.g. a wait on the host, which capture forbids
  }
  cudaGraph_t g = nullptr;
  cudaError_t e = cudaStreamEndCapture(s, &g);
  if (e != cudaSuccess || !ok || !g) {
    cudaGetLastError();
    if (g) cudaGraphDestroy(g);
    return false;
  }
  e = cudaGraphInstantiate(&exec_, g, 0);
  cudaGraphDestroy(g);
  if (e != cudaSuccess) {
    cudaGetLastError();
    exec_ = nullptr;
    return false;
  }
  return true;
}

std::optional<std::vector<BufferPtr>> StepGraph::run(std::span<const BufferPtr> inputs, const Step& step) {
  std::lock_guard lock(mu_);  // the slots are this graph's: one call at a time
  if (failed_) return std::nullopt;
  for (const BufferPtr& b : inputs)
    if (b->owner() != &be_ && !b->owner()->host_accessible()) return std::nullopt;
  cudaStream_t s = need_device().stream;
  for (size_t k = 0; k < inputs.size(); ++k) {
    const Buffer& b = *inputs[k];
    if (b.owner() == &be_) copy(in_slots_[k]->data(), b.data(), in_slots_[k]->bytes(), s);
    else upload(in_slots_[k]->data(), b.data(), in_slots_[k]->bytes());
  }
  if (!exec_ && !capture(step)) {
    failed_ = true;
    return std::nullopt;
  }
  if (cudaGraphLaunch(exec_, s) != cudaSuccess) {  // e.g. out of memory for the graph's own
    cudaGetLastError();
    failed_ = true;
    return std::nullopt;
  }
  std::vector<BufferPtr> outs;
  for (const BufferPtr& slot : out_slots_) {
    outs.push_back(be_.allocate(slot->bytes()));
    copy(outs.back()->data(), slot->data(), slot->bytes(), s);
  }
  return outs;
}

}  // namespace nx::cuda_backend
