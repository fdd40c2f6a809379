// Schedules: the learning rate as a function of the step count (optax's schedules, same
// names and semantics). Each takes the number of updates already applied (any numeric
// scalar tensor, traced inside nx::jit), computes in f64 and returns an f32 scalar. Give
// one wherever a Rate goes: nx::optim::adam(nx::optim::cosine_decay(1e-3, 10000)).
// Arguments optax would quietly turn into a constant schedule (transition_steps <= 0, a
// decay rate of 0) raise ValueError here.
#pragma once
#include <cstdint>
#include <map>
#include <optional>

#include "nx/axes.hpp"
#include "nx/optim/optimizer.hpp"

namespace nx::optim {

// `value` at every step (optax.constant_schedule).
Schedule constant(double value, Where where = Where::current());

struct ExponentialDecayOpts {
  nx::detail::NamedFieldsOnly named_fields_only;
  int64_t transition_steps = 0;     // required, > 0: the steps over which the rate is multiplied by decay_rate
  double decay_rate = 0;            // required, > 0 (< 1 decays, > 1 grows)
  bool staircase = false;           // whole transitions only: the rate changes every transition_steps
  int64_t transition_begin = 0;     // steps at init before the decay starts
  std::optional<double> end_value;  // a floor when decaying, a ceiling when growing
};
// init * decay_rate^((step - transition_begin) / transition_steps), init before
// transition_begin (optax.exponential_decay).
Schedule exponential_decay(double init, ExponentialDecayOpts opts, Where where = Where::current());

struct PolynomialOpts {
  nx::detail::NamedFieldsOnly named_fields_only;
  double power = 1;
  int64_t transition_begin = 0;
};
// From init to end over transition_steps (after transition_begin) as
// (init - end) * (1 - s / transition_steps)^power + end, then end (optax.polynomial_schedule;
// power 1 is optax.linear_schedule).
Schedule polynomial_decay(double init, double end, int64_t transition_steps, PolynomialOpts opts = {},
                          Where where = Where::current());

struct CosineOpts {
  nx::detail::NamedFieldsOnly named_fields_only;
  double alpha = 0;     // the final value as a fraction of init
  double exponent = 1;  // of the cosine factor
};
// init * ((1 - alpha) * (0.5 * (1 + cos(pi * min(step, decay_steps) / decay_steps)))^exponent
// + alpha) (optax.cosine_decay_schedule).
Schedule cosine_decay(double init, int64_t decay_steps, CosineOpts opts = {}, Where where = Where::current());

// Linear from `start` to after(0) over warmup_steps, then after(step - warmup_steps)
// (optax.join_schedules of a linear_schedule and `after`; warmup_cosine_decay_schedule is
// linear_warmup(w, cosine_decay(peak, total - w), 0)).
Schedule linear_warmup(int64_t warmup_steps, Schedule after, double start = 0, Where where = Where::current());

// init, multiplied by each scale once the step reaches its boundary:
// piecewise_constant(0.1, {{1000, 0.1}, {2000, 0.1}}) is 0.1, then 0.01 from step 1000, then
// 0.001 from step 2000 (optax.piecewise_constant_schedule; scales must be >= 0).
Schedule piecewise_constant(double init, std::map<int64_t, double> boundaries_and_scales,
                            Where where = Where::current());

}  // namespace nx::optim
