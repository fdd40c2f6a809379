// What every estimator checks of its inputs, with errors naming the estimator.
#pragma once
#include <string>
#include <vector>

#include "nx/tensor.hpp"

namespace nx::ml::detail {

// x as an estimator reads it: [samples, features] of a float dtype (integers and bool as
// f32). ValueError naming `who` for another rank, no samples, or (unless `nan_ok`, and
// only when x is concrete) a NaN.
Tensor features(const Tensor& x, const std::string& who, Where where, bool nan_ok = false);
// ValueError naming `who` unless every statistic computed from concrete x is finite: NaN
// or infinity in x reaches its column means, so checking those spares a pass over x
// (call features() with nan_ok, then this).
void check_finite(const std::vector<Tensor>& statistics, const std::string& who, Where where);
// features(), and `features` columns as the fitted estimator expects.
Tensor features(const Tensor& x, int64_t features, const std::string& who, Where where, bool nan_ok = false);
// y for x's samples: [samples] or [samples, targets], in `dtype`; no NaN.
Tensor targets(const Tensor& y, int64_t samples, DType dtype, const std::string& who, Where where);
// Sample weights for `samples` samples in `dtype`: ones when undefined; else [samples],
// non-negative, not all zero.
Tensor weights(const Tensor& w, int64_t samples, DType dtype, const std::string& who, Where where);
// Class labels (integers, or floats holding whole numbers) [samples] as ids 0 .. k-1 into
// `classes` (i64, ascending); ValueError naming `who` for another shape, fractions, or
// fewer than 2 classes.
struct ClassIds {
  Tensor ids, classes;
  int64_t count;
};
ClassIds class_ids(const Tensor& y, int64_t samples, const std::string& who, Where where);
// 1 where |scale| is below 10 machine epsilons of its dtype (scikit-learn's
// _handle_zeros_in_scale): a constant feature is left as it is.
Tensor nonzero_scale(const Tensor& scale);

}  // namespace nx::ml::detail
