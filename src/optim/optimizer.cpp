// Optimizer: the checks around a transformation (parameters, gradients, state), the
// compute dtypes, the shared step count; chain; apply_updates.
#include "nx/optim/optimizer.hpp"

#include <cstdint>
#include <limits>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "optim/common.hpp"

namespace nx::optim {

namespace {
constexpr const char* kCount = "count";

std::string dtype_name(DType d) { return std::string(nx::name(d)); }

void check_params(const std::string& op, const std::vector<Tensor>& params, Where where) {
  for (size_t i = 0; i < params.size(); ++i) {
    if (!params[i].defined()) throw ValueError(op, "parameter " + std::to_string(i) + " is an undefined tensor", where);
    if (!is_float(params[i].dtype()))
      throw DTypeError(op,
                       "parameter " + std::to_string(i) + " has dtype " + dtype_name(params[i].dtype()) +
                           ": optimizers update float parameters (f16, bf16, f32, f64)",
                       where);
  }
}

std::string kept_by(const Slot& s, const std::string& op) {
  return s.owner.empty() || s.owner == op ? "" : " (kept by " + s.owner + ")";
}

// The state must hold exactly "count" and the slots, with their shapes and dtypes.
void check_state(const std::string& op, const State& state, const std::vector<Slot>& slots, Where where) {
  auto c = state.find(kCount);
  if (c == state.end() || !c->second.defined())
    throw ValueError(op, "the state has no \"count\": make it with this optimizer's init()", where);
  if (c->second.dtype() != i32 || c->second.rank() != 0)
    throw DTypeError(op,
                     "the state's \"count\" must be an i32 scalar, got " + dtype_name(c->second.dtype()) +
                         " of shape " + c->second.shape().str(),
                     where);
  std::set<std::string> expected{kCount};
  for (const Slot& s : slots) {
    expected.insert(s.key);
    auto it = state.find(s.key);
    if (it == state.end() || !it->second.defined())
      throw ValueError(op,
                       "the state has no entry \"" + s.key + "\"" + kept_by(s, op) +
                           ": it was made by another optimizer or for other parameters (make it with this optimizer's "
                           "init())",
                       where);
    const Tensor& t = it->second;
    if (t.shape() != s.shape)
      throw ShapeError(op,
                       "state entry \"" + s.key + "\"" + kept_by(s, op) + " has shape " + t.shape().str() +
                           " but needs " + s.shape.str() + ": the state was made for other parameters",
                       where);
    if (t.dtype() != s.dtype)
      throw DTypeError(op,
                       "state entry \"" + s.key + "\"" + kept_by(s, op) + " has dtype " + dtype_name(t.dtype()) +
                           " but needs " + dtype_name(s.dtype),
                       where);
  }
  for (const auto& [key, value] : state)
    if (!expected.count(key))
      throw ValueError(op,
                       "the state has an entry \"" + key +
                           "\" this optimizer does not keep: it was made by another optimizer or for more parameters",
                       where);
}

Tensor in_compute_dtype(const Tensor& t) {
  DType c = compute_dtype(t.dtype());
  return t.dtype() == c ? t : as_type(t, c);
}

class Chain final : public Transform {
 public:
  explicit Chain(std::vector<std::shared_ptr<const Transform>> parts) : parts_(std::move(parts)) {}
  std::string name() const override {
    std::string n = "chain(";
    for (size_t i = 0; i < parts_.size(); ++i) n += (i ? ", " : "") + parts_[i]->name();
    return n + ")";
  }
  void slots(const std::vector<Tensor>& params, const std::string& prefix, std::vector<Slot>& out) const override {
    for (size_t i = 0; i < parts_.size(); ++i) parts_[i]->slots(params, prefix + std::to_string(i) + ".", out);
  }
  std::vector<Tensor> update(std::vector<Tensor> updates, State& state, const Step& step) const override {
    for (size_t i = 0; i < parts_.size(); ++i) {
      Step part{step.params, step.count, step.prefix + std::to_string(i) + ".", step.where};
      updates = parts_[i]->update(std::move(updates), state, part);
    }
    return updates;
  }

 private:
  std::vector<std::shared_ptr<const Transform>> parts_;
};
}  // namespace

Tensor Rate::at(const Tensor& step) const {
  if (is_schedule_) return schedule_(step);
  return Tensor(value_);
}

void Transform::slots(const std::vector<Tensor>&, const std::string&, std::vector<Slot>&) const {}

DType compute_dtype(DType dtype) { return dtype == f16 || dtype == bf16 ? f32 : dtype; }

std::string Step::key(std::string_view name, size_t leaf) const {
  return prefix + std::string(name) + "." + std::to_string(leaf);
}
std::string Step::key(std::string_view name) const { return prefix + std::string(name); }
Tensor Step::t() const { return as_type(count, f64) + 1.0; }

Optimizer::Optimizer(std::shared_ptr<const Transform> impl) : impl_(std::move(impl)) {
  if (!impl_) throw ValueError("optim", "an Optimizer needs a transformation, got a null pointer");
}

void Optimizer::structure_mismatch(const char* what, size_t got, size_t want, Where where) const {
  throw ValueError(name(),
                   std::string(what) + " and the parameters differ in structure (" + std::to_string(got) + " and " +
                       std::to_string(want) + " leaves, or other lengths, names or static members)",
                   where);
}

State Optimizer::init_leaves(const std::vector<Tensor>& params, Where where) const {
  const std::string op = name();
  check_params(op, params, where);
  std::vector<Slot> slots;
  impl_->slots(params, "", slots);
  State state;
  for (const Slot& s : slots) {
    if (s.key == kCount || state.count(s.key))
      throw ValueError(op, "two state entries are named \"" + s.key + "\"", where);
    state.emplace(s.key, full(s.shape, s.init, s.dtype, where));
  }
  state.emplace(kCount, scalar(0, i32, where));
  return state;
}

std::vector<Tensor> Optimizer::update_leaves(const std::vector<Tensor>& grads, State& state,
                                             const std::vector<Tensor>& params, Where where) const {
  const std::string op = name();
  check_params(op, params, where);
  if (grads.size() != params.size())
    throw ValueError(
        op, "got " + std::to_string(grads.size()) + " gradients for " + std::to_string(params.size()) + " parameters",
        where);
  for (size_t i = 0; i < grads.size(); ++i) {
    if (!grads[i].defined()) throw ValueError(op, "gradient " + std::to_string(i) + " is an undefined tensor", where);
    if (grads[i].shape() != params[i].shape())
      throw ShapeError(op,
                       "gradient " + std::to_string(i) + " has shape " + grads[i].shape().str() +
                           " but its parameter has shape " + params[i].shape().str(),
                       where);
    if (grads[i].dtype() != params[i].dtype())
      throw DTypeError(op,
                       "gradient " + std::to_string(i) + " has dtype " + dtype_name(grads[i].dtype()) +
                           " but its parameter has dtype " + dtype_name(params[i].dtype()),
                       where);
  }
  std::vector<Slot> slots;
  impl_->slots(params, "", slots);
  check_state(op, state, slots, where);

  std::vector<Tensor> pc(params.size()), u(grads.size());
  for (size_t i = 0; i < params.size(); ++i) {
    pc[i] = in_compute_dtype(params[i]);
    u[i] = in_compute_dtype(grads[i]);
  }
  State next = state;
  const Tensor count = state.at(kCount);
  const Step step{pc, count, "", where};
  u = impl_->update(std::move(u), next, step);
  if (u.size() != params.size())
    throw ValueError(op,
                     "the transformation returned " + std::to_string(u.size()) + " updates for " +
                         std::to_string(params.size()) + " parameters",
                     where);
  for (size_t i = 0; i < u.size(); ++i) {
    if (!u[i].defined() || u[i].shape() != params[i].shape())
      throw ShapeError(op, "the transformation returned an update of another shape for parameter " + std::to_string(i),
                       where);
    if (u[i].dtype() != params[i].dtype()) u[i] = as_type(u[i], params[i].dtype(), where);
  }
  // count + 1, saturating as optax's safe_int32_increment.
  const Tensor top = scalar(std::numeric_limits<int32_t>::max(), i32, where);
  next[kCount] = select(less(count, top, where), add(count, scalar(1, i32, where), where), count, where);
  state = std::move(next);
  return u;
}

Optimizer chain(std::vector<Optimizer> parts) {
  std::vector<std::shared_ptr<const Transform>> impls;
  impls.reserve(parts.size());
  for (const Optimizer& p : parts) impls.push_back(p.impl());
  return Optimizer(std::make_shared<Chain>(std::move(impls)));
}

namespace detail {
void apply_updates_mismatch(size_t got, size_t want, Where where) {
  throw ValueError("apply_updates",
                   "the updates and the parameters differ in structure (" + std::to_string(got) + " and " +
                       std::to_string(want) + " leaves, or other lengths, names or static members)",
                   where);
}

Tensor apply_update(const Tensor& param, const Tensor& update, size_t leaf, Where where) {
  if (!param.defined() || !update.defined())
    throw ValueError("apply_updates", "parameter or update " + std::to_string(leaf) + " is an undefined tensor", where);
  if (param.shape() != update.shape())
    throw ShapeError("apply_updates",
                     "update " + std::to_string(leaf) + " has shape " + update.shape().str() +
                         " but its parameter has shape " + param.shape().str(),
                     where);
  Tensor r = add(param, update, where);
  return r.dtype() == param.dtype() ? r : as_type(r, param.dtype(), where);
}
}  // namespace detail

}  // namespace nx::optim
