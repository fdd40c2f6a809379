// Where a training loop's batches come from: tensors cut into (shuffled) batches, or a
// function that makes each batch. The loop prefetches the next batch on a second thread
// while the current step runs.
//
//   auto data = nx::train::DataSource::from_tensors({images}, labels, {.batch_size = 128});
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include "nx/axes.hpp"
#include "nx/error.hpp"
#include "nx/tensor.hpp"

namespace nx::train {

// One batch: the model's inputs (in the order of its inputs) and the targets.
struct Batch {
  std::vector<Tensor> inputs;
  Tensor targets;
  int64_t size() const { return targets.defined() && targets.rank() ? targets.shape()[0] : 0; }
};

struct DataOpts {
  ::nx::detail::NamedFieldsOnly named_fields_only;
  int64_t batch_size = 32;
  bool shuffle = true;     // a new order each epoch, from the seed and the epoch number
  bool drop_last = false;  // drop a last batch smaller than batch_size
  uint64_t seed = 0;
};

class DataSource {
 public:
  // Rows of `inputs` (each (N, ...)) and `targets` ((N, ...)) in batches.
  static DataSource from_tensors(std::vector<Tensor> inputs, Tensor targets, DataOpts opts = {},
                                 Where where = Where::current());
  // Batch `index` of epoch `epoch` from a function; std::nullopt ends the epoch.
  // `batches_per_epoch` (-1: unknown) is for the progress bar only.
  static DataSource from_function(std::function<std::optional<Batch>(int64_t epoch, int64_t index)> next,
                                  int64_t batches_per_epoch = -1);

  std::optional<Batch> batch(int64_t epoch, int64_t index) const;
  int64_t batches_per_epoch() const { return batches_; }
  int64_t examples_per_epoch() const { return examples_; }  // -1: unknown

 private:
  std::function<std::optional<Batch>(int64_t, int64_t)> next_;
  int64_t batches_ = -1, examples_ = -1;
};

// Batches of one epoch, each made on a second thread while the caller works on the last.
class Prefetcher {
 public:
  Prefetcher(const DataSource& source, int64_t epoch);
  ~Prefetcher();
  std::optional<Batch> next();  // rethrows what making the batch threw

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace nx::train
