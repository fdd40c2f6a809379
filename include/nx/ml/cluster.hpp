// Clustering, as scikit-learn's KMeans, MiniBatchKMeans and DBSCAN.
//
// KMeans: Lloyd's algorithm after greedy k-means++ seeding, the best of n_init runs by
// inertia. All runs are one compiled graph (their ops n_init times wider): the seeding a
// fori_loop, the iterations a while_loop, nothing on the host per step. The seeding's
// random numbers are scikit-learn's (numpy's MT19937 for random_state = seed, drawn on
// the host in its order), so on f64 data the runs start, and end, where scikit-learn's do:
// the same centres and labels, the inertia to rounding (on f32 data, where it computes
// distances in f64, a near tie may go another way).
//
//   auto km = nx::ml::KMeans::fit(x, {.clusters = 10, .n_init = 10, .seed = 0});
//   nx::Tensor labels = km.predict(x);      // i64 [samples]
//   double inertia = km.inertia.item<double>();
//
// MiniBatchKMeans draws from nx::random: it agrees with scikit-learn's up to a permutation
// of the clusters and the local optimum found. x is read as for
// the scalers (nx/ml/preprocessing.hpp); more clusters than samples, or a bad option,
// raise nx::ValueError naming the estimator (KMeans.fit, MiniBatchKMeans.fit, DBSCAN.fit).
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
  uint64_t seed = 0;        // scikit-learn's random_state (below 2^32): its starts
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

// scikit-learn's MiniBatchKMeans: seedings (k-means++ or random) on random subsets of
// init_size samples, the best of n_init on another random subset; then steps on batches of
// batch_size samples drawn with replacement, each centre moving to the mean of every
// sample it has been given so far (a per-centre learning rate 1 / count), centres with
// few samples moved to random batch samples (reassignment_ratio), and the early stops of
// scikit-learn (tol on the centres' squared shift, max_no_improvement on the smoothed
// batch inertia). Seeding and steps are one compiled graph (fori_loop, while_loop).
//
//   auto mb = nx::ml::MiniBatchKMeans::fit(x, {.clusters = 10, .batch_size = 256, .seed = 0});
//
// Random streams differ from scikit-learn's; as its own runs from different seeds, the
// inertia lands within a few % of Lloyd's (tests/ml_cluster_test.cpp).
struct MiniBatchKMeansOpts {
  nx::detail::NamedFieldsOnly named_fields_only;
  int64_t clusters = 8;
  KMeansInit init = KMeansInit::kmeans_plus_plus;
  int64_t n_init = 1;          // seedings tried; the lowest inertia on a validation subset wins
                               // (scikit-learn's n_init="auto": 1 for k-means++, 3 for random)
  int64_t batch_size = 1024;   // capped at the number of samples
  int64_t max_iter = 100;      // passes over the data: max_iter * samples / batch_size steps
  double tol = 0.0;            // stop when the centres move less (squared, summed) than tol
                               // times the mean variance of the features; 0: off
  int64_t max_no_improvement = 10;  // stop after this many steps without a lower smoothed
                                    // batch inertia; -1: off (scikit-learn's None)
  int64_t init_size = 0;       // samples per seeding; 0: 3 * batch_size, at least 3 * clusters
                               // (capped at the number of samples)
  double reassignment_ratio = 0.01;  // centres with fewer than this times the largest count
                                     // move to random batch samples; 0: never
  uint64_t seed = 0;
};
struct MiniBatchKMeans {
  Tensor centers;     // [clusters, features]
  Tensor inertia;     // scalar: the sum of squared distances of x to the nearest centre
  Tensor iterations;  // i64 scalar: passes over the data, ceil(steps * batch_size / samples)
  Tensor steps;       // i64 scalar: mini-batches processed
  static MiniBatchKMeans fit(const Tensor& x, MiniBatchKMeansOpts opts = {}, Where where = Where::current());
  Tensor predict(const Tensor& x, Where where = Where::current()) const;    // i64 [samples]
  Tensor transform(const Tensor& x, Where where = Where::current()) const;  // distances [samples, clusters]
};
NX_TREE(MiniBatchKMeans, centers, inertia, iterations, steps)

// scikit-learn's DBSCAN with the Euclidean metric: a sample with at least min_samples
// samples (itself included) within eps is a core sample; core samples within eps of each
// other share a cluster; any other sample within eps of a core sample joins a cluster of
// one of them, and the rest is noise (-1).
//
//   auto db = nx::ml::DBSCAN::fit(x, {.eps = 0.5, .min_samples = 5});
//   nx::Tensor labels = db.labels;  // i64 [samples], -1 for noise
//
// The labels equal scikit-learn's exactly, numbering included: clusters are numbered in
// the order of their first core sample, and a border sample within eps of core samples of
// several clusters takes the lowest numbered (the one scikit-learn's expansion reaches it
// from first). Distances at eps itself are decided as scikit-learn's k-d tree decides
// them (the summed squared differences against eps * eps). Needs [samples, samples] bytes
// of memory (and a distance matrix while they are found).
struct DBSCANOpts {
  nx::detail::NamedFieldsOnly named_fields_only;
  double eps = 0.5;         // the neighbourhood radius (inclusive)
  int64_t min_samples = 5;  // neighbours, the sample itself included, that make a core sample
};
struct DBSCAN {
  Tensor labels;               // i64 [samples]: clusters 0, 1, ...; -1 for noise
  Tensor core_sample_indices;  // i64 [cores], ascending
  Tensor components;           // [cores, features]: the core samples
  static DBSCAN fit(const Tensor& x, DBSCANOpts opts = {}, Where where = Where::current());
};
NX_TREE(DBSCAN, labels, core_sample_indices, components)

}  // namespace nx::ml
