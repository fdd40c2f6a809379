// rmsprop, adagrad, adadelta: torch.optim.RMSprop, Adagrad and Adadelta.
#include "nx/optim/adaptive.hpp"

#include <memory>
#include <string>
#include <vector>

#include "optim/common.hpp"

namespace nx::optim {

namespace {
Tensor with_l2(const Tensor& g, double wd, const Tensor& p) { return wd != 0 ? g + wd * p : g; }

class Rmsprop final : public detail::Named {
 public:
  Rmsprop(Rate lr, RmspropOpts o) : Named("rmsprop"), lr_(std::move(lr)), o_(o) {}

  void slots(const std::vector<Tensor>& params, const std::string& prefix, std::vector<Slot>& out) const override {
    detail::leaf_slots(params, prefix, "nu", name(), 0, out);
    if (o_.centered) detail::leaf_slots(params, prefix, "mu", name(), 0, out);
    if (o_.momentum > 0) detail::leaf_slots(params, prefix, "momentum", name(), 0, out);
  }

  std::vector<Tensor> update(std::vector<Tensor> u, State& state, const Step& step) const override {
    const Tensor neg_lr = -detail::rate_f64(lr_, step);
    for (size_t i = 0; i < u.size(); ++i) {
      Tensor g = with_l2(u[i], o_.weight_decay, step.params[i]);
      const std::string nk = step.key("nu", i);
      Tensor nu = o_.alpha * state.at(nk) + (1.0 - o_.alpha) * (g * g);
      state[nk] = nu;
      Tensor avg;
      if (o_.centered) {
        const std::string mk = step.key("mu", i);
        Tensor mu = detail::lerp(state.at(mk), g, 1.0 - o_.alpha);
        state[mk] = mu;
        avg = sqrt(nu - mu * mu);
      } else {
        avg = sqrt(nu);
      }
      avg = avg + o_.eps;
      Tensor direction = g / avg;
      if (o_.momentum > 0) {
        const std::string bk = step.key("momentum", i);
        direction = o_.momentum * state.at(bk) + direction;
        state[bk] = direction;
      }
      u[i] = detail::in(neg_lr, g.dtype()) * direction;
    }
    return u;
  }

 private:
  Rate lr_;
  RmspropOpts o_;
};

class Adagrad final : public detail::Named {
 public:
  Adagrad(Rate lr, AdagradOpts o) : Named("adagrad"), lr_(std::move(lr)), o_(o) {}

  void slots(const std::vector<Tensor>& params, const std::string& prefix, std::vector<Slot>& out) const override {
    detail::leaf_slots(params, prefix, "sum", name(), o_.initial_accumulator_value, out);
  }

  std::vector<Tensor> update(std::vector<Tensor> u, State& state, const Step& step) const override {
    const Tensor neg_clr = -detail::rate_f64(lr_, step) / (1.0 + as_type(step.count, f64) * o_.lr_decay);
    for (size_t i = 0; i < u.size(); ++i) {
      Tensor g = with_l2(u[i], o_.weight_decay, step.params[i]);
      const std::string sk = step.key("sum", i);
      Tensor acc = state.at(sk) + g * g;
      state[sk] = acc;
      u[i] = detail::in(neg_clr, g.dtype()) * g / (sqrt(acc) + o_.eps);
    }
    return u;
  }

 private:
  Rate lr_;
  AdagradOpts o_;
};

class Adadelta final : public detail::Named {
 public:
  Adadelta(Rate lr, AdadeltaOpts o) : Named("adadelta"), lr_(std::move(lr)), o_(o) {}

  void slots(const std::vector<Tensor>& params, const std::string& prefix, std::vector<Slot>& out) const override {
    detail::leaf_slots(params, prefix, "nu", name(), 0, out);
    detail::leaf_slots(params, prefix, "delta", name(), 0, out);
  }

  std::vector<Tensor> update(std::vector<Tensor> u, State& state, const Step& step) const override {
    const Tensor neg_lr = -detail::rate_f64(lr_, step);
    for (size_t i = 0; i < u.size(); ++i) {
      Tensor g = with_l2(u[i], o_.weight_decay, step.params[i]);
      const std::string nk = step.key("nu", i), dk = step.key("delta", i);
      Tensor nu = o_.rho * state.at(nk) + (1.0 - o_.rho) * (g * g);
      Tensor delta = sqrt(state.at(dk) + o_.eps) / sqrt(nu + o_.eps) * g;
      state[nk] = nu;
      state[dk] = o_.rho * state.at(dk) + (1.0 - o_.rho) * (delta * delta);
      u[i] = detail::in(neg_lr, g.dtype()) * delta;
    }
    return u;
  }

 private:
  Rate lr_;
  AdadeltaOpts o_;
};
}  // namespace

Optimizer rmsprop(Rate lr, RmspropOpts o, Where where) {
  detail::check_rate("rmsprop", lr, "the learning rate", where);
  detail::check_unit("rmsprop", "alpha", o.alpha, true, where);
  detail::check_positive("rmsprop", "eps", o.eps, where);
  detail::check_at_least("rmsprop", "weight_decay", o.weight_decay, 0, where);
  detail::check_at_least("rmsprop", "momentum", o.momentum, 0, where);
  return Optimizer(std::make_shared<Rmsprop>(std::move(lr), o));
}

Optimizer adagrad(Rate lr, AdagradOpts o, Where where) {
  detail::check_rate("adagrad", lr, "the learning rate", where);
  detail::check_at_least("adagrad", "lr_decay", o.lr_decay, 0, where);
  detail::check_at_least("adagrad", "weight_decay", o.weight_decay, 0, where);
  detail::check_at_least("adagrad", "initial_accumulator_value", o.initial_accumulator_value, 0, where);
  detail::check_positive("adagrad", "eps", o.eps, where);
  return Optimizer(std::make_shared<Adagrad>(std::move(lr), o));
}

Optimizer adadelta(Rate lr, AdadeltaOpts o, Where where) {
  detail::check_rate("adadelta", lr, "the learning rate", where);
  detail::check_unit("adadelta", "rho", o.rho, true, where);
  detail::check_positive("adadelta", "eps", o.eps, where);
  detail::check_at_least("adadelta", "weight_decay", o.weight_decay, 0, where);
  return Optimizer(std::make_shared<Adadelta>(std::move(lr), o));
}

}  // namespace nx::optim
