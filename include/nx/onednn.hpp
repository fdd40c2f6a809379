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
}  // namespace onednn
}  // namespace nx
