#include "ml/check.hpp"

#include <limits>

#include "nx/nx.hpp"

namespace nx::ml::detail {

Tensor features(const Tensor& x, const std::string& who, Where where, bool nan_ok) {
  if (!x.defined()) throw ValueError(who, "the input tensor is undefined", where);
  if (x.rank() != 2)
    throw ValueError(who, "expects [samples, features], got shape " + x.shape().str(), where);
  if (x.dim(0) == 0) throw ValueError(who, "got no samples (shape " + x.shape().str() + ")", where);
  Tensor f = is_float(x.dtype()) ? x : as_type(x, DType::f32, where);
  if (!nan_ok && !f.is_traced() && any(is_nan(f)).item<bool>())
    throw ValueError(who, "the input holds NaN (impute missing values first)", where);
  return f;
}

Tensor features(const Tensor& x, int64_t count, const std::string& who, Where where) {
  Tensor f = features(x, who, where);
  if (f.dim(1) != count)
    throw ValueError(who, "expects " + std::to_string(count) + " features (as fitted), got " +
                              std::to_string(f.dim(1)) + " (shape " + x.shape().str() + ")", where);
  return f;
}

Tensor targets(const Tensor& y, int64_t samples, DType dtype, const std::string& who, Where where) {
  if (!y.defined()) throw ValueError(who, "the targets tensor is undefined", where);
  if ((y.rank() != 1 && y.rank() != 2) || y.dim(0) != samples)
    throw ValueError(who, "expects targets [" + std::to_string(samples) + "] or [" + std::to_string(samples) +
                              ", targets] for " + std::to_string(samples) + " samples, got shape " + y.shape().str(),
                     where);
  Tensor t = as_type(y, dtype, where);
  if (!t.is_traced() && any(is_nan(t)).item<bool>()) throw ValueError(who, "the targets hold NaN", where);
  return t;
}

Tensor weights(const Tensor& w, int64_t samples, DType dtype, const std::string& who, Where where) {
  if (!w.defined()) return ones({samples}, dtype);
  if (w.rank() != 1 || w.dim(0) != samples)
    throw ValueError(who, "expects sample_weight [" + std::to_string(samples) + "], got shape " + w.shape().str(),
                     where);
  Tensor t = as_type(w, dtype, where);
  if (!t.is_traced()) {
    if (any(is_nan(t) | (t < 0.0)).item<bool>())
      throw ValueError(who, "sample_weight must be non-negative numbers", where);
    if (!any(t > 0.0).item<bool>()) throw ValueError(who, "sample_weight is zero everywhere", where);
  }
  return t;
}

Tensor nonzero_scale(const Tensor& scale) {
  double eps = scale.dtype() == DType::f64 ? std::numeric_limits<double>::epsilon()
                                           : std::numeric_limits<float>::epsilon();
  return where(abs(scale) < 10 * eps, ones_like(scale), scale);
}

}  // namespace nx::ml::detail
