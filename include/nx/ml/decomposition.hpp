// Principal component analysis and truncated SVD, as scikit-learn's PCA and TruncatedSVD:
// the same components (signs fixed as scikit-learn's svd_flip(u_based_decision=False):
// each component's largest-magnitude loading positive), explained variances and
// transforms.
//
//   auto pca = nx::ml::PCA::fit(x, {.components = 2});
//   nx::Tensor z = pca.transform(x);       // [samples, 2]
//   pca.explained_variance_ratio;          // [2]
//   auto svd = nx::ml::TruncatedSVD::fit(counts, {.components = 10});   // no centring
//
// The randomized solver (Halko, Martinsson and Tropp's range finder, as scikit-learn's
// randomized_svd) sketches the top components from a random Gaussian [*, k + 10] block
// and a few power iterations, each normalised by QR (scikit-learn normalises by LU in
// between; both span the same subspace, QR is better conditioned). Its random stream
// differs from scikit-learn's (nx::random, seeded by `seed`), so its results agree with
// scikit-learn's, and with the exact ones, only as far as the iterations converge: to
// rounding where the spectrum decays fast, to ~1.5e-4 relative in the trailing
// explained variances of digits' 10 components with the automatic 4 iterations (and
// ~4e-3 in those components; scikit-learn's own sketch is off by similar amounts); more
// n_iter brings it to rounding.
//
// x is read as for the scalers (nx/ml/preprocessing.hpp). components must be between 1
// and min(samples, features); bad options raise nx::ValueError naming the estimator.
#pragma once
#include <cstdint>
#include <tuple>

#include "nx/tensor.hpp"
#include "nx/tree.hpp"

namespace nx::ml {

struct RandomizedSvdOpts {
  nx::detail::NamedFieldsOnly named_fields_only;
  int64_t n_oversamples = 10;  // extra sketch columns beyond the components
  int64_t n_iter = -1;         // power iterations; -1: scikit-learn's "auto", 7 when
                               // components < 0.1 min(rows, columns), else 4
  uint64_t seed = 0;
};
// The top `components` singular triplets of a [m, n] (no centring): u [m, k], s [k]
// descending, vt [k, n], signs as svd_flip(u_based_decision=False). The sketch is taken
// on a's transpose when m < n (as scikit-learn), so its width is k + n_oversamples.
std::tuple<Tensor, Tensor, Tensor> randomized_svd(const Tensor& a, int64_t components, RandomizedSvdOpts opts = {},
                                                  Where where = Where::current());

// full: SVD of the centred data; covariance_eigh: the eigendecomposition of its
// [features, features] Gram matrix (one product over the samples, then a small eigh: for
// tall data, as Fashion-MNIST's 60000 x 784, far cheaper than the SVD, with the variances
// exact to rounding relative to the largest); randomized: randomized_svd of it. auto_:
// scikit-learn's rule: full when small (max(samples, features) <= 500), covariance_eigh
// when tall (features <= 1000 and samples >= 10 features), else randomized when components
// < 0.8 min(samples, features), else full.
enum class PCASolver { auto_, full, randomized, covariance_eigh };

struct PCAOpts {
  nx::detail::NamedFieldsOnly named_fields_only;
  int64_t components = 0;  // 0: min(samples, features)
  bool whiten = false;     // transformed components scaled to unit variance
  PCASolver solver = PCASolver::auto_;
  int64_t n_iter = -1;         // randomized: as RandomizedSvdOpts
  int64_t n_oversamples = 10;  // randomized: >= 1, as scikit-learn
  uint64_t seed = 0;           // randomized: the Gaussian sketch's key
};
struct PCA {
  bool whiten = false;
  PCASolver solver = PCASolver::full;  // the one that ran (auto_ resolved)
  Tensor mean;                         // [features]
  Tensor components;                   // [components, features], rows orthonormal
  Tensor explained_variance;           // [components], sample variance (n - 1) along each
  Tensor explained_variance_ratio;     // [components], of the total variance
  Tensor singular_values;              // [components]
  static PCA fit(const Tensor& x, PCAOpts opts = {}, Where where = Where::current());
  Tensor transform(const Tensor& x, Where where = Where::current()) const;
  Tensor inverse_transform(const Tensor& z, Where where = Where::current()) const;
};
NX_TREE(PCA, whiten, solver, mean, components, explained_variance, explained_variance_ratio, singular_values)

// randomized: randomized_svd (scikit-learn's default); exact: the full SVD, truncated
// (in place of scikit-learn's ARPACK, which with tol 0 converges to the same triplets).
enum class TruncatedSVDAlgorithm { randomized, exact };

struct TruncatedSVDOpts {
  nx::detail::NamedFieldsOnly named_fields_only;
  int64_t components = 2;
  TruncatedSVDAlgorithm algorithm = TruncatedSVDAlgorithm::randomized;
  int64_t n_iter = 5;  // randomized: power iterations (scikit-learn's default 5)
  int64_t n_oversamples = 10;
  uint64_t seed = 0;
};
// The SVD of x itself, not centred (latent semantic analysis on counts/tf-idf).
struct TruncatedSVD {
  Tensor components;                // [components, features], rows orthonormal
  Tensor explained_variance;        // [components]: the variance (ddof 0) of x's projection on each
  Tensor explained_variance_ratio;  // [components]: of the summed variance of x's features
  Tensor singular_values;           // [components]
  static TruncatedSVD fit(const Tensor& x, TruncatedSVDOpts opts = {}, Where where = Where::current());
  Tensor transform(const Tensor& x, Where where = Where::current()) const;          // x components^T
  Tensor inverse_transform(const Tensor& z, Where where = Where::current()) const;  // z components
};
NX_TREE(TruncatedSVD, components, explained_variance, explained_variance_ratio, singular_values)

}  // namespace nx::ml
