// Zero-copy exchange with other frameworks (PyTorch, JAX, numpy, CuPy...) through DLPack
// (<dlpack/dlpack.h>, version 0.6 or later; the unversioned DLManagedTensor).
//
//   DLManagedTensor* m = nx::io::to_dlpack(x);   // hand to the consumer, which calls m->deleter(m)
//   nx::Tensor y = nx::io::from_dlpack(m);       // takes ownership of m
//
// bool travels as type code 6 (kDLBool, standard since DLPack 0.8), 8 bits; u8 as kDLUInt.
#pragma once
#include <dlpack/dlpack.h>

#include "nx/tensor.hpp"

namespace nx::io {

// A DLManagedTensor viewing t's host buffer without a copy (copied to the host first when
// the tensor lives on a device the CPU cannot read). It keeps the buffer alive until its
// deleter runs. Strides are always given (compact, row-major). nx buffers are immutable:
// the consumer must not write through dl_tensor.data. Traced tensors are refused.
DLManagedTensor* to_dlpack(const Tensor& t, Where where = Where::current());

// A tensor over m's memory, taking ownership of m: m->deleter(m) runs once the last tensor
// using the memory is gone (at once when the data had to be copied or on an error).
// Zero copy for CPU memory with compact row-major strides (null, or any stride on a
// dimension of size 1); other strides (negative too) are gathered into a new tensor.
// Refused: device memory (pinned host memory counts as CPU), lanes != 1, dtypes nx lacks
// (int8, uint64, complex...), ndim > 8, negative or overflowing shapes.
Tensor from_dlpack(DLManagedTensor* m, Where where = Where::current());

}  // namespace nx::io
