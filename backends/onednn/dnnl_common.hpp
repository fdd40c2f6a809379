// What the oneDNN kernels share: the CPU engine, a stream per thread, and a thread-safe
// cache of built primitives keyed by a string of shapes and attributes.
#pragma once
#include <functional>
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

// The cached T for `key`, built by `make` on first use. A dnnl::error while building
// (no kernel for these shapes or this dtype on this CPU) caches and returns nullptr.
template <class T> std::shared_ptr<T> cached(const std::string& key, const std::function<std::shared_ptr<T>()>& make) {
  static std::mutex mu;
  static std::unordered_map<std::string, std::shared_ptr<T>> entries;
  std::lock_guard lock(mu);
  auto it = entries.find(key);
  if (it != entries.end()) return it->second;
  std::shared_ptr<T> made;
  try {
    made = make();
  } catch (const dnnl::error&) {
  }
  entries.emplace(key, made);
  return made;
}

}  // namespace nx::onednn
