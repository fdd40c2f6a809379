// Training and evaluation loops (Axon.Loop, Keras's fit): the whole step -- forward, loss,
// backward, optimizer update, metric statistics -- is ONE compiled graph whose variables
// are donated, so parameters are updated in place.
//
//   auto loop = nx::train::trainer(model, loss, nx::optim::adam(1e-3))
//                   .metric("accuracy")
//                   .validate(test_data)
//                   .checkpoint({.path = "run/ckpt.safetensors"})
//                   .early_stopping({.patience = 3});
//   nx::train::TrainResult r = loop.run(train_data, vars, {.epochs = 5});
//
// Events call handlers with the LoopState (Axon's handle_event); a handler may set
// state.stop = true to end training after the current epoch. Randomness (shuffling, dropout)
// comes from RunOpts::seed, the epoch and the batch, so a run resumed from a checkpoint
// gives the same parameters as one never interrupted, bit for bit, on the same backend.
#pragma once
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "nx/nn/model.hpp"
#include "nx/optim.hpp"
#include "nx/train/data.hpp"
#include "nx/train/metrics.hpp"

namespace nx::train {

// loss(y_true, y_pred) -> a float scalar.
using Loss = std::function<Tensor(const Tensor& y_true, const Tensor& y_pred)>;

// Per-epoch values by name: "loss", "accuracy", "val_loss", "val_accuracy", "lr_scale",
// "seconds", ...
struct History {
  std::map<std::string, std::vector<double>> values;
  int64_t epochs() const;
};

enum class Event { started, epoch_started, iteration_completed, epoch_completed, completed };

struct LoopState {
  int64_t epoch = 0;       // from 0
  int64_t epochs = 0;      // in this run
  int64_t iteration = 0;   // batches done in this epoch
  int64_t iterations = -1; // per epoch (-1: unknown)
  int64_t step = 0;        // batches done in all epochs
  int64_t examples = 0;    // in this epoch so far
  double epoch_seconds = 0;
  // At epoch end: "loss", each metric, and val_* with validation data. During the epoch,
  // the running values, kept current while an iteration_completed handler is registered.
  std::map<std::string, double> metrics;
  History history;
  nn::Variables variables;
  optim::State optimizer_state;
  double lr_scale = 1.0;   // multiplies the optimizer's updates (reduce-LR-on-plateau)
  bool stop = false;       // set by a handler: training ends after this epoch
  // Named counters callbacks keep across epochs (saved in checkpoints, so resuming continues them).
  std::map<std::string, double> counters;
};
using Handler = std::function<void(LoopState&)>;

// What a non-finite loss does: raise an nx::ValueError naming the epoch and batch (the
// default), or call the handler, which may set state.stop, and go on.
struct NanPolicy {
  Handler handler;  // empty: raise
};

struct CheckpointOpts {
  ::nx::detail::NamedFieldsOnly named_fields_only;
  std::string path;       // saved atomically (nx::io::save_checkpoint) after each epoch
  int64_t every_epochs = 1;
};
struct EarlyStoppingOpts {
  ::nx::detail::NamedFieldsOnly named_fields_only;
  std::string monitor;    // default: "val_loss" with validation data, else "loss"
  int64_t patience = 3;   // epochs without improvement before stopping
  double min_delta = 0;
  std::string mode;       // "min" or "max"; default: "max" for accuracy-like names, else "min"
  bool restore_best = true;  // end with the variables of the best epoch
};
struct PlateauOpts {
  ::nx::detail::NamedFieldsOnly named_fields_only;
  std::string monitor;
  double factor = 0.1;    // lr_scale *= factor after `patience` epochs without improvement
  int64_t patience = 2;
  double min_delta = 0;
  std::string mode;
  double min_scale = 0;
};
struct ProgressOpts {
  ::nx::detail::NamedFieldsOnly named_fields_only;
  bool enabled = true;
  // A live bar on a terminal; one plain line per epoch otherwise. Forced either way:
  enum class Style { automatic, live, lines } style = Style::automatic;
  std::ostream* out = nullptr;  // default std::cout
};

struct RunOpts {
  ::nx::detail::NamedFieldsOnly named_fields_only;
  int64_t epochs = 1;
  uint64_t seed = 0;       // dropout keys (shuffling has DataOpts::seed)
  std::string resume;      // a checkpoint of this loop to continue from (its epochs count)
};

struct TrainResult {
  nn::Variables variables;
  optim::State optimizer_state;
  History history;
  int64_t epochs_run = 0;
  int64_t compiles = 0;        // of the training step (a smaller last batch compiles once more)
  double compile_seconds = 0;  // the first step's trace + compile
  double train_seconds = 0;    // the steps after the first, per epoch summed
  double examples_per_second = 0;
};

class Loop {
 public:
  Loop(nn::Model model, Loss loss, optim::Optimizer optimizer);

  Loop& metric(metrics::Metric m);
  Loop& metric(const std::string& name, Where where = Where::current());
  Loop& validate(DataSource data);
  Loop& checkpoint(CheckpointOpts opts);
  Loop& early_stopping(EarlyStoppingOpts opts = {});
  Loop& reduce_lr_on_plateau(PlateauOpts opts = {});
  Loop& csv_log(std::string path);         // one row per epoch
  Loop& plot(std::string svg_path);        // the training curves, rewritten each epoch
  Loop& progress(ProgressOpts opts);
  Loop& on_nan(NanPolicy policy);
  Loop& on(Event event, Handler handler);

  TrainResult run(const DataSource& data, const nn::Variables& init, RunOpts opts = {},
                  Where where = Where::current());

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

Loop trainer(nn::Model model, Loss loss, optim::Optimizer optimizer);

// The loss (when given) and metrics of `model` over `data`, in inference mode.
std::map<std::string, double> evaluate(const nn::Model& model, const nn::Variables& vars, const DataSource& data,
                                       const std::vector<metrics::Metric>& metrics, const Loss& loss = {},
                                       Where where = Where::current());

}  // namespace nx::train
