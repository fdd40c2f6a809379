// lamb and adabelief: optax.lamb and optax.adabelief.
#include <memory>
#include <string>
#include <vector>

#include "nx/optim/adam.hpp"
#include "optim/common.hpp"

namespace nx::optim {

namespace {
// optax's moment updates: (1 - decay) * g + decay * moment.
Tensor ema(const Tensor& moment, const Tensor& g, double decay) { return (1.0 - decay) * g + decay * moment; }

class Lamb final : public detail::Named {
 public:
  Lamb(Rate lr, LambOpts o) : Named("lamb"), lr_(std::move(lr)), o_(o) {}

  void slots(const std::vector<Tensor>& params, const std::string& prefix, std::vector<Slot>& out) const override {
    detail::leaf_slots(params, prefix, "mu", name(), 0, out);
    detail::leaf_slots(params, prefix, "nu", name(), 0, out);
  }

  std::vector<Tensor> update(std::vector<Tensor> u, State& state, const Step& step) const override {
    const Tensor t = step.t();
    const Tensor bc1 = detail::bias_correction(o_.b1, t), bc2 = detail::bias_correction(o_.b2, t);
    const Tensor neg_lr = -detail::rate_f64(lr_, step);
    for (size_t i = 0; i < u.size(); ++i) {
      const Tensor& p = step.params[i];
      const DType dt = p.dtype();
      const Tensor& g = u[i];
      const std::string mk = step.key("mu", i), nk = step.key("nu", i);
      Tensor mu = ema(state.at(mk), g, o_.b1);
      Tensor nu = ema(state.at(nk), g * g, o_.b2);
      state[mk] = mu;
      state[nk] = nu;
      Tensor direction = (mu / detail::in(bc1, dt)) / (sqrt(nu / detail::in(bc2, dt) + o_.eps_root) + o_.eps);
      if (o_.weight_decay != 0) direction = direction + o_.weight_decay * p;
      // The trust ratio ||p|| / ||direction|| over the whole leaf; 1 when either is 0.
      Tensor p_norm = sqrt(sum(p * p)), d_norm = sqrt(sum(direction * direction));
      Tensor ratio = select(logical_or(p_norm == 0.0, d_norm == 0.0), scalar(1.0, dt), p_norm / d_norm);
      u[i] = detail::in(neg_lr, dt) * (direction * ratio);
    }
    return u;
  }

 private:
  Rate lr_;
  LambOpts o_;
};

class Adabelief final : public detail::Named {
 public:
  Adabelief(Rate lr, AdabeliefOpts o) : Named("adabelief"), lr_(std::move(lr)), o_(o) {}

  void slots(const std::vector<Tensor>& params, const std::string& prefix, std::vector<Slot>& out) const override {
    detail::leaf_slots(params, prefix, "mu", name(), 0, out);
    detail::leaf_slots(params, prefix, "nu", name(), 0, out);
  }

  std::vector<Tensor> update(std::vector<Tensor> u, State& state, const Step& step) const override {
    const Tensor t = step.t();
    const Tensor bc1 = detail::bias_correction(o_.b1, t), bc2 = detail::bias_correction(o_.b2, t);
    const Tensor bc1_next = detail::bias_correction(o_.b1, t + 1.0);
    const Tensor neg_lr = -detail::rate_f64(lr_, step);
    for (size_t i = 0; i < u.size(); ++i) {
      const DType dt = step.params[i].dtype();
      const Tensor& g = u[i];
      const std::string mk = step.key("mu", i), nk = step.key("nu", i);
      Tensor mu = ema(state.at(mk), g, o_.b1);
      Tensor surprise = g - mu;  // how far the gradient is from its prediction
      Tensor nu = ema(state.at(nk), surprise * surprise, o_.b2) + o_.eps_root;
      state[mk] = mu;
      state[nk] = nu;
      Tensor mu_hat = o_.nesterov ? o_.b1 * (mu / detail::in(bc1_next, dt)) + (1.0 - o_.b1) * (g / detail::in(bc1, dt))
                                  : mu / detail::in(bc1, dt);
      Tensor nu_hat = nu / detail::in(bc2, dt);
      u[i] = detail::in(neg_lr, dt) * (mu_hat / (sqrt(nu_hat) + o_.eps));
    }
    return u;
  }

 private:
  Rate lr_;
  AdabeliefOpts o_;
};
}  // namespace

Optimizer lamb(Rate lr, LambOpts o, Where where) {
  const std::string op = "lamb";
  detail::check_rate(op, lr, "the learning rate", where);
  detail::check_unit(op, "b1", o.b1, false, where);
  detail::check_unit(op, "b2", o.b2, false, where);
  detail::check_positive(op, "eps", o.eps, where);
  detail::check_at_least(op, "eps_root", o.eps_root, 0, where);
  detail::check_at_least(op, "weight_decay", o.weight_decay, 0, where);
  return Optimizer(std::make_shared<Lamb>(std::move(lr), o));
}

Optimizer adabelief(Rate lr, AdabeliefOpts o, Where where) {
  const std::string op = "adabelief";
  detail::check_rate(op, lr, "the learning rate", where);
  detail::check_unit(op, "b1", o.b1, false, where);
  detail::check_unit(op, "b2", o.b2, false, where);
  detail::check_positive(op, "eps", o.eps, where);
  detail::check_at_least(op, "eps_root", o.eps_root, 0, where);
  return Optimizer(std::make_shared<Adabelief>(std::move(lr), o));
}

}  // namespace nx::optim
