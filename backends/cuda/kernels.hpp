// Fused kernels on the device: a KernelSpec emitted (cuda_emit), compiled by NVRTC
// (cached), loaded once per process, and launched over a group's (rows, cols) with the
// grid its mode needs (cuda_emit.hpp describes the entry points).
#pragma once
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "cuda_emit.hpp"
#include "device.hpp"

namespace nx::cuda_backend {

struct LoadedKernel {
  KernelSpec spec;
  std::shared_ptr<Module> module;
  std::unordered_map<std::string, const void*> entries;  // by name suffix (launch_plan.hpp)
};

// The kernel for `spec` on this process's device: compiled or loaded once. Thread-safe.
std::shared_ptr<const LoadedKernel> load_kernel(const KernelSpec& spec);
// Forgets them (executables keep theirs; modules stay loaded): the next load compiles or
// reads the disk cache.
void forget_loaded_kernels();

// A kernel of hand-written or specialised source (not a fusion group): compiled (or
// loaded) once per source, its module kept for the process.
const void* load_source(const std::string& source, const std::string& name);

// Launches a specialised kernel taking (pointers..., long long count) over `count`
// results: a grid-stride loop of 256-thread blocks.
void launch_over(const void* kernel, std::vector<void*> pointers, long long count);
// The same for any arguments (addresses of each, as cudaLaunchKernel takes them).
void launch_counted(const void* kernel, std::vector<void*>& args, long long count);

// Runs it on the device's stream: `in` then `out` are device pointers (outputs
// allocated by the caller, with the dtypes the spec gives them); (rows, cols) is the
// group's view (1, size for flat and all kernels). Partial results of cols and all
// kernels go to buffers from `be`, freed in stream order.
void run_kernel(const LoadedKernel& k, const std::vector<void*>& in, const std::vector<void*>& out, int64_t rows,
                int64_t cols, Backend& be);

}  // namespace nx::cuda_backend
