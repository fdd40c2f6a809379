// nx::train's loop: it learns, resumes bit for bit, stops early, lowers the LR on a
// plateau, refuses a NaN loss, keeps frozen parameters, logs CSV/SVG and prints progress.
#include <gtest/gtest.h>

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <nx/nn.hpp>
#include <nx/nx.hpp>
#include <nx/optim.hpp>
#include <nx/train.hpp>

#include "test_support.hpp"

namespace nn = nx::nn;
namespace train = nx::train;
using nx_test::expect_error;

namespace {

// Two Gaussian blobs per class in 8 dims, 4 classes: separable, learned in a few epochs.
struct Blobs {
  nx::Tensor x, y;
};
Blobs blobs(int64_t n, int seed) {
  nx::Tensor y = nx::random::randint(nx::random::key(seed), {n}, 0, 4);
  nx::Tensor centers = nx::random::normal(nx::random::key(100), {4, 8}) * 3.0;
  nx::Tensor x = nx::take(centers, y, 0) + nx::random::normal(nx::random::key(seed + 1), {n, 8});
  return {x, y};
}

nn::Model classifier(bool dropout = false) {
  nn::Node h = nn::input("x", {-1, 8}) | nn::dense(16, {.activation = "relu"});
  if (dropout) h = h | nn::dropout(0.2);
  return nn::Model(h | nn::dense(4));
}

nx::Tensor ce(const nx::Tensor& y, const nx::Tensor& logits) {
  return nx::losses::categorical_cross_entropy(y, logits, {.from_logits = true, .sparse = true});
}

train::ProgressOpts quiet() { return {.enabled = false}; }

std::string temp_path(const std::string& name) {
  return (std::filesystem::temp_directory_path() / ("nx_train_test_" + std::to_string(::getpid()) + "_" + name)).string();
}

bool same_bits(const nn::Variables& a, const nn::Variables& b) {
  for (const auto& [layer, ps] : a.params)
    for (const auto& [name, t] : ps) {
      auto u = t.to_vector<float>(), v = b.params.at(layer).at(name).to_vector<float>();
      if (std::memcmp(u.data(), v.data(), u.size() * sizeof(float)) != 0) return false;
    }
  return true;
}

}  // namespace

TEST(TrainLoop, LearnsAndReportsMetricsAndValidation) {
  Blobs tr = blobs(512, 1), te = blobs(256, 7);
  nn::Model m = classifier();
  nn::Variables v = nn::init(m, nx::random::key(0), tr.x);
  auto loop = train::trainer(m, ce, nx::optim::adam(1e-2))
                  .metric("accuracy")
                  .validate(train::DataSource::from_tensors({te.x}, te.y, {.batch_size = 100, .shuffle = false}))
                  .progress(quiet());
  train::TrainResult r = loop.run(train::DataSource::from_tensors({tr.x}, tr.y, {.batch_size = 64}), v, {.epochs = 5});
  ASSERT_EQ(r.history.values.at("loss").size(), 5u);
  EXPECT_LT(r.history.values.at("loss").back(), r.history.values.at("loss").front());
  EXPECT_GT(r.history.values.at("val_accuracy").back(), 0.95);
  EXPECT_EQ(r.compiles, 1);  // 512 / 64: every batch has one signature
  EXPECT_GT(r.examples_per_second, 0);
  auto eval = train::evaluate(m, r.variables, train::DataSource::from_tensors({te.x}, te.y, {.batch_size = 256}),
                              {nx::metrics::Metric::accuracy()}, ce);
  EXPECT_NEAR(eval.at("accuracy"), r.history.values.at("val_accuracy").back(), 1e-9);
  EXPECT_NEAR(eval.at("loss"), r.history.values.at("val_loss").back(), 1e-5);
  // The caller's variables are untouched (the loop trains a copy it donates).
  EXPECT_TRUE(nx::all(v.params.at("dense_0").at("weight") == nn::init(m, nx::random::key(0), tr.x).params.at("dense_0").at("weight")).item<bool>());
}

TEST(TrainLoop, ResumedRunEqualsUninterruptedBitForBit) {
  Blobs tr = blobs(300, 2);  // 300 / 64: a smaller last batch too
  nn::Model m = classifier(/*dropout=*/true);
  nn::Variables v = nn::init(m, nx::random::key(0), tr.x);
  auto data = train::DataSource::from_tensors({tr.x}, tr.y, {.batch_size = 64, .seed = 5});
  auto opt = nx::optim::adam(nx::optim::cosine_decay(1e-2, 20));
  train::TrainResult full = train::trainer(m, ce, opt).progress(quiet()).run(data, v, {.epochs = 4, .seed = 9});

  const std::string ckpt = temp_path("resume.ckpt");
  auto first = train::trainer(m, ce, opt).progress(quiet()).checkpoint({.path = ckpt});
  first.run(data, v, {.epochs = 2, .seed = 9});
  train::TrainResult resumed =
      train::trainer(m, ce, opt).progress(quiet()).run(data, v, {.epochs = 4, .seed = 9, .resume = ckpt});
  std::filesystem::remove(ckpt);
  EXPECT_EQ(resumed.epochs_run, 2);
  EXPECT_TRUE(same_bits(full.variables, resumed.variables));
  EXPECT_EQ(resumed.history.values.at("loss"), full.history.values.at("loss"));
  nn::Variables other = train::trainer(m, ce, opt).progress(quiet()).run(data, v, {.epochs = 4, .seed = 10}).variables;
  EXPECT_FALSE(same_bits(full.variables, other));  // the seed matters (dropout)
}

TEST(TrainLoop, EarlyStoppingStopsWhenTheMonitorStalls) {
  Blobs tr = blobs(128, 3);
  nn::Model m = classifier();
  nn::Variables v = nn::init(m, nx::random::key(0), tr.x);
  // A learning rate of zero: the loss never improves after the first epoch.
  train::TrainResult r = train::trainer(m, ce, nx::optim::sgd(0.0))
                             .early_stopping({.monitor = "loss", .patience = 2})
                             .progress(quiet())
                             .run(train::DataSource::from_tensors({tr.x}, tr.y, {.batch_size = 128, .shuffle = false}), v,
                                  {.epochs = 10});
  EXPECT_EQ(r.epochs_run, 3);
  expect_error<nx::ValueError>(
      [&] {
        train::trainer(m, ce, nx::optim::sgd(0.1))
            .early_stopping({.monitor = "val_accuracy"})
            .progress(quiet())
            .run(train::DataSource::from_tensors({tr.x}, tr.y, {.batch_size = 128}), v, {.epochs = 1});
      },
      "monitors 'val_accuracy', which this loop does not compute");
}

TEST(TrainLoop, ReduceLrOnPlateauScalesTheUpdates) {
  Blobs tr = blobs(128, 3);
  nn::Model m = classifier();
  nn::Variables v = nn::init(m, nx::random::key(0), tr.x);
  train::TrainResult r = train::trainer(m, ce, nx::optim::sgd(0.0))
                             .reduce_lr_on_plateau({.monitor = "loss", .factor = 0.5, .patience = 1})
                             .progress(quiet())
                             .run(train::DataSource::from_tensors({tr.x}, tr.y, {.batch_size = 64, .shuffle = false}), v,
                                  {.epochs = 4});
  EXPECT_EQ(r.history.values.at("lr_scale"), (std::vector<double>{1.0, 1.0, 0.5, 0.25}));
}

TEST(TrainLoop, NanLossRaisesNamingEpochAndBatchOrCallsTheHandler) {
  Blobs tr = blobs(256, 4);
  nx::Tensor x = tr.x.at({130, 3}).set(nx::Tensor(std::nan("")));  // in batch 3 of 64 (no shuffle)
  nn::Model m = classifier();
  nn::Variables v = nn::init(m, nx::random::key(0), x);
  auto data = train::DataSource::from_tensors({x}, tr.y, {.batch_size = 64, .shuffle = false});
  expect_error<nx::ValueError>(
      [&] { train::trainer(m, ce, nx::optim::sgd(0.1)).progress(quiet()).run(data, v, {.epochs = 2}); },
      "the loss is NaN at epoch 1, batch 3");
  int calls = 0;
  train::TrainResult r = train::trainer(m, ce, nx::optim::sgd(0.1))
                             .progress(quiet())
                             .on_nan({.handler = [&](train::LoopState& s) {
                               ++calls;
                               s.stop = true;
                             }})
                             .run(data, v, {.epochs = 2});
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(r.epochs_run, 1);
}

TEST(TrainLoop, FrozenParametersKeepTheirValues) {
  Blobs tr = blobs(128, 5);
  nn::Model m = classifier();
  nn::Variables v = nn::freeze(nn::init(m, nx::random::key(0), tr.x), {"dense_0"});
  nx::Tensor before = v.params.at("dense_0").at("weight") * 1;
  train::TrainResult r = train::trainer(m, ce, nx::optim::adamw(1e-2))
                             .progress(quiet())
                             .run(train::DataSource::from_tensors({tr.x}, tr.y, {.batch_size = 32}), v, {.epochs = 2});
  EXPECT_TRUE(nx::all(r.variables.params.at("dense_0").at("weight") == before).item<bool>());
  EXPECT_FALSE(nx::all(r.variables.params.at("dense_1").at("weight") == v.params.at("dense_1").at("weight")).item<bool>());
}

TEST(TrainLoop, WritesCsvSvgAndOneProgressLinePerEpoch) {
  Blobs tr = blobs(128, 6);
  nn::Model m = classifier();
  nn::Variables v = nn::init(m, nx::random::key(0), tr.x);
  const std::string csv = temp_path("log.csv"), svg = temp_path("curves.svg");
  std::ostringstream out;
  int epochs_seen = 0;
  train::trainer(m, ce, nx::optim::adam(1e-2))
      .metric("accuracy")
      .csv_log(csv)
      .plot(svg)
      .progress({.style = train::ProgressOpts::Style::lines, .out = &out})
      .on(train::Event::epoch_completed, [&](train::LoopState& s) { epochs_seen = int(s.epoch) + 1; })
      .run(train::DataSource::from_tensors({tr.x}, tr.y, {.batch_size = 32}), v, {.epochs = 3});
  EXPECT_EQ(epochs_seen, 3);
  std::ifstream c(csv);
  std::string header;
  std::getline(c, header);
  EXPECT_EQ(header, "epoch,accuracy,loss,lr_scale,seconds");
  int rows = 0;
  for (std::string line; std::getline(c, line);) ++rows;
  EXPECT_EQ(rows, 3);
  std::ifstream s(svg);
  std::string text((std::istreambuf_iterator<char>(s)), std::istreambuf_iterator<char>());
  EXPECT_NE(text.find("<svg"), std::string::npos);
  EXPECT_NE(text.find("<polyline"), std::string::npos);
  const std::string lines = out.str();
  EXPECT_NE(lines.find("Epoch 1/3"), std::string::npos) << lines;
  EXPECT_NE(lines.find("Epoch 3/3"), std::string::npos) << lines;
  EXPECT_EQ(std::count(lines.begin(), lines.end(), '\n'), 3) << lines;
  EXPECT_EQ(lines.find('\r'), std::string::npos);
  std::filesystem::remove(csv);
  std::filesystem::remove(svg);
}

TEST(TrainLoop, DataSourcesCoverEveryRowOncePerEpoch) {
  nx::Tensor x = nx::reshape(nx::arange(10, nx::f32), {10, 1});
  nx::Tensor y = nx::arange(10, nx::i64);
  auto d = train::DataSource::from_tensors({x}, y, {.batch_size = 4, .seed = 1});
  EXPECT_EQ(d.batches_per_epoch(), 3);
  std::vector<int64_t> seen[2];
  for (int epoch = 0; epoch < 2; ++epoch) {
    train::Prefetcher p(d, epoch);
    while (auto b = p.next()) {
      auto ids = b->targets.to_vector<int64_t>();
      auto xs = b->inputs[0].to_vector<float>();
      for (size_t i = 0; i < ids.size(); ++i) EXPECT_EQ(double(ids[i]), xs[i]);
      seen[epoch].insert(seen[epoch].end(), ids.begin(), ids.end());
    }
    std::vector<int64_t> sorted = seen[epoch];
    std::sort(sorted.begin(), sorted.end());
    EXPECT_EQ(sorted, (std::vector<int64_t>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}));
  }
  EXPECT_NE(seen[0], seen[1]);  // a new order each epoch
  {
    train::Prefetcher p(d, 0);
    while (p.next()) {
    }
    EXPECT_FALSE(p.next());  // the end stays
    train::Prefetcher early(d, 1);
    EXPECT_TRUE(early.next());  // left with batches to make: its thread ends with it
  }
  auto dropped = train::DataSource::from_tensors({x}, y, {.batch_size = 4, .drop_last = true});
  EXPECT_EQ(dropped.batches_per_epoch(), 2);
  expect_error<nx::ShapeError>([&] { train::DataSource::from_tensors({x}, nx::arange(9, nx::i64)); }, "every input needs 9 rows");
  // A generator's errors reach the loop's caller.
  auto failing = train::DataSource::from_function([](int64_t, int64_t i) -> std::optional<train::Batch> {
    if (i == 1) throw nx::ValueError("my.data", "bad file");
    return train::Batch{{nx::zeros({2, 8})}, nx::zeros({2}, nx::i64)};
  });
  nn::Model m = classifier();
  nn::Variables v = nn::init(m, nx::random::key(0), nx::zeros({2, 8}));
  EXPECT_THROW(train::trainer(m, ce, nx::optim::sgd(0.1)).progress(quiet()).run(failing, v, {.epochs = 1}), nx::ValueError);
  train::Prefetcher p(failing, 0);
  EXPECT_TRUE(p.next());
  EXPECT_THROW(p.next(), nx::ValueError);
  EXPECT_THROW(p.next(), nx::ValueError);  // again, not a hang
}

TEST(TrainLoop, BatchNormStateIsTrainedAndSaved) {
  Blobs tr = blobs(128, 8);
  nn::Model m(nn::input("x", {-1, 8}) | nn::dense(16) | nn::batch_norm() | nn::relu() | nn::dense(4));
  nn::Variables v = nn::init(m, nx::random::key(0), tr.x);
  train::TrainResult r = train::trainer(m, ce, nx::optim::adam(1e-2))
                             .progress(quiet())
                             .run(train::DataSource::from_tensors({tr.x}, tr.y, {.batch_size = 32}), v, {.epochs = 2});
  nx::Tensor rm = r.variables.state.at("batch_norm_0").at("running_mean");
  EXPECT_GT(nx::sum(nx::abs(rm)).item<double>(), 0.0);
  const std::string path = temp_path("vars.safetensors");
  nn::save_variables(path, nn::freeze(r.variables, {"dense_1"}));
  nn::Variables back = nn::load_variables(path);
  std::filesystem::remove(path);
  EXPECT_EQ(back.frozen, (std::vector<std::string>{"dense_1"}));
  EXPECT_TRUE(nx::all(nn::predict(m, back, tr.x) == nn::predict(m, r.variables, tr.x)).item<bool>());
}

TEST(TrainLoop, ACorruptCheckpointOrAMultiOutputModelRaisesNotCrashes) {
  Blobs tr = blobs(64, 9);
  nn::Model m = classifier();
  nn::Variables v = nn::init(m, nx::random::key(0), tr.x);
  auto data = train::DataSource::from_tensors({tr.x}, tr.y, {.batch_size = 32});
  const std::string ckpt = temp_path("corrupt.ckpt");
  train::trainer(m, ce, nx::optim::sgd(0.1)).progress(quiet()).checkpoint({.path = ckpt}).run(data, v, {.epochs = 1});
  nx::io::Checkpoint c = nx::io::load_checkpoint(ckpt);
  c.metadata["nx.train.epoch"] = "1x";
  nx::io::save_checkpoint(ckpt, c);
  expect_error<nx::ValueError>(
      [&] { train::trainer(m, ce, nx::optim::sgd(0.1)).progress(quiet()).run(data, v, {.epochs = 2, .resume = ckpt}); },
      "the epoch '1x' is not a count");
  std::filesystem::remove(ckpt);
  nn::Node h = nn::input("x", {-1, 8}) | nn::dense(4);
  nn::Model two({h, h | nn::dense(2)});
  expect_error<nx::ValueError>(
      [&] { train::evaluate(two, nn::init(two, nx::random::key(0), tr.x), data, {nx::metrics::Metric::accuracy()}); },
      "evaluates single-output models");
}

TEST(TrainLoop, TheLiveBarShowsRunningMetrics) {
  Blobs tr = blobs(64, 10);
  nn::Model m = classifier();
  nn::Variables v = nn::init(m, nx::random::key(0), tr.x);
  std::ostringstream out;
  train::trainer(m, ce, nx::optim::adam(1e-2))
      .metric("accuracy")
      .progress({.style = train::ProgressOpts::Style::live, .out = &out})
      .run(train::DataSource::from_tensors({tr.x}, tr.y, {.batch_size = 16}), v, {.epochs = 1});
  const std::string text = out.str();
  EXPECT_NE(text.find("\r\033[2KEpoch 1/1 [========================] 4/4"), std::string::npos) << text;
  EXPECT_NE(text.find("accuracy"), std::string::npos) << text;
}

TEST(TrainLoop, ABatchWithoutTargetsRaises) {
  nn::Model m = classifier();
  nn::Variables v = nn::init(m, nx::random::key(0), nx::zeros({2, 8}));
  auto no_targets = train::DataSource::from_function([](int64_t, int64_t i) -> std::optional<train::Batch> {
    if (i > 0) return std::nullopt;
    return train::Batch{{nx::zeros({2, 8})}, nx::Tensor()};
  });
  expect_error<nx::ValueError>([&] { train::trainer(m, ce, nx::optim::sgd(0.1)).progress(quiet()).run(no_targets, v, {.epochs = 1}); },
                               "batch 1 of epoch 1 has no targets with a leading example axis");
}
