// Batches from tensors (a permutation per epoch), from functions, and prefetching.
#include "nx/train/data.hpp"

#include <future>

#include "nx/ops.hpp"
#include "nx/random.hpp"

namespace nx::train {

DataSource DataSource::from_tensors(std::vector<Tensor> inputs, Tensor targets, DataOpts opts, Where where) {
  if (opts.batch_size < 1) throw ValueError("train.data", "batch_size must be positive, given " + std::to_string(opts.batch_size), where);
  if (!targets.defined() || targets.rank() < 1)
    throw ShapeError("train.data", "targets need a leading example axis", where);
  const int64_t n = targets.shape()[0];
  if (inputs.empty()) throw ValueError("train.data", "needs at least one input tensor", where);
  for (const Tensor& x : inputs)
    if (!x.defined() || x.rank() < 1 || x.shape()[0] != n)
      throw ShapeError("train.data", "every input needs " + std::to_string(n) + " rows like the targets " +
                                         targets.shape().str() + ", given " + (x.defined() ? x.shape().str() : "undefined"),
                       where);
  DataSource d;
  d.examples_ = opts.drop_last ? n / opts.batch_size * opts.batch_size : n;
  d.batches_ = opts.drop_last ? n / opts.batch_size : (n + opts.batch_size - 1) / opts.batch_size;
  const int64_t batches = d.batches_;
  // The permutation of an epoch is made once, by the thread that asks for its first batch.
  struct Order {
    std::mutex mutex;
    int64_t epoch = -1;
    Tensor perm;
  };
  auto order = std::make_shared<Order>();
  d.next_ = [inputs = std::move(inputs), targets = std::move(targets), opts, n, batches, order](
                int64_t epoch, int64_t index) -> std::optional<Batch> {
    if (index >= batches) return std::nullopt;
    const int64_t start = index * opts.batch_size, len = std::min(opts.batch_size, n - start);
    Batch b;
    if (!opts.shuffle) {
      for (const Tensor& x : inputs) b.inputs.push_back(slice_along_axis(x, 0, start, len));
      b.targets = slice_along_axis(targets, 0, start, len);
      return b;
    }
    Tensor perm;
    {
      std::lock_guard lock(order->mutex);
      if (order->epoch != epoch) {
        Tensor key = random::fold_in(random::key(static_cast<int64_t>(opts.seed & 0x7fffffff)), epoch);
        order->perm = random::shuffle(key, iota({n}, i64));
        order->epoch = epoch;
      }
      perm = order->perm;
    }
    Tensor rows = slice_along_axis(perm, 0, start, len);
    for (const Tensor& x : inputs) b.inputs.push_back(take(x, rows, 0));
    b.targets = take(targets, rows, 0);
    return b;
  };
  return d;
}

DataSource DataSource::from_function(std::function<std::optional<Batch>(int64_t, int64_t)> next, int64_t batches) {
  DataSource d;
  d.next_ = std::move(next);
  d.batches_ = batches;
  return d;
}

std::optional<Batch> DataSource::batch(int64_t epoch, int64_t index) const { return next_(epoch, index); }

struct Prefetcher::Impl {
  const DataSource* source;
  int64_t epoch, index = 0;
  std::future<std::optional<Batch>> pending;
  void ask() { pending = std::async(std::launch::async, [s = source, e = epoch, i = index] { return s->batch(e, i); }); }
};

Prefetcher::Prefetcher(const DataSource& source, int64_t epoch) : impl_(std::make_unique<Impl>()) {
  impl_->source = &source;
  impl_->epoch = epoch;
  impl_->ask();
}
Prefetcher::~Prefetcher() {
  if (impl_->pending.valid()) impl_->pending.wait();
}

std::optional<Batch> Prefetcher::next() {
  std::optional<Batch> b = impl_->pending.get();  // rethrows
  if (b) {
    ++impl_->index;
    impl_->ask();
  }
  return b;
}

}  // namespace nx::train
