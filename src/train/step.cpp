// The training step as one traced function: nn::apply in training mode, the loss, its
// gradient with respect to the parameters, the optimizer update scaled by lr_scale (frozen
// parameters keep their values), and each metric's batch statistics.
#include "train/step.hpp"

#include "nx/grad.hpp"
#include "nx/ops.hpp"
#include "nx/random.hpp"

namespace nx::train::detail {

namespace {
void check_loss(const Tensor& l) {
  if (l.rank() != 0 || !is_float(l.dtype()))
    throw ValueError("train.loss", "the loss must return a float scalar, it returned " + std::string(name(l.dtype())) +
                                       l.shape().str());
}
}  // namespace

StepOut StepFn::operator()(const TrainState& s, const std::vector<Tensor>& xs, const Tensor& y, const Tensor& base_key,
                           const Tensor& epoch, const Tensor& batch, const Tensor& lr_scale) const {
  const StepSpec& sp = *spec;
  Tensor key = random::fold_in(random::fold_in(base_key, epoch), batch);
  nn::ParamTree new_state;
  Tensor prediction;
  // The forward's other results leave the differentiated function through these captures:
  // inside a trace the gradient is inlined, so they are values of this same graph.
  auto loss_of = [&](const nn::ParamTree& params) {
    nn::Forward f = nn::apply(sp.model, nn::Variables{params, s.vars.state, s.vars.frozen}, xs,
                              {.training = true, .key = key});
    new_state = f.state;
    prediction = f.outputs.at(0);
    Tensor l = sp.loss(y, prediction);
    check_loss(l);
    return l;
  };
  auto [loss, grads] = nx::value_and_grad(loss_of)(s.vars.params);
  auto [updates, opt] = sp.optimizer.update(grads, s.opt, s.vars.params);
  nn::ParamTree params = s.vars.params;
  for (auto& [layer, ps] : params)
    for (auto& [name, p] : ps)
      if (!nn::is_frozen(s.vars, layer, name)) p = p + as_type(updates.at(layer).at(name) * lr_scale, p.dtype());
  StepOut out{TrainState{nn::Variables{std::move(params), std::move(new_state), s.vars.frozen}, std::move(opt)}, loss, {}};
  for (const metrics::Metric& m : sp.metrics) out.stats.push_back(m.statistics(y, prediction));
  return out;
}

EvalOut EvalFn::operator()(const nn::Variables& vars, const std::vector<Tensor>& xs, const Tensor& y) const {
  const StepSpec& sp = *spec;
  Tensor prediction = nn::apply(sp.model, vars, xs).outputs.at(0);
  EvalOut out;
  if (sp.loss) {
    out.loss = sp.loss(y, prediction);
    check_loss(out.loss);
  } else {
    out.loss = scalar(0.0);
  }
  for (const metrics::Metric& m : sp.metrics) out.stats.push_back(m.statistics(y, prediction));
  return out;
}

}  // namespace nx::train::detail
