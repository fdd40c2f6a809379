#include "nx/ml/encoders.hpp"

#include <algorithm>
#include <cmath>

#include "ml/check.hpp"
#include "nx/nx.hpp"

namespace nx::ml {
namespace {

// Each feature's distinct values, ascending, NaN last.
std::vector<Tensor> categories_of(const Tensor& f) {
  std::vector<Tensor> out;
  for (int64_t j = 0; j < f.dim(1); ++j) {
    std::vector<double> v = as_type(slice(f, {0, j}, {f.dim(0), 1}), DType::f64).to_vector<double>();
    bool nan = std::any_of(v.begin(), v.end(), [](double d) { return std::isnan(d); });
    v.erase(std::remove_if(v.begin(), v.end(), [](double d) { return std::isnan(d); }), v.end());
    std::sort(v.begin(), v.end());
    v.erase(std::unique(v.begin(), v.end()), v.end());
    if (nan) v.push_back(std::nan(""));
    out.push_back(as_type(from_vector(v, {static_cast<int64_t>(v.size())}), f.dtype()));
  }
  return out;
}

// [samples, categories]: where each sample's value of feature j equals each category (NaN
// matching NaN).
Tensor matches(const Tensor& f, int64_t j, const Tensor& categories) {
  Tensor col = slice(f, {0, j}, {f.dim(0), 1});
  Tensor cats = expand_dims(as_type(categories, f.dtype()), 0);
  return logical_or(equal(col, cats), logical_and(is_nan(col), is_nan(cats)));
}

void check_known(const Tensor& hit, int64_t j, const std::string& who, Where where) {
  if (hit.is_traced()) return;
  Tensor known = any(hit, {.axes = {1}});
  if (!all(known).item<bool>()) {
    int64_t row = argmin(as_type(known, DType::i32)).item<int64_t>();
    throw ValueError(who, "feature " + std::to_string(j) + " of sample " + std::to_string(row) +
                              " holds a category not seen in fit", where);
  }
}

int64_t features_of(const std::vector<Tensor>& categories) { return static_cast<int64_t>(categories.size()); }

// x as read by a transform, and per feature its matches with the categories (checked for
// values not seen in fit unless `lenient`).
struct Matched {
  Tensor f;
  std::vector<Tensor> hits;
};
Matched match_all(const std::vector<Tensor>& categories, const Tensor& x, bool lenient, const std::string& who,
                  Where where) {
  Matched m{detail::features(x, features_of(categories), who, where, true), {}};
  for (int64_t j = 0; j < m.f.dim(1); ++j) {
    m.hits.push_back(matches(m.f, j, categories[size_t(j)]));
    if (!lenient) check_known(m.hits.back(), j, who, where);
  }
  return m;
}

}  // namespace

OneHotEncoder OneHotEncoder::fit(const Tensor& x, OneHotEncoderOpts opts, Where where) {
  Tensor f = detail::features(x, "OneHotEncoder.fit", where, /*nan_ok=*/true);
  return {categories_of(f), opts.drop_first, opts.handle_unknown == HandleUnknown::ignore};
}

Tensor OneHotEncoder::transform(const Tensor& x, Where where) const {
  auto [f, hits] = match_all(categories, x, ignore_unknown, "OneHotEncoder.transform", where);
  std::vector<Tensor> blocks;
  for (Tensor hit : hits) {
    int64_t k = hit.dim(1);
    if (drop_first) hit = slice(hit, {0, 1}, {f.dim(0), k - 1});
    if (hit.dim(1) > 0) blocks.push_back(as_type(hit, f.dtype()));
  }
  if (blocks.empty()) return zeros({f.dim(0), 0}, f.dtype());
  return concatenate(blocks, 1);
}

Tensor OneHotEncoder::inverse_transform(const Tensor& z, Where where) const {
  const std::string who = "OneHotEncoder.inverse_transform";
  int64_t width = 0;
  for (const Tensor& c : categories) width += c.dim(0) - (drop_first ? 1 : 0);
  Tensor f = detail::features(z, width, who, where);
  std::vector<Tensor> cols;
  int64_t at = 0;
  for (const Tensor& c : categories) {
    int64_t k = c.dim(0), w = k - (drop_first ? 1 : 0);
    Tensor block = slice(f, {0, at}, {f.dim(0), w});
    at += w;
    Tensor cats = as_type(c, f.dtype());
    if (drop_first) {  // all zeros: the dropped first category
      block = concatenate({as_type(expand_dims(logical_not(any(block > 0.0, {.axes = {1}})), 1), f.dtype()), block}, 1);
    }
    Tensor found = any(block > 0.0, {.axes = {1}, .keep_axes = true});
    Tensor value = take(cats, argmax(block, {.axis = 1, .keep_axes = true}), 0);
    cols.push_back(nx::where(found, value, full({}, std::nan(""), f.dtype())));
  }
  return concatenate(cols, 1);
}

OrdinalEncoder OrdinalEncoder::fit(const Tensor& x, OrdinalEncoderOpts opts, Where where) {
  Tensor f = detail::features(x, "OrdinalEncoder.fit", where, true);
  return {categories_of(f), opts.encode_unknown, opts.unknown_value};
}

Tensor OrdinalEncoder::transform(const Tensor& x, Where where) const {
  auto [f, hits] = match_all(categories, x, encode_unknown, "OrdinalEncoder.transform", where);
  std::vector<Tensor> cols;
  for (const Tensor& hit : hits) {
    Tensor index = as_type(argmax(hit, {.axis = 1, .keep_axes = true}), f.dtype());
    cols.push_back(nx::where(any(hit, {.axes = {1}, .keep_axes = true}), index, full({}, unknown_value, f.dtype())));
  }
  return concatenate(cols, 1);
}

Tensor OrdinalEncoder::inverse_transform(const Tensor& z, Where where) const {
  const std::string who = "OrdinalEncoder.inverse_transform";
  Tensor f = detail::features(z, features_of(categories), who, where, true);
  std::vector<Tensor> cols;
  for (int64_t j = 0; j < f.dim(1); ++j) {
    const Tensor& c = categories[size_t(j)];
    Tensor col = slice(f, {0, j}, {f.dim(0), 1});
    Tensor valid = logical_and(logical_and(col >= 0.0, col < double(c.dim(0))), equal(col, floor(col)));
    Tensor index = as_type(nx::where(valid, col, 0.0), DType::i64);
    cols.push_back(nx::where(valid, take(as_type(c, f.dtype()), index, 0), full({}, std::nan(""), f.dtype())));
  }
  return concatenate(cols, 1);
}

}  // namespace nx::ml
