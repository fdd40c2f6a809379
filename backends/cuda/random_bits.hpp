// RandomBits on the device: threefry2x32 with 20 rounds over the counters 0, 1, ... of
// the output shape, the same streams as interp's kernel (and JAX's partitionable
// random_bits), bit for bit.
#pragma once
#include <span>
#include <string>
#include <vector>

#include "nx/backend.hpp"

namespace nx::cuda_backend {

// The kernel's CUDA C++ (entry point nx_random_bits(key, y0, y1, n)): the tests run it
// on the CPU too.
const std::string& random_bits_source();

// Both output words, in buffers from `be` (in[0]: the u32 key pair, on the device).
std::vector<BufferPtr> random_bits(const Node& n, std::span<const Operand> in, Backend& be);

}  // namespace nx::cuda_backend
