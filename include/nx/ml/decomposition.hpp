// Principal component analysis, as scikit-learn's PCA with the full SVD: the same
// components (signs fixed as scikit-learn's svd_flip: each component's largest-magnitude
// loading positive), explained variances and transforms.
//
//   auto pca = nx::ml::PCA::fit(x, {.components = 2});
//   nx::Tensor z = pca.transform(x);       // [samples, 2]
//   pca.explained_variance_ratio;          // [2]
//
// x is read as for the scalers (nx/ml/preprocessing.hpp). components must be between 1
// and min(samples, features), else nx::ValueError naming PCA.fit.
#pragma once
#include <cstdint>

#include "nx/tensor.hpp"
#include "nx/tree.hpp"

namespace nx::ml {

struct PCAOpts {
  nx::detail::NamedFieldsOnly named_fields_only;
  int64_t components = 0;  // 0: min(samples, features)
  bool whiten = false;     // transformed components scaled to unit variance
};
struct PCA {
  bool whiten = false;
  Tensor mean;                      // [features]
  Tensor components;                // [components, features], rows orthonormal
  Tensor explained_variance;        // [components], sample variance (n - 1) along each
  Tensor explained_variance_ratio;  // [components], of the total variance
  Tensor singular_values;           // [components]
  static PCA fit(const Tensor& x, PCAOpts opts = {}, Where where = Where::current());
  Tensor transform(const Tensor& x, Where where = Where::current()) const;
  Tensor inverse_transform(const Tensor& z, Where where = Where::current()) const;
};
NX_TREE(PCA, whiten, mean, components, explained_variance, explained_variance_ratio, singular_values)

}  // namespace nx::ml
