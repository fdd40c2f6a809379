// Control flow as graph nodes: the bodies are traced once into subgraphs, never unrolled.
//
//   auto [i, acc] = nx::while_loop(std::tuple{nx::scalar(0, nx::i64), x},
//       [](const auto& s) { return std::get<0>(s) < 10; },
//       [](const auto& s) { return std::tuple{std::get<0>(s) + 1, std::get<1>(s) * 2.0}; });
//   nx::Tensor y = nx::cond(x.sum() > 0, [&] { return x; }, [&] { return -x; });
//
// State and results are trees (see nx/jit.hpp). Tensors the bodies capture from the
// enclosing scope are passed to the node as extra inputs.
#pragma once
#include <functional>

#include "nx/jit.hpp"

namespace nx {

namespace detail {
using Leaves = std::vector<Tensor>;
using LeafFn = std::function<Leaves(const Leaves&)>;
// Runs or records the While node: `cond` returns one scalar, `body` the next state.
Leaves while_leaves(const Leaves& init, const LeafFn& cond, const LeafFn& body, Where where);
// Runs or records the Cond node: both branches return leaves of the same types.
Leaves cond_leaves(const Tensor& pred, const LeafFn& on_true, const LeafFn& on_false, Where where);
// Replays a body graph (of a While or Cond node) on `args`, one op at a time, in the
// current trace (or eagerly): how the gradient rules rebuild a body to differentiate it.
Leaves call_graph(const Graph& g, const Leaves& args);

template <class T> Leaves flat(const T& t) {
  Leaves l;
  tree_flatten(t, l);
  return l;
}
template <class T> auto unflat(const T& like, const Leaves& leaves) {
  const Tensor* it = leaves.data();
  return TreeTraits<T>::unflatten(like, it);
}
}  // namespace detail

// Repeats state = body(state) while cond(state) is true. cond returns a scalar (non-zero:
// true); body returns a state of the same structure, shapes and dtypes.
template <class State, class Cond, class Body>
auto while_loop(const State& init, Cond&& cond, Body&& body, Where where = Where::current()) {
  using S = unflattened_t<State>;
  const State& like = init;
  detail::Leaves out = detail::while_leaves(
      detail::flat(init), [&](const detail::Leaves& l) { return detail::Leaves{Tensor(cond(S(detail::unflat(like, l))))}; },
      [&](const detail::Leaves& l) { return detail::flat(body(S(detail::unflat(like, l)))); }, where);
  return S(detail::unflat(like, out));
}

// on_true() if pred (a scalar; non-zero is true) else on_false(). Both branches are traced
// and must return the same structure, shapes and dtypes.
template <class OnTrue, class OnFalse>
auto cond(const Tensor& pred, OnTrue&& on_true, OnFalse&& on_false, Where where = Where::current()) {
  using R = std::decay_t<std::invoke_result_t<OnTrue&>>;
  std::shared_ptr<R> like;
  detail::Leaves out = detail::cond_leaves(
      pred,
      [&](const detail::Leaves&) {
        like = std::make_shared<R>(on_true());
        return detail::flat(*like);
      },
      [&](const detail::Leaves&) { return detail::flat(R(on_false())); }, where);
  return R(detail::unflat(*like, out));
}

}  // namespace nx
