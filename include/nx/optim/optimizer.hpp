// nx::optim's core: an Optimizer is a gradient transformation (optax's
// GradientTransformation) over the flat leaves of a parameter tree, its State a flat map of
// tensors, and Rate a learning rate that is a number or a schedule of the step count.
//
//   nx::optim::Optimizer opt = nx::optim::adam(1e-3);
//   nx::optim::State state = opt.init(params);              // any tree: map, vector, NX_TREE struct
//   auto [updates, next] = opt.update(grads, state, params);
//   params = nx::optim::apply_updates(params, updates);     // params + updates, dtypes kept
//
// Everything is ordinary ops, so a whole step jits (and donates its arguments):
//
//   auto step = nx::jit([&](const Params& p, const nx::optim::State& s, const Params& g) {
//     auto [u, s2] = opt.update(g, s, p);
//     return std::pair{nx::optim::apply_updates(p, u), s2};
//   }, {.donate = {0, 1}});
//
// The state holds "count" (an i32 scalar: the updates applied so far, which schedules read)
// and each transformation's tensors under keys "<name>.<leaf>", e.g. "mu.3"; the parts of a
// chain prefix theirs with their position: "1.mu.3". It is a tree, so it jits, and a
// TensorDict, so it goes into a checkpoint as it is (nx/io/checkpoint.hpp).
//
// Precision: f16 and bf16 parameters are computed in f32 and their state is f32; f32 and
// f64 ones in their own dtype. Updates come back in each parameter's dtype. The scalars of
// a step (bias corrections, step sizes, schedule values) are computed in f64, as PyTorch
// computes them in Python floats.
#pragma once
#include <concepts>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "nx/error.hpp"
#include "nx/ops.hpp"
#include "nx/tree.hpp"

namespace nx::optim {

using State = std::map<std::string, Tensor>;
// A value of the step count: `step` is the number of updates already applied (a scalar,
// traced inside nx::jit); the result is a scalar.
using Schedule = std::function<Tensor(const Tensor& step)>;

// A learning rate (or any factor): a number, or a schedule of the step count.
//   nx::optim::adam(1e-3);  nx::optim::adam(nx::optim::cosine_decay(1e-3, 1000));
//   nx::optim::adam([](const nx::Tensor& step) { return 1e-3 / nx::sqrt(step + 1.0); });
class Rate {
 public:
  Rate(double value) : value_(value) {}  // NOLINT(google-explicit-constructor)
  Rate(Schedule schedule) : schedule_(std::move(schedule)), is_schedule_(true) {}  // NOLINT
  template <class F>
    requires(!std::is_arithmetic_v<std::decay_t<F>> && !std::same_as<std::decay_t<F>, Schedule> &&
             !std::same_as<std::decay_t<F>, Rate> && std::is_invocable_v<const F&, const Tensor&> &&
             std::is_convertible_v<std::invoke_result_t<const F&, const Tensor&>, Tensor>)
  Rate(F fn) : Rate(Schedule(std::move(fn))) {}  // NOLINT(google-explicit-constructor)

  // The value at `step` (a weakly typed scalar for a number).
  Tensor at(const Tensor& step) const;
  bool is_schedule() const { return is_schedule_; }
  double value() const { return value_; }  // the number (0 for a schedule)
  const Schedule& schedule() const { return schedule_; }

 private:
  double value_ = 0;
  Schedule schedule_;
  bool is_schedule_ = false;
};

// One state entry, as init creates it.
struct Slot {
  std::string key;  // the full key, e.g. "1.mu.0"
  Shape shape;
  DType dtype = f32;
  double init = 0;    // init fills it with this value
  std::string owner;  // the transformation keeping it, for messages
};

// What a transformation's update sees besides the updates and its state.
struct Step {
  const std::vector<Tensor>& params;  // in the compute dtype (f32 for f16/bf16 parameters)
  Tensor count;                       // i32 scalar: the updates applied before this one
  std::string prefix;                 // this transformation's keys begin with it ("" or "1.")
  Where where;
  // prefix + name + "." + leaf, and prefix + name.
  std::string key(std::string_view name, size_t leaf) const;
  std::string key(std::string_view name) const;
  // The number of this update (count + 1) as an f64 scalar, for bias corrections.
  Tensor t() const;
};

// A gradient transformation: what an Optimizer shares (immutable, so one Optimizer may
// serve several threads and jitted functions). Subclass it for transformations of your own.
class Transform {
 public:
  virtual ~Transform() = default;
  // The name errors carry: "adam", "chain(clip, sgd)".
  virtual std::string name() const = 0;
  // The state entries kept for these parameters (only their shapes and dtypes are read),
  // with keys beginning with `prefix`.
  virtual void slots(const std::vector<Tensor>& params, const std::string& prefix, std::vector<Slot>& out) const;
  // The next updates (in the compute dtype, one per parameter) from the incoming ones,
  // reading and replacing this transformation's entries of `state`. Parameters that are
  // not float never reach it.
  virtual std::vector<Tensor> update(std::vector<Tensor> updates, State& state, const Step& step) const = 0;
};

// The dtype parameters of `dtype` are computed in: f32 for f16/bf16, else their own.
DType compute_dtype(DType dtype);

class Optimizer {
 public:
  explicit Optimizer(std::shared_ptr<const Transform> impl);

  std::string name() const { return impl_->name(); }
  const std::shared_ptr<const Transform>& impl() const { return impl_; }

  // The state for these parameters (zeros, the step count 0).
  State init_leaves(const std::vector<Tensor>& params, Where where = Where::current()) const;
  // The updates to add to the parameters (one per parameter, in its dtype); replaces
  // `state` with the next state. Raises, naming the optimizer, when the gradients do not
  // match the parameters (count, shapes: ShapeError, dtypes: DTypeError) or the state is
  // not this optimizer's state for these parameters (ValueError, ShapeError, DTypeError);
  // `state` is then unchanged.
  std::vector<Tensor> update_leaves(const std::vector<Tensor>& grads, State& state, const std::vector<Tensor>& params,
                                    Where where = Where::current()) const;

  // The same over any tree of parameters (std::map, std::vector, NX_TREE structs, ...).
  template <class P> State init(const P& params, Where where = Where::current()) const {
    static_assert(Tree<P>,
                  "nx::optim: the parameters are not a tree (a struct of tensors needs NX_TREE(Type, member, ...))");
    std::vector<Tensor> leaves;
    tree_flatten(params, leaves);
    return init_leaves(leaves, where);
  }
  // (updates, next state); the updates have the structure of `grads`.
  template <class P>
  std::pair<P, State> update(const P& grads, const State& state, const P& params,
                             Where where = Where::current()) const {
    static_assert(Tree<P>,
                  "nx::optim: the parameters are not a tree (a struct of tensors needs NX_TREE(Type, member, ...))");
    std::vector<Tensor> g, p;
    std::vector<int64_t> sg, sp;
    TreeTraits<P>::flatten(grads, g, sg);
    TreeTraits<P>::flatten(params, p, sp);
    if (g.size() != p.size() || sg != sp) structure_mismatch("the gradients", g.size(), p.size(), where);
    State next = state;
    std::vector<Tensor> u = update_leaves(g, next, p, where);
    const Tensor* it = u.data();
    return {P(TreeTraits<P>::unflatten(grads, it)), std::move(next)};
  }

 private:
  [[noreturn]] void structure_mismatch(const char* what, size_t got, size_t want, Where where) const;
  std::shared_ptr<const Transform> impl_;
};

namespace detail {
[[noreturn]] void apply_updates_mismatch(size_t got, size_t want, Where where);
Tensor apply_update(const Tensor& param, const Tensor& update, size_t leaf, Where where);
}  // namespace detail

// params + updates, leaf by leaf, each result in its parameter's dtype (optax.apply_updates).
template <class P> P apply_updates(const P& params, const P& updates, Where where = Where::current()) {
  static_assert(Tree<P>, "nx::optim::apply_updates: the parameters are not a tree");
  std::vector<Tensor> p, u;
  std::vector<int64_t> sp, su;
  TreeTraits<P>::flatten(params, p, sp);
  TreeTraits<P>::flatten(updates, u, su);
  if (p.size() != u.size() || sp != su) detail::apply_updates_mismatch(u.size(), p.size(), where);
  for (size_t i = 0; i < p.size(); ++i) p[i] = detail::apply_update(p[i], u[i], i, where);
  const Tensor* it = p.data();
  return P(TreeTraits<P>::unflatten(params, it));
}

// The parts applied one after another, each to the updates of the one before (optax.chain).
// Each part keeps its state under its position ("0.", "1.", ...); all share "count".
Optimizer chain(std::vector<Optimizer> parts);

}  // namespace nx::optim
