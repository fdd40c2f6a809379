// Per-element adaptive rates without bias correction, as torch.optim: RMSprop, Adagrad,
// Adadelta (defaults and formulas as PyTorch's).
#pragma once
#include "nx/axes.hpp"
#include "nx/optim/optimizer.hpp"

namespace nx::optim {

struct RmspropOpts {
  nx::detail::NamedFieldsOnly named_fields_only;
  double alpha = 0.99;      // in [0, 1]: nu = alpha * nu + (1 - alpha) * grad^2
  double eps = 1e-8;        // > 0, added to the square root
  double momentum = 0;      // >= 0: a buffer of grad / (sqrt(nu) + eps) ("momentum.<leaf>")
  bool centered = false;    // divide by the estimated standard deviation: also "mu.<leaf>", the mean grad
  double weight_decay = 0;  // L2
};
// torch.optim.RMSprop: param -= lr * grad / (sqrt(nu) + eps). State: "nu.<leaf>".
Optimizer rmsprop(Rate lr = 1e-2, RmspropOpts opts = {}, Where where = Where::current());

struct AdagradOpts {
  nx::detail::NamedFieldsOnly named_fields_only;
  double lr_decay = 0;                   // >= 0: step t uses lr / (1 + (t - 1) * lr_decay)
  double weight_decay = 0;               // L2
  double initial_accumulator_value = 0;  // >= 0
  double eps = 1e-10;                    // > 0
};
// torch.optim.Adagrad: sum += grad^2; param -= lr * grad / (sqrt(sum) + eps). State: "sum.<leaf>".
Optimizer adagrad(Rate lr = 1e-2, AdagradOpts opts = {}, Where where = Where::current());

struct AdadeltaOpts {
  nx::detail::NamedFieldsOnly named_fields_only;
  double rho = 0.9;         // in [0, 1]
  double eps = 1e-6;        // > 0
  double weight_decay = 0;  // L2
};
// torch.optim.Adadelta: delta = sqrt(acc_delta + eps) / sqrt(nu + eps) * grad,
// param -= lr * delta. State: "nu.<leaf>" and "delta.<leaf>" (the average of delta^2).
Optimizer adadelta(Rate lr = 1.0, AdadeltaOpts opts = {}, Where where = Where::current());

}  // namespace nx::optim
