#include "kernels.hpp"

#include <algorithm>
#include <cstdio>
#include <mutex>
#include <unordered_map>

#include "nvrtc_compile.hpp"
#include "nx/detail/kernel_cache.hpp"
#include "nx/error.hpp"

namespace nx::cuda_backend {

namespace {
struct Loaded {
  std::mutex mu;
  std::unordered_map<std::string, std::shared_ptr<const LoadedKernel>> by_key;
};
Loaded& loaded() {
  static auto* l = new Loaded;  // lives for the process: kernels may run during static destruction
  return *l;
}
}  // namespace

void forget_loaded_kernels() {
  std::lock_guard lock(loaded().mu);
  loaded().by_key.clear();
}

std::shared_ptr<const LoadedKernel> load_kernel(const KernelSpec& spec) {
  std::string key = spec.key();
  {
    std::lock_guard lock(loaded().mu);
    if (auto it = loaded().by_key.find(key); it != loaded().by_key.end()) return it->second;
  }
  const Device* d = device();
  if (!d) throw Error("cuda", unavailable_reason());
  char name[32];
  std::snprintf(name, sizeof name, "nx_%016llx", static_cast<unsigned long long>(detail::fnv1a(key)));
  auto k = std::make_shared<LoadedKernel>();
  k->spec = spec;
  k->module = std::make_shared<Module>(cached_cubin(emit_source(spec, name), d->arch));
  k->main = k->module->kernel(name);
  if (spec.mode == Mode::rows) k->warp = k->module->kernel(std::string(name) + "_warp");
  if (spec.mode == Mode::cols || spec.mode == Mode::all)
    for (size_t o = 0; o < spec.outputs.size(); ++o)
      k->folds.push_back(is_reduction(spec.code[static_cast<size_t>(spec.outputs[o])].op)
                             ? k->module->kernel(std::string(name) + "_fold" + std::to_string(o))
                             : nullptr);
  std::lock_guard lock(loaded().mu);
  return loaded().by_key.emplace(key, std::move(k)).first->second;
}

namespace {

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }
unsigned grid_of(int64_t blocks, int64_t cap) { return static_cast<unsigned>(std::clamp<int64_t>(blocks, 1, cap)); }

// Rows up to this long run a warp per row; longer ones a block per row.
constexpr int64_t kWarpRowCols = 1024;

}  // namespace

void run_kernel(const LoadedKernel& k, const std::vector<void*>& in, const std::vector<void*>& out, int64_t rows,
                int64_t cols, Backend& be) {
  const Device& d = *device();
  const KernelSpec& spec = k.spec;
  int64_t n = rows * cols;
  if (n == 0) return;
  std::vector<void*> ptrs(in);
  ptrs.insert(ptrs.end(), out.begin(), out.end());
  int64_t chunk = 0;
  auto args = [&](std::vector<void*>& p, bool with_chunk) {
    std::vector<void*> a;
    for (void*& x : p) a.push_back(&x);
    a.push_back(&rows);
    a.push_back(&cols);
    if (with_chunk) a.push_back(&chunk);
    return a;
  };
  const int64_t cap = int64_t{d.sms} * 32;  // resident blocks, a few waves of grid-stride work
  // Partial results (one row per chunk or block) of the reductions in cols and all
  // kernels, then folded into the outputs.
  auto with_partials = [&](int64_t parts, int64_t width, auto&& launch_main) {
    std::vector<BufferPtr> partials(spec.outputs.size());
    std::vector<void*> p = ptrs;
    if (parts > 1)
      for (size_t o = 0; o < spec.outputs.size(); ++o)
        if (k.folds[o]) {
          DType t = spec.code[static_cast<size_t>(spec.outputs[o])].dtype;
          partials[o] = be.allocate(static_cast<size_t>(parts * width) * item_size(t));
          p[in.size() + o] = partials[o]->data();
        }
    launch_main(p);
    for (size_t o = 0; o < spec.outputs.size(); ++o) {
      if (!partials[o]) continue;
      void* part = partials[o]->data();
      void* dst = out[o];
      int64_t parts_arg = parts, width_arg = width;
      std::vector<void*> a = {&part, &dst, &parts_arg, &width_arg};
      launch(k.folds[o], dim3(grid_of(width, 65535)), dim3(kBlock), a);
    }
  };
  switch (spec.mode) {
    case Mode::elementwise: {
      int64_t per_block = spec.two_d ? kBlock : int64_t{kBlock} * kVector;
      auto a = args(ptrs, false);
      launch(k.main, dim3(grid_of(ceil_div(n, per_block), cap)), dim3(kBlock), a);
      break;
    }
    case Mode::rows: {
      auto a = args(ptrs, false);
      if (cols <= kWarpRowCols) launch(k.warp, dim3(grid_of(ceil_div(rows, kBlock / 32), cap)), dim3(kBlock), a);
      else launch(k.main, dim3(grid_of(rows, cap)), dim3(kBlock), a);
      break;
    }
    case Mode::cols: {
      // Enough chunks of rows that the grid fills the device, each at least 32 rows.
      int64_t across = ceil_div(cols, kBlock);
      int64_t chunks = std::clamp<int64_t>(ceil_div(int64_t{d.sms} * 4, across), 1, std::max<int64_t>(1, rows / 32));
      chunks = std::min<int64_t>(chunks, 65535);
      chunk = ceil_div(rows, chunks);
      chunks = ceil_div(rows, chunk);
      with_partials(chunks, cols, [&](std::vector<void*>& p) {
        auto a = args(p, true);
        launch(k.main, dim3(static_cast<unsigned>(across), static_cast<unsigned>(chunks)), dim3(kBlock), a);
      });
      break;
    }
    case Mode::all: {
      int64_t blocks = std::clamp<int64_t>(ceil_div(n, int64_t{kBlock} * 8), 1, std::min<int64_t>(cap, 1024));
      with_partials(blocks, 1, [&](std::vector<void*>& p) {
        auto a = args(p, false);
        launch(k.main, dim3(static_cast<unsigned>(blocks)), dim3(kBlock), a);
      });
      break;
    }
  }
}

}  // namespace nx::cuda_backend
