// Batches from tensors (a permutation per epoch), from functions, and prefetching.
#include "nx/train/data.hpp"

#include <algorithm>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <thread>
#include <span>

#include "nx/ops.hpp"
#include "nx/random.hpp"

namespace nx::train {

namespace {

// Rows of x (host memory) copied into a new tensor by this thread alone: the batch is made
// while the step runs, and must not take the compute threads from it. Other memory (a
// device) goes through take().
template <class T> Tensor gather_typed(const Tensor& x, std::span<const int64_t> rows) {
  const T* src = x.data<T>();
  const int64_t n = x.shape()[0], row = n ? x.size() / n : 0;
  const size_t count = rows.size() * static_cast<size_t>(row);
  std::unique_ptr<T[]> out(new T[count]);  // not a vector: vector<bool> packs its bits
  for (size_t i = 0; i < rows.size(); ++i) std::copy_n(src + rows[i] * row, row, out.get() + i * row);
  std::vector<int64_t> dims = x.shape().to_vector();
  dims[0] = static_cast<int64_t>(rows.size());
  return from_span(std::span<const T>(out.get(), count), Shape(dims));
}

Tensor gather_rows(const Tensor& x, std::span<const int64_t> rows) {
  try {
    switch (x.dtype()) {
      case DType::bool_: return gather_typed<bool>(x, rows);
      case DType::u8: return gather_typed<uint8_t>(x, rows);
      case DType::u32: return gather_typed<uint32_t>(x, rows);
      case DType::i32: return gather_typed<int32_t>(x, rows);
      case DType::i64: return gather_typed<int64_t>(x, rows);
      case DType::f16: return gather_typed<float16_t>(x, rows);
      case DType::bf16: return gather_typed<bfloat16_t>(x, rows);
      case DType::f32: return gather_typed<float>(x, rows);
      case DType::f64: return gather_typed<double>(x, rows);
    }
  } catch (const Error&) {  // not in host memory
  }
  return take(x, from_span(rows, Shape{static_cast<int64_t>(rows.size())}), 0);
}

}  // namespace

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
    std::shared_ptr<const std::vector<int64_t>> perm;
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
    std::shared_ptr<const std::vector<int64_t>> perm;
    {
      std::lock_guard lock(order->mutex);
      if (order->epoch != epoch) {
        Tensor key = random::fold_in(random::key(static_cast<int64_t>(opts.seed)), epoch);
        order->perm = std::make_shared<const std::vector<int64_t>>(random::shuffle(key, iota({n}, i64)).to_vector<int64_t>());
        order->epoch = epoch;
      }
      perm = order->perm;
    }
    std::span<const int64_t> rows(perm->data() + start, static_cast<size_t>(len));
    for (const Tensor& x : inputs) b.inputs.push_back(gather_rows(x, rows));
    b.targets = gather_rows(targets, rows);
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

// One thread per epoch makes the batches in order, one ahead of the caller. (A thread
// per batch cost 0.2 ms a step on 2 cores: creating and ending one disturbs the compute
// threads.)
struct Prefetcher::Impl {
  const DataSource* source;
  int64_t epoch;
  std::mutex mutex;
  std::condition_variable changed;
  std::optional<std::optional<Batch>> ready;  // a made batch, or the end (nullopt)
  std::exception_ptr error;
  bool stop = false;
  std::thread worker;

  void work() {
    for (int64_t index = 0;; ++index) {
      std::optional<Batch> b;
      std::exception_ptr e;
      try {
        b = source->batch(epoch, index);
      } catch (...) {
        e = std::current_exception();
      }
      std::unique_lock lock(mutex);
      changed.wait(lock, [&] { return stop || (!ready && !error); });
      if (stop) return;
      const bool last = e || !b;
      if (e) error = e;
      else ready = std::move(b);
      changed.notify_all();
      if (last) return;
    }
  }
};

Prefetcher::Prefetcher(const DataSource& source, int64_t epoch) : impl_(std::make_unique<Impl>()) {
  impl_->source = &source;
  impl_->epoch = epoch;
  impl_->worker = std::thread([impl = impl_.get()] { impl->work(); });
}
Prefetcher::~Prefetcher() {
  {
    std::lock_guard lock(impl_->mutex);
    impl_->stop = true;
  }
  impl_->changed.notify_all();
  impl_->worker.join();
}

std::optional<Batch> Prefetcher::next() {
  std::unique_lock lock(impl_->mutex);
  impl_->changed.wait(lock, [&] { return impl_->ready || impl_->error; });
  if (impl_->error) std::rethrow_exception(impl_->error);  // and again at a later call
  std::optional<Batch> b = std::move(*impl_->ready);
  if (b) impl_->ready.reset();  // the end stays, for later calls
  impl_->changed.notify_all();
  return b;
}

}  // namespace nx::train
