// Parameter trees <-> flat state dicts with PyTorch-style dotted names, for saving with
// safetensors or checkpoints:
//
//   std::map<std::string, std::vector<std::map<std::string, nx::Tensor>>> model = ...;
//   nx::io::TensorDict sd = nx::io::to_state_dict(model);  // "layers.0.weight", ...
//   nx::io::save_safetensors("model.safetensors", sd);
//   model = nx::io::from_state_dict(model, nx::io::load_safetensors("model.safetensors").tensors);
//
// Trees are nx's (see TreeTraits in nx/tree.hpp): Tensor leaves, std::map<std::string, T>,
// std::vector<T>, std::array<T, N>, std::pair and std::tuple. A name joins the path's parts
// with '.': map keys as they are, positions in sequences, pairs and tuples as decimal
// indices. A lone Tensor is named "". Other types with a TreeTraits specialisation are
// opaque: their leaves are numbered in flatten order ("opt.0", "opt.1", ...).
// Numbers (C++ arithmetic leaves) are not allowed: state dicts hold tensors.
#pragma once
#include <array>
#include <cstddef>
#include <map>
#include <set>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "nx/io.hpp"
#include "nx/jit.hpp"

namespace nx::io {

// Every leaf of `tree` under its dotted name. Throws ValueError when two leaves get the
// same name (a map key containing '.' can collide with a nested path).
template <class Tree>
TensorDict to_state_dict(const Tree& tree, Where where = Where::current());

// A tree shaped like `like` whose leaves come from `dict`. Every leaf's name must be in
// `dict` with the same dtype and shape as in `like`, and `dict` may hold no other names;
// otherwise ValueError naming the keys involved.
template <class Tree>
Tree from_state_dict(const Tree& like, const TensorDict& dict, Where where = Where::current());

}  // namespace nx::io

// ---- implementation ----
namespace nx::detail::state_dict {
using io::TensorDict;

template <class T> struct is_string_map : std::false_type {};
template <class V> struct is_string_map<std::map<std::string, V>> : std::true_type {};
template <class T> struct is_vector : std::false_type {};
template <class V> struct is_vector<std::vector<V>> : std::true_type {};
template <class T> struct is_std_array : std::false_type {};
template <class V, size_t N> struct is_std_array<std::array<V, N>> : std::true_type {};
template <class T> struct is_pair : std::false_type {};
template <class A, class B> struct is_pair<std::pair<A, B>> : std::true_type {};
template <class T> struct is_tuple : std::false_type {};
template <class... Ts> struct is_tuple<std::tuple<Ts...>> : std::true_type {};
template <class T> inline constexpr bool always_false = false;

inline std::string join_name(const std::string& prefix, const std::string& part) {
  return prefix.empty() ? part : prefix + "." + part;
}

// Calls leaf(name, tensor) for each leaf of `tree`.
template <class T, class F>
void for_each_named_leaf(const T& tree, const std::string& prefix, F& leaf) {
  if constexpr (std::is_same_v<T, Tensor>) {
    leaf(prefix, tree);
  } else if constexpr (std::is_arithmetic_v<T>) {
    static_assert(always_false<T>, "state dicts hold tensors: a tree with number leaves cannot be saved");
  } else if constexpr (is_string_map<T>::value) {
    for (const auto& [k, v] : tree) for_each_named_leaf(v, join_name(prefix, k), leaf);
  } else if constexpr (is_vector<T>::value || is_std_array<T>::value) {
    for (size_t i = 0; i < tree.size(); ++i) for_each_named_leaf(tree[i], join_name(prefix, std::to_string(i)), leaf);
  } else if constexpr (is_pair<T>::value) {
    for_each_named_leaf(tree.first, join_name(prefix, "0"), leaf);
    for_each_named_leaf(tree.second, join_name(prefix, "1"), leaf);
  } else if constexpr (is_tuple<T>::value) {
    [&]<size_t... I>(std::index_sequence<I...>) {
      (for_each_named_leaf(std::get<I>(tree), join_name(prefix, std::to_string(I)), leaf), ...);
    }(std::make_index_sequence<std::tuple_size_v<T>>{});
  } else {
    std::vector<Tensor> leaves;
    std::vector<int64_t> structure;
    TreeTraits<T>::flatten(tree, leaves, structure);
    for (size_t i = 0; i < leaves.size(); ++i) leaf(join_name(prefix, std::to_string(i)), leaves[i]);
  }
}

// A copy of `like` with each leaf replaced by get(name, like_leaf).
template <class T, class G>
T rebuild_named(const T& like, const std::string& prefix, G& get) {
  if constexpr (std::is_same_v<T, Tensor>) {
    return get(prefix, like);
  } else if constexpr (std::is_arithmetic_v<T>) {
    static_assert(always_false<T>, "state dicts hold tensors: a tree with number leaves cannot be loaded");
  } else if constexpr (is_string_map<T>::value) {
    T out;
    for (const auto& [k, v] : like) out.emplace(k, rebuild_named(v, join_name(prefix, k), get));
    return out;
  } else if constexpr (is_vector<T>::value) {
    T out;
    out.reserve(like.size());
    for (size_t i = 0; i < like.size(); ++i) out.push_back(rebuild_named(like[i], join_name(prefix, std::to_string(i)), get));
    return out;
  } else if constexpr (is_std_array<T>::value) {
    T out;
    for (size_t i = 0; i < like.size(); ++i) out[i] = rebuild_named(like[i], join_name(prefix, std::to_string(i)), get);
    return out;
  } else if constexpr (is_pair<T>::value) {
    auto first = rebuild_named(like.first, join_name(prefix, "0"), get);
    auto second = rebuild_named(like.second, join_name(prefix, "1"), get);
    return T{std::move(first), std::move(second)};
  } else if constexpr (is_tuple<T>::value) {
    return [&]<size_t... I>(std::index_sequence<I...>) {
      return T{rebuild_named(std::get<I>(like), join_name(prefix, std::to_string(I)), get)...};
    }(std::make_index_sequence<std::tuple_size_v<T>>{});
  } else {
    static_assert(std::is_convertible_v<unflattened_t<T>, T>,
                  "from_state_dict needs TreeTraits<T>::unflatten to return a T");
    std::vector<Tensor> leaves;
    std::vector<int64_t> structure;
    TreeTraits<T>::flatten(like, leaves, structure);
    for (size_t i = 0; i < leaves.size(); ++i) leaves[i] = get(join_name(prefix, std::to_string(i)), leaves[i]);
    const Tensor* it = leaves.data();
    return TreeTraits<T>::unflatten(like, it);
  }
}

inline std::string key(const std::string& name) { return "'" + name + "'"; }

}  // namespace nx::detail::state_dict

namespace nx::io {

template <class Tree>
TensorDict to_state_dict(const Tree& tree, Where where) {
  TensorDict out;
  auto leaf = [&](const std::string& name, const Tensor& t) {
    if (!out.emplace(name, t).second)
      throw ValueError("to_state_dict", "two leaves are both named " + detail::state_dict::key(name) +
                                            " (a map key containing '.' collides with a nested path)", where);
  };
  detail::state_dict::for_each_named_leaf(tree, std::string(), leaf);
  return out;
}

template <class Tree>
Tree from_state_dict(const Tree& like, const TensorDict& dict, Where where) {
  const char* op = "from_state_dict";
  std::set<std::string> used;
  auto get = [&](const std::string& name, const Tensor& want) -> Tensor {
    std::string key = detail::state_dict::key(name);
    if (!want.defined()) throw ValueError(op, "the template tree's leaf " + key + " is an undefined tensor", where);
    TensorType want_type{want.dtype(), want.shape()};
    auto it = dict.find(name);
    if (it == dict.end())
      throw ValueError(op, "missing key " + key + " (the tree has " + want_type.str() + " there)", where);
    if (!used.insert(name).second)
      throw ValueError(op, "two leaves of the tree are both named " + key, where);
    const Tensor& got = it->second;
    if (!got.defined()) throw ValueError(op, "key " + key + " holds an undefined tensor", where);
    TensorType got_type{got.dtype(), got.shape()};
    if (!(got_type == want_type))
      throw ValueError(op, "key " + key + " is " + got_type.str() + " in the state dict but " + want_type.str() +
                               " in the tree", where);
    return got;
  };
  Tree out = detail::state_dict::rebuild_named(like, std::string(), get);
  if (used.size() != dict.size()) {
    std::string extra;
    size_t n = 0;
    for (const auto& kv : dict) {
      if (used.count(kv.first)) continue;
      if (n < 10) extra += std::string(n ? ", " : "") + detail::state_dict::key(kv.first);
      ++n;
    }
    if (n > 10) extra += " and " + std::to_string(n - 10) + " more";
    throw ValueError(op, "unexpected key" + std::string(n > 1 ? "s" : "") + " in the state dict: " + extra, where);
  }
  return out;
}

}  // namespace nx::io
