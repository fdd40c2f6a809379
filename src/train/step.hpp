// The compiled training and evaluation steps.
#pragma once
#include <memory>
#include <vector>

#include "nx/jit.hpp"
#include "nx/train/loop.hpp"

namespace nx::train::detail {

// What a step needs and never changes during a run.
struct StepSpec {
  nn::Model model;
  Loss loss;
  optim::Optimizer optimizer;
  std::vector<metrics::Metric> metrics;
};

struct TrainState {
  nn::Variables vars;
  optim::State opt;
};
NX_TREE(TrainState, vars, opt)

struct StepOut {
  TrainState state;
  Tensor loss;
  std::vector<Tensor> stats;  // one per metric: this batch's statistics
};
NX_TREE(StepOut, state, loss, stats)

struct EvalOut {
  Tensor loss;  // 0 without a loss
  std::vector<Tensor> stats;
};
NX_TREE(EvalOut, loss, stats)

// forward + loss + backward + update + metric statistics; key = fold_in(fold_in(base, epoch), batch).
struct StepFn {
  std::shared_ptr<const StepSpec> spec;
  StepOut operator()(const TrainState& s, const std::vector<Tensor>& xs, const Tensor& y, const Tensor& base_key,
                     const Tensor& epoch, const Tensor& batch, const Tensor& lr_scale) const;
};
struct EvalFn {
  std::shared_ptr<const StepSpec> spec;
  EvalOut operator()(const nn::Variables& vars, const std::vector<Tensor>& xs, const Tensor& y) const;
};

}  // namespace nx::train::detail
