// Scores of predictions, as scikit-learn's (nx::metrics, nxpp::train, has accuracy,
// precision, recall, F1, the confusion matrix and mean_absolute_error).
//
// Regression: y_true and y_pred of one shape, [samples] or [samples, targets] (targets
// averaged uniformly). Results are f64 for f64 inputs, else f32. Mismatched shapes raise
// nx::ShapeError naming the score.
#pragma once
#include "nx/tensor.hpp"

namespace nx::ml {

Tensor mean_squared_error(const Tensor& y_true, const Tensor& y_pred, Where where = Where::current());
Tensor r2_score(const Tensor& y_true, const Tensor& y_pred, Where where = Where::current());

// The mean negative log-likelihood of the true class ids (i64 [samples], 0 .. classes-1)
// under probabilities [samples, classes], clipped to [eps, 1 - eps] of their dtype.
Tensor log_loss(const Tensor& y_true, const Tensor& proba, Where where = Where::current());

// The area under the ROC curve: binary labels (0/1) with scores [samples] (ties count
// half), or class ids with probabilities [samples, classes]: the mean over classes of
// each one-vs-rest AUC (scikit-learn's multi_class="ovr", average="macro"). Computed on
// the host (a sort); an f64 scalar. A class absent from y_true is a ValueError.
Tensor roc_auc(const Tensor& y_true, const Tensor& scores, Where where = Where::current());

// The mean silhouette coefficient of a clustering (Euclidean): (b - a) / max(a, b) per
// sample, a its mean distance within its cluster, b to the nearest other cluster; 0 for
// a sample alone in its cluster. labels: i64 [samples]; needs 2 to samples - 1 clusters.
Tensor silhouette_score(const Tensor& x, const Tensor& labels, Where where = Where::current());

}  // namespace nx::ml
