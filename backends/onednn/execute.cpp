// Running shared primitives: per-thread scratchpads, and the primitive caches' bound.
#include <cstdlib>
#include <string>

#include "dnnl_common.hpp"
#include "nx/error.hpp"
#include "nx/onednn.hpp"

namespace nx::onednn {
namespace {

std::atomic<size_t> cache_limit{[] {
  const char* e = std::getenv("NX_ONEDNN_CACHE_LIMIT");
  long long n = e ? std::atoll(e) : 0;
  return n > 0 ? static_cast<size_t>(n) : size_t{512};
}()};

std::atomic<bool> winograd{[] {
  const char* e = std::getenv("NX_ONEDNN_WINOGRAD");
  return !(e && std::string(e) == "0");
}()};

// This thread's scratchpad: one execution at a time per thread, so one block suffices.
struct Scratchpad {
  void* data = nullptr;
  size_t bytes = 0;
  ~Scratchpad() { std::free(data); }
  void* at_least(size_t n) {
    if (n > bytes) {
      std::free(data);
      data = nullptr;
      bytes = 0;
      data = std::aligned_alloc(64, (n + 63) / 64 * 64);
      if (!data) throw Error("onednn", "out of memory: cannot allocate a scratchpad of " + std::to_string(n) + " bytes");
      bytes = n;
    }
    return data;
  }
};

}  // namespace

void execute(const dnnl::primitive& prim, std::unordered_map<int, dnnl::memory> args) {
  const dnnl_memory_desc_t* md = dnnl_primitive_desc_query_md(prim.get_primitive_desc(), dnnl_query_scratchpad_md, 0);
  if (md && md->ndims > 0) {
    dnnl::memory::desc desc(*md);
    thread_local Scratchpad pad;
    args[DNNL_ARG_SCRATCHPAD] = dnnl::memory(desc, engine(), pad.at_least(desc.get_size()));
  }
  dnnl::stream& s = stream();
  prim.execute(s, args);
  s.wait();
}

size_t primitive_cache_limit() { return cache_limit; }
std::atomic<int64_t>& primitives_cached() {
  static std::atomic<int64_t> n{0};
  return n;
}

void set_primitive_cache_limit(size_t per_kind) { cache_limit = per_kind; }
int64_t cached_primitive_count() { return primitives_cached(); }

void set_allow_winograd(bool allow) { winograd = allow; }
bool allow_winograd() { return winograd; }

}  // namespace nx::onednn
