// The whole of nx++: tensors, ops, jit, io, and the backends this build contains (each
// registers itself when the program starts, whichever headers it includes).
#pragma once
#include "nx/backend.hpp"
#include "nx/composites.hpp"
#include "nx/control.hpp"
#include "nx/debug.hpp"
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
#if NX_HAS_CUDA
#include "nx/cuda.hpp"
#endif
#include "nx/ops.hpp"
#include "nx/random.hpp"
#include "nx/tensor.hpp"
#include "nx/vmap.hpp"
