// CUDA graphs: a compiled step captured once and replayed, so a step of many small
// kernels costs one launch on the host instead of one per kernel. Off by default
// (nx::cuda::set_graphs, NX_CUDA_GRAPHS=1) until measured on a GPU.
//
// The step runs over fixed buffers the graph owns: each call copies its inputs into the
// input slots, replays the graph (every intermediate allocated and freed by the graph's
// own memory nodes), and copies the output slots into fresh buffers it returns. Steps
// that wait on the host (a node on interp, a loop's predicate) are not captured.
#pragma once
#include <cuda_runtime_api.h>

#include <functional>
#include <mutex>
#include <optional>
#include <span>
#include <vector>

#include "nx/backend.hpp"

namespace nx::cuda_backend {

void set_graphs(bool on);
bool graphs();

class StepGraph {
 public:
  using Step = std::function<std::vector<BufferPtr>(std::span<const BufferPtr>)>;
  StepGraph(const std::vector<TensorType>& inputs, const std::vector<TensorType>& outputs, Backend& be);
  ~StepGraph();
  StepGraph(const StepGraph&) = delete;
  StepGraph& operator=(const StepGraph&) = delete;

  // The step's results: captured on the first call, replayed after. nullopt where the
  // graph cannot run it (capture failed once: never again; an input neither here nor on
  // the host: this call); the caller runs the step itself then.
  std::optional<std::vector<BufferPtr>> run(std::span<const BufferPtr> inputs, const Step& step);

 private:
  bool capture(const Step& step);

  std::mutex mu_;
  Backend& be_;
  std::vector<BufferPtr> in_slots_, out_slots_;
  cudaStream_t capturing_ = nullptr;  // this graph's own: other threads' work stays out of it
  cudaGraphExec_t exec_ = nullptr;
  bool failed_ = false;
};

}  // namespace nx::cuda_backend
