// nadam and radam: torch.optim.NAdam and RAdam.
#include <memory>
#include <string>
#include <vector>

#include "nx/optim/adam.hpp"
#include "optim/common.hpp"

namespace nx::optim {

namespace {
class Nadam final : public detail::Named {
 public:
  Nadam(Rate lr, NadamOpts o) : Named("nadam"), lr_(std::move(lr)), o_(o) {}

  void slots(const std::vector<Tensor>& params, const std::string& prefix, std::vector<Slot>& out) const override {
    detail::leaf_slots(params, prefix, "mu", name(), 0, out);
    detail::leaf_slots(params, prefix, "nu", name(), 0, out);
    out.push_back(Slot{prefix + "mu_product", Shape{}, f64, 1.0, name()});
  }

  std::vector<Tensor> update(std::vector<Tensor> u, State& state, const Step& step) const override {
    const Tensor t = step.t();
    const Tensor lr = detail::rate_f64(lr_, step);
    const Tensor bc2 = detail::bias_correction(o_.b2, t);
    // The momentum schedule: mu_t = b1 * (1 - 0.5 * 0.96^(t * psi)), and its running product.
    const Tensor c96 = scalar(0.96, f64);
    const Tensor mu_t = o_.b1 * (1.0 - 0.5 * pow(c96, t * o_.momentum_decay));
    const Tensor mu_next = o_.b1 * (1.0 - 0.5 * pow(c96, (t + 1.0) * o_.momentum_decay));
    const std::string pk = step.key("mu_product");
    const Tensor product = state.at(pk) * mu_t;
    state[pk] = product;
    const Tensor c_grad = -lr * (1.0 - mu_t) / (1.0 - product);
    const Tensor c_mu = -lr * mu_next / (1.0 - product * mu_next);
    const Tensor neg_decay = -lr * o_.weight_decay;
    for (size_t i = 0; i < u.size(); ++i) {
      const Tensor& p = step.params[i];
      const DType dt = p.dtype();
      Tensor g = u[i];
      if (o_.weight_decay != 0 && !o_.decoupled_weight_decay) g = g + o_.weight_decay * p;
      auto [mu, nu] = detail::update_moments(state, step, i, g, o_.b1, o_.b2);
      Tensor denom = sqrt(nu / detail::in(bc2, dt)) + o_.eps;
      Tensor out = detail::in(c_grad, dt) * g / denom + detail::in(c_mu, dt) * mu / denom;
      if (o_.weight_decay != 0 && o_.decoupled_weight_decay) out = detail::in(neg_decay, dt) * p + out;
      u[i] = out;
    }
    return u;
  }

 private:
  Rate lr_;
  NadamOpts o_;
};

class Radam final : public detail::Named {
 public:
  Radam(Rate lr, RadamOpts o) : Named("radam"), lr_(std::move(lr)), o_(o) {}

  void slots(const std::vector<Tensor>& params, const std::string& prefix, std::vector<Slot>& out) const override {
    detail::leaf_slots(params, prefix, "mu", name(), 0, out);
    detail::leaf_slots(params, prefix, "nu", name(), 0, out);
  }

  std::vector<Tensor> update(std::vector<Tensor> u, State& state, const Step& step) const override {
    const Tensor t = step.t();
    const Tensor lr = detail::rate_f64(lr_, step);
    const Tensor bc1 = detail::bias_correction(o_.b1, t);
    const Tensor bc2 = detail::bias_correction(o_.b2, t);
    // The length of the approximated simple moving average, and the rectification, in f64:
    // rho_t cancels catastrophically in f32 for b2 near 1.
    const double rho_inf = 2.0 / (1.0 - o_.b2) - 1.0;
    const Tensor rho_t = rho_inf - 2.0 * t * pow(scalar(o_.b2, f64), t) / bc2;
    const Tensor rectified = rho_t > 5.0;
    const Tensor rect = sqrt(select(rectified, (rho_t - 4.0) * (rho_t - 2.0) * rho_inf, scalar(1.0, f64)) /
                             select(rectified, (rho_inf - 4.0) * (rho_inf - 2.0) * rho_t, scalar(1.0, f64)));
    const Tensor neg_lr_bc1 = -lr / bc1;
    const Tensor bc2_sqrt = sqrt(bc2);
    const Tensor neg_decay = -lr * o_.weight_decay;
    for (size_t i = 0; i < u.size(); ++i) {
      const Tensor& p = step.params[i];
      const DType dt = p.dtype();
      Tensor g = u[i];
      if (o_.weight_decay != 0 && !o_.decoupled_weight_decay) g = g + o_.weight_decay * p;
      auto [mu, nu] = detail::update_moments(state, step, i, g, o_.b1, o_.b2);
      Tensor plain = detail::in(neg_lr_bc1, dt) * mu;  // -lr * the bias-corrected mu
      Tensor adaptive = detail::in(bc2_sqrt, dt) / (sqrt(nu) + o_.eps);
      Tensor out = select(rectified, plain * adaptive * detail::in(rect, dt), plain);
      if (o_.weight_decay != 0 && o_.decoupled_weight_decay) out = detail::in(neg_decay, dt) * p + out;
      u[i] = out;
    }
    return u;
  }

 private:
  Rate lr_;
  RadamOpts o_;
};

void check_common(const std::string& op, const Rate& lr, double b1, double b2, double eps, double wd, Where where) {
  detail::check_rate(op, lr, "the learning rate", where);
  detail::check_unit(op, "b1", b1, false, where);
  detail::check_unit(op, "b2", b2, false, where);
  detail::check_positive(op, "eps", eps, where);
  detail::check_at_least(op, "weight_decay", wd, 0, where);
}
}  // namespace

Optimizer nadam(Rate lr, NadamOpts o, Where where) {
  check_common("nadam", lr, o.b1, o.b2, o.eps, o.weight_decay, where);
  detail::check_at_least("nadam", "momentum_decay", o.momentum_decay, 0, where);
  return Optimizer(std::make_shared<Nadam>(std::move(lr), o));
}

Optimizer radam(Rate lr, RadamOpts o, Where where) {
  check_common("radam", lr, o.b1, o.b2, o.eps, o.weight_decay, where);
  return Optimizer(std::make_shared<Radam>(std::move(lr), o));
}

}  // namespace nx::optim
