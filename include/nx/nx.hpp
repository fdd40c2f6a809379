// The whole of nx++: tensors, ops, jit, io, and the backends this build contains.
// Including this header registers those backends before main() runs.
#pragma once
#include "nx/backend.hpp"
#include "nx/composites.hpp"
#include "nx/control.hpp"
#include "nx/grad.hpp"
#include "nx/config.hpp"
#include "nx/interp.hpp"
#include "nx/io.hpp"
#include "nx/jit.hpp"
#include "nx/linalg.hpp"
#include "nx/memory.hpp"
#if NX_HAS_ONEDNN
#include "nx/onednn.hpp"
#endif
#if NX_HAS_LLVM
#include "nx/llvm.hpp"
#endif
#include "nx/ops.hpp"
#include "nx/random.hpp"
#include "nx/tensor.hpp"

namespace nx::detail {
inline const bool backends_registered = [] {
  register_interp_backend();
#if NX_HAS_ONEDNN
  register_onednn_backend();
#endif
#if NX_HAS_LLVM
  register_llvm_backend();
#endif
  return true;
}();
}  // namespace nx::detail
