// The non-template half of nx::jit: signature keys, the LRU cache, tracing and running.
#include "nx/jit.hpp"

#include <condition_variable>
#include <cstdio>
#include <list>
#include <mutex>
#include <unordered_map>
#include <unordered_set>

#include "nx/detail/core.hpp"

namespace nx::detail {

namespace {
struct KeyHash {
  size_t operator()(const JitKey& k) const {
    uint64_t h = 1469598103934665603ull;
    for (int64_t x : k.words) h = (h ^ static_cast<uint64_t>(x)) * 1099511628211ull;
    return static_cast<size_t>(h);
  }
};
}  // namespace

bool JitKey::operator==(const JitKey& o) const {
  if (words != o.words || statics.size() != o.statics.size()) return false;
  for (size_t i = 0; i < statics.size(); ++i) {
    const StaticArg &a = statics[i], &b = o.statics[i];
    if (a.ops != b.ops || !a.ops->equal(a.value, b.value)) return false;
  }
  return true;
}

JitKey JitKey::owning() const {
  JitKey k = *this;
  for (StaticArg& s : k.statics)
    if (!s.owned) {
      s.owned = s.ops->copy(s.value);
      s.value = s.owned.get();
    }
  return k;
}

struct JitCache::Impl {
  using Item = std::pair<JitKey, std::shared_ptr<const CompiledEntry>>;
  mutable std::mutex mu;
  std::list<Item> lru;  // most recent first
  std::unordered_map<JitKey, std::list<Item>::iterator, KeyHash> index;
  // Keys some thread is tracing and compiling now: others calling with the same signature
  // wait for that compile instead of compiling it too.
  std::unordered_set<JitKey, KeyHash> compiling;
  std::condition_variable compiled;
  JitStats stats;
  bool warned = false;
};

JitCache::JitCache(JitOptions options) : impl_(std::make_unique<Impl>()), options_(std::move(options)) {
  if (options_.cache_size == 0) options_.cache_size = 1;
}
JitCache::~JitCache() = default;

Backend& JitCache::backend() const {
  return options_.backend.empty() ? default_backend() : nx::backend(options_.backend);
}

JitKey JitCache::key(size_t type_id, const std::vector<int64_t>& structure, std::vector<StaticArg> statics,
                    const std::vector<Tensor>& leaves, const Backend& be) {
  JitKey key;
  key.statics = std::move(statics);
  std::vector<int64_t>& k = key.words;
  k.reserve(3 + structure.size() + leaves.size() * 3);
  k.push_back(static_cast<int64_t>(type_id));
  k.push_back(static_cast<int64_t>(reinterpret_cast<uintptr_t>(&be)));
  k.insert(k.end(), structure.begin(), structure.end());
  for (const Tensor& t : leaves) {
    if (!t.defined()) throw ValueError("jit", "an argument tensor is undefined");
    const Shape& s = t.shape();
    k.push_back(static_cast<int64_t>(t.dtype()) | (int64_t{t.is_weak()} << 8) | (int64_t{s.rank()} << 16));
    for (int i = 0; i < s.rank(); ++i) k.push_back(s[i]);
  }
  return key;
}

std::shared_ptr<const CompiledEntry> JitCache::find(const JitKey& key) {
  std::unique_lock lock(impl_->mu);
  Impl& m = *impl_;
  ++m.stats.calls;
  for (;;) {
    if (auto it = m.index.find(key); it != m.index.end()) {
      m.lru.splice(m.lru.begin(), m.lru, it->second);
      return it->second->second;
    }
    // The waiters compare against this key while its caller compiles: it owns its statics.
    if (m.compiling.insert(key.owning()).second) return nullptr;  // this caller compiles it
    m.compiled.wait(lock);
  }
}

void JitCache::abandon(const JitKey& key) {
  std::lock_guard lock(impl_->mu);
  impl_->compiling.erase(key);
  impl_->compiled.notify_all();  // a waiter takes the compile over (and meets the error itself)
}

std::shared_ptr<const CompiledEntry> JitCache::insert(const JitKey& lookup_key, CompiledEntry entry) {
  JitKey key = lookup_key.owning();  // the caller's static values are gone after its call
  std::lock_guard lock(impl_->mu);
  Impl& m = *impl_;
  ++m.stats.compiles;
  m.compiling.erase(key);
  m.compiled.notify_all();
  if (auto it = m.index.find(key); it != m.index.end()) return it->second->second;
  if (!m.warned && options_.warn_after_compiles > 0 && m.stats.compiles >= options_.warn_after_compiles) {
    m.warned = true;
    std::fprintf(stderr,
                 "nx::jit warning: one function has been compiled %lld times; its argument shapes or "
                 "dtypes keep changing (pad inputs to a few fixed shapes to avoid recompiling)\n",
                 static_cast<long long>(m.stats.compiles));
  }
  m.lru.emplace_front(key, std::make_shared<const CompiledEntry>(std::move(entry)));
  m.index.emplace(std::move(key), m.lru.begin());
  while (m.lru.size() > options_.cache_size) {
    m.index.erase(m.lru.back().first);
    m.lru.pop_back();
    ++m.stats.evictions;
  }
  return m.lru.front().second;
}

JitStats JitCache::stats() const {
  std::lock_guard lock(impl_->mu);
  return impl_->stats;
}

struct JitTrace::Impl {
  TraceScope scope;
};

JitTrace::JitTrace() : impl_(std::make_unique<Impl>()) {}
JitTrace::~JitTrace() = default;

std::vector<Tensor> JitTrace::parameters(const std::vector<Tensor>& leaves) {
  std::vector<Tensor> params;
  params.reserve(leaves.size());
  for (const Tensor& t : leaves) params.push_back(impl_->scope.parameter(t.impl()->type, t.is_weak()));
  return params;
}

Graph JitTrace::graph(const std::vector<Tensor>& outputs) {
  Trace& trace = impl_->scope.trace();
  Graph g;
  g.params = trace.params;
  for (const Tensor& t : outputs) {
    if (!t.defined()) throw ValueError("jit", "the function returned an undefined tensor");
    if (!t.is_traced()) {
      g.outputs.push_back(constant_value(t));
    } else if (t.impl()->value.node->trace_id != trace.id) {
      throw ValueError("jit", "the function returned a tensor traced by another nx::jit");
    } else {
      g.outputs.push_back(t.impl()->value);
    }
  }
  // Host callbacks nothing returned still run: hidden outputs after the function's own.
  for (const Value& v : trace.effects)
    if (v.node->trace_id == trace.id) g.outputs.push_back(v);
  g.finalize();
  return optimize(g);
}

CompiledEntry JitTrace::compile(const std::vector<Tensor>& outputs, Backend& be, const CompileOptions& opts) {
  Graph g = graph(outputs);
  CompiledEntry e;
  e.output_types = g.output_types();
  e.output_types.resize(outputs.size());  // not the hidden outputs of host callbacks
  for (const Tensor& t : outputs) e.output_weak.push_back(t.is_weak());
  e.executable = be.compile(g, opts);
  e.backend = &be;
  return e;
}

bool tracing() { return current_trace() != nullptr; }

void check_donate(const std::vector<int>& donate, size_t args) {
  for (int d : donate)
    if (d < 0 || static_cast<size_t>(d) >= args)
      throw ValueError("jit", "donate names argument " + std::to_string(d) + ", but the call has " +
                                  std::to_string(args) + " arguments");
}

std::vector<Tensor> run_compiled(const CompiledEntry& e, const std::vector<Tensor>& leaves,
                                 const std::vector<bool>& donated) {
  Backend& be = *e.backend;
  std::vector<BufferPtr> inputs;
  inputs.reserve(leaves.size());
  for (const Tensor& t : leaves) {
    if (t.is_traced()) throw ValueError("jit", "a traced tensor was passed to a jitted function outside its trace");
    inputs.push_back(buffer_on(t, be));
  }
  // The donated tensors let go of their buffers: the executable may then hold the only
  // references, and overwrite them.
  for (size_t k = 0; k < donated.size() && k < leaves.size(); ++k)
    if (donated[k]) {
      leaves[k].impl()->buffer.reset();
      leaves[k].impl()->donated = true;
    }
  std::vector<BufferPtr> out = e.executable->run(inputs);
  std::vector<Tensor> results;
  results.reserve(e.output_types.size());
  for (size_t i = 0; i < e.output_types.size(); ++i)
    results.push_back(make_concrete(e.output_types[i], std::move(out[i]), e.output_weak[i] != 0));
  return results;
}

}  // namespace nx::detail
