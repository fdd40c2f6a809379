// nx::jit: traces a function once per input signature into a Graph, optimises it, compiles
// it with a backend and caches the executable.
//
//   auto f = nx::jit([](const nx::Tensor& x, const nx::Tensor& y) { return nx::exp(x) * y; });
//   nx::Tensor z = f(a, b);   // first call traces + compiles; later calls with the same
//                             // shapes/dtypes only run the executable
//
// Arguments and results are trees: Tensor leaves inside std::tuple, std::pair, std::array,
// std::vector and std::map<std::string, T> (parameter trees), nested freely. Arithmetic
// scalars are accepted as weakly typed tensors. Tensors captured by the closure become
// constants of the graph.
#pragma once
#include <algorithm>
#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <tuple>
#include <type_traits>
#include <typeinfo>
#include <utility>
#include <vector>

#include "nx/backend.hpp"
#include "nx/tensor.hpp"

namespace nx {

// ---- trees: flatten to Tensor leaves, rebuild from them ----
template <class T, class = void> struct TreeTraits;  // specialise for your own structs

template <> struct TreeTraits<Tensor> {
  static void flatten(const Tensor& t, std::vector<Tensor>& out, std::vector<int64_t>&) { out.push_back(t); }
  static Tensor unflatten(const Tensor&, const Tensor*& it) { return *it++; }
};
template <class T> struct TreeTraits<T, std::enable_if_t<std::is_arithmetic_v<T>>> {
  static void flatten(T v, std::vector<Tensor>& out, std::vector<int64_t>&) { out.push_back(Tensor(v)); }
  static Tensor unflatten(T, const Tensor*& it) { return *it++; }
};
template <class... Ts> struct TreeTraits<std::tuple<Ts...>> {
  static void flatten(const std::tuple<Ts...>& t, std::vector<Tensor>& out, std::vector<int64_t>& s) {
    std::apply([&](const auto&... x) { (TreeTraits<std::decay_t<decltype(x)>>::flatten(x, out, s), ...); }, t);
  }
  static auto unflatten(const std::tuple<Ts...>& t, const Tensor*& it) {
    // Braced init evaluates left to right, so leaves are consumed in order.
    return std::apply([&](const auto&... x) {
      return std::tuple<decltype(TreeTraits<std::decay_t<decltype(x)>>::unflatten(x, it))...>{
          TreeTraits<std::decay_t<decltype(x)>>::unflatten(x, it)...};
    }, t);
  }
};
template <class A, class B> struct TreeTraits<std::pair<A, B>> {
  static void flatten(const std::pair<A, B>& p, std::vector<Tensor>& out, std::vector<int64_t>& s) {
    TreeTraits<A>::flatten(p.first, out, s);
    TreeTraits<B>::flatten(p.second, out, s);
  }
  static auto unflatten(const std::pair<A, B>& p, const Tensor*& it) {
    auto a = TreeTraits<A>::unflatten(p.first, it);
    auto b = TreeTraits<B>::unflatten(p.second, it);
    return std::pair{std::move(a), std::move(b)};
  }
};
template <class T, size_t N> struct TreeTraits<std::array<T, N>> {
  static void flatten(const std::array<T, N>& a, std::vector<Tensor>& out, std::vector<int64_t>& s) {
    for (const T& x : a) TreeTraits<T>::flatten(x, out, s);
  }
  static auto unflatten(const std::array<T, N>& a, const Tensor*& it) {
    using R = decltype(TreeTraits<T>::unflatten(a[0], it));
    std::array<R, N> r;
    for (size_t i = 0; i < N; ++i) r[i] = TreeTraits<T>::unflatten(a[i], it);
    return r;
  }
};
template <class T> struct TreeTraits<std::vector<T>> {
  static void flatten(const std::vector<T>& v, std::vector<Tensor>& out, std::vector<int64_t>& s) {
    s.push_back(static_cast<int64_t>(v.size()));  // the length is part of the signature
    for (const T& x : v) TreeTraits<T>::flatten(x, out, s);
  }
  static auto unflatten(const std::vector<T>& v, const Tensor*& it) {
    using R = decltype(TreeTraits<T>::unflatten(v[0], it));
    std::vector<R> r;
    r.reserve(v.size());
    for (const T& x : v) r.push_back(TreeTraits<T>::unflatten(x, it));
    return r;
  }
};
template <class T> struct TreeTraits<std::map<std::string, T>> {
  static void flatten(const std::map<std::string, T>& m, std::vector<Tensor>& out, std::vector<int64_t>& s) {
    s.push_back(static_cast<int64_t>(m.size()));
    for (const auto& [k, v] : m) {
      s.push_back(static_cast<int64_t>(std::hash<std::string>{}(k)));  // names are part of the signature
      TreeTraits<T>::flatten(v, out, s);
    }
  }
  static auto unflatten(const std::map<std::string, T>& m, const Tensor*& it) {
    using R = decltype(TreeTraits<T>::unflatten(m.begin()->second, it));
    std::map<std::string, R> r;
    for (const auto& [k, v] : m) r.emplace(k, TreeTraits<T>::unflatten(v, it));
    return r;
  }
};

template <class T>
using unflattened_t = decltype(TreeTraits<T>::unflatten(std::declval<const T&>(), std::declval<const Tensor*&>()));

template <class T> void tree_flatten(const T& t, std::vector<Tensor>& leaves) {
  std::vector<int64_t> structure;
  TreeTraits<std::decay_t<T>>::flatten(t, leaves, structure);
}

// ---- options, cache, statistics ----
struct JitOptions {
  std::string backend;           // empty: nx::default_backend() at call time
  CompileOptions compile;
  size_t cache_size = 64;        // signatures kept per function (least recently used dropped)
  int warn_after_compiles = 16;  // a warning on stderr when one function compiles this often
  // Positions of arguments whose tensors the caller gives up (JAX's donate_argnums): a
  // call may write its results into their buffers, and afterwards reading them raises
  // nx::Error. An optimizer step that returns new parameters donates the old ones.
  std::vector<int> donate;
};

struct JitStats {
  int64_t calls = 0;
  int64_t compiles = 0;  // cache misses: traces + backend compiles
  int64_t evictions = 0;
};

namespace detail {

// One compiled signature: the executable and what its outputs look like.
struct CompiledEntry {
  std::unique_ptr<Executable> executable;
  Backend* backend = nullptr;
  std::vector<TensorType> output_types;
  std::vector<uint8_t> output_weak;
  std::shared_ptr<void> result_template;  // the traced result, for rebuilding the tree
};

// The signature cache of one jitted function. Thread-safe.
class JitCache {
 public:
  explicit JitCache(JitOptions options);
  ~JitCache();
  const JitOptions& options() const { return options_; }
  Backend& backend() const;
  // The key of a call: argument types' identity, tree structure, each leaf's type.
  static std::vector<int64_t> key(size_t type_id, const std::vector<int64_t>& structure,
                                  const std::vector<Tensor>& leaves, const Backend& be);
  // The entry for `key`; when there is none, the caller is to compile it and insert() it
  // (or abandon() on failure): callers with the same key meanwhile wait in find().
  std::shared_ptr<const CompiledEntry> find(const std::vector<int64_t>& key);
  std::shared_ptr<const CompiledEntry> insert(std::vector<int64_t> key, CompiledEntry entry);
  void abandon(const std::vector<int64_t>& key);
  JitStats stats() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  JitOptions options_;
};

// Starts a trace and returns parameters standing for `leaves` (same types and weakness).
class JitTrace {
 public:
  JitTrace();
  ~JitTrace();
  std::vector<Tensor> parameters(const std::vector<Tensor>& leaves);
  // Ends the trace: builds, optimises and compiles the graph of `outputs`.
  CompiledEntry compile(const std::vector<Tensor>& outputs, Backend& be, const CompileOptions& opts);
  Graph graph(const std::vector<Tensor>& outputs);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

bool tracing();  // true while any trace is recorded on this thread
// Runs a compiled entry on concrete leaves (moved to the entry's backend when needed).
// Throws ValueError unless every position in `donate` names one of `args` arguments.
void check_donate(const std::vector<int>& donate, size_t args);
// Leaves flagged in `donated` give their buffers up (their tensors read as donated).
std::vector<Tensor> run_compiled(const CompiledEntry& e, const std::vector<Tensor>& leaves,
                                 const std::vector<bool>& donated = {});

template <class... Args> struct ArgsTree {
  std::tuple<Args...> args;
};

}  // namespace detail

template <class F> class Jitted {
 public:
  Jitted(F f, JitOptions options)
      : f_(std::move(f)), cache_(std::make_shared<detail::JitCache>(std::move(options))) {}

  template <class... Args> auto operator()(const Args&... args) const {
    using Result = std::decay_t<std::invoke_result_t<const F&, const Args&...>>;
    // Nested inside another trace: simply inline the function.
    if (detail::tracing()) return f_(args...);
    std::vector<Tensor> leaves;
    std::vector<int64_t> structure;
    std::vector<bool> donated;  // per leaf
    int position = 0;
    detail::check_donate(cache_->options().donate, sizeof...(Args));
    auto flatten = [&](const auto& arg) {
      TreeTraits<std::decay_t<decltype(arg)>>::flatten(arg, leaves, structure);
      const std::vector<int>& d = cache_->options().donate;
      donated.resize(leaves.size(), std::find(d.begin(), d.end(), position++) != d.end());
    };
    (flatten(args), ...);
    Backend& be = cache_->backend();
    auto key = detail::JitCache::key(typeid(detail::ArgsTree<Args...>).hash_code(), structure, leaves, be);
    auto entry = cache_->find(key);
    if (!entry) {
      struct Claim {  // gives the key up if tracing or compiling throws
        detail::JitCache& cache;
        const std::vector<int64_t>& key;
        bool done = false;
        ~Claim() {
          if (!done) cache.abandon(key);
        }
      } claim{*cache_, key};
      detail::JitTrace trace;
      std::vector<Tensor> params = trace.parameters(leaves);
      const Tensor* it = params.data();
      auto traced_args = std::tuple<unflattened_t<std::decay_t<Args>>...>{
        TreeTraits<std::decay_t<Args>>::unflatten(args, it)...};
      auto result = std::make_shared<Result>(std::apply(f_, traced_args));
      std::vector<Tensor> outs;
      tree_flatten(*result, outs);
      CompileOptions options = cache_->options().compile;
      if (!cache_->options().donate.empty()) options.donate = donated;
      detail::CompiledEntry e = trace.compile(outs, be, options);
      e.result_template = result;
      entry = cache_->insert(key, std::move(e));
      claim.done = true;
    }
    std::vector<Tensor> outs = detail::run_compiled(*entry, leaves, donated);
    const Tensor* it = outs.data();
    return Result(TreeTraits<Result>::unflatten(*static_cast<const Result*>(entry->result_template.get()), it));
  }

  // The optimised graph for these arguments (for printing: graph.str(), graph.dot()).
  template <class... Args> Graph graph(const Args&... args) const {
    std::vector<Tensor> leaves;
    std::vector<int64_t> structure;
    (TreeTraits<std::decay_t<Args>>::flatten(args, leaves, structure), ...);
    detail::JitTrace trace;
    std::vector<Tensor> params = trace.parameters(leaves);
    const Tensor* it = params.data();
    auto traced_args = std::tuple<unflattened_t<std::decay_t<Args>>...>{
        TreeTraits<std::decay_t<Args>>::unflatten(args, it)...};
    std::vector<Tensor> outs;
    tree_flatten(std::apply(f_, traced_args), outs);
    return trace.graph(outs);
  }

  JitStats stats() const { return cache_->stats(); }
  int64_t compiles() const { return stats().compiles; }

 private:
  F f_;
  std::shared_ptr<detail::JitCache> cache_;
};

template <class F> Jitted<std::decay_t<F>> jit(F&& f, JitOptions options = {}) {
  return Jitted<std::decay_t<F>>(std::forward<F>(f), std::move(options));
}

}  // namespace nx
