// Schedules (optax's semantics), computed in f64 and returned as f32 scalars.
#include "nx/optim/schedules.hpp"

#include <cmath>
#include <numbers>
#include <string>
#include <utility>

#include "nx/composites.hpp"
#include "optim/common.hpp"

namespace nx::optim {

namespace {
Tensor step_f64(const Tensor& step, const char* op) {
  if (!step.defined() || step.rank() != 0)
    throw ValueError(op, "the step must be a scalar, got shape " + (step.defined() ? step.shape().str() : "undefined"));
  return as_type(step, f64);
}
Tensor out(const Tensor& v64) { return as_type(v64, f32); }
}  // namespace

Schedule constant(double value, Where where) {
  detail::check_finite("constant", "value", value, where);
  return [value](const Tensor& step) {
    step_f64(step, "constant");
    return scalar(value, f32);
  };
}

Schedule exponential_decay(double init, ExponentialDecayOpts opts, Where where) {
  const std::string op = "exponential_decay";
  detail::check_finite(op, "init", init, where);
  if (opts.transition_steps <= 0)
    throw ValueError(op, "transition_steps must be > 0, got " + std::to_string(opts.transition_steps), where);
  detail::check_positive(op, "decay_rate", opts.decay_rate, where);
  if (opts.transition_begin < 0)
    throw ValueError(op, "transition_begin must be >= 0, got " + std::to_string(opts.transition_begin), where);
  if (opts.end_value) detail::check_finite(op, "end_value", *opts.end_value, where);
  return [init, opts](const Tensor& step) {
    Tensor since = step_f64(step, "exponential_decay") - static_cast<double>(opts.transition_begin);
    Tensor p = since / static_cast<double>(opts.transition_steps);
    if (opts.staircase) p = floor(p);
    Tensor decayed = init * pow(scalar(opts.decay_rate, f64), p);
    Tensor v = select(since <= 0.0, scalar(init, f64), decayed);
    if (opts.end_value) {
      Tensor end = scalar(*opts.end_value, f64);
      v = opts.decay_rate < 1 ? max(v, end) : min(v, end);
    }
    return out(v);
  };
}

Schedule polynomial_decay(double init, double end, int64_t transition_steps, PolynomialOpts opts, Where where) {
  const std::string op = "polynomial_decay";
  detail::check_finite(op, "init", init, where);
  detail::check_finite(op, "end", end, where);
  detail::check_finite(op, "power", opts.power, where);
  if (transition_steps <= 0)
    throw ValueError(op, "transition_steps must be > 0, got " + std::to_string(transition_steps), where);
  if (opts.transition_begin < 0)
    throw ValueError(op, "transition_begin must be >= 0, got " + std::to_string(opts.transition_begin), where);
  const double steps = static_cast<double>(transition_steps);
  return [=](const Tensor& step) {
    Tensor s = step_f64(step, "polynomial_decay") - static_cast<double>(opts.transition_begin);
    s = nx::clip(s, scalar(0.0, f64), scalar(steps, f64));
    Tensor frac = 1.0 - s / steps;
    return out((init - end) * pow(frac, scalar(opts.power, f64)) + end);
  };
}

Schedule cosine_decay(double init, int64_t decay_steps, CosineOpts opts, Where where) {
  const std::string op = "cosine_decay";
  detail::check_finite(op, "init", init, where);
  detail::check_finite(op, "alpha", opts.alpha, where);
  detail::check_finite(op, "exponent", opts.exponent, where);
  if (decay_steps <= 0) throw ValueError(op, "decay_steps must be > 0, got " + std::to_string(decay_steps), where);
  const double steps = static_cast<double>(decay_steps);
  return [=](const Tensor& step) {
    Tensor s = min(step_f64(step, "cosine_decay"), scalar(steps, f64));
    Tensor c = 0.5 * (1.0 + cos(std::numbers::pi * s / steps));
    return out(init * ((1.0 - opts.alpha) * pow(c, scalar(opts.exponent, f64)) + opts.alpha));
  };
}

Schedule linear_warmup(int64_t warmup_steps, Schedule after, double start, Where where) {
  const std::string op = "linear_warmup";
  if (warmup_steps < 0) throw ValueError(op, "warmup_steps must be >= 0, got " + std::to_string(warmup_steps), where);
  if (!after) throw ValueError(op, "the schedule after the warmup is empty", where);
  detail::check_finite(op, "start", start, where);
  const double steps = static_cast<double>(warmup_steps);
  return [warmup_steps, steps, start, after = std::move(after)](const Tensor& step) {
    Tensor s = step_f64(step, "linear_warmup");
    Tensor later = as_type(after(step - warmup_steps), f64);
    if (warmup_steps == 0) return out(later);
    Tensor peak = as_type(after(zeros_like(step)), f64);
    Tensor ramp = start + (peak - start) * (nx::clip(s, scalar(0.0, f64), scalar(steps, f64)) / steps);
    return out(select(s < steps, ramp, later));
  };
}

Schedule piecewise_constant(double init, std::map<int64_t, double> boundaries_and_scales, Where where) {
  const std::string op = "piecewise_constant";
  detail::check_finite(op, "init", init, where);
  for (const auto& [boundary, scale] : boundaries_and_scales)
    if (!(scale >= 0) || !std::isfinite(scale))
      throw ValueError(
          op,
          "scales must be finite numbers >= 0, got " + std::to_string(scale) + " at step " + std::to_string(boundary),
          where);
  return [init, b = std::move(boundaries_and_scales)](const Tensor& step) {
    Tensor s = step_f64(step, "piecewise_constant");
    Tensor v = scalar(init, f64);
    for (const auto& [boundary, scale] : b) v = select(s >= static_cast<double>(boundary), v * scale, v);
    return out(v);
  };
}

}  // namespace nx::optim
