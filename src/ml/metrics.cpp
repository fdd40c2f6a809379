#include "nx/ml/metrics.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <string>
#include <vector>

#include "nx/nx.hpp"

namespace nx::ml {
namespace {

// y_true and y_pred of one shape, [samples] or [samples, targets], in f64 if either is, else f32.
std::pair<Tensor, Tensor> regression_pair(const Tensor& y_true, const Tensor& y_pred, const char* who, Where where) {
  if (!y_true.defined() || !y_pred.defined() || y_true.shape() != y_pred.shape() || y_true.rank() < 1 || y_true.rank() > 2)
    throw ShapeError(who, "expects y_true and y_pred of one shape, [samples] or [samples, targets], got " +
                              (y_true.defined() ? y_true.shape().str() : "undefined") + " and " +
                              (y_pred.defined() ? y_pred.shape().str() : "undefined"),
                     where);
  DType t = y_true.dtype() == DType::f64 || y_pred.dtype() == DType::f64 ? DType::f64 : DType::f32;
  return {as_type(y_true, t), as_type(y_pred, t)};
}

// Labels [samples]; with `classes` > 0, class ids in [0, classes) (checked when concrete).
void check_ids(const Tensor& y, int64_t samples, const char* who, Where where, int64_t classes = 0) {
  if (!y.defined() || y.rank() != 1 || y.dim(0) != samples)
    throw ShapeError(who, "expects labels [" + std::to_string(samples) + "], got " +
                              (y.defined() ? y.shape().str() : "undefined"),
                     where);
  if (classes > 0 && !y.is_traced() && samples > 0) {
    Tensor ids = as_type(y, DType::i64);
    if (reduce_min(ids).item<int64_t>() < 0 || reduce_max(ids).item<int64_t>() >= classes)
      throw ValueError(who, "labels must be class ids in [0, " + std::to_string(classes) + ")", where);
  }
}

// The binary AUC of scores against 0/1 labels, ties counting half (the rank-sum form).
double binary_auc(const std::vector<double>& s, const std::vector<bool>& positive, const char* who, Where where) {
  size_t n = s.size();
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return s[a] < s[b]; });
  double rank_sum = 0, pos = 0;
  for (size_t i = 0; i < n;) {
    size_t j = i;
    while (j < n && s[order[j]] == s[order[i]]) ++j;
    double rank = (double(i) + double(j) + 1) / 2;  // 1-based average rank of the tie
    for (size_t k = i; k < j; ++k)
      if (positive[order[k]]) rank_sum += rank, ++pos;
    i = j;
  }
  double neg = double(n) - pos;
  if (pos == 0 || neg == 0) throw ValueError(who, "needs both classes in y_true", where);
  return (rank_sum - pos * (pos + 1) / 2) / (pos * neg);
}

}  // namespace

Tensor mean_squared_error(const Tensor& y_true, const Tensor& y_pred, Where where) {
  auto [yt, yp] = regression_pair(y_true, y_pred, "mean_squared_error", where);
  return mean((yt - yp) * (yt - yp));
}

Tensor r2_score(const Tensor& y_true, const Tensor& y_pred, Where where) {
  auto [yt, yp] = regression_pair(y_true, y_pred, "r2_score", where);
  // Per target 1 - SS_res / SS_tot (1 where both are 0, 0 where only SS_tot is), then the mean.
  Tensor res = sum((yt - yp) * (yt - yp), {.axes = {0}});
  Tensor dev = yt - mean(yt, {.axes = {0}});
  Tensor tot = sum(dev * dev, {.axes = {0}});
  Tensor constant = nx::where(res > 0.0, zeros_like(res), ones_like(res));
  return mean(nx::where(tot > 0.0, 1.0 - res / nx::where(tot > 0.0, tot, ones_like(tot)), constant));
}

Tensor log_loss(const Tensor& y_true, const Tensor& proba, Where where) {
  if (!proba.defined() || proba.rank() != 2)
    throw ShapeError("log_loss", "expects probabilities [samples, classes], got " +
                                     (proba.defined() ? proba.shape().str() : "undefined"),
                     where);
  check_ids(y_true, proba.dim(0), "log_loss", where, proba.dim(1));
  Tensor p = is_float(proba.dtype()) ? proba : as_type(proba, DType::f32);
  double eps = p.dtype() == DType::f64 ? std::numeric_limits<double>::epsilon() : std::numeric_limits<float>::epsilon();
  Tensor picked = take_along_axis(p, expand_dims(as_type(y_true, DType::i64), 1), 1);
  return -mean(log(clip(picked, scalar(eps, p.dtype()), scalar(1 - eps, p.dtype()))));
}

Tensor roc_auc(const Tensor& y_true, const Tensor& scores, Where where) {
  if (!scores.defined() || scores.rank() < 1 || scores.rank() > 2)
    throw ShapeError("roc_auc", "expects scores [samples] or [samples, classes], got " +
                                    (scores.defined() ? scores.shape().str() : "undefined"),
                     where);
  check_ids(y_true, scores.dim(0), "roc_auc", where);
  std::vector<int64_t> y = as_type(y_true, DType::i64).to_vector<int64_t>();
  std::vector<double> s = scores.to_vector<double>();
  if (std::any_of(s.begin(), s.end(), [](double v) { return std::isnan(v); }))
    throw ValueError("roc_auc", "the scores hold NaN", where);  // they cannot be ranked
  if (scores.rank() == 1) {
    std::vector<bool> positive(y.size());
    for (size_t i = 0; i < y.size(); ++i) positive[i] = y[i] == 1;
    return scalar(binary_auc(s, positive, "roc_auc", where), DType::f64);
  }
  int64_t k = scores.dim(1);
  size_t n = y.size();
  double total = 0;
  for (int64_t c = 0; c < k; ++c) {
    std::vector<double> column(n);
    std::vector<bool> positive(n);
    for (size_t i = 0; i < n; ++i) column[i] = s[i * size_t(k) + size_t(c)], positive[i] = y[i] == c;
    total += binary_auc(column, positive, "roc_auc", where);
  }
  return scalar(total / double(k), DType::f64);
}

Tensor silhouette_score(const Tensor& x, const Tensor& labels, Where where) {
  if (!x.defined() || x.rank() != 2)
    throw ShapeError("silhouette_score", "expects x [samples, features], got " + (x.defined() ? x.shape().str() : "undefined"),
                     where);
  check_ids(labels, x.dim(0), "silhouette_score", where, x.dim(0));
  Tensor f = is_float(x.dtype()) ? x : as_type(x, DType::f32);
  Tensor ids = as_type(labels, DType::i64);
  int64_t k = x.dim(0) == 0 ? 0 : reduce_max(ids).item<int64_t>() + 1;
  if (k < 2 || k > x.dim(0) - 1)
    throw ValueError("silhouette_score", "needs 2 to samples - 1 clusters, got " + std::to_string(k), where);
  Tensor sq = sum(f * f, {.axes = {1}, .keep_axes = true});
  int64_t n = f.dim(0);
  Tensor d = sqrt(max(sq - 2.0 * dot(f, transpose(f)) + transpose(sq), 0.0)) * (1.0 - eye(n, f.dtype()));  // [n, n]
  Tensor member = one_hot(ids, k, {.dtype = f.dtype()});                           // [n, k]
  Tensor sums = dot(d, member);                                                    // [n, k]
  Tensor counts = sum(member, {.axes = {0}});                                      // [k]
  Tensor own_count = sum(member * counts, {.axes = {1}});                          // [n]
  Tensor a = sum(sums * member, {.axes = {1}}) / max(own_count - 1.0, 1.0);
  Tensor others = nx::where((member > 0.0) | expand_dims(counts == 0.0, 0), full({}, std::numeric_limits<double>::infinity(), f.dtype()),
                            sums / max(counts, 1.0));
  Tensor b = reduce_min(others, {.axes = {1}});
  Tensor s = nx::where(own_count > 1.0, (b - a) / max(a, b), zeros_like(a));
  return mean(s);
}

}  // namespace nx::ml
