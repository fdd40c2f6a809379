#include "thread_pool.hpp"

#include <algorithm>
#include <chrono>
#include <atomic>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

#if NX_LLVM_OPENMP
#include <omp.h>
#endif

namespace nx::llvm_backend {
namespace {

// Set while this thread runs a chunk: a parallel_for nested in a chunk runs inline, as
// the pool takes one job at a time and waiting for it there would deadlock.
thread_local bool in_chunk = false;

struct Job {
  const std::function<void(int64_t)>* chunk = nullptr;
  int64_t chunks = 0;
  std::atomic<int64_t> next{0}, finished{0};
  std::mutex error_mu;
  std::exception_ptr error;  // the first chunk's exception, rethrown to the caller
};

// A chunk that throws (bad_alloc in a GEMM's packing, an nx::Error) must neither
// escape a worker (std::terminate) nor leave chunks uncounted (the caller would wait
// forever): it is recorded, the chunks not yet started are skipped, and run() rethrows.
void take(Job& job) {
  in_chunk = true;
  for (int64_t c; (c = job.next.fetch_add(1)) < job.chunks;) {
    try {
      (*job.chunk)(c);
    } catch (...) {
      std::lock_guard lock(job.error_mu);
      if (!job.error) job.error = std::current_exception();
      int64_t skipped = job.chunks - std::min(job.chunks, job.next.exchange(job.chunks));
      job.finished.fetch_add(skipped);
    }
    job.finished.fetch_add(1);
  }
  in_chunk = false;
}

#if !NX_LLVM_OPENMP
class Pool {
 public:
  Pool() {
    int n = std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
    for (int i = 1; i < n; ++i) workers_.emplace_back([this] { work(); });  // the caller is the n-th
  }
  ~Pool() = delete;  // workers live for the process (a kernel may run during static destruction)

  int size() const { return static_cast<int>(workers_.size()) + 1; }

  void run(int64_t chunks, int helpers, const std::function<void(int64_t)>& chunk) {
    std::unique_lock lock(mu_);
    idle_.wait(lock, [&] { return !job_; });  // one job at a time
    Job job;
    job.chunk = &chunk;
    job.chunks = chunks;
    job_ = &job;
    wanted_ = helpers;
    posted_.store(++generation_, std::memory_order_release);
    wake_.notify_all();
    lock.unlock();
    take(job);
    spin([&] { return job.finished.load(std::memory_order_acquire) == chunks; });
    lock.lock();
    // Workers hold `job` (a frame of this function) until they leave it: wait for them
    // even when a chunk threw, so no thread is left pointing at a dead frame.
    done_.wait(lock, [&] { return job.finished.load() == chunks && joined_ == 0; });
    job_ = nullptr;
    idle_.notify_all();
    lock.unlock();
    if (job.error) std::rethrow_exception(job.error);
  }

 private:
  // Polls `ready` for a few microseconds before the caller blocks: kernels of a graph
  // run back to back, and waking a sleeping thread costs tens of microseconds (more
  // than a small kernel), while a spin that long costs little.
  template <class Ready> static void spin(Ready ready) {
    auto until = std::chrono::steady_clock::now() + std::chrono::microseconds(30);
    while (!ready() && std::chrono::steady_clock::now() < until) std::this_thread::yield();
  }

  void work() {
    uint64_t seen = 0;
    std::unique_lock lock(mu_);
    for (;;) {
      lock.unlock();
      spin([&] { return posted_.load(std::memory_order_acquire) != seen; });
      lock.lock();
      wake_.wait(lock, [&] { return generation_ != seen && job_ && wanted_ > 0; });
      seen = generation_;
      --wanted_;
      ++joined_;
      Job& job = *job_;
      lock.unlock();
      take(job);
      lock.lock();
      --joined_;
      done_.notify_all();
    }
  }

  std::vector<std::thread> workers_;
  std::mutex mu_;
  std::condition_variable wake_, done_, idle_;
  Job* job_ = nullptr;
  uint64_t generation_ = 0;
  std::atomic<uint64_t> posted_{0};  // generation_, readable without the lock
  int wanted_ = 0, joined_ = 0;
};

Pool& pool() {
  static Pool* p = new Pool;
  return *p;
}

#else
// With oneDNN on OpenMP, kernels run on OpenMP's threads too: two sets of workers on the
// same cores would fight, OpenMP's spinning after each oneDNN call (milliseconds) slowing
// every kernel of ours that follows it. One team serves both.
void run_on_openmp(int64_t chunks, int threads, const std::function<void(int64_t)>& chunk) {
  Job job;
  job.chunk = &chunk;
  job.chunks = chunks;
#pragma omp parallel num_threads(threads)
  take(job);
  if (job.error) std::rethrow_exception(job.error);
}
#endif

}  // namespace

void parallel_for(int64_t n, int64_t grain, int threads, const std::function<void(int64_t, int64_t)>& body,
                  int64_t align) {
  if (n <= 0) return;
#if NX_LLVM_OPENMP
  static const int cores = std::max(1, omp_get_max_threads());
  const int size = cores;
#else
  Pool& p = pool();
  const int size = p.size();
#endif
  int use = threads > 0 ? std::min(threads, size) : size;
  // Several chunks per thread, so a thread that starts late (waking takes time) or runs
  // slower takes fewer of them.
  int64_t chunks = std::min<int64_t>((n + grain - 1) / std::max<int64_t>(grain, 1), int64_t{8} * use);
  if (chunks <= 1 || use == 1 || in_chunk) {
    body(0, n);
    return;
  }
  // Chunks start at multiples of `align` (64 elements for kernels' element loops), so
  // every element falls in the same part of a kernel's loop (vector body or remainder,
  // whose math may differ by an ulp) however many threads run it.
  int64_t per = ((n + chunks - 1) / chunks + align - 1) / align * align;
  std::function<void(int64_t)> chunk = [&](int64_t c) { body(c * per, std::min(n, (c + 1) * per)); };
#if NX_LLVM_OPENMP
  run_on_openmp((n + per - 1) / per, use, chunk);
#else
  p.run((n + per - 1) / per, use - 1, chunk);
#endif
}

}  // namespace nx::llvm_backend
