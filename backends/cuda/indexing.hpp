// gather, indexed_add and indexed_put on the device, as interp: indices (..., k) address
// the k axes `attrs.axes` of x; the other axes of x form each addressed slice. Kernels are
// specialised to the shapes, a thread per element.
//   gather: indices clamped into range; a training batch's rows taken by shuffled indices
//     run here instead of copying the whole data set to the host and back.
//   indexed_add / indexed_put: the result is x with each update slice added or written;
//     slices out of range are skipped. Adds are atomic (the gradient of a gather, an
//     embedding's): integers exact, floats summed in whatever order the device takes
//     (f16, bf16, u8 and bool by compare-and-swap on the word holding the element).
//     Puts are deterministic as interp's, the last update of a place winning: a first
//     kernel keeps the highest update index per place (atomicMax), a second writes only it.
#pragma once
#include <span>
#include <string>

#include "nx/backend.hpp"

namespace nx::cuda_backend {

bool gather_supported(const Node& n, std::span<const Operand> in);
// Entry point `name`(x, indices, y, count).
std::string gather_source(const Node& n, const TensorType& x, const TensorType& indices, const std::string& name);
BufferPtr gather(const Node& n, std::span<const Operand> in, Backend& be);

bool scatter_supported(const Node& n, std::span<const Operand> in);
// Entry points, y holding a copy of x and `winner` (indexed_put) one long long per place
// (the product of the addressed axes' sizes), set to -1:
//   `name`_winner(indices, winner, count), count the update slices (indexed_put);
//   `name`(indices, updates, y, winner, count), count the update elements.
std::string scatter_source(const Node& n, const TensorType& x, const TensorType& indices, const std::string& name);
BufferPtr scatter(const Node& n, std::span<const Operand> in, Backend& be);
// The places indexed_put's winner array has.
int64_t scatter_places(const Node& n, const TensorType& x);

}  // namespace nx::cuda_backend
