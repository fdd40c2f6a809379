// nx::jit: traces a function once per input signature into a Graph, optimises it, compiles
// it with a backend and caches the executable.
//
//   auto f = nx::jit([](const nx::Tensor& x, const nx::Tensor& y) { return nx::exp(x) * y; });
//   nx::Tensor z = f(a, b);   // first call traces + compiles; later calls with the same
//                             // shapes/dtypes only run the executable
//
// Arguments and results are trees (nx/tree.hpp): Tensor leaves inside std::tuple,
// std::pair, std::array, std::vector, std::map<std::string, T> and structs registered with
// NX_TREE, nested freely. Tensors captured by the closure become constants of the graph.
//
// Static arguments (JAX's static_argnums, decided by type): an argument is static when
//   - it is wrapped: nx::static_arg(v) (an nx::Static<T>), or
//   - it is not a tree: an enum, a std::string / std::string_view / C string, or a struct
//     of settings with operator== (std::hash is used when there is one), or
//   - it is a number (or a container of numbers) and the function does not take a Tensor
//     in that position: `[](const nx::Tensor& x, int n)` gets n static, while
//     `[](const nx::Tensor& x, const nx::Tensor& s)` gets a number s as a weakly typed
//     tensor, traced once for all values.
// A static argument's value is part of the signature: each new value traces and compiles
// once, equal values reuse the executable, and the function receives the plain value.
// Anything else (a struct holding tensors without NX_TREE) fails to compile with one
// static_assert naming the fix.
#pragma once
#include <algorithm>
#include <array>
#include <concepts>
#include <cstdint>
#include <exception>
#include <functional>
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
#include "nx/tree.hpp"

namespace nx {

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

// A static argument compared by operator== (a struct of settings): during a lookup it
// points at the caller's value; keys the cache keeps own a copy.
struct StaticArgOps {
  bool (*equal)(const void*, const void*);
  std::shared_ptr<const void> (*copy)(const void*);
};
template <class T>
inline constexpr StaticArgOps static_arg_ops{
    [](const void* a, const void* b) -> bool { return *static_cast<const T*>(a) == *static_cast<const T*>(b); },
    [](const void* a) -> std::shared_ptr<const void> { return std::make_shared<const T>(*static_cast<const T*>(a)); }};
struct StaticArg {
  const void* value = nullptr;
  const StaticArgOps* ops = nullptr;
  std::shared_ptr<const void> owned;
};

struct JitKey {
  std::vector<int64_t> words;      // hashed: types, structure, static values (or their hashes)
  std::vector<StaticArg> statics;  // usually empty, so a lookup allocates nothing for it
  bool operator==(const JitKey& o) const;
  JitKey owning() const;  // a copy holding its own static values, to keep in the cache
};

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
  // The key of a call: argument types' identity, tree structure and exactly encoded
  // static values, each leaf's type, and the static values compared by operator==.
  static JitKey key(size_t type_id, const std::vector<int64_t>& structure, std::vector<StaticArg> statics,
                    const std::vector<Tensor>& leaves, const Backend& be);
  // The entry for `key`; when there is none, the caller is to compile it and insert() it
  // (or abandon() on failure): callers with the same key meanwhile wait in find().
  std::shared_ptr<const CompiledEntry> find(const JitKey& key);
  std::shared_ptr<const CompiledEntry> insert(const JitKey& key, CompiledEntry entry);
  void abandon(const JitKey& key);
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

template <class... Args> struct ArgsTree {};  // typeid(ArgsTree<Args...>) tells argument lists apart

}  // namespace detail

// An argument the function receives as the plain value, each value compiling once (JAX's
// static_argnums): f(x, nx::static_arg(3)). Needed only for numbers the function takes as
// tensors; see the rule at the top of this file.
template <class T> struct Static {
  T value;  // a reference only when nx::grad passes a caller's value through
};
template <class T> Static<std::decay_t<T>> static_arg(T&& value) { return {std::forward<T>(value)}; }

namespace detail {

template <class T> struct StaticWrapper : std::false_type {
  using type = T;
};
template <class T> struct StaticWrapper<Static<T>> : std::true_type {
  using type = T;
};
// What the function is given for an argument passed as `A` when it is static.
template <class A> using plain_t = std::remove_cvref_t<typename StaticWrapper<A>::type>;
template <class A> const plain_t<A>& plain(const A& arg) {
  if constexpr (StaticWrapper<A>::value) return arg.value;
  else return arg;
}

// Whether the standard containers' elements are static values too (vector<Tensor> is not,
// although its operator== declares it comparable).
template <class T> struct ElementsStatic : std::true_type {};

template <class T>
concept ComparedStatic = std::is_class_v<T> && !IsExactStatic<T>::value && !Tree<T> && std::equality_comparable<T> &&
                         std::copy_constructible<T> && ElementsStatic<T>::value;
template <class T>
concept StaticValue = IsExactStatic<T>::value || ComparedStatic<T>;

template <class T> struct ElementsStatic<std::vector<T>> : std::bool_constant<StaticValue<T>> {};
template <class T, size_t N> struct ElementsStatic<std::array<T, N>> : std::bool_constant<StaticValue<T>> {};
template <class K, class V>
struct ElementsStatic<std::map<K, V>> : std::bool_constant<StaticValue<K> && StaticValue<V>> {};
template <class A, class B>
struct ElementsStatic<std::pair<A, B>> : std::bool_constant<StaticValue<A> && StaticValue<B>> {};
template <class... Ts> struct ElementsStatic<std::tuple<Ts...>> : std::bool_constant<(StaticValue<Ts> && ...)> {};

// Whether f can be called with `T` at position I and the other arguments as passed.
template <class F, size_t I, class T, class... Args> constexpr bool accepts_at() {
  return []<size_t... J>(std::index_sequence<J...>) {
    return std::is_invocable_v<const F&, std::conditional_t<J == I, T, const plain_t<Args>&>...>;
  }(std::index_sequence_for<Args...>{});
}

// The form f would receive argument A in if every tree argument were traced.
template <class A> constexpr auto traced_form() {
  using D = std::decay_t<A>;
  if constexpr (!StaticWrapper<A>::value && Tree<D>) return std::type_identity<const unflattened_t<D>&>{};
  else return std::type_identity<const plain_t<A>&>{};
}
template <class F, class... Args> constexpr bool accepts_all_traced() {
  return std::is_invocable_v<const F&, typename decltype(traced_form<Args>())::type...>;
}

enum class ArgKind { tree, static_value, not_a_tree, traced_form_refused, static_arg_not_comparable };

// How f(args...) takes argument I: the rule at the top of this file.
template <class F, size_t I, class... Args> constexpr ArgKind arg_kind() {
  using A = std::tuple_element_t<I, std::tuple<Args...>>;
  using D = std::decay_t<A>;
  if constexpr (StaticWrapper<A>::value) {
    return StaticValue<std::decay_t<plain_t<A>>> ? ArgKind::static_value : ArgKind::static_arg_not_comparable;
  } else if constexpr (Tree<D>) {
    // Usually f takes every tree traced; only when it does not, positions are tried alone
    // (a function template taking two arguments of one type accepts them traced together).
    if constexpr (accepts_all_traced<F, Args...>() || accepts_at<F, I, const unflattened_t<D>&, Args...>())
      return ArgKind::tree;
    else if constexpr (StaticValue<D>) return ArgKind::static_value;
    else return ArgKind::traced_form_refused;
  } else if constexpr (StaticValue<D>) {
    return ArgKind::static_value;
  } else {
    return ArgKind::not_a_tree;
  }
}
template <class F, size_t I, class... Args>
inline constexpr bool arg_is_static = arg_kind<F, I, Args...>() == ArgKind::static_value;

template <ArgKind K> constexpr bool check_arg() {
  static_assert(K != ArgKind::not_a_tree,
                "nx::jit / nx::grad: an argument is neither a tree of tensors nor a static value. A struct "
                "holding tensors: register it with NX_TREE(Type, member, ...) after its definition (in its "
                "namespace). A struct of settings: give it operator== (bool operator==(const T&) const = "
                "default;) to pass it as a static argument.");
  static_assert(K != ArgKind::traced_form_refused,
                "nx::jit / nx::grad: the function cannot take this argument as traced tensors (numbers in a "
                "tree arrive as nx::Tensor): declare that parameter as nx::Tensor or as the tree of tensors.");
  static_assert(K != ArgKind::static_arg_not_comparable,
                "nx::static_arg: the value needs operator== (or to be a number, enum or string) to be part "
                "of the signature.");
  return K == ArgKind::tree || K == ArgKind::static_value;
}
// What a call with unusable arguments returns: it converts to anything, so that check_arg's
// message is the only error (the program is ill-formed anyway and never runs this).
struct UnusableArguments {
  template <class T> [[noreturn]] operator T() const { std::terminate(); }
};
// True when every argument is usable; otherwise fails to compile with check_arg's message.
template <class F, class... Args> constexpr bool check_args() {
  return []<size_t... I>(std::index_sequence<I...>) {
    return (check_arg<arg_kind<F, I, Args...>()>() && ...);
  }(std::index_sequence_for<Args...>{});
}

// The form in which f receives argument I while traced: the plain value when static,
// else the tree rebuilt around traced leaves.
template <bool IsStatic, class A> struct TracedArg {
  using type = const plain_t<A>&;
};
template <class A> struct TracedArg<false, A> {
  using type = unflattened_t<std::decay_t<A>>;
};
template <class F, size_t I, class... Args>
using traced_arg_t = typename TracedArg<arg_is_static<F, I, Args...>, std::tuple_element_t<I, std::tuple<Args...>>>::type;

template <bool IsStatic, class A> typename TracedArg<IsStatic, A>::type traced_arg(const A& arg, const Tensor*& it) {
  if constexpr (IsStatic) return plain(arg);
  else return TreeTraits<std::decay_t<A>>::unflatten(arg, it);
}

// Appends a static argument to the key: encoded exactly into `words` when it can be,
// else a hash word plus a pointer compared by operator== on lookup.
template <class A> void add_static(const A& arg, std::vector<int64_t>& words, std::vector<StaticArg>& statics) {
  const auto& value = plain(arg);
  using V = std::decay_t<decltype(value)>;  // a char array is a C string
  if constexpr (IsExactStatic<V>::value) {
    encode_static<V>(value, words);
  } else {
    if constexpr (requires { std::hash<V>{}(value); }) words.push_back(static_cast<int64_t>(std::hash<V>{}(value)));
    else words.push_back(0);  // operator== tells the values apart
    statics.push_back(StaticArg{&value, &static_arg_ops<V>, nullptr});
  }
}

}  // namespace detail

template <class F> class Jitted {
 public:
  Jitted(F f, JitOptions options)
      : f_(std::move(f)), cache_(std::make_shared<detail::JitCache>(std::move(options))) {}

  template <class... Args> auto operator()(const Args&... args) const {
    if constexpr (detail::check_args<F, Args...>()) return call(std::index_sequence_for<Args...>{}, args...);
    else return detail::UnusableArguments{};
  }

  // The optimised graph for these arguments (for printing: graph.str(), graph.dot()).
  template <class... Args> Graph graph(const Args&... args) const {
    if constexpr (detail::check_args<F, Args...>()) {
      std::vector<Tensor> leaves;
      std::vector<int64_t> structure;
      std::vector<detail::StaticArg> statics;
      flatten_args(std::index_sequence_for<Args...>{}, leaves, structure, statics, nullptr, args...);
      detail::JitTrace trace;
      std::vector<Tensor> params = trace.parameters(leaves);
      std::vector<Tensor> outs;
      tree_flatten(trace_call(std::index_sequence_for<Args...>{}, params, args...), outs);
      return trace.graph(outs);
    } else {
      return Graph(detail::UnusableArguments{});
    }
  }

  JitStats stats() const { return cache_->stats(); }
  int64_t compiles() const { return stats().compiles; }

 private:
  template <size_t... I, class... Args> auto call(std::index_sequence<I...> positions, const Args&... args) const {
    using Result = std::decay_t<std::invoke_result_t<const F&, detail::traced_arg_t<F, I, Args...>...>>;
    // Nested inside another trace: simply inline the function.
    if (detail::tracing()) return Result(f_(detail::plain(args)...));
    std::vector<Tensor> leaves;
    std::vector<int64_t> structure;
    std::vector<detail::StaticArg> statics;
    std::vector<bool> donated;  // per leaf, when some argument is donated
    detail::check_donate(cache_->options().donate, sizeof...(Args));
    leaves.reserve(sizeof...(Args));
    structure.reserve(2 * sizeof...(Args));
    flatten_args(positions, leaves, structure, statics, cache_->options().donate.empty() ? nullptr : &donated, args...);
    Backend& be = cache_->backend();
    detail::JitKey key =
        detail::JitCache::key(typeid(detail::ArgsTree<Args...>).hash_code(), structure, std::move(statics), leaves, be);
    auto entry = cache_->find(key);
    if (!entry) {
      struct Claim {  // gives the key up if tracing or compiling throws
        detail::JitCache& cache;
        const detail::JitKey& key;
        bool done = false;
        ~Claim() {
          if (!done) cache.abandon(key);
        }
      } claim{*cache_, key};
      detail::JitTrace trace;
      std::vector<Tensor> params = trace.parameters(leaves);
      auto result = std::make_shared<Result>(trace_call(positions, params, args...));
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

  // Tensor leaves of the tree arguments; static ones go into the key. `donated` (when
  // given) gets a flag per leaf.
  template <size_t... I, class... Args>
  void flatten_args(std::index_sequence<I...>, std::vector<Tensor>& leaves, std::vector<int64_t>& structure,
                    std::vector<detail::StaticArg>& statics, std::vector<bool>* donated, const Args&... args) const {
    auto flatten = [&]<size_t Position>(std::integral_constant<size_t, Position>, const auto& arg) {
      using A = std::remove_cvref_t<decltype(arg)>;
      if constexpr (detail::arg_is_static<F, Position, Args...>) detail::add_static(arg, structure, statics);
      else TreeTraits<std::decay_t<A>>::flatten(arg, leaves, structure);
      if (donated) {
        const std::vector<int>& d = cache_->options().donate;
        donated->resize(leaves.size(), std::find(d.begin(), d.end(), static_cast<int>(Position)) != d.end());
      }
    };
    (flatten(std::integral_constant<size_t, I>{}, args), ...);
  }

  // f applied to the arguments rebuilt around the trace's parameters.
  template <size_t... I, class... Args>
  auto trace_call(std::index_sequence<I...>, const std::vector<Tensor>& params, const Args&... args) const {
    const Tensor* it = params.data();
    // Braced init evaluates left to right, so leaves are consumed in order.
    auto traced_args = std::tuple<detail::traced_arg_t<F, I, Args...>...>{
        detail::traced_arg<detail::arg_is_static<F, I, Args...>>(args, it)...};
    return std::apply(f_, traced_args);
  }

  F f_;
  std::shared_ptr<detail::JitCache> cache_;
};

template <class F> Jitted<std::decay_t<F>> jit(F&& f, JitOptions options = {}) {
  return Jitted<std::decay_t<F>>(std::forward<F>(f), std::move(options));
}

}  // namespace nx
