// Helpers shared by the optimizers: argument checks, per-leaf state slots, and the f64
// scalars of a step. Public API only (nx/ops.hpp, nx/optim/optimizer.hpp).
#pragma once
#include <string>
#include <utility>
#include <vector>

#include "nx/ops.hpp"
#include "nx/optim/optimizer.hpp"

namespace nx::optim::detail {

// A transformation with a fixed name.
class Named : public Transform {
 public:
  explicit Named(std::string name) : name_(std::move(name)) {}
  std::string name() const override { return name_; }

 private:
  std::string name_;
};

// ValueError naming `op` unless the condition holds; `field` names the argument.
void check_rate(const std::string& op, const Rate& rate, const char* field, Where where);
void check_at_least(const std::string& op, const char* field, double v, double lo, Where where);  // v >= lo
void check_positive(const std::string& op, const char* field, double v, Where where);             // v > 0
void check_finite(const std::string& op, const char* field, double v, Where where);
// 0 <= v < 1 (a beta), or 0 <= v <= 1 with `one_ok`.
void check_unit(const std::string& op, const char* field, double v, bool one_ok, Where where);

// One slot "<prefix><name>.<i>" per parameter, shaped like it, in its compute dtype.
void leaf_slots(const std::vector<Tensor>& params, const std::string& prefix, const std::string& name,
                const std::string& owner, double init, std::vector<Slot>& out);

// The rate at this step (count updates applied so far), as an f64 scalar.
Tensor rate_f64(const Rate& rate, const Step& step);
// An f64 scalar as a scalar of `dtype` (the dtype of the tensors it multiplies).
inline Tensor in(const Tensor& scalar64, DType dtype) { return as_type(scalar64, dtype); }
// 1 - b^t, in f64.
Tensor bias_correction(double b, const Tensor& t);
// a + w * (b - a): PyTorch's lerp, which its optimizers use for the first moment.
inline Tensor lerp(const Tensor& a, const Tensor& b, double w) { return a + w * (b - a); }
// Adam's moments of leaf i, advanced by g and written back to the state:
// mu = lerp(mu, g, 1 - b1) (as PyTorch), nu = b2 nu + (1 - b2) g^2.
struct Moments {
  Tensor mu, nu;
};
inline Moments update_moments(State& state, const Step& step, size_t i, const Tensor& g, double b1, double b2) {
  const std::string mk = step.key("mu", i), nk = step.key("nu", i);
  Moments m{lerp(state.at(mk), g, 1.0 - b1), b2 * state.at(nk) + (1.0 - b2) * (g * g)};
  state[mk] = m.mu;
  state[nk] = m.nu;
  return m;
}

}  // namespace nx::optim::detail
