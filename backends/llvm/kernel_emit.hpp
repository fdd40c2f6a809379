// Emits a kernel's LLVM IR into a module (kernel_emit.cpp).
#pragma once
#include <string>

#include "kernel.hpp"

namespace llvm {
class Module;
}

namespace nx::llvm_backend {

// Adds the exported function `name`, a KernelFn, computing `spec` to `m` (whose data
// layout and target triple are set). Throws nx::Error if the spec is inconsistent.
void emit_kernel(const KernelSpec& spec, const std::string& name, llvm::Module& m);

}  // namespace nx::llvm_backend
