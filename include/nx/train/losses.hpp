// Loss functions: (y_true, y_pred) -> a float tensor, in the argument order of Keras and Axon.
// Each is written with nx's ops, so it runs eagerly, traces under nx::jit and is
// differentiable by nx::grad (with respect to y_pred, and to y_true where that is float).
//
//   nx::Tensor l = nx::losses::categorical_cross_entropy(labels, logits,
//                                                        {.from_logits = true, .sparse = true});
//   auto step = nx::jit(nx::value_and_grad([&](const Params& p, const nx::Tensor& x, const nx::Tensor& y) {
//     return nx::losses::binary_cross_entropy(y, model(p, x), {.from_logits = true});
//   }));
//
// Shapes. Two kinds of loss:
//   - elementwise (binary_cross_entropy, mean_squared_error, mean_absolute_error, huber,
//     hinge): y_true and y_pred have the same shape, and Reduction::none returns a loss for
//     every element (as torch.nn.functional); mean averages over all elements, sum adds them.
//   - over a class axis (categorical_cross_entropy, nll, kl_divergence,
//     cosine_similarity): the class axis is reduced first, so Reduction::none returns one
//     loss per sample (y_pred's shape without that axis, as Keras), and mean averages over
//     the samples.
// With mean, an elementwise loss equals Keras' (which first averages the last axis) and
// torch's. Mismatched shapes (no broadcasting: (N) against (N, 1) is an error) raise
// nx::ShapeError naming the loss and both shapes at the caller's line; class ids that are
// not integers raise nx::DTypeError, options out of range nx::ValueError.
//
// Dtypes. The loss is computed in y_pred's dtype (integer or bool predictions in f32);
// y_true (bool, integer or float) is converted to it, as Keras does. Sparse labels (class
// ids) must be an integer dtype; an id outside [0, C) selects no class (a zero one-hot row,
// so a loss of 0 without label smoothing). Ids are not checked: their values are not known
// while traced.
#pragma once
#include <optional>

#include "nx/axes.hpp"
#include "nx/tensor.hpp"

namespace nx::losses {

// How the per-element (or per-sample) losses become the result.
enum class Reduction {
  mean,  // their average (a scalar); with class weights, a weighted average (see below)
  sum,   // their sum (a scalar)
  none,  // the unreduced losses
};

struct LossOpts {
  nx::detail::NamedFieldsOnly named_fields_only;
  Reduction reduction = Reduction::mean;
};

struct BinaryCrossEntropyOpts {
  nx::detail::NamedFieldsOnly named_fields_only;
  // y_pred are logits: the loss is computed from log-sigmoid in a stable form (no
  // overflow for large |logit|, exact gradient sigmoid(x) - y); else y_pred are
  // probabilities, clipped to [epsilon, 1 - epsilon] before the log.
  bool from_logits = false;
  // y_true becomes y_true * (1 - s) + s / 2 (Keras).
  double label_smoothing = 0;
  // The weight of the positive term, broadcast against y_pred (e.g. one per output column),
  // as torch's BCEWithLogitsLoss(pos_weight): -(w * y * log p + (1 - y) * log(1 - p)).
  std::optional<Tensor> pos_weight;
  // The clip bound of probabilities (Keras' 1e-7). In f16 and bf16, 1 - 1e-7 rounds to 1:
  // use logits there, or a larger epsilon.
  double epsilon = 1e-7;
  Reduction reduction = Reduction::mean;
};

struct CategoricalCrossEntropyOpts {
  nx::detail::NamedFieldsOnly named_fields_only;
  // y_pred are logits (log_softmax along axis); else probabilities, which are divided by
  // their sum along axis and clipped to [epsilon, 1 - epsilon] before the log (Keras).
  bool from_logits = false;
  // y_true are integer class ids, shaped like y_pred without axis (torch's class-index
  // targets, Keras' sparse_categorical_crossentropy); else y_true is one-hot or a
  // distribution shaped like y_pred.
  bool sparse = false;
  // The target t becomes t * (1 - s) + s / C (Keras and torch, also for sparse labels).
  double label_smoothing = 0;
  int axis = -1;  // the class axis of y_pred
  // One weight per class (shape (C)): a sample's loss is -sum_c w_c t_c log p_c (torch's
  // `weight`). With Reduction::mean and sparse labels the sum is divided by the summed
  // weights of the samples' labels, as torch; with dense targets by the number of samples.
  std::optional<Tensor> class_weights;
  double epsilon = 1e-7;
  Reduction reduction = Reduction::mean;
};

struct HuberOpts {
  nx::detail::NamedFieldsOnly named_fields_only;
  double delta = 1;  // 0.5 d^2 for |d| <= delta, delta * (|d| - delta / 2) beyond
  Reduction reduction = Reduction::mean;
};

struct KlOpts {
  nx::detail::NamedFieldsOnly named_fields_only;
  // false (Keras): y_pred are probabilities; both are clipped to [epsilon, 1] and the
  // loss is sum(y_true * log(y_true / y_pred)) along axis.
  // true (torch's KLDivLoss): y_pred are log-probabilities and the loss is
  // sum(y_true * (log(y_true) - y_pred)) with 0 where y_true is 0; mean over the samples is
  // then torch's reduction='batchmean'.
  bool from_log = false;
  int axis = -1;
  double epsilon = 1e-7;
  Reduction reduction = Reduction::mean;
};

struct CosineOpts {
  nx::detail::NamedFieldsOnly named_fields_only;
  int axis = -1;
  Reduction reduction = Reduction::mean;
};

// -(y log p + (1 - y) log(1 - p)) per element; y_true in [0, 1].
Tensor binary_cross_entropy(const Tensor& y_true, const Tensor& y_pred, BinaryCrossEntropyOpts opts = {},
                            Where where = Where::current());
// -sum_c t_c log p_c along opts.axis, one loss per sample.
Tensor categorical_cross_entropy(const Tensor& y_true, const Tensor& y_pred, CategoricalCrossEntropyOpts opts = {},
                                 Where where = Where::current());
// (y_true - y_pred)^2 per element.
Tensor mean_squared_error(const Tensor& y_true, const Tensor& y_pred, LossOpts opts = {},
                          Where where = Where::current());
// |y_true - y_pred| per element.
Tensor mean_absolute_error(const Tensor& y_true, const Tensor& y_pred, LossOpts opts = {},
                           Where where = Where::current());
// The Huber loss of d = y_pred - y_true per element (torch's huber_loss; smooth L1 times delta).
Tensor huber(const Tensor& y_true, const Tensor& y_pred, HuberOpts opts = {}, Where where = Where::current());
// max(0, 1 - y_true * y_pred) per element, y_true in {-1, 1}. Labels that are all 0 or 1
// are first mapped to -1 and 1 (as Keras; decided on the values, also when traced).
Tensor hinge(const Tensor& y_true, const Tensor& y_pred, LossOpts opts = {}, Where where = Where::current());
// The Kullback-Leibler divergence KL(y_true || y_pred) along opts.axis, one per sample.
Tensor kl_divergence(const Tensor& y_true, const Tensor& y_pred, KlOpts opts = {}, Where where = Where::current());
// -log_probs[..., y_true] along the last axis (torch's NLLLoss with the class axis last):
// y_true integer class ids shaped like log_probs without its last axis.
Tensor nll(const Tensor& y_true, const Tensor& log_probs, LossOpts opts = {}, Where where = Where::current());
// -cos(y_true, y_pred) along opts.axis, one per sample (Keras' sign: -1 is a perfect match,
// 0 orthogonal, 1 opposite). Each vector is divided by max(|v|, 1e-6), so a zero vector
// gives 0 and finite gradients.
Tensor cosine_similarity(const Tensor& y_true, const Tensor& y_pred, CosineOpts opts = {},
                         Where where = Where::current());

}  // namespace nx::losses

namespace nx::train {
namespace losses = nx::losses;
}  // namespace nx::train
