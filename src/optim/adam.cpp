// adam, adamw, adamax: torch.optim.Adam, AdamW and Adamax.
#include "nx/optim/adam.hpp"

#include <memory>
#include <string>
#include <vector>

#include "optim/common.hpp"

namespace nx::optim {

namespace {
struct AdamSettings {
  double b1, b2, eps, weight_decay;
  bool amsgrad, decoupled;
};

class Adam final : public detail::Named {
 public:
  Adam(std::string name, Rate lr, AdamSettings s) : Named(std::move(name)), lr_(std::move(lr)), s_(s) {}

  void slots(const std::vector<Tensor>& params, const std::string& prefix, std::vector<Slot>& out) const override {
    detail::leaf_slots(params, prefix, "mu", name(), 0, out);
    detail::leaf_slots(params, prefix, "nu", name(), 0, out);
    if (s_.amsgrad) detail::leaf_slots(params, prefix, "nu_max", name(), 0, out);
  }

  std::vector<Tensor> update(std::vector<Tensor> u, State& state, const Step& step) const override {
    const Tensor t = step.t();
    const Tensor lr = detail::rate_f64(lr_, step);
    const Tensor neg_step_size = -lr / detail::bias_correction(s_.b1, t);
    const Tensor bc2_sqrt = sqrt(detail::bias_correction(s_.b2, t));
    const Tensor neg_decay = -lr * s_.weight_decay;
    for (size_t i = 0; i < u.size(); ++i) {
      const Tensor& p = step.params[i];
      const DType dt = p.dtype();
      Tensor g = u[i];
      if (s_.weight_decay != 0 && !s_.decoupled) g = g + s_.weight_decay * p;
      auto [mu, nu] = detail::update_moments(state, step, i, g, s_.b1, s_.b2);
      Tensor second = nu;
      if (s_.amsgrad) {
        const std::string xk = step.key("nu_max", i);
        second = max(state.at(xk), nu);
        state[xk] = second;
      }
      Tensor denom = sqrt(second) / detail::in(bc2_sqrt, dt) + s_.eps;
      Tensor out = detail::in(neg_step_size, dt) * mu / denom;
      if (s_.weight_decay != 0 && s_.decoupled) out = detail::in(neg_decay, dt) * p + out;
      u[i] = out;
    }
    return u;
  }

 private:
  Rate lr_;
  AdamSettings s_;
};

class Adamax final : public detail::Named {
 public:
  Adamax(Rate lr, AdamaxOpts o) : Named("adamax"), lr_(std::move(lr)), o_(o) {}

  void slots(const std::vector<Tensor>& params, const std::string& prefix, std::vector<Slot>& out) const override {
    detail::leaf_slots(params, prefix, "mu", name(), 0, out);
    detail::leaf_slots(params, prefix, "u", name(), 0, out);
  }

  std::vector<Tensor> update(std::vector<Tensor> u, State& state, const Step& step) const override {
    const Tensor neg_clr = -detail::rate_f64(lr_, step) / detail::bias_correction(o_.b1, step.t());
    for (size_t i = 0; i < u.size(); ++i) {
      Tensor g = u[i];
      if (o_.weight_decay != 0) g = g + o_.weight_decay * step.params[i];
      const std::string mk = step.key("mu", i), uk = step.key("u", i);
      Tensor mu = detail::lerp(state.at(mk), g, 1.0 - o_.b1);
      Tensor inf_norm = max(o_.b2 * state.at(uk), abs(g) + o_.eps);
      state[mk] = mu;
      state[uk] = inf_norm;
      u[i] = detail::in(neg_clr, g.dtype()) * mu / inf_norm;
    }
    return u;
  }

 private:
  Rate lr_;
  AdamaxOpts o_;
};

void check_adam_like(const std::string& op, const Rate& lr, double b1, double b2, double eps, double wd, Where where) {
  detail::check_rate(op, lr, "the learning rate", where);
  detail::check_unit(op, "b1", b1, false, where);
  detail::check_unit(op, "b2", b2, false, where);
  detail::check_positive(op, "eps", eps, where);
  detail::check_at_least(op, "weight_decay", wd, 0, where);
}
}  // namespace

Optimizer adam(Rate lr, AdamOpts o, Where where) {
  check_adam_like("adam", lr, o.b1, o.b2, o.eps, o.weight_decay, where);
  return Optimizer(
      std::make_shared<Adam>("adam", std::move(lr), AdamSettings{o.b1, o.b2, o.eps, o.weight_decay, o.amsgrad, false}));
}

Optimizer adamw(Rate lr, AdamWOpts o, Where where) {
  check_adam_like("adamw", lr, o.b1, o.b2, o.eps, o.weight_decay, where);
  return Optimizer(
      std::make_shared<Adam>("adamw", std::move(lr), AdamSettings{o.b1, o.b2, o.eps, o.weight_decay, o.amsgrad, true}));
}

Optimizer adamax(Rate lr, AdamaxOpts o, Where where) {
  check_adam_like("adamax", lr, o.b1, o.b2, o.eps, o.weight_decay, where);
  return Optimizer(std::make_shared<Adamax>(std::move(lr), o));
}

}  // namespace nx::optim
