// Seeing values inside compiled code (JAX's jax.debug.print / debug.callback, Nx's
// print_value). Each returns x unchanged; use the result, so that the print is part of the
// computation:
//
//   auto step = nx::jit([](const nx::Tensor& w, const nx::Tensor& g) {
//     nx::Tensor n = nx::debug_print(nx::sum(g * g), "grad norm^2 = {}");
//     return w - g * 0.1f + 0.0f * n;
//   });
//
// Eagerly the function runs at once; inside nx::jit (and grad) it becomes a node that runs
// each time the compiled function computes x, on the thread that runs it. A print whose
// result nothing uses is removed with the rest of the dead code. Gradients pass through.
#pragma once
#include <functional>
#include <string>

#include "nx/tensor.hpp"

namespace nx {

// Prints `format` with "{}" replaced by x's value (appended when there is no "{}") to
// standard output, one line per call, whole lines even from several threads.
Tensor debug_print(const Tensor& x, std::string format = "{}", Where where = Where::current());
// Calls fn with x's value (a concrete host tensor) whenever x is computed.
Tensor debug_callback(const Tensor& x, std::function<void(const Tensor&)> fn, Where where = Where::current());

}  // namespace nx
