// The CUDA backend (registered as "cuda" when nx++ is built with the CUDA toolkit; it
// runs where a device is present): the llvm backend's fusion groups as CUDA C++ kernels
// compiled by NVRTC, dot_general on cuBLASLt, convolutions on cuDNN, svd on cuSOLVER,
// most other ops in kernels of their own (docs/ARCHITECTURE.md lists them; the rest on
// interp through host copies). Tensors move explicitly: nx::to(t, "cuda"),
// nx::to(t, "llvm"); jit(f, {.backend = "cuda"}) moves its arguments itself.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace nx {
struct Graph;
void register_cuda_backend();

namespace cuda {
// Whether a CUDA device can run work here, and if not, why ("" when it can).
bool available();
std::string unavailable_reason();
// The device's name and compute capability (90 on Hopper); throw without a device.
std::string device_name();
int compute_capability();

// TF32 tensor-core products for f32 dot_general: off by default (full f32 accuracy, as
// on the CPU backends); the environment's NX_CUDA_TF32=1 turns it on at start-up.
void set_tf32(bool on);
bool tf32();

// Device memory is stream-ordered and pooled: freed blocks are reused by later work. The
// pool keeps at most `bytes` across synchronisations (default $NX_CUDA_POOL_MAX_BYTES,
// else 1 GiB); trim_memory() gives everything it holds back to the driver.
void set_memory_pool_limit(size_t bytes);
size_t memory_pool_limit();
size_t memory_pool_bytes();
void trim_memory();
// CUDA graphs: an executable whose nodes all run on the device (none on interp, no
// loops or branches) is captured on its second run and replayed after, one launch per
// step instead of one per kernel; its inputs and outputs are copied through buffers the
// graph owns. Off by default; the environment's NX_CUDA_GRAPHS=1 turns it on at start-up.
void set_graphs(bool on);
bool graphs();
// Convolutions (forward, and both gradients of strided, dilated, grouped and depthwise
// ones) run on cuDNN 9 when its library loads (libcudnn.so.9), each problem on the first
// engine cuDNN proposes that is deterministic and keeps f32 in f32 (unless TF32 is on);
// a problem cuDNN cannot take runs as columns and cuBLASLt products. On by default; the
// environment's NX_CUDA_CUDNN=0 turns it off at start-up. cudnn() says whether it is on
// and loaded; cudnn_report() gives cuDNN's version and what it has run, declined or
// failed (a failure sends that problem the other way from then on).
void set_cudnn(bool on);
bool cudnn();
std::string cudnn_report();
// Waits until the device has finished the work queued so far (results are read with a
// wait anyway; this is for timing).
void synchronize();

// The fusion groups of `graph` (as jit optimises it) and why other nodes are not fused;
// the CUDA C++ each group becomes. Neither needs a device.
std::string fusion_report(const Graph& graph);
std::vector<std::string> kernel_sources(const Graph& graph);
// The nodes of `graph` with no device path, which run on interp through host copies
// (each op with its operands' dtypes and shapes): empty for a graph that stays on the GPU.
std::vector<std::string> host_fallbacks(const Graph& graph);
// Compiles CUDA C++ with NVRTC for sm_<arch> and returns the cubin's size: how the
// tests check emitted source on machines without a GPU. Throws nx::Error with NVRTC's
// log when it does not compile.
size_t compile_source(const std::string& source, int arch);

// Compiled kernels kept between processes (as the llvm backend's): <dir>/cuda/<nx++
// version, NVRTC version, architecture>/. Default $NX_CACHE_DIR, else
// $XDG_CACHE_HOME/nxpp, else $HOME/.cache/nxpp; "" turns it off.
void set_disk_cache(const std::string& dir);
std::string disk_cache();
struct CompileStats {
  int64_t compiled = 0, loaded = 0;  // by NVRTC, from the disk cache
  double nvrtc_ms = 0;
};
CompileStats compile_stats();
// Forgets the in-memory cache of compiled kernels, so the next compile is cold.
void clear_memory_cache();
}  // namespace cuda
}  // namespace nx
