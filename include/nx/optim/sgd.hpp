// Stochastic gradient descent with momentum, as torch.optim.SGD.
#pragma once
#include "nx/axes.hpp"
#include "nx/optim/optimizer.hpp"

namespace nx::optim {

struct SgdOpts {
  nx::detail::NamedFieldsOnly named_fields_only;
  double momentum = 0;      // >= 0; the buffer starts as the first gradient, as PyTorch
  bool nesterov = false;    // needs momentum > 0 and dampening 0
  double dampening = 0;     // buffer = momentum * buffer + (1 - dampening) * grad
  double weight_decay = 0;  // L2: weight_decay * param added to the gradient
};
// param -= lr * (grad, its momentum buffer, or grad + momentum * buffer with nesterov).
// State: "momentum.<leaf>" when momentum > 0.
Optimizer sgd(Rate lr = 1e-2, SgdOpts opts = {}, Where where = Where::current());

}  // namespace nx::optim
