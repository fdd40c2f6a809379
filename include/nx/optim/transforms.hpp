// Transformations to chain with an optimizer (optax's names and semantics):
//
//   auto opt = nx::optim::chain({nx::optim::clip_by_global_norm(1.0), nx::optim::adam(1e-3)});
//   auto sgd_by_hand = nx::optim::chain({nx::optim::add_decayed_weights(1e-4), nx::optim::scale(-0.1)});
//
// None keeps state of its own (a schedule in `scale` reads the shared "count").
#pragma once
#include "nx/optim/optimizer.hpp"

namespace nx::optim {

// Each element clipped to [-max_abs, max_abs] (optax.clip); max_abs >= 0.
Optimizer clip(double max_abs, Where where = Where::current());
// All updates scaled by max_norm / g when their global norm g (the square root of the sum
// of every element's square, over every leaf) is at least max_norm (optax.clip_by_global_norm);
// max_norm > 0.
Optimizer clip_by_global_norm(double max_norm, Where where = Where::current());
// updates + weight_decay * params (optax.add_decayed_weights); weight_decay >= 0.
Optimizer add_decayed_weights(double weight_decay, Where where = Where::current());
// updates * factor, a number or a schedule of the step count (optax.scale and
// scale_by_schedule). A descent step multiplies by a negative factor: scale(-lr).
Optimizer scale(Rate factor, Where where = Where::current());

}  // namespace nx::optim
