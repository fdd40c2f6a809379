// Reverse-mode automatic differentiation over the traced graph.
//
//   auto loss = [](const Params& p, const nx::Tensor& x) { return nx::sum(nx::tanh(nx::dot(x, p.at("w")))); };
//   Params g = nx::grad(loss)(params, x);                 // same tree as the first argument
//   auto [value, grads] = nx::value_and_grad(loss)(params, x);
//   auto [gp, gx] = nx::grad<0, 1>(loss)(params, x);      // several arguments: a tuple
//
// The backward pass is recorded with ordinary ops, so it compiles together with the
// forward pass, goes through CSE/folding/DCE, and can itself be differentiated. Called
// outside a trace, a gradient function is jitted (cached per signature); inside nx::jit or
// another grad it is inlined. f must return a float scalar.
#pragma once
#include <functional>
#include <optional>
#include <tuple>
#include <type_traits>
#include <utility>

#include "nx/jit.hpp"

namespace nx {

namespace detail {
// A fresh graph value standing for `t`, so gradients flow to this use only.
Tensor grad_leaf(const Tensor& t, Where where);
// d y / d leaves by reverse accumulation over the trace; y must be a float scalar.
// Leaves y does not depend on get zeros; integer leaves get zeros of their dtype.
std::vector<Tensor> backprop(const Tensor& y, const std::vector<Tensor>& leaves, Where where);
// The vector-Jacobian product: sum_i seeds[i] * d ys[i] / d leaves (seeds shaped like ys;
// undefined seeds and non-float ys contribute nothing).
std::vector<Tensor> backprop(const std::vector<Tensor>& ys, const std::vector<Tensor>& seeds,
                             const std::vector<Tensor>& leaves, Where where);
// Forward mode through reverse mode: with y = fn(primals), returns J tangents (one per y),
// the derivative of the VJP u -> J^T u (linear in u) taken with respect to u.
std::vector<Tensor> jvp_leaves(const std::function<std::vector<Tensor>(const std::vector<Tensor>&)>& fn,
                               const std::vector<Tensor>& primals, const std::vector<Tensor>& tangents,
                               std::vector<Tensor>& ys, Where where);
}  // namespace detail

template <bool WithValue, class F, size_t... I> class Differentiated {
  static_assert(sizeof...(I) >= 1);

 public:
  Differentiated(F f, Where where) : f_(f), where_(where), jitted_(Call{std::move(f), where}, JitOptions{}) {}

  template <class... Args> auto operator()(const Args&... args) const {
    static_assert(((I < sizeof...(Args)) && ...), "nx::grad: argument index out of range");
    if constexpr (detail::check_args<F, Args...>() && differentiable<Args...>())
      return call(std::index_sequence_for<Args...>{}, args...);
    else return detail::UnusableArguments{};
  }

  JitStats stats() const { return jitted_.stats(); }
  // The optimised graph (forward and backward) compiled for these arguments' signature.
  template <class... Args> Graph graph(const Args&... args) const {
    if constexpr (detail::check_args<F, Args...>() && differentiable<Args...>()) {
      return [&]<size_t... J>(std::index_sequence<J...>) {
        return jitted_.graph(pass_to_jit<J, Args...>(args)...);
      }(std::index_sequence_for<Args...>{});
    } else {
      return Graph(detail::UnusableArguments{});
    }
  }

  // The gradient computed inside the current trace. Static arguments (see nx/jit.hpp)
  // reach f unchanged and have no gradient.
  template <class... Args> static auto traced(const F& f, Where where, const Args&... args) {
    [[maybe_unused]] constexpr bool checked = differentiable<Args...>();  // its message, if any
    auto in = std::forward_as_tuple(args...);
    std::vector<Tensor> leaves;
    auto prepared = prepare_all<Args...>(in, leaves, where, std::index_sequence_for<Args...>{});
    Tensor y = std::apply(f, prepared);
    std::vector<Tensor> grads = detail::backprop(y, leaves, where);
    const Tensor* it = grads.data();
    // Leaves were collected in argument order; I... is ascending, so unflatten in that order.
    auto result = std::tuple<unflattened_t<std::decay_t<std::tuple_element_t<I, std::tuple<Args...>>>>...>{
        TreeTraits<std::decay_t<std::tuple_element_t<I, std::tuple<Args...>>>>::unflatten(std::get<I>(in), it)...};
    if constexpr (sizeof...(I) == 1) {
      if constexpr (WithValue) return std::pair{y, std::get<0>(std::move(result))};
      else return std::get<0>(std::move(result));
    } else {
      if constexpr (WithValue) return std::pair{y, std::move(result)};
      else return result;
    }
  }

 private:
  static constexpr bool ascending() {
    size_t v[] = {I...};
    for (size_t k = 1; k < sizeof...(I); ++k)
      if (v[k] <= v[k - 1]) return false;
    return true;
  }
  static_assert(ascending(), "nx::grad<I...>: list argument indices in increasing order");

  template <class... Args> static constexpr bool differentiable() {
    constexpr bool none_static = (!detail::arg_is_static<F, I, Args...> && ...);
    static_assert(none_static, "nx::grad<I...>: an argument I names is static (not a tensor or a tree of tensors; "
                               "see nx/jit.hpp), so it has no gradient");
    return none_static;
  }

  template <size_t... J, class... Args> auto call(std::index_sequence<J...>, const Args&... args) const {
    if (detail::tracing()) return traced(f_, where_, args...);
    return jitted_(pass_to_jit<J, Args...>(args)...);
  }

  // The jitted wrapper takes any argument, so it cannot tell which ones f takes as plain
  // values: those that are static for f go to it marked (without a copy).
  template <size_t J, class... Args, class A> static decltype(auto) pass_to_jit(const A& arg) {
    if constexpr (detail::arg_is_static<F, J, Args...>) return Static<const detail::plain_t<A>&>{detail::plain(arg)};
    else return (arg);
  }

  template <size_t J, class... Args, class T>
  static detail::traced_arg_t<F, J, Args...> prepare(const T& arg, std::vector<Tensor>& leaves, Where where) {
    if constexpr (detail::arg_is_static<F, J, Args...>) {
      return detail::plain(arg);
    } else {
      std::vector<Tensor> mine;
      tree_flatten(arg, mine);
      if constexpr (((J == I) || ...))
        for (Tensor& t : mine) leaves.push_back(t = detail::grad_leaf(t, where));
      const Tensor* it = mine.data();
      return TreeTraits<std::decay_t<T>>::unflatten(arg, it);
    }
  }
  template <class... Args, class Tuple, size_t... J>
  static auto prepare_all(const Tuple& in, std::vector<Tensor>& leaves, Where where, std::index_sequence<J...>) {
    // Braced initialisation runs left to right: leaves come in argument order.
    return std::tuple<detail::traced_arg_t<F, J, Args...>...>{prepare<J, Args...>(std::get<J>(in), leaves, where)...};
  }

  struct Call {
    F f;
    Where where;
    template <class... Args> auto operator()(const Args&... args) const { return traced(f, where, args...); }
  };

  F f_;
  Where where_;
  Jitted<Call> jitted_;
};

// The gradient of f with respect to argument First (and Rest...): grad(f), grad<1>(f),
// grad<0, 2>(f). The result has the structure of those arguments.
template <size_t First = 0, size_t... Rest, class F>
auto grad(F&& f, Where where = Where::current()) {
  return Differentiated<false, std::decay_t<F>, First, Rest...>(std::forward<F>(f), where);
}
// The same returning (f's value, gradients).
template <size_t First = 0, size_t... Rest, class F>
auto value_and_grad(F&& f, Where where = Where::current()) {
  return Differentiated<true, std::decay_t<F>, First, Rest...>(std::forward<F>(f), where);
}

// Forward-mode derivative: jvp(f)(primals, tangents) returns {f(primals), the derivative
// of f at primals along tangents} (tangents: the structure and types of primals; the
// result's second part has the structure of f's result). For several arguments pass
// tuples: nx::jvp(f)(std::tuple{x, w}, std::tuple{dx, dw}). Jitted per signature like grad.
template <class F> class ForwardDerivative {
 public:
  ForwardDerivative(F f, Where where) : f_(f), where_(where), jitted_(Call{std::move(f), where}, JitOptions{}) {}

  template <class P> auto operator()(const P& primals, const P& tangents) const {
    if (detail::tracing()) return traced(f_, where_, primals, tangents);
    return jitted_(primals, tangents);
  }
  JitStats stats() const { return jitted_.stats(); }

  template <class P> static auto traced(const F& f, Where where, const P& primals, const P& tangents) {
    std::vector<Tensor> ps, ts, ys;
    tree_flatten(primals, ps);
    tree_flatten(tangents, ts);
    using Y = std::decay_t<decltype(call(f, primals))>;
    std::optional<Y> like;
    std::vector<Tensor> dys = detail::jvp_leaves(
        [&](const std::vector<Tensor>& leaves) {
          const Tensor* it = leaves.data();
          like.emplace(call(f, TreeTraits<P>::unflatten(primals, it)));
          std::vector<Tensor> out;
          tree_flatten(*like, out);
          return out;
        },
        ps, ts, ys, where);
    const Tensor* a = ys.data();
    const Tensor* b = dys.data();
    auto y = TreeTraits<Y>::unflatten(*like, a);
    return std::pair{y, TreeTraits<Y>::unflatten(*like, b)};
  }

 private:
  template <class P> static auto call(const F& f, const P& p) {
    if constexpr (is_tuple<P>::value) return std::apply(f, p);
    else return f(p);
  }
  template <class T> struct is_tuple : std::false_type {};
  template <class... T> struct is_tuple<std::tuple<T...>> : std::true_type {};

  struct Call {
    F f;
    Where where;
    template <class P> auto operator()(const P& primals, const P& tangents) const {
      return traced(f, where, primals, tangents);
    }
  };
  F f_;
  Where where_;
  Jitted<Call> jitted_;
};
template <class F> auto jvp(F&& f, Where where = Where::current()) {
  return ForwardDerivative<std::decay_t<F>>(std::forward<F>(f), where);
}

// x in the forward pass, no gradient through it.
Tensor stop_grad(const Tensor& x, Where where = Where::current());

// y's value with a user-supplied gradient rule: given g = d loss / d y, backward returns
// d loss / d inputs[i] (same types as the inputs; an undefined tensor means zero). The
// gradient reaches the inputs only through backward, never through how y was computed.
//   Tensor y = nx::log1p(nx::exp(x));
//   y = nx::custom_grad(y, {x}, [x](const nx::Tensor& g) { return std::vector{g * nx::sigmoid(x)}; });
// Inside a trace (grad, jit) backward is traced on the spot, and is differentiable again;
// called eagerly, custom_grad returns y (gradients are only taken in traces).
Tensor custom_grad(const Tensor& y, const std::vector<Tensor>& inputs,
                   const std::function<std::vector<Tensor>(const Tensor&)>& backward,
                   Where where = Where::current());

}  // namespace nx
