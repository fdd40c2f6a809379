// Gaussian mixtures fitted by expectation-maximisation, as scikit-learn's GaussianMixture:
// full, tied, diagonal or spherical covariances, started from k-means labels (its
// init_params="kmeans"), random responsibilities or random samples, or from given
// weights / means / precisions; the best of n_init starts by the lower bound. The EM
// iterations of a start run in one while_loop of one compiled graph.
//
//   auto gm = nx::ml::GaussianMixture::fit(x, {.components = 3, .covariance_type = nx::ml::CovarianceType::full});
//   nx::Tensor labels = gm.predict(x);         // i64 [samples]
//   nx::Tensor p = gm.predict_proba(x);        // [samples, components]
//   double bic = gm.bic(x).item<double>();
//
// From the same start, the fitted state equals scikit-learn's to rounding (about 1e-13 on
// iris, wine and digits, tests/ml_cluster_test.cpp). The first start's k-means draws
// scikit-learn's numbers for the seed (nx/ml/cluster.hpp), so a one-start fit with the
// default k-means start equals scikit-learn's for that random_state; later starts and the
// random inits draw from nx::random. x is read as for the scalers
// (nx/ml/preprocessing.hpp); more components than samples, a bad option or initial value,
// or a component whose covariance is not positive definite (singleton or collapsed
// samples: raise reg_covar) raise nx::ValueError naming GaussianMixture.fit.
#pragma once
#include <cstdint>

#include "nx/tensor.hpp"
#include "nx/tree.hpp"

namespace nx::ml {

// The shape of each component's covariance (and of `covariances` below):
//   full:      its own matrix        [components, features, features]
//   tied:      one shared matrix     [features, features]
//   diag:      its own diagonal      [components, features]
//   spherical: its own variance      [components]
enum class CovarianceType { full, tied, diag, spherical };
// How each start chooses the first responsibilities (scikit-learn's init_params):
// kmeans: one-hot k-means labels (KMeans, one run); random: uniform numbers, normalised;
// random_from_data: one-hot at distinct random samples, one per component.
enum class GaussianMixtureInit { kmeans, random, random_from_data };

struct GaussianMixtureOpts {
  nx::detail::NamedFieldsOnly named_fields_only;
  int64_t components = 1;
  CovarianceType covariance_type = CovarianceType::full;
  double tol = 1e-3;        // stop when the lower bound changes by less
  double reg_covar = 1e-6;  // added to the covariances' diagonal
  int64_t max_iter = 100;   // EM iterations per start
  int64_t n_init = 1;       // starts; the highest lower bound wins
  GaussianMixtureInit init = GaussianMixtureInit::kmeans;
  // Initial values (scikit-learn's weights_init, means_init, precisions_init); those left
  // undefined come from the responsibilities of `init`. weights [components], summing to
  // 1; means [components, features]; precisions (inverse covariances) shaped as
  // `covariances` for the covariance_type.
  Tensor weights_init, means_init, precisions_init;
  uint64_t seed = 0;  // scikit-learn's random_state for the first k-means start (below 2^32)
};

struct GaussianMixture {
  CovarianceType covariance_type = CovarianceType::full;
  Tensor weights;              // [components], summing to 1
  Tensor means;                // [components, features]
  Tensor covariances;          // shaped by covariance_type, reg_covar included
  Tensor precisions;           // their inverses, the same shape
  Tensor precisions_cholesky;  // upper triangular U with precision = U U^T (full, tied);
                               // 1 / sqrt(covariance) (diag, spherical)
  Tensor converged;            // bool scalar: the winning start stopped by tol
  Tensor iterations;           // i64 scalar: its EM iterations
  Tensor lower_bound;          // scalar: its mean log-likelihood before its last M step
  static GaussianMixture fit(const Tensor& x, GaussianMixtureOpts opts = {}, Where where = Where::current());
  Tensor predict(const Tensor& x, Where where = Where::current()) const;        // i64 [samples]
  Tensor predict_proba(const Tensor& x, Where where = Where::current()) const;  // [samples, components]
  Tensor score_samples(const Tensor& x, Where where = Where::current()) const;  // log density [samples]
  Tensor score(const Tensor& x, Where where = Where::current()) const;          // its mean, a scalar
  // Information criteria (lower is better): -2 * log-likelihood of x plus the free
  // parameters times log(samples) (bic) or 2 (aic).
  Tensor bic(const Tensor& x, Where where = Where::current()) const;
  Tensor aic(const Tensor& x, Where where = Where::current()) const;
  int64_t free_parameters() const;  // scikit-learn's _n_parameters()
};
NX_TREE(GaussianMixture, covariance_type, weights, means, covariances, precisions, precisions_cholesky, converged,
        iterations, lower_bound)

}  // namespace nx::ml
