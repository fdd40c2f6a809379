// Trees: values made of Tensor leaves, which nx::jit, nx::grad, nx::while_loop and the
// state dicts take apart (flatten) and rebuild around other leaves (unflatten).
//
// Trees are Tensor leaves inside std::tuple, std::pair, std::array, std::vector and
// std::map<std::string, T>, nested freely, plus your own structs registered in one line:
//
//   struct Linear { nx::Tensor w, b; };
//   NX_TREE(Linear, w, b)                   // in Linear's namespace, every member in order
//   struct Mlp { std::vector<Linear> layers; std::string activation; };
//   NX_TREE(Mlp, layers, activation)
//
// A member of an NX_TREE struct that is a number, an enum or a std::string (or a
// container of those) is static: it is part of the tree's structure (and so of a jitted
// function's signature) and is copied, not traced. C++ numbers elsewhere in a tree are
// weakly typed tensor leaves.
//
//   Mlp next = nx::tree_map([](const nx::Tensor& t) { return t * 0.5; }, model);
//   Mlp stepped = nx::tree_map([&](const nx::Tensor& p, const nx::Tensor& g) { return p - lr * g; },
//                              model, grads);
#pragma once
#include <algorithm>
#include <array>
#include <bit>
#include <concepts>
#include <cstdint>
#include <cstring>
#include <map>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "nx/error.hpp"
#include "nx/tensor.hpp"

namespace nx {

// flatten(value, leaves, structure) appends the Tensor leaves and the words that tell this
// value's structure apart (lengths, names, static members) from others of its type;
// unflatten(like, it) rebuilds `like` taking its leaves from `it`. Specialise it for a type
// NX_TREE cannot describe (private members, base classes).
template <class T, class = void> struct TreeTraits;

template <class T>
concept Tree = requires(const T& t, std::vector<Tensor>& leaves, std::vector<int64_t>& structure) {
  TreeTraits<T>::flatten(t, leaves, structure);
};

template <class T>
using unflattened_t = decltype(TreeTraits<T>::unflatten(std::declval<const T&>(), std::declval<const Tensor*&>()));

namespace detail {

template <class T>
concept StringLike = std::is_same_v<T, std::string> || std::is_same_v<T, std::string_view> ||
                     std::is_same_v<T, const char*> || std::is_same_v<T, char*>;

// Values that encode exactly into signature words: numbers, enums, strings, and the
// standard containers of them.
template <class T>
struct IsExactStatic : std::bool_constant<std::is_arithmetic_v<T> || std::is_enum_v<T> || StringLike<T>> {};
template <class T> struct IsExactStatic<std::vector<T>> : IsExactStatic<T> {};
template <class T, size_t N> struct IsExactStatic<std::array<T, N>> : IsExactStatic<T> {};
template <class K, class V>
struct IsExactStatic<std::map<K, V>> : std::bool_constant<IsExactStatic<K>::value && IsExactStatic<V>::value> {};
template <class A, class B>
struct IsExactStatic<std::pair<A, B>> : std::bool_constant<IsExactStatic<A>::value && IsExactStatic<B>::value> {};
template <class... Ts> struct IsExactStatic<std::tuple<Ts...>> : std::bool_constant<(IsExactStatic<Ts>::value && ...)> {};

inline void encode_string(std::string_view s, std::vector<int64_t>& words) {
  words.push_back(static_cast<int64_t>(s.size()));
  for (size_t at = 0; at < s.size(); at += 8) {
    int64_t w = 0;
    std::memcpy(&w, s.data() + at, std::min<size_t>(8, s.size() - at));
    words.push_back(w);
  }
}

// Appends words that tell `v` apart from every other value of its type (self-delimiting,
// so values of a known sequence of types can follow one another).
template <class T> void encode_static(const T& v, std::vector<int64_t>& words) {
  static_assert(IsExactStatic<T>::value);
  if constexpr (std::is_enum_v<T>) {
    words.push_back(static_cast<int64_t>(v));
  } else if constexpr (std::is_same_v<T, long double>) {
    const double high = static_cast<double>(v);  // and the rest, exact for 80-bit long double
    words.push_back(std::bit_cast<int64_t>(high));
    words.push_back(std::bit_cast<int64_t>(static_cast<double>(v - static_cast<long double>(high))));
  } else if constexpr (std::is_floating_point_v<T>) {
    words.push_back(std::bit_cast<int64_t>(static_cast<double>(v)));  // bits: -0.0 and NaNs stay apart
  } else if constexpr (std::is_arithmetic_v<T>) {
    words.push_back(static_cast<int64_t>(v));
  } else if constexpr (std::is_pointer_v<T>) {  // a C string
    if (v == nullptr) words.push_back(-1);
    else encode_string(v, words);
  } else if constexpr (StringLike<T>) {
    encode_string(v, words);
  } else if constexpr (requires { std::tuple_size<T>::value; }) {  // pair, tuple, array
    std::apply([&](const auto&... x) { (encode_static(x, words), ...); }, v);
  } else if constexpr (requires { typename T::mapped_type; }) {  // map
    words.push_back(static_cast<int64_t>(v.size()));
    for (const auto& [key, value] : v) {
      encode_static(key, words);
      encode_static(value, words);
    }
  } else {  // vector
    words.push_back(static_cast<int64_t>(v.size()));
    using E = typename T::value_type;
    for (const E& x : v) encode_static(x, words);  // E, not auto: vector<bool> yields proxies
  }
}

// A member of an NX_TREE struct: a tree when the member can hold its traced form (a
// Tensor member can, an int member cannot), else a static value.
template <class M>
concept TreeMember = Tree<M> && std::is_assignable_v<M&, unflattened_t<M>>;
template <class M>
concept StaticMember = !TreeMember<M> && IsExactStatic<M>::value;

template <class M> void flatten_member(const M& m, std::vector<Tensor>& leaves, std::vector<int64_t>& structure) {
  static_assert(TreeMember<M> || StaticMember<M>,
                "NX_TREE: each member must be a tensor, a tree (a struct with NX_TREE, std::vector, "
                "std::map<std::string, T>, std::tuple, ...), or a static value: a number, an enum or a "
                "std::string, or a standard container of those");
  if constexpr (TreeMember<M>) TreeTraits<M>::flatten(m, leaves, structure);
  else encode_static(m, structure);
}
template <class M> void unflatten_member(M& m, const Tensor*& it) {
  if constexpr (TreeMember<M>) m = TreeTraits<M>::unflatten(m, it);  // static members keep their value
}

template <class T>
concept HasTreeMembers = requires(T& t, const T& c) {
  nx_tree_members(t);  // found by argument-dependent lookup: NX_TREE defines it next to T
  nx_tree_members(c);
};

}  // namespace detail

template <> struct TreeTraits<Tensor> {
  static void flatten(const Tensor& t, std::vector<Tensor>& out, std::vector<int64_t>&) { out.push_back(t); }
  static Tensor unflatten(const Tensor&, const Tensor*& it) { return *it++; }
};
template <class T> struct TreeTraits<T, std::enable_if_t<std::is_arithmetic_v<T>>> {
  static void flatten(T v, std::vector<Tensor>& out, std::vector<int64_t>&) { out.push_back(Tensor(v)); }
  static Tensor unflatten(T, const Tensor*& it) { return *it++; }
};
template <class... Ts>
  requires(Tree<Ts> && ...)
struct TreeTraits<std::tuple<Ts...>> {
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
template <class A, class B>
  requires Tree<A> && Tree<B>
struct TreeTraits<std::pair<A, B>> {
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
template <class T, size_t N>
  requires Tree<T>
struct TreeTraits<std::array<T, N>> {
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
template <class T>
  requires Tree<T>
struct TreeTraits<std::vector<T>> {
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
template <class T>
  requires Tree<T>
struct TreeTraits<std::map<std::string, T>> {
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
// Structs registered with NX_TREE: their members, in order.
template <class T> struct TreeTraits<T, std::enable_if_t<detail::HasTreeMembers<T>>> {
  static void flatten(const T& t, std::vector<Tensor>& out, std::vector<int64_t>& s) {
    std::apply([&](const auto&... m) { (detail::flatten_member(m, out, s), ...); }, nx_tree_members(t));
  }
  static T unflatten(const T& like, const Tensor*& it) {
    T r = like;
    std::apply([&](auto&... m) { (detail::unflatten_member(m, it), ...); }, nx_tree_members(r));
    return r;
  }
};

// Registers a struct as a tree: NX_TREE(Type, member, ...) after the struct, in the same
// namespace, naming every data member in declaration order (a structured binding checks
// the count). Members are tensors, trees, or static values (see the top of this file).
#define NX_TREE(Type, ...)                                          \
  inline auto nx_tree_members(Type& nx_tree_self) {                 \
    auto& [__VA_ARGS__] = nx_tree_self;                             \
    return std::tie(__VA_ARGS__);                                   \
  }                                                                 \
  inline auto nx_tree_members(const Type& nx_tree_self) {           \
    const auto& [__VA_ARGS__] = nx_tree_self;                       \
    return std::tie(__VA_ARGS__);                                   \
  }

template <class T> void tree_flatten(const T& t, std::vector<Tensor>& leaves) {
  std::vector<int64_t> structure;
  TreeTraits<std::decay_t<T>>::flatten(t, leaves, structure);
}

// `tree` with fn applied to each tensor leaf (fn: Tensor -> Tensor); numbers in the tree
// come to fn as weakly typed scalars.
template <class Fn, class T> unflattened_t<T> tree_map(Fn&& fn, const T& tree) {
  static_assert(Tree<T>, "nx::tree_map: the argument is not a tree (a struct of tensors needs NX_TREE(Type, member, ...))");
  std::vector<Tensor> leaves;
  std::vector<int64_t> structure;
  TreeTraits<T>::flatten(tree, leaves, structure);
  for (Tensor& t : leaves) t = Tensor(fn(std::as_const(t)));
  const Tensor* it = leaves.data();
  return TreeTraits<T>::unflatten(tree, it);
}

// fn applied leaf by leaf to two trees of the same structure (params and their gradients);
// the result has the structure of `a`. Throws ValueError when the structures differ.
template <class Fn, class T, class U>
unflattened_t<T> tree_map(Fn&& fn, const T& a, const U& b, Where where = Where::current()) {
  static_assert(Tree<T> && Tree<U>, "nx::tree_map: an argument is not a tree (a struct of tensors needs NX_TREE(Type, member, ...))");
  std::vector<Tensor> leaves_a, leaves_b;
  std::vector<int64_t> structure_a, structure_b;
  TreeTraits<T>::flatten(a, leaves_a, structure_a);
  TreeTraits<U>::flatten(b, leaves_b, structure_b);
  if (leaves_a.size() != leaves_b.size() || structure_a != structure_b)
    throw ValueError("tree_map", "the two trees differ in structure (" + std::to_string(leaves_a.size()) + " and " +
                                     std::to_string(leaves_b.size()) + " leaves, or other lengths, names or static members)",
                     where);
  for (size_t i = 0; i < leaves_a.size(); ++i) leaves_a[i] = Tensor(fn(std::as_const(leaves_a[i]), std::as_const(leaves_b[i])));
  const Tensor* it = leaves_a.data();
  return TreeTraits<T>::unflatten(a, it);
}

}  // namespace nx
