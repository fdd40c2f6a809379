// The training loop: epochs of prefetched batches through the compiled step, metrics,
// validation, callbacks (early stopping, LR on plateau, checkpoints, CSV, SVG, progress)
// and resuming from a checkpoint.
#include "nx/train/loop.hpp"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <sstream>

#include "nx/io/checkpoint.hpp"
#include "nx/io/state_dict.hpp"
#include "nx/ops.hpp"
#include "nx/random.hpp"
#include "train/plot.hpp"
#include "train/progress.hpp"
#include "train/step.hpp"

namespace nx::train {

int64_t History::epochs() const {
  size_t n = 0;
  for (const auto& [name, v] : values) n = std::max(n, v.size());
  return static_cast<int64_t>(n);
}

struct Loop::Impl {
  std::shared_ptr<detail::StepSpec> spec;
  std::optional<DataSource> validation;
  std::optional<CheckpointOpts> checkpoint;
  std::optional<EarlyStoppingOpts> early;
  std::optional<PlateauOpts> plateau;
  std::string csv_path, svg_path;
  ProgressOpts progress;
  NanPolicy nan;
  std::map<Event, std::vector<Handler>> handlers;
  // Compiled on first use and kept across runs; a change of what the step computes
  // (a metric added) drops them.
  std::optional<Jitted<detail::StepFn>> step;
  std::optional<Jitted<detail::EvalFn>> eval;
};

Loop::Loop(nn::Model model, Loss loss, optim::Optimizer optimizer) : impl_(std::make_shared<Impl>()) {
  impl_->spec = std::make_shared<detail::StepSpec>(detail::StepSpec{std::move(model), std::move(loss), std::move(optimizer), {}});
}
Loop trainer(nn::Model model, Loss loss, optim::Optimizer optimizer) {
  return Loop(std::move(model), std::move(loss), std::move(optimizer));
}

Loop& Loop::metric(metrics::Metric m) {
  impl_->spec->metrics.push_back(std::move(m));
  impl_->step.reset();
  impl_->eval.reset();
  return *this;
}
Loop& Loop::metric(const std::string& name, Where where) {
  return metric(metrics::Metric::named(name, where));
}
Loop& Loop::validate(DataSource data) {
  impl_->validation = std::move(data);
  return *this;
}
Loop& Loop::checkpoint(CheckpointOpts opts) {
  impl_->checkpoint = std::move(opts);
  return *this;
}
Loop& Loop::early_stopping(EarlyStoppingOpts opts) {
  impl_->early = std::move(opts);
  return *this;
}
Loop& Loop::reduce_lr_on_plateau(PlateauOpts opts) {
  impl_->plateau = std::move(opts);
  return *this;
}
Loop& Loop::csv_log(std::string path) {
  impl_->csv_path = std::move(path);
  return *this;
}
Loop& Loop::plot(std::string svg_path) {
  impl_->svg_path = std::move(svg_path);
  return *this;
}
Loop& Loop::progress(ProgressOpts opts) {
  impl_->progress = opts;
  return *this;
}
Loop& Loop::on_nan(NanPolicy policy) {
  impl_->nan = std::move(policy);
  return *this;
}
Loop& Loop::on(Event event, Handler handler) {
  impl_->handlers[event].push_back(std::move(handler));
  return *this;
}

namespace {

using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

// Running sums of one epoch's loss and metric statistics.
struct Totals {
  double loss = 0;
  int64_t examples = 0;
  std::vector<Tensor> stats;
  void add(double batch_loss, int64_t n, const std::vector<Tensor>& batch_stats) {
    loss += batch_loss * double(n);
    examples += n;
    if (stats.empty()) stats = batch_stats;
    else
      for (size_t i = 0; i < stats.size(); ++i) stats[i] = stats[i] + batch_stats[i];
  }
  // "loss" and each metric's value (a metric with several values, like a confusion
  // matrix, is left out of the scalar table).
  void values(const std::vector<metrics::Metric>& ms, const std::string& prefix, bool with_loss,
              std::map<std::string, double>& out) const {
    if (with_loss && examples) out[prefix + "loss"] = loss / double(examples);
    for (size_t i = 0; i < ms.size() && i < stats.size(); ++i) {
      Tensor r = ms[i].result(stats[i]);
      if (r.size() == 1) out[prefix + ms[i].name] = r.item<double>();
    }
  }
};

// A data source's batch must have targets (the inputs are checked by the model).
void check_batch(const Batch& b, int64_t epoch, int64_t index, const char* op, Where where) {
  if (!b.targets.defined() || b.targets.rank() < 1)
    throw ValueError(op, "batch " + std::to_string(index + 1) + " of epoch " + std::to_string(epoch + 1) +
                             " has no targets with a leading example axis",
                     where);
}

// The loss and metric statistics of `vars` over every batch of `data`, in inference mode.
Totals evaluate_totals(const Jitted<detail::EvalFn>& eval, const nn::Variables& vars, const DataSource& data,
                       const char* op, Where where) {
  Totals t;
  for (int64_t i = 0;; ++i) {
    std::optional<Batch> b = data.batch(0, i);
    if (!b) break;
    check_batch(*b, 0, i, op, where);
    detail::EvalOut out = eval(vars, b->inputs, b->targets);
    t.add(out.loss.item<double>(), b->size(), out.stats);
  }
  return t;
}

// Whether `name` improves with larger values.
bool maximize(const std::string& name, const std::string& mode) {
  if (mode == "max") return true;
  if (mode == "min") return false;
  for (const char* up : {"accuracy", "precision", "recall", "f1", "auc"})
    if (name.find(up) != std::string::npos) return true;
  return false;
}

// A copy in fresh buffers: the next step is given (donates) the variables it gets.
nn::Variables owned(const nn::Variables& v) {
  nn::Variables c = v;
  for (auto* tree : {&c.params, &c.state})
    for (auto& [layer, ps] : *tree)
      for (auto& [name, t] : ps) t = is_float(t.dtype()) ? t * 1 : t + 0;
  return c;
}

std::string encode_doubles(const std::map<std::string, std::vector<double>>& m) {
  std::ostringstream os;
  for (const auto& [name, v] : m) {
    os << name << '=';
    for (size_t i = 0; i < v.size(); ++i) {
      char buf[40];
      std::snprintf(buf, sizeof buf, "%.17g", v[i]);
      os << (i ? "," : "") << buf;
    }
    os << '\n';
  }
  return os.str();
}
std::map<std::string, std::vector<double>> decode_doubles(const std::string& s) {
  std::map<std::string, std::vector<double>> m;
  std::istringstream is(s);
  std::string line;
  while (std::getline(is, line)) {
    const size_t eq = line.find('=');
    if (eq == std::string::npos) continue;
    std::vector<double>& v = m[line.substr(0, eq)];
    std::istringstream vs(line.substr(eq + 1));
    std::string item;
    while (std::getline(vs, item, ','))
      if (!item.empty()) v.push_back(std::strtod(item.c_str(), nullptr));
  }
  return m;
}

using Trees = std::map<std::string, nn::ParamTree>;

void save(const std::string& path, const LoopState& s, int64_t next_epoch, Where where) {
  io::Checkpoint c;
  c.params = io::to_state_dict(Trees{{"params", s.variables.params}, {"state", s.variables.state}}, where);
  c.optimizer_state = io::to_state_dict(s.optimizer_state, where);
  c.step = s.step;
  c.metadata["nx.train.epoch"] = std::to_string(next_epoch);
  std::map<std::string, std::vector<double>> scalars = s.history.values;
  c.metadata["nx.train.history"] = encode_doubles(scalars);
  std::map<std::string, std::vector<double>> counters;
  for (const auto& [k, v] : s.counters) counters[k] = {v};
  counters["lr_scale"] = {s.lr_scale};
  c.metadata["nx.train.counters"] = encode_doubles(counters);
  io::save_checkpoint(path, c, where);
}

// Restores a LoopState saved by save(); returns the epoch to continue from.
int64_t restore(const std::string& path, LoopState& s, Where where) {
  io::Checkpoint c = io::load_checkpoint(path, where);
  auto get = [&](const std::string& key) -> const std::string& {
    auto it = c.metadata.find(key);
    if (it == c.metadata.end())
      throw ValueError("train.resume", path + " is not a checkpoint of nx::train (no '" + key + "')", where);
    return it->second;
  };
  Trees like{{"params", s.variables.params}, {"state", s.variables.state}};
  Trees trees = io::from_state_dict(like, c.params, where);
  // Fresh buffers: the mapped file is read-only and the step writes its inputs in place.
  s.variables.params = trees.at("params");
  s.variables.state = trees.at("state");
  s.variables = owned(s.variables);
  s.optimizer_state = io::from_state_dict(s.optimizer_state, c.optimizer_state, where);
  for (auto& [k, t] : s.optimizer_state) t = is_float(t.dtype()) ? t * 1 : t + 0;
  s.step = c.step;
  s.history.values = decode_doubles(get("nx.train.history"));
  for (const auto& [k, v] : decode_doubles(get("nx.train.counters"))) {
    if (v.empty()) continue;
    if (k == "lr_scale") s.lr_scale = v[0];
    else s.counters[k] = v[0];
  }
  const std::string& epoch = get("nx.train.epoch");
  char* end = nullptr;
  const long long next = std::strtoll(epoch.c_str(), &end, 10);
  if (epoch.empty() || *end != '\0' || next < 0)
    throw ValueError("train.resume", path + ": the epoch '" + epoch + "' is not a count", where);
  return next;
}

// Early stopping and LR on plateau share the bookkeeping of "epochs since the best value".
// Returns true when `patience` epochs passed without improvement (and restarts the count).
bool plateaued(LoopState& s, const std::string& prefix, const std::string& monitor, const std::string& mode,
               double min_delta, int64_t patience, bool& improved, Where where) {
  auto it = s.metrics.find(monitor);
  if (it == s.metrics.end()) {
    std::string known;
    for (const auto& [k, v] : s.metrics) known += (known.empty() ? "" : ", ") + k;
    throw ValueError("train." + prefix, "monitors '" + monitor + "', which this loop does not compute (it has: " + known + ")",
                     where);
  }
  const bool up = maximize(monitor, mode);
  const double v = it->second;
  const std::string best_key = prefix + ".best", wait_key = prefix + ".wait";
  auto best = s.counters.find(best_key);
  improved = best == s.counters.end() || (up ? v > best->second + min_delta : v < best->second - min_delta);
  if (improved) {
    s.counters[best_key] = v;
    s.counters[wait_key] = 0;
    return false;
  }
  if (++s.counters[wait_key] >= double(patience)) {
    s.counters[wait_key] = 0;
    return true;
  }
  return false;
}

}  // namespace

TrainResult Loop::run(const DataSource& data, const nn::Variables& init, RunOpts opts, Where where) {
  Impl& im = *impl_;
  const detail::StepSpec& spec = *im.spec;
  if (opts.epochs < 0) throw ValueError("train.run", "epochs must be non-negative", where);
  if (spec.model.num_outputs() != 1)
    throw ValueError("train.run", "the loop trains single-output models; this one has " +
                                      std::to_string(spec.model.num_outputs()) + " outputs",
                     where);
  if (!im.step) im.step.emplace(nx::jit(detail::StepFn{im.spec}, {.donate = {0}}));
  if (!im.eval) im.eval.emplace(nx::jit(detail::EvalFn{im.spec}));
  const Jitted<detail::StepFn>& step = *im.step;
  const Jitted<detail::EvalFn>& eval = *im.eval;
  const int64_t compiles_at_start = step.compiles();
  detail::Progress progress(im.progress);

  LoopState s;
  s.epochs = opts.epochs;
  s.variables = owned(init);  // the caller's tensors stay theirs
  s.optimizer_state = spec.optimizer.init(s.variables.params);
  int64_t first_epoch = 0;
  if (!opts.resume.empty()) first_epoch = restore(opts.resume, s, where);
  const Tensor base_key = random::key(static_cast<int64_t>(opts.seed));
  const std::string default_monitor = im.validation ? "val_loss" : "loss";
  std::optional<nn::Variables> best;

  auto fire = [&](Event e) {
    auto it = im.handlers.find(e);
    if (it != im.handlers.end())
      for (const Handler& h : it->second) h(s);
  };

  const bool iteration_handlers = im.handlers.count(Event::iteration_completed) > 0;
  TrainResult result;
  double steady_seconds = 0;
  int64_t steady_examples = 0;
  fire(Event::started);
  for (int64_t epoch = first_epoch; epoch < opts.epochs && !s.stop; ++epoch) {
    s.epoch = epoch;
    s.iteration = 0;
    s.iterations = data.batches_per_epoch();
    s.examples = 0;
    s.metrics.clear();
    fire(Event::epoch_started);
    Totals totals;
    const auto epoch_start = Clock::now();
    Prefetcher batches(data, epoch);
    while (std::optional<Batch> b = batches.next()) {
      check_batch(*b, epoch, s.iteration, "train.run", where);
      const auto t0 = Clock::now();
      const int64_t compiles_before = step.compiles();
      detail::StepOut out = step(detail::TrainState{std::move(s.variables), std::move(s.optimizer_state)}, b->inputs,
                                 b->targets, base_key, scalar(double(epoch), u32), scalar(double(s.iteration), u32),
                                 scalar(s.lr_scale, f32));
      s.variables = std::move(out.state.vars);
      s.optimizer_state = std::move(out.state.opt);
      const double loss = out.loss.item<double>();
      const double dt = seconds_since(t0);
      if (step.compiles() > compiles_before) {
        result.compile_seconds += dt;
      } else {
        steady_seconds += dt;
        steady_examples += b->size();
      }
      ++s.iteration;
      ++s.step;
      s.examples += b->size();
      s.epoch_seconds = seconds_since(epoch_start);
      if (!std::isfinite(loss)) {
        if (!im.nan.handler)
          throw ValueError("train.run", std::string("the loss is ") + (std::isnan(loss) ? "NaN" : "infinite") +
                                            " at epoch " + std::to_string(epoch + 1) + ", batch " +
                                            std::to_string(s.iteration) + " (step " + std::to_string(s.step) +
                                            "): training stopped",
                           where);
        im.nan.handler(s);
        if (s.stop) break;
        continue;
      }
      totals.add(loss, b->size(), out.stats);
      // Running values cost eager ops each: made only for a redraw of the bar or for handlers.
      if (iteration_handlers || progress.due(s)) totals.values(spec.metrics, "", true, s.metrics);
      progress.iteration(s);
      fire(Event::iteration_completed);
    }
    s.epoch_seconds = seconds_since(epoch_start);
    totals.values(spec.metrics, "", true, s.metrics);
    if (im.validation) evaluate_totals(eval, s.variables, *im.validation, "train.validate", where).values(spec.metrics, "val_", true, s.metrics);
    for (const auto& [name, value] : s.metrics) s.history.values[name].push_back(value);
    s.history.values["seconds"].push_back(s.epoch_seconds);
    s.history.values["lr_scale"].push_back(s.lr_scale);

    if (im.early) {
      const EarlyStoppingOpts& o = *im.early;
      bool improved = false;
      if (plateaued(s, "early_stopping", o.monitor.empty() ? default_monitor : o.monitor, o.mode, o.min_delta, o.patience,
                    improved, where))
        s.stop = true;
      if (improved && o.restore_best) best = owned(s.variables);
    }
    if (im.plateau) {
      const PlateauOpts& o = *im.plateau;
      bool improved = false;
      if (plateaued(s, "plateau", o.monitor.empty() ? default_monitor : o.monitor, o.mode, o.min_delta, o.patience,
                    improved, where))
        s.lr_scale = std::max(o.min_scale, s.lr_scale * o.factor);
    }
    fire(Event::epoch_completed);
    progress.epoch(s);
    if (!im.csv_path.empty()) detail::write_csv_log(im.csv_path, s.history);
    if (!im.svg_path.empty()) detail::write_svg_plot(im.svg_path, s.history);
    if (im.checkpoint && !im.checkpoint->path.empty() && (epoch + 1) % std::max<int64_t>(1, im.checkpoint->every_epochs) == 0)
      save(im.checkpoint->path, s, epoch + 1, where);
    ++result.epochs_run;
  }
  fire(Event::completed);
  if (best && s.stop) s.variables = *best;
  result.variables = std::move(s.variables);
  result.optimizer_state = std::move(s.optimizer_state);
  result.history = std::move(s.history);
  result.compiles = step.compiles() - compiles_at_start;
  result.train_seconds = steady_seconds;
  result.examples_per_second = steady_seconds > 0 ? double(steady_examples) / steady_seconds : 0;
  return result;
}

std::map<std::string, double> evaluate(const nn::Model& model, const nn::Variables& vars, const DataSource& data,
                                       const std::vector<metrics::Metric>& ms, const Loss& loss, Where where) {
  if (model.num_outputs() != 1)
    throw ValueError("train.evaluate", "evaluates single-output models; this one has " +
                                           std::to_string(model.num_outputs()) + " outputs",
                     where);
  auto spec = std::make_shared<detail::StepSpec>(detail::StepSpec{model, loss, optim::sgd(0.0), ms});
  auto eval = nx::jit(detail::EvalFn{spec});
  Totals t = evaluate_totals(eval, vars, data, "train.evaluate", where);
  std::map<std::string, double> r;
  t.values(ms, "", static_cast<bool>(loss), r);
  return r;
}

}  // namespace nx::train
