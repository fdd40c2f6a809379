// nx::optim: optimizers (Polaris / optax / torch.optim), schedules and gradient
// transformations over parameter trees, written with nx's public ops only, so every
// backend runs them and a whole training step jits. See docs/OPTIM.md.
//
//   auto opt = nx::optim::chain({nx::optim::clip_by_global_norm(1.0),
//                                nx::optim::adamw(nx::optim::cosine_decay(1e-3, 10000))});
//   nx::optim::State state = opt.init(params);
//   auto [updates, next] = opt.update(grads, state, params);
//   params = nx::optim::apply_updates(params, updates);
#pragma once
#include "nx/optim/adam.hpp"
#include "nx/optim/adaptive.hpp"
#include "nx/optim/optimizer.hpp"
#include "nx/optim/schedules.hpp"
#include "nx/optim/sgd.hpp"
#include "nx/optim/transforms.hpp"
