// clip, clip_by_global_norm, add_decayed_weights, scale (optax's semantics).
#include "nx/optim/transforms.hpp"

#include <memory>
#include <vector>

#include "nx/composites.hpp"
#include "optim/common.hpp"

namespace nx::optim {

namespace {
using detail::Named;

class Clip final : public Named {
 public:
  explicit Clip(double max_abs) : Named("clip"), max_abs_(max_abs) {}
  std::vector<Tensor> update(std::vector<Tensor> u, State&, const Step&) const override {
    for (Tensor& x : u) x = nx::clip(x, Tensor(-max_abs_), Tensor(max_abs_));
    return u;
  }

 private:
  double max_abs_;
};

class ClipByGlobalNorm final : public Named {
 public:
  explicit ClipByGlobalNorm(double max_norm) : Named("clip_by_global_norm"), max_norm_(max_norm) {}
  std::vector<Tensor> update(std::vector<Tensor> u, State&, const Step&) const override {
    if (u.empty()) return u;
    // Each leaf's sum of squares in its own dtype, added in f64.
    Tensor total = scalar(0.0, f64);
    for (const Tensor& x : u) total = total + as_type(sum(x * x), f64);
    Tensor norm = sqrt(total);
    Tensor small = norm < max_norm_;
    for (Tensor& x : u) x = select(small, x, x / as_type(norm, x.dtype()) * max_norm_);
    return u;
  }

 private:
  double max_norm_;
};

class AddDecayedWeights final : public Named {
 public:
  explicit AddDecayedWeights(double wd) : Named("add_decayed_weights"), wd_(wd) {}
  std::vector<Tensor> update(std::vector<Tensor> u, State&, const Step& step) const override {
    for (size_t i = 0; i < u.size(); ++i) u[i] = u[i] + wd_ * step.params[i];
    return u;
  }

 private:
  double wd_;
};

class Scale final : public Named {
 public:
  explicit Scale(Rate factor) : Named("scale"), factor_(std::move(factor)) {}
  std::vector<Tensor> update(std::vector<Tensor> u, State&, const Step& step) const override {
    if (!factor_.is_schedule()) {
      for (Tensor& x : u) x = x * factor_.value();
      return u;
    }
    Tensor f = detail::rate_f64(factor_, step);
    for (Tensor& x : u) x = x * detail::in(f, x.dtype());
    return u;
  }

 private:
  Rate factor_;
};
}  // namespace

Optimizer clip(double max_abs, Where where) {
  detail::check_at_least("clip", "max_abs", max_abs, 0, where);
  return Optimizer(std::make_shared<Clip>(max_abs));
}

Optimizer clip_by_global_norm(double max_norm, Where where) {
  detail::check_positive("clip_by_global_norm", "max_norm", max_norm, where);
  return Optimizer(std::make_shared<ClipByGlobalNorm>(max_norm));
}

Optimizer add_decayed_weights(double weight_decay, Where where) {
  detail::check_at_least("add_decayed_weights", "weight_decay", weight_decay, 0, where);
  return Optimizer(std::make_shared<AddDecayedWeights>(weight_decay));
}

Optimizer scale(Rate factor, Where where) {
  if (factor.is_schedule()) {
    if (!factor.schedule()) throw ValueError("scale", "factor is an empty schedule", where);
  } else {
    detail::check_finite("scale", "factor", factor.value(), where);
  }
  return Optimizer(std::make_shared<Scale>(std::move(factor)));
}

}  // namespace nx::optim
