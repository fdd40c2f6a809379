// Categorical features as numbers, as scikit-learn's OneHotEncoder (dense output) and
// OrdinalEncoder. Categories are the distinct values of each feature in the fit data,
// ascending, NaN (a missing value, as nx::io's CSV reader writes it) last as a category of
// its own.
//
//   auto enc = nx::ml::OneHotEncoder::fit(x_categorical);      // [samples, features]
//   nx::Tensor z = enc.transform(x);                           // [samples, sum of categories]
//
// x is read as for the scalers, NaN allowed. A value not seen in fit raises nx::ValueError
// naming the encoder unless handle_unknown says otherwise (only when x is concrete).
#pragma once
#include <cstdint>
#include <vector>

#include "nx/tensor.hpp"
#include "nx/tree.hpp"

namespace nx::ml {

enum class HandleUnknown { error, ignore };
struct OneHotEncoderOpts {
  nx::detail::NamedFieldsOnly named_fields_only;
  bool drop_first = false;  // drop each feature's first category (scikit-learn's drop="first")
  HandleUnknown handle_unknown = HandleUnknown::error;  // ignore: an unknown value encodes as all zeros
};
struct OneHotEncoder {
  std::vector<Tensor> categories;  // per feature, [categories] in x's dtype
  bool drop_first = false;
  bool ignore_unknown = false;
  static OneHotEncoder fit(const Tensor& x, OneHotEncoderOpts opts = {}, Where where = Where::current());
  Tensor transform(const Tensor& x, Where where = Where::current()) const;          // in x's dtype
  Tensor inverse_transform(const Tensor& z, Where where = Where::current()) const;  // unknown rows: NaN
};
NX_TREE(OneHotEncoder, categories, drop_first, ignore_unknown)

struct OrdinalEncoderOpts {
  nx::detail::NamedFieldsOnly named_fields_only;
  bool encode_unknown = false;  // scikit-learn's handle_unknown="use_encoded_value"
  double unknown_value = -1;    // what an unknown value encodes as then (NaN allowed)
};
// Each value replaced by the index of its category.
struct OrdinalEncoder {
  std::vector<Tensor> categories;
  bool encode_unknown = false;
  double unknown_value = -1;
  static OrdinalEncoder fit(const Tensor& x, OrdinalEncoderOpts opts = {}, Where where = Where::current());
  Tensor transform(const Tensor& x, Where where = Where::current()) const;  // in x's dtype
  Tensor inverse_transform(const Tensor& z, Where where = Where::current()) const;
};
NX_TREE(OrdinalEncoder, categories, encode_unknown, unknown_value)

}  // namespace nx::ml
