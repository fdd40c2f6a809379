#include "nx/ml/cluster.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <string>
#include <tuple>
#include <vector>

#include "ml/check.hpp"
#include "ml/legacy_random.hpp"
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

// Squared distances [samples, clusters] from x, read as the fitted estimator expects, to
// its centres.
Tensor to_centers(const Tensor& centers, const Tensor& x, const char* who, Where where) {
  Tensor f = detail::features(x, centers.dim(1), who, where);
  return sq_distances(f, as_type(centers, f.dtype()));
}

// Rows `pick` [runs] of m [runs, rows, cols]: one row per run, [runs, cols].
Tensor row_per_run(const Tensor& m, const Tensor& pick) {
  int64_t runs = m.dim(0), rows = m.dim(1);
  Tensor flat = reshape(m, {runs * rows, m.dim(2)});
  return take(flat, pick + iota({runs}, DType::i64) * rows, 0);
}

// Greedy k-means++ (scikit-learn's _kmeans_plusplus) for `runs` independent starts at
// once ([runs, k, d]; one graph whose ops are runs times larger, not runs graphs): a
// first centre drawn uniformly, then each next one the best, by the sum of squared
// distances it leaves, of 2 + floor(ln k) candidates drawn with probability proportional
// to the squared distance to the nearest centre so far.
Tensor plus_plus(const Tensor& x, int64_t k, const Tensor& key, int64_t runs) {
  int64_t n = x.dim(0), d = x.dim(1);
  int64_t trials = 2 + static_cast<int64_t>(std::log(static_cast<double>(k)));
  Tensor xx = sum(x * x, {.axes = {1}});  // [n]
  // Squared distances [..., n] from points [..., d] to every sample.
  auto to_all = [&](const Tensor& points) {
    Tensor pp = expand_dims(sum(points * points, {.axes = {points.rank() - 1}}), points.rank() - 1);
    return max(xx - 2.0 * dot(points, {points.rank() - 1}, x, {1}) + pp, 0.0);
  };
  Tensor zero = scalar(int64_t{0}, DType::i64);
  Tensor keys = random::split(key, 2);
  Tensor first = take(x, random::categorical(keys[0], zeros({runs, n}, x.dtype())), 0);  // [runs, d]
  Tensor centers = dynamic_update_slice(zeros({runs, k, d}, x.dtype()), reshape(first, {runs, 1, d}), {zero, zero, zero});
  auto out = fori_loop(1, k, std::tuple{centers, to_all(first), keys[1]}, [&](const Tensor& i, const auto& s) {
    auto [cs, near, kk] = s;                                                 // near [runs, n]
    Tensor ks = random::split(kk, 2);
    Tensor candidates = random::categorical(ks[0], log(near), {.shape = Shape{trials, runs}});  // [trials, runs]
    Tensor points = take(x, candidates, 0);                                  // [trials, runs, d]
    Tensor left = min(to_all(points), near);                                 // [trials, runs, n]
    Tensor best = argmin(sum(left, {.axes = {2}}), {.axis = 0});             // [runs]
    Tensor row = row_per_run(transpose(points, {1, 0, 2}), best);           // [runs, d]
    Tensor nearest = row_per_run(transpose(left, {1, 0, 2}), best);         // [runs, n]
    return std::tuple{dynamic_update_slice(cs, reshape(row, {runs, 1, d}), {zero, i, zero}), nearest, ks[1]};
  });
  return std::get<0>(out);
}

// k distinct samples in random order (scikit-learn's init="random"), per run.
Tensor random_rows(const Tensor& x, int64_t k, const Tensor& key, int64_t runs) {
  Tensor order = argsort(random::uniform(key, {runs, x.dim(0)}), {.axis = 1});
  return take(x, slice(order, {0, 0}, {runs, k}), 0);  // [runs, k, d]
}

// One start's centres [k, d].
Tensor seed_centers(const Tensor& x, int64_t k, const Tensor& key, bool plus) {
  Tensor c = plus ? plus_plus(x, k, key, 1) : random_rows(x, k, key, 1);
  return reshape(c, {k, x.dim(1)});
}

// k-means++ from scikit-learn's own draws (see KMeans::fit): `first` [runs] the first
// centres, `uniforms` [runs, k - 1, trials] the numbers each later step scales by the
// potential and looks up in the cumulative squared distances (numpy's searchsorted), so
// each run picks the centres scikit-learn's picks for the same random_state. x centred.
Tensor plus_plus_drawn(const Tensor& x, const Tensor& first, const Tensor& uniforms) {
  int64_t n = x.dim(0), d = x.dim(1), runs = first.dim(0), k = uniforms.dim(1) + 1;
  Tensor xx = sum(x * x, {.axes = {1}});
  auto to_all = [&](const Tensor& points) {  // squared distances [..., n] of points [..., d]
    Tensor pp = expand_dims(sum(points * points, {.axes = {points.rank() - 1}}), points.rank() - 1);
    return max(xx - 2.0 * dot(points, {points.rank() - 1}, x, {1}) + pp, 0.0);
  };
  Tensor zero = scalar(int64_t{0}, DType::i64);
  Tensor rows = take(x, first, 0);  // [runs, d]
  Tensor centers = dynamic_update_slice(zeros({runs, k, d}, x.dtype()), reshape(rows, {runs, 1, d}), {zero, zero, zero});
  if (k == 1) return centers;  // (the loop's body is traced even for no trips)
  Tensor closest = to_all(rows);  // [runs, n]
  auto out = fori_loop(1, k, std::tuple{centers, closest, sum(closest, {.axes = {1}})}, [&](const Tensor& i, const auto& s) {
    auto [cs, near, pot] = s;
    Tensor u = reshape(dynamic_slice(uniforms, {zero, i - int64_t{1}, zero}, {runs, 1, uniforms.dim(2)}), {runs, -1});
    Tensor wanted = u * expand_dims(pot, 1);                                         // [runs, trials]
    Tensor cumulative = expand_dims(cumulative_sum(near, {.axis = 1}), 1);            // [runs, 1, n]
    // searchsorted (left): the entries below; counted in floats, which fused kernels take
    Tensor ids = as_type(sum(as_type(cumulative < expand_dims(wanted, 2), x.dtype()), {.axes = {2}}), DType::i64);
    Tensor points = take(x, min(ids, n - 1), 0);                                     // [runs, trials, d]
    Tensor left = min(to_all(points), expand_dims(near, 1));                         // [runs, trials, n]
    Tensor potentials = sum(left, {.axes = {2}});                                    // [runs, trials]
    Tensor best = argmin(potentials, {.axis = 1});                                   // [runs]
    return std::tuple{dynamic_update_slice(cs, reshape(row_per_run(points, best), {runs, 1, d}), {zero, i, zero}),
                      row_per_run(left, best), reshape(row_per_run(expand_dims(potentials, 2), best), {runs})};
  });
  return std::get<0>(out);
}

// Lloyd's iterations for several runs at once on centred x (centres [runs, k, d]), in one
// while_loop, until at most `stop_at` runs are still moving: a run stops when its centres
// moved less than tol_abs (the squared shift summed) or it reached max_iter, and its
// centres then stay as they are, so each run ends as it would alone. Returns the centres,
// the last shifts and the iterations, each per run.
struct Lloyd {
  const Tensor& x;
  int64_t k;
  Tensor xx, classes;
  explicit Lloyd(const Tensor& v, int64_t clusters)
      : x(v), k(clusters), xx(reshape(sum(v * v, {.axes = {1}}), {v.dim(0), 1, 1})),
        classes(iota({1, 1, clusters}, v.dtype(), 2)) {}
  Tensor distances(const Tensor& c) const {  // [n, runs, k]
    return max(xx - 2.0 * dot(x, {1}, c, {2}) + expand_dims(sum(c * c, {.axes = {2}}), 0), 0.0);
  }
  // Labels as floats: the nearest centre's index, the first of equal ones (argmin's), from
  // a min, a compare and a min over the same row, which a fusing backend makes one kernel
  // (argmin and integer compares run node by node: 40% of a digits fit). [n, runs, 1]
  Tensor nearest(const Tensor& dist) const {
    Tensor closest = reduce_min(dist, {.axes = {2}, .keep_axes = true});
    return reduce_min(nx::where(equal(dist, closest), classes, static_cast<double>(k)), {.axes = {2}, .keep_axes = true});
  }
};

std::tuple<Tensor, Tensor, Tensor> lloyd_phase(const Tensor& x, const Tensor& centers0, const Tensor& shift0,
                                               const Tensor& iterations0, const Tensor& tol_abs, int64_t max_iter,
                                               int64_t stop_at) {
  int64_t runs = centers0.dim(0);
  Lloyd l(x, centers0.dim(1));
  auto active = [&](const auto& s) { return logical_and(std::get<2>(s) < max_iter, std::get<1>(s) > tol_abs); };
  return while_loop(
      std::tuple{centers0, shift0, iterations0},
      [&](const auto& s) { return sum(as_type(active(s), DType::i64)) > stop_at; },
      [&](const auto& s) {
        const Tensor& c = std::get<0>(s);
        Tensor onehot = as_type(equal(l.nearest(l.distances(c)), l.classes), x.dtype());  // [n, runs, k]
        Tensor counts = expand_dims(sum(onehot, {.axes = {0}}), 2);                     // [runs, k, 1]
        Tensor sums = dot(onehot, {0}, x, {0});                                         // [runs, k, d]
        Tensor moved = nx::where(counts > 0.0, sums / max(counts, 1.0), c);             // empty: stays
        Tensor step = moved - c;
        Tensor on = active(s);
        return std::tuple{nx::where(reshape(on, {runs, 1, 1}), moved, c),
                          nx::where(on, sum(step * step, {.axes = {1, 2}}), std::get<1>(s)),
                          std::get<2>(s) + as_type(on, DType::i64)};
      });
}

// The inertia [runs] of each run's centres, summed exactly from the differences.
Tensor inertias(const Tensor& x, const Tensor& centers) {
  int64_t n = x.dim(0), d = x.dim(1), runs = centers.dim(0), k = centers.dim(1);
  Lloyd l(x, k);
  Tensor labels = as_type(reshape(l.nearest(l.distances(centers)), {n, runs}), DType::i64);
  Tensor assigned = take(reshape(centers, {runs * k, d}), labels + iota({1, runs}, DType::i64, 1) * k, 0);  // [n, runs, d]
  Tensor diff = expand_dims(x, 1) - assigned;
  return sum(diff * diff, {.axes = {0, 2}});
}

// The fixed settings of a mini-batch run: a static argument of the compiled graph.
struct MiniBatchSettings {
  int64_t k, batch, init_size, n_init, steps, max_no_improvement;
  double tol, ratio;
  bool plus;
  bool operator==(const MiniBatchSettings&) const = default;
};

// One MiniBatchKMeans fit as scikit-learn's (the centres, the inertia of x, the steps
// taken). Sample indices are drawn with replacement, as its batches are.
std::tuple<Tensor, Tensor, Tensor> minibatch_run(const Tensor& x, const Tensor& key, const MiniBatchSettings& s) {
  int64_t n = x.dim(0), d = x.dim(1), k = s.k, b = s.batch;
  DType dt = x.dtype();
  const double inf = std::numeric_limits<double>::infinity();
  Tensor zero = scalar(int64_t{0}, DType::i64), one = scalar(int64_t{1}, DType::i64);
  Tensor keys = random::split(key, 3);
  // The seedings, each on its own random subset, judged by the inertia of one shared
  // validation subset (scikit-learn draws that once, before them).
  Tensor valid = take(x, random::randint(keys[0], {s.init_size}, 0, n), 0);
  auto seeded = fori_loop(0, s.n_init, std::tuple{zeros({k, d}, dt), full({}, inf, dt), keys[1]},
                          [&](const Tensor& r, const auto& st) {
    auto [best, lowest, kk] = st;
    Tensor ks = random::split(kk, 3);
    Tensor subset = take(x, random::randint(ks[0], {s.init_size}, 0, n), 0);
    Tensor c = seed_centers(subset, k, ks[1], s.plus);
    Tensor inertia = sum(reduce_min(sq_distances(valid, c), {.axes = {1}}));
    Tensor better = logical_or(equal(r, zero), inertia < lowest);
    return std::tuple{nx::where(better, c, best), nx::where(better, inertia, lowest), ks[2]};
  });
  Tensor init = std::get<0>(seeded);

  Tensor centered = x - mean(x, {.axes = {0}});
  Tensor tol_abs = s.tol * mean(mean(centered * centered, {.axes = {0}}));
  Tensor classes = iota({1, k}, DType::i64, 1);
  // The smoothing of the batch inertia: scikit-learn's exponentially weighted average.
  double alpha = std::min(2.0 * static_cast<double>(b) / static_cast<double>(n + 1), 1.0);
  int64_t cap = static_cast<int64_t>(0.5 * static_cast<double>(b));  // reassigned per step, at most
  // State: centres, counts, key, step, smoothed inertia, its minimum, steps without a new
  // minimum, samples since the last reassignment, stop.
  auto state = std::tuple{init, zeros({k}, dt), keys[2], zero, zeros({}, dt), full({}, inf, dt), zero, zero,
                          full({}, false, DType::bool_)};
  auto out = while_loop(
      state, [&](const auto& st) { return logical_and(std::get<3>(st) < s.steps, logical_not(std::get<8>(st))); },
      [&](const auto& st) {
        auto [c, counts, kk, i, ewa, ewa_min, stale, since, stop] = st;
        Tensor ks = random::split(kk, 3);
        Tensor xb = take(x, random::randint(ks[0], {b}, 0, n), 0);
        // Reassignment is decided before the step, on the counts so far: when a centre has
        // none yet, or every 10 * clusters samples.
        Tensor since_b = since + b;
        Tensor reassign = logical_or(any(equal(counts, 0.0)), since_b >= 10 * k);
        Tensor since_next = nx::where(reassign, zero, since_b);

        Tensor dist = sq_distances(xb, c);
        Tensor batch_inertia = sum(reduce_min(dist, {.axes = {1}}));
        Tensor labels = argmin(dist, {.axis = 1, .keep_axes = true});             // [b, 1]
        Tensor onehot = as_type(equal(labels, classes), dt);                       // [b, k]
        Tensor got = sum(onehot, {.axes = {0}});                                   // [k]
        Tensor total = counts + got;
        // Each centre: the mean of all its samples so far (the old centre weighs its count).
        Tensor merged = (c * expand_dims(counts, 1) + dot(transpose(onehot), xb)) /
                        expand_dims(nx::where(total > 0.0, total, 1.0), 1);
        Tensor moved = nx::where(expand_dims(got > 0.0, 1), merged, c);
        Tensor next_counts = total;
        if (s.ratio > 0) {
          // Centres with under ratio times the largest count move to distinct random batch
          // samples (at most half a batch of them, those of the lowest counts); their counts
          // become the smallest of the others', so that they are not moved again at once.
          Tensor low = logical_and(reassign, total < s.ratio * reduce_max(total));
          Tensor rank = argsort(argsort(total));
          Tensor over = sum(as_type(low, DType::i64)) > cap;
          low = logical_and(low, logical_or(logical_not(over), rank < cap));
          Tensor order = argsort(random::uniform(ks[1], {b}));
          Tensor slot = max(cumulative_sum(as_type(low, DType::i64)) - int64_t{1}, zero);
          Tensor fresh = take(xb, take(order, slot, 0), 0);
          moved = nx::where(expand_dims(low, 1), fresh, moved);
          Tensor rest = reduce_min(nx::where(low, full({}, inf, dt), total));
          next_counts = nx::where(low, rest, total);
        }
        // scikit-learn's early stops; its first step is not judged (its inertia is the
        // seeding's).
        Tensor judged = i > zero;
        Tensor mean_inertia = batch_inertia / static_cast<double>(b);
        Tensor ewa_next = nx::where(equal(i, one), mean_inertia, ewa * (1.0 - alpha) + mean_inertia * alpha);
        ewa_next = nx::where(judged, ewa_next, ewa);
        Tensor improved = ewa_next < ewa_min;
        Tensor ewa_min_next = nx::where(logical_and(judged, improved), ewa_next, ewa_min);
        Tensor stale_next = nx::where(judged, nx::where(improved, zero, stale + int64_t{1}), stale);
        Tensor halt = full({}, false, DType::bool_);
        if (s.tol > 0) {
          Tensor step = moved - c;
          halt = logical_and(tol_abs > 0.0, sum(step * step) <= tol_abs);
        }
        if (s.max_no_improvement >= 0) halt = logical_or(halt, stale_next >= s.max_no_improvement);
        return std::tuple{moved,       next_counts,  ks[2],      i + int64_t{1}, ewa_next, ewa_min_next,
                          stale_next, since_next, logical_and(judged, halt)};
      });
  Tensor centers = std::get<0>(out);
  Tensor inertia = sum(reduce_min(sq_distances(x, centers), {.axes = {1}}));
  return {centers, inertia, std::get<3>(out)};
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
  // The starts come from scikit-learn's own stream (numpy's MT19937 seeded with seed, drawn
  // in its order on the host: they are data-independent numbers), so each run starts, and
  // ends, where scikit-learn's does for the same random_state.
  int64_t n = f.dim(0), k = opts.clusters, runs = opts.n_init;
  int64_t trials = 2 + static_cast<int64_t>(std::log(static_cast<double>(k)));
  detail::LegacyRandomState rng(detail::legacy_seed(opts.seed, who, where));
  bool plus = opts.init == KMeansInit::kmeans_plus_plus;
  std::vector<int64_t> picks;
  std::vector<double> uniforms;
  std::vector<double> ones(static_cast<size_t>(n), 1.0);
  for (int64_t r = 0; r < runs; ++r) {
    if (plus) {
      picks.push_back(rng.weighted_choice(ones, 1)[0]);  // choice(n, p=weights / sum)
      for (int64_t u = 0; u < (k - 1) * trials; ++u) uniforms.push_back(rng.random_sample());
    } else {
      std::vector<int64_t> order = rng.permutation(n);  // choice(n, k, replace=False)
      picks.insert(picks.end(), order.begin(), order.begin() + k);
    }
  }
  static const auto seeded = jit([](const Tensor& v, const Tensor& chosen, const Tensor& draws, double tol, bool plus_plus) {
    Tensor offset = mean(v, {.axes = {0}});
    Tensor centered = v - offset;  // as scikit-learn: distances of centred data round less
    Tensor init = plus_plus ? plus_plus_drawn(centered, chosen, draws) : take(centered, chosen, 0);
    return std::tuple{centered, offset, init, tol * mean(mean(centered * centered, {.axes = {0}}))};
  });
  static const auto phase = jit(lloyd_phase);
  static const auto final_inertias = jit(inertias);
  Tensor chosen = plus ? from_vector(picks, {runs}) : from_vector(picks, {runs, k});
  Tensor draws = as_type(from_vector(uniforms, {runs, plus ? k - 1 : 0, plus ? trials : 0}), f.dtype());
  auto [centered, offset, init, tol_abs] = seeded(f, chosen, draws, opts.tol, plus);
  // The runs go in phases, each until at most half of its runs are still moving; the next
  // phase takes only those: a batched loop would otherwise carry every run to the slowest
  // one's iteration count (digits' runs take 9 to 36).
  std::vector<Tensor> done_centers(static_cast<size_t>(runs)), done_iterations(static_cast<size_t>(runs));
  std::vector<int64_t> slots(static_cast<size_t>(runs));
  std::iota(slots.begin(), slots.end(), int64_t{0});
  Tensor c = init, shift = full({runs}, std::numeric_limits<double>::infinity(), f.dtype()),
         its = zeros({runs}, DType::i64);
  double limit = tol_abs.item<double>();
  bool to_the_end = false;  // set should a phase leave as many moving as it got
  while (!slots.empty()) {
    auto live = static_cast<int64_t>(slots.size());
    std::tie(c, shift, its) = phase(centered, c, shift, its, tol_abs, opts.max_iter, to_the_end ? 0 : live / 2);
    std::vector<double> shifts = as_type(shift, DType::f64).to_vector<double>();
    std::vector<int64_t> counts = its.to_vector<int64_t>(), still, rows;
    for (int64_t j = 0; j < live; ++j) {
      if (counts[size_t(j)] < opts.max_iter && shifts[size_t(j)] > limit) {
        still.push_back(slots[size_t(j)]);
        rows.push_back(j);
        continue;
      }
      done_centers[size_t(slots[size_t(j)])] = take(c, j, 0);
      done_iterations[size_t(slots[size_t(j)])] = take(its, j, 0);
    }
    if (still.size() == slots.size()) {  // (a phase ends with at most half moving)
      to_the_end = true;
      continue;
    }
    slots = still;
    if (slots.empty()) break;
    Tensor pick = from_vector(rows, {static_cast<int64_t>(rows.size())});
    c = take(c, pick, 0);
    shift = take(shift, pick, 0);
    its = take(its, pick, 0);
  }
  Tensor centers = stack(done_centers, 0);
  Tensor inertia = final_inertias(centered, centers);
  // The lowest inertia wins (the first on ties).
  Tensor best = argmin(inertia);
  return {take(centers, best, 0) + offset, take(inertia, best, 0), take(stack(done_iterations, 0), best, 0)};
}

Tensor KMeans::predict(const Tensor& x, Where where) const {
  return argmin(to_centers(centers, x, "KMeans.predict", where), {.axis = 1});
}

Tensor KMeans::transform(const Tensor& x, Where where) const {
  return sqrt(to_centers(centers, x, "KMeans.transform", where));
}

MiniBatchKMeans MiniBatchKMeans::fit(const Tensor& x, MiniBatchKMeansOpts opts, Where where) {
  const std::string who = "MiniBatchKMeans.fit";
  Tensor f = detail::features(x, who, where);
  int64_t n = f.dim(0);
  if (opts.clusters < 1 || opts.clusters > n)
    throw ValueError(who, "clusters must be between 1 and the number of samples (" + std::to_string(n) + "), got " +
                              std::to_string(opts.clusters),
                     where);
  if (opts.n_init < 1 || opts.max_iter < 1 || opts.batch_size < 1 || !(opts.tol >= 0) || opts.max_no_improvement < -1)
    throw ValueError(who, "needs n_init >= 1, max_iter >= 1, batch_size >= 1, tol >= 0 and max_no_improvement >= -1",
                     where);
  // A ratio of 1 or more would reassign every centre (scikit-learn then fails on an empty min).
  if (!(opts.reassignment_ratio >= 0 && opts.reassignment_ratio < 1))
    throw ValueError(who, "reassignment_ratio must be in [0, 1), got " + std::to_string(opts.reassignment_ratio),
                     where);
  if (opts.init_size != 0 && opts.init_size < opts.clusters)
    throw ValueError(who, "init_size must be 0 (the default) or at least clusters (" +
                              std::to_string(opts.clusters) + "), got " + std::to_string(opts.init_size),
                     where);
  int64_t batch = std::min(opts.batch_size, n);
  int64_t init_size = opts.init_size != 0 ? opts.init_size : std::max(3 * batch, 3 * opts.clusters);
  MiniBatchSettings settings{.k = opts.clusters,
                             .batch = batch,
                             .init_size = std::min(init_size, n),
                             .n_init = opts.n_init,
                             .steps = opts.max_iter * n / batch,
                             .max_no_improvement = opts.max_no_improvement,
                             .tol = opts.tol,
                             .ratio = opts.reassignment_ratio,
                             .plus = opts.init == KMeansInit::kmeans_plus_plus};
  static const auto compiled = jit(
      [](const Tensor& v, const Tensor& key, const MiniBatchSettings& st) { return minibatch_run(v, key, st); });
  auto [centers, inertia, steps] = compiled(f, random::key(static_cast<int64_t>(opts.seed)), settings);
  int64_t taken = steps.item<int64_t>();
  return {.centers = centers,
          .inertia = inertia,
          .iterations = scalar((taken * batch + n - 1) / n, DType::i64),
          .steps = steps};
}

Tensor MiniBatchKMeans::predict(const Tensor& x, Where where) const {
  return argmin(to_centers(centers, x, "MiniBatchKMeans.predict", where), {.axis = 1});
}

Tensor MiniBatchKMeans::transform(const Tensor& x, Where where) const {
  return sqrt(to_centers(centers, x, "MiniBatchKMeans.transform", where));
}

}  // namespace nx::ml
