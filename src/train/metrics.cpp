// The metrics of nx/train/metrics.hpp, written with nx's public ops only. Each batch form
// is its Metric's result of its Metric's statistics, so the two cannot disagree.
#include "nx/train/metrics.hpp"

#include <algorithm>
#include <cctype>
#include <string>
#include <vector>

#include "nx/composites.hpp"
#include "nx/ops.hpp"

namespace nx::metrics {
namespace {

std::string op_name(const char* metric) { return std::string("metrics::") + metric; }

Shape without_last(const Shape& s) {
  Shape out;
  for (int i = 0; i + 1 < s.rank(); ++i) out.push_back(s[i]);
  return out;
}

// Class ids as i64 (floats truncate toward zero).
Tensor ids_of(const Tensor& t, Where w) { return t.dtype() == i64 ? t : as_type(t, i64, w); }

// The true and predicted class of every sample, as i64 tensors of one shape.
struct Labels {
  Tensor truth, pred;
  int64_t classes = 0;  // 0: y_pred holds class ids, so the data do not say
};

Labels class_labels(const char* metric, const Tensor& y_true, const Tensor& y_pred, double threshold,
                    bool from_logits, Where w) {
  Labels out;
  const Shape& ts = y_true.shape();
  const Shape& ps = y_pred.shape();
  if (!is_float(y_pred.dtype())) {  // class ids (bool: classes 0 and 1)
    if (ts != ps)
      throw ShapeError(op_name(metric),
                       "y_true has shape " + ts.str() + " but y_pred (class ids, " + std::string(name(y_pred.dtype())) +
                           ") has shape " + ps.str() + "; they must be equal",
                       w);
    out.truth = ids_of(y_true, w);
    out.pred = ids_of(y_pred, w);
    out.classes = y_pred.dtype() == boolean ? 2 : 0;
    return out;
  }
  if (y_pred.rank() == 0)
    throw ShapeError(op_name(metric),
                     "y_pred has shape () (y_true " + ts.str() + "); it needs a score per sample or per class", w);
  if (y_pred.rank() >= 2 && y_pred.dim(-1) > 1) {  // scores [..., C]
    out.classes = y_pred.dim(-1);
    out.pred = argmax(y_pred, ArgOpts{.axis = -1}, w);
    Shape samples = without_last(ps);
    if (ts == ps) out.truth = argmax(y_true, ArgOpts{.axis = -1}, w);
    else if (ts == samples) out.truth = ids_of(y_true, w);
    else
      throw ShapeError(op_name(metric),
                       "y_true has shape " + ts.str() + " but y_pred has shape " + ps.str() +
                           ": y_true must be class ids of shape " + samples.str() + " or one-hot of shape " + ps.str(),
                       w);
    return out;
  }
  // Binary: one probability (or logit) per sample, [...] or [..., 1].
  Shape samples = y_pred.rank() >= 2 ? without_last(ps) : ps;
  bool fits = ts == samples || (ts.rank() >= 1 && ts[ts.rank() - 1] == 1 && without_last(ts) == samples);
  if (!fits)
    throw ShapeError(op_name(metric),
                     "y_true has shape " + ts.str() + " but y_pred has shape " + ps.str() +
                         ": binary labels must have shape " + samples.str() + " (or with a trailing 1)",
                     w);
  Tensor p = reshape(y_pred, samples, w);
  if (from_logits) p = sigmoid(p, w);
  out.pred = as_type(greater(p, Tensor(threshold), w), i64, w);
  Tensor t = reshape(y_true, samples, w);
  out.truth = as_type(greater(is_float(t.dtype()) ? t : as_type(t, f32, w), Tensor(0.5), w), i64, w);
  out.classes = 2;
  return out;
}

// num / den in f64, 0 where den is 0 (scikit-learn's zero_division).
Tensor safe_ratio(const Tensor& num, const Tensor& den, Where w) {
  Tensor n = as_type(num, f64, w);
  Tensor d = as_type(den, f64, w);
  return select(greater(d, Tensor(0), w), divide(n, max(d, Tensor(1), w), w), zeros_like(n, w), w);
}

Tensor row(const Tensor& s, int64_t i, Where w) { return squeeze(slice_along_axis(s, 0, i, 1, 1, w), Axes{0}, w); }

// {correct, count} -> correct / count.
Tensor count_ratio(const char* metric, const Tensor& s, Where w) {
  if (s.shape() != Shape{2})
    throw ShapeError(op_name(metric), "statistics must have shape (2) {sum, count}, got " + s.shape().str(), w);
  return as_type(safe_ratio(row(s, 0, w), row(s, 1, w), w), f32, w);
}

Tensor count_statistics(const Tensor& correct, int64_t count, Where w) {
  return stack({as_type(sum(correct, ReduceOpts{}, w), i64, w), scalar(count, i64, w)}, 0, w);
}

Tensor accuracy_statistics(const Tensor& y_true, const Tensor& y_pred, const AccuracyOpts& o, Where w) {
  Labels l = class_labels("accuracy", y_true, y_pred, o.threshold, o.from_logits, w);
  return count_statistics(equal(l.truth, l.pred, w), l.truth.size(), w);
}

Tensor top_k_statistics(const Tensor& y_true, const Tensor& y_pred, int64_t k, Where w) {
  const char* metric = "top_k_accuracy";
  if (k < 1) throw ValueError(op_name(metric), "k must be at least 1, got " + std::to_string(k), w);
  if (!is_float(y_pred.dtype()) || y_pred.rank() < 1)
    throw DTypeError(op_name(metric),
                     "y_pred must be float scores [..., C], got " + std::string(name(y_pred.dtype())) + " of shape " +
                         y_pred.shape().str(),
                     w);
  const Shape& ts = y_true.shape();
  const Shape& ps = y_pred.shape();
  Shape samples = without_last(ps);
  Tensor truth;
  if (ts == ps) truth = argmax(y_true, ArgOpts{.axis = -1}, w);
  else if (ts == samples) truth = ids_of(y_true, w);
  else
    throw ShapeError(op_name(metric),
                     "y_true has shape " + ts.str() + " but y_pred has shape " + ps.str() +
                         ": y_true must be class ids of shape " + samples.str() + " or one-hot of shape " + ps.str(),
                     w);
  const int last = y_pred.rank() - 1;
  Tensor is_true = equal(new_axis(truth, last, w), iota(ps, i64, last, w), w);
  Tensor true_score = sum(select(is_true, y_pred, zeros_like(y_pred, w), w), ReduceOpts{.axes = last, .keep_axes = true}, w);
  // Correct when fewer than k classes score strictly higher than the true one.
  Tensor higher = sum(greater(y_pred, true_score, w), ReduceOpts{.axes = last}, w);
  Tensor valid = any(is_true, ReduceOpts{.axes = last}, w);
  return count_statistics(logical_and(less(higher, Tensor(k), w), valid, w), truth.size(), w);
}

enum class Kind { precision, recall, f1 };
const char* kind_name(Kind k) { return k == Kind::precision ? "precision" : k == Kind::recall ? "recall" : "f1"; }

// [3, C] i64: per class, the true positives, the predicted count and the actual count.
Tensor class_statistics(Kind kind, const Tensor& y_true, const Tensor& y_pred, const ClassificationOpts& o, Where w) {
  const char* metric = kind_name(kind);
  Labels l = class_labels(metric, y_true, y_pred, o.threshold, o.from_logits, w);
  int64_t classes = l.classes;
  if (classes == 0) {
    if (o.num_classes > 0) classes = o.num_classes;
    else if (o.average == Average::binary) classes = 2;
    else if (!l.truth.is_traced() && !l.pred.is_traced() && l.truth.size() > 0)  // as scikit-learn: from the labels
      classes = std::max<int64_t>(2, std::max(reduce_max(l.truth, ReduceOpts{}, w).item<int64_t>(),
                                              reduce_max(l.pred, ReduceOpts{}, w).item<int64_t>()) + 1);
    else
      throw ValueError(op_name(metric), "y_pred holds class ids (shape " + y_pred.shape().str() +
                                            ") inside a trace: give .num_classes for a multiclass average", w);
  } else if (o.num_classes > 0 && o.num_classes != classes) {
    throw ShapeError(op_name(metric), "num_classes is " + std::to_string(o.num_classes) + " but y_pred of shape " +
                                          y_pred.shape().str() + " has " + std::to_string(classes) + " classes",
                     w);
  }
  if (o.average == Average::binary && classes != 2)
    throw ValueError(op_name(metric), "average binary needs 2 classes but y_pred of shape " + y_pred.shape().str() +
                                          " has " + std::to_string(classes) + "; use micro, macro or weighted",
                     w);
  Tensor t = one_hot(reshape(l.truth, {-1}, w), classes, {.dtype = i64}, w);
  Tensor p = one_hot(reshape(l.pred, {-1}, w), classes, {.dtype = i64}, w);
  Tensor tp = sum(multiply(t, p, w), ReduceOpts{.axes = 0}, w);
  return stack({tp, sum(p, ReduceOpts{.axes = 0}, w), sum(t, ReduceOpts{.axes = 0}, w)}, 0, w);
}

Tensor class_result(Kind kind, Average average, const Tensor& s, Where w) {
  const char* metric = kind_name(kind);
  if (s.rank() != 2 || s.dim(0) != 3)
    throw ShapeError(op_name(metric), "statistics must have shape (3, C) {true positives, predicted, actual}, got " +
                                          s.shape().str(), w);
  Tensor st = as_type(s, f64, w);
  Tensor tp = row(st, 0, w), predicted = row(st, 1, w), actual = row(st, 2, w);
  Tensor num = kind == Kind::f1 ? multiply(Tensor(2), tp, w) : tp;
  Tensor den = kind == Kind::precision ? predicted : kind == Kind::recall ? actual : add(predicted, actual, w);
  Tensor r;
  switch (average) {
    case Average::binary:
      if (s.dim(1) != 2)
        throw ValueError(op_name(metric), "average binary needs 2 classes, the statistics have " +
                                              std::to_string(s.dim(1)), w);
      r = safe_ratio(row(num, 1, w), row(den, 1, w), w);
      break;
    case Average::micro:
      r = safe_ratio(sum(num, ReduceOpts{}, w), sum(den, ReduceOpts{}, w), w);
      break;
    case Average::macro: {
      Tensor present = as_type(greater(add(predicted, actual, w), Tensor(0), w), f64, w);
      r = safe_ratio(sum(multiply(safe_ratio(num, den, w), present, w), ReduceOpts{}, w), sum(present, ReduceOpts{}, w),
                     w);
      break;
    }
    case Average::weighted:
      r = safe_ratio(sum(multiply(safe_ratio(num, den, w), actual, w), ReduceOpts{}, w), sum(actual, ReduceOpts{}, w),
                     w);
      break;
  }
  return as_type(r, f32, w);
}

Tensor mae_statistics(const Tensor& y_true, const Tensor& y_pred, Where w) {
  if (y_true.shape() != y_pred.shape())
    throw ShapeError(op_name("mean_absolute_error"),
                     "y_true has shape " + y_true.shape().str() + " but y_pred has shape " + y_pred.shape().str() +
                         "; they must be equal",
                     w);
  Tensor d = abs(subtract(as_type(y_pred, f64, w), as_type(y_true, f64, w), w), w);
  return stack({sum(d, ReduceOpts{}, w), scalar(static_cast<double>(d.size()), f64, w)}, 0, w);
}

Tensor confusion_statistics(const Tensor& y_true, const Tensor& y_pred, int64_t num_classes, Where w) {
  const char* metric = "confusion_matrix";
  if (num_classes < 1)
    throw ValueError(op_name(metric), "num_classes must be at least 1, got " + std::to_string(num_classes), w);
  Labels l = class_labels(metric, y_true, y_pred, 0.5, false, w);
  if (l.classes != 0 && l.classes != num_classes)
    throw ShapeError(op_name(metric), "num_classes is " + std::to_string(num_classes) + " but y_pred of shape " +
                                          y_pred.shape().str() + " has " + std::to_string(l.classes) + " classes",
                     w);
  Tensor t = reshape(l.truth, {-1}, w);
  Tensor p = reshape(l.pred, {-1}, w);
  // One count per (true, predicted) pair; pairs outside [0, C) are dropped by the scatter.
  return indexed_add(zeros({num_classes, num_classes}, i64, w), stack({t, p}, 1, w), ones({t.size()}, i64, w),
                     GatherOpts{}, w);
}

}  // namespace

// ---- batch forms ----

Tensor accuracy(const Tensor& y_true, const Tensor& y_pred, AccuracyOpts opts, Where where) {
  return count_ratio("accuracy", accuracy_statistics(y_true, y_pred, opts, where), where);
}
Tensor top_k_accuracy(const Tensor& y_true, const Tensor& y_pred, int64_t k, Where where) {
  return count_ratio("top_k_accuracy", top_k_statistics(y_true, y_pred, k, where), where);
}
Tensor precision(const Tensor& y_true, const Tensor& y_pred, ClassificationOpts opts, Where where) {
  return class_result(Kind::precision, opts.average, class_statistics(Kind::precision, y_true, y_pred, opts, where),
                      where);
}
Tensor recall(const Tensor& y_true, const Tensor& y_pred, ClassificationOpts opts, Where where) {
  return class_result(Kind::recall, opts.average, class_statistics(Kind::recall, y_true, y_pred, opts, where), where);
}
Tensor f1(const Tensor& y_true, const Tensor& y_pred, ClassificationOpts opts, Where where) {
  return class_result(Kind::f1, opts.average, class_statistics(Kind::f1, y_true, y_pred, opts, where), where);
}
Tensor mean_absolute_error(const Tensor& y_true, const Tensor& y_pred, Where where) {
  return count_ratio("mean_absolute_error", mae_statistics(y_true, y_pred, where), where);
}
Tensor confusion_matrix(const Tensor& y_true, const Tensor& y_pred, int64_t num_classes, Where where) {
  return confusion_statistics(y_true, y_pred, num_classes, where);
}

// ---- accumulating forms ----

Metric Metric::accuracy(AccuracyOpts opts, Where where) {
  return Metric{"accuracy",
                [opts, where](const Tensor& t, const Tensor& p) { return accuracy_statistics(t, p, opts, where); },
                [where](const Tensor& s) { return count_ratio("accuracy", s, where); }};
}
Metric Metric::top_k_accuracy(int64_t k, Where where) {
  if (k < 1) throw ValueError(op_name("top_k_accuracy"), "k must be at least 1, got " + std::to_string(k), where);
  return Metric{"top_" + std::to_string(k) + "_accuracy",
                [k, where](const Tensor& t, const Tensor& p) { return top_k_statistics(t, p, k, where); },
                [where](const Tensor& s) { return count_ratio("top_k_accuracy", s, where); }};
}
namespace {
Metric class_metric(Kind kind, ClassificationOpts opts, Where where) {
  return Metric{kind_name(kind),
                [kind, opts, where](const Tensor& t, const Tensor& p) { return class_statistics(kind, t, p, opts, where); },
                [kind, average = opts.average, where](const Tensor& s) { return class_result(kind, average, s, where); }};
}
}  // namespace
Metric Metric::precision(ClassificationOpts opts, Where where) { return class_metric(Kind::precision, opts, where); }
Metric Metric::recall(ClassificationOpts opts, Where where) { return class_metric(Kind::recall, opts, where); }
Metric Metric::f1(ClassificationOpts opts, Where where) { return class_metric(Kind::f1, opts, where); }
Metric Metric::mean_absolute_error(Where where) {
  return Metric{"mean_absolute_error", [where](const Tensor& t, const Tensor& p) { return mae_statistics(t, p, where); },
                [where](const Tensor& s) { return count_ratio("mean_absolute_error", s, where); }};
}
Metric Metric::confusion_matrix(int64_t num_classes, Where where) {
  if (num_classes < 1)
    throw ValueError(op_name("confusion_matrix"), "num_classes must be at least 1, got " + std::to_string(num_classes),
                     where);
  return Metric{"confusion_matrix",
                [num_classes, where](const Tensor& t, const Tensor& p) {
                  return confusion_statistics(t, p, num_classes, where);
                },
                [](const Tensor& s) { return s; }};
}

Metric Metric::named(const std::string& name, Where where) {
  Metric m;
  if (name == "accuracy" || name == "acc") m = accuracy({}, where);
  else if (name == "top_k_accuracy") m = top_k_accuracy(5, where);
  else if (name == "precision") m = precision({}, where);
  else if (name == "recall") m = recall({}, where);
  else if (name == "f1") m = f1({}, where);
  else if (name == "mae" || name == "mean_absolute_error") m = mean_absolute_error(where);
  else {
    // top_<k>_accuracy
    const std::string head = "top_", tail = "_accuracy";
    bool top_k = name.size() > head.size() + tail.size() && name.compare(0, head.size(), head) == 0 &&
                 name.compare(name.size() - tail.size(), tail.size(), tail) == 0;
    std::string digits = top_k ? name.substr(head.size(), name.size() - head.size() - tail.size()) : "";
    for (char c : digits) top_k = top_k && std::isdigit(static_cast<unsigned char>(c));
    if (!top_k || digits.size() > 9 || digits[0] == '0')
      throw ValueError("metrics::Metric::named",
                       "unknown metric \"" + name +
                           "\"; known: accuracy (acc), top_k_accuracy, top_<k>_accuracy (e.g. top_5_accuracy), "
                           "precision, recall, f1, mae (mean_absolute_error)",
                       where);
    m = top_k_accuracy(std::stoll(digits), where);
  }
  m.name = name;
  return m;
}

}  // namespace nx::metrics
