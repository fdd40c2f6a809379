#include <algorithm>
#include <cstdint>
#include <limits>
#include <numeric>
#include <string>
#include <vector>

#include "ml/check.hpp"
#include "nx/ml/cluster.hpp"
#include "nx/nx.hpp"

namespace nx::ml {
namespace {

// Which pairs are within eps, for the rows `block` of the centred data c against all of c
// (distances do not change with the centring, the rounding does: it scales with the
// norms): 1 within, 0 beyond, 2 too close to eps for the product's rounding to tell. The
// bound is generous: about (features + 2) roundings of terms no larger than |a|^2 + |b|^2,
// and of eps^2, times 4. eps is traced, so that one executable serves every eps.
Tensor neighbour_codes(const Tensor& block, const Tensor& c, const Tensor& eps) {
  Tensor bb = sum(block * block, {.axes = {1}}), cc = sum(c * c, {.axes = {1}});
  Tensor norms = expand_dims(bb, 1) + cc;  // [rows, n]
  Tensor d2 = max(norms - 2.0 * dot(block, {1}, c, {1}), 0.0);
  double unit =
      c.dtype() == DType::f64 ? std::numeric_limits<double>::epsilon() : std::numeric_limits<float>::epsilon();
  Tensor r2 = eps * eps;
  Tensor margin = 4.0 * unit * (static_cast<double>(c.dim(1) + 2) * norms + r2);
  Tensor inside = d2 <= r2 - margin, unsure = logical_and(logical_not(inside), d2 <= r2 + margin);
  return as_type(inside, DType::u8) + 2 * as_type(unsure, DType::u8);
}

int64_t root(std::vector<int64_t>& parent, int64_t i) {
  while (parent[static_cast<size_t>(i)] != i) {
    parent[static_cast<size_t>(i)] = parent[static_cast<size_t>(parent[static_cast<size_t>(i)])];  // path halving
    i = parent[static_cast<size_t>(i)];
  }
  return i;
}

}  // namespace

// The neighbourhoods come from compiled distance products, a block of rows at a time
// (about 32 MB of distances each: the [n, n] matrix of 60000 samples would be 29 GB), kept
// as neighbour lists; the clusters from a union-find over the core pairs on the host. That
// is exact and one pass over the pairs, which the core counts need anyway; a
// label-propagation fixpoint in a while_loop would pass over them once per hop of the
// longest chain of core samples in a cluster.
DBSCAN DBSCAN::fit(const Tensor& x, DBSCANOpts opts, Where where) {
  const std::string who = "DBSCAN.fit";
  if (!(opts.eps > 0) || opts.eps == std::numeric_limits<double>::infinity())
    throw ValueError(who, "eps must be a positive number, got " + std::to_string(opts.eps), where);
  if (opts.min_samples < 1)
    throw ValueError(who, "min_samples must be >= 1, got " + std::to_string(opts.min_samples), where);
  Tensor f = detail::features(x, who, where);
  const int64_t n = f.dim(0), d = f.dim(1);
  const auto un = static_cast<size_t>(n), ud = static_cast<size_t>(d);
  static const auto compiled = jit([](const Tensor& rows, const Tensor& all, const Tensor& eps) {
    return neighbour_codes(rows, all, eps);
  });
  Tensor c = f - mean(f, {.axes = {0}, .keep_axes = true});
  std::vector<double> values = f.to_vector<double>();
  const double r2 = opts.eps * opts.eps;
  // Pairs listed per sample; pairs at eps within rounding decided as scikit-learn's k-d
  // tree does, by the sum of squared differences (in order, in f64) against eps * eps.
  std::vector<std::vector<int64_t>> near(un);
  size_t pairs = 0;
  const int64_t block = std::max<int64_t>(1, (int64_t{4} << 20) / n);
  for (int64_t start = 0; start < n; start += block) {
    int64_t rows = std::min(block, n - start);
    std::vector<uint8_t> codes = compiled(slice(c, {start, 0}, {rows, d}), c, opts.eps).to_vector<uint8_t>();
    for (int64_t r = 0; r < rows; ++r) {
      auto i = static_cast<size_t>(start + r);
      for (size_t j = 0; j < un; ++j) {
        uint8_t code = codes[static_cast<size_t>(r) * un + j];
        if (code == 2) {
          double s2 = 0;
          for (size_t a = 0; a < ud; ++a) {
            double t = values[i * ud + a] - values[j * ud + a];
            s2 += t * t;
          }
          code = s2 <= r2 ? 1 : 0;
        }
        if (code) near[i].push_back(static_cast<int64_t>(j));
      }
      pairs += near[i].size();
      if (pairs > (size_t{1} << 31))
        throw ValueError(who, "eps " + std::to_string(opts.eps) + " makes more than 2^31 neighbour pairs among " +
                                  std::to_string(n) + " samples; use a smaller eps", where);
    }
  }
  std::vector<bool> core(un);
  std::vector<int64_t> cores;
  for (size_t i = 0; i < un; ++i)
    if (static_cast<int64_t>(near[i].size()) >= opts.min_samples) core[i] = true, cores.push_back(static_cast<int64_t>(i));
  std::vector<int64_t> parent(un);
  std::iota(parent.begin(), parent.end(), int64_t{0});
  for (int64_t i : cores)
    for (int64_t j : near[static_cast<size_t>(i)]) {
      if (j >= i || !core[static_cast<size_t>(j)]) continue;
      int64_t a = root(parent, i), b = root(parent, j);
      if (a != b) parent[static_cast<size_t>(std::max(a, b))] = std::min(a, b);
    }
  // scikit-learn numbers the clusters as its scan over the samples meets their first core
  // sample, and expands each fully before the next: a border sample goes to the lowest
  // numbered cluster among its core neighbours'.
  std::vector<int64_t> labels(un, -1), number(un, -1);
  int64_t clusters = 0;
  for (int64_t i : cores) {
    int64_t r = root(parent, i);
    if (number[static_cast<size_t>(r)] < 0) number[static_cast<size_t>(r)] = clusters++;
    labels[static_cast<size_t>(i)] = number[static_cast<size_t>(r)];
  }
  for (size_t i = 0; i < un; ++i) {
    if (core[i]) continue;
    int64_t best = std::numeric_limits<int64_t>::max();
    for (int64_t j : near[i])
      if (core[static_cast<size_t>(j)]) best = std::min(best, labels[static_cast<size_t>(j)]);
    if (best != std::numeric_limits<int64_t>::max()) labels[i] = best;
  }
  auto count = static_cast<int64_t>(cores.size());
  Tensor indices = from_vector(cores, {count});
  return {.labels = from_vector(labels, {n}),
          .core_sample_indices = indices,
          .components = count > 0 ? take(f, indices, 0) : zeros({0, d}, f.dtype())};
}

}  // namespace nx::ml
