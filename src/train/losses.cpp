// The losses of nx/train/losses.hpp, written with nx's public ops only (so every backend,
// nx::jit and nx::grad get them). Every op call passes the caller's `where`.
#include "nx/train/losses.hpp"

#include <string>
#include <vector>

#include "nx/composites.hpp"
#include "nx/grad.hpp"
#include "nx/ops.hpp"

namespace nx::losses {
namespace {

std::string op_name(const char* loss) { return std::string("losses::") + loss; }

// y_pred as the float tensor the loss is computed in (integers and bool in f32).
Tensor prediction(const Tensor& y_pred, Where w) {
  return is_float(y_pred.dtype()) ? y_pred : as_type(y_pred, f32, w);
}
Tensor cast_to(const Tensor& t, DType dt, Where w) { return t.dtype() == dt ? t : as_type(t, dt, w); }

void require_same_shape(const char* loss, const Tensor& y_true, const Tensor& y_pred, Where w) {
  if (y_true.shape() != y_pred.shape())
    throw ShapeError(op_name(loss),
                     "y_true has shape " + y_true.shape().str() + " but y_pred has shape " + y_pred.shape().str() +
                         "; they must be equal",
                     w);
}

// A class axis in [0, rank); a scalar y_pred has none.
int class_axis(const char* loss, const Tensor& y_pred, int axis, Where w) {
  int r = y_pred.rank();
  if (r == 0)
    throw ShapeError(op_name(loss), "y_pred has shape () but needs a class axis", w);
  if (axis < -r || axis >= r)
    throw AxisError(op_name(loss),
                    "axis " + std::to_string(axis) + " is out of range for y_pred of shape " + y_pred.shape().str(), w);
  return axis < 0 ? axis + r : axis;
}

Shape without_axis(const Shape& s, int axis) {
  Shape out;
  for (int i = 0; i < s.rank(); ++i)
    if (i != axis) out.push_back(s[i]);
  return out;
}

// A (C) vector shaped to broadcast along `axis` of a rank-`rank` tensor.
Tensor along_axis(const Tensor& v, int axis, int rank, Where w) {
  Shape s;
  for (int i = 0; i < rank; ++i) s.push_back(i == axis ? v.dim(0) : 1);
  return reshape(v, s, w);
}

// One-hot rows (in dtype) of integer class ids, the classes running along `axis` of `shape`.
Tensor one_hot_along(const char* loss, const Tensor& labels, const Tensor& y_pred, int axis, DType dtype,
                     const char* what, Where w) {
  if (!is_integer(labels.dtype()))
    throw DTypeError(op_name(loss),
                     std::string(what) + " must be integer class ids, got " + std::string(name(labels.dtype())) +
                         " of shape " + labels.shape().str() + " (y_pred has shape " + y_pred.shape().str() + ")",
                     w);
  Shape want = without_axis(y_pred.shape(), axis);
  if (labels.shape() != want)
    throw ShapeError(op_name(loss),
                     std::string(what) + " have shape " + labels.shape().str() + " but y_pred has shape " +
                         y_pred.shape().str() + ": class ids must have y_pred's shape without axis " +
                         std::to_string(axis) + ", " + want.str(),
                     w);
  Tensor ids = cast_to(labels, i64, w);
  Tensor classes = iota(y_pred.shape(), i64, axis, w);
  return as_type(equal(new_axis(ids, axis, w), classes, w), dtype, w);
}

Tensor reduce(const Tensor& losses, Reduction r, Where w) {
  switch (r) {
    case Reduction::sum: return sum(losses, ReduceOpts{}, w);
    case Reduction::none: return losses;
    case Reduction::mean: break;
  }
  return mean(losses, ReduceOpts{}, w);
}

// Whether `from` broadcasts to `to` (numpy rules) without enlarging it.
bool broadcasts_to(const Shape& from, const Shape& to) {
  if (from.rank() > to.rank()) return false;
  for (int i = 1; i <= from.rank(); ++i)
    if (from[from.rank() - i] != 1 && from[from.rank() - i] != to[to.rank() - i]) return false;
  return true;
}

void check_smoothing(const char* loss, double s, Where w) {
  if (!(s >= 0 && s <= 1))
    throw ValueError(op_name(loss), "label_smoothing must be in [0, 1], got " + std::to_string(s), w);
}
void check_epsilon(const char* loss, double eps, Where w) {
  if (!(eps >= 0 && eps < 0.5))
    throw ValueError(op_name(loss), "epsilon must be in [0, 0.5), got " + std::to_string(eps), w);
}

// log(1 + exp(-x)) without overflow, with the exact gradient -sigmoid(-x) everywhere
// (also at 0): log1p(exp(-|x|)) + max(-x, 0), where -|x| and max(-x, 0) are selects so
// neither branch's derivative is taken at a kink.
Tensor softplus_of_negative(const Tensor& x, Where w) {
  Tensor negative = less(x, Tensor(0), w);
  Tensor minus_abs = select(negative, x, negate(x, w), w);
  Tensor excess = select(negative, negate(x, w), zeros_like(x, w), w);
  return add(log1p(exp(minus_abs, w), w), excess, w);
}

// log_softmax along axis as (x - m) - log(sum(exp(x - m))), m the maximum, never adding m
// back: the loss of a logit near 1000 keeps the precision of x - m (nx::log_softmax
// subtracts logsumexp(x), whose last digits are lost in m). The shift does not change the
// value, so no gradient flows through it.
Tensor log_softmax_along(const Tensor& x, int axis, Where w) {
  Tensor m = stop_grad(reduce_max(x, ReduceOpts{.axes = axis, .keep_axes = true}, w), w);
  m = select(is_infinity(m, w), zeros_like(m, w), m, w);  // all -inf (or an inf): no shift
  Tensor shifted = subtract(x, m, w);
  return subtract(shifted, log(sum(exp(shifted, w), ReduceOpts{.axes = axis, .keep_axes = true}, w), w), w);
}

}  // namespace

Tensor binary_cross_entropy(const Tensor& y_true, const Tensor& y_pred, BinaryCrossEntropyOpts opts, Where w) {
  const char* loss = "binary_cross_entropy";
  require_same_shape(loss, y_true, y_pred, w);
  check_smoothing(loss, opts.label_smoothing, w);
  check_epsilon(loss, opts.epsilon, w);
  Tensor x = prediction(y_pred, w);
  const DType dt = x.dtype();
  Tensor y = cast_to(y_true, dt, w);
  if (opts.label_smoothing != 0)
    y = add(multiply(y, Tensor(1 - opts.label_smoothing), w), Tensor(0.5 * opts.label_smoothing), w);
  Tensor pw;
  if (opts.pos_weight) {
    pw = cast_to(*opts.pos_weight, dt, w);
    if (!broadcasts_to(pw.shape(), x.shape()))
      throw ShapeError(op_name(loss),
                       "pos_weight of shape " + pw.shape().str() + " does not broadcast to y_pred's shape " +
                           x.shape().str(),
                       w);
  }
  Tensor one_minus_y = subtract(Tensor(1), y, w);
  Tensor l;
  if (opts.from_logits) {
    // -(pw y log s(x) + (1 - y) log(1 - s(x))) = (1 - y) x + (pw y + 1 - y) softplus(-x)
    Tensor sp = softplus_of_negative(x, w);
    Tensor coef = pw.defined() ? add(multiply(pw, y, w), one_minus_y, w) : Tensor();
    l = add(multiply(one_minus_y, x, w), coef.defined() ? multiply(coef, sp, w) : sp, w);
  } else {
    Tensor p = clip(x, Tensor(opts.epsilon), Tensor(1 - opts.epsilon), w);
    Tensor pos = multiply(y, log(p, w), w);
    if (pw.defined()) pos = multiply(pw, pos, w);
    Tensor neg = multiply(one_minus_y, log(subtract(Tensor(1), p, w), w), w);
    l = negate(add(pos, neg, w), w);
  }
  return reduce(l, opts.reduction, w);
}

Tensor categorical_cross_entropy(const Tensor& y_true, const Tensor& y_pred, CategoricalCrossEntropyOpts opts,
                                 Where w) {
  const char* loss = "categorical_cross_entropy";
  check_smoothing(loss, opts.label_smoothing, w);
  check_epsilon(loss, opts.epsilon, w);
  const int axis = class_axis(loss, y_pred, opts.axis, w);
  Tensor x = prediction(y_pred, w);
  const DType dt = x.dtype();
  const int64_t classes = x.dim(axis);
  Tensor target;
  if (opts.sparse) {
    target = one_hot_along(loss, y_true, y_pred, axis, dt, "sparse labels y_true", w);
  } else {
    require_same_shape(loss, y_true, y_pred, w);
    target = cast_to(y_true, dt, w);
  }
  Tensor label_mask = target;  // the one-hot rows before smoothing (sparse weighting)
  if (opts.label_smoothing != 0)
    target = add(multiply(target, Tensor(1 - opts.label_smoothing), w),
                 Tensor(opts.label_smoothing / static_cast<double>(classes)), w);
  Tensor logp;
  if (opts.from_logits) {
    logp = log_softmax_along(x, axis, w);
  } else {
    Tensor p = divide(x, sum(x, ReduceOpts{.axes = axis, .keep_axes = true}, w), w);
    logp = log(clip(p, Tensor(opts.epsilon), Tensor(1 - opts.epsilon), w), w);
  }
  Tensor weights;
  if (opts.class_weights) {
    weights = cast_to(*opts.class_weights, dt, w);
    if (weights.rank() != 1 || weights.dim(0) != classes)
      throw ShapeError(op_name(loss),
                       "class_weights have shape " + weights.shape().str() + " but y_pred of shape " +
                           x.shape().str() + " has " + std::to_string(classes) + " classes along axis " +
                           std::to_string(axis),
                       w);
    weights = along_axis(weights, axis, x.rank(), w);
    target = multiply(target, weights, w);
  }
  Tensor per_sample = negate(sum(multiply(target, logp, w), ReduceOpts{.axes = axis}, w), w);
  if (opts.reduction == Reduction::mean && weights.defined() && opts.sparse) {
    Tensor label_weights = sum(multiply(label_mask, weights, w), ReduceOpts{.axes = axis}, w);
    return divide(sum(per_sample, ReduceOpts{}, w), sum(label_weights, ReduceOpts{}, w), w);
  }
  return reduce(per_sample, opts.reduction, w);
}

Tensor mean_squared_error(const Tensor& y_true, const Tensor& y_pred, LossOpts opts, Where w) {
  require_same_shape("mean_squared_error", y_true, y_pred, w);
  Tensor x = prediction(y_pred, w);
  Tensor d = subtract(x, cast_to(y_true, x.dtype(), w), w);
  return reduce(multiply(d, d, w), opts.reduction, w);
}

Tensor mean_absolute_error(const Tensor& y_true, const Tensor& y_pred, LossOpts opts, Where w) {
  require_same_shape("mean_absolute_error", y_true, y_pred, w);
  Tensor x = prediction(y_pred, w);
  return reduce(abs(subtract(x, cast_to(y_true, x.dtype(), w), w), w), opts.reduction, w);
}

Tensor huber(const Tensor& y_true, const Tensor& y_pred, HuberOpts opts, Where w) {
  require_same_shape("huber", y_true, y_pred, w);
  if (!(opts.delta > 0))
    throw ValueError(op_name("huber"), "delta must be positive, got " + std::to_string(opts.delta), w);
  Tensor x = prediction(y_pred, w);
  Tensor ad = abs(subtract(x, cast_to(y_true, x.dtype(), w), w), w);
  // q = min(|d|, delta): 0.5 q^2 + delta (|d| - q) is both pieces at once.
  Tensor q = min(ad, Tensor(opts.delta), w);
  Tensor l = add(multiply(Tensor(0.5), multiply(q, q, w), w), multiply(Tensor(opts.delta), subtract(ad, q, w), w), w);
  return reduce(l, opts.reduction, w);
}

Tensor hinge(const Tensor& y_true, const Tensor& y_pred, LossOpts opts, Where w) {
  require_same_shape("hinge", y_true, y_pred, w);
  Tensor x = prediction(y_pred, w);
  Tensor y = cast_to(y_true, x.dtype(), w);
  Tensor zero_one = all(logical_or(equal(y, Tensor(0), w), equal(y, Tensor(1), w), w), ReduceOpts{}, w);
  y = select(zero_one, subtract(multiply(y, Tensor(2), w), Tensor(1), w), y, w);
  Tensor margin = subtract(Tensor(1), multiply(y, x, w), w);
  // max(margin, 0) as a select: the gradient at the kink is 0 (as relu), not split.
  Tensor l = select(greater(margin, Tensor(0), w), margin, zeros_like(margin, w), w);
  return reduce(l, opts.reduction, w);
}

Tensor kl_divergence(const Tensor& y_true, const Tensor& y_pred, KlOpts opts, Where w) {
  const char* loss = "kl_divergence";
  require_same_shape(loss, y_true, y_pred, w);
  check_epsilon(loss, opts.epsilon, w);
  const int axis = class_axis(loss, y_pred, opts.axis, w);
  Tensor x = prediction(y_pred, w);
  Tensor t = cast_to(y_true, x.dtype(), w);
  Tensor terms;
  if (!opts.from_log) {
    Tensor tc = clip(t, Tensor(opts.epsilon), Tensor(1), w);
    Tensor pc = clip(x, Tensor(opts.epsilon), Tensor(1), w);
    terms = multiply(tc, log(divide(tc, pc, w), w), w);
  } else {
    // t log t with 0 at t = 0 (the log reads 1 there, so no inf reaches a gradient).
    Tensor positive = greater(t, Tensor(0), w);
    Tensor safe = select(positive, t, ones_like(t, w), w);
    Tensor t_log_t = select(positive, multiply(t, log(safe, w), w), zeros_like(t, w), w);
    terms = subtract(t_log_t, multiply(t, x, w), w);
  }
  return reduce(sum(terms, ReduceOpts{.axes = axis}, w), opts.reduction, w);
}

Tensor nll(const Tensor& y_true, const Tensor& log_probs, LossOpts opts, Where w) {
  const char* loss = "nll";
  const int axis = class_axis(loss, log_probs, -1, w);
  Tensor x = prediction(log_probs, w);
  Tensor mask = one_hot_along(loss, y_true, log_probs, axis, x.dtype(), "labels y_true", w);
  Tensor per_sample = negate(sum(multiply(mask, x, w), ReduceOpts{.axes = axis}, w), w);
  return reduce(per_sample, opts.reduction, w);
}

Tensor cosine_similarity(const Tensor& y_true, const Tensor& y_pred, CosineOpts opts, Where w) {
  const char* loss = "cosine_similarity";
  require_same_shape(loss, y_true, y_pred, w);
  const int axis = class_axis(loss, y_pred, opts.axis, w);
  Tensor x = prediction(y_pred, w);
  Tensor t = cast_to(y_true, x.dtype(), w);
  auto inverse_norm = [&](const Tensor& v) {
    Tensor sq = sum(multiply(v, v, w), ReduceOpts{.axes = axis}, w);
    return rsqrt(max(sq, Tensor(1e-12), w), w);
  };
  Tensor inner = sum(multiply(t, x, w), ReduceOpts{.axes = axis}, w);
  Tensor cosine = multiply(multiply(inner, inverse_norm(t), w), inverse_norm(x), w);
  return reduce(negate(cosine, w), opts.reduction, w);
}

}  // namespace nx::losses
