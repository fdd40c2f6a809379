// The Adam family. adam, adamw, adamax, nadam and radam follow torch.optim (defaults and
// formulas); lamb and adabelief follow optax. State: "mu.<leaf>" (first moment) and
// "nu.<leaf>" (second moment), plus what each names below.
#pragma once
#include "nx/axes.hpp"
#include "nx/optim/optimizer.hpp"

namespace nx::optim {

struct AdamOpts {
  nx::detail::NamedFieldsOnly named_fields_only;
  double b1 = 0.9, b2 = 0.999;  // in [0, 1)
  double eps = 1e-8;            // > 0, added to the bias-corrected sqrt(nu)
  double weight_decay = 0;      // L2: added to the gradient (torch.optim.Adam)
  bool amsgrad = false;         // divide by the running maximum of nu ("nu_max.<leaf>")
};
// torch.optim.Adam: param -= lr / (1 - b1^t) * mu / (sqrt(nu) / sqrt(1 - b2^t) + eps).
Optimizer adam(Rate lr = 1e-3, AdamOpts opts = {}, Where where = Where::current());

struct AdamWOpts {
  nx::detail::NamedFieldsOnly named_fields_only;
  double b1 = 0.9, b2 = 0.999;
  double eps = 1e-8;
  double weight_decay = 1e-2;  // decoupled: param -= lr * weight_decay * param
  bool amsgrad = false;
};
// torch.optim.AdamW: Adam with decoupled weight decay.
Optimizer adamw(Rate lr = 1e-3, AdamWOpts opts = {}, Where where = Where::current());

struct AdamaxOpts {
  nx::detail::NamedFieldsOnly named_fields_only;
  double b1 = 0.9, b2 = 0.999;
  double eps = 1e-8;
  double weight_decay = 0;  // L2
};
// torch.optim.Adamax: the infinity norm u = max(b2 * u, |grad| + eps) ("u.<leaf>", no nu),
// param -= lr / (1 - b1^t) * mu / u.
Optimizer adamax(Rate lr = 2e-3, AdamaxOpts opts = {}, Where where = Where::current());

struct NadamOpts {
  nx::detail::NamedFieldsOnly named_fields_only;
  double b1 = 0.9, b2 = 0.999;
  double eps = 1e-8;
  double weight_decay = 0;
  double momentum_decay = 4e-3;         // psi: mu_t = b1 * (1 - 0.5 * 0.96^(t * psi))
  bool decoupled_weight_decay = false;  // false: L2 (NAdam), true: decoupled (NAdamW)
};
// torch.optim.NAdam (Dozat's Nesterov Adam with momentum decay); also keeps the product
// of the momentum coefficients, "mu_product" (an f64 scalar).
Optimizer nadam(Rate lr = 2e-3, NadamOpts opts = {}, Where where = Where::current());

struct RadamOpts {
  nx::detail::NamedFieldsOnly named_fields_only;
  double b1 = 0.9, b2 = 0.999;
  double eps = 1e-8;
  double weight_decay = 0;
  bool decoupled_weight_decay = false;
};
// torch.optim.RAdam: Adam whose adaptive term is rectified, and left out while the
// variance estimate is unreliable (rho_t <= 5, the first ~6 steps with b2 = 0.999).
Optimizer radam(Rate lr = 1e-3, RadamOpts opts = {}, Where where = Where::current());

struct LambOpts {
  nx::detail::NamedFieldsOnly named_fields_only;
  double b1 = 0.9, b2 = 0.999;
  double eps = 1e-6;        // > 0, outside the square root
  double eps_root = 0;      // >= 0, inside it
  double weight_decay = 0;  // decoupled, added before the trust ratio
};
// optax.lamb: the Adam direction plus weight_decay * param, scaled per leaf by the trust
// ratio ||param|| / ||direction|| (1 when either norm is 0), times -lr.
Optimizer lamb(Rate lr = 1e-3, LambOpts opts = {}, Where where = Where::current());

struct AdabeliefOpts {
  nx::detail::NamedFieldsOnly named_fields_only;
  double b1 = 0.9, b2 = 0.999;
  double eps = 1e-16;       // > 0
  double eps_root = 1e-16;  // >= 0, added to nu at every step (it accumulates, as optax)
  bool nesterov = false;
};
// optax.adabelief: nu tracks (grad - mu)^2, the belief in the gradient, instead of grad^2.
Optimizer adabelief(Rate lr = 1e-3, AdabeliefOpts opts = {}, Where where = Where::current());

}  // namespace nx::optim
