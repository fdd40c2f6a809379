// The LLVM CPU JIT backend (registered as "llvm" when nx++ is built with LLVM): chains of
// elementwise nodes, the shape ops they read and the reductions ending them become fused
// loops compiled in process; matrix products run on oneDNN (when built) or a blocked
// GEMM of its own; other nodes on oneDNN or interp.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "nx/error.hpp"

namespace nx {
struct Graph;
void register_llvm_backend();

namespace llvm_jit {
// Which nodes of `graph` (as jit optimises it) the llvm backend fuses into which kernels,
// and why each other node is not fused.
std::string fusion_report(const Graph& graph);

// Kernels compiled (and loaded from the disk cache) by this process so far, and the
// time spent in each stage, summed over kernels (they compile in parallel).
struct CompileStats {
  int64_t kernels = 0, loaded = 0;
  double emit_ms = 0, optimize_ms = 0, codegen_ms = 0, load_ms = 0;
};
CompileStats compile_stats();

// Where compiled kernels are kept between processes, so a second process loads them
// instead of compiling: by default $NX_CACHE_DIR, else $XDG_CACHE_HOME/nxpp, else
// $HOME/.cache/nxpp; kernels go to a subdirectory per nx++ version, LLVM version and
// CPU. "" turns the disk cache off.
void set_disk_cache(const std::string& dir);
std::string disk_cache();
// The most bytes the disk cache keeps, over all versions (default $NX_CACHE_MAX_BYTES,
// else 256 MiB): past it, the least recently used kernels are deleted after a store.
void set_disk_cache_limit(size_t bytes);
size_t disk_cache_limit();
// Forgets this process's in-memory kernel cache (compiled graphs keep working), so the
// next compile is cold: it loads from the disk cache, or compiles.
void clear_memory_cache();

// Whether nodes outside kernels go to oneDNN when nx++ has it (the default; the
// environment's NX_LLVM_ONEDNN=0 turns it off at start-up). Off, as in a build without
// oneDNN: dot_general runs on the backend's own blocked GEMM, the rest on interp.
void set_use_onednn(bool use);
bool use_onednn();

// The micro-kernels of the backend's own GEMM that this CPU runs, widest first
// ("avx512", "avx2", "portable"); the one in use (the widest, or the environment's
// NX_GEMM at start-up); and a way to pick another (tests run each). Picking one this CPU
// lacks throws nx::Error.
std::vector<std::string> gemm_kernels();
std::string gemm_kernel();
void set_gemm_kernel(const std::string& name, Where where = Where::current());
}  // namespace llvm_jit
}  // namespace nx
