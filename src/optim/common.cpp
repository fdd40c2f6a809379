#include "optim/common.hpp"

#include <cmath>
#include <sstream>
#include <string>
#include <vector>

namespace nx::optim::detail {
namespace {
std::string number(double v) {
  std::ostringstream s;
  s << v;
  return s.str();
}
}  // namespace

void check_rate(const std::string& op, const Rate& rate, const char* field, Where where) {
  if (rate.is_schedule()) {
    if (!rate.schedule()) throw ValueError(op, std::string(field) + " is an empty schedule", where);
    return;
  }
  if (!(rate.value() >= 0) || !std::isfinite(rate.value()))
    throw ValueError(op, std::string(field) + " must be a finite number >= 0, got " + number(rate.value()), where);
}

void check_finite(const std::string& op, const char* field, double v, Where where) {
  if (!std::isfinite(v)) throw ValueError(op, std::string(field) + " must be finite, got " + number(v), where);
}

void check_at_least(const std::string& op, const char* field, double v, double lo, Where where) {
  if (!(v >= lo) || !std::isfinite(v))
    throw ValueError(op, std::string(field) + " must be a finite number >= " + number(lo) + ", got " + number(v),
                     where);
}

void check_positive(const std::string& op, const char* field, double v, Where where) {
  if (!(v > 0) || !std::isfinite(v))
    throw ValueError(op, std::string(field) + " must be a finite number > 0, got " + number(v), where);
}

void check_unit(const std::string& op, const char* field, double v, bool one_ok, Where where) {
  if (!(v >= 0) || !(one_ok ? v <= 1 : v < 1))
    throw ValueError(op, std::string(field) + " must be in [0, 1" + (one_ok ? "]" : ")") + ", got " + number(v), where);
}

void leaf_slots(const std::vector<Tensor>& params, const std::string& prefix, const std::string& name,
                const std::string& owner, double init, std::vector<Slot>& out) {
  for (size_t i = 0; i < params.size(); ++i)
    out.push_back(Slot{prefix + name + "." + std::to_string(i), params[i].shape(), compute_dtype(params[i].dtype()),
                       init, owner});
}

Tensor rate_f64(const Rate& rate, const Step& step) {
  if (!rate.is_schedule()) return scalar(rate.value(), f64);
  Tensor r = rate.at(step.count);
  if (r.rank() != 0)
    throw ValueError("schedule", "a schedule must return a scalar, got shape " + r.shape().str(), step.where);
  return as_type(r, f64);
}

Tensor bias_correction(double b, const Tensor& t) { return 1.0 - pow(scalar(b, f64), t); }

}  // namespace nx::optim::detail
