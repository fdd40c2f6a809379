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
#include "nx/ops.hpp"

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

// JAX's fori_loop: state = body(i, state) for i = lower, ..., upper - 1 (i an i64 scalar
// tensor), as one While node.
template <class State, class Body>
auto fori_loop(int64_t lower, int64_t upper, const State& init, Body&& body, Where where = Where::current()) {
  Tensor stop = scalar(upper, DType::i64, where), one = scalar(int64_t{1}, DType::i64, where);
  auto out = while_loop(
      std::pair{scalar(lower, DType::i64, where), init},
      [&](const auto& s) { return less(s.first, stop, where); },
      [&](const auto& s) { return std::pair{add(s.first, one, where), body(s.first, s.second)}; }, where);
  return out.second;
}

// JAX's lax.scan over the leading axis of xs: (carry, y) = f(carry, xs[i]) for each i;
// returns the final carry and the ys stacked along a new leading axis. One While node
// (the first step runs before it, to learn y's shape).
template <class Carry, class F>
auto scan(F&& f, const Carry& init, const Tensor& xs, Where where = Where::current()) {
  if (xs.rank() == 0 || xs.shape()[0] == 0)
    throw ValueError("scan", "xs needs a leading axis with at least one step, got " + xs.shape().str(), where);
  int64_t n = xs.shape()[0];
  Shape step_shape;
  for (int a = 1; a < xs.rank(); ++a) step_shape.push_back(xs.shape()[a]);
  std::vector<int64_t> box = xs.shape().to_vector();
  box[0] = 1;
  auto step_at = [&](const Tensor& i) {
    std::vector<Tensor> starts(static_cast<size_t>(xs.rank()), scalar(0, DType::i64, where));
    starts[0] = i;
    return reshape(dynamic_slice(xs, starts, box, where), step_shape, where);
  };
  auto [carry0, y0] = f(init, step_at(scalar(0, DType::i64, where)));
  Shape ys_shape{n}, one_y{1};
  for (int a = 0; a < y0.rank(); ++a) ys_shape.push_back(y0.shape()[a]), one_y.push_back(y0.shape()[a]);
  Tensor ys = put_slice(zeros(ys_shape, y0.dtype(), where), std::vector<int64_t>(static_cast<size_t>(ys_shape.rank()), 0),
                        reshape(y0, one_y, where), where);
  auto out = fori_loop(1, n, std::pair{carry0, ys}, [&](const Tensor& i, const auto& s) {
    auto [c, y] = f(s.first, step_at(i));
    std::vector<Tensor> at(static_cast<size_t>(ys_shape.rank()), scalar(0, DType::i64, where));
    at[0] = i;
    return std::pair{c, dynamic_update_slice(s.second, reshape(y, one_y, where), at, where)};
  }, where);
  return std::pair{out.first, out.second};
}

}  // namespace nx
