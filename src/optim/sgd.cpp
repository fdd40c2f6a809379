// sgd: torch.optim.SGD.
#include "nx/optim/sgd.hpp"

#include <memory>
#include <vector>

#include "optim/common.hpp"

namespace nx::optim {

namespace {
class Sgd final : public detail::Named {
 public:
  Sgd(Rate lr, SgdOpts o) : Named("sgd"), lr_(std::move(lr)), o_(o) {}

  void slots(const std::vector<Tensor>& params, const std::string& prefix, std::vector<Slot>& out) const override {
    if (o_.momentum > 0) detail::leaf_slots(params, prefix, "momentum", name(), 0, out);
  }

  std::vector<Tensor> update(std::vector<Tensor> u, State& state, const Step& step) const override {
    const Tensor neg_lr = -detail::rate_f64(lr_, step);
    // The first step's buffer is the gradient itself (PyTorch); with dampening 0 the
    // recurrence from a zero buffer gives exactly that.
    const Tensor first = o_.dampening != 0 ? equal(step.count, scalar(0, i32)) : Tensor();
    for (size_t i = 0; i < u.size(); ++i) {
      Tensor g = u[i];
      if (o_.weight_decay != 0) g = g + o_.weight_decay * step.params[i];
      if (o_.momentum > 0) {
        const std::string key = step.key("momentum", i);
        Tensor buf = o_.momentum * state.at(key) + (1.0 - o_.dampening) * g;
        if (first.defined()) buf = select(first, g, buf);
        state[key] = buf;
        g = o_.nesterov ? g + o_.momentum * buf : buf;
      }
      u[i] = detail::in(neg_lr, g.dtype()) * g;
    }
    return u;
  }

 private:
  Rate lr_;
  SgdOpts o_;
};
}  // namespace

Optimizer sgd(Rate lr, SgdOpts opts, Where where) {
  detail::check_rate("sgd", lr, "the learning rate", where);
  detail::check_at_least("sgd", "momentum", opts.momentum, 0, where);
  detail::check_finite("sgd", "dampening", opts.dampening, where);
  detail::check_at_least("sgd", "weight_decay", opts.weight_decay, 0, where);
  if (opts.nesterov && (opts.momentum <= 0 || opts.dampening != 0))
    throw ValueError("sgd", "nesterov needs momentum > 0 and dampening 0", where);
  return Optimizer(std::make_shared<Sgd>(std::move(lr), opts));
}

}  // namespace nx::optim
