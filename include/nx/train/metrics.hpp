// Metrics: how well predictions match labels, for one batch or accumulated over an epoch.
// Values follow scikit-learn (accuracy_score, top_k_accuracy_score, precision_score,
// recall_score, f1_score, confusion_matrix, mean_absolute_error). Every metric is written
// with nx's ops, so it runs eagerly and inside nx::jit (a training step).
//
//   nx::Tensor acc = nx::metrics::accuracy(labels, logits);                // one batch, f32 scalar
//   nx::metrics::Metric f1 = nx::metrics::Metric::f1({.average = nx::metrics::Average::macro});
//   nx::Tensor s = f1.statistics(labels, logits);   // per batch, inside the jitted step
//   total = total.defined() ? total + s : s;        // summed over the epoch
//   nx::Tensor value = f1.result(total);            // the metric of all the data seen
//
// Predictions and labels. y_pred may be
//   - scores [..., C] with C > 1 (probabilities or logits): the class is the argmax;
//   - one score per sample, shape [...] or [..., 1] (binary): the class is 1 where the
//     probability exceeds `threshold` (sigmoid(y_pred) with from_logits);
//   - integer class ids, shaped like y_true (precision, recall, f1, confusion_matrix and
//     accuracy).
// y_true is class ids (any dtype: floats are truncated; for binary predictions, a label is 1
// where it exceeds 0.5) shaped like y_pred without the class axis, or one-hot (or a
// distribution) shaped like y_pred, whose argmax is the class. Mismatched shapes raise
// nx::ShapeError naming the metric and both shapes at the caller's line.
#pragma once
#include <cstdint>
#include <functional>
#include <string>

#include "nx/axes.hpp"
#include "nx/tensor.hpp"

namespace nx::metrics {

struct AccuracyOpts {
  nx::detail::NamedFieldsOnly named_fields_only;
  double threshold = 0.5;    // binary predictions: class 1 where the probability exceeds it
  bool from_logits = false;  // binary predictions are logits (compared as sigmoid(y_pred))
};

// How precision, recall and F1 combine the classes (scikit-learn's `average`).
enum class Average {
  binary,    // the positive class (1) alone; needs two classes
  micro,     // from the true/false positives and negatives counted over all classes
  macro,     // the unweighted mean of the per-class values over the classes present in
             // y_true or y_pred (scikit-learn's default labels)
  weighted,  // the per-class values weighted by each class's support (true count)
};

struct ClassificationOpts {
  nx::detail::NamedFieldsOnly named_fields_only;
  Average average = Average::binary;
  // The number of classes when y_pred holds class ids (scores give it as their last dim;
  // binary predictions have 2). 0: the largest label in y_true or y_pred plus 1 (inside a
  // trace, where the labels are unknown, it must be given).
  int64_t num_classes = 0;
  double threshold = 0.5;
  bool from_logits = false;
};

// Batch forms: the value of the metric on this batch, an f32 scalar (confusion_matrix: i64
// counts). A ratio whose denominator is 0 (no predicted positives for precision, ...) is 0,
// as scikit-learn's zero_division default.

// The fraction of samples whose predicted class equals the true class.
Tensor accuracy(const Tensor& y_true, const Tensor& y_pred, AccuracyOpts opts = {}, Where where = Where::current());
// The fraction of samples whose true class is among the k highest scores of y_pred [..., C].
// A class tied with the k-th highest score counts as among them (TensorFlow's in_top_k);
// scikit-learn breaks such ties by index, so the two differ only on ties.
Tensor top_k_accuracy(const Tensor& y_true, const Tensor& y_pred, int64_t k = 5, Where where = Where::current());
// tp / (tp + fp)
Tensor precision(const Tensor& y_true, const Tensor& y_pred, ClassificationOpts opts = {},
                 Where where = Where::current());
// tp / (tp + fn)
Tensor recall(const Tensor& y_true, const Tensor& y_pred, ClassificationOpts opts = {}, Where where = Where::current());
// 2 tp / (2 tp + fp + fn), per class before macro/weighted averaging (scikit-learn's f1_score)
Tensor f1(const Tensor& y_true, const Tensor& y_pred, ClassificationOpts opts = {}, Where where = Where::current());
// mean |y_true - y_pred| over every element (y_true and y_pred of the same shape).
Tensor mean_absolute_error(const Tensor& y_true, const Tensor& y_pred, Where where = Where::current());
// [C, C] i64 counts: row = true class, column = predicted class (scikit-learn). Ids outside
// [0, num_classes) are not counted.
Tensor confusion_matrix(const Tensor& y_true, const Tensor& y_pred, int64_t num_classes,
                        Where where = Where::current());

// The accumulating form, for training loops. `statistics` maps one batch to a tensor of
// sums (traceable: call it inside the jitted step); the statistics of several batches are
// added elementwise, and `result` turns their sum into the metric, equal to the batch form
// on all those batches concatenated. Statistics are exact counts (i64) for the
// classification metrics ({correct, count} for accuracy; [3, C] {true positives,
// predicted, actual} per class for precision/recall/f1; [C, C] for confusion_matrix) and
// f64 {sum |y_true - y_pred|, count} for mean_absolute_error. The statistics of every batch
// of an epoch must have the same shape (the same number of classes).
struct Metric {
  std::string name;  // "accuracy", "top_5_accuracy", "f1", ...
  std::function<Tensor(const Tensor& y_true, const Tensor& y_pred)> statistics;
  std::function<Tensor(const Tensor& summed)> result;

  // Errors in statistics (wrong shapes, found when a batch arrives) name the line that
  // made the metric.
  static Metric accuracy(AccuracyOpts opts = {}, Where where = Where::current());
  static Metric top_k_accuracy(int64_t k = 5, Where where = Where::current());
  static Metric precision(ClassificationOpts opts = {}, Where where = Where::current());
  static Metric recall(ClassificationOpts opts = {}, Where where = Where::current());
  static Metric f1(ClassificationOpts opts = {}, Where where = Where::current());
  static Metric mean_absolute_error(Where where = Where::current());
  static Metric confusion_matrix(int64_t num_classes, Where where = Where::current());
  // By name: "accuracy" (or "acc"), "top_k_accuracy" (k = 5) or "top_<k>_accuracy"
  // ("top_3_accuracy"), "precision", "recall", "f1" (average binary), "mae" (or
  // "mean_absolute_error"). Another name raises nx::ValueError listing these.
  static Metric named(const std::string& name, Where where = Where::current());
};

}  // namespace nx::metrics

namespace nx::train {
namespace metrics = nx::metrics;
}  // namespace nx::train
