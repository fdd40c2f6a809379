// k-means, as scikit-learn's KMeans (Lloyd's algorithm after greedy k-means++ seeding):
// the best of n_init runs by inertia. Each run is one compiled graph: the seeding a
// fori_loop, the iterations a while_loop, nothing on the host per step.
//
//   auto km = nx::ml::KMeans::fit(x, {.clusters = 10, .n_init = 10, .seed = 0});
//   nx::Tensor labels = km.predict(x);      // i64 [samples]
//   double inertia = km.inertia.item<double>();
//
// Random streams differ from scikit-learn's, so centres and labels agree with its up to
// a permutation of the clusters, and inertia to the local optimum found. x is read as for
// the scalers (nx/ml/preprocessing.hpp); more clusters than samples, or a bad option,
// raise nx::ValueError naming KMeans.fit.
#pragma once
#include <cstdint>

#include "nx/tensor.hpp"
#include "nx/tree.hpp"

namespace nx::ml {

enum class KMeansInit { kmeans_plus_plus, random };
struct KMeansOpts {
  nx::detail::NamedFieldsOnly named_fields_only;
  int64_t clusters = 8;
  KMeansInit init = KMeansInit::kmeans_plus_plus;
  int64_t n_init = 1;       // runs from different seeds; the lowest inertia wins
  int64_t max_iter = 300;
  double tol = 1e-4;        // stop when the centres move less (squared, summed) than
                            // tol times the mean variance of the features
  uint64_t seed = 0;
};
struct KMeans {
  Tensor centers;     // [clusters, features]
  Tensor inertia;     // scalar: the sum of squared distances to the nearest centre
  Tensor iterations;  // i64 scalar: Lloyd iterations of the winning run
  static KMeans fit(const Tensor& x, KMeansOpts opts = {}, Where where = Where::current());
  Tensor predict(const Tensor& x, Where where = Where::current()) const;    // i64 [samples]
  Tensor transform(const Tensor& x, Where where = Where::current()) const;  // distances [samples, clusters]
};
NX_TREE(KMeans, centers, inertia, iterations)

}  // namespace nx::ml
