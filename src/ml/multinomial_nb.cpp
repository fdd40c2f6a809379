#include <cmath>

#include "ml/check.hpp"
#include "nx/ml/neighbors_bayes.hpp"
#include "nx/nx.hpp"

namespace nx::ml {

MultinomialNB MultinomialNB::fit(const Tensor& x, const Tensor& y, MultinomialNBOpts opts, Where where) {
  const std::string who = "MultinomialNB.fit";
  if (!(opts.alpha >= 0)) throw ValueError(who, "alpha must be >= 0, got " + std::to_string(opts.alpha), where);
  Tensor f = detail::features(x, who, where);
  // Counts: a negative one has no multinomial reading (and would make log-probabilities
  // of smoothed counts NaN), so it is refused as scikit-learn does.
  if (!f.is_traced() && any(f < 0.0).item<bool>())
    throw ValueError(who, "expects non-negative feature counts, x holds a negative value", where);
  detail::ClassIds ids = detail::class_ids(y, f.dim(0), who, where);
  Tensor member = one_hot(ids.ids, ids.count, {.dtype = f.dtype()});  // [n, k]
  Tensor class_count = sum(member, {.axes = {0}});                     // [k]
  Tensor feature_count = dot(transpose(member), f);                     // [k, d]
  Tensor smoothed = feature_count + opts.alpha;
  Tensor feature_log_prob = log(smoothed) - log(sum(smoothed, {.axes = {1}, .keep_axes = true}));
  Tensor class_log_prior;
  if (opts.class_prior.defined()) {
    const Tensor& p = opts.class_prior;
    if (p.rank() != 1 || p.dim(0) != ids.count)
      throw ValueError(who, "class_prior must be [" + std::to_string(ids.count) + "] (one per class), got shape " +
                                p.shape().str(),
                       where);
    Tensor pf = as_type(p, f.dtype());
    if (!pf.is_traced() && any(is_nan(pf) | (pf < 0.0)).item<bool>())
      throw ValueError(who, "class_prior must be non-negative numbers", where);
    class_log_prior = log(pf);
  } else if (opts.fit_prior) {
    class_log_prior = log(class_count) - log(sum(class_count));
  } else {
    class_log_prior = full({ids.count}, -std::log(static_cast<double>(ids.count)), f.dtype());
  }
  return {.classes = ids.classes,
          .class_count = class_count,
          .feature_count = feature_count,
          .class_log_prior = class_log_prior,
          .feature_log_prob = feature_log_prob};
}

Tensor MultinomialNB::joint_log_likelihood(const Tensor& x, Where where) const {
  // As scikit-learn, prediction does not check the sign: it is a plain linear score.
  Tensor f = detail::features(x, feature_log_prob.dim(1), "MultinomialNB.joint_log_likelihood", where);
  return dot(f, transpose(as_type(feature_log_prob, f.dtype()))) + as_type(class_log_prior, f.dtype());
}

Tensor MultinomialNB::predict_log_proba(const Tensor& x, Where where) const {
  return log_softmax(joint_log_likelihood(x, where), 1);
}

Tensor MultinomialNB::predict_proba(const Tensor& x, Where where) const {
  return softmax(joint_log_likelihood(x, where), 1);
}

Tensor MultinomialNB::predict(const Tensor& x, Where where) const {
  return take(classes, argmax(joint_log_likelihood(x, where), {.axis = 1}), 0);
}

}  // namespace nx::ml
