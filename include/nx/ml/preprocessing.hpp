// Feature scaling fitted on data, as scikit-learn's preprocessing (same attributes, same
// outputs). An estimator is a value: fit returns it, transform applies it.
//
//   auto scaler = nx::ml::StandardScaler::fit(x_train);   // x: [samples, features]
//   nx::Tensor z = scaler.transform(x_test);
//   nx::io::save_safetensors("scaler.safetensors", nx::io::to_state_dict(scaler));
//
// Inputs are [samples, features] of a float dtype (integers and bool are read as f32);
// results keep it. A NaN in fit's input (not while traced), a rank other than 2, no
// samples, or transform's input with another number of features raise nx::ValueError
// naming the estimator and the problem. Fitted states are trees (NX_TREE): they save and
// load through nx::io, and pass through nx::jit.
#pragma once
#include <cstdint>

#include "nx/tensor.hpp"
#include "nx/tree.hpp"

namespace nx::ml {

struct StandardScalerOpts {
  nx::detail::NamedFieldsOnly named_fields_only;
  bool with_mean = true;  // subtract the mean
  bool with_std = true;   // divide by the standard deviation
};
// (x - mean) / scale, scale the population standard deviation (1 for a constant feature).
// fit refuses NaN and infinity; transform passes NaN through, as scikit-learn's.
struct StandardScaler {
  bool with_mean = true, with_std = true;
  Tensor mean;   // [features]
  Tensor var;    // [features], ddof 0
  Tensor scale;  // [features]: sqrt(var), 1 where it is (nearly) 0; ones without with_std
  static StandardScaler fit(const Tensor& x, StandardScalerOpts opts = {}, Where where = Where::current());
  Tensor transform(const Tensor& x, Where where = Where::current()) const;
  Tensor inverse_transform(const Tensor& x, Where where = Where::current()) const;
};
NX_TREE(StandardScaler, with_mean, with_std, mean, var, scale)

struct MinMaxScalerOpts {
  nx::detail::NamedFieldsOnly named_fields_only;
  double feature_min = 0, feature_max = 1;  // scikit-learn's feature_range
  bool clip = false;  // clip transformed values to [feature_min, feature_max]
};
// Each feature mapped linearly from [data_min, data_max] onto [feature_min, feature_max]:
// x * scale + offset.
struct MinMaxScaler {
  bool clip = false;
  double feature_min = 0, feature_max = 1;
  Tensor data_min, data_max;  // [features]
  Tensor scale, offset;       // [features] (scikit-learn's scale_ and min_)
  static MinMaxScaler fit(const Tensor& x, MinMaxScalerOpts opts = {}, Where where = Where::current());
  Tensor transform(const Tensor& x, Where where = Where::current()) const;
  Tensor inverse_transform(const Tensor& x, Where where = Where::current()) const;
};
NX_TREE(MinMaxScaler, clip, feature_min, feature_max, data_min, data_max, scale, offset)

// x / max|x| per feature (1 for an all-zero feature): keeps zeros, and signs.
struct MaxAbsScaler {
  Tensor max_abs;  // [features]
  Tensor scale;    // [features]
  static MaxAbsScaler fit(const Tensor& x, Where where = Where::current());
  Tensor transform(const Tensor& x, Where where = Where::current()) const;
  Tensor inverse_transform(const Tensor& x, Where where = Where::current()) const;
};
NX_TREE(MaxAbsScaler, max_abs, scale)

struct RobustScalerOpts {
  nx::detail::NamedFieldsOnly named_fields_only;
  bool with_centering = true;   // subtract the median
  bool with_scaling = true;     // divide by the quantile range
  double q_min = 25, q_max = 75;  // percentiles, 0 < q_min < q_max < 100
};
// (x - median) / (percentile q_max - percentile q_min), numpy's linear percentiles: robust
// to outliers.
struct RobustScaler {
  bool with_centering = true, with_scaling = true;
  Tensor center;  // [features]: medians (zeros without with_centering)
  Tensor scale;   // [features]: the quantile ranges, 1 where 0 (ones without with_scaling)
  static RobustScaler fit(const Tensor& x, RobustScalerOpts opts = {}, Where where = Where::current());
  Tensor transform(const Tensor& x, Where where = Where::current()) const;
  Tensor inverse_transform(const Tensor& x, Where where = Where::current()) const;
};
NX_TREE(RobustScaler, with_centering, with_scaling, center, scale)

// Missing values (NaN, as nx::io's CSV reader writes them) replaced per feature by a
// statistic of the fit data's present values, as scikit-learn's SimpleImputer: the mean,
// the median, the most frequent value (the smallest on ties), or a constant. A feature
// with no present value in fit is a ValueError (scikit-learn drops it).
enum class ImputeStrategy { mean, median, most_frequent, constant };
struct SimpleImputerOpts {
  nx::detail::NamedFieldsOnly named_fields_only;
  ImputeStrategy strategy = ImputeStrategy::mean;
  double fill_value = 0;  // for constant
};
struct SimpleImputer {
  Tensor statistics;  // [features]: what replaces a NaN in each
  static SimpleImputer fit(const Tensor& x, SimpleImputerOpts opts = {}, Where where = Where::current());
  Tensor transform(const Tensor& x, Where where = Where::current()) const;
};
NX_TREE(SimpleImputer, statistics)

// Each sample (row) divided by its norm; all-zero rows stay zero. Stateless.
enum class Norm { l1, l2, max };
Tensor normalize(const Tensor& x, Norm norm = Norm::l2, Where where = Where::current());

}  // namespace nx::ml
