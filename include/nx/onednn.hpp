// The oneDNN backend (registered as "onednn" when nx++ is built with oneDNN): matmul,
// convolutions and their gradients, pooling, f32 elementwise ops, sums and softmax
// through oneDNN primitives on the host; nodes it does not map run the interp kernels.
#pragma once
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>

namespace nx {
void register_onednn_backend();

namespace onednn {
// How many nodes each oneDNN kernel ran ("matmul", "conv_forward", "conv_backward_data",
// ...) and how many went to interp ("interp:<op>"), since the start or the last reset:
// shows which nodes of a model fall back.
std::map<std::string, int64_t> kernel_counts();
void reset_kernel_counts();

// Built primitives are cached per kind (matmul, convolution, ...) and shape, least recently
// used dropped first beyond this many per kind (default 512, or NX_ONEDNN_CACHE_LIMIT).
// Takes effect as entries are next added.
void set_primitive_cache_limit(size_t per_kind);
// How many primitives the caches hold now, all kinds together.
int64_t cached_primitive_count();

// Convolutions (forward and both gradients) of 32 or more channels in and out (per group)
// may use Winograd's algorithm where oneDNN finds it faster than the direct one (3x3
// windows, unit strides, batches of 16 or more): on AVX-512 up to 2x the speed, with
// about twice the direct algorithm's rounding error (both near 1e-6 relative in f32). On by default; NX_ONEDNN_WINOGRAD=0 or
// set_allow_winograd(false) keeps every convolution direct (exact to summation order),
// for runs compared bit for bit.
void set_allow_winograd(bool allow);
bool allow_winograd();
}  // namespace onednn
}  // namespace nx
