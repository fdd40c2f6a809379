// nx::vmap (JAX's vmap, Nx's vectorize) and the Jacobians built on it.
//
//   auto per_row = nx::vmap([](const nx::Tensor& x, const nx::Tensor& w) { return nx::dot(w, x); },
//                           {.in_axes = {0, nx::not_batched}});
//   nx::Tensor y = per_row(xs, w);          // xs (b, n), w (m, n) -> y (b, m)
//   nx::Tensor J = nx::jacrev(f)(x);        // shape f(x).shape + x.shape
//   nx::Tensor H = nx::hessian(loss)(x);    // jacfwd(jacrev(loss))
//
// in_axes holds one entry per positional argument: the axis of that argument's tensors
// (every leaf of a tree argument) that holds the examples (negative counts from the end),
// or nx::not_batched for an argument shared by every example. Empty: axis 0 everywhere.
// out_axes holds one entry per leaf of the result (in tree_flatten order), or one entry
// for all of them; empty: axis 0. The batch size comes from the batched arguments, which
// must agree; a result that does not depend on them is broadcast over the batch.
//
// How: f is traced once on one example's shapes (the batched axis removed) into a graph,
// which is then replayed node by node on the whole batch. Every value of the replay is
// either unbatched (the same for every example) or batched with the batch on axis 0, and
// each primitive has a batching rule that records one op on the batch (src/vmap.cpp):
// elementwise ops, select, as_type, bitcast, stop_grad, broadcast, reshape, transpose,
// reductions, argmax/argmin, cumulative ops, slice, put_slice, pad, concatenate, reverse,
// dot_general, gather, indexed_add/put, conv (batch folded into N), window reductions,
// window_scatter_max/min, sort, argsort, top_k and the linalg primitives (which batch over
// leading axes already). Constants and iota are unbatched.
// The other primitives fall back to a loop unrolled into the graph: each example is sliced
// out, the node replayed on it, and the results stacked (correct, but one node per
// example): while, cond, custom_grad, random_bits, host callbacks, conv with a batched
// kernel or batch groups, pad with a batched pad value, window_scatter with a batched init,
// and any primitive added later without a rule.
//
// The replay records ordinary ops, so vmap composes: inside nx::jit or nx::grad it inlines
// into the trace (grad of vmap, vmap of grad, vmap of vmap); outside a trace it runs the
// batched ops eagerly (wrap it in nx::jit to compile them together).
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "nx/grad.hpp"
#include "nx/jit.hpp"

namespace nx {

// An in_axes entry for an argument every example shares.
inline constexpr std::nullopt_t not_batched = std::nullopt;

struct VmapOpts {
  std::vector<std::optional<int>> in_axes;   // per positional argument; empty: 0 for each
  std::vector<std::optional<int>> out_axes;  // per result leaf, or one for all; empty: 0
};

namespace detail {
using TensorListFn = std::function<std::vector<Tensor>(const std::vector<Tensor>&)>;
// The batching transform on flat leaves: `axes` has one entry per leaf (nullopt: not
// batched), `out_axes` is VmapOpts::out_axes. fn receives one example's leaves.
std::vector<Tensor> vmap_leaves(const TensorListFn& fn, const std::vector<Tensor>& leaves,
                                const std::vector<std::optional<int>>& axes,
                                const std::vector<std::optional<int>>& out_axes, Where where);

enum class JacobianKind { reverse, forward, hessian };
// The Jacobian of fn at x (shape fn(x).shape + x.shape), inside the current trace.
Tensor jacobian(JacobianKind kind, const std::function<Tensor(const Tensor&)>& fn, const Tensor& x, Where where);
}  // namespace detail

template <class F> class Vmapped {
 public:
  Vmapped(F f, VmapOpts opts, Where where) : f_(std::move(f)), opts_(std::move(opts)), where_(where) {}

  template <class... Args> auto operator()(const Args&... args) const {
    static_assert((Tree<Args> && ...),
                  "nx::vmap: every argument must be a tensor or a tree of tensors (see nx/tree.hpp)");
    if (!opts_.in_axes.empty() && opts_.in_axes.size() != sizeof...(Args))
      throw ValueError("vmap", "in_axes has " + std::to_string(opts_.in_axes.size()) + " entries for " +
                                   std::to_string(sizeof...(Args)) + " arguments (one per argument, or none)",
                       where_);
    std::vector<Tensor> leaves;
    std::vector<std::optional<int>> axes;
    size_t position = 0;
    auto flatten = [&](const auto& arg) {
      std::vector<int64_t> structure;
      TreeTraits<std::decay_t<decltype(arg)>>::flatten(arg, leaves, structure);
      std::optional<int> axis = opts_.in_axes.empty() ? std::optional<int>(0) : opts_.in_axes[position];
      axes.resize(leaves.size(), axis);
      ++position;
    };
    (flatten(args), ...);
    using Result = std::decay_t<std::invoke_result_t<const F&, unflattened_t<std::decay_t<Args>>...>>;
    std::shared_ptr<Result> like;  // the result of the traced example, for its structure
    std::vector<Tensor> outs = detail::vmap_leaves(
        [&](const std::vector<Tensor>& example) {
          const Tensor* it = example.data();
          // Braced init evaluates left to right, so leaves are consumed in order.
          auto traced = std::tuple<unflattened_t<std::decay_t<Args>>...>{
              TreeTraits<std::decay_t<Args>>::unflatten(args, it)...};
          like = std::make_shared<Result>(std::apply(f_, traced));
          std::vector<Tensor> flat;
          tree_flatten(*like, flat);
          return flat;
        },
        leaves, axes, opts_.out_axes, where_);
    const Tensor* it = outs.data();
    return Result(TreeTraits<Result>::unflatten(*like, it));
  }

 private:
  F f_;
  VmapOpts opts_;
  Where where_;
};

// f mapped over a batch axis of its arguments: see the top of this file.
template <class F> Vmapped<std::decay_t<F>> vmap(F&& f, VmapOpts opts = {}, Where where = Where::current()) {
  return Vmapped<std::decay_t<F>>(std::forward<F>(f), std::move(opts), where);
}

// The Jacobian of f (tensor -> tensor) with respect to its argument I (a Tensor; the
// other arguments pass through): shape f(...).shape + x.shape. Like grad, jitted per
// signature outside a trace and inlined inside one.
template <detail::JacobianKind Kind, size_t I, class F> class Jacobian {
 public:
  Jacobian(F f, Where where) : f_(f), where_(where), jitted_(Call{std::move(f), where}, JitOptions{}) {}

  template <class... Args> Tensor operator()(const Args&... args) const {
    static_assert(I < sizeof...(Args), "nx::jacrev/jacfwd/hessian: argument index out of range");
    if (detail::tracing()) return traced(f_, where_, args...);
    return [&]<size_t... J>(std::index_sequence<J...>) {
      return jitted_(pass_to_jit<J, Args...>(args)...);
    }(std::index_sequence_for<Args...>{});
  }
  JitStats stats() const { return jitted_.stats(); }

  template <class... Args> static Tensor traced(const F& f, Where where, const Args&... args) {
    static_assert(std::is_same_v<std::decay_t<std::tuple_element_t<I, std::tuple<Args...>>>, Tensor>,
                  "nx::jacrev/jacfwd/hessian: the argument to differentiate must be an nx::Tensor");
    auto in = std::forward_as_tuple(args...);
    auto at = [&](const Tensor& x) -> Tensor {
      return [&]<size_t... J>(std::index_sequence<J...>) {
        return Tensor(f(pick<J>(x, std::get<J>(in))...));
      }(std::index_sequence_for<Args...>{});
    };
    return detail::jacobian(Kind, at, std::get<I>(in), where);
  }

 private:
  template <size_t J, class A> static decltype(auto) pick(const Tensor& x, const A& arg) {
    if constexpr (J == I) return (x);
    else return detail::plain(arg);
  }
  // Arguments f takes as plain values reach the jitted wrapper marked static (as grad).
  template <size_t J, class... Args, class A> static decltype(auto) pass_to_jit(const A& arg) {
    if constexpr (J != I && detail::arg_is_static<F, J, Args...>)
      return Static<const detail::plain_t<A>&>{detail::plain(arg)};
    else return (arg);
  }
  struct Call {
    F f;
    Where where;
    template <class... Args> Tensor operator()(const Args&... args) const { return traced(f, where, args...); }
  };
  F f_;
  Where where_;
  Jitted<Call> jitted_;
};

// Reverse mode: one VJP per output element, batched with vmap (cheap for few outputs).
template <size_t I = 0, class F> auto jacrev(F&& f, Where where = Where::current()) {
  return Jacobian<detail::JacobianKind::reverse, I, std::decay_t<F>>(std::forward<F>(f), where);
}
// Forward mode: one JVP per input element, batched with vmap (cheap for few inputs).
template <size_t I = 0, class F> auto jacfwd(F&& f, Where where = Where::current()) {
  return Jacobian<detail::JacobianKind::forward, I, std::decay_t<F>>(std::forward<F>(f), where);
}
// jacfwd(jacrev(f)): shape f(x).shape + x.shape + x.shape (x.shape twice for a scalar f).
template <size_t I = 0, class F> auto hessian(F&& f, Where where = Where::current()) {
  return Jacobian<detail::JacobianKind::hessian, I, std::decay_t<F>>(std::forward<F>(f), where);
}

}  // namespace nx
