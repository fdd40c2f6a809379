// What the oneDNN kernels share: the CPU engine, a stream per thread, a thread-safe LRU
// of built primitives keyed by a string of shapes and attributes, and the per-thread
// scratchpads that let threads run one primitive at once.
#pragma once
#include <algorithm>
#include <atomic>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <oneapi/dnnl/dnnl.hpp>
#include <string>
#include <unordered_map>

namespace nx::onednn {

inline dnnl::engine& engine() {
  static dnnl::engine e(dnnl::engine::kind::cpu, 0);
  return e;
}

// One stream per thread: creating a stream costs microseconds per call.
inline dnnl::stream& stream() {
  thread_local dnnl::stream s(engine());
  return s;
}

// True for oneDNN's reference (plain C++) implementations, which for reductions, pooling
// and elementwise ops are slower than interp's loops.
inline bool is_reference(const dnnl::primitive_desc_base& pd) { return std::string(pd.impl_info_str()).rfind("ref", 0) == 0; }

// Every cached primitive may run on several threads at once, which oneDNN allows only
// when each execution brings its own scratchpad: build every primitive with this
// attribute and run it through execute().
inline dnnl::primitive_attr shareable(dnnl::primitive_attr attr = {}) {
  attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  return attr;
}

// Runs `prim` on this thread's stream with a scratchpad of this thread's (grown as
// needed, freed with the thread), and waits for it.
void execute(const dnnl::primitive& prim, std::unordered_map<int, dnnl::memory> args);

// How many primitives each kind's cache keeps (least recently used dropped first), and
// how many all caches hold now.
size_t primitive_cache_limit();
std::atomic<int64_t>& primitives_cached();

// The cached T for `key`, built by `make` on first use and kept in a bounded LRU (a
// process sweeping shapes would otherwise grow without bound). A dnnl::error while
// building (no kernel for these shapes or this dtype on this CPU) caches and returns
// nullptr. The returned pointer stays valid after eviction.
template <class T> std::shared_ptr<T> cached(const std::string& key, const std::function<std::shared_ptr<T>()>& make) {
  using Entry = std::pair<std::string, std::shared_ptr<T>>;
  static std::mutex mu;
  static std::list<Entry> lru;  // most recent first
  static std::unordered_map<std::string, typename std::list<Entry>::iterator> index;
  std::lock_guard lock(mu);
  if (auto it = index.find(key); it != index.end()) {
    lru.splice(lru.begin(), lru, it->second);
    return it->second->second;
  }
  std::shared_ptr<T> made;
  try {
    made = make();
  } catch (const dnnl::error&) {
  }
  lru.emplace_front(key, made);
  index.emplace(key, lru.begin());
  ++primitives_cached();
  for (size_t limit = std::max<size_t>(primitive_cache_limit(), 1); lru.size() > limit; --primitives_cached()) {
    index.erase(lru.back().first);
    lru.pop_back();
  }
  return made;
}

}  // namespace nx::onednn
