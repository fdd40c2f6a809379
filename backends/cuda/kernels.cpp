#include "kernels.hpp"

#include <algorithm>
#include <cstdio>
#include <mutex>
#include <unordered_map>

#include "launch_plan.hpp"
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
  // Their modules stay loaded: queued launches and captured graphs may still run them.
  static auto* retired = new std::vector<std::shared_ptr<const LoadedKernel>>;  // lives for the process
  std::lock_guard lock(loaded().mu);
  for (auto& [key, kernel] : loaded().by_key) retired->push_back(std::move(kernel));
  loaded().by_key.clear();
}

std::shared_ptr<const LoadedKernel> load_kernel(const KernelSpec& spec) {
  std::string key = spec.key();
  {
    std::lock_guard lock(loaded().mu);
    if (auto it = loaded().by_key.find(key); it != loaded().by_key.end()) return it->second;
  }
  const Device& d = need_device();
  char name[32];
  std::snprintf(name, sizeof name, "nx_%016llx", static_cast<unsigned long long>(detail::fnv1a(key)));
  auto k = std::make_shared<LoadedKernel>();
  k->spec = spec;
  k->module = std::make_shared<Module>(cached_cubin(emit_source(spec, name), d.arch));
  std::vector<std::string> suffixes = {""};
  if (spec.mode == Mode::rows) suffixes.push_back("_warp");
  if (spec.mode == Mode::cols || spec.mode == Mode::all)
    for (size_t o = 0; o < spec.outputs.size(); ++o)
      if (is_reduction(spec.code[static_cast<size_t>(spec.outputs[o])].op)) suffixes.push_back("_fold" + std::to_string(o));
  for (const std::string& suffix : suffixes) k->entries[suffix] = k->module->kernel(name + suffix);
  std::lock_guard lock(loaded().mu);
  return loaded().by_key.emplace(key, std::move(k)).first->second;
}

const void* load_source(const std::string& source, const std::string& name) {
  static std::mutex mu;
  static auto* modules = new std::unordered_map<std::string, std::shared_ptr<Module>>;  // lives for the process
  std::shared_ptr<Module> m;
  {
    std::lock_guard lock(mu);
    if (auto it = modules->find(source); it != modules->end()) m = it->second;
  }
  if (!m) {
    m = std::make_shared<Module>(cached_cubin(source, need_device().arch));
    std::lock_guard lock(mu);
    m = modules->emplace(source, m).first->second;
  }
  return m->kernel(name);
}

void launch_over(const void* kernel, std::vector<void*> pointers, long long count) {
  std::vector<void*> args;
  for (void*& p : pointers) args.push_back(&p);
  args.push_back(&count);
  launch_counted(kernel, args, count);
}

void launch_counted(const void* kernel, std::vector<void*>& args, long long count) {
  if (count == 0) return;
  auto blocks = static_cast<unsigned>(std::clamp<long long>((count + kBlock - 1) / kBlock, 1, int64_t{need_device().sms} * 32));
  launch(kernel, dim3(blocks), dim3(kBlock), args);
}

void run_kernel(const LoadedKernel& k, const std::vector<void*>& in, const std::vector<void*>& out, int64_t rows,
                int64_t cols, Backend& be) {
  const KernelSpec& spec = k.spec;
  LaunchPlan plan = plan_launches(spec, rows, cols, need_device().sms);
  std::vector<BufferPtr> partials(out.size());
  std::vector<void*> buffers(in);
  for (size_t o = 0; o < out.size(); ++o) {
    if (plan.partials[o])  // freed in stream order
      partials[o] = be.allocate(static_cast<size_t>(plan.partials[o]) * partial_item_size(spec, o));
    buffers.push_back(partials[o] ? partials[o]->data() : out[o]);
  }
  int64_t chunk = plan.chunk;
  for (const Launch& l : plan.launches) {
    std::vector<void*> args;
    void *part = nullptr, *dst = nullptr;
    int64_t parts = l.parts, width = l.width;
    if (l.fold < 0) {
      for (void*& b : buffers) args.push_back(&b);
      args.push_back(&rows);
      args.push_back(&cols);
      if (plan.chunked) args.push_back(&chunk);
    } else {
      part = partials[static_cast<size_t>(l.fold)]->data();
      dst = out[static_cast<size_t>(l.fold)];
      args = {&part, &dst, &parts, &width};
    }
    launch(k.entries.at(l.suffix), dim3(l.grid.x, l.grid.y, l.grid.z), dim3(l.block.x, l.block.y, l.block.z), args);
  }
}

}  // namespace nx::cuda_backend
