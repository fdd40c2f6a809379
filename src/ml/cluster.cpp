#include "nx/ml/cluster.hpp"

#include <cmath>
#include <limits>
#include <tuple>

#include "ml/check.hpp"
#include "nx/nx.hpp"

namespace nx::ml {
namespace {

// Squared distances [n, k] from the rows of x to the rows of c, through one product
// (|x|^2 - 2 x.c + |c|^2, clamped at 0 against rounding).
Tensor sq_distances(const Tensor& x, const Tensor& c) {
  Tensor xx = sum(x * x, {.axes = {1}, .keep_axes = true});
  Tensor cc = sum(c * c, {.axes = {1}});
  return max(xx - 2.0 * dot(x, transpose(c)) + cc, 0.0);
}

// Greedy k-means++ (scikit-learn's _kmeans_plusplus): a first centre drawn uniformly, then
// each next one the best, by the sum of squared distances it leaves, of 2 + floor(ln k)
// candidates drawn with probability proportional to the squared distance to the nearest
// centre so far.
Tensor plus_plus(const Tensor& x, int64_t k, const Tensor& key) {
  int64_t n = x.dim(0), d = x.dim(1);
  int64_t trials = 2 + static_cast<int64_t>(std::log(static_cast<double>(k)));
  Tensor keys = random::split(key, 2);
  Tensor first = random::categorical(keys[0], zeros({n}, x.dtype()));
  Tensor centers = dynamic_update_slice(zeros({k, d}, x.dtype()), take(x, reshape(first, {1}), 0),
                                        {scalar(int64_t{0}, DType::i64), scalar(int64_t{0}, DType::i64)});
  Tensor closest = reshape(sq_distances(x, take(x, reshape(first, {1}), 0)), {n});
  auto out = fori_loop(1, k, std::tuple{centers, closest, keys[1]}, [&](const Tensor& i, const auto& s) {
    auto [cs, near, kk] = s;
    Tensor ks = random::split(kk, 2);
    Tensor candidates = random::categorical(ks[0], log(near), {.shape = Shape{trials}});
    Tensor points = take(x, candidates, 0);                              // [trials, d]
    Tensor left = min(transpose(sq_distances(x, points)), near);         // [trials, n]
    Tensor best = argmin(sum(left, {.axes = {1}}));
    Tensor row = take(points, reshape(best, {1}), 0);
    return std::tuple{dynamic_update_slice(cs, row, {i, scalar(int64_t{0}, DType::i64)}), take(left, best, 0), ks[1]};
  });
  return std::get<0>(out);
}

// k distinct samples in random order (scikit-learn's init="random").
Tensor random_rows(const Tensor& x, int64_t k, const Tensor& key) {
  Tensor order = argsort(random::uniform(key, {x.dim(0)}));
  return take(x, slice(order, {0}, {k}), 0);
}

// One run: seeding, then Lloyd's iterations until the centres move less than tol (the
// squared shift summed) or max_iter; the inertia of the final centres, summed exactly.
std::tuple<Tensor, Tensor, Tensor> run(const Tensor& x, const Tensor& key, int64_t k, int64_t max_iter, double tol,
                                       bool plus) {
  Tensor init = plus ? plus_plus(x, k, key) : random_rows(x, k, key);
  Tensor centered = x - mean(x, {.axes = {0}});
  Tensor tol_abs = tol * mean(mean(centered * centered, {.axes = {0}}));
  Tensor classes = iota({1, k}, DType::i64, 1);
  auto [centers, shift, iterations] = while_loop(
      std::tuple{init, full({}, std::numeric_limits<double>::infinity(), x.dtype()), scalar(int64_t{0}, DType::i64)},
      [&](const auto& s) { return logical_and(std::get<2>(s) < max_iter, std::get<1>(s) > tol_abs); },
      [&](const auto& s) {
        const Tensor& c = std::get<0>(s);
        Tensor labels = argmin(sq_distances(x, c), {.axis = 1, .keep_axes = true});  // [n, 1]
        Tensor onehot = as_type(equal(labels, classes), x.dtype());                   // [n, k]
        Tensor counts = expand_dims(sum(onehot, {.axes = {0}}), 1);                    // [k, 1]
        Tensor moved = nx::where(counts > 0.0, dot(transpose(onehot), x) / max(counts, 1.0), c);  // empty: stays
        Tensor step = moved - c;
        return std::tuple{moved, sum(step * step), std::get<2>(s) + int64_t{1}};
      });
  Tensor labels = argmin(sq_distances(x, centers), {.axis = 1});
  Tensor diff = x - take(centers, labels, 0);
  return {centers, sum(diff * diff), iterations};
}

}  // namespace

KMeans KMeans::fit(const Tensor& x, KMeansOpts opts, Where where) {
  const std::string who = "KMeans.fit";
  Tensor f = detail::features(x, who, where);
  if (opts.clusters < 1 || opts.clusters > f.dim(0))
    throw ValueError(who, "clusters must be between 1 and the number of samples (" + std::to_string(f.dim(0)) +
                              "), got " + std::to_string(opts.clusters),
                     where);
  if (opts.n_init < 1 || opts.max_iter < 1 || !(opts.tol >= 0))
    throw ValueError(who, "needs n_init >= 1, max_iter >= 1 and tol >= 0", where);
  static const auto compiled = jit([](const Tensor& v, const Tensor& key, int64_t k, int64_t max_iter, double tol,
                                      bool plus) { return run(v, key, k, max_iter, tol, plus); });
  Tensor keys = random::split(random::key(static_cast<int64_t>(opts.seed)), opts.n_init);
  KMeans best;
  double lowest = std::numeric_limits<double>::infinity();
  for (int64_t r = 0; r < opts.n_init; ++r) {
    auto [centers, inertia, iterations] =
        compiled(f, keys[r], opts.clusters, opts.max_iter, opts.tol, opts.init == KMeansInit::kmeans_plus_plus);
    double value = inertia.item<double>();
    if (value < lowest || r == 0) {
      lowest = value;
      best = {centers, inertia, iterations};
    }
  }
  return best;
}

Tensor KMeans::predict(const Tensor& x, Where where) const {
  Tensor f = detail::features(x, centers.dim(1), "KMeans.predict", where);
  return argmin(sq_distances(f, as_type(centers, f.dtype())), {.axis = 1});
}

Tensor KMeans::transform(const Tensor& x, Where where) const {
  Tensor f = detail::features(x, centers.dim(1), "KMeans.transform", where);
  return sqrt(sq_distances(f, as_type(centers, f.dtype())));
}

}  // namespace nx::ml
